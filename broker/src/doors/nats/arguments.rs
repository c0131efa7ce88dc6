//! The arguments of one control line, read as nats-server reads them
//! (`processPub`, `processHeaderPub`, `parseSub`, `processUnsub` and `parseSize` in
//! `server/client.go` and `server/util.go`).
//!
//! Each function gets the argument bytes after the operation name (line end and its
//! `\r` already removed) and returns slices of them, never copies. This module must
//! never look at a payload or at connection state beyond the options it is given.

use bytes::Bytes;

use super::operation::{Subscribe, Unsubscribe};
use super::subject;
use super::violation::ViolationKind;

/// The most arguments any client operation takes (`HPUB subject reply hdr total`).
const MOST_FIELDS: usize = 4;

/// The blank-separated fields of an argument: their ranges and their count (which may
/// exceed the ranges kept).
struct Fields {
    ranges: [(usize, usize); MOST_FIELDS],
    count: usize,
}

impl Fields {
    /// Splits at runs of bytes for which `blank` holds.
    fn split(argument: &[u8], blank: fn(u8) -> bool) -> Self {
        let mut fields = Fields {
            ranges: [(0, 0); MOST_FIELDS],
            count: 0,
        };
        let mut start = None;
        for (index, &byte) in argument.iter().enumerate() {
            match (blank(byte), start) {
                (true, Some(begin)) => {
                    fields.push(begin, index);
                    start = None;
                }
                (false, None) => start = Some(index),
                _ => {}
            }
        }
        if let Some(begin) = start {
            fields.push(begin, argument.len());
        }
        fields
    }

    fn push(&mut self, start: usize, end: usize) {
        if let Some(range) = self.ranges.get_mut(self.count) {
            *range = (start, end);
        }
        self.count += 1;
    }

    fn get(&self, argument: &Bytes, index: usize) -> Bytes {
        match self.ranges.get(index) {
            Some(&(start, end)) if start <= end && end <= argument.len() => {
                argument.slice(start..end)
            }
            _ => Bytes::new(),
        }
    }
}

/// `PUB` and `HPUB` split at spaces and tabs only.
fn space_or_tab(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// `SUB` and `UNSUB` split at carriage returns and line feeds too (`splitArg`).
fn blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// nats-server's `parseSize`: 1 to 9 ASCII digits, nothing else.
pub(crate) fn parse_size(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0usize, |value, &digit| {
        digit
            .is_ascii_digit()
            .then(|| value * 10 + usize::from(digit - b'0'))
    })
}

/// A publish's control line, waiting for its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PublishLine {
    pub(crate) subject: Bytes,
    pub(crate) reply: Option<Bytes>,
    pub(crate) header_size: Option<usize>,
    pub(crate) size: usize,
    /// nats-server sends `-ERR 'Invalid Publish Subject'` but still delivers.
    pub(crate) invalid_for_pedantic: bool,
}

/// `PUB subject [reply] size`.
pub(crate) fn publish(
    argument: &Bytes,
    max_payload: usize,
    pedantic: bool,
) -> Result<PublishLine, ViolationKind> {
    let fields = Fields::split(argument, space_or_tab);
    let (subject, reply, size) = match fields.count {
        2 => (fields.get(argument, 0), None, fields.get(argument, 1)),
        3 => (
            fields.get(argument, 0),
            Some(fields.get(argument, 1)),
            fields.get(argument, 2),
        ),
        _ => return Err(ViolationKind::MalformedArguments),
    };
    let size = parse_size(&size).ok_or(ViolationKind::MalformedSize)?;
    finish(subject, reply, None, size, max_payload, pedantic)
}

/// `HPUB subject [reply] header_size total_size`.
pub(crate) fn header_publish(
    argument: &Bytes,
    max_payload: usize,
    pedantic: bool,
) -> Result<PublishLine, ViolationKind> {
    let fields = Fields::split(argument, space_or_tab);
    let (subject, reply, header, total) = match fields.count {
        3 => (
            fields.get(argument, 0),
            None,
            fields.get(argument, 1),
            fields.get(argument, 2),
        ),
        4 => (
            fields.get(argument, 0),
            Some(fields.get(argument, 1)),
            fields.get(argument, 2),
            fields.get(argument, 3),
        ),
        _ => return Err(ViolationKind::MalformedArguments),
    };
    let header = parse_size(&header).ok_or(ViolationKind::MalformedSize)?;
    let total = parse_size(&total).ok_or(ViolationKind::MalformedSize)?;
    if header > total {
        return Err(ViolationKind::HeaderSizeExceedsTotal);
    }
    finish(subject, reply, Some(header), total, max_payload, pedantic)
}

fn finish(
    subject: Bytes,
    reply: Option<Bytes>,
    header_size: Option<usize>,
    size: usize,
    max_payload: usize,
    pedantic: bool,
) -> Result<PublishLine, ViolationKind> {
    if size > max_payload {
        return Err(ViolationKind::MaximumPayload);
    }
    let invalid_for_pedantic = pedantic && !subject::is_valid_literal_subject(&subject);
    Ok(PublishLine {
        subject,
        reply,
        header_size,
        size,
        invalid_for_pedantic,
    })
}

/// `SUB subject [queue] sid`.
pub(crate) fn subscribe(argument: &Bytes) -> Result<Subscribe, ViolationKind> {
    let fields = Fields::split(argument, blank);
    let subscribe = match fields.count {
        2 => Subscribe {
            subject: fields.get(argument, 0),
            queue: None,
            sid: fields.get(argument, 1),
        },
        3 => Subscribe {
            subject: fields.get(argument, 0),
            queue: Some(fields.get(argument, 1)),
            sid: fields.get(argument, 2),
        },
        _ => return Err(ViolationKind::MalformedArguments),
    };
    if !subject::is_valid_subscription_subject(&subscribe.subject) {
        return Err(ViolationKind::InvalidSubject);
    }
    Ok(subscribe)
}

/// `UNSUB sid [max]`.
pub(crate) fn unsubscribe(argument: &Bytes) -> Result<Unsubscribe, ViolationKind> {
    let fields = Fields::split(argument, blank);
    let max_messages = match fields.count {
        1 => None,
        2 => parse_size(&fields.get(argument, 1))
            .filter(|&max| max > 0)
            .map(|max| max as u64),
        _ => return Err(ViolationKind::MalformedArguments),
    };
    Ok(Unsubscribe {
        sid: fields.get(argument, 0),
        max_messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(text: &[u8]) -> Bytes {
        Bytes::copy_from_slice(text)
    }

    #[test]
    fn sizes_are_one_to_nine_digits() {
        assert_eq!(parse_size(b"0"), Some(0));
        assert_eq!(parse_size(b"007"), Some(7));
        assert_eq!(parse_size(b"999999999"), Some(999_999_999));
        for bad in [&b""[..], b"1000000000", b"-1", b"+1", b"1a", b" 1", b"\r"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn publish_fields() {
        let line = publish(&bytes(b"FOO \t BAR  11 "), 100, false).unwrap();
        assert_eq!(line.subject, "FOO");
        assert_eq!(line.reply.as_deref(), Some(&b"BAR"[..]));
        assert_eq!((line.header_size, line.size), (None, 11));
        assert_eq!(
            publish(&bytes(b"FOO"), 100, false),
            Err(ViolationKind::MalformedArguments)
        );
        assert_eq!(
            publish(&bytes(b"A B C 1"), 100, false),
            Err(ViolationKind::MalformedArguments)
        );
        assert_eq!(
            publish(&bytes(b"FOO x"), 100, false),
            Err(ViolationKind::MalformedSize)
        );
        assert_eq!(
            publish(&bytes(b"FOO 101"), 100, false),
            Err(ViolationKind::MaximumPayload)
        );
        // A carriage return is part of a field for PUB.
        assert_eq!(
            publish(&bytes(b"FOO 1\r"), 100, false),
            Err(ViolationKind::MalformedSize)
        );
    }

    #[test]
    fn pedantic_publish_subjects_are_flagged_not_refused() {
        assert!(
            publish(&bytes(b"foo.* 1"), 100, true)
                .unwrap()
                .invalid_for_pedantic
        );
        assert!(
            !publish(&bytes(b"foo.* 1"), 100, false)
                .unwrap()
                .invalid_for_pedantic
        );
        assert!(
            !publish(&bytes(b"foo.bar 1"), 100, true)
                .unwrap()
                .invalid_for_pedantic
        );
    }

    #[test]
    fn header_publish_fields() {
        let line = header_publish(&bytes(b"FOO 22 33"), 100, false).unwrap();
        assert_eq!((line.header_size, line.size), (Some(22), 33));
        let line = header_publish(&bytes(b"FOO R 0 0"), 100, false).unwrap();
        assert_eq!(line.reply.as_deref(), Some(&b"R"[..]));
        let refused = |text: &[u8]| header_publish(&bytes(text), 100, false).unwrap_err();
        assert_eq!(refused(b"FOO 22"), ViolationKind::MalformedArguments);
        assert_eq!(refused(b"FOO x 33"), ViolationKind::MalformedSize);
        assert_eq!(refused(b"FOO 22 x"), ViolationKind::MalformedSize);
        assert_eq!(refused(b"FOO 34 33"), ViolationKind::HeaderSizeExceedsTotal);
        assert_eq!(refused(b"FOO 22 101"), ViolationKind::MaximumPayload);
    }

    #[test]
    fn subscribe_fields() {
        let plain = subscribe(&bytes(b"FOO 1")).unwrap();
        assert_eq!(
            (plain.subject, plain.queue, plain.sid),
            (bytes(b"FOO"), None, bytes(b"1"))
        );
        let queue = subscribe(&bytes(b"BAR G1 44")).unwrap();
        assert_eq!(queue.queue, Some(bytes(b"G1")));
        // SUB splits at line ends too.
        let split = subscribe(&bytes(b"\nFOO\r1")).unwrap();
        assert_eq!((split.subject, split.sid), (bytes(b"FOO"), bytes(b"1")));
        assert_eq!(
            subscribe(&bytes(b"FOO")),
            Err(ViolationKind::MalformedArguments)
        );
        assert_eq!(
            subscribe(&bytes(b"A B C D")),
            Err(ViolationKind::MalformedArguments)
        );
        assert_eq!(
            subscribe(&bytes(b"foo..bar 1")),
            Err(ViolationKind::InvalidSubject)
        );
    }

    #[test]
    fn unsubscribe_fields() {
        assert_eq!(unsubscribe(&bytes(b"1")).unwrap().max_messages, None);
        assert_eq!(unsubscribe(&bytes(b"1 5")).unwrap().max_messages, Some(5));
        assert_eq!(unsubscribe(&bytes(b"1 0")).unwrap().max_messages, None);
        assert_eq!(unsubscribe(&bytes(b"1 many")).unwrap().max_messages, None);
        assert_eq!(
            unsubscribe(&bytes(b"1 2 3")),
            Err(ViolationKind::MalformedArguments)
        );
        assert_eq!(
            unsubscribe(&bytes(b"")),
            Err(ViolationKind::MalformedArguments)
        );
    }
}
