//! Sinew: a ZeroMQ-compatible, brokerless socket toolkit that speaks ZMTP 3.x byte
//! for byte, so libzmq peers in any language interoperate with it.
//!
//! The wire protocol lives in [`zmtp`], a sans-IO state machine. Sockets, the
//! reactor and the transports are built on it.
#![forbid(unsafe_code)]

pub mod message;
pub mod zmtp;

pub use message::Message;
pub use zmtp::SocketType;
