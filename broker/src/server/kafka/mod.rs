//! The Kafka door's I/O: Kafka clients over TCP on the server's mio loop, in
//! front of the partition store the server owns.
//!
//! Per connection, bytes are read into a buffer and split into requests
//! (`split_frame`: a size prefix over 100 MiB closes the connection before the
//! body is buffered); each request is decoded and started (`work.rs`), which
//! answers at once or sends store requests under ids from [`super::KAFKA_IDS`]
//! up; the server hands their completions back here, and the work goes on until
//! it answers. Answers go out in request order (`connection.rs`), and a
//! Metadata (which may create topics) is answered before the requests after it
//! start, as Kafka serves a connection one request at a time; other requests of
//! a connection run together, their store requests queued in order. A Fetch that
//! finds too little parks until a store notice says one of its partitions moved,
//! or its wait ends on the loop's clock. A connection with
//! [`MAX_WAITING_PER_CONNECTION`] requests unanswered is not read until some are
//! answered, and no connection is read while [`MAX_PENDING_BYTES`] of requests
//! wait, so neither requests nor answers pile up without bound.
//! What cannot be decoded is answered as Kafka does (`RequestError::answer`):
//! an ApiVersions of an unknown version gets error 35, anything else closes the
//! connection.
//!
//! This module must never block, never wait on the disk and never panic on what
//! a client sends.

mod admin;
mod connection;
mod errors;
mod fetch;
mod groups;
mod metadata;
mod produce;
mod topics;
mod work;

pub(crate) use work::DoorSettings;

use super::stream::{self, ReadOutcome, ReadyQueue};
use crate::doors::kafka::{
    Answer, RequestBody, decode_request, encode_response, encode_unsupported_api_versions,
};
use crate::groups::{Answer as GroupAnswer, Token as GroupToken};
use crate::server::groups::{Groups, SharedGroups, lock};
use crate::store::{Completion, PartitionNotice, Request, RequestId, Store, StoreError};
use connection::{Connection, Slot};
use mio::net::TcpListener;
use mio::{Interest, Registry, Token};
use rustc_hash::FxHashMap;
use slab::Slab;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;
use work::{Client, Context, Outcome, Step, Work};

/// The most requests one connection may have unanswered (taken and not yet
/// written); past it the connection is not read. Kafka clients keep at most 5
/// in flight per connection by default.
pub const MAX_WAITING_PER_CONNECTION: usize = 64;
/// The most request bytes all connections together may have unanswered; past
/// it no connection is read until answers release some (Kafka's
/// `queued.max.request.bytes`, which it leaves unbounded by default).
pub const MAX_PENDING_BYTES: usize = 256 << 20;

/// A request waiting for the store, or parked.
#[derive(Debug)]
struct Job {
    connection: usize,
    serial: u64,
    /// Where its answer goes; `None`: nobody is answered (acks 0).
    slot: Option<Slot>,
    correlation_id: i32,
    version: i16,
    work: Work,
    /// The replies of the current step's store requests, by index.
    replies: Vec<Option<Outcome>>,
    remaining: usize,
    /// The request's size, counted in the door's pending bytes until answered.
    bytes: usize,
}

/// The Kafka listener, its connections and their requests.
pub(crate) struct KafkaDoor {
    listener: Option<TcpListener>,
    address: SocketAddr,
    settings: DoorSettings,
    /// Connection `key` has token `first_token + key`.
    first_token: usize,
    connections: Slab<Connection>,
    next_serial: u64,
    jobs: Slab<Job>,
    /// A store request's id to its job and its index in the job's step.
    parts: FxHashMap<RequestId, (usize, usize)>,
    next_id: RequestId,
    /// Jobs waiting for data (fetches).
    parked: Vec<usize>,
    /// The broker's consumer groups (shared with the other doors).
    groups: SharedGroups,
    /// Jobs waiting for the coordinator's answer, by token.
    waiting: FxHashMap<GroupToken, Job>,
    /// Connections with reading or requests left over from their last turn.
    ready: ReadyQueue,
    /// Connections with answers to write this turn.
    dirty: Vec<usize>,
    /// Request bytes taken and not yet answered, all connections together.
    pending_bytes: usize,
    /// Connections not read while `pending_bytes` is over its bound.
    held: Vec<usize>,
    stopping: bool,
}

impl KafkaDoor {
    /// Binds `address` with the door's `config` and registers the listener
    /// under `listener_token`; connections get tokens from `first_token` up.
    /// Clients are told to connect to `config.advertised`, or to the bound
    /// address when it is `None`.
    pub(crate) fn bind(
        address: SocketAddr,
        config: &crate::config::Kafka,
        groups: SharedGroups,
        registry: &Registry,
        listener_token: Token,
        first_token: usize,
    ) -> io::Result<KafkaDoor> {
        let mut listener = TcpListener::bind(address)?;
        let address = listener.local_addr()?;
        registry.register(&mut listener, listener_token, Interest::READABLE)?;
        let advertised = config
            .advertised
            .as_deref()
            .and_then(crate::config::split_host_port);
        let (host, port) = advertised.unwrap_or((address.ip().to_string(), address.port()));
        let (auto_create_topics, default_partitions) =
            (config.auto_create_topics, config.default_partitions);
        Ok(KafkaDoor {
            listener: Some(listener),
            address,
            settings: DoorSettings {
                host,
                port: i32::from(port),
                auto_create_topics,
                default_partitions,
                cluster_id: "sinew".to_owned(),
            },
            first_token,
            connections: Slab::new(),
            next_serial: 0,
            jobs: Slab::new(),
            parts: FxHashMap::default(),
            next_id: super::KAFKA_IDS,
            parked: Vec::new(),
            groups,
            waiting: FxHashMap::default(),
            ready: ReadyQueue::default(),
            dirty: Vec::new(),
            pending_bytes: 0,
            held: Vec::new(),
            stopping: false,
        })
    }

    /// Where the door listens (with the port filled in).
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Takes every waiting connection.
    pub(crate) fn accept(&mut self, registry: &Registry) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((mut stream, address)) => {
                    let _ = stream.set_nodelay(true);
                    let entry = self.connections.vacant_entry();
                    let token = Token(self.first_token + entry.key());
                    if let Err(error) = registry.register(
                        &mut stream,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        tracing::warn!(%error, "kafka door: could not register a client");
                        continue;
                    }
                    self.next_serial += 1;
                    tracing::info!(%address, "kafka client connected");
                    entry.insert(Connection::new(stream, address, self.next_serial));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    tracing::warn!(%error, "kafka door: accept failed");
                    return;
                }
            }
        }
    }

    /// Readiness for the connection with `token`.
    pub(crate) fn on_event(
        &mut self,
        token: usize,
        readable: bool,
        writable: bool,
        store: &Store,
        registry: &Registry,
        now: Instant,
    ) {
        let key = token.wrapping_sub(self.first_token);
        let Some(connection) = self.connections.get_mut(key) else {
            return;
        };
        connection.readable |= readable;
        connection.writable |= writable;
        if writable {
            self.mark_dirty(key);
        }
        if readable {
            self.read(key, store, registry, now);
        }
    }

    /// The turn's end: connections with input left are served again, answers are
    /// written, and connections that are done are closed.
    pub(crate) fn finish_turn(&mut self, store: &Store, registry: &Registry, now: Instant) {
        for key in self.ready.take_turn() {
            self.read(key, store, registry, now);
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        for key in dirty.drain(..) {
            self.write(key, registry);
        }
        self.dirty = dirty;
    }

    /// Whether the loop has work for the door without waiting for readiness.
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    fn read(&mut self, key: usize, store: &Store, registry: &Registry, now: Instant) {
        let Some(connection) = self.connections.get_mut(key) else {
            return;
        };
        if connection.closing || connection.waiting() >= MAX_WAITING_PER_CONNECTION {
            // Read again once answers go out (`answer` puts it back in `ready`).
            return;
        }
        if self.pending_bytes >= MAX_PENDING_BYTES {
            self.hold(key);
            return;
        }
        match stream::read(
            &mut connection.stream,
            &mut connection.input,
            &mut connection.readable,
        ) {
            ReadOutcome::Closed if connection.input.is_empty() => {
                tracing::info!(address = %connection.address, "kafka client closed");
                self.remove(key, registry);
                return;
            }
            ReadOutcome::Closed | ReadOutcome::Data { closed: true, .. } => {
                // What it sent last is answered before the connection ends.
                connection.closing = true;
                self.mark_dirty(key);
            }
            ReadOutcome::Data { more: true, .. } => self.ready.push(key),
            ReadOutcome::Data { .. } | ReadOutcome::Idle => {}
        }
        self.take_requests(key, store, registry, now);
    }

    /// Starts the whole requests in a connection's input, up to its bound.
    fn take_requests(&mut self, key: usize, store: &Store, registry: &Registry, now: Instant) {
        loop {
            let Some(connection) = self.connections.get_mut(key) else {
                return;
            };
            if connection.waiting() >= MAX_WAITING_PER_CONNECTION || connection.barrier.is_some() {
                return;
            }
            if self.pending_bytes >= MAX_PENDING_BYTES {
                self.hold(key);
                return;
            }
            let frame = match connection.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(error) => {
                    tracing::debug!(address = %connection.address, %error, "kafka door: refused a request; closing");
                    self.remove(key, registry);
                    return;
                }
            };
            let bytes = frame.len();
            let request = match decode_request(frame) {
                Ok(request) => request,
                Err(error) => {
                    tracing::debug!(address = %connection.address, %error, "kafka door: refused a request");
                    match error.answer() {
                        Answer::UnsupportedApiVersions { correlation_id } => {
                            let slot = connection.open_slot();
                            connection.fill(slot, encode_unsupported_api_versions(correlation_id));
                            self.mark_dirty(key);
                            continue;
                        }
                        Answer::Close => {
                            self.remove(key, registry);
                            return;
                        }
                    }
                }
            };
            let silent =
                matches!(&request.body, RequestBody::Produce(produce) if produce.acks == 0);
            let slot = (!silent).then(|| connection.open_slot());
            if matches!(request.body, RequestBody::Metadata(_)) {
                // Kafka serves a connection's requests one at a time: what comes
                // after a Metadata sees the topics it created.
                connection.barrier = slot;
            }
            let serial = connection.serial;
            let version = request.header.api_version;
            let correlation_id = request.header.correlation_id;
            let client = Client {
                id: request.header.client_id.as_deref().unwrap_or(""),
                host: &connection.host,
            };
            let (work, step) = {
                let mut groups = lock(&self.groups);
                let mut cx = context(&self.settings, &mut groups, now, self.stopping);
                work::start(request.body, version, &client, &mut cx)
            };
            let job = Job {
                connection: key,
                serial,
                slot,
                correlation_id,
                version,
                work: match work {
                    Some(work) => work,
                    None => Work::Done,
                },
                replies: Vec::new(),
                remaining: 0,
                bytes,
            };
            self.pending_bytes += bytes;
            self.run(job, step, store, now);
        }
    }

    /// Keeps a connection unread until pending bytes fall under their bound.
    fn hold(&mut self, key: usize) {
        if !self.held.contains(&key) {
            self.held.push(key);
        }
    }

    /// A job is done: its bytes no longer count, and held connections are read
    /// again once there is room.
    fn release(&mut self, bytes: usize) {
        debug_assert!(bytes <= self.pending_bytes, "released more than was taken");
        self.pending_bytes = self.pending_bytes.saturating_sub(bytes);
        if self.pending_bytes < MAX_PENDING_BYTES && !self.held.is_empty() {
            for key in self.held.drain(..) {
                self.ready.push(key);
            }
        }
    }

    /// Carries out a job's next step.
    fn run(&mut self, mut job: Job, step: Step, store: &Store, now: Instant) {
        match step {
            Step::Answer(body) => {
                if let Some(slot) = job.slot {
                    let chunks = encode_response(job.correlation_id, job.version, &body);
                    self.answer(job.connection, job.serial, slot, chunks);
                }
                self.release(job.bytes);
            }
            Step::Silent => self.release(job.bytes),
            Step::Park => {
                let key = self.jobs.insert(job);
                self.parked.push(key);
            }
            Step::Wait(token) => {
                self.waiting.insert(token, job);
            }
            Step::Store(requests) if requests.is_empty() => {
                // Nothing to ask the store after all: on to the next step.
                let step = {
                    let mut groups = lock(&self.groups);
                    let mut cx = context(&self.settings, &mut groups, now, self.stopping);
                    job.work.advance(Vec::new(), &mut cx)
                };
                self.run(job, step, store, now);
            }
            Step::Store(requests) => {
                let count = requests.len();
                job.replies = (0..count).map(|_| None).collect();
                job.remaining = count;
                let key = self.jobs.insert(job);
                let mut batch: Vec<(RequestId, Request)> = Vec::with_capacity(count);
                for (index, request) in requests.into_iter().enumerate() {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.parts.insert(id, (key, index));
                    batch.push((id, request));
                }
                if let Err(error) = store.submit_batch(batch) {
                    // Nothing was queued: every request fails with the refusal.
                    let mut job = self.jobs.remove(key);
                    self.parts.retain(|_, (owner, _)| *owner != key);
                    let replies = (0..count).map(|_| Err(copy(&error))).collect();
                    let step = {
                        let mut groups = lock(&self.groups);
                        let mut cx = context(&self.settings, &mut groups, now, self.stopping);
                        job.work.advance(replies, &mut cx)
                    };
                    self.run(job, step, store, now);
                }
            }
        }
        self.deliver();
    }

    /// Sends the coordinator's answers to this door's requests waiting for
    /// them; answers for other doors' tokens stay for them.
    pub(crate) fn deliver(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let waiting = &self.waiting;
        let answers = lock(&self.groups).take_answers(|token| waiting.contains_key(&token));
        for answer in answers {
            let (token, body) = match answer {
                GroupAnswer::Join(token, answer) => (
                    token,
                    groups::join_response(answer, crate::doors::kafka::ErrorCode::None),
                ),
                GroupAnswer::Sync(token, answer) => (
                    token,
                    groups::sync_response(answer, crate::doors::kafka::ErrorCode::None),
                ),
            };
            let Some(job) = self.waiting.remove(&token) else {
                continue;
            };
            if let Some(slot) = job.slot {
                let chunks = encode_response(job.correlation_id, job.version, &body);
                self.answer(job.connection, job.serial, slot, chunks);
            }
            self.release(job.bytes);
        }
    }

    /// One of this door's store requests completed.
    pub(crate) fn on_completion(&mut self, store: &Store, completion: Completion, now: Instant) {
        let Some((key, index)) = self.parts.remove(&completion.id) else {
            return;
        };
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        if let Some(place) = job.replies.get_mut(index) {
            debug_assert!(place.is_none(), "a store request completed twice");
            *place = Some(completion.result);
        }
        job.remaining = job.remaining.saturating_sub(1);
        if job.remaining > 0 {
            return;
        }
        let mut job = self.jobs.remove(key);
        let replies = std::mem::take(&mut job.replies)
            .into_iter()
            .map(|reply| reply.unwrap_or(Err(StoreError::Stopped)))
            .collect();
        let step = {
            let mut groups = lock(&self.groups);
            let mut cx = context(&self.settings, &mut groups, now, self.stopping);
            job.work.advance(replies, &mut cx)
        };
        self.run(job, step, store, now);
    }

    /// Parked fetches whose partitions' visible ends moved read again.
    pub(crate) fn on_notices(&mut self, store: &Store, notices: &[PartitionNotice], now: Instant) {
        if self.parked.is_empty() {
            return;
        }
        let moved = |job: &Job| {
            let Work::Fetch(fetch) = &job.work else {
                return true;
            };
            fetch.watched.iter().any(|(topic, partition, end)| {
                notices.iter().any(|notice| {
                    notice.partition == *partition
                        && *notice.topic == **topic
                        && notice.visible_end.is_some_and(|visible| visible > *end)
                })
            })
        };
        let woken = self.unpark(|job| moved(job));
        for job in woken {
            self.reread(job, false, store, now);
        }
    }

    /// Parked fetches whose wait ended read once more and are answered; returns
    /// whether any did.
    pub(crate) fn expire(&mut self, store: &Store, now: Instant) -> bool {
        let woken = self.unpark(|job| match &job.work {
            Work::Fetch(fetch) => fetch.deadline() <= now,
            _ => true,
        });
        let any = !woken.is_empty();
        for job in woken {
            self.reread(job, true, store, now);
        }
        any
    }

    /// When the next parked fetch's wait ends.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.parked
            .iter()
            .filter_map(|key| match &self.jobs.get(*key)?.work {
                Work::Fetch(fetch) => Some(fetch.deadline()),
                _ => None,
            })
            .min()
    }

    /// Stops accepting and reading; parked fetches are answered now; each
    /// connection closes once its answers are written.
    pub(crate) fn shut_down(&mut self, store: &Store, registry: &Registry, now: Instant) {
        self.stopping = true;
        if let Some(mut listener) = self.listener.take() {
            let _ = registry.deregister(&mut listener);
        }
        let keys: Vec<usize> = self.connections.iter().map(|(key, _)| key).collect();
        for key in keys {
            if let Some(connection) = self.connections.get_mut(key) {
                connection.closing = true;
            }
            self.mark_dirty(key);
        }
        for job in self.unpark(|_| true) {
            self.reread(job, true, store, now);
        }
        for (_, job) in std::mem::take(&mut self.waiting) {
            let Work::Group(work) = &job.work else {
                continue;
            };
            if let (Some(body), Some(slot)) = (work.abandoned(), job.slot) {
                let chunks = encode_response(job.correlation_id, job.version, &body);
                self.answer(job.connection, job.serial, slot, chunks);
            }
            self.release(job.bytes);
        }
    }

    /// Whether every connection is closed and no request waits.
    pub(crate) fn is_idle(&self) -> bool {
        self.connections.is_empty() && self.jobs.is_empty() && self.waiting.is_empty()
    }

    fn unpark(&mut self, mut wake: impl FnMut(&Job) -> bool) -> Vec<Job> {
        let mut woken = Vec::new();
        let jobs = &mut self.jobs;
        self.parked.retain(|&key| {
            let Some(job) = jobs.get(key) else {
                return false;
            };
            if !wake(job) {
                return true;
            }
            woken.push(jobs.remove(key));
            false
        });
        woken
    }

    fn reread(&mut self, mut job: Job, last: bool, store: &Store, now: Instant) {
        let step = match &mut job.work {
            Work::Fetch(fetch) => {
                if last {
                    fetch.give_up_waiting();
                }
                fetch.read()
            }
            _ => return,
        };
        self.run(job, step, store, now);
    }

    /// Puts an answer in its connection's order (dropped if the connection went
    /// away), and takes more of its requests if it was held back.
    fn answer(&mut self, key: usize, serial: u64, slot: Slot, chunks: Vec<bytes::Bytes>) {
        let Some(connection) = self.connections.get_mut(key) else {
            return;
        };
        if connection.serial != serial {
            return;
        }
        let held =
            connection.waiting() >= MAX_WAITING_PER_CONNECTION || connection.barrier == Some(slot);
        connection.fill(slot, chunks);
        if held && !connection.closing {
            self.ready.push(key);
        }
        self.mark_dirty(key);
    }

    fn mark_dirty(&mut self, key: usize) {
        if !self.dirty.contains(&key) {
            self.dirty.push(key);
        }
    }

    fn write(&mut self, key: usize, registry: &Registry) {
        let Some(connection) = self.connections.get_mut(key) else {
            return;
        };
        let result = stream::write(
            &mut connection.stream,
            &mut connection.outbox,
            // The Kafka door splices nothing in: no turn's payloads to read.
            &[],
            &mut connection.writable,
        );
        if let Err(error) = result {
            tracing::info!(address = %connection.address, %error, "kafka client: write failed");
            self.remove(key, registry);
            return;
        }
        if connection.closing && connection.is_flushed() {
            tracing::info!(address = %connection.address, "kafka client closed");
            self.remove(key, registry);
        }
    }

    /// Closes a connection; its parked fetches are dropped, its other requests
    /// finish in the store and their answers are dropped.
    fn remove(&mut self, key: usize, registry: &Registry) {
        if !self.connections.contains(key) {
            return;
        }
        let mut connection = self.connections.remove(key);
        let _ = registry.deregister(&mut connection.stream);
        let _ = connection.stream.shutdown(std::net::Shutdown::Both);
        let serial = connection.serial;
        for job in self.unpark(|job| job.connection == key && job.serial == serial) {
            self.release(job.bytes);
        }
        self.ready.remove(key);
        self.dirty.retain(|&dirty| dirty != key);
        self.held.retain(|&held| held != key);
    }
}

impl std::fmt::Debug for KafkaDoor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KafkaDoor")
            .field("address", &self.address)
            .field("connections", &self.connections.len())
            .field("jobs", &self.jobs.len())
            .finish_non_exhaustive()
    }
}

/// What a request's work is given.
fn context<'a>(
    settings: &'a DoorSettings,
    groups: &'a mut Groups,
    now: Instant,
    stopping: bool,
) -> Context<'a> {
    Context {
        settings,
        groups,
        now,
        wall_ms: wall_ms(),
        stopping,
    }
}

/// Milliseconds since the Unix epoch (the door is the I/O shell: it reads the
/// wall clock for the records it writes itself).
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// The same refusal again, for each request of a batch the store refused.
fn copy(error: &StoreError) -> StoreError {
    match error {
        StoreError::Busy { limit } => StoreError::Busy { limit: *limit },
        _ => StoreError::Stopped,
    }
}
