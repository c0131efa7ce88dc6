//! The cleaner's pass over one partition: retention, then compaction if it is due,
//! at the time the caller passes in. It starts no thread and keeps no schedule, so
//! an owner can run it for many partitions from one thread of its own (a broker
//! runs one cleaner for all its partitions); the threaded `Log` runs it from its
//! background cleaner (`background.rs`).
//!
//! It works on sealed segments only, takes the partition's writer lock just to
//! publish a change, never while it reads or writes segment data, and stops between
//! batches when `stop` is set. It must never panic on what it finds.

use crate::compaction::{self, CompactionReport};
use crate::error::{LogError, Result};
use crate::partition::Partition;
use crate::retention::{self, RetentionReport};
use crate::time::milliseconds_since_epoch;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

/// What one cleaner pass over a partition did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleaningReport {
    /// What retention deleted.
    pub retention: RetentionReport,
    /// What compaction did, if the log is compacted and a pass was due.
    pub compaction: Option<CompactionReport>,
    /// Idempotent producers forgotten because they were idle past
    /// `LogConfig::producer_expiry`.
    pub expired_producers: usize,
}

/// Runs one cleaner pass over `partition` at time `now`: deletes the segments
/// retention no longer keeps (and those wholly before the log start offset),
/// forgets idempotent producers idle past their expiry, then,
/// on a compacted log, compacts if enough of it is dirty
/// (`Compaction::min_dirty_percent`) or a kept tombstone's horizon has passed.
/// Setting `stop` interrupts a compaction between batches.
pub fn clean(partition: &Partition, now: SystemTime, stop: &AtomicBool) -> Result<CleaningReport> {
    if partition.has_failed() {
        return Err(LogError::Failed);
    }
    let now_ms = milliseconds_since_epoch(now);
    let mut report = CleaningReport {
        retention: retention::apply(partition, now_ms)?,
        compaction: None,
        expired_producers: partition.expire_producers(now)?,
    };
    if let Some(settings) = &partition.config.compaction
        && compaction::due(partition, now_ms, settings.min_dirty_percent)
    {
        report.compaction = Some(compaction::compact(partition, now_ms, stop)?);
    }
    Ok(report)
}
