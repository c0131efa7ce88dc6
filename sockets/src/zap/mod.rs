//! ZAP, the ZeroMQ Authentication Protocol (RFC 27), outside the connection: the
//! messages a server socket and its ZAP handler exchange over
//! `inproc://zeromq.zap.01` ([`codec`]), and the decisions a handler takes, as
//! czmq's zauth takes them ([`auth`]).
//!
//! A mechanism says what it needs to know as a [`ZapRequest`] and is told the
//! answer as a [`ZapReply`] (both in `zmtp::mechanism`); this module turns those
//! values into RFC 27's multipart messages and back, for both ends. Sans-IO: it
//! must never touch a socket, a thread or a clock, and never panic on a message
//! a handler or a client sent.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod auth;
pub mod codec;

pub use crate::zmtp::mechanism::{ZapReply, ZapRequest};
pub use auth::{Authenticator, CurveKeys};
pub use codec::{
    ZAP_ENDPOINT, ZAP_VERSION, ZapError, decode_reply, decode_request, encode_reply, encode_request,
};

#[cfg(test)]
mod tests;
