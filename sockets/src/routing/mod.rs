//! The parts socket types are assembled from, as in libzmq: a fair queue for input,
//! a round-robin for output (PUSH's load balancer is a round-robin over its own set
//! of pipes), distribution for PUB and XPUB, and the subscription trie.
//!
//! The fair queue stores pipes; the round-robin schedules pipe ids and borrows the
//! pipes from a store, so DEALER and REQ can read and write the same pipes. Each
//! part keeps the pipes that can make progress ahead of those waiting for a
//! wake-up, so a call never scans idle pipes. None of them blocks: they answer
//! "nothing now" and the socket decides whether to wait.

pub mod distribute;
pub mod fair_queue;
pub mod load_balance;
pub mod prefix_trie;
pub mod round_robin;
pub mod subscriptions;

pub use fair_queue::FairQueue;
pub use load_balance::LoadBalance;
pub use round_robin::{PipeSet, PipeStore, RoundRobin};

/// The turn after `current` among `active` pipes, wrapping to the first.
///
/// A compare instead of `% active`: the division was a measurable share of each
/// message's cost at 1-byte messages, and `current < active` holds here.
#[inline]
pub(crate) fn next_turn(current: usize, active: usize) -> usize {
    debug_assert!(current < active);
    if current + 1 >= active {
        0
    } else {
        current + 1
    }
}
