//! The PLAIN mechanism (RFC 24, ZMTP-PLAIN) as libzmq 4.3 speaks it: a user name
//! and a password in clear text, which the server's ZAP handler (RFC 27) checks.
//!
//! ```text
//! client                                   server
//! HELLO (username, password)   ->
//!                                          asks ZAP (Progress::Authenticate)
//!                              <-          WELCOME        (ZAP 200)
//!                              <-          ERROR "400"    (ZAP 400 or 500)
//!                                          nothing        (ZAP 300)
//! INITIATE (client metadata)   ->
//!                              <-          READY (server metadata)
//! ```
//!
//! Who fills what in the ZAP request: the server mechanism fills in the
//! mechanism, the credentials (user name, then password) and the ZAP domain from
//! its settings; it leaves the address and the identity empty for the
//! connection's owner, who knows the peer's address and the socket's own routing
//! id (libzmq puts the server socket's ZMQ_ROUTING_ID there, not the client's),
//! and sets both when it sends the request. Without a ZAP handler a libzmq PLAIN
//! server refuses every client; the owner says so with
//! `Plain::Server { zap_handler: false, .. }`.
//!
//! This module must never let traffic through before the handshake is complete,
//! never admit a client without a ZAP 200, and never show a password in `Debug`.

mod client;
mod server;

pub use client::PlainClient;
pub use server::PlainServer;

use super::Mechanism;
use super::zap::error_from_peer;
use crate::zmtp::ProtocolError;
use crate::zmtp::command::{Command, Metadata};
use bytes::Bytes;
use std::fmt;

/// The most bytes a user name or a password may have (each goes after a one-byte
/// length; libzmq refuses longer ones at `zmq_setsockopt`).
pub const MAX_CREDENTIAL_LENGTH: usize = 255;

/// PLAIN's settings for one role: libzmq's ZMQ_PLAIN_USERNAME and
/// ZMQ_PLAIN_PASSWORD for a client, ZMQ_PLAIN_SERVER and ZMQ_ZAP_DOMAIN for a
/// server.
#[derive(Clone, PartialEq, Eq)]
pub enum Plain {
    /// The client role: it sends these credentials in HELLO.
    Client {
        /// The user name (at most 255 bytes; longer ones are cut).
        username: Bytes,
        /// The password (at most 255 bytes; longer ones are cut).
        password: Bytes,
    },
    /// The server role (the greeting's as-server bit is set).
    Server {
        /// Whether a ZAP handler is bound and asked about each client. Without
        /// one, every client is refused after its HELLO, with no ERROR, as
        /// libzmq 4.3 does; the connection's owner knows which it is.
        zap_handler: bool,
        /// The ZAP domain (ZMQ_ZAP_DOMAIN) put in each ZAP request; may be empty.
        zap_domain: Bytes,
    },
}

impl Plain {
    /// A fresh mechanism for one connection that will announce `metadata`.
    pub fn mechanism(&self, metadata: Metadata) -> Box<dyn Mechanism> {
        match self {
            Plain::Client { username, password } => Box::new(PlainClient::new(
                username.clone(),
                password.clone(),
                metadata,
            )),
            Plain::Server {
                zap_handler,
                zap_domain,
            } => Box::new(PlainServer::new(*zap_handler, zap_domain.clone(), metadata)),
        }
    }
}

impl fmt::Debug for Plain {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Plain::Client { username, .. } => formatter
                .debug_struct("Client")
                .field("username", username)
                .field("password", &"<hidden>")
                .finish(),
            Plain::Server {
                zap_handler,
                zap_domain,
            } => formatter
                .debug_struct("Server")
                .field("zap_handler", zap_handler)
                .field("zap_domain", zap_domain)
                .finish(),
        }
    }
}

/// How libzmq 4.3's PLAIN spells ERROR: its `"\x05ERROR"` literal is read by C
/// as the hex escape `\x05E`, so a libzmq PLAIN server sends `0x5E "RROR"`
/// where RFC 23 has `0x05 "ERROR"` (its PLAIN client accepts only that form).
const LIBZMQ_PLAIN_ERROR: &[u8] = b"\x5ERROR";

/// The reason of a libzmq PLAIN server's misspelt ERROR, if `body` is one:
/// `0x5E "RROR"`, a length and that many bytes of reason.
fn libzmq_plain_error(body: &Bytes) -> Option<ProtocolError> {
    let rest = body.strip_prefix(LIBZMQ_PLAIN_ERROR)?;
    let (&length, reason) = rest.split_first()?;
    let reason = reason.get(..usize::from(length))?;
    Some(error_from_peer(reason))
}

/// The error a peer's ERROR command stands for (a malformed one is an error too).
fn peer_error(body: &Bytes) -> ProtocolError {
    match Command::parse(body) {
        Ok(Command::Error { reason }) => error_from_peer(&reason),
        Ok(_) => ProtocolError::MalformedCommand {
            command: "ERROR",
            reason: "not an ERROR command",
        },
        Err(error) => error,
    }
}

/// A handshake command with the given name and data, as PLAIN's commands are
/// built (HELLO, WELCOME, INITIATE).
fn command(name: &'static [u8], data: Bytes) -> Command {
    Command::Other {
        name: Bytes::from_static(name),
        data,
    }
}

/// Metadata in wire form (INITIATE's data).
fn metadata_bytes(metadata: &Metadata) -> Bytes {
    let mut out = bytes::BytesMut::new();
    metadata.write(&mut out);
    out.freeze()
}

#[cfg(test)]
mod tests;
