//! How a log is tuned: segment size and age, index spacing, the largest batch, and
//! the durability policy; and what an append's acknowledgement promises.
//!
//! Defaults follow Kafka's (1 GiB segments, 7-day roll, 4 KiB index interval,
//! 1 MiB batches) except durability, which defaults to an fsync per append. Nothing
//! here may allow a configuration the on-disk format cannot hold (segments are
//! addressed with 32-bit positions).

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
    /// When appends are fsynced.
    pub fsync: FsyncPolicy,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_age: Some(Duration::from_secs(7 * 24 * 60 * 60)),
            index_interval_bytes: 4096,
            max_batch_bytes: 1 << 20,
            fsync: FsyncPolicy::Always,
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
        Ok(())
    }
}
