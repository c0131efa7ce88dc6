//! The Sinew broker: a subject router that NATS clients use unchanged, and
//! durable topics over `sinew-log` behind the native door (a ZeroMQ ROUTER
//! speaking `docs/protocol.md`); later the Kafka door, whose codec exists
//! (`doors::kafka`, `docs/kafka.md`) but no listener yet.
//!
//! The logic is sans-IO: `core` takes connection events, client bytes and the
//! time, and gives bytes to write and connections to close; `doors::nats` turns
//! the NATS client protocol into operations and back; `subjects` matches subjects
//! against subscriptions; `client` is a small blocking NATS client; `store` keeps
//! topics and partitions on sinew-log behind a storage thread; `kafka` holds the
//! rules both share (the murmur2 partitioner, topic names); `doors::native` is the
//! native protocol's sans-IO codec, `doors::kafka` Kafka's wire protocol's. Only `server` (its mio loop serves the NATS
//! door, monitoring and the native door's ROUTER) and the store's own threads
//! touch sockets, threads and the disk. `Broker` starts the whole broker inside
//! a program (the binary is a thin user of it); its native door can listen on
//! `inproc://` for that program's sockets.
//! Nothing here may depend on `sinew`'s internals, only its public API.

pub mod broker;
pub mod client;
pub mod config;
pub mod core;
pub mod data_dir;
pub mod doors;
pub mod groups;
pub mod kafka;
pub mod server;
pub mod store;
pub mod subjects;

pub use broker::{Broker, BrokerError};
