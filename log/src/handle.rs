//! `Log`: the handle applications hold on one log directory. It opens the log
//! (through the writer), encodes and checks what is appended, answers questions,
//! runs retention and compaction on request, and owns the threads (the interval
//! flusher and the cleaner) that it starts and stops. It sits on top: nothing in the
//! crate depends on it. It must never hold a lock of the writer's across a call
//! into the cleaner's work.

use crate::batch::{BatchHeader, Compression};
use crate::cleaner::Cleaner;
use crate::compaction::{self, CompactionReport};
use crate::config::{FsyncPolicy, LogConfig};
use crate::encoder::BatchEncoder;
use crate::error::{BatchError, LogError, Result};
use crate::produced;
use crate::reader::Reader;
use crate::record::NewRecord;
use crate::report::RecoveryReport;
use crate::retention::{self, RetentionReport};
use crate::storage::{Directory, FileDirectory};
use crate::writer::{Acknowledgement, Flusher, Inner, milliseconds_since_epoch};
use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

thread_local! {
    /// The encoder `Log::append` uses, one per appending thread.
    static ENCODER: RefCell<BatchEncoder> = const { RefCell::new(BatchEncoder::new()) };
}

/// A thread's encoding buffer is let go after a batch larger than this, so a rare
/// huge batch does not stay allocated for the thread's life.
const KEPT_ENCODING_BYTES: usize = 4 << 20;

/// The writer of one log directory. Appends may come from many threads; they are
/// written one at a time and share fsyncs.
#[derive(Debug)]
pub struct Log {
    inner: Arc<Inner>,
    flusher: Option<Flusher>,
    cleaner: Option<Cleaner>,
}

impl Log {
    /// Opens (creating if needed) the log in directory `path` for writing,
    /// recovering it if its last shutdown was not clean.
    pub fn open(path: impl AsRef<Path>, config: LogConfig) -> Result<(Log, RecoveryReport)> {
        let path = path.as_ref();
        let directory = FileDirectory::open(path)
            .map_err(LogError::io(format!("opening {}", path.display())))?;
        Log::open_in(Arc::new(directory), config)
    }

    /// Opens the log in any `Directory` (the crash model, for instance).
    pub fn open_in(
        directory: Arc<dyn Directory>,
        config: LogConfig,
    ) -> Result<(Log, RecoveryReport)> {
        let (inner, report) = Inner::open(directory, config)?;
        let flusher = match inner.config.fsync {
            FsyncPolicy::Interval(interval) => Some(
                Flusher::start(inner.clone(), interval)
                    .map_err(LogError::io("starting the interval flusher"))?,
            ),
            FsyncPolicy::Always | FsyncPolicy::Never => None,
        };
        let cleaner = match inner.config.cleaner_interval {
            Some(interval) if inner.config.needs_cleaning() => Some(
                Cleaner::start(inner.clone(), interval)
                    .map_err(LogError::io("starting the cleaner"))?,
            ),
            _ => None,
        };
        Ok((
            Log {
                inner,
                flusher,
                cleaner,
            },
            report,
        ))
    }

    /// Appends records as one batch, timestamps as given. A compacted log refuses
    /// records without a key.
    pub fn append(&self, records: &[NewRecord]) -> Result<Acknowledgement> {
        if self.inner.config.compaction.is_some()
            && let Some(position) = records.iter().position(|record| record.key.is_none())
        {
            return Err(LogError::KeyRequired { position });
        }
        // Encoded into this thread's buffer: a steady stream of appends allocates
        // nothing per batch.
        let appended = ENCODER.try_with(|encoder| {
            let mut encoder = encoder.try_borrow_mut().ok()?;
            let result = self.encode_and_append(records, &mut encoder);
            if encoder.buffer_size() > KEPT_ENCODING_BYTES {
                *encoder = BatchEncoder::new();
            }
            Some(result)
        });
        match appended {
            Ok(Some(result)) => result,
            // The thread is ending, or this is a nested call: an encoder of its own.
            _ => self.encode_and_append(records, &mut BatchEncoder::new()),
        }
    }

    fn encode_and_append(
        &self,
        records: &[NewRecord],
        encoder: &mut BatchEncoder,
    ) -> Result<Acknowledgement> {
        let batch = encoder
            .encode(records, Compression::None)
            .map_err(|error| match error {
                BatchError::RecordTooLarge => LogError::BatchTooLarge {
                    size_bytes: records.iter().map(payload_size).sum(),
                    limit_bytes: self.inner.config.max_batch_bytes,
                },
                other => LogError::InvalidBatch(other),
            })?;
        self.check_size(batch.len())?;
        // Built here, so the CRC is right: only the header needs reading back.
        let header = BatchHeader::parse(batch)?;
        self.inner.append(batch, &header)
    }

    /// Appends an encoded RecordBatch v2 as it is, after checking it (length,
    /// magic, CRC, record count, and the records themselves when uncompressed). Only
    /// the base offset is rewritten, outside the CRC. Compressed records are not
    /// looked at, except on a compacted log, which must refuse records without a
    /// key (as a Kafka broker does, it decompresses them to check).
    pub fn append_batch(&self, batch: &[u8]) -> Result<Acknowledgement> {
        self.check_size(batch.len())?;
        let header = produced::check_produced_batch(batch, self.inner.config.compaction.is_some())?;
        self.inner.append(batch, &header)
    }

    fn check_size(&self, size: usize) -> Result<()> {
        let limit = self.inner.config.max_batch_bytes;
        if size as u64 > limit {
            return Err(LogError::BatchTooLarge {
                size_bytes: size as u64,
                limit_bytes: limit,
            });
        }
        Ok(())
    }

    /// Makes everything appended so far durable; returns the durable end offset.
    pub fn sync(&self) -> Result<u64> {
        let end = self.inner.shared.snapshot().end_offset;
        self.inner.make_durable(end)?;
        Ok(end)
    }

    /// A reader of this log; readers never block the writer.
    pub fn reader(&self) -> Reader {
        Reader::new(self.inner.shared.clone())
    }

    /// The offset the next record will get.
    pub fn end_offset(&self) -> u64 {
        self.inner.shared.snapshot().end_offset
    }

    /// Every offset below this one is durable.
    pub fn durable_offset(&self) -> u64 {
        self.inner.shared.snapshot().durable_offset
    }

    /// The first offset the log holds.
    pub fn start_offset(&self) -> u64 {
        self.inner.shared.snapshot().start_offset
    }

    /// The log's settings.
    pub fn config(&self) -> &LogConfig {
        &self.inner.config
    }

    /// Starts a new segment now (if the active one holds anything).
    pub fn roll(&self) -> Result<()> {
        self.inner.roll_now()
    }

    /// Deletes whole segments, oldest first, that the retention settings no longer
    /// keep at time `now` (never the active segment). Readers asking for an offset
    /// before the new start get `LogError::OffsetOutOfRange`, which names it.
    pub fn apply_retention(&self, now: SystemTime) -> Result<RetentionReport> {
        retention::apply(&self.inner, milliseconds_since_epoch(now))
    }

    /// Compacts every sealed segment at time `now`: keeps only the newest record of
    /// each key, and drops tombstones whose horizon has passed (a tombstone's
    /// horizon is set, `tombstone_retention` after `now`, by the first compaction
    /// that keeps it). The active segment is left alone: `roll` first to compact
    /// everything. Uses `LogConfig::compaction`, or its defaults on a log that is not
    /// compacted (records without a key are then kept as they are).
    pub fn compact(&self, now: SystemTime) -> Result<CompactionReport> {
        if self.inner.has_failed() {
            return Err(LogError::Failed);
        }
        compaction::compact(
            &self.inner,
            milliseconds_since_epoch(now),
            &AtomicBool::new(false),
        )
    }

    /// Shuts down cleanly: stops the cleaner, syncs everything, records the recovery
    /// point and leaves the clean-shutdown marker, so the next open checks nothing.
    pub fn close(mut self) -> Result<()> {
        self.stop_threads();
        self.inner.close()
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

/// The bytes of a record's key, value and headers.
fn payload_size(record: &NewRecord) -> u64 {
    let field = |bytes: &Option<Vec<u8>>| bytes.as_ref().map_or(0, |bytes| bytes.len() as u64);
    let headers: u64 = record
        .headers
        .iter()
        .map(|header| header.key.len() as u64 + field(&header.value))
        .sum();
    field(&record.key) + field(&record.value) + headers
}

impl Drop for Log {
    fn drop(&mut self) {
        self.stop_threads();
        self.inner
            .shared
            .update(|published| published.writable = false);
    }
}
