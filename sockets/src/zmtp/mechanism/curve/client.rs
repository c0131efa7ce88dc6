//! CURVE's client side (libzmq's `curve_client_t` and `curve_client_tools_t`):
//! HELLO, then WELCOME in, INITIATE out, then READY in.
//!
//! HELLO carries a fresh short-term key C' and a box of 64 zero bytes that only the
//! server's long-term secret opens; WELCOME returns the server's short-term key S'
//! and a cookie; INITIATE echoes the cookie and boxes our long-term key C, the
//! vouch (a box from C to S' of C' and S) and our metadata; READY boxes the
//! server's metadata. An ERROR from the server ends the handshake. This file must
//! never send a frame in the clear after HELLO, and never report the server ready
//! before its READY box has opened.

use super::boxes::{
    LONG_NONCE_LENGTH, long_nonce, no_randomness, open_copy, precompute, random_nonce, seal_parts,
    short_nonce,
};
use super::encoding::Encoding;
use super::secretbox::SecretBox;
use super::{
    HELLO, HELLO_NONCE, HELLO_PADDING, HELLO_SIZE, INITIATE, INITIATE_NONCE, MESSAGE_CLIENT_NONCE,
    MESSAGE_SERVER_NONCE, NAME, READY, READY_MIN_SIZE, READY_NONCE, VERSION, VOUCH_NONCE, WELCOME,
    WELCOME_NONCE, WELCOME_SIZE,
};
use crate::curve::{KEY_LENGTH, KeyPair, PublicKey};
use crate::zmtp::ProtocolError;
use crate::zmtp::command::{Command, Metadata, split_name};
use crate::zmtp::encoder::Encoder;
use crate::zmtp::error::printable;
use crate::zmtp::frame::Frame;
use crate::zmtp::greeting::MechanismName;
use crate::zmtp::mechanism::zap::error_from_peer;
use crate::zmtp::mechanism::{Mechanism, Progress};
use crate::zmtp::reader::Reader;
use bytes::{Bytes, BytesMut};
use crypto_box::SalsaBox;
use std::fmt;

/// The CURVE client's handshake and, once it is done, its MESSAGE boxes.
#[derive(Debug)]
pub struct CurveClient {
    /// The server's long-term public key (S).
    server_key: PublicKey,
    /// Our metadata, sent in INITIATE.
    metadata: Metadata,
    state: State,
}

/// Where the client's handshake is.
enum State {
    /// HELLO is not sent yet.
    Start { keys: KeyPair },
    /// HELLO is sent.
    ExpectWelcome(Box<Hello>),
    /// INITIATE is sent.
    ExpectReady { encoding: Encoding },
    /// The server is ready: frames travel as MESSAGE.
    Ready { encoding: Encoding },
    /// The handshake failed.
    Failed,
}

/// What the client keeps between HELLO and WELCOME.
struct Hello {
    /// Our long-term key pair (C, c).
    keys: KeyPair,
    /// Our short-term key pair (C', c').
    short: KeyPair,
    /// The box of c' and S, which HELLO went out in and WELCOME comes back in.
    hello: SalsaBox,
}

impl fmt::Debug for State {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            State::Start { .. } => "Start",
            State::ExpectWelcome(_) => "ExpectWelcome",
            State::ExpectReady { .. } => "ExpectReady",
            State::Ready { .. } => "Ready",
            State::Failed => "Failed",
        })
    }
}

impl CurveClient {
    /// A client with long-term `keys` for the server whose long-term public key is
    /// `server_key`, that will announce `metadata`.
    pub fn new(keys: KeyPair, server_key: PublicKey, metadata: Metadata) -> CurveClient {
        CurveClient {
            server_key,
            metadata,
            state: State::Start { keys },
        }
    }

    /// Opens WELCOME and queues INITIATE.
    fn handle_welcome(
        &self,
        sent: Hello,
        body: &Bytes,
        out: &mut Encoder,
    ) -> Result<State, ProtocolError> {
        if body.len() != WELCOME_SIZE {
            return Err(ProtocolError::MalformedCommand {
                command: "WELCOME",
                reason: "not 168 bytes long",
            });
        }
        let mut reader = Reader::new(body);
        reader.take(WELCOME.len());
        let random = reader.array::<LONG_NONCE_LENGTH>().unwrap_or_default();
        let nonce = long_nonce(WELCOME_NONCE, &random);
        let plaintext = open_copy(&sent.hello, &nonce, reader.rest(), "WELCOME box")?;
        let Hello { keys, short, .. } = sent;
        // S' (32 bytes) then the cookie (96 bytes), as the size check guarantees.
        let mut contents = Reader::new(&plaintext);
        let server_short =
            PublicKey::from_bytes(contents.array::<KEY_LENGTH>().unwrap_or_default());
        let cookie = contents.rest();
        let mut encoding = Encoding::new(
            SecretBox::precompute(&server_short, short.secret()),
            MESSAGE_CLIENT_NONCE,
            MESSAGE_SERVER_NONCE,
            // HELLO took nonce 1.
            2,
            1,
        );
        let vouch_random = random_nonce()?;
        let vouch = seal_parts(
            &precompute(&server_short, keys.secret()),
            &long_nonce(VOUCH_NONCE, &vouch_random),
            &[short.public().as_bytes(), self.server_key.as_bytes()],
        );
        let mut metadata = BytesMut::new();
        self.metadata.write(&mut metadata);
        let initiate = encoding.seal(
            INITIATE_NONCE,
            &[INITIATE, cookie],
            &[keys.public().as_bytes(), &vouch_random, &vouch, &metadata],
        );
        out.frame(false, true, &initiate);
        Ok(State::ExpectReady { encoding })
    }
}

impl Mechanism for CurveClient {
    fn name(&self) -> MechanismName {
        MechanismName::CURVE
    }

    fn as_server(&self) -> bool {
        false
    }

    fn handle_start(&mut self, out: &mut Encoder) -> Result<Progress, ProtocolError> {
        let keys = match std::mem::replace(&mut self.state, State::Failed) {
            State::Start { keys } => keys,
            // Started already: HELLO went out once.
            other => {
                self.state = other;
                return Ok(Progress::Continue);
            }
        };
        let short = KeyPair::generate().map_err(no_randomness)?;
        let hello = precompute(&self.server_key, short.secret());
        let nonce = 1u64;
        let signature = seal_parts(&hello, &short_nonce(HELLO_NONCE, nonce), &[&[0; 64]]);
        let mut body = Vec::with_capacity(HELLO_SIZE);
        body.extend_from_slice(HELLO);
        body.extend_from_slice(&VERSION);
        body.extend_from_slice(&[0; HELLO_PADDING]);
        body.extend_from_slice(short.public().as_bytes());
        body.extend_from_slice(&nonce.to_be_bytes());
        body.extend_from_slice(&signature);
        out.frame_from_slice(false, true, &body);
        self.state = State::ExpectWelcome(Box::new(Hello { keys, short, hello }));
        Ok(Progress::Continue)
    }

    fn handle_command(
        &mut self,
        body: &Bytes,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        let (name, _) = split_name(body)?;
        let state = std::mem::replace(&mut self.state, State::Failed);
        match (state, name.as_ref()) {
            (State::ExpectWelcome(_) | State::ExpectReady { .. }, b"ERROR") => {
                Err(peer_error(body))
            }
            (State::ExpectWelcome(sent), b"WELCOME") => {
                self.state = self.handle_welcome(*sent, body, out)?;
                Ok(Progress::Continue)
            }
            (State::ExpectReady { mut encoding }, b"READY") => {
                if body.len() < READY_MIN_SIZE {
                    return Err(ProtocolError::MalformedCommand {
                        command: "READY",
                        reason: "shorter than its nonce and tag",
                    });
                }
                let mut reader = Reader::new(body);
                reader.take(READY.len());
                let nonce = reader.u64().unwrap_or_default();
                let plaintext =
                    encoding.open_command(READY_NONCE, nonce, reader.rest(), "READY box")?;
                let metadata = Metadata::parse(&Bytes::copy_from_slice(&plaintext))?;
                self.state = State::Ready { encoding };
                Ok(Progress::Ready(metadata))
            }
            (State::ExpectWelcome(_), _) => Err(unexpected("WELCOME", &name)),
            (State::ExpectReady { .. }, _) => Err(unexpected("READY", &name)),
            (State::Ready { .. } | State::Start { .. } | State::Failed, _) => {
                Err(unexpected("nothing", &name))
            }
        }
    }

    fn encode_frame(&mut self, more: bool, command: bool, body: &Bytes, out: &mut Encoder) {
        // Before READY there is no box to put a frame in, and nothing goes out
        // in the clear.
        if let State::Ready { encoding } = &mut self.state {
            encoding.encode(more, command, body, out);
        }
    }

    fn decode_frame(&mut self, frame: Frame) -> Result<Frame, ProtocolError> {
        match &mut self.state {
            State::Ready { encoding } => encoding.decode(frame),
            _ => Err(ProtocolError::MessageBeforeReady),
        }
    }
}

/// A command other than the one the handshake expects.
pub(super) fn unexpected(expected: &'static str, name: &[u8]) -> ProtocolError {
    ProtocolError::UnexpectedCommand {
        mechanism: NAME,
        command: printable(name),
        expected,
    }
}

/// The peer's ERROR: a ZAP status code (300, 400, 500) is libzmq's refusal of this
/// client (its `handle_error_reason` reports it as an authentication failure).
pub(super) fn peer_error(body: &Bytes) -> ProtocolError {
    let reason = match Command::parse(body) {
        Ok(Command::Error { reason }) => reason,
        _ => Bytes::new(),
    };
    error_from_peer(&reason)
}
