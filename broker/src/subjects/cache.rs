//! A bounded cache of match results by literal subject, in front of the trie, as
//! nats-server's sublist cache.
//!
//! It holds at most [`CacheLimits::entries`] results and at most
//! [`CacheLimits::values`] values across them, whatever clients publish; a result
//! larger than that is not cached at all. When full it evicts by the clock
//! algorithm (a hit gives an entry a second chance), so the order is the same on
//! every run. Adding or removing a subscription drops exactly the entries whose
//! subject that subscription matches: one lookup for a literal subscription, a scan
//! of at most `entries` keys for a wildcard one.
//!
//! It never grows past its limits, never serves an entry that a change of
//! subscriptions could have altered, and never reads a clock or a random source.

use std::collections::HashMap;
use std::sync::Arc;

use super::filter::subject_matches_filter;
use super::matches::Matches;
use super::validate::is_literal_subject;

/// How much the match cache may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// The most subjects with a cached result (nats-server: 1024).
    pub entries: usize,
    /// The most values (plain subscriptions plus queue group members) across all
    /// cached results; this bounds memory when results are large.
    pub values: usize,
}

impl CacheLimits {
    /// No cache: every match walks the trie.
    pub const DISABLED: Self = Self {
        entries: 0,
        values: 0,
    };
}

impl Default for CacheLimits {
    /// 1024 entries, as nats-server, and a million values.
    fn default() -> Self {
        Self {
            entries: 1024,
            values: 1 << 20,
        }
    }
}

/// One place for a cached result; `key` is `None` while the place is free.
#[derive(Debug)]
struct Slot<T> {
    key: Option<Arc<[u8]>>,
    matches: Matches<T>,
    /// Set by a hit, cleared as the clock hand passes.
    referenced: bool,
}

/// The cache itself.
#[derive(Debug)]
pub(super) struct MatchCache<T> {
    limits: CacheLimits,
    index: HashMap<Arc<[u8]>, usize>,
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    hand: usize,
    values: usize,
}

impl<T> MatchCache<T> {
    pub(super) fn new(limits: CacheLimits) -> Self {
        Self {
            limits,
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            hand: 0,
            values: 0,
        }
    }

    /// How many subjects have a cached result.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// The place of `subject`'s cached result, marking it recently used.
    pub(super) fn lookup(&mut self, subject: &[u8]) -> Option<usize> {
        if self.index.is_empty() {
            return None;
        }
        let index = *self.index.get(subject)?;
        if let Some(slot) = self.slots.get_mut(index) {
            slot.referenced = true;
        }
        Some(index)
    }

    /// The cached result at `index`, as `lookup` or `store` returned it.
    pub(super) fn get(&self, index: usize) -> Option<&Matches<T>> {
        self.slots.get(index).map(|slot| &slot.matches)
    }

    /// Keeps `matches` as `subject`'s result and returns its place, evicting others
    /// as needed; `matches` is left holding a cleared result to reuse. Returns `None`
    /// (and leaves `matches` alone) if the limits cannot hold it.
    pub(super) fn store(&mut self, subject: &[u8], matches: &mut Matches<T>) -> Option<usize> {
        let values = matches.values();
        if self.limits.entries == 0 || values > self.limits.values {
            return None;
        }
        while self.index.len() >= self.limits.entries || self.values + values > self.limits.values {
            if !self.evict_one() {
                break;
            }
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    key: None,
                    matches: Matches::new(),
                    referenced: false,
                });
                self.slots.len() - 1
            }
        };
        let slot = self.slots.get_mut(index)?;
        matches.shrink_to_content();
        std::mem::swap(&mut slot.matches, matches);
        matches.clear();
        let key: Arc<[u8]> = subject.into();
        slot.key = Some(Arc::clone(&key));
        slot.referenced = false;
        self.values += values;
        // Callers store only what `lookup` missed; should one not, the older result
        // goes.
        if let Some(previous) = self.index.insert(key, index)
            && previous != index
        {
            self.vacate(previous);
        }
        Some(index)
    }

    /// Drops every cached result that a subscription to `filter` would change.
    pub(super) fn invalidate(&mut self, filter: &[u8]) {
        if is_literal_subject(filter) {
            if let Some(index) = self.index.get(filter).copied() {
                self.release(index);
            }
            return;
        }
        for index in 0..self.slots.len() {
            let affected = self
                .slots
                .get(index)
                .and_then(|slot| slot.key.as_deref())
                .is_some_and(|key| subject_matches_filter(key, filter));
            if affected {
                self.release(index);
            }
        }
    }

    /// The largest fanout of any cached result, and the sum over all of them.
    pub(super) fn fanouts(&self) -> (usize, usize) {
        self.slots
            .iter()
            .filter(|slot| slot.key.is_some())
            .map(|slot| slot.matches.fanout())
            .fold((0, 0), |(largest, total), fanout| {
                (largest.max(fanout), total + fanout)
            })
    }

    /// Evicts the first entry the clock hand finds unreferenced. Returns false if
    /// the cache holds nothing.
    fn evict_one(&mut self) -> bool {
        if self.index.is_empty() {
            return false;
        }
        // Two turns at most: the first clears every reference bit it passes.
        for _ in 0..2 * self.slots.len() {
            let index = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let Some(slot) = self.slots.get_mut(index) else {
                continue;
            };
            if slot.key.is_none() {
                continue;
            }
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            self.release(index);
            return true;
        }
        false
    }

    /// Frees the slot at `index` and forgets its key.
    fn release(&mut self, index: usize) {
        if let Some(key) = self.vacate(index) {
            self.index.remove(&*key);
        }
    }

    /// Frees the slot at `index`, leaving the index alone, and returns its key.
    fn vacate(&mut self, index: usize) -> Option<Arc<[u8]>> {
        let slot = self.slots.get_mut(index)?;
        let key = slot.key.take()?;
        self.values -= slot.matches.values();
        slot.matches.clear();
        slot.referenced = false;
        self.free.push(index);
        Some(key)
    }
}
