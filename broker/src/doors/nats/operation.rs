//! The operations a NATS client sends, as the parser hands them to the core.
//!
//! Subjects, reply subjects, queue groups, sids and payloads are `Bytes` slices of the
//! receive buffer: nothing is copied. A `Bytes` keeps its whole allocation alive, so a
//! core that stores one for long (a subscription's subject) should copy it first, as
//! nats-server copies a `SUB`'s arguments. This module must never hold parser state.

use bytes::Bytes;

use super::connect::Connect;

/// One operation from a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientOperation {
    /// `CONNECT {json}`: the connection's options after this `CONNECT` (a second
    /// `CONNECT` changes only the fields it names, as in nats-server). nats-server
    /// answers `+OK` when `verbose` is set and the client is authorised.
    Connect(Box<Connect>),
    /// `PUB` or `HPUB`.
    Publish(Publish),
    /// `SUB subject [queue] sid`.
    Subscribe(Subscribe),
    /// `UNSUB sid [max]`.
    Unsubscribe(Unsubscribe),
    /// `PING`: answer `PONG`.
    Ping,
    /// `PONG`.
    Pong,
}

/// A message published with `PUB subject [reply] size` or
/// `HPUB subject [reply] header_size total_size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// The subject, as sent (nats-server checks it only for pedantic clients).
    pub subject: Bytes,
    /// The reply subject, if any.
    pub reply: Option<Bytes>,
    /// For `HPUB`, how many leading bytes of `payload` are the header block.
    pub header_size: Option<usize>,
    /// The whole payload, header block included, without the trailing `\r\n`.
    pub payload: Bytes,
}

impl Publish {
    /// The header block (`NATS/1.0\r\n...\r\n\r\n`), for an `HPUB`.
    pub fn headers(&self) -> Option<Bytes> {
        let size = self.header_size?;
        (size <= self.payload.len()).then(|| self.payload.slice(..size))
    }

    /// The payload after the header block: what a subscriber without header support
    /// receives (nats-server sends it a `MSG` of this size).
    pub fn body(&self) -> Bytes {
        self.payload.slice(self.body_start()..)
    }

    /// Where the body starts in `payload`: after the header block, if any.
    pub fn body_start(&self) -> usize {
        body_start(self.header_size, self.payload.len())
    }
}

/// Where the body starts in a payload of `size` bytes whose first `header_size`
/// bytes are the header block (none, or a size past the end: at 0).
pub fn body_start(header_size: Option<usize>, size: usize) -> usize {
    match header_size {
        Some(header_size) if header_size <= size => header_size,
        _ => 0,
    }
}

/// A subscription request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    /// The subject, valid for a subscription (no empty token, nothing after `>`).
    pub subject: Bytes,
    /// The queue group, if any (nats-server does not check it).
    pub queue: Option<Bytes>,
    /// The client's subscription id.
    pub sid: Bytes,
}

/// An unsubscription, now or after a number of messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The client's subscription id.
    pub sid: Bytes,
    /// Unsubscribe once this many messages (at least 1) have been delivered in all;
    /// `None` unsubscribes now. nats-server reads a `max` of 0, or one that is not 1
    /// to 9 digits, as "now", and a `max` not above the count already delivered too.
    pub max_messages: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_body_split_the_payload() {
        let publish = Publish {
            subject: Bytes::from_static(b"FOO"),
            reply: None,
            header_size: Some(4),
            payload: Bytes::from_static(b"HEADbody"),
        };
        assert_eq!(publish.headers(), Some(Bytes::from_static(b"HEAD")));
        assert_eq!(publish.body(), Bytes::from_static(b"body"));
        let plain = Publish {
            header_size: None,
            ..publish
        };
        assert_eq!(plain.headers(), None);
        assert_eq!(plain.body(), Bytes::from_static(b"HEADbody"));
    }
}
