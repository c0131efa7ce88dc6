//! The broker's doors: one sans-IO codec per wire protocol, turning a client's bytes
//! into operations for the core and the core's output into bytes.
//!
//! A door keeps no broker state beyond one connection's protocol state, and never
//! touches a socket, a thread or a clock.

pub mod kafka;
pub mod native;
pub mod nats;
