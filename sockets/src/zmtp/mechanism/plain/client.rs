//! PLAIN's client role: HELLO with the credentials, then INITIATE with our
//! metadata once WELCOME has come, then the server's READY (RFC 24), as
//! libzmq 4.3's `plain_client.cpp` runs it.
//!
//! WELCOME must carry nothing after its name (libzmq: "malformed WELCOME"), and
//! an ERROR is taken only while waiting for WELCOME or READY, in RFC 23's
//! spelling or in libzmq 4.3 PLAIN's (`0x5E "RROR"`). This file must never
//! send INITIATE before WELCOME, nor report the server ready before its READY.

use super::{MAX_CREDENTIAL_LENGTH, command, libzmq_plain_error, metadata_bytes, peer_error};
use crate::zmtp::ProtocolError;
use crate::zmtp::command::{Metadata, split_name};
use crate::zmtp::encoder::Encoder;
use crate::zmtp::error::printable;
use crate::zmtp::greeting::MechanismName;
use crate::zmtp::mechanism::{Mechanism, Progress};
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// Where the client's handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// HELLO is sent (or about to be); WELCOME or ERROR is next.
    ExpectWelcome,
    /// INITIATE is sent; READY or ERROR is next.
    ExpectReady,
    /// READY has come (or the handshake failed): nothing more is taken.
    Done,
}

impl State {
    fn expected(self) -> &'static str {
        match self {
            State::ExpectWelcome => "WELCOME or ERROR",
            State::ExpectReady => "READY or ERROR",
            State::Done => "nothing more",
        }
    }
}

/// The PLAIN client's handshake.
pub struct PlainClient {
    username: Bytes,
    password: Bytes,
    /// Our metadata, sent in INITIATE.
    metadata: Metadata,
    state: State,
}

impl PlainClient {
    /// A client handshake that sends these credentials (each cut to 255 bytes)
    /// and announces `metadata`.
    pub fn new(username: Bytes, password: Bytes, metadata: Metadata) -> PlainClient {
        PlainClient {
            username,
            password,
            metadata,
            state: State::ExpectWelcome,
        }
    }

    /// HELLO's data: the user name and the password, each after a one-byte length.
    fn hello(&self) -> Bytes {
        let mut data = BytesMut::with_capacity(2 + self.username.len() + self.password.len());
        for credential in [&self.username, &self.password] {
            let credential = credential
                .get(..MAX_CREDENTIAL_LENGTH)
                .unwrap_or(credential.as_ref());
            data.put_u8(u8::try_from(credential.len()).unwrap_or(u8::MAX));
            data.put_slice(credential);
        }
        data.freeze()
    }
}

impl fmt::Debug for PlainClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PlainClient")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("state", &self.state)
            .finish()
    }
}

impl Mechanism for PlainClient {
    fn name(&self) -> MechanismName {
        MechanismName::PLAIN
    }

    fn as_server(&self) -> bool {
        false
    }

    fn handle_start(&mut self, out: &mut Encoder) -> Result<Progress, ProtocolError> {
        command(b"HELLO", self.hello()).encode(out);
        Ok(Progress::Continue)
    }

    fn handle_command(
        &mut self,
        body: &Bytes,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        if matches!(self.state, State::ExpectWelcome | State::ExpectReady)
            && let Some(error) = libzmq_plain_error(body)
        {
            self.state = State::Done;
            return Err(error);
        }
        let (name, data) = split_name(body)?;
        match (self.state, name.as_ref()) {
            (State::ExpectWelcome | State::ExpectReady, b"ERROR") => {
                self.state = State::Done;
                Err(peer_error(body))
            }
            (State::ExpectWelcome, b"WELCOME") => {
                if !data.is_empty() {
                    return Err(ProtocolError::MalformedCommand {
                        command: "WELCOME",
                        reason: "WELCOME carries no data in PLAIN",
                    });
                }
                let metadata = std::mem::take(&mut self.metadata);
                command(b"INITIATE", metadata_bytes(&metadata)).encode(out);
                self.state = State::ExpectReady;
                Ok(Progress::Continue)
            }
            (State::ExpectReady, b"READY") => {
                let metadata = Metadata::parse(&data)?;
                self.state = State::Done;
                Ok(Progress::Ready(metadata))
            }
            (state, _) => Err(ProtocolError::UnexpectedCommand {
                mechanism: "PLAIN",
                command: printable(&name),
                expected: state.expected(),
            }),
        }
    }
}
