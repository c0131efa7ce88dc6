//! The broker's core: the subject router behind the NATS door, sans-IO.
//!
//! Connection events, client bytes and the time come in (`handle_*`); bytes to
//! write (each client's `Outbox`), closes and the next deadline come out (`poll_*`,
//! `take_*`). One publish is matched once, against the subject trie, and fanned out
//! to every plain subscriber and to one member of each queue group, sharing the
//! payload's bytes. A client whose outbox passes its limit is closed as a slow
//! consumer, so it never slows the publisher or anyone else.
//!
//! This module must never touch a socket, start a thread or read a clock: the
//! server passes `now` in.

pub mod outbox;
pub mod stats;

mod client;
mod deliver;

use self::client::{Client, Subscriber, Subscription};
pub use self::outbox::Outbox;
use self::stats::Stats;
use crate::config::{Authorization, Limits, Ping};
use crate::doors::nats::{self as door, ClientOperation, Connect, Info, Violation};
use crate::subjects::{self, SubjectTrie};
use bytes::{Bytes, BytesMut};
use rustc_hash::FxHashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A client's identity, chosen by the server (unique while it is connected).
pub type ClientId = u64;

/// The nats-server version whose client protocol the NATS door serves, announced
/// in INFO: clients enable features by it.
pub const NATS_PROTOCOL_LEVEL: &str = "2.10.0";

/// The most payloads a turn holds before its splices are settled early (the
/// server ends a turn long before; this bounds a caller that does not).
const TURN_PAYLOADS: usize = 64 * 1024;
/// The most payload bytes a turn holds before its splices are settled early.
const TURN_BYTES: usize = 64 * 1024 * 1024;

/// How often deadlines (pings, authentication) are checked.
const SWEEP_INTERVAL: Duration = Duration::from_millis(250);

/// What the core needs to know to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Limits on what clients send and hold.
    pub limits: Limits,
    /// Keep-alive pings.
    pub ping: Ping,
    /// Who may connect.
    pub authorization: Authorization,
    /// This server's identity, as INFO announces it.
    pub server_id: String,
    /// This server's name.
    pub server_name: String,
    /// Where the NATS door listens, as INFO announces it.
    pub address: SocketAddr,
}

/// Why a client was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed its side, or its connection failed.
    ClientClosed,
    /// The client broke the protocol.
    ProtocolViolation,
    /// Too much waited to be written to it.
    SlowConsumer,
    /// It did not answer pings.
    StaleConnection,
    /// Its credentials were refused.
    AuthorizationViolation,
    /// It did not send CONNECT in time.
    AuthenticationTimeout,
    /// The server was full.
    MaxConnectionsExceeded,
    /// The server is shutting down.
    ServerShutdown,
}

/// The subject router: clients, their subscriptions, and the trie.
#[derive(Debug)]
pub struct Core {
    settings: Settings,
    /// By id: ids are chosen by the server, so a fast hash is safe here.
    clients: FxHashMap<ClientId, Client>,
    subjects: SubjectTrie<Subscriber>,
    stats: Stats,
    started: Instant,
    /// Clients with new output, to be written after this turn.
    dirty: Vec<ClientId>,
    /// Clients to close once what was queued to them is written.
    closes: Vec<(ClientId, CloseReason)>,
    next_sweep: Instant,
    /// Rotates which member of a queue group is tried first.
    queue_cursor: usize,
    /// This turn's payloads, which outboxes splice in by number until
    /// `end_turn` (so fanning one out costs no copy and no reference count
    /// per recipient).
    turn: Vec<Bytes>,
    /// Their total size.
    turn_bytes: usize,
    /// Clients whose outboxes splice in this turn's payloads.
    spliced: Vec<ClientId>,
    /// Scratch list of what one publish ended (subscriptions at their maximum,
    /// slow consumers), kept to avoid an allocation per message.
    endings: Vec<deliver::Ending>,
}

impl Core {
    /// A core with no clients.
    pub fn new(settings: Settings, now: Instant) -> Core {
        Core {
            clients: FxHashMap::default(),
            subjects: SubjectTrie::new(),
            stats: Stats::default(),
            started: now,
            dirty: Vec::new(),
            closes: Vec::new(),
            next_sweep: now + SWEEP_INTERVAL,
            // Queue groups start at a member that differs from server to server.
            queue_cursor: settings.server_id.bytes().fold(0usize, |hash, byte| {
                hash.wrapping_mul(31).wrapping_add(usize::from(byte))
            }),
            endings: Vec::new(),
            turn: Vec::new(),
            turn_bytes: 0,
            spliced: Vec::new(),
            settings,
        }
    }

    /// A client connected: it is sent INFO (or refused, over the connection limit).
    pub fn handle_accept(&mut self, id: ClientId, address: SocketAddr, now: Instant) {
        self.stats.total_connections += 1;
        let limits = &self.settings.limits;
        let mut client = Client::new(address, limits, &self.settings.ping, now);
        if self.settings.authorization.required() {
            client.authentication_deadline = Some(now + self.settings.authorization.timeout);
            client.parser.require_connect();
        }
        let info = self.info(id, address);
        if let Err(error) = door::encode_info(&info, client.outbox.lines()) {
            tracing::error!(%error, "could not encode INFO");
        }
        client.count_lines(0);
        let full = self.clients.len() >= limits.max_connections;
        self.clients.insert(id, client);
        self.dirty.push(id);
        if full {
            self.refuse(
                id,
                "maximum connections exceeded",
                CloseReason::MaxConnectionsExceeded,
            );
        }
    }

    /// Bytes arrived from a client: each whole operation in `input` is consumed and
    /// handled; a partial one stays for the next call.
    pub fn handle_input(&mut self, id: ClientId, input: &mut BytesMut, now: Instant) {
        loop {
            let Some(client) = self.clients.get_mut(&id) else {
                input.clear();
                return;
            };
            if client.closing {
                input.clear();
                return;
            }
            client.last_activity = now;
            match client.parser.parse(input) {
                Ok(Some(operation)) => self.handle_operation(id, operation, now),
                Ok(None) => return,
                Err(violation) => {
                    self.violation(id, &violation);
                    if violation.close {
                        input.clear();
                        return;
                    }
                    // Not fatal (an invalid subject): the connection goes on.
                }
            }
        }
    }

    /// A client's connection ended (it closed, or failed).
    pub fn handle_closed(&mut self, id: ClientId) {
        self.remove_client(id);
    }

    /// Runs what is due: pings, stale clients, authentication deadlines.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + SWEEP_INTERVAL;
        let mut stale = Vec::new();
        let mut late = Vec::new();
        let ping = self.settings.ping;
        for (&id, client) in &mut self.clients {
            if client.closing {
                continue;
            }
            if client
                .authentication_deadline
                .is_some_and(|deadline| now >= deadline)
            {
                late.push(id);
                continue;
            }
            if now < client.next_ping {
                continue;
            }
            client.next_ping = now + ping.interval;
            if client.pings_out >= ping.max_outstanding {
                stale.push(id);
                continue;
            }
            client.pings_out += 1;
            let before = client.outbox.lines().len();
            door::encode_ping(client.outbox.lines());
            client.count_lines(before);
            self.dirty.push(id);
        }
        for id in late {
            self.refuse(
                id,
                "Authentication Timeout",
                CloseReason::AuthenticationTimeout,
            );
        }
        for id in stale {
            self.refuse(id, "Stale Connection", CloseReason::StaleConnection);
        }
    }

    /// When `handle_timeout` should next run.
    pub fn poll_timeout(&self) -> Instant {
        self.next_sweep
    }

    /// The server is stopping: every client is closed once its outbox is written.
    pub fn shut_down(&mut self) {
        let ids: Vec<ClientId> = self.clients.keys().copied().collect();
        for id in ids {
            self.close(id, CloseReason::ServerShutdown);
        }
    }

    /// A client's outbox, to write from, with the turn's payloads it may splice
    /// in (`Outbox::io_slices` reads them).
    pub fn outbox(&mut self, id: ClientId) -> Option<(&mut Outbox, &[Bytes])> {
        let client = self.clients.get_mut(&id)?;
        Some((&mut client.outbox, &self.turn))
    }

    /// Whether nothing waits to be written to a client (or it is gone).
    pub fn outbox_is_empty(&self, id: ClientId) -> bool {
        self.clients
            .get(&id)
            .is_none_or(|client| client.outbox.is_empty())
    }

    /// The turn is over (what could be written was): what the outboxes still
    /// splice in of its payloads is settled into them, and the payloads are let
    /// go. The server calls it once a turn, after writing.
    pub fn end_turn(&mut self) {
        for id in self.spliced.drain(..) {
            if let Some(client) = self.clients.get_mut(&id) {
                client.outbox.settle(&self.turn);
            }
        }
        self.turn.clear();
        self.turn_bytes = 0;
    }

    /// Moves the clients that have new output into `into` (each at most once).
    pub fn take_dirty(&mut self, into: &mut Vec<ClientId>) {
        self.dirty.sort_unstable();
        self.dirty.dedup();
        for id in &self.dirty {
            if let Some(client) = self.clients.get_mut(id) {
                client.listed_dirty = false;
            }
        }
        into.append(&mut self.dirty);
    }

    /// Moves the clients to close into `into`; the server writes what is queued
    /// to them first, then calls `handle_closed`.
    pub fn take_closes(&mut self, into: &mut Vec<(ClientId, CloseReason)>) {
        into.append(&mut self.closes);
    }

    /// The broker's totals.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// When the core started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// How many clients are connected.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Each connected client, for monitoring.
    pub fn clients(&self) -> impl Iterator<Item = (ClientId, client::ClientView<'_>)> {
        self.clients.iter().map(|(&id, client)| (id, client.view()))
    }

    /// The subject trie's counters, for monitoring.
    pub fn subject_stats(&self) -> subjects::Statistics {
        self.subjects.statistics()
    }

    fn info(&self, id: ClientId, address: SocketAddr) -> Info {
        Info {
            server_id: self.settings.server_id.clone(),
            server_name: self.settings.server_name.clone(),
            // Clients turn features on by the server's version (nats.js wants
            // 2.2.0 for headers): announce the nats-server protocol level served.
            version: NATS_PROTOCOL_LEVEL.to_owned(),
            proto: 1,
            host: self.settings.address.ip().to_string(),
            port: self.settings.address.port(),
            headers: true,
            max_payload: i32::try_from(self.settings.limits.max_payload).unwrap_or(i32::MAX),
            client_id: id,
            client_ip: address.ip().to_string(),
            auth_required: self.settings.authorization.required(),
            ..Info::default()
        }
    }

    fn handle_operation(&mut self, id: ClientId, operation: ClientOperation, now: Instant) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        let connected = client.connected;
        match operation {
            ClientOperation::Connect(connect) => self.connect(id, connect),
            _ if !connected && self.settings.authorization.required() => self.refuse(
                id,
                "Authorization Violation",
                CloseReason::AuthorizationViolation,
            ),
            ClientOperation::Ping => {
                let before = client.outbox.lines().len();
                door::encode_pong(client.outbox.lines());
                client.count_lines(before);
                self.dirty.push(id);
            }
            ClientOperation::Pong => client.pings_out = 0,
            ClientOperation::Publish(publish) => self.publish(id, publish, now),
            ClientOperation::Subscribe(subscribe) => {
                self.subscribe(id, subscribe.subject, subscribe.queue, subscribe.sid);
            }
            ClientOperation::Unsubscribe(unsubscribe) => {
                self.unsubscribe(id, &unsubscribe.sid, unsubscribe.max_messages);
            }
        }
    }

    fn connect(&mut self, id: ClientId, connect: Box<Connect>) {
        let authorization = &self.settings.authorization;
        let allowed = if let Some(token) = &authorization.token {
            connect.auth_token == *token || user_allowed(authorization, &connect)
        } else if !authorization.users.is_empty() {
            user_allowed(authorization, &connect)
        } else {
            true
        };
        if !allowed {
            tracing::debug!(client = id, "authorization violation");
            self.refuse(
                id,
                "Authorization Violation",
                CloseReason::AuthorizationViolation,
            );
            return;
        }
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        client.connected = true;
        client.authentication_deadline = None;
        client.options = *connect;
        if client.options.verbose {
            self.ok(id);
        }
    }

    /// The parser has checked the subject (an invalid one never arrives here). What
    /// is kept is copied out of the receive buffer, which it would otherwise pin.
    fn subscribe(&mut self, id: ClientId, subject: Bytes, queue: Option<Bytes>, sid: Bytes) {
        let subject = Bytes::copy_from_slice(&subject);
        let queue = queue.map(|queue| Bytes::copy_from_slice(&queue));
        let sid = Bytes::copy_from_slice(&sid);
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        if client.subscriptions.contains(&sid) {
            // nats-server ignores a second SUB with a sid already in use.
            if client.options.verbose {
                self.ok(id);
            }
            return;
        }
        let subscriber = Subscriber {
            client: id,
            sid: sid.clone(),
            slot: client.subscriptions.next_slot(),
        };
        let Ok(key) = self.subjects.insert(&subject, queue.as_deref(), subscriber) else {
            self.error(id, "Invalid Subject");
            return;
        };
        let slot = client.subscriptions.insert(
            sid,
            Subscription {
                key,
                subject,
                max: None,
                delivered: 0,
            },
        );
        debug_assert_eq!(
            self.subjects.get(key).map(|subscriber| subscriber.slot),
            Some(slot)
        );
        if client.options.verbose {
            self.ok(id);
        }
    }

    fn unsubscribe(&mut self, id: ClientId, sid: &Bytes, max: Option<u64>) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        let verbose = client.options.verbose;
        if let Some(subscription) = client.subscriptions.by_sid_mut(sid) {
            match max {
                Some(max) if subscription.delivered < max => subscription.max = Some(max),
                _ => {
                    if let Some(subscription) = client.subscriptions.remove(sid) {
                        self.subjects.remove(subscription.key);
                    }
                }
            }
        }
        if verbose {
            self.ok(id);
        }
    }

    /// Queues `+OK` for a verbose client.
    fn ok(&mut self, id: ClientId) {
        if let Some(client) = self.clients.get_mut(&id) {
            let before = client.outbox.lines().len();
            door::encode_ok(client.outbox.lines());
            client.count_lines(before);
            self.dirty.push(id);
        }
    }

    /// Queues `-ERR 'text'`; the connection stays open.
    fn error(&mut self, id: ClientId, text: &str) {
        if let Some(client) = self.clients.get_mut(&id) {
            let before = client.outbox.lines().len();
            door::encode_err(text, client.outbox.lines());
            client.count_lines(before);
            self.dirty.push(id);
        }
    }

    /// Queues `-ERR 'text'` and closes the client once it is written.
    fn refuse(&mut self, id: ClientId, text: &str, reason: CloseReason) {
        self.error(id, text);
        self.close(id, reason);
    }

    fn violation(&mut self, id: ClientId, violation: &Violation) {
        tracing::debug!(client = id, ?violation, "protocol violation");
        if let Some(text) = violation.message {
            self.error(id, text);
        }
        if violation.close {
            self.close(id, CloseReason::ProtocolViolation);
        }
    }

    /// Marks a client for closing: it takes no more input or deliveries, and its
    /// subscriptions go at once.
    fn close(&mut self, id: ClientId, reason: CloseReason) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        if client.closing {
            return;
        }
        client.closing = true;
        for subscription in client.subscriptions.drain() {
            self.subjects.remove(subscription.key);
        }
        self.closes.push((id, reason));
        self.dirty.push(id);
    }

    fn remove_client(&mut self, id: ClientId) {
        if let Some(mut client) = self.clients.remove(&id) {
            for subscription in client.subscriptions.drain() {
                self.subjects.remove(subscription.key);
            }
        }
    }
}

fn user_allowed(authorization: &Authorization, connect: &Connect) -> bool {
    authorization
        .users
        .iter()
        .any(|user| connect.user == user.user && connect.pass == user.password)
}
