//! The parts socket types are assembled from, as in libzmq: a fair queue for input,
//! a load balancer for output (and later distribution and the subscription trie).
//!
//! Each part owns the pipe ends it serves and keeps the ones that can make progress
//! ahead of the ones waiting for a wake-up, so a call never scans idle pipes. None of
//! them blocks: they answer "nothing now" and the socket decides whether to wait.

pub mod distribute;
pub mod fair_queue;
pub mod load_balance;
pub mod prefix_trie;
pub mod subscriptions;

pub use fair_queue::FairQueue;
pub use load_balance::LoadBalance;
