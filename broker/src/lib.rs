//! The Sinew broker: topics, partitions and consumer groups over `sinew-log`, and a
//! subject router with wildcards, queue groups and request-reply.
//!
//! So far only [`client`] is built: a blocking NATS client, tested against the real
//! nats-server. The broker's logic will be sans-IO (requests and time in, responses
//! and storage work out); only the server shell touches sockets and threads. It must
//! never depend on `sinew`'s internals, only its public API.

pub mod client;
