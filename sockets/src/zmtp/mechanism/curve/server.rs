//! CURVE's server side (libzmq's `curve_server_t`): HELLO in, WELCOME out,
//! INITIATE in, then READY (or ERROR) out, with an optional question to ZAP.
//!
//! HELLO must open with our long-term secret key; WELCOME gives the client a fresh
//! short-term key S' and a cookie (C' and s' boxed under a key drawn for this
//! handshake); INITIATE must echo that cookie, open with s', and carry a vouch that
//! binds the client's long-term key C to C' and to our key S. Then the ZAP handler
//! is asked about C when the server is set to ask, and READY or ERROR goes out.
//! libzmq sends no ERROR for a broken HELLO or INITIATE (the connection just
//! closes), ERROR with the status code for a ZAP 400 or 500, and nothing for a ZAP
//! 300. This file must never answer before a box has opened, and never keep the
//! cookie key or s' once INITIATE has been checked.

use super::boxes::{
    LONG_NONCE_LENGTH, long_nonce, no_randomness, open_copy, precompute, random_key, random_nonce,
    seal_parts, secret_box, short_nonce,
};
use super::client::{peer_error, unexpected};
use super::encoding::Encoding;
use super::secretbox::SecretBox;
use super::{
    COOKIE_NONCE, COOKIE_SIZE, HELLO, HELLO_NONCE, HELLO_PADDING, HELLO_SIZE, INITIATE,
    INITIATE_MIN_SIZE, INITIATE_NONCE, MESSAGE_CLIENT_NONCE, MESSAGE_SERVER_NONCE, READY,
    READY_NONCE, VERSION, VOUCH_NONCE, VOUCH_SIZE, WELCOME, WELCOME_NONCE, WELCOME_SIZE,
};
use crate::curve::{KEY_LENGTH, KeyPair, PublicKey};
use crate::zmtp::ProtocolError;
use crate::zmtp::command::{Metadata, split_name};
use crate::zmtp::encoder::Encoder;
use crate::zmtp::frame::Frame;
use crate::zmtp::greeting::MechanismName;
use crate::zmtp::mechanism::zap::refuse;
use crate::zmtp::mechanism::{Mechanism, Progress, USER_ID_PROPERTY, ZapReply, ZapRequest};
use crate::zmtp::reader::Reader;
use bytes::{Bytes, BytesMut};
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The CURVE server's handshake and, once it is done, its MESSAGE boxes.
#[derive(Debug)]
pub struct CurveServer {
    /// Our long-term key pair (S, s).
    keys: KeyPair,
    /// Whether to ask the ZAP handler about each client.
    zap: bool,
    /// Without a handler to ask: refuse (true) or admit every client.
    enforce_domain: bool,
    /// Our metadata, sent in READY.
    metadata: Metadata,
    state: State,
}

/// Where the server's handshake is.
enum State {
    /// Waiting for HELLO.
    ExpectHello,
    /// WELCOME is sent.
    ExpectInitiate(Box<Welcome>),
    /// INITIATE checked out; the ZAP handler's verdict is awaited.
    ExpectZapReply {
        encoding: Encoding,
        metadata: Metadata,
    },
    /// READY is sent: frames travel as MESSAGE.
    Ready { encoding: Encoding },
    /// The handshake failed.
    Failed,
}

/// What the server keeps between WELCOME and INITIATE.
struct Welcome {
    /// The client's short-term public key (C').
    client_short: PublicKey,
    /// Our short-term key pair (S', s').
    short: KeyPair,
    /// The key the cookie is boxed under, drawn for this handshake.
    cookie_key: Zeroizing<[u8; KEY_LENGTH]>,
}

impl fmt::Debug for State {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            State::ExpectHello => "ExpectHello",
            State::ExpectInitiate(_) => "ExpectInitiate",
            State::ExpectZapReply { .. } => "ExpectZapReply",
            State::Ready { .. } => "Ready",
            State::Failed => "Failed",
        })
    }
}

impl CurveServer {
    /// A server with long-term `keys` that asks ZAP about each client if `zap`,
    /// and will announce `metadata`.
    pub fn new(keys: KeyPair, zap: bool, metadata: Metadata) -> CurveServer {
        CurveServer {
            keys,
            zap,
            enforce_domain: false,
            metadata,
            state: State::ExpectHello,
        }
    }

    /// Whether a client is refused when no ZAP handler is bound to ask
    /// (ZMQ_ZAP_ENFORCE_DOMAIN) rather than admitted (libzmq's default).
    pub fn enforcing_domain(mut self, enforce: bool) -> CurveServer {
        self.enforce_domain = enforce;
        self
    }

    /// Opens HELLO and queues WELCOME.
    fn handle_hello(&self, body: &Bytes, out: &mut Encoder) -> Result<State, ProtocolError> {
        if body.len() != HELLO_SIZE {
            return Err(malformed("HELLO", "not 200 bytes long"));
        }
        let mut reader = Reader::new(body);
        reader.take(HELLO.len());
        if reader.array::<2>() != Some(VERSION) {
            return Err(malformed("HELLO", "its CurveZMQ version is not 1.0"));
        }
        // RFC 25 says zeros; libzmq sends zeros but does not check them.
        let padding = reader.take(HELLO_PADDING).unwrap_or_default();
        if padding.iter().any(|&byte| byte != 0) {
            return Err(malformed("HELLO", "its padding is not zero"));
        }
        let client_short = PublicKey::from_bytes(reader.array().unwrap_or_default());
        let nonce = reader.u64().unwrap_or_default();
        let hello = precompute(&client_short, self.keys.secret());
        open_copy(
            &hello,
            &short_nonce(HELLO_NONCE, nonce),
            reader.rest(),
            "HELLO box",
        )
        .map_err(|_| ProtocolError::CurveWrongServerKey)?;

        let short = KeyPair::generate().map_err(no_randomness)?;
        let cookie_key = random_key()?;
        let cookie_random = random_nonce()?;
        let cookie = seal_parts(
            &secret_box(&cookie_key),
            &long_nonce(COOKIE_NONCE, &cookie_random),
            &[client_short.as_bytes(), short.secret().as_bytes()],
        );
        let welcome_random = random_nonce()?;
        let welcome_box = seal_parts(
            &hello,
            &long_nonce(WELCOME_NONCE, &welcome_random),
            &[short.public().as_bytes(), &cookie_random, &cookie],
        );
        let mut welcome = Vec::with_capacity(WELCOME_SIZE);
        welcome.extend_from_slice(WELCOME);
        welcome.extend_from_slice(&welcome_random);
        welcome.extend_from_slice(&welcome_box);
        out.frame_from_slice(false, true, &welcome);
        Ok(State::ExpectInitiate(Box::new(Welcome {
            client_short,
            short,
            cookie_key,
        })))
    }

    /// Checks INITIATE (cookie, box, vouch) and asks ZAP or queues READY.
    fn handle_initiate(
        &self,
        welcome: Box<Welcome>,
        body: &Bytes,
        out: &mut Encoder,
    ) -> Result<(State, Progress), ProtocolError> {
        if body.len() < INITIATE_MIN_SIZE {
            return Err(malformed(
                "INITIATE",
                "shorter than its cookie, nonce and vouch",
            ));
        }
        let mut reader = Reader::new(body);
        reader.take(INITIATE.len());
        let cookie_random = reader.array::<LONG_NONCE_LENGTH>().unwrap_or_default();
        let cookie_box = reader
            .take(COOKIE_SIZE - LONG_NONCE_LENGTH)
            .unwrap_or_default();
        let cookie = open_copy(
            &secret_box(&welcome.cookie_key),
            &long_nonce(COOKIE_NONCE, &cookie_random),
            cookie_box,
            "INITIATE's cookie",
        )?;
        if !holds(
            &cookie,
            &welcome.client_short,
            welcome.short.secret().as_bytes(),
        ) {
            return Err(ProtocolError::CurveKeyMismatch { what: "cookie" });
        }
        let mut encoding = Encoding::new(
            SecretBox::precompute(&welcome.client_short, welcome.short.secret()),
            MESSAGE_SERVER_NONCE,
            MESSAGE_CLIENT_NONCE,
            1,
            0,
        );
        let nonce = reader.u64().unwrap_or_default();
        let plaintext =
            encoding.open_command(INITIATE_NONCE, nonce, reader.rest(), "INITIATE box")?;
        // C (32 bytes), the vouch (96), then metadata, as the size check guarantees.
        let mut contents = Reader::new(&plaintext);
        let client_key = PublicKey::from_bytes(contents.array().unwrap_or_default());
        let vouch_random = contents.array::<LONG_NONCE_LENGTH>().unwrap_or_default();
        let vouch_box = contents
            .take(VOUCH_SIZE - LONG_NONCE_LENGTH)
            .unwrap_or_default();
        let vouch = open_copy(
            &precompute(&client_key, welcome.short.secret()),
            &long_nonce(VOUCH_NONCE, &vouch_random),
            vouch_box,
            "vouch",
        )?;
        // libzmq checks C' only; S is checked too, as RFC 26 has it.
        if !holds(&vouch, &welcome.client_short, self.keys.public().as_bytes()) {
            return Err(ProtocolError::CurveKeyMismatch { what: "vouch" });
        }
        let metadata = Metadata::parse(&Bytes::copy_from_slice(contents.rest()))?;
        // The cookie key and s' are zeroed here, with `welcome`.
        drop(welcome);
        if self.zap {
            let request = ZapRequest {
                domain: Bytes::new(),
                address: Bytes::new(),
                identity: Bytes::new(),
                mechanism: MechanismName::CURVE,
                credentials: vec![Bytes::copy_from_slice(client_key.as_bytes())],
            };
            let state = State::ExpectZapReply { encoding, metadata };
            return Ok((state, Progress::Authenticate(request)));
        }
        self.send_ready(&mut encoding, out);
        Ok((State::Ready { encoding }, Progress::Ready(metadata)))
    }

    /// Queues READY with our metadata.
    fn send_ready(&self, encoding: &mut Encoding, out: &mut Encoder) {
        let mut metadata = BytesMut::new();
        self.metadata.write(&mut metadata);
        let ready = encoding.seal(READY_NONCE, &[READY], &[&metadata]);
        out.frame(false, true, &ready);
    }
}

impl Mechanism for CurveServer {
    fn name(&self) -> MechanismName {
        MechanismName::CURVE
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
        let (name, _) = split_name(body)?;
        let state = std::mem::replace(&mut self.state, State::Failed);
        match (state, name.as_ref()) {
            (State::ExpectHello | State::ExpectInitiate(_), b"ERROR") => Err(peer_error(body)),
            (State::ExpectHello, b"HELLO") => {
                self.state = self.handle_hello(body, out)?;
                Ok(Progress::Continue)
            }
            (State::ExpectInitiate(welcome), b"INITIATE") => {
                let (state, progress) = self.handle_initiate(welcome, body, out)?;
                self.state = state;
                Ok(progress)
            }
            (State::ExpectHello, _) => Err(unexpected("HELLO", &name)),
            (State::ExpectInitiate(_), _) => Err(unexpected("INITIATE", &name)),
            (State::ExpectZapReply { .. }, _) => {
                Err(unexpected("nothing before ZAP's reply", &name))
            }
            (State::Ready { .. } | State::Failed, _) => Err(unexpected("nothing", &name)),
        }
    }

    fn handle_zap_reply(
        &mut self,
        reply: ZapReply,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        let (mut encoding, metadata) = match std::mem::replace(&mut self.state, State::Failed) {
            State::ExpectZapReply { encoding, metadata } => (encoding, metadata),
            other => {
                self.state = other;
                return Err(ProtocolError::UnexpectedZapReply);
            }
        };
        if !reply.allowed() {
            return Err(refuse(&reply, out));
        }
        self.send_ready(&mut encoding, out);
        self.state = State::Ready { encoding };
        // libzmq's ZAP properties (User-Id first) take precedence over the
        // client's: the first property of a name is the one that counts.
        let mut properties = Metadata::new();
        properties.insert(
            Bytes::from_static(USER_ID_PROPERTY.as_bytes()),
            reply.user_id,
        );
        for (name, value) in reply.metadata.iter().chain(metadata.iter()) {
            properties.insert(name.clone(), value.clone());
        }
        Ok(Progress::Ready(properties))
    }

    fn handle_zap_unavailable(&mut self, out: &mut Encoder) -> Result<Progress, ProtocolError> {
        let (mut encoding, metadata) = match std::mem::replace(&mut self.state, State::Failed) {
            State::ExpectZapReply { encoding, metadata } => (encoding, metadata),
            other => {
                self.state = other;
                return Err(ProtocolError::UnexpectedZapReply);
            }
        };
        if self.enforce_domain {
            return Err(ProtocolError::NoZapHandler);
        }
        // libzmq's Stonehouse: encryption without authentication, and no
        // User-Id, since no handler named one.
        self.send_ready(&mut encoding, out);
        self.state = State::Ready { encoding };
        Ok(Progress::Ready(metadata))
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

/// A command whose layout is wrong.
fn malformed(command: &'static str, reason: &'static str) -> ProtocolError {
    ProtocolError::MalformedCommand { command, reason }
}

/// Whether `plaintext` is exactly `first` then `second`, compared in constant time.
fn holds(plaintext: &[u8], first: &PublicKey, second: &[u8; KEY_LENGTH]) -> bool {
    let mut reader = Reader::new(plaintext);
    let head = reader.take(KEY_LENGTH).unwrap_or_default();
    let matches = head.ct_eq(first.as_bytes()) & reader.rest().ct_eq(second);
    matches.into()
}
