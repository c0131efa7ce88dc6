//! `Connection`: one ZMTP connection as a sans-IO state machine.
//!
//! It ties the handshake, the traffic that follows, and a table of named timers.
//! Bytes come in through `read_buffer` + `handle_read` (or `handle_input`), time
//! through `handle_timeout`; decoded traffic comes out of `poll_event`, bytes to
//! write out of `io_slices` (acknowledged with `handle_written`), and the next
//! deadline out of `poll_timeout`. The order that matters: after each `handle_*`,
//! drain `poll_event` and then write. Traffic is decoded lazily in `poll_event`, so a
//! caller that stops polling (its pipe is full) stops consuming input, and input left
//! in the buffer is what pushes back on the peer.
//!
//! Nothing but greeting bytes and mechanism commands is sent until the peer's READY
//! has arrived and been validated (libzmq rejects anything else). This file must
//! never touch a socket, a thread or a clock.

use super::ProtocolError;
use super::buffer::ReceiveBuffer;
use super::command::{Command, IDENTITY_PROPERTY, Metadata, SOCKET_TYPE_PROPERTY};
use super::encoder::Encoder;
use super::frame::Decoder;
use super::frame_body::SHARED_POOL;
use super::greeting::{Greeting, MechanismName, Revision};
use super::handshake::{Handshake, HandshakeIo, PeerInfo};
use super::mechanism::{Mechanism, Security, ZapReply, ZapRequest};
use super::socket_type::SocketType;
use super::timers::{Timer, Timers};
use crate::message::Message;
use bytes::{BufMut, Bytes, BytesMut};
use std::io::IoSlice;
use std::time::{Duration, Instant};

/// libzmq's default ZMQ_HANDSHAKE_IVL.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Heartbeat settings (ZMQ_HEARTBEAT_IVL, ZMQ_HEARTBEAT_TIMEOUT, ZMQ_HEARTBEAT_TTL);
/// off by default, as in libzmq.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heartbeat {
    /// Send a PING this often.
    pub interval: Option<Duration>,
    /// Close if nothing arrives this long after a PING (default: the interval).
    pub timeout: Option<Duration>,
    /// Ask the peer to close if it hears nothing from us for this long.
    pub ttl: Option<Duration>,
}

/// The shortest heartbeat interval: libzmq's options are in milliseconds, and a
/// shorter one would keep the I/O thread busy sending PINGs.
pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(1);

impl Heartbeat {
    /// The settings as libzmq reads them: a zero interval, timeout or TTL means
    /// "not set" (0 is libzmq's default for all three), and an interval is at
    /// least `MIN_HEARTBEAT_INTERVAL`.
    pub fn normalized(self) -> Heartbeat {
        let set = |value: Option<Duration>| value.filter(|value| !value.is_zero());
        Heartbeat {
            interval: set(self.interval).map(|interval| interval.max(MIN_HEARTBEAT_INTERVAL)),
            timeout: set(self.timeout),
            ttl: set(self.ttl),
        }
    }
}

/// What a connection needs to know about its own side.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our socket type, announced in READY and checked against the peer's.
    pub socket_type: SocketType,
    /// Our routing id (ZMQ_ROUTING_ID), sent by REQ, DEALER and ROUTER.
    pub routing_id: Option<Bytes>,
    /// Further properties to announce (ZMQ_METADATA).
    pub metadata: Metadata,
    /// The security mechanism.
    pub security: Security,
    /// ZMQ_MAXMSGSIZE: the most bytes one multipart message may carry.
    pub max_message_size: Option<u64>,
    /// ZMQ_HANDSHAKE_IVL: how long the handshake may take (zero: no limit, as in
    /// libzmq).
    pub handshake_timeout: Option<Duration>,
    /// Heartbeats.
    pub heartbeat: Heartbeat,
}

impl Config {
    /// libzmq's defaults for a socket of type `socket_type`.
    pub fn new(socket_type: SocketType) -> Config {
        Config {
            socket_type,
            routing_id: None,
            metadata: Metadata::new(),
            security: Security::Null,
            max_message_size: None,
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
            heartbeat: Heartbeat::default(),
        }
    }
}

/// Something the peer sent, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake is complete: traffic may flow. Always the first event.
    Ready(PeerInfo),
    /// A whole message.
    Message(Message),
    /// A SUBSCRIBE command (ZMTP 3.1) with its topic prefix.
    Subscribe(Bytes),
    /// A CANCEL command (ZMTP 3.1) with its topic prefix.
    Cancel(Bytes),
}

/// Traffic was offered before the handshake completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection's handshake is not complete")]
pub struct NotReady;

#[derive(Debug)]
enum State {
    Handshake(Handshake),
    Traffic,
    Failed(ProtocolError),
}

/// One ZMTP connection, sans-IO.
#[derive(Debug)]
pub struct Connection {
    state: State,
    socket_type: SocketType,
    greeting: Greeting,
    input: ReceiveBuffer,
    decoder: Decoder,
    output: Encoder,
    mechanism: Box<dyn Mechanism>,
    peer: Option<PeerInfo>,
    ready_pending: bool,
    partial: Message,
    timers: Timers,
    heartbeat: Heartbeat,
    /// Where the last `read_buffer` started, within its target buffer.
    read_start: usize,
    /// Bytes of output written since the connection began.
    written_total: u64,
    /// Where the last PONG queued ends, in the same count: while `written_total`
    /// is short of it, a PONG waits to be written and PINGs get no other (libzmq
    /// keeps at most one PONG waiting, so a peer that sends PINGs and never reads
    /// cannot grow our output).
    pong_end: u64,
}

impl Connection {
    /// A connection that has queued the first 11 bytes of its greeting.
    pub fn new(config: Config, now: Instant) -> Connection {
        let mut metadata = Metadata::new();
        metadata.insert(
            Bytes::from_static(SOCKET_TYPE_PROPERTY.as_bytes()),
            Bytes::from_static(config.socket_type.wire_name().as_bytes()),
        );
        let routing_id = config.routing_id.unwrap_or_default();
        if config.socket_type.sends_routing_id() {
            metadata.insert(
                Bytes::from_static(IDENTITY_PROPERTY.as_bytes()),
                routing_id.clone(),
            );
        }
        for (name, value) in config.metadata.iter() {
            metadata.insert(name.clone(), value.clone());
        }
        let mechanism = config.security.mechanism(metadata);
        let mut decoder = Decoder::new(config.max_message_size);
        if mechanism.name() != MechanismName::CURVE {
            // CURVE opens each box in the frame's own memory, which a pooled
            // frame does not give it; the others hand frames on as they are.
            decoder.set_pool(Some(&SHARED_POOL));
        }
        let greeting = Greeting {
            mechanism: mechanism.name(),
            as_server: mechanism.as_server(),
            routing_id_length: u8::try_from(routing_id.len()).unwrap_or(u8::MAX),
        };
        let mut output = Encoder::new();
        output.raw(&greeting.first_part());
        let heartbeat = config.heartbeat.normalized();
        let mut timers = Timers::default();
        if let Some(timeout) = config
            .handshake_timeout
            .filter(|timeout| !timeout.is_zero())
        {
            timers.set_after(Timer::Handshake, now, timeout);
        }
        Connection {
            state: State::Handshake(Handshake::start()),
            socket_type: config.socket_type,
            greeting,
            input: ReceiveBuffer::new(),
            decoder,
            output,
            mechanism,
            peer: None,
            ready_pending: false,
            partial: Message::new(),
            timers,
            heartbeat,
            read_start: 0,
            written_total: 0,
            pong_end: 0,
        }
    }

    /// Room to read the peer's next bytes into; report them with `handle_read`.
    /// While the ZAP handler is asked about the peer, the room is empty: input
    /// waits in the kernel (pushing back on the peer) until the verdict.
    pub fn read_buffer(&mut self) -> Result<&mut [u8], ProtocolError> {
        match &self.state {
            State::Failed(error) => return Err(error.clone()),
            State::Handshake(handshake) if handshake.awaits_zap() => return Ok(&mut []),
            _ => {}
        }
        let target = self.decoder.read_target(&mut self.input);
        let start = target.received();
        if target.spare().is_err() {
            let error = ProtocolError::OutOfMemory { size: start as u64 };
            return Err(self.fail(error));
        }
        self.read_start = start;
        // The room was made above; asking again does not allocate.
        let target = self.decoder.read_target(&mut self.input);
        Ok(target.spare().unwrap_or(&mut []))
    }

    /// Records that `count` bytes were read into the last `read_buffer`, and runs
    /// the handshake as far as they allow.
    pub fn handle_read(&mut self, count: usize, now: Instant) -> Result<(), ProtocolError> {
        let target = self.decoder.read_target(&mut self.input);
        if target.received() == self.read_start {
            target.commit(count);
        }
        if count > 0 {
            // Anything from the peer counts as liveness.
            self.timers.cancel(Timer::HeartbeatTimeout);
            self.timers.cancel(Timer::HeartbeatTtl);
        }
        self.advance_handshake(now)
    }

    /// Feeds bytes by copying them in (for tests and byte-at-a-time callers).
    pub fn handle_input(&mut self, mut bytes: &[u8], now: Instant) -> Result<(), ProtocolError> {
        while !bytes.is_empty() {
            let spare = self.read_buffer()?;
            let count = spare.len().min(bytes.len());
            let (head, tail) = bytes.split_at(count);
            if let Some(target) = spare.get_mut(..count) {
                target.copy_from_slice(head);
            }
            self.handle_read(count, now)?;
            bytes = tail;
            // Decoding is lazy: drain events before feeding more only if asked to.
            if count == 0 {
                break;
            }
        }
        Ok(())
    }

    /// The next decoded event, if a whole one has arrived.
    pub fn poll_event(&mut self, now: Instant) -> Result<Option<Event>, ProtocolError> {
        match &self.state {
            State::Traffic => {}
            State::Failed(error) => return Err(error.clone()),
            State::Handshake(_) => return Ok(None),
        }
        if self.ready_pending {
            self.ready_pending = false;
            if let Some(peer) = &self.peer {
                return Ok(Some(Event::Ready(peer.clone())));
            }
        }
        loop {
            let frame = match self.decoder.decode(&mut self.input) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(None),
                Err(error) => return Err(self.fail(error)),
            };
            let frame = match self.mechanism.decode_frame(frame) {
                Ok(frame) => frame,
                Err(error) => return Err(self.fail(error)),
            };
            if frame.command {
                match self.handle_command(&frame.body, now) {
                    Ok(Some(event)) => return Ok(Some(event)),
                    Ok(None) => continue,
                    Err(error) => return Err(self.fail(error)),
                }
            }
            if !frame.more && self.partial.is_empty() {
                // A one-frame message, the common case: no detour through `partial`.
                return Ok(Some(Event::Message(Message::from(frame.body))));
            }
            self.partial.push_back(frame.body);
            if !frame.more {
                return Ok(Some(Event::Message(std::mem::take(&mut self.partial))));
            }
        }
    }

    /// The ZAP request (RFC 27) a server mechanism made about the peer, once:
    /// the owner fills in the domain, the address and the identity, asks the
    /// handler, and answers with [`handle_zap_reply`](Self::handle_zap_reply) or
    /// [`handle_zap_unavailable`](Self::handle_zap_unavailable). No input is
    /// taken meanwhile.
    pub fn take_zap_request(&mut self) -> Option<ZapRequest> {
        match &mut self.state {
            State::Handshake(handshake) => handshake.take_zap_request(),
            _ => None,
        }
    }

    /// The ZAP handler's reply about the peer: the handshake goes on, or fails
    /// if the handler refused the peer.
    pub fn handle_zap_reply(&mut self, reply: ZapReply, now: Instant) -> Result<(), ProtocolError> {
        self.step_handshake(now, |handshake, io| {
            handshake.resume_after_zap(Some(reply), io)
        })
    }

    /// No ZAP handler is bound to ask: the mechanism applies libzmq's defaults.
    pub fn handle_zap_unavailable(&mut self, now: Instant) -> Result<(), ProtocolError> {
        self.step_handshake(now, |handshake, io| handshake.resume_after_zap(None, io))
    }

    /// The ZAP exchange failed (a malformed reply, a handler that went away):
    /// the peer is not admitted and the connection fails with `error`.
    pub fn fail_zap(&mut self, error: ProtocolError) -> ProtocolError {
        self.fail_with(error, false)
    }

    /// Whether the handshake is complete and traffic may be sent.
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Traffic)
    }

    /// The peer, once the handshake is complete.
    pub fn peer(&self) -> Option<&PeerInfo> {
        self.peer.as_ref()
    }

    /// The ZMTP revision spoken with the peer, once its greeting has arrived.
    pub fn revision(&self) -> Option<Revision> {
        self.peer.as_ref().map(|peer| peer.revision)
    }

    /// Why the connection failed, if it did.
    pub fn error(&self) -> Option<&ProtocolError> {
        match &self.state {
            State::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// Queues a whole message for the peer.
    pub fn send_message(&mut self, message: &Message) -> Result<(), NotReady> {
        if !self.is_ready() {
            return Err(NotReady);
        }
        let last = message.len().saturating_sub(1);
        for (index, frame) in message.iter().enumerate() {
            self.mechanism
                .encode_frame(index < last, false, frame, &mut self.output);
        }
        Ok(())
    }

    /// Queues a subscription: SUBSCRIBE to a ZMTP 3.1 peer, a data frame starting
    /// with 0x01 to a 3.0 peer.
    pub fn send_subscribe(&mut self, topic: &[u8]) -> Result<(), NotReady> {
        self.send_subscription(true, topic)
    }

    /// Queues a cancellation: CANCEL to a ZMTP 3.1 peer, a data frame starting with
    /// 0x00 to a 3.0 peer.
    pub fn send_cancel(&mut self, topic: &[u8]) -> Result<(), NotReady> {
        self.send_subscription(false, topic)
    }

    fn send_subscription(&mut self, subscribe: bool, topic: &[u8]) -> Result<(), NotReady> {
        let revision = self.revision().ok_or(NotReady)?;
        if !self.is_ready() {
            return Err(NotReady);
        }
        let mut body = BytesMut::with_capacity(topic.len() + 10);
        let command = revision >= Revision::V3_1;
        if command {
            let name: &[u8] = if subscribe { b"SUBSCRIBE" } else { b"CANCEL" };
            body.put_u8(name.len() as u8);
            body.put_slice(name);
        } else {
            body.put_u8(u8::from(subscribe));
        }
        body.put_slice(topic);
        self.mechanism
            .encode_frame(false, command, &body.freeze(), &mut self.output);
        Ok(())
    }

    /// How many bytes wait to be written.
    pub fn pending_output(&self) -> usize {
        self.output.pending()
    }

    /// Fills `slices` with the bytes waiting to be written; returns how many.
    pub fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        self.output.io_slices(slices)
    }

    /// Records that `count` bytes of the output were written.
    pub fn handle_written(&mut self, count: usize) {
        let count = count.min(self.output.pending());
        self.written_total += count as u64;
        self.output.advance(count);
    }

    /// When `handle_timeout` should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Failed(_) => None,
            _ => self.timers.next_deadline(),
        }
    }

    /// Runs the timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ProtocolError> {
        if let State::Failed(error) = &self.state {
            return Err(error.clone());
        }
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::Handshake => return Err(self.fail(ProtocolError::HandshakeTimeout)),
                Timer::HeartbeatTimeout | Timer::HeartbeatTtl => {
                    return Err(self.fail(ProtocolError::HeartbeatTimeout));
                }
                Timer::HeartbeatInterval => self.send_ping(now),
            }
        }
        Ok(())
    }

    fn send_ping(&mut self, now: Instant) {
        let Some(interval) = self.heartbeat.interval else {
            return;
        };
        let ttl_deciseconds = self
            .heartbeat
            .ttl
            .map(|ttl| u16::try_from(ttl.as_millis() / 100).unwrap_or(u16::MAX))
            .unwrap_or(0);
        let ping = Command::Ping {
            ttl_deciseconds,
            context: Bytes::new(),
        };
        // Commands after the handshake go through the mechanism (CURVE boxes them).
        self.mechanism
            .encode_frame(false, true, &ping.body(), &mut self.output);
        self.timers
            .set_after(Timer::HeartbeatInterval, now, interval);
        if !self.timers.is_set(Timer::HeartbeatTimeout) {
            let timeout = self.heartbeat.timeout.unwrap_or(interval);
            self.timers.set_after(Timer::HeartbeatTimeout, now, timeout);
        }
    }

    fn advance_handshake(&mut self, now: Instant) -> Result<(), ProtocolError> {
        self.step_handshake(now, |handshake, io| handshake.advance(io))
    }

    /// Runs `step` on the handshake's state, if the handshake is still on, and
    /// moves to traffic or failure as it says.
    fn step_handshake(
        &mut self,
        now: Instant,
        step: impl FnOnce(Handshake, &mut HandshakeIo<'_>) -> Result<Handshake, ProtocolError>,
    ) -> Result<(), ProtocolError> {
        let handshake = match std::mem::replace(&mut self.state, State::Traffic) {
            State::Handshake(handshake) => handshake,
            other => {
                self.state = other;
                return match &self.state {
                    State::Failed(error) => Err(error.clone()),
                    _ => Ok(()),
                };
            }
        };
        let mut io = HandshakeIo {
            input: &mut self.input,
            output: &mut self.output,
            decoder: &mut self.decoder,
            mechanism: self.mechanism.as_mut(),
            greeting: &self.greeting,
            socket_type: self.socket_type,
        };
        match step(handshake, &mut io) {
            Ok(Handshake::Done(peer)) => {
                self.peer = Some(peer);
                self.ready_pending = true;
                self.state = State::Traffic;
                self.timers.cancel(Timer::Handshake);
                if let Some(interval) = self.heartbeat.interval {
                    self.timers
                        .set_after(Timer::HeartbeatInterval, now, interval);
                }
                Ok(())
            }
            Ok(handshake) => {
                self.state = State::Handshake(handshake);
                Ok(())
            }
            Err(error) => {
                // A peer whose greeting we refused never got our second part and
                // may not speak ZMTP 3: it gets no ERROR. Any later failure does.
                let send_error = !matches!(
                    error,
                    ProtocolError::LegacySignature { .. }
                        | ProtocolError::UnsupportedVersion { .. }
                );
                Err(self.fail_with(error, send_error))
            }
        }
    }

    fn handle_command(
        &mut self,
        body: &Bytes,
        now: Instant,
    ) -> Result<Option<Event>, ProtocolError> {
        match Command::parse(body)? {
            Command::Subscribe(topic) => Ok(Some(Event::Subscribe(topic))),
            Command::Cancel(topic) => Ok(Some(Event::Cancel(topic))),
            Command::Ping {
                ttl_deciseconds,
                context,
            } => {
                if self.written_total >= self.pong_end {
                    let pong = Command::Pong { context };
                    self.mechanism
                        .encode_frame(false, true, &pong.body(), &mut self.output);
                    self.pong_end = self.written_total + self.output.pending() as u64;
                }
                if ttl_deciseconds > 0 {
                    let ttl = Duration::from_millis(u64::from(ttl_deciseconds) * 100);
                    self.timers.set_after(Timer::HeartbeatTtl, now, ttl);
                }
                Ok(None)
            }
            Command::Pong { .. } => Ok(None),
            Command::Error { reason } => Err(ProtocolError::PeerError {
                reason: super::error::printable(&reason),
            }),
            Command::Ready(_) => Err(ProtocolError::DuplicateReady),
            // Be lenient on receive: libzmq ignores unknown commands.
            Command::Other { .. } => Ok(None),
        }
    }

    /// Records a failure, queues an ERROR for the peer if it can read one, and
    /// returns the error.
    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        let peer_can_read = match &self.state {
            State::Handshake(handshake) => handshake.peer_can_read_frames(),
            State::Traffic => true,
            State::Failed(_) => false,
        };
        self.fail_with(error, peer_can_read)
    }

    fn fail_with(&mut self, error: ProtocolError, send_error: bool) -> ProtocolError {
        // A peer's own ERROR needs no answer, and a mechanism that refuses a
        // client has queued what libzmq sends then (an ERROR with the ZAP status
        // code, or nothing).
        let answered = matches!(
            error,
            ProtocolError::PeerError { .. }
                | ProtocolError::AuthenticationFailed { .. }
                | ProtocolError::NoZapHandler
        );
        if send_error && !answered {
            let reason = error.to_string();
            let reason = reason
                .get(..255.min(reason.len()))
                .unwrap_or("protocol error");
            Command::Error {
                reason: Bytes::copy_from_slice(reason.as_bytes()),
            }
            .encode(&mut self.output);
        }
        self.state = State::Failed(error.clone());
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::harness::{Pair, Side, hex, take_output};
    use proptest::prelude::*;

    /// The signature libzmq 4.3 sends first: routing id length 0, plus one.
    const LIBZMQ_SIGNATURE: &str = "ff 00 00 00 00 00 00 00 01 7f";

    /// The last 53 bytes of a libzmq greeting with the NULL mechanism.
    fn libzmq_greeting_rest(minor: u8) -> Vec<u8> {
        let mut rest = vec![minor];
        rest.extend_from_slice(b"NULL");
        rest.resize(1 + 20, 0);
        rest.push(0); // as-server
        rest.resize(53, 0); // filler
        rest
    }

    fn libzmq_greeting(minor: u8) -> Vec<u8> {
        let mut bytes = hex(LIBZMQ_SIGNATURE);
        bytes.push(3);
        bytes.extend(libzmq_greeting_rest(minor));
        bytes
    }

    /// READY as a libzmq PUSH sends it.
    fn push_ready() -> Vec<u8> {
        let mut bytes = hex("04 1a 05");
        bytes.extend_from_slice(b"READY");
        bytes.push(0x0b);
        bytes.extend_from_slice(b"Socket-Type");
        bytes.extend(hex("00 00 00 04"));
        bytes.extend_from_slice(b"PUSH");
        bytes
    }

    fn ready_with(properties: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body = vec![5];
        body.extend_from_slice(b"READY");
        for (name, value) in properties {
            body.push(name.len() as u8);
            body.extend_from_slice(name.as_bytes());
            body.extend((value.len() as u32).to_be_bytes());
            body.extend_from_slice(value);
        }
        let mut frame = vec![0x04, body.len() as u8];
        frame.extend(body);
        frame
    }

    fn events(connection: &mut Connection, now: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(event) = connection.poll_event(now).unwrap() {
            events.push(event);
        }
        events
    }

    /// A PULL connection that completed its handshake with a libzmq PUSH.
    fn ready_pull(now: Instant) -> Connection {
        let mut ours = Connection::new(Config::new(SocketType::Pull), now);
        let mut bytes = libzmq_greeting(1);
        bytes.extend(push_ready());
        ours.handle_input(&bytes, now).unwrap();
        assert!(ours.is_ready());
        take_output(&mut ours);
        events(&mut ours, now);
        ours
    }

    #[test]
    fn libzmq_paced_handshake_reaches_traffic() {
        let now = Instant::now();
        let mut ours = Connection::new(Config::new(SocketType::Pull), now);
        assert_eq!(
            take_output(&mut ours),
            hex("ff 00 00 00 00 00 00 00 01 7f 03"),
            "the first 11 bytes go out at once"
        );
        ours.handle_input(&hex(LIBZMQ_SIGNATURE), now).unwrap();
        assert!(
            take_output(&mut ours).is_empty(),
            "waits for the peer's 11th byte"
        );
        ours.handle_input(&[0x03], now).unwrap();
        let second = take_output(&mut ours);
        assert_eq!(second.len(), 53);
        assert_eq!(second[0], 1, "we announce 3.1");
        assert_eq!(&second[1..5], b"NULL");
        ours.handle_input(&libzmq_greeting_rest(1), now).unwrap();
        let mut expected_ready = hex("04 1a 05");
        expected_ready.extend_from_slice(b"READY\x0bSocket-Type\x00\x00\x00\x04PULL");
        assert_eq!(take_output(&mut ours), expected_ready);
        assert!(!ours.is_ready());
        assert_eq!(ours.send_message(&Message::from("early")), Err(NotReady));
        assert!(events(&mut ours, now).is_empty());
        ours.handle_input(&push_ready(), now).unwrap();
        assert!(ours.is_ready());
        ours.handle_input(&hex("00 05 68 65 6c 6c 6f"), now)
            .unwrap();
        let events = events(&mut ours, now);
        let [Event::Ready(peer), Event::Message(message)] = &events[..] else {
            panic!("unexpected events {events:?}");
        };
        assert_eq!(peer.socket_type, SocketType::Push);
        assert_eq!(peer.revision, Revision::V3_1);
        assert_eq!(peer.routing_id, None);
        assert_eq!(message, &Message::from("hello"));
        // Our side also sends traffic once ready.
        let mut ours_push = Connection::new(Config::new(SocketType::Push), now);
        let mut bytes = libzmq_greeting(1);
        bytes.extend(ready_with(&[("Socket-Type", b"PULL")]));
        ours_push.handle_input(&bytes, now).unwrap();
        take_output(&mut ours_push);
        ours_push.send_message(&Message::from("hi")).unwrap();
        assert_eq!(take_output(&mut ours_push), hex("00 02 68 69"));
    }

    #[test]
    fn pipelined_greeting_ready_and_message_are_accepted() {
        let now = Instant::now();
        let mut ours = Connection::new(Config::new(SocketType::Pull), now);
        let mut bytes = libzmq_greeting(1);
        bytes.extend(push_ready());
        bytes.extend(hex("01 01 61 00 01 62")); // a two-frame message
        ours.handle_input(&bytes, now).unwrap();
        let events = events(&mut ours, now);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1], Event::Message(Message::from_frames(["a", "b"])));
    }

    #[test]
    fn nothing_but_greeting_and_ready_before_the_peers_ready() {
        let now = Instant::now();
        let mut ours = Connection::new(Config::new(SocketType::Push), now);
        ours.handle_input(&libzmq_greeting(1), now).unwrap();
        assert_eq!(ours.send_message(&Message::from("queued")), Err(NotReady));
        assert_eq!(ours.send_subscribe(b"x"), Err(NotReady));
        let output = take_output(&mut ours);
        let mut expected = hex("ff 00 00 00 00 00 00 00 01 7f 03");
        expected.extend(libzmq_greeting_rest(1)); // same layout as ours
        expected.extend(hex("04 1a 05"));
        expected.extend_from_slice(b"READY\x0bSocket-Type\x00\x00\x00\x04PUSH");
        assert_eq!(output, expected);
    }

    #[test]
    fn identity_is_sent_by_dealer_and_read_from_the_peer() {
        let mut config = Config::new(SocketType::Dealer);
        config.routing_id = Some(Bytes::from_static(b"me"));
        let mut pair = Pair::new(config, Config::new(SocketType::Router));
        pair.pump().unwrap();
        let Event::Ready(peer) = &pair.right_events[0] else {
            panic!("no Ready");
        };
        assert_eq!(peer.routing_id.as_deref(), Some(&b"me"[..]));
        let Event::Ready(peer) = &pair.left_events[0] else {
            panic!("no Ready");
        };
        assert_eq!(peer.socket_type, SocketType::Router);
        assert_eq!(peer.routing_id, None, "an empty Identity is no routing id");
    }

    #[test]
    fn legacy_peers_are_refused_with_a_clear_error() {
        let now = Instant::now();
        let mut ours = Connection::new(Config::new(SocketType::Pull), now);
        // ZMTP 1.0: a short length then flags, no 0xFF.
        assert_eq!(
            ours.handle_input(&hex("01 00"), now),
            Err(ProtocolError::LegacySignature { first: 1, ninth: 0 })
        );
        let mut ours = Connection::new(Config::new(SocketType::Pull), now);
        let mut zmtp2 = hex(LIBZMQ_SIGNATURE);
        zmtp2.push(0x01); // ZMTP 2.0's revision byte
        assert_eq!(
            ours.handle_input(&zmtp2, now),
            Err(ProtocolError::UnsupportedVersion { major: 1 })
        );
        assert_eq!(
            take_output(&mut ours),
            hex("ff 00 00 00 00 00 00 00 01 7f 03"),
            "nothing past our first 11 bytes: a downgrade stays possible"
        );
    }

    #[test]
    fn mechanism_mismatch_is_refused() {
        let now = Instant::now();
        let mut ours = Connection::new(Config::new(SocketType::Pull), now);
        let mut greeting = libzmq_greeting(1);
        greeting[12..17].copy_from_slice(b"PLAIN");
        let error = ours.handle_input(&greeting, now).unwrap_err();
        assert!(
            matches!(error, ProtocolError::MechanismMismatch { .. }),
            "{error}"
        );
    }

    #[test]
    fn incompatible_socket_type_gets_error_command() {
        let mut pair = Pair::new(
            Config::new(SocketType::Push),
            Config::new(SocketType::Publish),
        );
        let (side, error) = pair.pump().unwrap_err();
        assert_eq!(side, Side::Right);
        assert_eq!(
            error,
            ProtocolError::IncompatibleSocketType {
                ours: SocketType::Publish,
                peer: SocketType::Push
            }
        );
        // The refusing side queued an ERROR command for its peer, after its READY.
        let output = take_output(&mut pair.right);
        let ready_length = 2 + usize::from(output[1]);
        assert_eq!(&output[2..8], b"\x05READY");
        assert_eq!(output[ready_length], 0x04);
        assert_eq!(&output[ready_length + 2..ready_length + 8], b"\x05ERROR");
    }

    #[test]
    fn hostile_handshake_input_gives_protocol_errors() {
        let now = Instant::now();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("message before READY", hex("00 01 61")),
            ("truncated READY", hex("04 09 05 52 45 41 44 59 0b 53 6f")),
            (
                "READY with a value length past the end",
                ready_with(&[("Socket-Type", b"PUSH")])
                    .into_iter()
                    .enumerate()
                    .map(|(index, byte)| if index == 21 { 0x7f } else { byte })
                    .collect(),
            ),
            (
                "READY without Socket-Type",
                ready_with(&[("Identity", b"")]),
            ),
            (
                "READY with unknown type",
                ready_with(&[("Socket-Type", b"push")]),
            ),
            ("PING before READY", hex("04 07 04 50 49 4e 47 00 00")),
            ("READY with MORE", {
                let mut ready = push_ready();
                ready[0] = 0x05;
                ready
            }),
            ("huge handshake command", hex("06 00 00 00 00 00 01 00 01")),
            ("2^62-byte frame", hex("06 40 00 00 00 00 00 00 00")),
            (
                "ERROR from the peer",
                hex("04 0a 05 45 52 52 4f 52 03 62 61 64"),
            ),
        ];
        for (name, bytes) in cases {
            let mut ours = Connection::new(Config::new(SocketType::Pull), now);
            let mut input = libzmq_greeting(1);
            input.extend(bytes);
            let result = ours.handle_input(&input, now);
            assert!(result.is_err(), "{name}: accepted");
            assert!(ours.error().is_some(), "{name}");
            assert!(ours.poll_event(now).is_err(), "{name}: stays failed");
        }
    }

    #[test]
    fn hostile_traffic_gives_protocol_errors() {
        let now = Instant::now();
        let cases: Vec<(&str, Vec<u8>, ProtocolError)> = vec![
            ("second READY", push_ready(), ProtocolError::DuplicateReady),
            (
                "2^62-byte frame",
                hex("02 40 00 00 00 00 00 00 00"),
                ProtocolError::FrameTooLarge { size: 1 << 62 },
            ),
            (
                "malformed PING",
                hex("04 06 04 50 49 4e 47 00"),
                ProtocolError::MalformedCommand {
                    command: "PING",
                    reason: "shorter than its 2-byte TTL",
                },
            ),
            (
                "empty command",
                hex("04 00"),
                ProtocolError::MalformedCommand {
                    command: "unnamed",
                    reason: "empty command frame",
                },
            ),
        ];
        for (name, bytes, expected) in cases {
            let mut ours = ready_pull(now);
            ours.handle_input(&bytes, now).unwrap();
            assert_eq!(ours.poll_event(now), Err(expected), "{name}");
        }
    }

    #[test]
    fn unknown_commands_and_reserved_flags_are_tolerated_after_the_handshake() {
        let now = Instant::now();
        let mut ours = ready_pull(now);
        let mut bytes = hex("04 06 05 48 45 4c 4c 4f"); // HELLO, unknown here
        bytes.extend(hex("f8 01 7a")); // reserved flag bits, body "z"
        ours.handle_input(&bytes, now).unwrap();
        assert_eq!(
            events(&mut ours, now),
            vec![Event::Message(Message::from("z"))]
        );
    }

    #[test]
    fn maximum_message_size_drops_the_connection() {
        let now = Instant::now();
        let mut config = Config::new(SocketType::Pull);
        config.max_message_size = Some(4);
        let mut ours = Connection::new(config, now);
        let mut bytes = libzmq_greeting(1);
        bytes.extend(push_ready());
        bytes.extend(hex("01 03 61 61 61 00 02 62 62"));
        ours.handle_input(&bytes, now).unwrap();
        assert!(matches!(ours.poll_event(now), Ok(Some(Event::Ready(_)))));
        assert_eq!(
            ours.poll_event(now),
            Err(ProtocolError::MessageTooLarge { size: 5, limit: 4 })
        );
    }

    #[test]
    fn subscriptions_use_commands_for_3_1_and_data_frames_for_3_0() {
        let now = Instant::now();
        for (minor, expected) in [
            (1, hex("04 0c 09 53 55 42 53 43 52 49 42 45 77 78")),
            (0, hex("00 03 01 77 78")),
        ] {
            let mut ours = Connection::new(Config::new(SocketType::Subscribe), now);
            let mut bytes = libzmq_greeting(minor);
            bytes.extend(ready_with(&[("Socket-Type", b"PUB")]));
            ours.handle_input(&bytes, now).unwrap();
            take_output(&mut ours);
            ours.send_subscribe(b"wx").unwrap();
            assert_eq!(take_output(&mut ours), expected, "minor {minor}");
        }
        let mut pair = Pair::new(
            Config::new(SocketType::Subscribe),
            Config::new(SocketType::Publish),
        );
        pair.pump().unwrap();
        pair.left.send_subscribe(b"a").unwrap();
        pair.left.send_cancel(b"a").unwrap();
        pair.pump().unwrap();
        assert_eq!(
            pair.right_events[1..],
            [
                Event::Subscribe(Bytes::from_static(b"a")),
                Event::Cancel(Bytes::from_static(b"a"))
            ]
        );
    }

    #[test]
    fn handshake_times_out_on_the_virtual_clock() {
        let mut config = Config::new(SocketType::Push);
        config.handshake_timeout = Some(Duration::from_secs(30));
        let now = Instant::now();
        let mut ours = Connection::new(config, now);
        assert_eq!(ours.poll_timeout(), Some(now + Duration::from_secs(30)));
        ours.handle_timeout(now + Duration::from_secs(29)).unwrap();
        assert_eq!(
            ours.handle_timeout(now + Duration::from_secs(30)),
            Err(ProtocolError::HandshakeTimeout)
        );
    }

    #[test]
    fn heartbeats_ping_pong_and_time_out_on_the_virtual_clock() {
        let mut left = Config::new(SocketType::Pair);
        left.heartbeat = Heartbeat {
            interval: Some(Duration::from_secs(1)),
            timeout: Some(Duration::from_secs(3)),
            ttl: Some(Duration::from_secs(10)),
        };
        let mut pair = Pair::new(left, Config::new(SocketType::Pair));
        pair.pump().unwrap();
        assert!(pair.left.is_ready() && pair.right.is_ready());
        // Pings are answered, so the connection lives on.
        for _ in 0..10 {
            pair.advance(Duration::from_secs(1)).unwrap();
        }
        assert!(pair.left.error().is_none());
        // The right side now goes silent: the left side times out.
        let before = pair.now;
        pair.left
            .handle_timeout(before + Duration::from_secs(1))
            .unwrap();
        take_output(&mut pair.left); // the PING is lost
        let result = pair.left.handle_timeout(before + Duration::from_secs(4));
        assert_eq!(result, Err(ProtocolError::HeartbeatTimeout));
    }

    #[test]
    fn peer_ttl_closes_a_silent_connection() {
        let now = Instant::now();
        let mut ours = ready_pull(now);
        ours.handle_input(&hex("04 07 04 50 49 4e 47 00 0a"), now)
            .unwrap(); // PING, TTL 1 s
        assert!(events(&mut ours, now).is_empty());
        assert_eq!(take_output(&mut ours), hex("04 05 04 50 4f 4e 47"), "PONG");
        assert_eq!(ours.poll_timeout(), Some(now + Duration::from_secs(1)));
        assert_eq!(
            ours.handle_timeout(now + Duration::from_secs(1)),
            Err(ProtocolError::HeartbeatTimeout)
        );
    }

    #[test]
    fn at_most_one_pong_waits_while_the_peer_floods_pings() {
        let now = Instant::now();
        let mut ours = ready_pull(now);
        let ping = hex("04 07 04 50 49 4e 47 00 00");
        let pong = hex("04 05 04 50 4f 4e 47");
        for _ in 0..10_000 {
            ours.handle_input(&ping, now).unwrap();
            assert!(events(&mut ours, now).is_empty());
        }
        assert_eq!(ours.pending_output(), pong.len(), "one PONG, not 10 000");
        assert_eq!(take_output(&mut ours), pong);
        // Once it is written, the next PING is answered again.
        ours.handle_input(&ping, now).unwrap();
        assert!(events(&mut ours, now).is_empty());
        assert_eq!(take_output(&mut ours), pong);
    }

    #[test]
    fn zero_and_huge_settings_neither_spin_nor_panic() {
        let mut config = Config::new(SocketType::Pair);
        config.handshake_timeout = Some(Duration::ZERO);
        config.heartbeat = Heartbeat {
            interval: Some(Duration::ZERO),
            timeout: Some(Duration::ZERO),
            ttl: Some(Duration::ZERO),
        };
        let mut pair = Pair::new(config, Config::new(SocketType::Pair));
        assert_eq!(pair.left.poll_timeout(), None, "zero means no limit");
        pair.pump().unwrap();
        assert_eq!(pair.left.poll_timeout(), None, "zero means no heartbeats");
        let mut config = Config::new(SocketType::Pair);
        config.handshake_timeout = Some(Duration::MAX);
        config.heartbeat = Heartbeat {
            interval: Some(Duration::MAX),
            timeout: Some(Duration::MAX),
            ttl: Some(Duration::MAX),
        };
        let mut pair = Pair::new(config, Config::new(SocketType::Pair));
        assert_eq!(pair.left.poll_timeout(), None, "never, not a panic");
        pair.pump().unwrap();
        assert_eq!(pair.left.poll_timeout(), None);
        let mut config = Config::new(SocketType::Pair);
        config.heartbeat.interval = Some(Duration::from_nanos(1));
        let mut pair = Pair::new(config, Config::new(SocketType::Pair));
        pair.pump().unwrap();
        let started = pair.now;
        assert_eq!(
            pair.left.poll_timeout(),
            Some(started + MIN_HEARTBEAT_INTERVAL),
            "a tiny interval is raised to the minimum"
        );
    }

    fn message_strategy() -> impl Strategy<Value = Message> {
        prop::collection::vec(
            prop_oneof![
                4 => prop::collection::vec(any::<u8>(), 0..300),
                1 => prop::collection::vec(any::<u8>(), 4000..70_000),
            ],
            1..4,
        )
        .prop_map(Message::from_frames)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn messages_round_trip_through_any_split(
            messages in prop::collection::vec(message_strategy(), 1..8),
            chunk in 1usize..2000,
        ) {
            let mut pair = Pair::new(Config::new(SocketType::Push), Config::new(SocketType::Pull));
            pair.chunk = chunk;
            pair.pump().unwrap();
            for message in &messages {
                pair.left.send_message(message).unwrap();
            }
            pair.pump().unwrap();
            let received: Vec<Message> = pair
                .right_events
                .iter()
                .filter_map(|event| match event {
                    Event::Message(message) => Some(message.clone()),
                    _ => None,
                })
                .collect();
            prop_assert_eq!(received, messages);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), after_greeting in any::<bool>()) {
            let now = Instant::now();
            let mut ours = Connection::new(Config::new(SocketType::Pull), now);
            let mut input = if after_greeting { libzmq_greeting(1) } else { Vec::new() };
            input.extend(bytes);
            if ours.handle_input(&input, now).is_ok() {
                while let Ok(Some(_)) = ours.poll_event(now) {}
            }
        }
    }
}
