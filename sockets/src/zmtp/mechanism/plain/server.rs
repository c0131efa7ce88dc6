//! PLAIN's server role, as libzmq 4.3's `plain_server.cpp` and `zap_client.cpp`
//! run it: HELLO is checked to the byte (a user name and a password, each after a
//! one-byte length, and nothing more), then the ZAP handler is asked; its 200
//! brings WELCOME, its 400 or 500 an ERROR whose reason is the status code alone
//! ("400"), its 300 nothing at all (the client is dropped silently, as libzmq
//! does). INITIATE brings READY, and the handshake is done.
//!
//! The metadata reported ready is the client's INITIATE properties merged with
//! the ZAP reply's user id and properties (`authenticated_metadata`), as libzmq
//! shows them as message properties.
//!
//! This file must never send WELCOME without a ZAP 200, never take a command
//! while the ZAP handler is deciding, and never keep a borrowed slice of the
//! receive buffer in what it reports.

use super::{command, peer_error};
use crate::zmtp::ProtocolError;
use crate::zmtp::command::{Command, Metadata, split_name};
use crate::zmtp::encoder::Encoder;
use crate::zmtp::error::printable;
use crate::zmtp::greeting::MechanismName;
use crate::zmtp::mechanism::zap::refuse;
use crate::zmtp::mechanism::{Mechanism, Progress, ZapReply, ZapRequest, authenticated_metadata};
use crate::zmtp::reader::Reader;
use bytes::Bytes;

/// Where the server's handshake is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Waiting for the client's HELLO.
    ExpectHello,
    /// The ZAP request is out; only the reply may come next.
    AwaitZapReply,
    /// WELCOME is sent; INITIATE is next. What the handler said is kept for the
    /// metadata.
    ExpectInitiate {
        user_id: Bytes,
        zap_metadata: Metadata,
    },
    /// READY is sent, or the client was refused: nothing more is taken.
    Done,
}

impl State {
    fn expected(&self) -> &'static str {
        match self {
            State::ExpectHello => "HELLO",
            State::AwaitZapReply => "nothing until the ZAP handler has replied",
            State::ExpectInitiate { .. } => "INITIATE",
            State::Done => "nothing more",
        }
    }
}

/// The PLAIN server's handshake.
#[derive(Debug)]
pub struct PlainServer {
    /// Whether a ZAP handler is asked; without one every client is refused.
    zap_handler: bool,
    /// The ZAP domain put in each request.
    zap_domain: Bytes,
    /// Our metadata, sent in READY.
    metadata: Metadata,
    state: State,
}

impl PlainServer {
    /// A server handshake that announces `metadata`; it asks the ZAP handler
    /// (in `zap_domain`) about each client, or refuses every client when there is
    /// no handler.
    pub fn new(zap_handler: bool, zap_domain: Bytes, metadata: Metadata) -> PlainServer {
        PlainServer {
            zap_handler,
            zap_domain,
            metadata,
            state: State::ExpectHello,
        }
    }

    /// Checks HELLO's data and asks the ZAP handler about its credentials.
    fn handle_hello(&mut self, data: &Bytes) -> Result<Progress, ProtocolError> {
        let (username, password) = parse_hello(data)?;
        if !self.zap_handler {
            self.state = State::Done;
            return Err(ProtocolError::NoZapHandler);
        }
        self.state = State::AwaitZapReply;
        Ok(Progress::Authenticate(ZapRequest {
            domain: self.zap_domain.clone(),
            address: Bytes::new(),
            identity: Bytes::new(),
            mechanism: MechanismName::PLAIN,
            credentials: vec![username, password],
        }))
    }

    /// Answers INITIATE with READY and reports the client's metadata, merged with
    /// what the ZAP handler said.
    fn handle_initiate(
        &mut self,
        data: &Bytes,
        user_id: Bytes,
        zap_metadata: &Metadata,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        let client = Metadata::parse(data)?;
        Command::Ready(std::mem::take(&mut self.metadata)).encode(out);
        self.state = State::Done;
        Ok(Progress::Ready(authenticated_metadata(
            &client,
            &user_id,
            zap_metadata,
        )))
    }
}

/// HELLO's data: a user name and a password, each after a one-byte length, with
/// nothing before, between or after them (libzmq refuses anything else). The
/// credentials are copied out of the frame.
fn parse_hello(data: &Bytes) -> Result<(Bytes, Bytes), ProtocolError> {
    let malformed = |reason| ProtocolError::MalformedCommand {
        command: "HELLO",
        reason,
    };
    let mut reader = Reader::new(data);
    let username_length = reader.u8().ok_or(malformed("no user name"))?;
    let username = reader
        .take(usize::from(username_length))
        .ok_or(malformed("the user name runs past the end"))?;
    let password_length = reader.u8().ok_or(malformed("no password"))?;
    let password = reader
        .take(usize::from(password_length))
        .ok_or(malformed("the password runs past the end"))?;
    if !reader.is_empty() {
        return Err(malformed("bytes after the password"));
    }
    Ok((
        Bytes::copy_from_slice(username),
        Bytes::copy_from_slice(password),
    ))
}

impl Mechanism for PlainServer {
    fn name(&self) -> MechanismName {
        MechanismName::PLAIN
    }

    fn as_server(&self) -> bool {
        true
    }

    fn handle_start(&mut self, _out: &mut Encoder) -> Result<Progress, ProtocolError> {
        // The client speaks first.
        Ok(Progress::Continue)
    }

    fn handle_command(
        &mut self,
        body: &Bytes,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        let (name, data) = split_name(body)?;
        if name.as_ref() == b"ERROR" && self.state != State::Done {
            self.state = State::Done;
            return Err(peer_error(body));
        }
        match (
            std::mem::replace(&mut self.state, State::Done),
            name.as_ref(),
        ) {
            (State::ExpectHello, b"HELLO") => self.handle_hello(&data),
            (
                State::ExpectInitiate {
                    user_id,
                    zap_metadata,
                },
                b"INITIATE",
            ) => self.handle_initiate(&data, user_id, &zap_metadata, out),
            (state, _) => Err(ProtocolError::UnexpectedCommand {
                mechanism: "PLAIN",
                command: printable(&name),
                expected: state.expected(),
            }),
        }
    }

    fn handle_zap_reply(
        &mut self,
        reply: ZapReply,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        if self.state != State::AwaitZapReply {
            return Err(ProtocolError::UnexpectedZapReply);
        }
        self.state = State::Done;
        if reply.allowed() {
            command(b"WELCOME", Bytes::new()).encode(out);
            self.state = State::ExpectInitiate {
                user_id: reply.user_id,
                zap_metadata: reply.metadata,
            };
            return Ok(Progress::Continue);
        }
        Err(refuse(&reply, out))
    }

    fn handle_zap_unavailable(&mut self, _out: &mut Encoder) -> Result<Progress, ProtocolError> {
        if self.state != State::AwaitZapReply {
            return Err(ProtocolError::UnexpectedZapReply);
        }
        // libzmq 4.3: without a handler a PLAIN server admits no one, and sends
        // no ERROR.
        self.state = State::Done;
        Err(ProtocolError::NoZapHandler)
    }
}
