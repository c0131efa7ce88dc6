//! Shared by the PLAIN and CURVE handshake targets: answers a server
//! connection's ZAP request (RFC 27) as a handler might, by two bits the
//! fuzzer chose: admitted (with a user id and a property), refused with 400,
//! a temporary failure (300), or no handler bound. Never a panic.

use bytes::Bytes;
use sinew::zmtp::mechanism::ZapReply;
use sinew::zmtp::{Connection, Metadata, ProtocolError};
use std::time::Instant;

/// Answers the connection's ZAP request, if it made one, by `choice`.
pub fn answer(connection: &mut Connection, choice: u8, now: Instant) -> Result<(), ProtocolError> {
    if connection.take_zap_request().is_none() {
        return Ok(());
    }
    let reply = |code: &'static [u8]| {
        let mut metadata = Metadata::new();
        metadata.insert(Bytes::from_static(b"Tenant"), Bytes::from_static(b"fuzz"));
        ZapReply {
            status_code: Bytes::from_static(code),
            status_text: Bytes::from_static(b"fuzz"),
            user_id: Bytes::from_static(b"fuzzer"),
            metadata,
        }
    };
    match choice & 3 {
        0 => connection.handle_zap_reply(reply(b"200"), now),
        1 => connection.handle_zap_reply(reply(b"400"), now),
        2 => connection.handle_zap_reply(reply(b"300"), now),
        _ => connection.handle_zap_unavailable(now),
    }
}
