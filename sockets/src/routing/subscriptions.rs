//! Subscriptions as libzmq counts them, on top of the prefix trie.
//!
//! - `PeerSubscriptions` (PUB, XPUB): per prefix, the *set* of pipes subscribed to
//!   it. A repeated subscribe from one pipe changes nothing, one cancel removes it,
//!   and removing a pipe removes all of its prefixes. Matching a topic visits the
//!   pipes of every subscribed prefix of the topic, at a cost that grows with the
//!   topic's length and the pipes found, not with the number of subscriptions.
//!   What one peer may hold is limited (`SubscriptionLimit`), so a peer cannot grow
//!   the publisher's memory without bound; libzmq has no such limit.
//! - `LocalSubscriptions` (SUB, XSUB): per prefix, how many times the application
//!   subscribed, so a cancel goes upstream only when the last reference goes.
//!
//! This file must never hold a pipe: only ids, so a closed pipe cannot linger here
//! beyond `remove_pipe`.

use super::prefix_trie::PrefixTrie;
use crate::pipe::{PipeId, PipeMap};
use bytes::Bytes;
use smallvec::SmallVec;
use std::collections::BTreeSet;

/// What a cancel found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The pipe was not subscribed to that prefix.
    NotFound,
    /// The pipe was the prefix's last subscriber.
    Last,
    /// Other pipes are still subscribed to the prefix.
    Remaining,
}

/// The pipes subscribed to one prefix, sorted.
type Pipes = SmallVec<[PipeId; 2]>;

/// The most one peer may subscribe to on a PUB or XPUB socket; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionLimit {
    /// Distinct prefixes.
    pub count: usize,
    /// Bytes of those prefixes, summed.
    pub bytes: usize,
}

impl SubscriptionLimit {
    /// No limit at all (libzmq's behaviour).
    pub const NONE: SubscriptionLimit = SubscriptionLimit { count: 0, bytes: 0 };

    fn allows(&self, count: usize, bytes: usize) -> bool {
        (self.count == 0 || count <= self.count) && (self.bytes == 0 || bytes <= self.bytes)
    }
}

impl Default for SubscriptionLimit {
    /// 100 000 prefixes and 16 MiB of prefix bytes per peer.
    fn default() -> SubscriptionLimit {
        SubscriptionLimit {
            count: 100_000,
            bytes: 16 << 20,
        }
    }
}

/// What `PeerSubscriptions::add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The pipe is the prefix's first subscriber.
    First,
    /// The prefix already had subscribers (or the pipe already had it).
    Again,
    /// The pipe is at its limit: nothing was stored.
    Refused,
}

/// One pipe's prefixes and their total size.
#[derive(Debug, Default)]
struct PipePrefixes {
    prefixes: BTreeSet<Bytes>,
    bytes: usize,
}

/// Per prefix, the set of pipes subscribed to it (PUB, XPUB).
#[derive(Debug)]
pub struct PeerSubscriptions {
    trie: PrefixTrie<Pipes>,
    /// Every prefix of each pipe, so removing a pipe costs its own subscriptions.
    by_pipe: PipeMap<PipePrefixes>,
    limit: SubscriptionLimit,
}

impl Default for PeerSubscriptions {
    fn default() -> PeerSubscriptions {
        PeerSubscriptions::new()
    }
}

impl PeerSubscriptions {
    /// No subscriptions, and the default limit per pipe.
    pub fn new() -> PeerSubscriptions {
        PeerSubscriptions {
            trie: PrefixTrie::default(),
            by_pipe: PipeMap::default(),
            limit: SubscriptionLimit::default(),
        }
    }

    /// Sets the limit for later subscriptions (those held stay).
    pub fn set_limit(&mut self, limit: SubscriptionLimit) {
        self.limit = limit;
    }

    /// How many prefixes `pipe` holds, and their bytes summed (what its limit
    /// counts).
    pub fn held(&self, pipe: PipeId) -> (usize, usize) {
        self.by_pipe
            .get(&pipe)
            .map_or((0, 0), |held| (held.prefixes.len(), held.bytes))
    }

    /// Subscribes `pipe` to `prefix`, unless that would take the pipe over its
    /// limit. A prefix the pipe already has is never refused.
    pub fn add(&mut self, prefix: &Bytes, pipe: PipeId) -> Added {
        let held = self.by_pipe.get(&pipe);
        if let Some(held) = held
            && held.prefixes.contains(prefix)
        {
            return Added::Again;
        }
        let (count, bytes) = held.map_or((0, 0), |held| (held.prefixes.len(), held.bytes));
        if !self
            .limit
            .allows(count + 1, bytes.saturating_add(prefix.len()))
        {
            return Added::Refused;
        }
        self.add_unlimited(prefix, pipe)
    }

    /// Subscribes `pipe` to `prefix` whatever its limit (the application's own
    /// choice, as with XPUB_MANUAL).
    pub fn add_unlimited(&mut self, prefix: &Bytes, pipe: PipeId) -> Added {
        let pipes = self.trie.get_or_insert_default(prefix);
        let first = pipes.is_empty();
        if let Err(position) = pipes.binary_search(&pipe) {
            pipes.insert(position, pipe);
            let held = self.by_pipe.entry(pipe).or_default();
            // A copy: the prefix may be a slice of a whole receive buffer, which
            // it would otherwise keep alive for as long as it is held.
            held.prefixes.insert(Bytes::copy_from_slice(prefix));
            held.bytes += prefix.len();
        }
        if first { Added::First } else { Added::Again }
    }

    /// Cancels `pipe`'s subscription to `prefix`.
    pub fn remove(&mut self, prefix: &[u8], pipe: PipeId) -> Removed {
        let Some(pipes) = self.trie.get_mut(prefix) else {
            return Removed::NotFound;
        };
        let Ok(position) = pipes.binary_search(&pipe) else {
            return Removed::NotFound;
        };
        pipes.remove(position);
        let last = pipes.is_empty();
        if last {
            self.trie.remove(prefix);
        }
        if let Some(held) = self.by_pipe.get_mut(&pipe) {
            if held.prefixes.remove(prefix) {
                held.bytes -= prefix.len();
            }
            if held.prefixes.is_empty() {
                self.by_pipe.remove(&pipe);
            }
        }
        if last {
            Removed::Last
        } else {
            Removed::Remaining
        }
    }

    /// Removes every subscription of `pipe`; returns each prefix it had, in byte
    /// order, with whether the pipe was its last subscriber.
    pub fn remove_pipe(&mut self, pipe: PipeId) -> Vec<(Bytes, bool)> {
        let Some(PipePrefixes { prefixes, .. }) = self.by_pipe.remove(&pipe) else {
            return Vec::new();
        };
        let mut removed = Vec::with_capacity(prefixes.len());
        for prefix in prefixes {
            let mut last = false;
            if let Some(pipes) = self.trie.get_mut(&prefix) {
                if let Ok(position) = pipes.binary_search(&pipe) {
                    pipes.remove(position);
                }
                last = pipes.is_empty();
                if last {
                    self.trie.remove(&prefix);
                }
            }
            removed.push((prefix, last));
        }
        removed
    }

    /// Calls `visit` with each pipe of each subscribed prefix of `topic` (a pipe
    /// subscribed to several of them is visited once per prefix).
    pub fn for_each_match(&self, topic: &[u8], mut visit: impl FnMut(PipeId)) {
        for pipes in self.trie.prefixes_of(topic) {
            for &pipe in pipes {
                visit(pipe);
            }
        }
    }

    /// Whether `pipe` is subscribed to `prefix`.
    pub fn contains(&self, prefix: &[u8], pipe: PipeId) -> bool {
        self.trie
            .get(prefix)
            .is_some_and(|pipes| pipes.binary_search(&pipe).is_ok())
    }

    /// How many prefixes have at least one subscriber.
    pub fn prefix_count(&self) -> usize {
        self.trie.len()
    }
}

/// Per prefix, how many times this socket subscribed to it (SUB, XSUB).
#[derive(Debug, Default)]
pub struct LocalSubscriptions {
    trie: PrefixTrie<u32>,
}

impl LocalSubscriptions {
    /// No subscriptions.
    pub fn new() -> LocalSubscriptions {
        LocalSubscriptions::default()
    }

    /// Adds one reference to `prefix`; true if it is the first.
    pub fn add(&mut self, prefix: &[u8]) -> bool {
        let count = self.trie.get_or_insert_default(prefix);
        *count = count.saturating_add(1);
        *count == 1
    }

    /// Drops one reference to `prefix`; true if it was the last (the cancel should
    /// go upstream), false if others remain or there was none.
    pub fn remove(&mut self, prefix: &[u8]) -> bool {
        let Some(count) = self.trie.get_mut(prefix) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.trie.remove(prefix);
            true
        } else {
            false
        }
    }

    /// Whether some subscribed prefix is a prefix of `topic`.
    pub fn matches(&self, topic: &[u8]) -> bool {
        self.trie.prefixes_of(topic).next().is_some()
    }

    /// Every subscribed prefix, once each, in byte order.
    pub fn prefixes(&self) -> Vec<Bytes> {
        let mut prefixes = Vec::with_capacity(self.trie.len());
        self.trie
            .for_each(|prefix, _| prefixes.push(Bytes::copy_from_slice(prefix)));
        prefixes
    }

    /// Whether there is no subscription.
    pub fn is_empty(&self) -> bool {
        self.trie.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn bytes(text: &str) -> Bytes {
        Bytes::copy_from_slice(text.as_bytes())
    }

    fn matches(subscriptions: &PeerSubscriptions, topic: &str) -> Vec<PipeId> {
        let mut found = Vec::new();
        subscriptions.for_each_match(topic.as_bytes(), |pipe| found.push(pipe));
        found.sort_unstable();
        found
    }

    #[test]
    fn a_prefix_keeps_a_set_of_pipes() {
        let mut subscriptions = PeerSubscriptions::new();
        assert_eq!(subscriptions.add(&bytes("wx."), 1), Added::First);
        assert_eq!(
            subscriptions.add(&bytes("wx."), 1),
            Added::Again,
            "a repeat changes nothing"
        );
        assert_eq!(subscriptions.add(&bytes("wx."), 2), Added::Again);
        assert_eq!(subscriptions.add(&bytes(""), 3), Added::First);
        assert_eq!(matches(&subscriptions, "wx.paris"), [1, 2, 3]);
        assert_eq!(matches(&subscriptions, "news"), [3]);
        assert_eq!(subscriptions.remove(b"wx.", 1), Removed::Remaining);
        assert_eq!(
            subscriptions.remove(b"wx.", 1),
            Removed::NotFound,
            "one cancel removes it"
        );
        assert_eq!(subscriptions.remove(b"nothing", 1), Removed::NotFound);
        assert_eq!(subscriptions.remove(b"wx.", 2), Removed::Last);
        assert_eq!(matches(&subscriptions, "wx.paris"), [3]);
    }

    #[test]
    fn removing_a_pipe_reports_the_prefixes_it_was_last_on() {
        let mut subscriptions = PeerSubscriptions::new();
        subscriptions.add(&bytes("a"), 1);
        subscriptions.add(&bytes("b"), 1);
        subscriptions.add(&bytes("b"), 2);
        assert_eq!(
            subscriptions.remove_pipe(1),
            [(bytes("a"), true), (bytes("b"), false)]
        );
        assert!(subscriptions.remove_pipe(1).is_empty());
        assert_eq!(subscriptions.prefix_count(), 1);
        assert!(subscriptions.contains(b"b", 2));
    }

    #[test]
    fn a_pipe_at_its_limit_is_refused_until_it_cancels() {
        let mut subscriptions = PeerSubscriptions::new();
        subscriptions.set_limit(SubscriptionLimit { count: 2, bytes: 5 });
        assert_eq!(subscriptions.add(&bytes("a"), 1), Added::First);
        assert_eq!(subscriptions.add(&bytes("bc"), 1), Added::First);
        assert_eq!(subscriptions.add(&bytes("d"), 1), Added::Refused, "count");
        assert_eq!(subscriptions.add(&bytes("a"), 1), Added::Again, "held");
        assert_eq!(subscriptions.add(&bytes("d"), 2), Added::First, "per pipe");
        assert_eq!(matches(&subscriptions, "d"), [2]);
        assert_eq!(subscriptions.remove(b"a", 1), Removed::Last);
        assert_eq!(
            subscriptions.add(&bytes("efgh"), 1),
            Added::Refused,
            "bytes"
        );
        assert_eq!(subscriptions.add(&bytes("efg"), 1), Added::First);
        assert_eq!(subscriptions.remove_pipe(1).len(), 2);
        subscriptions.set_limit(SubscriptionLimit::NONE);
        for index in 0..1000u32 {
            let prefix = Bytes::from(index.to_be_bytes().to_vec());
            assert_ne!(subscriptions.add(&prefix, 1), Added::Refused);
        }
    }

    #[test]
    fn local_subscriptions_count_references() {
        let mut local = LocalSubscriptions::new();
        assert!(local.add(b"a"));
        assert!(!local.add(b"a"));
        assert!(local.add(b"ab"));
        assert!(local.matches(b"abc"));
        assert!(!local.matches(b"b"));
        assert!(!local.remove(b"a"), "one reference left");
        assert!(local.remove(b"a"), "the last one: cancel upstream");
        assert!(!local.remove(b"a"), "nothing left to cancel");
        assert_eq!(local.prefixes(), [bytes("ab")]);
        assert!(local.remove(b"ab"));
        assert!(local.is_empty());
    }

    /// One step of a random workload against the subscriptions.
    #[derive(Debug, Clone)]
    enum Step {
        Add(Vec<u8>, PipeId),
        Remove(Vec<u8>, PipeId),
        RemovePipe(PipeId),
        Match(Vec<u8>),
    }

    /// Short keys over a small alphabet, so prefixes overlap and edges split.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'b'), Just(0u8), Just(0xff)],
            0..6,
        )
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (key(), 1..4u64).prop_map(|(key, pipe)| Step::Add(key, pipe)),
            3 => (key(), 1..4u64).prop_map(|(key, pipe)| Step::Remove(key, pipe)),
            1 => (1..4u64).prop_map(Step::RemovePipe),
            4 => proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8)], 0..9)
                .prop_map(Step::Match),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The trie agrees with a naive matcher (a map from prefix to pipe set,
        /// checked with `starts_with`) after any sequence of operations.
        #[test]
        fn the_trie_agrees_with_a_naive_matcher(steps in proptest::collection::vec(step(), 1..80)) {
            let mut subscriptions = PeerSubscriptions::new();
            let mut local = LocalSubscriptions::new();
            let mut model: BTreeMap<Vec<u8>, BTreeSet<PipeId>> = BTreeMap::new();
            let mut counts: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
            for step in steps {
                match step {
                    Step::Add(key, pipe) => {
                        let first = model.get(&key).is_none_or(BTreeSet::is_empty);
                        let added = subscriptions.add(&Bytes::from(key.clone()), pipe);
                        prop_assert_eq!(added, if first { Added::First } else { Added::Again });
                        model.entry(key.clone()).or_default().insert(pipe);
                        let count = counts.entry(key.clone()).or_default();
                        *count += 1;
                        prop_assert_eq!(local.add(&key), *count == 1);
                    }
                    Step::Remove(key, pipe) => {
                        let expected = match model.get_mut(&key) {
                            Some(pipes) if pipes.contains(&pipe) => {
                                pipes.remove(&pipe);
                                if pipes.is_empty() { Removed::Last } else { Removed::Remaining }
                            }
                            _ => Removed::NotFound,
                        };
                        model.retain(|_, pipes| !pipes.is_empty());
                        prop_assert_eq!(subscriptions.remove(&key, pipe), expected);
                        let last = match counts.get_mut(&key) {
                            Some(count) => { *count -= 1; *count == 0 }
                            None => false,
                        };
                        counts.retain(|_, count| *count > 0);
                        prop_assert_eq!(local.remove(&key), last);
                    }
                    Step::RemovePipe(pipe) => {
                        let mut expected = Vec::new();
                        for (key, pipes) in model.iter_mut() {
                            if pipes.remove(&pipe) {
                                expected.push((Bytes::from(key.clone()), pipes.is_empty()));
                            }
                        }
                        model.retain(|_, pipes| !pipes.is_empty());
                        prop_assert_eq!(subscriptions.remove_pipe(pipe), expected);
                    }
                    Step::Match(topic) => {
                        let mut expected: Vec<PipeId> = model
                            .iter()
                            .filter(|(key, _)| topic.starts_with(key))
                            .flat_map(|(_, pipes)| pipes.iter().copied())
                            .collect();
                        expected.sort_unstable();
                        let mut found = Vec::new();
                        subscriptions.for_each_match(&topic, |pipe| found.push(pipe));
                        found.sort_unstable();
                        prop_assert_eq!(found, expected);
                        let naive = counts.keys().any(|key| topic.starts_with(key));
                        prop_assert_eq!(local.matches(&topic), naive);
                    }
                }
                prop_assert_eq!(subscriptions.prefix_count(), model.len());
                let prefixes: Vec<Bytes> = counts.keys().map(|key| Bytes::from(key.clone())).collect();
                prop_assert_eq!(local.prefixes(), prefixes);
            }
        }
    }
}
