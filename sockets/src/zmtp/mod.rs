//! The ZeroMQ Message Transport Protocol (ZMTP 3.0 and 3.1), sans-IO.
//!
//! This module never touches a socket, a thread or a clock. The contract:
//!
//! - **Input** goes in through `handle_*`: bytes the peer sent
//!   ([`Connection::read_buffer`] then [`Connection::handle_read`], or
//!   [`Connection::handle_input`]), and the current time
//!   ([`Connection::handle_timeout`]).
//! - **Output** comes out through `poll_*` and friends: decoded events
//!   ([`Connection::poll_event`], lazily, one at a time), bytes to write
//!   ([`Connection::io_slices`], acknowledged with [`Connection::handle_written`]),
//!   and the next deadline ([`Connection::poll_timeout`]).
//! - **Order**: after any `handle_*`, drain `poll_event` (as far as the receiver can
//!   take), then write the pending bytes, then wait for the earlier of new bytes and
//!   the deadline. Traffic is offered with `send_*` only once `is_ready()`.
//!
//! A hostile peer can make any call return a [`ProtocolError`], never panic, and
//! never make it reserve memory for bytes that have not arrived. Where the RFCs are
//! loose this follows libzmq 4.3, as written down in `shared/INTEROP-NOTES.md`.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod buffer;
pub mod command;
pub mod connection;
pub mod encoder;
pub mod error;
pub mod frame;
pub mod frame_body;
pub mod greeting;
pub mod handshake;
pub mod mechanism;
pub(crate) mod reader;
pub mod socket_type;
pub mod timers;

#[cfg(test)]
mod harness;

pub use command::{Command, Metadata};
pub use connection::{Config, Connection, Event, Heartbeat, NotReady};
pub use error::{ProtocolError, ZapProblem};
pub use greeting::{MechanismName, Revision};
pub use handshake::PeerInfo;
pub use mechanism::Security;
pub use socket_type::SocketType;
