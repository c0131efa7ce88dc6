//! ZMTP commands (READY, ERROR, PING, PONG, SUBSCRIBE, CANCEL) and metadata.
//!
//! A command frame's body is a one-byte name length, the name, then data (RFC 23,
//! RFC 37). Metadata is a run of properties: a one-byte name length, the name, a
//! four-byte big-endian value length, the value. Property names are matched exactly
//! (libzmq writes `Socket-Type` and `Identity` and compares case-sensitively). This
//! file parses what a peer sent into owned values that share the frame's memory; it
//! must never panic on a short or malformed body.

use super::ProtocolError;
use super::encoder::Encoder;
use super::reader::Reader;
use bytes::{BufMut, Bytes, BytesMut};

/// The property that names the sender's socket type.
pub const SOCKET_TYPE_PROPERTY: &str = "Socket-Type";
/// The property that carries the sender's routing id.
pub const IDENTITY_PROPERTY: &str = "Identity";
/// The most context bytes a PING carries (RFC 37).
pub const MAX_PING_CONTEXT: usize = 16;

/// A command a peer sent, or that we send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// READY with the sender's metadata.
    Ready(Metadata),
    /// ERROR with a reason; the sender closes the connection.
    Error {
        /// Why the connection is refused.
        reason: Bytes,
    },
    /// PING: a heartbeat asking for a PONG.
    Ping {
        /// How long the sender will wait for traffic, in tenths of a second.
        ttl_deciseconds: u16,
        /// Up to 16 bytes to echo in the PONG.
        context: Bytes,
    },
    /// PONG: the answer to a PING.
    Pong {
        /// The PING's context.
        context: Bytes,
    },
    /// SUBSCRIBE (ZMTP 3.1) with the topic prefix.
    Subscribe(Bytes),
    /// CANCEL (ZMTP 3.1) with the topic prefix.
    Cancel(Bytes),
    /// Any other command (a mechanism's, or one we ignore).
    Other {
        /// The command's name.
        name: Bytes,
        /// The bytes after the name.
        data: Bytes,
    },
}

impl Command {
    /// Parses a command frame's body.
    pub fn parse(body: &Bytes) -> Result<Command, ProtocolError> {
        let (name, data) = split_name(body)?;
        let command = match &name[..] {
            b"READY" => Command::Ready(Metadata::parse(&data)?),
            b"ERROR" => {
                let mut reader = Reader::new(&data);
                let length = reader.u8().ok_or(ProtocolError::MalformedCommand {
                    command: "ERROR",
                    reason: "no reason length",
                })?;
                // Lenient: a reason shorter than announced is taken as it is.
                let available = usize::from(length).min(reader.remaining());
                Command::Error {
                    reason: data.slice(1..1 + available),
                }
            }
            b"PING" => {
                let mut reader = Reader::new(&data);
                let ttl_deciseconds = reader.u16().ok_or(ProtocolError::MalformedCommand {
                    command: "PING",
                    reason: "shorter than its 2-byte TTL",
                })?;
                // libzmq keeps at most 16 context bytes; so do we.
                let end = data.len().min(2 + MAX_PING_CONTEXT);
                Command::Ping {
                    ttl_deciseconds,
                    context: data.slice(2..end),
                }
            }
            b"PONG" => Command::Pong { context: data },
            b"SUBSCRIBE" => Command::Subscribe(data),
            b"CANCEL" => Command::Cancel(data),
            _ => Command::Other { name, data },
        };
        Ok(command)
    }

    /// The command frame's body: name length, name, data.
    pub fn body(&self) -> Bytes {
        let mut out = BytesMut::new();
        let mut put = |name: &[u8], parts: &[&[u8]]| {
            let length = u8::try_from(name.len()).unwrap_or(u8::MAX);
            out.put_u8(length);
            out.put_slice(name.get(..usize::from(length)).unwrap_or(name));
            for part in parts {
                out.put_slice(part);
            }
        };
        match self {
            Command::Ready(metadata) => {
                let mut properties = BytesMut::new();
                metadata.write(&mut properties);
                put(b"READY", &[&properties]);
            }
            Command::Error { reason } => {
                let length = u8::try_from(reason.len()).unwrap_or(u8::MAX);
                let reason = reason.get(..usize::from(length)).unwrap_or(&[]);
                put(b"ERROR", &[&[length], reason]);
            }
            Command::Ping {
                ttl_deciseconds,
                context,
            } => {
                let context = context.get(..MAX_PING_CONTEXT).unwrap_or(context);
                put(b"PING", &[&ttl_deciseconds.to_be_bytes(), context]);
            }
            Command::Pong { context } => put(b"PONG", &[context]),
            Command::Subscribe(topic) => put(b"SUBSCRIBE", &[topic]),
            Command::Cancel(topic) => put(b"CANCEL", &[topic]),
            Command::Other { name, data } => put(name, &[data]),
        }
        out.freeze()
    }

    /// Queues this command as a plain (unencrypted) frame.
    pub fn encode(&self, out: &mut Encoder) {
        out.frame_from_slice(false, true, &self.body());
    }
}

/// Splits a command body into its name and its data.
pub fn split_name(body: &Bytes) -> Result<(Bytes, Bytes), ProtocolError> {
    let mut reader = Reader::new(body);
    let length = reader.u8().ok_or(ProtocolError::MalformedCommand {
        command: "unnamed",
        reason: "empty command frame",
    })?;
    if length == 0 {
        return Err(ProtocolError::MalformedCommand {
            command: "unnamed",
            reason: "command name is empty",
        });
    }
    if reader.take(usize::from(length)).is_none() {
        return Err(ProtocolError::MalformedCommand {
            command: "unnamed",
            reason: "name length runs past the end of the frame",
        });
    }
    let end = 1 + usize::from(length);
    Ok((body.slice(1..end), body.slice(end..)))
}

/// Metadata properties, in the order they were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    properties: Vec<(Bytes, Bytes)>,
}

impl Metadata {
    /// No properties.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Parses a run of properties. The values are slices of a copy of `bytes`, not
    /// of `bytes` itself: metadata lives as long as the connection (a ROUTER keeps
    /// the routing id), and a slice of the receive buffer would keep all of it.
    pub fn parse(bytes: &Bytes) -> Result<Metadata, ProtocolError> {
        let bytes = &Bytes::copy_from_slice(bytes);
        let mut reader = Reader::new(bytes);
        let mut properties = Vec::new();
        while !reader.is_empty() {
            let start = bytes.len() - reader.remaining();
            let name_length = usize::from(reader.u8().ok_or(ProtocolError::MalformedProperty {
                reason: "missing name length",
            })?);
            if name_length == 0 {
                return Err(ProtocolError::MalformedProperty {
                    reason: "empty property name",
                });
            }
            reader
                .take(name_length)
                .ok_or(ProtocolError::MalformedProperty {
                    reason: "name runs past the end of the command",
                })?;
            let value_length = reader.u32().ok_or(ProtocolError::MalformedProperty {
                reason: "value length runs past the end of the command",
            })?;
            let value_length = usize::try_from(value_length).unwrap_or(usize::MAX);
            reader
                .take(value_length)
                .ok_or(ProtocolError::MalformedProperty {
                    reason: "value runs past the end of the command",
                })?;
            let name_start = start + 1;
            let value_start = name_start + name_length + 4;
            properties.push((
                bytes.slice(name_start..name_start + name_length),
                bytes.slice(value_start..value_start + value_length),
            ));
        }
        Ok(Metadata { properties })
    }

    /// Appends the properties in wire form.
    pub fn write(&self, out: &mut BytesMut) {
        for (name, value) in &self.properties {
            let name_length = u8::try_from(name.len()).unwrap_or(u8::MAX);
            out.put_u8(name_length);
            out.put_slice(name.get(..usize::from(name_length)).unwrap_or(&[]));
            let value_length = u32::try_from(value.len()).unwrap_or(u32::MAX);
            out.put_u32(value_length);
            out.put_slice(value.get(..value_length as usize).unwrap_or(&[]));
        }
    }

    /// Adds a property (names are 1 to 255 bytes; longer ones are cut).
    pub fn insert(&mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) {
        self.properties.push((name.into(), value.into()));
    }

    /// The value of the first property named exactly `name`.
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.properties
            .iter()
            .find(|(key, _)| key.as_ref() == name.as_bytes())
            .map(|(_, value)| value)
    }

    /// Every property, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.properties.iter().map(|(name, value)| (name, value))
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.properties.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.properties.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Bytes {
        crate::zmtp::harness::hex(text).into()
    }

    fn encoded(command: &Command) -> Bytes {
        let mut out = Encoder::new();
        command.encode(&mut out);
        let mut bytes = Vec::new();
        let mut rest = out.first_chunk().to_vec();
        bytes.append(&mut rest);
        bytes.into()
    }

    #[test]
    fn ready_from_rfc_23() {
        let frame = hex(concat!(
            "04 1c",                               // command frame, 28 bytes
            "05 52 45 41 44 59",                   // "READY"
            "0b 53 6f 63 6b 65 74 2d 54 79 70 65", // "Socket-Type"
            "00 00 00 06",                         // value length
            "44 45 41 4c 45 52",                   // "DEALER"
        ));
        let body = frame.slice(2..);
        let Command::Ready(metadata) = Command::parse(&body).unwrap() else {
            panic!("not READY");
        };
        assert_eq!(metadata.get(SOCKET_TYPE_PROPERTY).unwrap(), "DEALER");
        assert_eq!(
            metadata.get("socket-type"),
            None,
            "names are case-sensitive"
        );
        assert_eq!(encoded(&Command::Ready(metadata)), frame);
    }

    #[test]
    fn ping_pong_subscribe_cancel_error_from_rfc_37() {
        let ping = hex("04 0a 04 50 49 4e 47 00 0a 63 74 78"); // PING ttl=1s ctx="ctx"
        assert_eq!(
            Command::parse(&ping.slice(2..)).unwrap(),
            Command::Ping {
                ttl_deciseconds: 10,
                context: Bytes::from_static(b"ctx")
            }
        );
        assert_eq!(encoded(&Command::parse(&ping.slice(2..)).unwrap()), ping);
        let pong = hex("04 08 04 50 4f 4e 47 63 74 78");
        assert_eq!(
            Command::parse(&pong.slice(2..)).unwrap(),
            Command::Pong {
                context: Bytes::from_static(b"ctx")
            }
        );
        let subscribe = hex("04 0c 09 53 55 42 53 43 52 49 42 45 77 78"); // SUBSCRIBE "wx"
        assert_eq!(
            Command::parse(&subscribe.slice(2..)).unwrap(),
            Command::Subscribe(Bytes::from_static(b"wx"))
        );
        assert_eq!(
            encoded(&Command::Subscribe(Bytes::from_static(b"wx"))),
            subscribe
        );
        let cancel = hex("04 07 06 43 41 4e 43 45 4c"); // CANCEL ""
        assert_eq!(
            Command::parse(&cancel.slice(2..)).unwrap(),
            Command::Cancel(Bytes::new())
        );
        let error = hex("04 0a 05 45 52 52 4f 52 03 62 61 64"); // ERROR "bad"
        assert_eq!(
            Command::parse(&error.slice(2..)).unwrap(),
            Command::Error {
                reason: Bytes::from_static(b"bad")
            }
        );
        assert_eq!(encoded(&Command::parse(&error.slice(2..)).unwrap()), error);
    }

    #[test]
    fn long_ping_context_is_cut_to_sixteen_bytes() {
        let mut body = b"\x04PING\x00\x01".to_vec();
        body.extend([7u8; 40]);
        let Command::Ping { context, .. } = Command::parse(&body.into()).unwrap() else {
            panic!("not PING");
        };
        assert_eq!(context.len(), MAX_PING_CONTEXT);
    }

    #[test]
    fn malformed_commands_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"\x00",
            b"\x05REA",
            b"\x04PING\x01",
            b"\x05ERROR",
            b"\x05READY\x0bSocket-Type\x00\x00",
            b"\x05READY\x0bSocket-Type\x00\x00\x00\x09PUB",
            b"\x05READY\x20Socket",
            b"\x05READY\x00\x00\x00\x00\x00",
        ] {
            let result = Command::parse(&Bytes::copy_from_slice(body));
            assert!(result.is_err(), "{body:?} gave {result:?}");
        }
    }

    #[test]
    fn unknown_commands_parse_as_other() {
        let command = Command::parse(&Bytes::from_static(b"\x05HELLOxyz")).unwrap();
        assert_eq!(
            command,
            Command::Other {
                name: Bytes::from_static(b"HELLO"),
                data: Bytes::from_static(b"xyz")
            }
        );
    }
}
