//! The subject trie: NATS subscriptions by subject, one node per token, with `*`
//! and `>` children apart from literal ones, plain subscribers and queue groups per
//! node, and the bounded match cache in front (nats-server's `Sublist`).
//!
//! It is sans-IO: no threads, no clock, no locks; the owner calls it from one
//! thread. It never recurses on anything a client chose, never keeps a node that
//! holds nothing, and never hands out a key that could remove someone else's
//! subscription.

use slab::Slab;

use super::cache::{CacheLimits, MatchCache};
use super::matches::Matches;
use super::node::{Node, NodeId};
use super::statistics::{Statistics, Subscription};
use super::validate::{SEPARATOR, is_valid_queue_name, is_valid_subscription_subject};
use super::walk::{WalkBuffers, collect};

/// Why a subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidSubject {
    /// The subject is not a valid subscription subject
    /// ([`is_valid_subscription_subject`](super::is_valid_subscription_subject)).
    Subject,
    /// The queue group name is not valid
    /// ([`is_valid_queue_name`](super::is_valid_queue_name)).
    QueueName,
}

impl std::fmt::Display for InvalidSubject {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Subject => "invalid subject",
            Self::QueueName => "invalid queue group name",
        })
    }
}

impl std::error::Error for InvalidSubject {}

/// Names one subscription in the trie: what `insert` returns and `remove` takes. It
/// leads straight to the subscription's node and slot, with no search. Once its
/// subscription is removed a key names nothing, even when the slot is used again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionKey {
    node: NodeId,
    group: Option<usize>,
    slot: usize,
    serial: u64,
}

/// NATS subscriptions by subject, each carrying a value `T` (say a connection and
/// subscription id), matched against published subjects.
#[derive(Debug)]
pub struct SubjectTrie<T> {
    nodes: Slab<Node<T>>,
    root: NodeId,
    subscriptions: usize,
    next_serial: u64,
    cache: MatchCache<T>,
    walk: WalkBuffers,
    /// The last result that was not cached (too large, or no cache).
    uncached: Matches<T>,
    empty: Matches<T>,
    /// Reused to spell a removed subscription's subject.
    subject: Vec<u8>,
    path: Vec<NodeId>,
    inserts: u64,
    removes: u64,
    matches: u64,
    cache_hits: u64,
}

impl<T: Clone> SubjectTrie<T> {
    /// An empty trie with the default cache (1024 subjects, as nats-server).
    pub fn new() -> Self {
        Self::with_cache_limits(CacheLimits::default())
    }

    /// An empty trie whose match cache holds at most what `limits` allows.
    pub fn with_cache_limits(limits: CacheLimits) -> Self {
        let mut nodes = Slab::new();
        let root = nodes.insert(Node::new(None));
        Self {
            nodes,
            root,
            subscriptions: 0,
            next_serial: 0,
            cache: MatchCache::new(limits),
            walk: WalkBuffers::default(),
            uncached: Matches::new(),
            empty: Matches::new(),
            subject: Vec::new(),
            path: Vec::new(),
            inserts: 0,
            removes: 0,
            matches: 0,
            cache_hits: 0,
        }
    }

    /// Adds a subscription to `subject`, in the queue group `queue` if given, and
    /// returns the key that removes it. The same subject and value may be added more
    /// than once; each is a subscription of its own. Costs O(tokens), plus for a
    /// wildcard subject one pass over the cached subjects to drop those it matches.
    pub fn insert(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        value: T,
    ) -> Result<SubscriptionKey, InvalidSubject> {
        if !is_valid_subscription_subject(subject) {
            return Err(InvalidSubject::Subject);
        }
        if queue.is_some_and(|queue| !is_valid_queue_name(queue)) {
            return Err(InvalidSubject::QueueName);
        }
        let mut node = self.root;
        for token in subject.split(|byte| *byte == SEPARATOR) {
            node = self.child_or_new(node, token);
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        let (group, slot) = match self.nodes.get_mut(node) {
            Some(found) => found.add(queue, serial, value),
            // Unreachable: `child_or_new` returns a node of the arena.
            None => return Err(InvalidSubject::Subject),
        };
        self.subscriptions += 1;
        self.inserts += 1;
        self.cache.invalidate(subject);
        Ok(SubscriptionKey {
            node,
            group,
            slot,
            serial,
        })
    }

    /// Removes the subscription `key` names and returns its value, pruning nodes
    /// left empty; `None` if it was already removed. Costs O(tokens) (to prune and to
    /// spell the subject for the cache), plus the cache pass as for `insert`.
    pub fn remove(&mut self, key: SubscriptionKey) -> Option<T> {
        let value = self
            .nodes
            .get_mut(key.node)?
            .remove(key.group, key.slot, key.serial)?;
        self.subscriptions -= 1;
        self.removes += 1;
        spell_subject(&self.nodes, key.node, &mut self.path, &mut self.subject);
        self.cache.invalidate(&self.subject);
        self.prune(key.node);
        Some(value)
    }

    /// The value of the subscription `key` names, if it is still there.
    pub fn get(&self, key: SubscriptionKey) -> Option<&T> {
        self.nodes
            .get(key.node)?
            .get(key.group, key.slot, key.serial)
    }

    /// Every subscription matching the literal `subject`: from the cache when it
    /// holds the subject, otherwise by walking the trie (and then cached, if the
    /// limits allow). A subject with an empty token matches nothing, as in
    /// nats-server; a wildcard token in it is taken literally, so it matches the
    /// wildcard subscriptions that would match any token there (nats-server
    /// delivers a non-pedantic client's `PUB foo.*` to `foo.*` and `foo.>`).
    pub fn matches(&mut self, subject: &[u8]) -> &Matches<T> {
        self.matches += 1;
        if let Some(index) = self.cache.lookup(subject) {
            self.cache_hits += 1;
            return self.cache.get(index).unwrap_or(&self.empty);
        }
        if subject.is_empty()
            || subject
                .split(|byte| *byte == SEPARATOR)
                .any(<[u8]>::is_empty)
        {
            return &self.empty;
        }
        self.uncached.clear();
        collect(
            &self.nodes,
            self.root,
            subject,
            &mut self.walk,
            &mut self.uncached,
        );
        match self.cache.store(subject, &mut self.uncached) {
            Some(index) => self.cache.get(index).unwrap_or(&self.empty),
            None => &self.uncached,
        }
    }

    /// How many subscriptions the trie holds.
    pub fn len(&self) -> usize {
        self.subscriptions
    }

    /// Whether the trie holds no subscription.
    pub fn is_empty(&self) -> bool {
        self.subscriptions == 0
    }

    /// How many nodes the trie has, the root included (1 when empty).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Counters for monitoring, as nats-server's `/subsz`.
    pub fn statistics(&self) -> Statistics {
        let (max_fanout, total_fanout) = self.cache.fanouts();
        let cached = self.cache.len();
        Statistics {
            subscriptions: self.subscriptions,
            cached,
            inserts: self.inserts,
            removes: self.removes,
            matches: self.matches,
            cache_hits: self.cache_hits,
            cache_hit_rate: ratio(self.cache_hits as f64, self.matches as f64),
            max_fanout,
            average_fanout: ratio(total_fanout as f64, cached as f64),
        }
    }

    /// Every subscription, in no promised order, with its subject spelled out (for
    /// monitoring: this allocates a subject per subscription).
    pub fn subscriptions(&self) -> impl Iterator<Item = Subscription<'_, T>> {
        self.nodes.iter().flat_map(move |(id, node)| {
            node.subscriptions().map(move |(queue, value)| {
                let mut subject = Vec::new();
                spell_subject(&self.nodes, id, &mut Vec::new(), &mut subject);
                Subscription {
                    subject,
                    queue,
                    value,
                }
            })
        })
    }

    /// The child of `parent` that `token` leads to, made if missing.
    fn child_or_new(&mut self, parent: NodeId, token: &[u8]) -> NodeId {
        if let Some(child) = self.nodes.get(parent).and_then(|node| node.child(token)) {
            return child;
        }
        let edge = super::node::Edge::for_token(token);
        let child = self.nodes.insert(Node::new(Some((parent, edge))));
        if let Some(node) = self.nodes.get_mut(parent) {
            node.attach(token, child);
        }
        child
    }

    /// Removes `node` and then each ancestor while it holds nothing; never the root.
    fn prune(&mut self, mut node: NodeId) {
        while node != self.root {
            let unused = self.nodes.get(node).is_some_and(Node::is_unused);
            if !unused {
                return;
            }
            let Some(removed) = self.nodes.try_remove(node) else {
                return;
            };
            let Some((parent, edge)) = removed.parent else {
                return;
            };
            if let Some(found) = self.nodes.get_mut(parent) {
                found.detach(&edge);
            }
            node = parent;
        }
    }
}

impl<T: Clone> Default for SubjectTrie<T> {
    fn default() -> Self {
        Self::new()
    }
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// Spells the subject of `node` into `subject`, walking up to the root with `path`
/// as the stack.
fn spell_subject<T>(
    nodes: &Slab<Node<T>>,
    node: NodeId,
    path: &mut Vec<NodeId>,
    subject: &mut Vec<u8>,
) {
    path.clear();
    subject.clear();
    let mut current = node;
    while let Some((parent, _)) = nodes.get(current).and_then(|found| found.parent.as_ref()) {
        path.push(current);
        current = *parent;
    }
    for id in path.iter().rev() {
        if let Some((_, edge)) = nodes.get(*id).and_then(|found| found.parent.as_ref()) {
            if !subject.is_empty() {
                subject.push(SEPARATOR);
            }
            subject.extend_from_slice(edge.token());
        }
    }
}
