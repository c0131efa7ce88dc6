//! One connected client as the core sees it: its protocol state, its options,
//! its subscriptions by sid, and its outbox.
//!
//! This file only holds state and small helpers; the routing decisions are in
//! `mod.rs` and `deliver.rs`. It must never hold anything a client can grow
//! without a limit: subscriptions are bounded by what the client sends within the
//! control-line limit and the outbox by `max_pending`.

use super::outbox::Outbox;
use super::stats::ClientStats;
use crate::config::{Limits, Ping};
use crate::doors::nats::{Connect, Limits as ParserLimits, Parser};
use crate::subjects::SubscriptionKey;
use bytes::Bytes;
use slab::Slab;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

/// Who a trie entry delivers to: a client, the sid it subscribed with, and where
/// the subscription's state sits among the client's (so a delivery finds it by
/// index, without hashing the sid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscriber {
    /// The client.
    pub client: super::ClientId,
    /// Its subscription id, echoed in each MSG.
    pub sid: Bytes,
    /// Its slot in the client's `Subscriptions`.
    pub slot: usize,
}

/// A client's subscriptions: state in slots (found by index on every delivery),
/// and an index by sid (for SUB, UNSUB and close).
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    by_sid: HashMap<Bytes, usize>,
    slots: Slab<Subscription>,
}

impl Subscriptions {
    /// Whether `sid` is in use.
    pub fn contains(&self, sid: &Bytes) -> bool {
        self.by_sid.contains_key(sid)
    }

    /// The slot the next `insert` will use.
    pub fn next_slot(&self) -> usize {
        self.slots.vacant_key()
    }

    /// Adds a subscription under `sid`; returns its slot.
    pub fn insert(&mut self, sid: Bytes, subscription: Subscription) -> usize {
        let slot = self.slots.insert(subscription);
        self.by_sid.insert(sid, slot);
        slot
    }

    /// The subscription with this sid.
    pub fn by_sid_mut(&mut self, sid: &Bytes) -> Option<&mut Subscription> {
        let slot = *self.by_sid.get(sid)?;
        self.slots.get_mut(slot)
    }

    /// The subscription in this slot.
    pub fn slot_mut(&mut self, slot: usize) -> Option<&mut Subscription> {
        self.slots.get_mut(slot)
    }

    /// Removes the subscription with this sid.
    pub fn remove(&mut self, sid: &Bytes) -> Option<Subscription> {
        let slot = self.by_sid.remove(sid)?;
        self.slots.try_remove(slot)
    }

    /// Removes every subscription, giving each back.
    pub fn drain(&mut self) -> impl Iterator<Item = Subscription> + '_ {
        self.by_sid.clear();
        self.slots.drain()
    }

    /// Each subscription with its sid.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Subscription)> {
        self.by_sid
            .iter()
            .filter_map(|(sid, &slot)| Some((sid, self.slots.get(slot)?)))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }
}

/// One subscription of a client.
#[derive(Debug)]
pub(crate) struct Subscription {
    /// Where it sits in the trie.
    pub key: SubscriptionKey,
    /// The subject (with wildcards) it was made for.
    pub subject: Bytes,
    /// UNSUB with a maximum: it ends after this many deliveries.
    pub max: Option<u64>,
    /// Messages delivered so far.
    pub delivered: u64,
}

/// One connected client.
#[derive(Debug)]
pub(crate) struct Client {
    pub address: SocketAddr,
    pub parser: Parser,
    /// CONNECT was received (and accepted).
    pub connected: bool,
    /// What its CONNECT said (defaults before it).
    pub options: Connect,
    pub subscriptions: Subscriptions,
    pub outbox: Outbox,
    pub stats: ClientStats,
    /// Pings sent and not answered.
    pub pings_out: u32,
    pub next_ping: Instant,
    /// When credentials are required: CONNECT must arrive by then.
    pub authentication_deadline: Option<Instant>,
    pub started: Instant,
    pub last_activity: Instant,
    /// Closing: it takes no more input or deliveries.
    pub closing: bool,
    /// Already in the core's list of clients with new output this turn (so a
    /// fan-out adds it once, not once per message).
    pub listed_dirty: bool,
    /// The most bytes its outbox may hold.
    pub max_pending: usize,
}

impl Client {
    pub(crate) fn new(address: SocketAddr, limits: &Limits, ping: &Ping, now: Instant) -> Client {
        Client {
            address,
            parser: Parser::new(ParserLimits {
                max_control_line: limits.max_control_line,
                max_payload: limits.max_payload,
            }),
            connected: false,
            options: Connect::default(),
            subscriptions: Subscriptions::default(),
            outbox: Outbox::new(),
            stats: ClientStats::default(),
            pings_out: 0,
            next_ping: now + ping.interval,
            authentication_deadline: None,
            started: now,
            last_activity: now,
            closing: false,
            listed_dirty: false,
            max_pending: limits.max_pending,
        }
    }

    /// Counts the protocol lines encoded since the outbox's line buffer held
    /// `before` bytes.
    pub(crate) fn count_lines(&mut self, before: usize) {
        self.outbox.lines_written(before);
    }

    pub(crate) fn view(&self) -> ClientView<'_> {
        ClientView { client: self }
    }
}

/// A read-only look at one client, for monitoring (`/connz`).
#[derive(Debug, Clone, Copy)]
pub struct ClientView<'a> {
    client: &'a Client,
}

impl ClientView<'_> {
    /// Its address.
    pub fn address(&self) -> SocketAddr {
        self.client.address
    }

    /// Its counters.
    pub fn stats(&self) -> ClientStats {
        self.client.stats
    }

    /// Bytes waiting to be written to it.
    pub fn pending_bytes(&self) -> usize {
        self.client.outbox.pending()
    }

    /// How many subscriptions it holds.
    pub fn subscription_count(&self) -> usize {
        self.client.subscriptions.len()
    }

    /// The name, language and version its CONNECT gave.
    pub fn identity(&self) -> (&str, &str, &str) {
        let options = &self.client.options;
        (&options.name, &options.lang, &options.version)
    }

    /// When it connected.
    pub fn started(&self) -> Instant {
        self.client.started
    }

    /// When it last sent something.
    pub fn last_activity(&self) -> Instant {
        self.client.last_activity
    }
}
