//! Rust clients of the broker.
//!
//! [`nats`] is a small blocking client of the NATS client protocol, the one behind
//! `sinew pub`, `sub`, `request` and `reply`. It speaks to nats-server today and to
//! Sinew's own NATS door once it exists. Clients here use `std::net` only: no async
//! runtime, and no broker internals, so they stay usable from any program.

pub mod nats;
