//! The I/O shell: one mio loop thread that owns every listener and connection.
//!
//! It owns the partition store (whose storage thread wakes it through a
//! `mio::Waker`) and hands each completion to the door whose request it was, by
//! its id: below [`KAFKA_IDS`] the native door's, from there the Kafka door's.
//! It serves the native door (a sinew ROUTER, woken by its readiness
//! descriptor), and it accepts NATS clients and monitoring requests, reads bytes and hands them to
//! the core, writes each client's outbox with vectored writes once per turn, closes
//! what the core closes, runs the core's timers, and when its `Stopper` is told
//! to (the binary's SIGINT or SIGTERM, an embedding program's `Broker::shutdown`)
//! stops accepting, flushes what is queued to every client, closes the store and
//! returns. The NATS door and monitoring are optional (an embedded broker may
//! serve only the native door). Reads are
//! budgeted per turn, so one busy client cannot starve the others. After a turn
//! with events the loop polls without sleeping for the configured idle spin (50 µs
//! by default), so a client answering quickly finds it awake; idle, it sleeps in
//! the poll until readiness, a stop or the next deadline. This module
//! must never block (but in closing the store when it returns), never install
//! signal handlers (the binary does, not an embedding program) and never decide
//! anything the core should decide.

pub(crate) mod groups;
mod http;
mod kafka;
mod native;
mod nats;
mod stream;

use crate::config::Config;
use crate::core::{ClientId, CloseReason, Core, Settings};
use crate::store::{Completion, PartitionNotice, RequestId, Store, StoreError, StoreSettings};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use rustc_hash::FxHashMap;
use sinew::Context;
use slab::Slab;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const NATS_LISTENER: Token = Token(0);
const HTTP_LISTENER: Token = Token(1);
const NATIVE: Token = Token(3);
/// The loop's one waker (mio allows one per poll): the store's completions and
/// the stopper both ring it.
const WAKER: Token = Token(4);
const KAFKA_LISTENER: Token = Token(5);
/// Connection tokens start here (slab key + FIRST_CONNECTION).
const FIRST_CONNECTION: usize = 16;
/// Kafka connection tokens start here (the Kafka door's own slab keys).
const KAFKA_CONNECTIONS: usize = 1 << 31;
/// The first store request id of the Kafka door; the native door's are below.
pub const KAFKA_IDS: RequestId = 1 << 62;
/// The first store request id of the consumer groups' loader (above the Kafka
/// door's).
const GROUP_IDS: RequestId = 3 << 62;
/// How long a shutdown waits for clients to take what was queued to them.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);
/// How long a closing client has to take its last bytes (an -ERR).
const CLOSE_FLUSH: Duration = Duration::from_secs(1);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not bind.
    #[error("cannot listen on {address} ({door}): {source}")]
    Bind {
        /// Which door.
        door: &'static str,
        /// The address.
        address: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The native door could not bind.
    #[error("{0}")]
    Native(#[from] native::NativeError),
    /// The partition store could not be opened.
    #[error("cannot open the partition store: {0}")]
    Store(#[from] StoreError),
    /// The event loop could not be set up.
    #[error("cannot start the event loop: {0}")]
    Setup(io::Error),
}

/// Tells a running server to stop, from any thread: it stops accepting, answers
/// what is pending, flushes every client and closes the store, then `run`
/// returns. Telling it again, or after it stopped, does nothing.
#[derive(Clone, Debug)]
pub struct Stopper {
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Stopper {
    /// Asks the server to stop; returns at once.
    pub fn stop(&self) {
        self.requested.store(true, Ordering::Release);
        if let Err(error) = self.waker.wake() {
            tracing::warn!(%error, "could not wake the loop to stop it");
        }
    }
}

/// One connection the loop owns.
#[derive(Debug)]
enum Connection {
    Nats(nats::Client),
    Http(http::Request),
}

/// The bound broker, ready to run.
pub struct Server {
    poll: Poll,
    nats_listener: Option<TcpListener>,
    http_listener: Option<TcpListener>,
    stopper: Stopper,
    core: Core,
    store: Store,
    /// The store's output, taken each turn (kept for their capacity).
    completions: Vec<Completion>,
    notices: Vec<PartitionNotice>,
    native: native::NativeDoor,
    kafka: Option<kafka::KafkaDoor>,
    /// The consumer groups every door shares.
    groups: groups::SharedGroups,
    /// Replays committed offsets at start; `None` once done.
    loader: Option<groups::Loader>,
    /// The native door left requests unread last turn.
    native_more: bool,
    connections: Slab<Connection>,
    /// Core client id to slab key.
    keys: FxHashMap<ClientId, usize>,
    next_client: ClientId,
    /// Connections with reading left over from their last turn.
    ready: stream::ReadyQueue,
    /// Clients being closed (keys), checked each turn until their outbox is
    /// written or their time is up.
    closing: Vec<usize>,
    nats_address: Option<SocketAddr>,
    http_address: Option<SocketAddr>,
    /// Set once a shutdown started: the time by which it ends regardless.
    stopping: Option<Instant>,
    /// How long the loop polls without sleeping after its last event.
    idle_spin: Duration,
}

impl Server {
    /// Opens the store under `config.data_dir`, which the caller has locked, and
    /// binds every listener named in `config` and the native door's ROUTER in
    /// `context` (its `inproc://` endpoint reaches sockets of that context only).
    pub fn bind(config: &Config, context: &Context) -> Result<Server, StartError> {
        let poll = Poll::new().map_err(StartError::Setup)?;
        let registry = poll.registry();
        let listen = |door, address: Option<SocketAddr>, token| match address {
            None => Ok((None, None)),
            Some(address) => {
                let mut listener = bind(door, address)?;
                let bound = listener.local_addr().map_err(StartError::Setup)?;
                registry
                    .register(&mut listener, token, Interest::READABLE)
                    .map_err(StartError::Setup)?;
                Ok::<_, StartError>((Some(listener), Some(bound)))
            }
        };
        let (nats_listener, nats_address) = listen("NATS", config.nats, NATS_LISTENER)?;
        let (http_listener, http_address) = listen("monitoring", config.http, HTTP_LISTENER)?;
        let waker = Arc::new(Waker::new(registry, WAKER).map_err(StartError::Setup)?);
        let stopper = Stopper {
            requested: Arc::new(AtomicBool::new(false)),
            waker: waker.clone(),
        };
        let store = Store::open(StoreSettings::new(&config.data_dir), move || {
            let _ = waker.wake();
        })?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let shared_groups: groups::SharedGroups =
            Arc::new(std::sync::Mutex::new(groups::Groups::new(
                crate::groups::Coordinator::new(crate::groups::GroupSettings::default(), seed),
            )));
        let native = native::NativeDoor::bind(context, &config.listen, shared_groups.clone())?
            .with_pending_bytes(config.limits.native_pending_bytes);
        let kafka = match config.kafka.listen {
            None => None,
            Some(address) => Some(
                kafka::KafkaDoor::bind(
                    address,
                    &config.kafka,
                    shared_groups.clone(),
                    registry,
                    KAFKA_LISTENER,
                    KAFKA_CONNECTIONS,
                )
                .map_err(|source| StartError::Bind {
                    door: "Kafka",
                    address,
                    source,
                })?,
            ),
        };
        native
            .register(registry, NATIVE)
            .map_err(StartError::Setup)?;
        let now = Instant::now();
        let settings = Settings {
            limits: config.limits,
            ping: config.ping,
            authorization: config.authorization.clone(),
            server_id: server_id(),
            server_name: "sinew-broker".to_owned(),
            // With the NATS door off, nobody reads it (but /varz, if served).
            address: nats_address.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0))),
        };
        let loader = groups::Loader::start(&store, GROUP_IDS, &shared_groups);
        Ok(Server {
            poll,
            nats_listener,
            http_listener,
            stopper,
            core: Core::new(settings, now),
            store,
            completions: Vec::new(),
            notices: Vec::new(),
            native,
            kafka,
            groups: shared_groups,
            loader: Some(loader),
            native_more: false,
            connections: Slab::new(),
            keys: FxHashMap::default(),
            next_client: 1,
            ready: stream::ReadyQueue::default(),
            closing: Vec::new(),
            nats_address,
            http_address,
            stopping: None,
            idle_spin: config.idle_spin,
        })
    }

    /// Where the NATS door listens (with the port filled in); `None` if it is off.
    pub fn nats_address(&self) -> Option<SocketAddr> {
        self.nats_address
    }

    /// Where the Kafka door listens (with the port filled in); `None` if it is off.
    pub fn kafka_address(&self) -> Option<SocketAddr> {
        self.kafka.as_ref().map(kafka::KafkaDoor::address)
    }

    /// Where the native door listens (with the port filled in).
    pub fn native_endpoint(&self) -> &str {
        self.native.endpoint()
    }

    /// Where monitoring listens (with the port filled in); `None` if it is off.
    pub fn http_address(&self) -> Option<SocketAddr> {
        self.http_address
    }

    /// What tells this server to stop, for another thread.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Runs until the stopper is told to stop, then flushes every client, closes
    /// the store (its queued requests finish, its partitions close) and returns.
    /// An error is the loop's, or the store's on closing.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut dirty = Vec::new();
        let mut closes = Vec::new();
        // The last turn that had an event: until `idle_spin` after it the loop
        // polls without sleeping, so a quick answer finds it awake.
        let mut active = Instant::now();
        loop {
            let now = Instant::now();
            let mut deadline = self.core.poll_timeout();
            if let Some(parked) = self.native.next_deadline() {
                deadline = deadline.min(parked);
            }
            if let Some(parked) = self
                .kafka
                .as_ref()
                .and_then(kafka::KafkaDoor::next_deadline)
            {
                deadline = deadline.min(parked);
            }
            if let Some(group) = groups::lock(&self.groups).coordinator.next_deadline() {
                deadline = deadline.min(group);
            }
            if let Some(stop) = self.stopping {
                let kafka_idle = self.kafka.as_ref().is_none_or(kafka::KafkaDoor::is_idle);
                if (self.connections.is_empty() && self.native.is_idle() && kafka_idle)
                    || now >= stop
                {
                    // The requests the store holds finish and its partitions
                    // close; their completions are not answered any more.
                    return self.store.close().map_err(io::Error::other);
                }
                deadline = deadline.min(stop);
            }
            let spinning = now.saturating_duration_since(active) < self.idle_spin;
            let kafka_ready = self.kafka.as_ref().is_some_and(kafka::KafkaDoor::has_ready);
            let timeout = if self.ready.is_empty() && !self.native_more && !spinning && !kafka_ready
            {
                Some(deadline.saturating_duration_since(now))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(error) = self.poll.poll(&mut events, timeout)
                && error.kind() != io::ErrorKind::Interrupted
            {
                return Err(error);
            }
            let now = Instant::now();
            if !events.is_empty() {
                active = now;
            }
            let mut native = self.native_more;
            let mut store = false;
            for event in events.iter() {
                match event.token() {
                    NATIVE => native = true,
                    WAKER => {
                        // The store, or the stopper (then what the door answered
                        // on stopping was sent: it looks at the ROUTER again
                        // before the loop waits).
                        self.on_stop(now);
                        store = true;
                        native = true;
                    }
                    NATS_LISTENER => self.accept_nats(now),
                    HTTP_LISTENER => self.accept_http(),
                    KAFKA_LISTENER => {
                        if let Some(kafka) = &mut self.kafka {
                            kafka.accept(self.poll.registry());
                        }
                    }
                    Token(token) if token >= KAFKA_CONNECTIONS => {
                        if let Some(kafka) = &mut self.kafka {
                            let readable = event.is_readable() || event.is_read_closed();
                            let writable = event.is_writable() || event.is_write_closed();
                            let registry = self.poll.registry();
                            kafka.on_event(token, readable, writable, &self.store, registry, now);
                        }
                    }
                    Token(token) => {
                        let key = token.wrapping_sub(FIRST_CONNECTION);
                        let readable = event.is_readable() || event.is_read_closed();
                        let writable = event.is_writable() || event.is_write_closed();
                        self.on_event(key, readable, writable, now);
                    }
                }
            }
            if store {
                self.take_store_output(now);
            }
            // A fetch answered on its deadline may have been sent: the door
            // looks at the ROUTER again before the loop waits (sinew's rule).
            native |= self.native.expire(&self.store, now);
            if native {
                self.native_more = self.native.serve(&self.store, now);
            }
            if let Some(kafka) = &mut self.kafka {
                kafka.expire(&self.store, now);
                kafka.finish_turn(&self.store, self.poll.registry(), now);
            }
            // After every door's turn: the groups' time moves on and each door
            // gets the answers for its requests, whichever door's request (or
            // expiry) made them.
            self.expire_groups(now);
            for key in self.ready.take_turn() {
                self.read(key, now);
            }
            self.core.handle_timeout(now);
            self.core.take_dirty(&mut dirty);
            for id in dirty.drain(..) {
                if let Some(&key) = self.keys.get(&id) {
                    self.write(key);
                }
            }
            // What the turn's payloads could not be written to is copied now.
            self.core.end_turn();
            self.core.take_closes(&mut closes);
            for (id, reason) in closes.drain(..) {
                self.begin_close(id, reason, now);
            }
            self.finish_closes(now);
        }
    }

    /// Hands the store's completions to the doors whose requests they answer,
    /// and its notices to every door (for their parked fetches).
    fn take_store_output(&mut self, now: Instant) {
        let mut completions = std::mem::take(&mut self.completions);
        self.store.take_completions(&mut completions);
        for completion in completions.drain(..) {
            if completion.id >= GROUP_IDS {
                if let Some(loader) = &mut self.loader
                    && loader.on_completion(completion, &self.store, &self.groups)
                    && groups::lock(&self.groups).loaded
                {
                    self.loader = None;
                }
            } else if completion.id < KAFKA_IDS {
                self.native.on_completion(&self.store, completion, now);
            } else if let Some(kafka) = &mut self.kafka {
                kafka.on_completion(&self.store, completion, now);
            }
        }
        self.completions = completions;
        let mut notices = std::mem::take(&mut self.notices);
        self.store.take_notices(&mut notices);
        if !notices.is_empty() {
            self.native.on_notices(&self.store, &notices);
            if let Some(kafka) = &mut self.kafka {
                kafka.on_notices(&self.store, &notices, now);
            }
        }
        notices.clear();
        self.notices = notices;
    }

    /// Moves the groups' time on: members whose sessions ended leave, waits for
    /// rebalances end; the answers go to the doors waiting for them (an answer
    /// no door waits for any more is dropped).
    fn expire_groups(&mut self, now: Instant) {
        {
            let mut groups = groups::lock(&self.groups);
            let expired = groups.coordinator.expire(now);
            groups.answers.extend(expired);
        }
        self.route_group_answers(now);
    }

    /// Each door takes the coordinator's answers for its own requests; an
    /// answer no door waits for any more is dropped.
    fn route_group_answers(&mut self, now: Instant) {
        if let Some(kafka) = &mut self.kafka {
            kafka.deliver();
            kafka.finish_turn(&self.store, self.poll.registry(), now);
        }
        self.native.deliver_groups(&self.store, now);
        groups::lock(&self.groups).answers.clear();
    }

    fn accept_nats(&mut self, now: Instant) {
        loop {
            let Some(listener) = &self.nats_listener else {
                return;
            };
            match listener.accept() {
                Ok((mut stream, address)) => {
                    let _ = stream.set_nodelay(true);
                    let entry = self.connections.vacant_entry();
                    let key = entry.key();
                    if let Err(error) = self.poll.registry().register(
                        &mut stream,
                        Token(key + FIRST_CONNECTION),
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        tracing::warn!(%error, "could not register a client");
                        continue;
                    }
                    let id = self.next_client;
                    self.next_client += 1;
                    entry.insert(Connection::Nats(nats::Client::new(id, stream)));
                    self.keys.insert(id, key);
                    tracing::info!(client = id, %address, "client connected");
                    self.core.handle_accept(id, address, now);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    return;
                }
            }
        }
    }

    fn accept_http(&mut self) {
        loop {
            let Some(listener) = &self.http_listener else {
                return;
            };
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let entry = self.connections.vacant_entry();
                    let key = entry.key();
                    if self
                        .poll
                        .registry()
                        .register(
                            &mut stream,
                            Token(key + FIRST_CONNECTION),
                            Interest::READABLE | Interest::WRITABLE,
                        )
                        .is_ok()
                    {
                        entry.insert(Connection::Http(http::Request::new(stream)));
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    tracing::warn!(%error, "monitoring accept failed");
                    return;
                }
            }
        }
    }

    fn on_stop(&mut self, now: Instant) {
        if !self.stopper.requested.load(Ordering::Acquire) || self.stopping.is_some() {
            return;
        }
        tracing::info!("shutting down: no new clients; flushing what is queued");
        for listener in [self.nats_listener.take(), self.http_listener.take()]
            .into_iter()
            .flatten()
        {
            let mut listener = listener;
            let _ = self.poll.registry().deregister(&mut listener);
        }
        self.stopping = Some(now + SHUTDOWN_FLUSH);
        self.native.shut_down(&self.store);
        if let Some(kafka) = &mut self.kafka {
            kafka.shut_down(&self.store, self.poll.registry(), now);
        }
        self.core.shut_down();
    }

    fn on_event(&mut self, key: usize, readable: bool, writable: bool, now: Instant) {
        match self.connections.get_mut(key) {
            Some(Connection::Nats(client)) => {
                client.writable |= writable;
                client.readable |= readable;
                if writable {
                    self.write(key);
                }
                if readable {
                    self.read(key, now);
                }
            }
            Some(Connection::Http(request)) => {
                // Only the monitoring listener makes these, so its address is known.
                let http = self
                    .http_address
                    .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
                let done = request.advance(&self.core, self.store.stats(), http, now);
                if done {
                    self.remove(key);
                }
            }
            None => {}
        }
    }

    /// Reads what a client sent, within this turn's budget, into the core.
    fn read(&mut self, key: usize, now: Instant) {
        let Some(Connection::Nats(client)) = self.connections.get_mut(key) else {
            return;
        };
        let id = client.id;
        match client.read() {
            stream::ReadOutcome::Data { more, closed } => {
                self.core.handle_input(id, &mut client.input, now);
                if closed {
                    // What it sent last is answered before the connection ends.
                    tracing::info!(client = id, "client closed");
                    if client.close_by.is_none() {
                        client.close_by = Some(now + CLOSE_FLUSH);
                        self.closing.push(key);
                    }
                    self.write(key);
                } else if more {
                    self.ready.push(key);
                }
            }
            stream::ReadOutcome::Idle => {}
            stream::ReadOutcome::Closed => {
                tracing::info!(client = id, "client closed");
                self.core.handle_closed(id);
                self.remove(key);
            }
        }
    }

    /// Writes what waits for a client until done or the socket is full.
    fn write(&mut self, key: usize) {
        let Some(Connection::Nats(client)) = self.connections.get_mut(key) else {
            return;
        };
        let Some((outbox, turn)) = self.core.outbox(client.id) else {
            return;
        };
        if client.write(outbox, turn).is_err() {
            let id = client.id;
            tracing::info!(client = id, "write failed: client closed");
            self.core.handle_closed(id);
            self.remove(key);
        }
    }

    fn begin_close(&mut self, id: ClientId, reason: CloseReason, now: Instant) {
        let Some(&key) = self.keys.get(&id) else {
            return;
        };
        let Some(Connection::Nats(client)) = self.connections.get_mut(key) else {
            return;
        };
        tracing::info!(client = id, ?reason, "closing client");
        if reason == CloseReason::SlowConsumer {
            // nats-server closes a slow consumer at once, without flushing.
            self.core.handle_closed(id);
            self.remove(key);
            return;
        }
        let limit = match reason {
            CloseReason::ServerShutdown => SHUTDOWN_FLUSH,
            _ => CLOSE_FLUSH,
        };
        if client.close_by.is_none() {
            self.closing.push(key);
        }
        client.close_by = Some(now + limit);
        self.write(key);
    }

    /// Ends the closing clients whose outbox is written or whose time is up.
    fn finish_closes(&mut self, now: Instant) {
        if self.closing.is_empty() {
            return;
        }
        let mut done = Vec::new();
        let connections = &self.connections;
        let core = &mut self.core;
        self.closing.retain(|&key| {
            let Some(Connection::Nats(client)) = connections.get(key) else {
                return false;
            };
            let Some(by) = client.close_by else {
                return false;
            };
            let flushed = core.outbox_is_empty(client.id);
            if now >= by || flushed {
                done.push((key, client.id));
                return false;
            }
            true
        });
        for (key, id) in done {
            self.core.handle_closed(id);
            self.remove(key);
        }
    }

    fn remove(&mut self, key: usize) {
        if !self.connections.contains(key) {
            return;
        }
        let connection = self.connections.remove(key);
        self.ready.remove(key);
        self.closing.retain(|&closing| closing != key);
        match connection {
            Connection::Nats(mut client) => {
                self.keys.remove(&client.id);
                let _ = self.poll.registry().deregister(&mut client.stream);
                let _ = client.stream.shutdown(std::net::Shutdown::Both);
            }
            Connection::Http(mut request) => {
                let _ = self.poll.registry().deregister(request.stream());
            }
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Server")
            .field("nats", &self.nats_address)
            .field("http", &self.http_address)
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

fn bind(door: &'static str, address: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(address).map_err(|source| StartError::Bind {
        door,
        address,
        source,
    })
}

/// A server id unique enough to tell servers apart: nats-server uses a public
/// key; clients only compare it.
fn server_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("SINEW{:X}{:X}", nanos, std::process::id())
}
