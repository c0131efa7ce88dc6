//! `Log`: the threaded handle applications hold on one log directory, on top of the
//! owner-driven `Partition`. It is the partition's owner for them: it reads the
//! clock, syncs under the `FsyncPolicy` (group commit among appending threads),
//! starts and stops the interval flusher and the cleaner thread, and wakes that
//! cleaner after a roll. It sits on top: nothing in the crate depends on it. It must
//! never hold a lock of the partition's across a call into the cleaner's work.

use crate::background::{Cleaner, Flusher};
use crate::commit::GroupCommit;
use crate::compaction::{self, CompactionReport};
use crate::config::{Durability, FsyncPolicy, LogConfig};
use crate::error::{LogError, Result};
use crate::partition::{Appended, Notice, Partition};
use crate::reader::Reader;
use crate::record::NewRecord;
use crate::report::RecoveryReport;
use crate::retention::{self, RetentionReport};
use crate::signal::Signal;
use crate::storage::Directory;
use crate::time::milliseconds_since_epoch;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

/// What an append did: the offsets it was given and what is promised about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Offset of the batch's first record.
    pub base_offset: u64,
    /// Offset of the batch's last record.
    pub last_offset: u64,
    /// Whether the batch is only written or already durable.
    pub durability: Durability,
}

/// The writer of one log directory. Appends may come from many threads; they are
/// written one at a time and share fsyncs.
#[derive(Debug)]
pub struct Log {
    partition: Arc<Partition>,
    commit: Arc<GroupCommit>,
    cleaner_signal: Arc<Signal>,
    flusher: Option<Flusher>,
    cleaner: Option<Cleaner>,
}

impl Log {
    /// Opens (creating if needed) the log in directory `path` for writing,
    /// recovering it if its last shutdown was not clean.
    pub fn open(path: impl AsRef<Path>, config: LogConfig) -> Result<(Log, RecoveryReport)> {
        let (partition, report) = Partition::open(path, config)?;
        Ok((Log::start(partition)?, report))
    }

    /// Opens the log in any `Directory` (the crash model, for instance).
    pub fn open_in(
        directory: Arc<dyn Directory>,
        config: LogConfig,
    ) -> Result<(Log, RecoveryReport)> {
        let (partition, report) = Partition::open_in(directory, config)?;
        Ok((Log::start(partition)?, report))
    }

    /// Starts the threads the settings ask for.
    fn start(partition: Partition) -> Result<Log> {
        let partition = Arc::new(partition);
        let commit = Arc::new(GroupCommit::default());
        let cleaner_signal = Arc::new(Signal::new());
        let config = partition.config();
        let flusher = match config.fsync {
            FsyncPolicy::Interval(interval) => Some(
                Flusher::start(partition.clone(), commit.clone(), interval)
                    .map_err(LogError::io("starting the interval flusher"))?,
            ),
            FsyncPolicy::Always | FsyncPolicy::Never => None,
        };
        let cleaner = match config.cleaner_interval {
            Some(interval) if config.needs_cleaning() => Some(
                Cleaner::start(partition.clone(), cleaner_signal.clone(), interval)
                    .map_err(LogError::io("starting the cleaner"))?,
            ),
            _ => None,
        };
        Ok(Log {
            partition,
            commit,
            cleaner_signal,
            flusher,
            cleaner,
        })
    }

    /// Appends records as one batch, timestamps as given. A compacted log refuses
    /// records without a key.
    pub fn append(&self, records: &[NewRecord]) -> Result<Acknowledgement> {
        let appended = self.partition.append(records, None, Instant::now())?;
        self.acknowledge(appended)
    }

    /// Appends an encoded RecordBatch v2 as it is, after checking it (length,
    /// magic, CRC, record count, and the records themselves when uncompressed). Only
    /// the base offset is rewritten, outside the CRC. Compressed records are not
    /// looked at, except on a compacted log, which must refuse records without a
    /// key (as a Kafka broker does, it decompresses them to check).
    pub fn append_batch(&self, batch: &[u8]) -> Result<Acknowledgement> {
        let appended = self.partition.append_batch(batch, Instant::now())?;
        self.acknowledge(appended)
    }

    /// Acts on an append's notice and syncs under the policy.
    fn acknowledge(&self, appended: Appended) -> Result<Acknowledgement> {
        self.observe(appended.notice);
        let durability = match self.partition.config().fsync {
            FsyncPolicy::Always => {
                self.commit
                    .make_durable(&self.partition, appended.last_offset + 1)?;
                Durability::Durable
            }
            FsyncPolicy::Interval(_) | FsyncPolicy::Never => Durability::Written,
        };
        Ok(Acknowledgement {
            base_offset: appended.base_offset,
            last_offset: appended.last_offset,
            durability,
        })
    }

    /// A sealed segment may give the cleaner work.
    fn observe(&self, notice: Notice) {
        if notice.sealed && self.partition.config().needs_cleaning() {
            self.cleaner_signal.wake();
        }
    }

    /// Makes everything appended so far durable; returns the durable end offset.
    pub fn sync(&self) -> Result<u64> {
        let end = self.partition.end_offset();
        self.commit.make_durable(&self.partition, end)?;
        Ok(end)
    }

    /// A reader of this log; readers never block the writer.
    pub fn reader(&self) -> Reader {
        self.partition.reader()
    }

    /// The partition underneath, for calls the handle does not offer.
    pub fn partition(&self) -> &Partition {
        &self.partition
    }

    /// The offset the next record will get.
    pub fn end_offset(&self) -> u64 {
        self.partition.end_offset()
    }

    /// Every offset below this one is durable.
    pub fn durable_offset(&self) -> u64 {
        self.partition.durable_offset()
    }

    /// The first offset the log holds.
    pub fn start_offset(&self) -> u64 {
        self.partition.start_offset()
    }

    /// The log's settings.
    pub fn config(&self) -> &LogConfig {
        self.partition.config()
    }

    /// Starts a new segment now (if the active one holds anything).
    pub fn roll(&self) -> Result<()> {
        let notice = self.partition.roll()?;
        self.observe(notice);
        Ok(())
    }

    /// Moves the log start offset up to `offset`, inside a segment if need be
    /// (Kafka's DeleteRecords); durable when it returns. Readers asking for an
    /// offset below it get `LogError::OffsetOutOfRange`. Whole segments below it are
    /// deleted by the cleaner thread (woken now, if the log has one),
    /// `apply_retention`, or the next open. Returns the log start offset afterwards.
    pub fn delete_records_before(&self, offset: u64) -> Result<u64> {
        let start = self.partition.delete_records_before(offset)?;
        self.cleaner_signal.wake();
        Ok(start)
    }

    /// Deletes whole segments, oldest first, that are wholly before the log start
    /// offset or that the retention settings no longer keep at time `now` (never
    /// the active segment). Readers asking for an offset
    /// before the new start get `LogError::OffsetOutOfRange`, which names it.
    pub fn apply_retention(&self, now: SystemTime) -> Result<RetentionReport> {
        retention::apply(&self.partition, milliseconds_since_epoch(now))
    }

    /// Compacts every sealed segment at time `now`: keeps only the newest record of
    /// each key, and drops tombstones whose horizon has passed (a tombstone's
    /// horizon is set, `tombstone_retention` after `now`, by the first compaction
    /// that keeps it). The active segment is left alone: `roll` first to compact
    /// everything. Uses `LogConfig::compaction`, or its defaults on a log that is not
    /// compacted (records without a key are then kept as they are).
    pub fn compact(&self, now: SystemTime) -> Result<CompactionReport> {
        if self.partition.has_failed() {
            return Err(LogError::Failed);
        }
        compaction::compact(
            &self.partition,
            milliseconds_since_epoch(now),
            &AtomicBool::new(false),
        )
    }

    /// Shuts down cleanly: stops the cleaner, syncs everything, records the recovery
    /// point and leaves the clean-shutdown marker, so the next open checks nothing.
    pub fn close(mut self) -> Result<()> {
        self.stop_threads();
        self.partition.close().map(|_| ())
    }

    fn stop_threads(&mut self) {
        if let Some(cleaner) = self.cleaner.take() {
            cleaner.stop();
        }
        if let Some(flusher) = self.flusher.take() {
            flusher.stop();
        }
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.stop_threads();
        // The partition is shared with nothing else once the threads are gone, but
        // readers waiting at the end must stop waiting either way.
        self.partition
            .shared
            .update(|published| published.writable = false);
    }
}
