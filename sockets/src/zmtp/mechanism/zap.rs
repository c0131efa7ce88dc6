//! What a server mechanism asks the application's ZAP handler (RFC 27) and what
//! comes back, as values: the mechanism builds a [`ZapRequest`] from the
//! client's credentials and stops (`Progress::Authenticate`); the connection's
//! owner sends it to the handler over `inproc://zeromq.zap.01` (or applies
//! libzmq's defaults when no handler is bound) and hands the [`ZapReply`] back to
//! the mechanism (`Mechanism::handle_zap_reply`).
//!
//! Plain data: this file must never do I/O, and a request must carry nothing
//! but what RFC 27 names.

use super::super::command::Metadata;
use super::super::greeting::MechanismName;
use bytes::Bytes;

/// The property that carries the ZAP handler's user id in the peer's metadata
/// (libzmq's `ZMQ_MSG_PROPERTY_USER_ID`).
pub const USER_ID_PROPERTY: &str = "User-Id";

/// RFC 27's request, but for its version ("1.0") and request id frames, which
/// the sender adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZapRequest {
    /// The socket's ZAP_DOMAIN (may be empty).
    pub domain: Bytes,
    /// The client's address (an IP address in text, for TCP).
    pub address: Bytes,
    /// The connection's routing identity (the peer's, if it announced one).
    pub identity: Bytes,
    /// "NULL", "PLAIN" or "CURVE".
    pub mechanism: MechanismName,
    /// The mechanism's credentials: none for NULL, username and password for
    /// PLAIN, the client's long-term public key (32 bytes) for CURVE.
    pub credentials: Vec<Bytes>,
}

/// RFC 27's reply, but for its version and request id frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZapReply {
    /// "200" (allowed), "300" (temporary failure), "400" (denied) or "500"
    /// (internal error).
    pub status_code: Bytes,
    /// Why, for people.
    pub status_text: Bytes,
    /// The authenticated user's id (the `User-Id` property of messages).
    pub user_id: Bytes,
    /// Properties the handler attaches to the connection's messages.
    pub metadata: Metadata,
}

impl ZapReply {
    /// Whether the handler allowed the client.
    pub fn allowed(&self) -> bool {
        self.status_code.as_ref() == b"200"
    }

    /// A reply allowing the client, as libzmq assumes without a handler where it
    /// admits clients.
    pub fn allow() -> ZapReply {
        ZapReply {
            status_code: Bytes::from_static(b"200"),
            status_text: Bytes::from_static(b"OK"),
            user_id: Bytes::new(),
            metadata: Metadata::new(),
        }
    }
}
