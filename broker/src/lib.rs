//! The Sinew broker: topics, partitions and consumer groups over `sinew-log`, and a
//! subject router with wildcards, queue groups and request-reply.
//!
//! The broker's logic is sans-IO (requests and time in, responses and storage work
//! out); only the server shell touches sockets and threads. It must never depend on
//! `sinew`'s internals, only its public API. Built so far: the doors' wire codecs
//! ([`doors`]).

pub mod doors;
