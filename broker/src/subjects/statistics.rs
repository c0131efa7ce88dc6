//! What the subject trie reports for monitoring: the counters behind nats-server's
//! `/subsz` and the subscriptions it lists.
//!
//! These are plain snapshots; nothing here reads the trie later, keeps it borrowed
//! beyond an iteration, or renders JSON (the HTTP endpoint does that).

/// Counters of one subject trie, as nats-server's `SublistStats`; the comment on
/// each field names its `/subsz` JSON key.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Statistics {
    /// Subscriptions held now (`num_subscriptions`).
    pub subscriptions: usize,
    /// Subjects with a cached result now (`num_cache`).
    pub cached: usize,
    /// Subscriptions ever inserted (`num_inserts`).
    pub inserts: u64,
    /// Subscriptions ever removed (`num_removes`).
    pub removes: u64,
    /// Subjects ever matched, cached or not (`num_matches`).
    pub matches: u64,
    /// Matches the cache answered.
    pub cache_hits: u64,
    /// `cache_hits / matches`, 0 before any match (`cache_hit_rate`).
    pub cache_hit_rate: f64,
    /// The largest fanout among cached results (`max_fanout`).
    pub max_fanout: usize,
    /// The mean fanout of cached results, 0 with none (`avg_fanout`).
    pub average_fanout: f64,
}

/// One subscription, as the trie lists it for monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription<'a, T> {
    /// The subscription subject, wildcards included.
    pub subject: Vec<u8>,
    /// The queue group's name, if the subscription is in one.
    pub queue: Option<&'a [u8]>,
    /// The value it was inserted with.
    pub value: &'a T,
}
