//! The I/O thread's timer queue: deadlines by handler token.
//!
//! Each handler has at most one scheduled deadline; scheduling a different one
//! leaves the old entry in the heap, where it is recognised as stale and skipped.
//! Stale entries never outnumber live ones by much: when they do, the heap is
//! rebuilt from the live deadlines (a peer's PINGs move a deadline each time, and
//! the heap must not grow with them). Time is passed in; this file must never read
//! a clock.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// Stale heap entries allowed beyond twice the live ones before a rebuild.
const COMPACTION_SLACK: usize = 64;

/// Deadlines for the handlers of one I/O thread.
#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    scheduled: HashMap<usize, Instant>,
}

impl TimerQueue {
    /// Makes `deadline` the token's only deadline (or clears it with `None`).
    pub(crate) fn schedule(&mut self, token: usize, deadline: Option<Instant>) {
        match deadline {
            Some(deadline) => {
                if self.scheduled.insert(token, deadline) != Some(deadline) {
                    self.heap.push(Reverse((deadline, token)));
                    if self.heap.len() > 2 * self.scheduled.len() + COMPACTION_SLACK {
                        self.compact();
                    }
                }
            }
            None => {
                self.scheduled.remove(&token);
            }
        }
    }

    /// Rebuilds the heap from the live deadlines alone.
    fn compact(&mut self) {
        self.heap = self
            .scheduled
            .iter()
            .map(|(&token, &deadline)| Reverse((deadline, token)))
            .collect();
        debug_assert_eq!(self.heap.len(), self.scheduled.len());
    }

    /// Forgets a token (its handler is gone).
    pub(crate) fn remove(&mut self, token: usize) {
        self.scheduled.remove(&token);
    }

    /// Takes one token whose deadline has passed.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<usize> {
        while let Some(Reverse((deadline, token))) = self.heap.peek().copied() {
            if deadline > now {
                return None;
            }
            self.heap.pop();
            if self.scheduled.get(&token) == Some(&deadline) {
                self.scheduled.remove(&token);
                return Some(token);
            }
        }
        None
    }

    /// How long until the next deadline.
    pub(crate) fn next_timeout(&mut self, now: Instant) -> Option<Duration> {
        while let Some(Reverse((deadline, token))) = self.heap.peek().copied() {
            if self.scheduled.get(&token) == Some(&deadline) {
                return Some(deadline.saturating_duration_since(now));
            }
            self.heap.pop();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_entries_are_skipped() {
        let now = Instant::now();
        let mut timers = TimerQueue::default();
        timers.schedule(1, Some(now + Duration::from_secs(5)));
        timers.schedule(1, Some(now + Duration::from_secs(1)));
        timers.schedule(2, Some(now + Duration::from_secs(2)));
        timers.schedule(2, None);
        assert_eq!(timers.next_timeout(now), Some(Duration::from_secs(1)));
        assert_eq!(timers.pop_due(now + Duration::from_secs(10)), Some(1));
        assert_eq!(timers.pop_due(now + Duration::from_secs(10)), None);
        assert_eq!(timers.next_timeout(now), None);
    }

    #[test]
    fn moving_deadlines_do_not_grow_the_heap() {
        let now = Instant::now();
        let mut timers = TimerQueue::default();
        timers.schedule(7, Some(now + Duration::from_secs(1)));
        for step in 0..100_000u64 {
            // Like a peer's PING with a TTL: the deadline moves every time.
            timers.schedule(1, Some(now + Duration::from_millis(6_553_000 + step)));
        }
        assert!(
            timers.heap.len() <= 2 * 2 + COMPACTION_SLACK + 1,
            "{}",
            timers.heap.len()
        );
        assert_eq!(timers.pop_due(now + Duration::from_secs(2)), Some(7));
        assert_eq!(
            timers.next_timeout(now),
            Some(Duration::from_millis(6_553_000 + 99_999))
        );
    }
}
