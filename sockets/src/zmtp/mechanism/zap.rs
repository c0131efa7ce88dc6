//! What a server mechanism asks the application's ZAP handler (RFC 27) and what
//! comes back, as values: the mechanism builds a [`ZapRequest`] from the
//! client's credentials and stops (`Progress::Authenticate`); the connection's
//! owner sends it to the handler over `inproc://zeromq.zap.01` (or applies
//! libzmq's defaults when no handler is bound) and hands the [`ZapReply`] back to
//! the mechanism (`Mechanism::handle_zap_reply`). The mechanism fills in the
//! mechanism, the credentials and the ZAP domain (from its settings); the owner
//! fills in the address and the identity, which only it knows, as it sends the
//! request. [`authenticated_metadata`] is how an admitted client's metadata and
//! the reply's user id and properties become one.
//!
//! Plain data: this file must never do I/O, and a request must carry nothing
//! but what RFC 27 names.

use super::super::ProtocolError;
use super::super::command::{Command, IDENTITY_PROPERTY, Metadata, SOCKET_TYPE_PROPERTY};
use super::super::encoder::Encoder;
use super::super::error::printable;
use super::super::greeting::MechanismName;
use bytes::Bytes;
use std::collections::HashSet;

/// The property that carries the ZAP handler's user id in the peer's metadata
/// (libzmq's `ZMQ_MSG_PROPERTY_USER_ID`).
pub const USER_ID_PROPERTY: &str = "User-Id";

/// RFC 27's request, but for its version ("1.0") and request id frames, which
/// the sender adds. Its `Debug` shows the credentials' sizes only (a PLAIN
/// password must never reach a log).
#[derive(Clone, PartialEq, Eq)]
pub struct ZapRequest {
    /// The socket's ZAP_DOMAIN (may be empty).
    pub domain: Bytes,
    /// The client's address (an IP address in text, for TCP).
    pub address: Bytes,
    /// The server socket's own routing id (ZMQ_ROUTING_ID), as libzmq's
    /// `zap_client.cpp` sends it: not the client's, which is not known yet.
    pub identity: Bytes,
    /// "NULL", "PLAIN" or "CURVE".
    pub mechanism: MechanismName,
    /// The mechanism's credentials: none for NULL, username and password for
    /// PLAIN, the client's long-term public key (32 bytes) for CURVE.
    pub credentials: Vec<Bytes>,
}

impl std::fmt::Debug for ZapRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<usize> = self.credentials.iter().map(Bytes::len).collect();
        formatter
            .debug_struct("ZapRequest")
            .field("domain", &self.domain)
            .field("address", &self.address)
            .field("identity", &self.identity)
            .field("mechanism", &self.mechanism)
            .field("credential_sizes", &sizes)
            .finish()
    }
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

/// What a peer's ERROR during the handshake stands for, for every mechanism, as
/// libzmq's `handle_error_reason` reads it: a reason of 300, 400 or 500 is a ZAP
/// handler's refusal (reported as an authentication failure), any other is the
/// peer's own error.
pub(crate) fn error_from_peer(reason: &[u8]) -> ProtocolError {
    match reason {
        [b'3'..=b'5', b'0', b'0'] => ProtocolError::AuthenticationFailed {
            status_code: printable(reason),
            status_text: "refused by the server's ZAP handler".to_owned(),
        },
        _ => ProtocolError::PeerError {
            reason: printable(reason),
        },
    }
}

/// What a server mechanism does when the handler did not answer 200, as
/// libzmq's do: queue ERROR with the status code (nothing for 300, a temporary
/// failure), and fail the handshake with the handler's verdict.
pub(crate) fn refuse(reply: &ZapReply, out: &mut Encoder) -> ProtocolError {
    debug_assert!(!reply.allowed(), "a 200 is no refusal");
    if reply.status_code.as_ref() != b"300" {
        Command::Error {
            reason: reply.status_code.clone(),
        }
        .encode(out);
    }
    ProtocolError::AuthenticationFailed {
        status_code: printable(&reply.status_code),
        status_text: printable(&reply.status_text),
    }
}

/// The metadata a server mechanism reports ready once the ZAP handler admitted
/// the client: what libzmq shows as message properties. `User-Id` (the reply's
/// user id, present even when empty, as libzmq's `set_user_id` adds it), then the
/// handler's properties, then the peer's own, the first of each name winning (as
/// libzmq merges its property maps), so a peer cannot pose as another user. One
/// exception: the peer's `Socket-Type` and `Identity` come first, because the
/// handshake checks the connection's socket type and routing id on them (libzmq
/// would check a handler's `Socket-Type` too and take its `Identity` as the
/// routing id; no handler in the field sends either).
pub fn authenticated_metadata(peer: &Metadata, user_id: &Bytes, zap: &Metadata) -> Metadata {
    let mut merged = Metadata::new();
    let mut seen: HashSet<Bytes> = HashSet::new();
    let mut add = |name: &Bytes, value: &Bytes| {
        if seen.insert(name.clone()) {
            merged.insert(name.clone(), value.clone());
        }
    };
    for (name, value) in peer.iter() {
        if name.as_ref() == SOCKET_TYPE_PROPERTY.as_bytes()
            || name.as_ref() == IDENTITY_PROPERTY.as_bytes()
        {
            add(name, value);
        }
    }
    add(&Bytes::from_static(USER_ID_PROPERTY.as_bytes()), user_id);
    for (name, value) in zap.iter().chain(peer.iter()) {
        add(name, value);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requests_debug_never_shows_its_credentials() {
        let request = ZapRequest {
            domain: Bytes::from_static(b"global"),
            address: Bytes::from_static(b"127.0.0.1"),
            identity: Bytes::new(),
            mechanism: MechanismName::PLAIN,
            credentials: vec![Bytes::from_static(b"alice"), Bytes::from_static(b"s3cret")],
        };
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(shown.contains("[5, 6]"), "{shown}");
    }
}
