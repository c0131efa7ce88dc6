//! The client-side parser of one NATS connection: bytes from the front of a receive
//! buffer in, [`ClientOperation`]s or [`Violation`]s out, following nats-server 2.x's
//! byte-at-a-time parser (`server/parser.go`) state for state.
//!
//! It consumes what it has understood and keeps only the operation in progress: a
//! control line argument (refused once past `max_control_line`) or a payload (refused
//! at its control line when above `max_payload`). Operation names, blanks after them
//! and what follows `PING`, `PONG` or `+OK` up to the line end are consumed as they
//! arrive. It must never copy a payload, wait for more than its limits allow, or
//! panic on any input.

use bytes::{Buf, Bytes, BytesMut};

use super::arguments::{self, PublishLine};
use super::connect::Connect;
use super::info;
use super::limits::Limits;
use super::operation::{ClientOperation, Publish};
use super::violation::{Violation, ViolationKind};

/// The operation a control line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keyword {
    Connect,
    Info,
    Publish,
    HeaderPublish,
    HeaderMessage,
    Subscribe,
    Unsubscribe,
    Ping,
    Pong,
    Ok,
    Error,
}

impl Keyword {
    /// The name, upper case (nats-server compares without regard to case).
    fn name(self) -> &'static [u8] {
        match self {
            Keyword::Connect => b"CONNECT",
            Keyword::Info => b"INFO",
            Keyword::Publish => b"PUB",
            Keyword::HeaderPublish => b"HPUB",
            Keyword::HeaderMessage => b"HMSG",
            Keyword::Subscribe => b"SUB",
            Keyword::Unsubscribe => b"UNSUB",
            Keyword::Ping => b"PING",
            Keyword::Pong => b"PONG",
            Keyword::Ok => b"+OK",
            Keyword::Error => b"-ERR",
        }
    }

    /// What follows the name in nats-server's states.
    fn after_name(self) -> State {
        match self {
            // OP_CONNECT and OP_INFO skip blanks, if any, straight into the argument.
            Keyword::Connect | Keyword::Info => State::Blanks(self),
            // OP_PING, OP_PONG and OP_PLUS_OK ignore everything up to a line feed.
            Keyword::Ping | Keyword::Pong | Keyword::Ok => State::Trailer(self),
            // The others need one space or tab first.
            _ => State::Separator(self),
        }
    }
}

/// Where the parser is within the current operation.
#[derive(Debug)]
enum State {
    /// Between operations.
    Start,
    /// `P` or `H` read: the next letter picks the operation.
    Branch(u8),
    /// Part of a name read.
    Name { keyword: Keyword, matched: usize },
    /// The name read; a space or tab must follow.
    Separator(Keyword),
    /// Skipping spaces and tabs before the argument.
    Blanks(Keyword),
    /// The argument is at the front of the buffer, `scanned` bytes of it examined. Its
    /// first byte is taken as it is, as nats-server does; a `\r` after it means the
    /// line's last byte is dropped at the line end.
    Argument {
        keyword: Keyword,
        scanned: usize,
        carriage_return: bool,
    },
    /// Skipping up to the line feed that ends `PING`, `PONG` or `+OK`.
    Trailer(Keyword),
    /// Waiting for a payload and its `\r\n`; `None` for a client's `HMSG`, whose
    /// empty payload nats-server reads and drops.
    Payload(Option<PublishLine>),
    /// A violation closed the connection: every later call returns it again.
    Closed(Violation),
}

/// The parser of one client connection.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    state: State,
    options: Connect,
    awaiting_connect: bool,
}

impl Parser {
    /// A parser for a new connection, with nats-server's default options until the
    /// client's `CONNECT`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: State::Start,
            options: Connect::default(),
            awaiting_connect: false,
        }
    }

    /// Requires `CONNECT` as the first operation, as nats-server does when
    /// authorization is required (and no `no_auth_user` is set): any other first byte
    /// than `C` is refused with `Authorization Violation`.
    pub fn require_connect(&mut self) {
        self.awaiting_connect = true;
    }

    /// The connection's options: nats-server's defaults, then as `CONNECT`s set them.
    /// With `verbose` (the default until `CONNECT`), nats-server answers `+OK` to each
    /// accepted `CONNECT`, `SUB` and `UNSUB`, and to each publish it lets through its
    /// permission checks; the core decides those.
    pub fn options(&self) -> &Connect {
        &self.options
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Parses the next operation from the front of `buffer`, consuming what it reads.
    ///
    /// `Ok(None)`: more bytes are needed, and everything before the operation in
    /// progress has been consumed. `Err` with `close`: send the message (if any) and
    /// close; the parser is finished. `Err` without `close`: send the message and call
    /// again — the operation concerned may still follow (nats-server still delivers a
    /// pedantic client's publish to an invalid subject after its `-ERR`).
    pub fn parse(&mut self, buffer: &mut BytesMut) -> Result<Option<ClientOperation>, Violation> {
        loop {
            match std::mem::replace(&mut self.state, State::Start) {
                State::Closed(violation) => return Err(self.close(violation)),
                State::Argument {
                    keyword,
                    scanned,
                    carriage_return,
                } => match self.argument(buffer, keyword, scanned, carriage_return)? {
                    Some(operation) => return Ok(Some(operation)),
                    None if matches!(self.state, State::Argument { .. }) => return Ok(None),
                    None => {}
                },
                State::Payload(line) => match self.payload(buffer, line)? {
                    Some(operation) => return Ok(Some(operation)),
                    None if matches!(self.state, State::Payload(_)) => return Ok(None),
                    None => {}
                },
                State::Start if !self.awaiting_connect && publish_ahead(buffer) => {
                    // The common case in one step instead of five: `PUB`, one
                    // space, and an argument that starts at once leave the byte
                    // machine exactly where it would have arrived (in `Argument`,
                    // its first byte taken), so nothing is decided differently.
                    buffer.advance(4);
                    self.state = State::Argument {
                        keyword: Keyword::Publish,
                        scanned: 1,
                        carriage_return: false,
                    };
                }
                state => {
                    let Some(&byte) = buffer.first() else {
                        self.state = state;
                        return Ok(None);
                    };
                    if let Some(operation) = self.step(state, byte, buffer)? {
                        return Ok(Some(operation));
                    }
                }
            }
        }
    }

    /// One byte in a state where nats-server's parser decides byte by byte.
    fn step(
        &mut self,
        state: State,
        byte: u8,
        buffer: &mut BytesMut,
    ) -> Result<Option<ClientOperation>, Violation> {
        let upper = byte.to_ascii_uppercase();
        let next = match state {
            State::Start if self.awaiting_connect && upper != b'C' => {
                return Err(self.fail(ViolationKind::AuthorizationRequired));
            }
            State::Start => match upper {
                b'P' | b'H' => State::Branch(upper),
                b'S' => Self::named(Keyword::Subscribe, 1),
                b'U' => Self::named(Keyword::Unsubscribe, 1),
                b'C' => Self::named(Keyword::Connect, 1),
                b'I' => Self::named(Keyword::Info, 1),
                b'+' => Self::named(Keyword::Ok, 1),
                b'-' => Self::named(Keyword::Error, 1),
                _ => return Err(self.fail(ViolationKind::UnknownOperation)),
            },
            State::Branch(first) => match (first, upper) {
                (b'P', b'U') => Self::named(Keyword::Publish, 2),
                (b'P', b'I') => Self::named(Keyword::Ping, 2),
                (b'P', b'O') => Self::named(Keyword::Pong, 2),
                (b'H', b'P') => Self::named(Keyword::HeaderPublish, 2),
                (b'H', b'M') => Self::named(Keyword::HeaderMessage, 2),
                _ => return Err(self.fail(ViolationKind::UnknownOperation)),
            },
            State::Name { keyword, matched } => {
                if keyword.name().get(matched) != Some(&upper) {
                    return Err(self.fail(ViolationKind::UnknownOperation));
                }
                Self::named(keyword, matched + 1)
            }
            State::Separator(keyword) => match byte {
                b' ' | b'\t' => State::Blanks(keyword),
                _ => return Err(self.fail(ViolationKind::UnknownOperation)),
            },
            State::Blanks(keyword) => match byte {
                b' ' | b'\t' => State::Blanks(keyword),
                _ => {
                    // The argument starts here; this byte stays in the buffer.
                    self.state = State::Argument {
                        keyword,
                        scanned: 1,
                        carriage_return: false,
                    };
                    return Ok(None);
                }
            },
            State::Trailer(keyword) => {
                buffer.advance(1);
                if byte != b'\n' {
                    self.state = State::Trailer(keyword);
                    return Ok(None);
                }
                return Ok(match keyword {
                    Keyword::Ping => Some(ClientOperation::Ping),
                    Keyword::Pong => Some(ClientOperation::Pong),
                    _ => None,
                });
            }
            // Argument, Payload and Closed are handled by `parse` itself.
            other => {
                self.state = other;
                return Ok(None);
            }
        };
        buffer.advance(1);
        self.state = next;
        Ok(None)
    }

    /// The state after `matched` letters of `keyword`'s name.
    fn named(keyword: Keyword, matched: usize) -> State {
        if matched >= keyword.name().len() {
            keyword.after_name()
        } else {
            State::Name { keyword, matched }
        }
    }

    /// Looks for the argument's line end; checks the control line limit as bytes come.
    fn argument(
        &mut self,
        buffer: &mut BytesMut,
        keyword: Keyword,
        scanned: usize,
        carriage_return: bool,
    ) -> Result<Option<ClientOperation>, Violation> {
        let mut carriage_return = carriage_return;
        let mut line_end = None;
        for (offset, &byte) in buffer.get(scanned..).unwrap_or_default().iter().enumerate() {
            match byte {
                b'\r' => carriage_return = true,
                b'\n' => {
                    line_end = Some(scanned + offset);
                    break;
                }
                _ => {}
            }
        }
        let Some(line_end) = line_end else {
            let length = buffer.len().saturating_sub(usize::from(carriage_return));
            if length > self.limits.max_control_line {
                return Err(self.fail(ViolationKind::MaximumControlLine));
            }
            self.state = State::Argument {
                keyword,
                scanned: buffer.len(),
                carriage_return,
            };
            return Ok(None);
        };
        let length = line_end.saturating_sub(usize::from(carriage_return));
        if length > self.limits.max_control_line {
            return Err(self.fail(ViolationKind::MaximumControlLine));
        }
        let line = buffer.split_to(line_end + 1).freeze();
        self.line(keyword, line.slice(..length))
    }

    /// A complete control line argument.
    fn line(
        &mut self,
        keyword: Keyword,
        argument: Bytes,
    ) -> Result<Option<ClientOperation>, Violation> {
        let max_payload = self.limits.max_payload;
        let pedantic = self.options.pedantic;
        match keyword {
            Keyword::Connect => {
                let mut options = self.options.clone();
                if options.apply_json(&argument).is_err() {
                    return Err(self.fail(ViolationKind::MalformedJson));
                }
                self.awaiting_connect = false;
                if let Err(kind) = options.check() {
                    return Err(self.fail(kind));
                }
                self.options = options.clone();
                Ok(Some(ClientOperation::Connect(Box::new(options))))
            }
            Keyword::Info => match info::check_client_info(&argument) {
                Ok(()) => Ok(None),
                Err(_) => Err(self.fail(ViolationKind::MalformedJson)),
            },
            Keyword::Error => Err(self.fail(ViolationKind::ClientError)),
            Keyword::Publish => {
                let line = arguments::publish(&argument, max_payload, pedantic);
                self.expect_payload(line)
            }
            Keyword::HeaderPublish => {
                if !self.options.headers {
                    return Err(self.fail(ViolationKind::HeadersNotSupported));
                }
                let line = arguments::header_publish(&argument, max_payload, pedantic);
                self.expect_payload(line)
            }
            Keyword::HeaderMessage => {
                // nats-server reads no arguments of a client's HMSG and takes its
                // payload as empty: only `\r\n` may follow.
                self.state = State::Payload(None);
                Ok(None)
            }
            Keyword::Subscribe => match arguments::subscribe(&argument) {
                Ok(subscribe) => Ok(Some(ClientOperation::Subscribe(subscribe))),
                Err(kind) => Err(self.fail(kind)),
            },
            Keyword::Unsubscribe => match arguments::unsubscribe(&argument) {
                Ok(unsubscribe) => Ok(Some(ClientOperation::Unsubscribe(unsubscribe))),
                Err(kind) => Err(self.fail(kind)),
            },
            // Names without arguments never reach a line.
            Keyword::Ping | Keyword::Pong | Keyword::Ok => Ok(None),
        }
    }

    fn expect_payload(
        &mut self,
        line: Result<PublishLine, ViolationKind>,
    ) -> Result<Option<ClientOperation>, Violation> {
        match line {
            Ok(line) => {
                let invalid = line.invalid_for_pedantic;
                self.state = State::Payload(Some(line));
                if invalid {
                    return Err(self.fail(ViolationKind::InvalidPublishSubject));
                }
                Ok(None)
            }
            Err(kind) => Err(self.fail(kind)),
        }
    }

    /// Waits for the payload and its `\r\n`, refusing a wrong byte as soon as it is in.
    fn payload(
        &mut self,
        buffer: &mut BytesMut,
        line: Option<PublishLine>,
    ) -> Result<Option<ClientOperation>, Violation> {
        let size = line.as_ref().map_or(0, |line| line.size);
        if buffer.get(size).is_some_and(|&byte| byte != b'\r')
            || buffer.get(size + 1).is_some_and(|&byte| byte != b'\n')
        {
            return Err(self.fail(ViolationKind::PayloadNotTerminated));
        }
        if buffer.len() < size + 2 {
            self.state = State::Payload(line);
            return Ok(None);
        }
        let payload = buffer.split_to(size).freeze();
        buffer.advance(2);
        Ok(line.map(|line| {
            ClientOperation::Publish(Publish {
                subject: line.subject,
                reply: line.reply,
                header_size: line.header_size,
                payload,
            })
        }))
    }

    /// The violation for `kind`; a closing one finishes the parser.
    fn fail(&mut self, kind: ViolationKind) -> Violation {
        self.close(Violation::from(kind))
    }

    fn close(&mut self, violation: Violation) -> Violation {
        if violation.close {
            self.state = State::Closed(violation);
        }
        violation
    }
}

/// Whether `buffer` starts with `PUB`, one space and a byte that is no blank: the
/// byte machine would pass it straight into the argument.
fn publish_ahead(buffer: &[u8]) -> bool {
    matches!(buffer, [b'P', b'U', b'B', b' ', next, ..] if *next != b' ' && *next != b'\t')
}
