//! Rust clients of the broker.
//!
//! [`nats`] is a small blocking client of the NATS client protocol, the one behind
//! `sinew pub`, `sub`, `request` and `reply`. It speaks to nats-server today and to
//! Sinew's own NATS door once it exists; it uses `std::net` only.
//!
//! [`native`] is the client of the broker's own native door: a producer, a
//! consumer and topic administration on a sinew DEALER, through the door's
//! sans-IO codec (`crate::doors::native`) and nothing else of the broker.
//!
//! [`kafka`] is a small blocking client of Kafka's protocol on the Kafka door's
//! own codec (`crate::doors::kafka`): consumer groups and offsets, behind `sinew
//! group`. It speaks to the Kafka door and to Kafka brokers; it uses `std::net`
//! only.
//!
//! Clients here are blocking, with no async runtime and no broker internals, so
//! they stay usable from any program.

pub mod kafka;
pub mod native;
pub mod nats;
