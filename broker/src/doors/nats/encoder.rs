//! Server operations to bytes, as nats-server writes them (`server/client.go`:
//! `msgHeader`, `errProto`, `okProto`, `pingProto`, `pongProto`, the no-responders
//! status message).
//!
//! Only control lines are written here: a message's payload stays a separate `Bytes`
//! so the server can share it among recipients and write it with vectored writes,
//! followed by [`LINE_END`]. This module must never copy a payload.

use bytes::{BufMut, BytesMut};

/// What ends every line, and every payload after its last byte.
pub const LINE_END: &[u8] = b"\r\n";

/// Writes `MSG subject sid [reply] size\r\n`; the payload (`size` bytes) and
/// [`LINE_END`] follow it on the wire.
pub fn encode_msg_header(
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    payload_size: usize,
    out: &mut BytesMut,
) {
    out.reserve(subject.len() + sid.len() + reply.map_or(0, <[u8]>::len) + 32);
    out.put_slice(b"MSG ");
    put_routing(subject, sid, reply, out);
    put_decimal(payload_size, out);
    out.put_slice(LINE_END);
}

/// Writes `HMSG subject sid [reply] header_size total_size\r\n`; the header block and
/// body (`total_size` bytes together) and [`LINE_END`] follow it on the wire.
pub fn encode_hmsg_header(
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    header_size: usize,
    total_size: usize,
    out: &mut BytesMut,
) {
    out.reserve(subject.len() + sid.len() + reply.map_or(0, <[u8]>::len) + 48);
    out.put_slice(b"HMSG ");
    put_routing(subject, sid, reply, out);
    put_decimal(header_size, out);
    out.put_u8(b' ');
    put_decimal(total_size, out);
    out.put_slice(LINE_END);
}

/// Writes `+OK\r\n`, the answer to a verbose client's valid operation.
pub fn encode_ok(out: &mut BytesMut) {
    out.put_slice(b"+OK\r\n");
}

/// Writes `-ERR 'text'\r\n` (use a [`Violation`](super::Violation)'s message).
pub fn encode_err(text: &str, out: &mut BytesMut) {
    out.reserve(text.len() + 9);
    out.put_slice(b"-ERR '");
    out.put_slice(text.as_bytes());
    out.put_slice(b"'\r\n");
}

/// Writes `PING\r\n`.
pub fn encode_ping(out: &mut BytesMut) {
    out.put_slice(b"PING\r\n");
}

/// Writes `PONG\r\n`.
pub fn encode_pong(out: &mut BytesMut) {
    out.put_slice(b"PONG\r\n");
}

/// Writes the header block of a no-responders status message, as nats-server 2.12+
/// sends it: `NATS/1.0 503\r\nNats-Subject: subject\r\n\r\n` (no status text), where
/// `subject` is the request's subject.
pub fn encode_no_responders_headers(subject: &[u8], out: &mut BytesMut) {
    out.reserve(subject.len() + 32);
    out.put_slice(b"NATS/1.0 503\r\nNats-Subject: ");
    out.put_slice(subject);
    out.put_slice(b"\r\n\r\n");
}

/// Writes a whole no-responders message to a requester that set `no_responders`:
/// `HMSG reply sid n n\r\n`, the status headers (`n` bytes, no body) and the line end,
/// sent on the requester's subscription `sid` to its `reply` subject.
pub fn encode_no_responders(reply: &[u8], sid: &[u8], subject: &[u8], out: &mut BytesMut) {
    let header_size = 32 + subject.len();
    encode_hmsg_header(reply, sid, None, header_size, header_size, out);
    encode_no_responders_headers(subject, out);
    out.put_slice(LINE_END);
}

fn put_routing(subject: &[u8], sid: &[u8], reply: Option<&[u8]>, out: &mut BytesMut) {
    out.put_slice(subject);
    out.put_u8(b' ');
    out.put_slice(sid);
    out.put_u8(b' ');
    if let Some(reply) = reply {
        out.put_slice(reply);
        out.put_u8(b' ');
    }
}

fn put_decimal(mut value: usize, out: &mut BytesMut) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(digit) = digits.get_mut(start) {
            // `value % 10` is below 10, so it fits a byte.
            *digit = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    out.put_slice(digits.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(encode: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(&mut out);
        out.to_vec()
    }

    #[test]
    fn msg_headers_from_the_protocol_docs() {
        let plain = written(|out| encode_msg_header(b"FOO.BAR", b"9", None, 11, out));
        assert_eq!(plain, b"MSG FOO.BAR 9 11\r\n");
        let reply =
            written(|out| encode_msg_header(b"FOO.BAR", b"9", Some(b"GREETING.34"), 11, out));
        assert_eq!(reply, b"MSG FOO.BAR 9 GREETING.34 11\r\n");
        let empty = written(|out| encode_msg_header(b"NOTIFY", b"1", None, 0, out));
        assert_eq!(empty, b"MSG NOTIFY 1 0\r\n");
    }

    #[test]
    fn hmsg_headers_from_the_protocol_docs() {
        let plain = written(|out| encode_hmsg_header(b"FOO.BAR", b"9", None, 34, 45, out));
        assert_eq!(plain, b"HMSG FOO.BAR 9 34 45\r\n");
        let reply =
            written(|out| encode_hmsg_header(b"FOO.BAR", b"9", Some(b"BAZ.69"), 34, 45, out));
        assert_eq!(reply, b"HMSG FOO.BAR 9 BAZ.69 34 45\r\n");
    }

    #[test]
    fn short_operations() {
        assert_eq!(written(encode_ok), b"+OK\r\n");
        assert_eq!(written(encode_ping), b"PING\r\n");
        assert_eq!(written(encode_pong), b"PONG\r\n");
        let error = written(|out| encode_err("Unknown Protocol Operation", out));
        assert_eq!(error, b"-ERR 'Unknown Protocol Operation'\r\n");
    }

    #[test]
    fn no_responders_as_nats_server_writes_it() {
        let message = written(|out| encode_no_responders(b"_INBOX.x", b"3", b"service", out));
        let expected =
            b"HMSG _INBOX.x 3 39 39\r\nNATS/1.0 503\r\nNats-Subject: service\r\n\r\n\r\n";
        assert_eq!(message, expected);
        let headers = written(|out| encode_no_responders_headers(b"service", out));
        assert_eq!(headers.len(), 39);
    }

    #[test]
    fn decimals() {
        for value in [0, 7, 10, 1_048_576, usize::MAX] {
            assert_eq!(
                written(|out| put_decimal(value, out)),
                value.to_string().into_bytes()
            );
        }
    }
}
