//! Group commit for the threaded `Log` handle: appenders that need their batch
//! durable share one partition sync, led by whichever of them arrives first while
//! none is in flight; the others wait on a condition variable for it to finish.
//!
//! This is the only place the threaded handle waits for durability. The partition
//! below knows nothing of it (an owner driving a `Partition` syncs when it likes).
//! It must never wait once the partition has failed, and never let a waiter miss
//! the end of the sync it waits for.

use crate::error::{LogError, Result};
use crate::partition::{Partition, lock};
use std::sync::{Condvar, Mutex};

/// Whether a sync is in flight, and the signal that one finished.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    syncing: Mutex<bool>,
    finished: Condvar,
}

impl GroupCommit {
    /// Waits until every offset below `target` is durable, leading a sync if none
    /// is in flight (one sync covers every append written before it).
    pub(crate) fn make_durable(&self, partition: &Partition, target: u64) -> Result<()> {
        let mut syncing = lock(&self.syncing);
        loop {
            if partition.durable_offset() >= target {
                return Ok(());
            }
            if partition.has_failed() {
                return Err(LogError::Failed);
            }
            if *syncing {
                syncing = self
                    .finished
                    .wait(syncing)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            *syncing = true;
            drop(syncing);
            let result = partition.sync();
            syncing = lock(&self.syncing);
            *syncing = false;
            // Waiters whose offsets this sync did not cover lead the next one.
            self.finished.notify_all();
            result?;
        }
    }
}
