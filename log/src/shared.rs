//! What the writer publishes for readers: the list of segments, where the complete
//! data ends, what is durable, and a condition variable for readers waiting at the
//! end of the log.
//!
//! The lock here is held only to copy or replace a few fields, never across I/O, so
//! a reader can never hold up the writer. Nothing is published before its bytes are
//! completely written.

use crate::segment::{Bounds, Segment};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// A segment in the published list, with its size once it is sealed.
#[derive(Debug, Clone)]
pub(crate) struct SegmentView {
    pub segment: Arc<Segment>,
    /// Size in bytes for a sealed segment; the active one's is `Published::end_position`.
    pub sealed_size: u64,
    /// Whether the segment is known never to have been compacted, so its batches
    /// follow each other with no gap: the active segment (unless it was resumed
    /// from a sealed one after a cut). Sealed segments say false.
    pub contiguous: bool,
}

/// A consistent snapshot of the log for one read.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    pub segments: Arc<Vec<SegmentView>>,
    pub start_offset: u64,
    pub end_offset: u64,
    /// Bytes of complete data in the last segment.
    pub end_position: u64,
    pub durable_offset: u64,
    /// Whether a writer may still append (readers stop waiting when it may not).
    pub writable: bool,
    /// Readers blocked in `wait_for`; appends skip the wake-up when there are none.
    pub waiters: usize,
}

impl Published {
    /// The number of complete bytes in segment `index`.
    pub(crate) fn limit(&self, index: usize) -> u64 {
        if index + 1 == self.segments.len() {
            self.end_position
        } else {
            self.segments.get(index).map_or(0, |view| view.sealed_size)
        }
    }

    /// What segment `index`'s batches must agree with: its complete bytes, the
    /// offset its records end before (the next segment's base, or the log's end),
    /// and whether it may have gaps.
    pub(crate) fn bounds(&self, index: usize) -> Bounds {
        let next = self.segments.get(index + 1);
        Bounds {
            limit: self.limit(index),
            end_offset: next.map_or(self.end_offset, |view| view.segment.base_offset),
            contiguous: next.is_none()
                && self.segments.get(index).is_some_and(|view| view.contiguous),
        }
    }
}

/// The published state and the signal that it changed.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<Published>,
    changed: Condvar,
}

impl Shared {
    pub(crate) fn new(published: Published) -> Self {
        Shared {
            state: Mutex::new(published),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Published> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A copy of the current state.
    pub(crate) fn snapshot(&self) -> Published {
        self.lock().clone()
    }

    /// Changes the state and wakes every waiting reader.
    pub(crate) fn update(&self, change: impl FnOnce(&mut Published)) {
        let waiters = {
            let mut state = self.lock();
            change(&mut state);
            state.waiters
        };
        if waiters > 0 {
            self.changed.notify_all();
        }
    }

    /// Waits until `ready` holds, the writer goes away, or the deadline passes.
    /// Returns whether `ready` holds.
    pub(crate) fn wait_until(&self, deadline: Instant, ready: impl Fn(&Published) -> bool) -> bool {
        let mut state = self.lock();
        loop {
            if ready(&state) {
                break true;
            }
            if !state.writable {
                break false;
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            state.waiters += 1;
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .map(|(state, _)| state)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
            state.waiters -= 1;
        }
    }
}
