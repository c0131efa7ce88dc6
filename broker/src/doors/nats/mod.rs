//! The NATS door's codec: nats-server 2.x's client protocol, sans-IO.
//!
//! - **In**: a client's bytes, from the front of a `BytesMut` receive buffer, through
//!   [`Parser::parse`], which returns one [`ClientOperation`] at a time, or a
//!   [`Violation`] saying which `-ERR` nats-server would send and whether it would
//!   close. Subjects and payloads are `Bytes` split off the buffer, never copied.
//! - **Out**: server operations written into a `BytesMut` by the `encode_*`
//!   functions; payloads stay separate `Bytes`, for vectored writes shared among
//!   recipients.
//!
//! Behaviour follows nats-server's source (`server/parser.go`, `server/client.go`),
//! including its quirks, as listed with their sources in `broker/docs/nats-door.md`.
//! This module never touches a socket, a thread or a clock, never panics on what a
//! client sends, and never waits for more than its [`Limits`] allow.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod arguments;
mod connect;
mod encoder;
mod info;
mod json;
mod limits;
mod operation;
mod parser;
mod subject;
mod violation;

#[cfg(test)]
mod parser_tests;

pub use connect::Connect;
pub use encoder::{
    LINE_END, encode_err, encode_hmsg_header, encode_msg_header, encode_no_responders,
    encode_no_responders_headers, encode_ok, encode_ping, encode_pong,
};
pub use info::{Info, encode_info};
pub use limits::Limits;
pub use operation::{ClientOperation, Publish, Subscribe, Unsubscribe, body_start};
pub use parser::Parser;
pub use subject::{is_valid_literal_subject, is_valid_subscription_subject};
pub use violation::{Violation, ViolationKind};
