//! The handshake, one type per state: each state is consumed by its handler, which
//! returns the next state (or asks to wait for more bytes).
//!
//! `ExpectSignature` waits for the peer's first 11 bytes (signature and major
//! version) and only then sends the other 53 bytes of our greeting, as libzmq paces
//! it. `ExpectGreetingRest` reads the rest of the peer's greeting and starts the
//! mechanism. `ExpectReady` feeds command frames to the mechanism until it reports
//! the peer ready, then checks the peer's metadata (socket type, routing id). When
//! a server mechanism needs the ZAP handler's verdict, `AwaitZapReply` holds the
//! request for the connection's owner and takes no input until the reply (or the
//! news that no handler is bound) is handed in. This file must never send anything
//! but greeting bytes and mechanism commands, and never accept a message frame
//! before the handshake is done.

use super::ProtocolError;
use super::buffer::ReceiveBuffer;
use super::command::{IDENTITY_PROPERTY, Metadata, SOCKET_TYPE_PROPERTY};
use super::encoder::Encoder;
use super::error::printable;
use super::frame::Decoder;
use super::greeting::{
    FIRST_PART_LENGTH, Greeting, PeerGreeting, Revision, SECOND_PART_LENGTH, SIGNATURE_LENGTH,
    check_major, check_signature,
};
use super::mechanism::{Mechanism, Progress, ZapReply, ZapRequest};
use super::socket_type::SocketType;
use bytes::Bytes;

/// The largest command frame a peer may send before the handshake is complete.
pub const MAX_HANDSHAKE_COMMAND_SIZE: u64 = 64 * 1024;

/// What the handshake states work on: the connection's buffers and mechanism.
#[derive(Debug)]
pub(crate) struct HandshakeIo<'a> {
    pub input: &'a mut ReceiveBuffer,
    pub output: &'a mut Encoder,
    pub decoder: &'a mut Decoder,
    pub mechanism: &'a mut dyn Mechanism,
    pub greeting: &'a Greeting,
    pub socket_type: SocketType,
}

/// The result of feeding a state: wait in it for more bytes, or move on.
#[derive(Debug)]
pub(crate) enum Step<Here> {
    /// More bytes are needed in this state.
    Wait(Here),
    /// The state is done; this is the next one.
    Next(Handshake),
}

/// Everything the peer told us by the end of the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's socket type.
    pub socket_type: SocketType,
    /// The peer's routing id, if it sent a non-empty one.
    pub routing_id: Option<Bytes>,
    /// Every property the peer sent.
    pub metadata: Metadata,
    /// The ZMTP revision spoken with the peer.
    pub revision: Revision,
}

/// The handshake's states, in order.
#[derive(Debug)]
pub(crate) enum Handshake {
    /// Waiting for the peer's signature and major version.
    Signature(ExpectSignature),
    /// Waiting for the rest of the peer's greeting.
    GreetingRest(ExpectGreetingRest),
    /// The mechanism's commands are being exchanged.
    Ready(ExpectReady),
    /// The mechanism waits for the ZAP handler's verdict on the client.
    Authenticating(AwaitZapReply),
    /// The handshake is complete.
    Done(PeerInfo),
}

impl Handshake {
    /// The first state: our first 11 greeting bytes are already queued.
    pub(crate) fn start() -> Handshake {
        Handshake::Signature(ExpectSignature)
    }

    /// Feeds the current state until it needs more bytes or the handshake is done.
    pub(crate) fn advance(mut self, io: &mut HandshakeIo<'_>) -> Result<Handshake, ProtocolError> {
        loop {
            let step = match self {
                Handshake::Signature(state) => state.handle(io)?.map(Handshake::Signature),
                Handshake::GreetingRest(state) => state.handle(io)?.map(Handshake::GreetingRest),
                Handshake::Ready(state) => state.handle(io)?.map(Handshake::Ready),
                Handshake::Authenticating(_) | Handshake::Done(_) => return Ok(self),
            };
            match step {
                Step::Wait(state) => return Ok(state),
                Step::Next(next) => self = next,
            }
        }
    }

    /// Whether the peer's greeting is complete, so it can read ZMTP frames (and an
    /// ERROR command is worth sending before closing).
    pub(crate) fn peer_can_read_frames(&self) -> bool {
        matches!(
            self,
            Handshake::Ready(_) | Handshake::Authenticating(_) | Handshake::Done(_)
        )
    }

    /// Whether the mechanism waits for the ZAP handler (input waits meanwhile).
    pub(crate) fn awaits_zap(&self) -> bool {
        matches!(self, Handshake::Authenticating(_))
    }

    /// The ZAP request the mechanism made, once: the owner sends it on.
    pub(crate) fn take_zap_request(&mut self) -> Option<ZapRequest> {
        match self {
            Handshake::Authenticating(state) => state.request.take(),
            _ => None,
        }
    }

    /// Hands the mechanism the ZAP handler's reply (`Some`) or the news that no
    /// handler is bound (`None`), then goes on as far as buffered input allows.
    pub(crate) fn resume_after_zap(
        self,
        reply: Option<ZapReply>,
        io: &mut HandshakeIo<'_>,
    ) -> Result<Handshake, ProtocolError> {
        let Handshake::Authenticating(state) = self else {
            return Err(ProtocolError::UnexpectedZapReply);
        };
        let progress = match reply {
            Some(reply) => io.mechanism.handle_zap_reply(reply, io.output)?,
            None => io.mechanism.handle_zap_unavailable(io.output)?,
        };
        let ready = ExpectReady {
            revision: state.revision,
        };
        match ready.on_progress(progress, io)? {
            Step::Wait(ready) => Handshake::Ready(ready).advance(io),
            Step::Next(next) => next.advance(io),
        }
    }
}

impl<Here> Step<Here> {
    fn map<Other>(self, wrap: impl FnOnce(Here) -> Other) -> Step<Other> {
        match self {
            Step::Wait(state) => Step::Wait(wrap(state)),
            Step::Next(next) => Step::Next(next),
        }
    }
}

/// Waiting for the peer's first 11 bytes.
#[derive(Debug)]
pub(crate) struct ExpectSignature;

impl ExpectSignature {
    fn handle(self, io: &mut HandshakeIo<'_>) -> Result<Step<Self>, ProtocolError> {
        let data = io.input.data();
        // A ZMTP 1.0 peer starts with a short length, not 0xFF: refuse it at once
        // rather than wait for bytes it may never send.
        if let Some(&first) = data.first()
            && first != 0xFF
        {
            let ninth = data.get(SIGNATURE_LENGTH - 1).copied().unwrap_or(0);
            return Err(ProtocolError::LegacySignature { first, ninth });
        }
        let Some(signature) = data
            .get(..SIGNATURE_LENGTH)
            .and_then(|bytes| <&[u8; SIGNATURE_LENGTH]>::try_from(bytes).ok())
        else {
            return Ok(Step::Wait(self));
        };
        check_signature(signature)?;
        let Some(&major) = data.get(SIGNATURE_LENGTH) else {
            return Ok(Step::Wait(self));
        };
        check_major(major)?;
        io.input.consume(FIRST_PART_LENGTH);
        io.output.raw(&io.greeting.second_part());
        Ok(Step::Next(Handshake::GreetingRest(ExpectGreetingRest {
            major,
        })))
    }
}

/// Waiting for the last 53 bytes of the peer's greeting.
#[derive(Debug)]
pub(crate) struct ExpectGreetingRest {
    major: u8,
}

impl ExpectGreetingRest {
    fn handle(self, io: &mut HandshakeIo<'_>) -> Result<Step<Self>, ProtocolError> {
        let Some(rest) = io
            .input
            .data()
            .get(..SECOND_PART_LENGTH)
            .and_then(|bytes| <&[u8; SECOND_PART_LENGTH]>::try_from(bytes).ok())
        else {
            return Ok(Step::Wait(self));
        };
        let peer = PeerGreeting::parse(self.major, rest);
        io.input.consume(SECOND_PART_LENGTH);
        let ours = io.mechanism.name();
        if peer.mechanism != ours {
            return Err(ProtocolError::MechanismMismatch {
                ours: ours.to_text(),
                peer: peer.mechanism.to_text(),
            });
        }
        io.decoder
            .set_max_command_size(Some(MAX_HANDSHAKE_COMMAND_SIZE));
        let progress = io.mechanism.handle_start(io.output)?;
        let ready = ExpectReady {
            revision: peer.revision,
        };
        match ready.on_progress(progress, io)? {
            Step::Wait(ready) => Ok(Step::Next(Handshake::Ready(ready))),
            Step::Next(next) => Ok(Step::Next(next)),
        }
    }
}

/// The mechanism's handshake is running; waiting for the peer to be ready.
#[derive(Debug)]
pub(crate) struct ExpectReady {
    revision: Revision,
}

impl ExpectReady {
    fn handle(mut self, io: &mut HandshakeIo<'_>) -> Result<Step<Self>, ProtocolError> {
        loop {
            let Some(frame) = io.decoder.decode(io.input)? else {
                return Ok(Step::Wait(self));
            };
            if !frame.command {
                return Err(ProtocolError::MessageBeforeReady);
            }
            if frame.more {
                return Err(ProtocolError::CommandWithMore);
            }
            let progress = io.mechanism.handle_command(&frame.body, io.output)?;
            match self.on_progress(progress, io)? {
                Step::Wait(same) => self = same,
                next @ Step::Next(_) => return Ok(next),
            }
        }
    }

    /// Goes on from what the mechanism said: stay for more commands, finish, or
    /// stop for the ZAP handler.
    fn on_progress(
        self,
        progress: Progress,
        io: &mut HandshakeIo<'_>,
    ) -> Result<Step<Self>, ProtocolError> {
        match progress {
            Progress::Continue => Ok(Step::Wait(self)),
            Progress::Ready(metadata) => {
                io.decoder.set_max_command_size(None);
                let peer = check_peer(io.socket_type, metadata, self.revision)?;
                Ok(Step::Next(Handshake::Done(peer)))
            }
            Progress::Authenticate(request) => {
                Ok(Step::Next(Handshake::Authenticating(AwaitZapReply {
                    revision: self.revision,
                    request: Some(request),
                })))
            }
        }
    }
}

/// The mechanism asked the ZAP handler about the client; waiting for the answer.
#[derive(Debug)]
pub(crate) struct AwaitZapReply {
    revision: Revision,
    /// The request, until the owner takes it.
    request: Option<ZapRequest>,
}

/// Checks the peer's metadata: a known, compatible socket type and a valid routing id.
fn check_peer(
    ours: SocketType,
    metadata: Metadata,
    revision: Revision,
) -> Result<PeerInfo, ProtocolError> {
    let name = metadata
        .get(SOCKET_TYPE_PROPERTY)
        .ok_or(ProtocolError::MissingSocketType)?;
    let socket_type =
        SocketType::from_wire_name(name).ok_or_else(|| ProtocolError::UnknownSocketType {
            name: printable(name),
        })?;
    if !ours.is_compatible(socket_type) {
        return Err(ProtocolError::IncompatibleSocketType {
            ours,
            peer: socket_type,
        });
    }
    let routing_id = match metadata.get(IDENTITY_PROPERTY) {
        Some(id) if id.len() > 255 => {
            return Err(ProtocolError::InvalidRoutingId { length: id.len() });
        }
        Some(id) if !id.is_empty() => Some(id.clone()),
        _ => None,
    };
    Ok(PeerInfo {
        socket_type,
        routing_id,
        metadata,
        revision,
    })
}
