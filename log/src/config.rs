//! How a log is tuned: segment size and age, index spacing, the largest batch, the
//! durability policy, retention and compaction; and what an append's
//! acknowledgement promises.
//!
//! Defaults follow Kafka's (1 GiB segments, 7-day roll, 4 KiB index interval,
//! 1 MiB batches, tombstones kept a day) except durability, which defaults to an
//! fsync per append, and retention, which defaults to keeping everything (an embedded
//! log should not delete data nobody asked it to). Nothing here may allow a
//! configuration the on-disk format cannot hold (segments are addressed with 32-bit
//! positions).

use crate::error::{LogError, Result};
use std::time::Duration;

/// When appended bytes are forced to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Every append waits for an fsync; appends that arrive while one is in flight
    /// share the next (group commit). Acknowledgements say `Durable`.
    Always,
    /// A background thread syncs at this interval. Acknowledgements say `Written`.
    Interval(Duration),
    /// The operating system decides; the log syncs only when it rolls a segment or
    /// closes. Acknowledgements say `Written`.
    Never,
}

/// What an acknowledgement promises about an appended batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Durability {
    /// In the operating system's cache: survives the process, not a power loss.
    Written,
    /// Fsynced: survives a power loss.
    Durable,
}

/// The settings of one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A new segment starts when the active one would grow past this size.
    pub segment_bytes: u64,
    /// A new segment starts when the active one has taken appends for this long
    /// (measured from its first append in this process); `None` never rolls by age.
    pub segment_age: Option<Duration>,
    /// Bytes between offset-index entries.
    pub index_interval_bytes: u64,
    /// The largest batch an append accepts.
    pub max_batch_bytes: u64,
    /// Disk space reserved ahead of the active segment's end, this many bytes at a
    /// time, without changing the file's length (Linux `fallocate` with
    /// `KEEP_SIZE`; ignored where the file system cannot). Appends into reserved
    /// space skip the file system's block allocation, which makes page-cache writes
    /// about a quarter faster. What is not used is given back when the segment is
    /// sealed or the log closed. 0 reserves nothing, and neither does a log under
    /// `FsyncPolicy::Always`: an fsync after every append into reserved space costs
    /// more than the reservation saves.
    pub preallocate_bytes: u64,
    /// When appends are fsynced.
    pub fsync: FsyncPolicy,
    /// Whole segments whose newest record is older than this are deleted (Kafka's
    /// `retention.ms`); `None` keeps them by age.
    pub retention_age: Option<Duration>,
    /// The oldest segments are deleted while the log would still hold at least this
    /// many bytes without them (Kafka's `retention.bytes`); `None` sets no limit.
    pub retention_bytes: Option<u64>,
    /// Keep only the newest record per key (Kafka's `cleanup.policy=compact`);
    /// records without a key are then refused. `None` keeps every record.
    pub compaction: Option<Compaction>,
    /// How often the background cleaner applies retention and compaction (and it
    /// also runs after every roll); `None` runs them only when asked
    /// (`Log::apply_retention`, `Log::compact`). No thread is started for a log with
    /// neither retention nor compaction.
    pub cleaner_interval: Option<Duration>,
    /// An idempotent producer whose newest batch's timestamp is this much older
    /// than the time a cleaning pass is given is forgotten (Kafka's
    /// `producer.id.expiration.ms`, a day by default), so the producer state stays
    /// bounded however many producers come and go; a retry after that may be
    /// appended again. `None` keeps producers until their batches are deleted.
    pub producer_expiry: Option<Duration>,
}

/// How a compacted log is cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compaction {
    /// How long a tombstone (a key with a null value) stays after the cleaner first
    /// keeps it as its key's newest record (Kafka's `delete.retention.ms`). A reader
    /// that reads from the start to the end within this time sees every delete.
    pub tombstone_retention: Duration,
    /// Memory for the key map of one cleaning pass (Kafka's
    /// `log.cleaner.dedupe.buffer.size`). A pass maps as many keys as fit, cleans up
    /// to there, and the next pass goes on; it may go over by one batch's keys.
    pub memory_bytes: u64,
    /// The background cleaner starts a pass only when at least this percentage of
    /// the sealed log has not been cleaned yet (Kafka's
    /// `min.cleanable.dirty.ratio`, as a percentage). `Log::compact` ignores it.
    pub min_dirty_percent: u8,
}

impl Default for Compaction {
    fn default() -> Self {
        Compaction {
            tombstone_retention: Duration::from_secs(24 * 60 * 60),
            memory_bytes: 32 << 20,
            min_dirty_percent: 50,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_age: Some(Duration::from_secs(7 * 24 * 60 * 60)),
            index_interval_bytes: 4096,
            max_batch_bytes: 1 << 20,
            preallocate_bytes: 8 << 20,
            fsync: FsyncPolicy::Always,
            retention_age: None,
            retention_bytes: None,
            compaction: None,
            cleaner_interval: Some(Duration::from_secs(15)),
            producer_expiry: Some(Duration::from_secs(24 * 60 * 60)),
        }
    }
}

impl LogConfig {
    /// Refuses settings the format cannot hold.
    pub fn validate(&self) -> Result<()> {
        if self.segment_bytes < crate::batch::HEADER_SIZE as u64
            || self.segment_bytes > u64::from(u32::MAX)
        {
            return Err(LogError::Config(
                "segment_bytes must be between 61 bytes and 4 GiB",
            ));
        }
        if self.index_interval_bytes == 0 || self.index_interval_bytes > u64::from(u32::MAX) {
            return Err(LogError::Config(
                "index_interval_bytes must be between 1 byte and 4 GiB",
            ));
        }
        if self.max_batch_bytes < crate::batch::HEADER_SIZE as u64
            || self.max_batch_bytes > i32::MAX as u64
        {
            return Err(LogError::Config(
                "max_batch_bytes must be between 61 bytes and 2 GiB",
            ));
        }
        if let FsyncPolicy::Interval(interval) = self.fsync
            && interval.is_zero()
        {
            return Err(LogError::Config("the fsync interval must be positive"));
        }
        if let Some(interval) = self.cleaner_interval
            && interval.is_zero()
        {
            return Err(LogError::Config("the cleaner interval must be positive"));
        }
        if let Some(compaction) = &self.compaction {
            if compaction.memory_bytes < 1024 {
                return Err(LogError::Config(
                    "the compaction memory must be at least 1 KiB",
                ));
            }
            if compaction.min_dirty_percent > 100 {
                return Err(LogError::Config(
                    "min_dirty_percent must be between 0 and 100",
                ));
            }
            if i64::try_from(compaction.tombstone_retention.as_millis()).is_err() {
                return Err(LogError::Config("the tombstone retention is too long"));
            }
        }
        Ok(())
    }
}

impl LogConfig {
    /// Whether the cleaner has anything to do: retention or compaction.
    pub(crate) fn needs_cleaning(&self) -> bool {
        self.retention_age.is_some() || self.retention_bytes.is_some() || self.compaction.is_some()
    }
}
