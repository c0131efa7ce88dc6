//! `Session`: one connection's life on an I/O thread, across reconnects.
//!
//! A session owns the I/O side of its pipe and, while connected, an engine. It
//! moves decoded messages into the pipe until the pipe reaches its high-water mark
//! (then stops reading, so TCP pushes back on the sender), and moves messages from
//! the pipe into the engine while the engine's output is below a batch size.
//!
//! Accepted sessions create their pipe when the handshake completes and end with
//! their connection. Connecting sessions get their pipe at `connect()` (unless
//! ZMQ_IMMEDIATE), keep it across reconnects, and reconnect after I/O errors and
//! timeouts with backoff; a protocol error ends them for good, as in libzmq. A
//! closing session flushes what the socket queued for up to the linger time. A
//! STREAM's session runs a raw engine (no ZMTP), and ends, without reconnecting,
//! once its socket closes the pipe (`[routing id, ""]`), after flushing what was
//! queued for up to the linger time. This file must never block and never drop a
//! message it took from the pipe while the connection that should carry it is
//! alive.

mod zap;

use crate::command::{SocketCommand, SocketId, SocketLink};
use crate::engine::{Engine, EngineError, Input};
use crate::event::SocketEvent;
use crate::message::{Message, Properties};
use crate::pipe::{Activate, Item, PipeEnd, Read, WriteError, pipe_pair};
use crate::transport::reconnect::Backoff;
use crate::transport::{self, Endpoint, Stream};
use crate::zmtp::{Event, PeerInfo, ProtocolError, SocketType};
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zap::ZapClient;

/// How long a finished session waits for its peer to close after a graceful
/// shutdown, when the linger time sets no earlier limit.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// How often a draining session checks whether its peer has taken everything.
const DRAIN_CHECK: Duration = Duration::from_millis(5);
/// Stands in for a reconnect interval too long to add to the current time.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// Reads per turn before other sessions get theirs: one, so busy connections on
/// one I/O thread take strict turns (fair queuing depends on it); a session with
/// more to read goes to the back of the thread's ready queue.
const READ_BUDGET: usize = 1;

/// Where the session came from.
#[derive(Debug)]
enum Origin {
    /// Accepted by a listener; ends with its connection.
    Accepted,
    /// Made by `connect()`; reconnects.
    Connecting { target: Endpoint, backoff: Backoff },
}

#[derive(Debug)]
enum State {
    /// Waiting to (re)connect at this time.
    Waiting(Instant),
    /// A non-blocking connect is in progress.
    Connecting(Stream),
    /// Connected: handshaking or carrying traffic.
    Active(Box<Engine>),
    /// Everything was handed to the kernel and our side is shut down for writing:
    /// waiting (until the first deadline) for the peer to take it all or close,
    /// checking again at the second. Closing at once could lose what the peer has
    /// not read yet: a libzmq peer whose input is stopped at its high-water mark
    /// drops an ipc connection the moment the other end is gone, unread bytes and
    /// all. Only a session that sent traffic drains.
    Draining(Stream, Instant, Instant),
    /// Done; the I/O thread removes it.
    Finished,
}

/// What the I/O thread should do with a session after running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Keep it; `more` if it stopped with work left (run it again soon).
    Keep { more: bool },
    /// Remove it.
    Remove,
}

/// One connection, or one connect endpoint, of a socket.
#[derive(Debug)]
pub(crate) struct Session {
    link: Arc<SocketLink>,
    endpoint: String,
    origin: Origin,
    pipe: Option<PipeEnd>,
    state: State,
    /// An item decoded while the pipe was full.
    stalled: Option<Item>,
    /// Closing: flush until this time (`Some(None)`: until done).
    closing: Option<Option<Instant>>,
    /// The socket closed its end of the pipe.
    pipe_closed: bool,
    /// The socket was told a handshake completed on this pipe.
    peer_announced: bool,
    /// Traffic from the pipe went to this connection's engine: closing must give
    /// the peer the chance to read it.
    sent_traffic: bool,
    token: usize,
    activator: Option<Arc<dyn Activate>>,
    /// What the current connection's messages carry (`zmq_msg_gets`).
    properties: Option<Arc<Properties>>,
    /// The ZAP request out for the current connection's handshake, if any.
    zap: Option<ZapClient>,
}

impl Session {
    /// A session for a connection a listener accepted.
    pub(crate) fn accepted(
        link: Arc<SocketLink>,
        endpoint: String,
        stream: Stream,
        now: Instant,
    ) -> Session {
        stream.set_keepalive(&link.options.keepalive());
        Session {
            endpoint,
            origin: Origin::Accepted,
            pipe: None,
            state: State::Active(Box::new(new_engine(&link, stream, now))),
            stalled: None,
            closing: None,
            pipe_closed: false,
            peer_announced: false,
            sent_traffic: false,
            token: usize::MAX,
            activator: None,
            properties: None,
            zap: None,
            link,
        }
    }

    /// A session that connects to `target` and reconnects when the connection drops.
    pub(crate) fn connecting(
        link: Arc<SocketLink>,
        endpoint: String,
        target: Endpoint,
        pipe: Option<PipeEnd>,
    ) -> Session {
        let seed = pipe.as_ref().map_or(link.id, PipeEnd::id) ^ 0x9E37_79B9_7F4A_7C15;
        let backoff = Backoff::new(
            link.options.reconnect_interval,
            link.options.reconnect_interval_max,
            seed,
        );
        Session {
            endpoint,
            origin: Origin::Connecting { target, backoff },
            pipe,
            state: State::Waiting(Instant::now()),
            stalled: None,
            closing: None,
            pipe_closed: false,
            peer_announced: false,
            sent_traffic: false,
            token: usize::MAX,
            activator: None,
            properties: None,
            zap: None,
            link,
        }
    }

    /// The socket this session serves.
    pub(crate) fn socket(&self) -> SocketId {
        self.link.id
    }

    /// The endpoint it was bound or connected through.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether a listener accepted it.
    pub(crate) fn is_accepted(&self) -> bool {
        matches!(self.origin, Origin::Accepted)
    }

    /// The socket's link.
    pub(crate) fn link(&self) -> &Arc<SocketLink> {
        &self.link
    }

    /// Joins the I/O thread: takes its token, registers its stream, and has its
    /// pipe call `activator` when the socket side changes it.
    pub(crate) fn register(
        &mut self,
        registry: &mio::Registry,
        token: usize,
        activator: Arc<dyn Activate>,
    ) {
        self.token = token;
        if let Some(pipe) = &self.pipe {
            pipe.set_activator(Arc::clone(&activator));
        }
        self.activator = Some(activator);
        if let State::Active(engine) = &mut self.state {
            engine.register(registry, token);
        }
    }

    /// Records readiness reported by mio (a draining session just reads again).
    pub(crate) fn set_ready(&mut self, readable: bool, writable: bool) {
        if let State::Active(engine) = &mut self.state {
            engine.set_ready(readable, writable);
        }
    }

    /// The next time this session must run.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let own = match &self.state {
            State::Waiting(at) => Some(*at),
            State::Active(engine) => engine.deadline(),
            State::Draining(_, until, check) => Some((*until).min(*check)),
            State::Connecting(_) | State::Finished => None,
        };
        let linger = self.closing.flatten();
        match (own, linger) {
            (Some(own), Some(linger)) => Some(own.min(linger)),
            (own, linger) => own.or(linger),
        }
    }

    /// Starts closing: flush what is queued for up to `linger`, then end.
    pub(crate) fn close(&mut self, linger: Option<Duration>, now: Instant) {
        // A linger too long to represent lasts until done.
        self.closing = Some(linger.and_then(|linger| now.checked_add(linger)));
        if linger == Some(Duration::ZERO) {
            self.state = State::Finished;
        }
    }

    /// Starts closing for a disconnect or an unbind: the socket may write no more
    /// to this session's pipe, and what it queued is flushed for up to `linger`,
    /// as libzmq's disconnect does.
    pub(crate) fn close_endpoint(&mut self, linger: Option<Duration>, now: Instant) {
        if let Some(pipe) = &mut self.pipe {
            pipe.refuse_writes();
        }
        self.close(linger, now);
    }

    /// Deregisters the stream, if any (before the session is dropped).
    pub(crate) fn deregister(&mut self, registry: &mio::Registry) {
        match &mut self.state {
            State::Active(engine) => engine.deregister(registry),
            State::Connecting(stream) | State::Draining(stream, ..) => {
                let _ = registry.deregister(stream);
            }
            State::Waiting(_) | State::Finished => {}
        }
    }

    /// Runs the session: connects, moves bytes and messages, handles timers.
    pub(crate) fn run(&mut self, registry: &mio::Registry, now: Instant) -> Status {
        loop {
            if self.linger_expired(now) {
                self.deregister(registry);
                self.state = State::Finished;
            }
            match std::mem::replace(&mut self.state, State::Finished) {
                State::Finished => return Status::Remove,
                State::Waiting(at) => {
                    if self.closing.is_some() && !self.has_queued_output()
                        || self.closed_by_stream()
                    {
                        return Status::Remove;
                    }
                    if now < at {
                        self.state = State::Waiting(at);
                        return Status::Keep { more: false };
                    }
                    self.start_connect(registry, now);
                    if matches!(self.state, State::Waiting(_)) {
                        return Status::Keep { more: false };
                    }
                }
                State::Connecting(stream) => match stream.take_error() {
                    Ok(None) if stream.is_connected() => {
                        self.raise(SocketEvent::Connected, stream.raw_fd() as u32);
                        stream.set_nodelay();
                        stream.set_keepalive(&self.link.options.keepalive());
                        self.state = State::Active(Box::new(new_engine(&self.link, stream, now)));
                    }
                    Ok(None) => {
                        self.state = State::Connecting(stream);
                        return Status::Keep { more: false };
                    }
                    Ok(Some(error)) | Err(error) => {
                        let mut stream = stream;
                        let _ = registry.deregister(&mut stream);
                        tracing::debug!(endpoint = %self.endpoint, %error, "connect failed");
                        // As libzmq: the attempt's socket is CLOSED, then the
                        // reconnect is scheduled.
                        self.raise(SocketEvent::Closed, stream.raw_fd() as u32);
                        self.schedule_reconnect(now);
                    }
                },
                State::Draining(mut stream, until, _) => {
                    if now >= until || stream.drained() {
                        let _ = registry.deregister(&mut stream);
                        return Status::Remove;
                    }
                    self.state = State::Draining(stream, until, now + DRAIN_CHECK);
                    return Status::Keep { more: false };
                }
                State::Active(mut engine) => match self.run_engine(&mut engine, now) {
                    Ok(more) => {
                        self.limit_stream_close(now);
                        if self.should_finish(engine.is_flushed()) {
                            let mut stream = engine.into_stream();
                            if !self.sent_traffic {
                                // Nothing of ours can be lost: no waiting for a peer
                                // that was sent nothing, or never finished its
                                // handshake.
                                let _ = registry.deregister(&mut stream);
                                return Status::Remove;
                            }
                            let _ = stream.shutdown_write();
                            let limit = now + DRAIN_LIMIT;
                            let until = self
                                .closing
                                .flatten()
                                .map_or(limit, |linger| linger.min(limit));
                            self.state = State::Draining(stream, until, now);
                            continue;
                        }
                        self.state = State::Active(engine);
                        return Status::Keep { more };
                    }
                    Err(error) => {
                        self.zap = None;
                        let _ = engine.flush();
                        engine.deregister(registry);
                        // As libzmq's engine: the disconnect message is queued
                        // before DISCONNECTED is raised.
                        if self.peer_announced {
                            self.notify_peer(PeerEvent::Disconnected);
                        }
                        self.report_end(&error, engine.raw_fd());
                        drop(engine);
                        if !self.engine_failed(error, now) {
                            return Status::Remove;
                        }
                    }
                },
            }
        }
    }

    fn linger_expired(&self, now: Instant) -> bool {
        matches!(self.closing, Some(Some(deadline)) if now >= deadline)
    }

    /// Whether a closing (or orphaned) session is done.
    fn should_finish(&self, flushed: bool) -> bool {
        if self.pipe_closed {
            // The socket is gone or dropped this pipe: nothing more will come.
            return flushed && !self.has_queued_output();
        }
        if self.closing.is_some() {
            return self.pipe.is_none() || (flushed && !self.has_queued_output());
        }
        false
    }

    fn has_queued_output(&self) -> bool {
        self.pipe.as_ref().is_some_and(PipeEnd::has_items)
    }

    fn start_connect(&mut self, registry: &mio::Registry, now: Instant) {
        let Origin::Connecting { target, .. } = &self.origin else {
            return;
        };
        match transport::connect(target, self.link.options.ipv6) {
            Ok(mut stream) => {
                // A TCP connect is always in progress when it returns (libzmq
                // reports EINPROGRESS); a Unix one is done or refused at once.
                if stream.is_tcp() {
                    self.raise(SocketEvent::ConnectDelayed, libc::EINPROGRESS as u32);
                }
                stream.register_with(registry, self.token);
                self.state = State::Connecting(stream);
            }
            Err(error) => {
                tracing::debug!(endpoint = %self.endpoint, %error, "connect failed");
                self.schedule_reconnect(now);
            }
        }
    }

    fn schedule_reconnect(&mut self, now: Instant) {
        if let Origin::Connecting { backoff, .. } = &mut self.origin {
            let delay = backoff.next_delay();
            let milliseconds = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
            self.link
                .events
                .raise(SocketEvent::ConnectRetried, milliseconds, &self.endpoint);
            // A wait too long to represent is as good as a very long one.
            let at = now
                .checked_add(delay)
                .or_else(|| now.checked_add(FAR_FUTURE))
                .unwrap_or(now);
            self.state = State::Waiting(at);
        } else {
            self.state = State::Finished;
        }
    }

    /// Handles the end of a connection; false if the session is done.
    fn engine_failed(&mut self, error: EngineError, now: Instant) -> bool {
        let reconnectable = match &error {
            EngineError::Closed | EngineError::Io(_) => {
                tracing::debug!(endpoint = %self.endpoint, %error, "connection closed");
                true
            }
            EngineError::Protocol(
                protocol @ (ProtocolError::HandshakeTimeout | ProtocolError::HeartbeatTimeout),
            ) => {
                tracing::debug!(endpoint = %self.endpoint, %protocol, "connection timed out");
                true
            }
            EngineError::Protocol(protocol) => {
                tracing::warn!(endpoint = %self.endpoint, %protocol, "peer broke the protocol; connection closed");
                false
            }
        };
        if self.is_accepted()
            || !reconnectable
            || self.closing.is_some() && !self.has_queued_output()
            || self.closed_by_stream()
        {
            self.state = State::Finished;
            return false;
        }
        if self.link.options.immediate {
            self.pipe = None;
            self.stalled = None;
        } else if self.peer_announced
            && let Some(pipe) = &self.pipe
        {
            self.link
                .mailbox
                .send(SocketCommand::PeerLost { pipe: pipe.id() });
        }
        self.peer_announced = false;
        self.schedule_reconnect(now);
        true
    }

    /// Moves input to the pipe and pipe output to the engine until neither moves.
    /// Returns true if it stopped with reading left to do.
    fn run_engine(&mut self, engine: &mut Engine, now: Instant) -> Result<bool, EngineError> {
        engine.handle_timeout(now)?;
        let mut budget = READ_BUDGET;
        loop {
            let input = self.pump_input(engine, now, &mut budget);
            // Wake the socket for what was delivered, even if the connection ended.
            if let Some(pipe) = &mut self.pipe {
                pipe.flush();
            }
            let (input_progress, more) = input?;
            let zap_progress = self.pump_zap(engine, now)?;
            let output_progress = self.pump_output(engine);
            // Writing frees room in the output batch, so more can be taken from the
            // pipe: that counts as progress too.
            let written = engine.flush()?;
            if more {
                return Ok(true);
            }
            if !input_progress && !zap_progress && !output_progress && !written {
                return Ok(false);
            }
        }
    }

    /// Delivers decoded events to the pipe; returns (progress, out of budget).
    fn pump_input(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        budget: &mut usize,
    ) -> Result<(bool, bool), EngineError> {
        let mut progress = false;
        loop {
            if let Some(item) = self.stalled.take()
                && !self.offer(item, &mut progress)
            {
                return Ok((progress, false));
            }
            let item = match engine.next_input(now, budget)? {
                Input::Event(Event::Ready(peer)) => {
                    let address = engine.peer_ip();
                    self.on_ready(peer, address);
                    progress = true;
                    continue;
                }
                Input::Event(Event::Message(mut message)) => {
                    if let Some(properties) = &self.properties {
                        message.set_properties(Arc::clone(properties));
                    }
                    Item::Message(message)
                }
                Input::Event(Event::Subscribe(topic)) => Item::Subscribe(topic),
                Input::Event(Event::Cancel(topic)) => Item::Cancel(topic),
                Input::Arrived => {
                    progress = true;
                    continue;
                }
                Input::Stopped { more } => return Ok((progress, more)),
            };
            if !self.offer(item, &mut progress) {
                return Ok((progress, false));
            }
        }
    }

    /// Hands an item from the peer to the pipe; false if the pipe is full, the
    /// item then held back as `stalled` (offered first next time). With the pipe
    /// closed, or none (the socket is gone), input is discarded.
    fn offer(&mut self, item: Item, progress: &mut bool) -> bool {
        let Some(pipe) = self.pipe.as_mut() else {
            return true;
        };
        match pipe.write(item) {
            Ok(()) => *progress = true,
            Err(WriteError::Full(item)) => {
                self.stalled = Some(item);
                return false;
            }
            Err(WriteError::Closed(_)) => self.pipe_closed = true,
        }
        true
    }

    /// Asks the context's ZAP handler about the peer when the handshake needs
    /// its verdict, and hands the verdict back; true if anything moved.
    fn pump_zap(&mut self, engine: &mut Engine, now: Instant) -> Result<bool, EngineError> {
        let mut progress = false;
        if let Some(mut request) = engine.take_zap_request() {
            // As libzmq's zap_client fills them: the socket's ZAP domain, the
            // peer's IP address (empty for ipc) and the socket's own routing id.
            let options = &self.link.options;
            request.domain = options.security.zap_domain.clone();
            request.address = engine.peer_ip().map(Bytes::from).unwrap_or_default();
            request.identity = options.routing_id.clone().unwrap_or_default();
            match ZapClient::ask(&self.link, &request, self.activator.as_ref()) {
                Some(client) => self.zap = Some(client),
                None => engine.handle_zap_verdict(Ok(None), now)?,
            }
            progress = true;
        }
        let Some(client) = &mut self.zap else {
            return Ok(progress);
        };
        let verdict = match client.poll() {
            Ok(None) => return Ok(progress),
            Ok(Some(reply)) => Ok(Some(reply)),
            Err(error) => Err(error),
        };
        self.zap = None;
        engine.handle_zap_verdict(verdict, now)?;
        Ok(true)
    }

    /// Moves messages from the pipe into the engine's output; true if any moved.
    fn pump_output(&mut self, engine: &mut Engine) -> bool {
        let Some(pipe) = self.pipe.as_mut() else {
            return false;
        };
        let mut progress = false;
        while engine.accepts_output() {
            let item = match pipe.read() {
                Read::Item(item) => item,
                Read::Empty => break,
                Read::Closed => {
                    self.pipe_closed = true;
                    break;
                }
            };
            // A connection past its handshake takes every item; were it ever to
            // refuse one, stop rather than spin.
            let sent = engine.send(&item);
            debug_assert!(sent, "a ready connection refused an item");
            if !sent {
                break;
            }
            progress = true;
        }
        self.sent_traffic |= progress;
        progress
    }

    /// Raises a monitor event about this session's endpoint.
    fn raise(&self, event: SocketEvent, value: u32) {
        self.link.events.raise(event, value, &self.endpoint);
    }

    /// A connection ended on `error`: a handshake that did not complete is
    /// reported as libzmq reports it (see `event::handshake_failure`), and so is
    /// CURVE traffic that did not decode (`event::traffic_failure`); then
    /// DISCONNECTED.
    fn report_end(&self, error: &EngineError, fd: i32) {
        if self.link.kind == SocketType::Stream {
            // libzmq's raw engine has no mechanism, so every end of a STREAM
            // connection counts as a handshake that failed without detail.
            let errno = match error {
                EngineError::Io(io) => io.raw_os_error().unwrap_or(libc::EPIPE),
                _ => libc::EPIPE,
            };
            self.raise(SocketEvent::HandshakeFailedNoDetail, errno as u32);
        } else if !self.peer_announced {
            let failure = match error {
                EngineError::Protocol(protocol) => crate::event::handshake_failure(protocol),
                EngineError::Closed => {
                    Some((SocketEvent::HandshakeFailedNoDetail, libc::EPIPE as u32))
                }
                EngineError::Io(io) => Some((
                    SocketEvent::HandshakeFailedNoDetail,
                    io.raw_os_error().unwrap_or(libc::EPIPE) as u32,
                )),
            };
            if let Some((event, value)) = failure {
                self.raise(event, value);
            }
        } else if let EngineError::Protocol(protocol) = error
            && let Some((event, value)) = crate::event::traffic_failure(protocol)
        {
            self.raise(event, value);
        }
        self.raise(SocketEvent::Disconnected, fd as u32);
    }

    /// The handshake completed: create the pipe, or tell the socket its peer is
    /// back; note the properties its messages will carry.
    fn on_ready(&mut self, mut peer: PeerInfo, address: Option<String>) {
        if let Origin::Connecting { backoff, .. } = &mut self.origin {
            backoff.reset();
            // ZMQ_CONNECT_ROUTING_ID: the application names this connection's peer.
            if let Some(id) = &self.link.options.connect_routing_id {
                peer.routing_id = Some(id.clone());
            }
        }
        // A STREAM connection has no handshake to report (libzmq raises none).
        if self.link.kind != SocketType::Stream {
            self.raise(SocketEvent::HandshakeSucceeded, 0);
        }
        if self.closing.is_some() && self.pipe.is_none() {
            return;
        }
        let mut properties = Properties::new();
        for (name, value) in peer.metadata.iter() {
            properties.insert(String::from_utf8_lossy(name), value.clone());
        }
        if let Some(address) = address {
            properties.insert("Peer-Address", address);
        }
        self.properties = Some(Arc::new(properties));
        match &self.pipe {
            Some(pipe) => {
                self.link.mailbox.send(SocketCommand::PeerReady {
                    pipe: pipe.id(),
                    peer,
                });
            }
            None => {
                let options = &self.link.options;
                let (socket_end, session_end) = pipe_pair(
                    options.send_high_water_mark,
                    options.receive_high_water_mark,
                );
                if let Some(activator) = &self.activator {
                    session_end.set_activator(Arc::clone(activator));
                }
                self.pipe = Some(session_end);
                self.link.mailbox.send(SocketCommand::Attach {
                    pipe: socket_end,
                    peer: Some(peer),
                });
            }
        }
        self.peer_announced = true;
        self.notify_peer(PeerEvent::Connected);
    }

    /// ZMQ_ROUTER_NOTIFY and ZMQ_STREAM_NOTIFY: an empty message from this peer
    /// tells a ROUTER or a STREAM that it came or went (the socket prefixes it
    /// with the peer's routing id). It passes the high-water mark, after any
    /// message held back by it, so it is neither lost nor delivered ahead of what
    /// the peer sent before it.
    fn notify_peer(&mut self, event: PeerEvent) {
        let options = &self.link.options;
        let wanted = match (self.link.kind, event) {
            (SocketType::Router, PeerEvent::Connected) => options.router_notify.connect,
            (SocketType::Router, PeerEvent::Disconnected) => options.router_notify.disconnect,
            (SocketType::Stream, _) => options.stream_notify,
            _ => false,
        };
        if !wanted || self.pipe_closed {
            return;
        }
        let Some(pipe) = self.pipe.as_mut() else {
            return;
        };
        if let Some(item) = self.stalled.take() {
            let _ = pipe.force_write(item);
        }
        let mut notification = Message::from(Bytes::new());
        // libzmq's raw engine gives its notifications the connection's
        // properties (Peer-Address); its ZMTP engine does not.
        if self.link.kind == SocketType::Stream
            && let Some(properties) = &self.properties
        {
            notification.set_properties(Arc::clone(properties));
        }
        let _ = pipe.force_write(Item::Message(notification));
        pipe.flush();
    }

    /// Whether a STREAM closed this connection (`[routing id, ""]`), even with
    /// output still queued: the session ends with it and does not reconnect.
    fn closed_by_stream(&self) -> bool {
        self.link.kind == SocketType::Stream
            && (self.pipe_closed || self.pipe.as_ref().is_some_and(PipeEnd::is_peer_closed))
    }

    /// A connection its STREAM closed writes what was queued for at most the
    /// linger time, as a closing socket's connections do.
    fn limit_stream_close(&mut self, now: Instant) {
        if self.closed_by_stream() && self.closing.is_none() {
            self.closing = Some(
                self.link
                    .options
                    .linger
                    .and_then(|linger| now.checked_add(linger)),
            );
        }
    }
}

/// What a ROUTER or STREAM is told about a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerEvent {
    /// The peer is connected (after the handshake, for ZMTP).
    Connected,
    /// A connection that was announced ended.
    Disconnected,
}

/// The engine for a new connection of the socket behind `link`: raw bytes for a
/// STREAM, ZMTP for every other type.
fn new_engine(link: &SocketLink, stream: Stream, now: Instant) -> Engine {
    if link.kind == SocketType::Stream {
        Engine::raw(stream)
    } else {
        Engine::new(stream, link.options.connection_config(link.kind), now)
    }
}
