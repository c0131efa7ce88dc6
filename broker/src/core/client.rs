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
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

/// Who a trie entry delivers to: a client and the sid it subscribed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscriber {
    /// The client.
    pub client: super::ClientId,
    /// Its subscription id, echoed in each MSG.
    pub sid: Bytes,
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
    pub subscriptions: HashMap<Bytes, Subscription>,
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
            subscriptions: HashMap::new(),
            outbox: Outbox::new(),
            stats: ClientStats::default(),
            pings_out: 0,
            next_ping: now + ping.interval,
            authentication_deadline: None,
            started: now,
            last_activity: now,
            closing: false,
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
