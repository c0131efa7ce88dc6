//! Fetches parked until their partition has more to show or their wait ends: the
//! native door's long-poll, with no thread per waiter.
//!
//! A FETCH that found fewer than `min_bytes` waits here, keyed by its partition,
//! with its deadline. A store notice that a partition's visible end moved hands
//! back that partition's waiters; the loop's clock hands back the expired ones.
//! Each goes back to the store for one more read. This file must never touch the
//! store, a socket or the clock itself (the caller passes `now`).

use std::collections::HashMap;
use std::time::Instant;

/// A parked fetch's partition.
pub type PartitionKey = (String, u32);

/// What waits, and until when.
#[derive(Debug)]
pub struct Waiter<T> {
    pub deadline: Instant,
    pub item: T,
}

/// The parked fetches, by partition, and the visible ends notices reported.
#[derive(Debug)]
pub struct Parked<T> {
    waiting: HashMap<PartitionKey, Vec<Waiter<T>>>,
    /// The latest visible end a notice gave for each partition.
    visible: HashMap<PartitionKey, u64>,
    count: usize,
    earliest: Option<Instant>,
}

impl<T> Default for Parked<T> {
    fn default() -> Self {
        Parked {
            waiting: HashMap::new(),
            visible: HashMap::new(),
            count: 0,
            earliest: None,
        }
    }
}

impl<T> Parked<T> {
    /// The visible end the latest notice gave for a partition, if any.
    pub fn known_end(&self, key: &PartitionKey) -> Option<u64> {
        self.visible.get(key).copied()
    }

    /// Parks `item` on `key` until `deadline`.
    pub fn park(&mut self, key: PartitionKey, deadline: Instant, item: T) {
        self.earliest = Some(self.earliest.map_or(deadline, |at| at.min(deadline)));
        self.count += 1;
        self.waiting
            .entry(key)
            .or_default()
            .push(Waiter { deadline, item });
    }

    /// A notice: the partition's visible end is now `end`; its waiters, to read
    /// again.
    pub fn notice(&mut self, key: PartitionKey, end: u64) -> Vec<Waiter<T>> {
        let woken = self.waiting.remove(&key).unwrap_or_default();
        self.count -= woken.len();
        self.visible.insert(key, end);
        woken
    }

    /// The waiters whose deadline is at or before `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Waiter<T>> {
        if self.earliest.is_none_or(|at| at > now) {
            return Vec::new();
        }
        let mut expired = Vec::new();
        let mut earliest: Option<Instant> = None;
        self.waiting.retain(|_, waiters| {
            let mut index = 0;
            while index < waiters.len() {
                if waiters
                    .get(index)
                    .is_some_and(|waiter| waiter.deadline <= now)
                {
                    expired.push(waiters.swap_remove(index));
                } else {
                    index += 1;
                }
            }
            for waiter in waiters.iter() {
                earliest = Some(earliest.map_or(waiter.deadline, |at| at.min(waiter.deadline)));
            }
            !waiters.is_empty()
        });
        self.count -= expired.len();
        self.earliest = earliest;
        expired
    }

    /// The waiters whose item `matches` (a connection's, when it is gone).
    pub fn take_where(&mut self, mut matches: impl FnMut(&T) -> bool) -> Vec<Waiter<T>> {
        let mut taken = Vec::new();
        self.waiting.retain(|_, waiters| {
            let mut index = 0;
            while index < waiters.len() {
                if waiters
                    .get(index)
                    .is_some_and(|waiter| matches(&waiter.item))
                {
                    taken.push(waiters.swap_remove(index));
                } else {
                    index += 1;
                }
            }
            !waiters.is_empty()
        });
        self.count -= taken.len();
        taken
    }

    /// When the next waiter's wait ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.earliest
    }

    /// Whether no fetch is parked.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// How many fetches are parked.
    pub fn len(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_notice_wakes_its_partition_and_time_wakes_the_rest() {
        let now = Instant::now();
        let mut parked = Parked::default();
        let key = |partition| ("t".to_owned(), partition);
        parked.park(key(0), now + Duration::from_millis(10), 'a');
        parked.park(key(1), now + Duration::from_millis(20), 'b');
        parked.park(key(0), now + Duration::from_millis(30), 'c');
        assert_eq!(parked.len(), 3);
        assert_eq!(
            parked.next_deadline(),
            Some(now + Duration::from_millis(10))
        );
        assert!(parked.expire(now).is_empty());
        let woken: Vec<char> = parked
            .notice(key(0), 5)
            .into_iter()
            .map(|w| w.item)
            .collect();
        assert_eq!(woken.len(), 2);
        assert_eq!(parked.known_end(&key(0)), Some(5));
        let expired = parked.expire(now + Duration::from_millis(25));
        assert_eq!(expired.len(), 1);
        assert_eq!(parked.len(), 0);
        assert_eq!(parked.next_deadline(), None);
    }
}
