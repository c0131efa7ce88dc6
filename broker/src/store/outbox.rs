//! Where the storage thread leaves its output for the loop: completions in order,
//! notices merged per partition (so they take room per partition, not per append),
//! and the count of requests in flight that bounds everything (a request is in
//! flight from its submission until the loop takes its completion).
//!
//! The loop is woken (the waker it gave, a `mio::Waker` for instance) only when the
//! outbox goes from empty to holding something, not once per completion. The lock
//! here is held only to move vectors in or out: it must never be held across I/O,
//! and nothing here may block the loop.

use super::engine::Sink;
use super::request::{Completion, PartitionNotice};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How the storage thread wakes the loop.
pub type Wake = Box<dyn Fn() + Send + Sync>;

/// The shared output.
pub(crate) struct Outbox {
    state: Mutex<State>,
    /// Set when output is waiting and the loop was woken for it; the loop clears
    /// it before taking the output.
    signalled: AtomicBool,
    /// Requests submitted whose completion the loop has not taken yet.
    pub(crate) in_flight: AtomicUsize,
    /// Set once the storage thread has ended.
    pub(crate) stopped: AtomicBool,
    wake: Wake,
}

#[derive(Default)]
struct State {
    completions: VecDeque<Completion>,
    notices: Vec<PartitionNotice>,
    /// Where each partition's notice is in `notices`.
    index: HashMap<(Arc<str>, u32), usize>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Outbox")
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .field("stopped", &self.stopped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Outbox {
    pub(crate) fn new(wake: Wake) -> Outbox {
        Outbox {
            state: Mutex::new(State::default()),
            signalled: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            wake,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves completions into `out`, in the order they were made.
    pub(crate) fn take_completions(&self, out: &mut Vec<Completion>) {
        self.signalled.store(false, Ordering::SeqCst);
        let taken = {
            let mut state = self.lock();
            let count = state.completions.len();
            out.extend(state.completions.drain(..));
            count
        };
        self.in_flight.fetch_sub(taken, Ordering::AcqRel);
    }

    /// Moves notices into `out`, one per partition that changed.
    pub(crate) fn take_notices(&self, out: &mut Vec<PartitionNotice>) {
        self.signalled.store(false, Ordering::SeqCst);
        let mut state = self.lock();
        state.index.clear();
        out.append(&mut state.notices);
    }

    /// Wakes the loop unless it was woken already and has not looked since.
    pub(crate) fn signal(&self) {
        if !self.signalled.swap(true, Ordering::SeqCst) {
            (self.wake)();
        }
    }
}

/// The storage thread's side: output gathered during a phase of a batch, handed
/// over in one go.
pub(crate) struct Pending {
    pub(crate) outbox: Arc<Outbox>,
    completions: Vec<Completion>,
    notices: Vec<PartitionNotice>,
    pub(crate) sealed: bool,
}

impl Pending {
    pub(crate) fn new(outbox: Arc<Outbox>) -> Pending {
        Pending {
            outbox,
            completions: Vec::new(),
            notices: Vec::new(),
            sealed: false,
        }
    }
}

impl Sink for Pending {
    fn complete(&mut self, completion: Completion) {
        self.completions.push(completion);
    }

    fn notice(&mut self, notice: PartitionNotice) {
        self.notices.push(notice);
    }

    fn flush(&mut self) {
        if self.completions.is_empty() && self.notices.is_empty() {
            return;
        }
        {
            let mut state = self.outbox.lock();
            state.completions.extend(self.completions.drain(..));
            for notice in self.notices.drain(..) {
                state.merge(notice);
            }
        }
        self.outbox.signal();
    }

    fn sealed(&mut self) {
        self.sealed = true;
    }
}

impl State {
    /// Adds `notice`, merged with the one waiting for the same partition. Notices
    /// are hints for waking fetches (a fetch reads the offsets again), so merging
    /// keeps the highest offset of each kind.
    fn merge(&mut self, notice: PartitionNotice) {
        let key = (notice.topic.clone(), notice.partition);
        match self
            .index
            .get(&key)
            .and_then(|at| self.notices.get_mut(*at))
        {
            Some(old) => {
                old.new_data = later(old.new_data, notice.new_data);
                old.durable = later(old.durable, notice.durable);
                old.visible_end = later(old.visible_end, notice.visible_end);
            }
            None => {
                self.index.insert(key, self.notices.len());
                self.notices.push(notice);
            }
        }
    }
}

fn later(old: Option<u64>, new: Option<u64>) -> Option<u64> {
    match (old, new) {
        (Some(old), Some(new)) => Some(old.max(new)),
        (old, new) => new.or(old),
    }
}
