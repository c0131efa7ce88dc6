//! `Partition`: one log directory driven by its owner, with no threads of its own.
//! It opens (and recovers) the directory, appends batches with offsets assigned,
//! rolls segments, syncs when asked, moves the log start, serves reads as
//! `bytes::Bytes`, and says after every change what an owner may want to route to
//! waiting readers (a [`Notice`]). The clock is passed in wherever a decision needs
//! it. Moving the log start and swapping cleaned segments are in `front.rs`, the
//! encoding and checks of the append path in `append.rs`. The threaded
//! [`crate::Log`] handle, retention, compaction and the cleaner work through it; it
//! depends on none of them.
//!
//! The partition must never start a thread, read the clock, or block a reader; never
//! acknowledge an offset as durable before an fsync covered it; never publish bytes
//! to readers before they are completely written; and never keep appending after a
//! failed write or sync (it no longer knows what the disk holds; reopening
//! recovers). Its locks are held only to change its own state, never across an
//! fsync, so a sync on one thread does not hold up appends on another.

use crate::active::Active;
use crate::batch::{self, BatchHeader, Producer};
use crate::checkpoint::{CLEAN_SHUTDOWN_FILE, CheckpointFile};
use crate::config::{FsyncPolicy, LogConfig};
use crate::error::{BatchError, LogError, Result};
use crate::producer::{ProducerEntry, ProducerState, SequenceCheck};
use crate::reader::{self, Batches, Reader};
use crate::recovery::{self, LoadedSegment};
use crate::report::RecoveryReport;
use crate::shared::{Published, SegmentView, Shared};
use crate::storage::{Directory, FileDirectory, WriterLock};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// What changed in a partition, for an owner to route to whoever waits on it (a
/// parked fetch, a long poll): each field is `None` or false when it did not change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notice {
    /// New data: the log now ends at this offset, and every record below it can be
    /// read.
    pub new_data: Option<u64>,
    /// Now durable: every offset below this one has been fsynced.
    pub durable: Option<u64>,
    /// A segment was sealed (the log rolled): retention or compaction may have work.
    pub sealed: bool,
}

impl Notice {
    /// Both notices, as if the changes had happened in one step.
    pub fn merge(self, later: Notice) -> Notice {
        Notice {
            new_data: later.new_data.or(self.new_data),
            durable: later.durable.or(self.durable),
            sealed: self.sealed || later.sealed,
        }
    }
}

/// What one append did: the offsets the batch was given, and what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Offset of the batch's first record.
    pub base_offset: u64,
    /// Offset of the batch's last record.
    pub last_offset: u64,
    /// Whether the batch was an idempotent producer's retry of a batch already
    /// appended: nothing was written, and the offsets are the ones it got then.
    pub duplicate: bool,
    /// What changed (new data, and whatever a roll made durable).
    pub notice: Notice,
}

/// What one sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    /// Every offset below this one is durable.
    pub durable_offset: u64,
    /// What changed (`durable`, if the durable offset moved).
    pub notice: Notice,
}

/// What the cleaner remembers between passes (in memory: after a reopen the whole
/// log counts as dirty, which costs a pass, never a record).
#[derive(Debug, Default)]
pub(crate) struct CleaningState {
    /// Offsets below this have been compacted against every later key up to it.
    pub first_dirty: u64,
    /// The earliest horizon of a tombstone kept below `first_dirty`: once it has
    /// passed, a pass is due even if nothing is dirty.
    pub earliest_horizon: Option<i64>,
}

/// The single writer of one log directory (Kafka's local log of one partition),
/// driven by its owner: appends, syncs and cleaning happen when the owner calls,
/// on the owner's threads. All methods take `&self`, so an owner may share it
/// (`Arc`) between, say, a storage thread that appends and syncs and one cleaner
/// thread for every partition.
///
/// ```
/// use sinew_log::{LogConfig, MemoryDirectory, NewRecord, Partition};
/// use std::sync::Arc;
/// use std::time::Instant;
///
/// let directory = Arc::new(MemoryDirectory::new());
/// let (partition, _report) = Partition::open_in(directory, LogConfig::default())?;
/// let appended = partition.append(&[NewRecord::new(None, b"hello".to_vec(), 0)], None, Instant::now())?;
/// assert_eq!(appended.notice.new_data, Some(1)); // wake fetches that read unsynced data
/// let synced = partition.sync()?;
/// assert_eq!(synced.notice.durable, Some(1)); // wake fetches that wait for durability
/// let batches = partition.read_durable(0, 1 << 20)?;
/// let (_header, bytes) = batches.shared().next().expect("one batch");
/// assert_eq!(bytes.len(), batches.bytes().len()); // a `Bytes` slice, not a copy
/// partition.close()?;
/// # Ok::<(), sinew_log::LogError>(())
/// ```
#[derive(Debug)]
pub struct Partition {
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) config: LogConfig,
    pub(crate) writer: Mutex<Writer>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) checkpoint: Mutex<CheckpointFile>,
    failed: AtomicBool,
    /// Held by retention and compaction, so only one of them changes sealed
    /// segments at a time.
    cleaning: Mutex<CleaningState>,
    _lock: Box<dyn WriterLock>,
}

/// What the writer lock guards.
#[derive(Debug)]
pub(crate) struct Writer {
    active: Active,
    pub(crate) segments: Arc<Vec<SegmentView>>,
    pub(crate) start_offset: u64,
    marker_present: bool,
    closed: bool,
    /// When the oldest append not yet synced came (for the interval policy).
    unsynced_since: Option<Instant>,
    /// Idempotent producers' sequences and offsets.
    pub(crate) producers: ProducerState,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Partition {
    /// Opens (creating if needed) the log in directory `path` for writing,
    /// recovering it if its last shutdown was not clean.
    pub fn open(path: impl AsRef<Path>, config: LogConfig) -> Result<(Partition, RecoveryReport)> {
        let path = path.as_ref();
        let directory = FileDirectory::open(path)
            .map_err(LogError::io(format!("opening {}", path.display())))?;
        Partition::open_in(Arc::new(directory), config)
    }

    /// Opens (and recovers) the log in any `Directory` for writing, with its lock
    /// taken.
    pub fn open_in(
        directory: Arc<dyn Directory>,
        config: LogConfig,
    ) -> Result<(Partition, RecoveryReport)> {
        config.validate()?;
        if directory.read_only() {
            return Err(LogError::ReadOnly);
        }
        let writer_lock = directory.lock().map_err(|error| {
            if error.kind() == io::ErrorKind::WouldBlock {
                LogError::Locked(directory.describe())
            } else {
                LogError::io(format!("locking {}", directory.describe()))(error)
            }
        })?;
        let mut loaded = recovery::load(directory.as_ref(), &config)?;
        if !loaded.report.is_whole() {
            return Err(LogError::Damaged(Box::new(loaded.report)));
        }
        let checkpoint = recovery::repair(directory.as_ref(), &mut loaded, &config)?;
        let report = loaded.report.clone();
        for cut in &report.truncations {
            tracing::warn!(
                segment = %cut.segment, from_offset = cut.from_offset, bytes = cut.bytes,
                reason = %cut.reason, "cut a torn tail"
            );
        }
        let producers = replay_producers(&loaded.segments, loaded.start_offset)?;
        let last = loaded.segments.pop();
        let mut views: Vec<SegmentView> = loaded
            .segments
            .into_iter()
            .map(|loaded| SegmentView {
                segment: loaded.segment,
                sealed_size: loaded.size,
                contiguous: false,
            })
            .collect();
        let (active, contiguous) = match last {
            Some(last) => {
                let contiguous = last.contiguous;
                (Active::resume(directory.as_ref(), last)?, contiguous)
            }
            None => {
                let active = Active::create(directory.as_ref(), report.end_offset, &config)?;
                directory
                    .sync()
                    .map_err(LogError::io("syncing the log directory"))?;
                (active, true)
            }
        };
        views.push(SegmentView {
            segment: active.segment.clone(),
            sealed_size: 0,
            contiguous,
        });
        let segments = Arc::new(views);
        let shared = Arc::new(Shared::new(Published {
            segments: segments.clone(),
            start_offset: loaded.start_offset,
            end_offset: active.next_offset,
            end_position: active.size,
            durable_offset: active.next_offset,
            writable: true,
            waiters: 0,
        }));
        let partition = Partition {
            writer: Mutex::new(Writer {
                active,
                segments,
                start_offset: loaded.start_offset,
                marker_present: report.clean_shutdown,
                closed: false,
                unsynced_since: None,
                producers,
            }),
            directory,
            config,
            shared,
            checkpoint: Mutex::new(checkpoint),
            failed: AtomicBool::new(false),
            cleaning: Mutex::new(CleaningState {
                first_dirty: loaded.start_offset,
                earliest_horizon: None,
            }),
            _lock: writer_lock,
        };
        Ok((partition, report))
    }

    /// The log's settings.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// The first offset the log holds (Kafka's log start offset).
    pub fn start_offset(&self) -> u64 {
        self.shared.snapshot().start_offset
    }

    /// The offset the next record will get (Kafka's log end offset): every record
    /// below it can be read.
    pub fn end_offset(&self) -> u64 {
        self.shared.snapshot().end_offset
    }

    /// Every offset below this one is durable. A broker that shows consumers only
    /// durable records uses it as the high watermark.
    pub fn durable_offset(&self) -> u64 {
        self.shared.snapshot().durable_offset
    }

    /// The bytes of complete batches in the log's segments (Kafka's partition size:
    /// indexes and preallocated space not counted).
    pub fn size_bytes(&self) -> u64 {
        let published = self.shared.snapshot();
        (0..published.segments.len())
            .map(|index| published.limit(index))
            .sum()
    }

    /// A reader for other threads: it reads what the partition publishes and never
    /// blocks it.
    pub fn reader(&self) -> Reader {
        Reader::new(self.shared.clone())
    }

    /// Reads whole batches, starting with the one holding `offset` (so the first
    /// batch may start before it), up to about `max_bytes` but always at least one
    /// batch; empty at the end of the log. The batches share one buffer, filled by
    /// one positioned read of the segment (no memory map): handing them on copies
    /// nothing. An offset before the log start or past its end is
    /// `LogError::OffsetOutOfRange`, which names both.
    pub fn read(&self, offset: u64, max_bytes: u64) -> Result<Batches> {
        reader::read_published(&self.shared.snapshot(), offset, max_bytes)
    }

    /// `read`, but only batches that are durable: what a broker that shows
    /// consumers only durable records serves. Empty from the durable offset on.
    pub fn read_durable(&self, offset: u64, max_bytes: u64) -> Result<Batches> {
        let published = self.shared.snapshot();
        let durable = published.durable_offset;
        if offset >= durable && offset >= published.start_offset && offset <= published.end_offset {
            return Ok(Batches::default());
        }
        Ok(reader::read_published(&published, offset, max_bytes)?.ending_by(durable))
    }

    /// The first offset whose record has a timestamp at or after `timestamp`, or
    /// `None` if every record is older (Kafka's ListOffsets by time).
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<u64>> {
        reader::offset_for_timestamp(&self.shared.snapshot(), timestamp)
    }

    /// Whether an earlier write or sync failed (appends are refused).
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// When the interval policy wants the next sync: `interval` after the oldest
    /// append not yet synced, by the clock passed to `append`. `None` when
    /// everything is synced, or under another policy (`Always` wants a sync after
    /// every append, `Never` none).
    pub fn sync_deadline(&self) -> Option<Instant> {
        let FsyncPolicy::Interval(interval) = self.config.fsync else {
            return None;
        };
        let since = lock(&self.writer).unsynced_since?;
        since.checked_add(interval)
    }

    /// Whether the interval policy wants a sync at time `now`.
    pub fn sync_due(&self, now: Instant) -> bool {
        self.sync_deadline().is_some_and(|deadline| deadline <= now)
    }

    /// The lock retention and compaction hold while they change sealed segments.
    pub(crate) fn lock_cleaning(&self) -> MutexGuard<'_, CleaningState> {
        lock(&self.cleaning)
    }

    pub(crate) fn lock_writer(&self) -> Result<MutexGuard<'_, Writer>> {
        if self.has_failed() {
            return Err(LogError::Failed);
        }
        let writer = lock(&self.writer);
        if writer.closed {
            return Err(LogError::Failed);
        }
        Ok(writer)
    }

    /// Marks the log failed if `result` is an error: after a failed write or sync
    /// the log cannot know what the disk holds.
    pub(crate) fn fail_on_error<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.failed.store(true, Ordering::Release);
        }
        result
    }

    /// Appends one encoded batch whose `header` was read from it (and checked):
    /// only its base offset is rewritten, outside the CRC. `now` decides whether
    /// the active segment is too old to take it. Nothing is synced.
    pub(crate) fn append_checked(
        &self,
        batch: &[u8],
        header: &BatchHeader,
        now: Instant,
    ) -> Result<Appended> {
        let mut writer = self.lock_writer()?;
        let producer = header.producer().filter(|_| !header.control());
        if let Some(producer) = producer {
            producer.check()?;
            let span = header.last_offset_delta.saturating_add(1);
            match writer.producers.check(producer, span) {
                SequenceCheck::Append => {}
                SequenceCheck::Duplicate(original) => {
                    return Ok(Appended {
                        base_offset: original.base_offset,
                        last_offset: original.last_offset,
                        duplicate: true,
                        notice: Notice::default(),
                    });
                }
                SequenceCheck::OutOfOrder { expected } => {
                    return Err(LogError::OutOfOrderSequence {
                        producer_id: producer.id,
                        expected,
                        found: producer.base_sequence,
                    });
                }
                SequenceCheck::Fenced { current_epoch } => {
                    return Err(LogError::ProducerFenced {
                        producer_id: producer.id,
                        epoch: producer.epoch,
                        current_epoch,
                    });
                }
            }
        }
        let result = self.write(&mut writer, batch, header, now);
        let appended = self.fail_on_error(result)?;
        if let Some(producer) = producer {
            let span = header.last_offset_delta.saturating_add(1);
            writer.producers.record(
                producer,
                span,
                (appended.base_offset, appended.last_offset),
                header.max_timestamp,
            );
        }
        Ok(appended)
    }

    /// Forgets idempotent producers whose newest batch's timestamp is
    /// `LogConfig::producer_expiry` or more before `now` (what a cleaning pass
    /// does); returns how many.
    pub fn expire_producers(&self, now: std::time::SystemTime) -> Result<usize> {
        let Some(expiry) = self.config.producer_expiry else {
            return Ok(0);
        };
        let now_ms = crate::time::milliseconds_since_epoch(now);
        let max_age_ms = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX);
        Ok(self.lock_writer()?.producers.expire(now_ms, max_age_ms))
    }

    /// What the log knows of idempotent producer `id`: its epoch and its last
    /// batches' sequence numbers and offsets (rebuilt from the batch headers on
    /// open).
    pub fn producer(&self, id: i64) -> Option<ProducerEntry> {
        lock(&self.writer).producers.entry(id).cloned()
    }

    /// What an append of a batch of `record_count` records from `producer` would
    /// do: append it, answer it with the offsets it got before (a retry), or refuse
    /// it (out of sequence, or fenced). `append` decides the same way by itself;
    /// this lets an owner answer a retry without encoding it.
    pub fn check_sequence(&self, producer: Producer, record_count: u32) -> SequenceCheck {
        lock(&self.writer).producers.check(producer, record_count)
    }

    /// Removes the clean-shutdown marker, durably, before the first change to the
    /// log, so that a crash from then on is always noticed.
    pub(crate) fn remove_marker(&self, writer: &mut Writer) -> Result<()> {
        if writer.marker_present {
            self.directory
                .remove(CLEAN_SHUTDOWN_FILE)
                .and_then(|()| self.directory.sync())
                .map_err(LogError::io("removing the clean-shutdown marker"))?;
            writer.marker_present = false;
        }
        Ok(())
    }

    fn write(
        &self,
        writer: &mut Writer,
        batch: &[u8],
        header: &BatchHeader,
        now: Instant,
    ) -> Result<Appended> {
        self.remove_marker(writer)?;
        let mut notice = Notice::default();
        if writer.active.needs_roll(
            batch.len() as u64,
            header.last_offset_delta,
            now,
            &self.config,
        ) {
            notice = self.roll_segment(writer)?;
        }
        let base_offset = writer.active.next_offset;
        // The batch is written as it came but for its base offset (outside the
        // CRC), which goes in front of the rest without copying it.
        let mut head = [0u8; batch::BASE_OFFSET_SIZE];
        batch::set_base_offset(&mut head, base_offset)?;
        let tail = batch
            .get(batch::BASE_OFFSET_SIZE..)
            .ok_or(BatchError::BadLength(-1))?;
        let mut stored = *header;
        stored.base_offset = base_offset;
        writer
            .active
            .append(&head, tail, &stored, now, &self.config)?;
        writer.unsynced_since.get_or_insert(now);
        let (end_offset, end_position) = (writer.active.next_offset, writer.active.size);
        self.shared.update(|published| {
            published.end_offset = end_offset;
            published.end_position = end_position;
        });
        notice.new_data = Some(end_offset);
        Ok(Appended {
            base_offset,
            last_offset: stored.last_offset(),
            duplicate: false,
            notice,
        })
    }

    /// Starts a new segment now (if the active one holds anything).
    pub fn roll(&self) -> Result<Notice> {
        let mut writer = self.lock_writer()?;
        if writer.active.size == 0 {
            return Ok(Notice::default());
        }
        let result = self
            .remove_marker(&mut writer)
            .and_then(|()| self.roll_segment(&mut writer));
        self.fail_on_error(result)
    }

    /// Seals the active segment (synced) and starts a new one.
    fn roll_segment(&self, writer: &mut Writer) -> Result<Notice> {
        let end = writer.active.seal()?;
        let durable = self.advance_durable(end, writer.start_offset)?;
        if durable >= writer.active.next_offset {
            writer.unsynced_since = None;
        }
        let active = Active::create(self.directory.as_ref(), end, &self.config)?;
        self.directory
            .sync()
            .map_err(LogError::io("syncing the log directory"))?;
        let mut views = writer.segments.as_ref().clone();
        if let Some(last) = views.last_mut() {
            last.sealed_size = writer.active.size;
            last.contiguous = false;
        }
        views.push(SegmentView {
            segment: active.segment.clone(),
            sealed_size: 0,
            contiguous: true,
        });
        let views = Arc::new(views);
        writer.segments = views.clone();
        writer.active = active;
        self.shared.update(|published| {
            published.segments = views;
            published.end_position = 0;
            published.end_offset = end;
        });
        tracing::debug!(base_offset = end, "rolled a new segment");
        Ok(Notice {
            new_data: None,
            durable: Some(durable),
            sealed: true,
        })
    }

    /// Records that everything below `end` is durable; returns the durable offset.
    fn advance_durable(&self, end: u64, start_offset: u64) -> Result<u64> {
        lock(&self.checkpoint)
            .advance(end, start_offset)
            .map_err(LogError::io("writing the checkpoint"))?;
        let mut durable = end;
        self.shared.update(|published| {
            published.durable_offset = published.durable_offset.max(end);
            durable = published.durable_offset;
        });
        Ok(durable)
    }

    /// Makes everything appended so far durable (one fsync of the active segment:
    /// sealed ones were synced when they were sealed); returns the durable offset
    /// and whether it moved. Safe to call from several threads at once (each call
    /// syncs); the threaded `Log` shares one sync among concurrent appenders.
    pub fn sync(&self) -> Result<Synced> {
        if self.has_failed() {
            return Err(LogError::Failed);
        }
        let snapshot = self.shared.snapshot();
        if snapshot.durable_offset >= snapshot.end_offset {
            return Ok(Synced {
                durable_offset: snapshot.durable_offset,
                notice: Notice::default(),
            });
        }
        let result = match snapshot.segments.last() {
            Some(view) => view.segment.log.sync().map_err(LogError::io_with(|| {
                format!("syncing {}", view.segment.name())
            })),
            None => Ok(()),
        };
        let result =
            result.and_then(|()| self.advance_durable(snapshot.end_offset, snapshot.start_offset));
        let durable_offset = self.fail_on_error(result)?;
        {
            let mut writer = lock(&self.writer);
            if durable_offset >= writer.active.next_offset {
                writer.unsynced_since = None;
            }
        }
        let moved = durable_offset > snapshot.durable_offset;
        Ok(Synced {
            durable_offset,
            notice: Notice {
                durable: moved.then_some(durable_offset),
                ..Notice::default()
            },
        })
    }

    /// Shuts down cleanly: syncs everything, records the recovery point and leaves
    /// the clean-shutdown marker, so the next open checks nothing. Returns what
    /// became durable.
    pub fn close(&self) -> Result<Notice> {
        let mut writer = self.lock_writer()?;
        let result = (|| {
            let end = writer.active.seal()?;
            let durable = self.advance_durable(end, writer.start_offset)?;
            lock(&self.checkpoint)
                .sync()
                .map_err(LogError::io("syncing the checkpoint"))?;
            if !writer.marker_present {
                self.directory
                    .create(CLEAN_SHUTDOWN_FILE)
                    .and_then(|_| self.directory.sync())
                    .map_err(LogError::io("writing the clean-shutdown marker"))?;
                writer.marker_present = true;
            }
            Ok(Notice {
                durable: Some(durable),
                ..Notice::default()
            })
        })();
        writer.closed = true;
        self.shared.update(|published| published.writable = false);
        self.fail_on_error(result)
    }
}

/// The idempotent producers' state, from the headers of every batch, less the
/// producers whose last batch is before the log start offset. It reads every
/// segment's headers (a window at a time, records skipped): a cost on open that
/// grows with the log, until producer snapshots are written at each roll as Kafka
/// does. A damaged header ends the walk of its segment without failing the open.
fn replay_producers(segments: &[LoadedSegment], start_offset: u64) -> Result<ProducerState> {
    let mut producers = ProducerState::default();
    for loaded in segments {
        let walked = loaded.segment.for_each_header(loaded.size, |header| {
            if let Some(producer) = header.producer()
                && !header.control()
            {
                let span = header.last_offset_delta.saturating_add(1);
                producers.record(
                    producer,
                    span,
                    (header.base_offset, header.last_offset()),
                    header.max_timestamp,
                );
            }
        });
        match walked {
            Ok(()) => {}
            // Damage that recovery trusted (before the recovery point of a clean
            // log) is refused to readers when they reach it; it must not stop the
            // open, so the producer state stops there for this segment.
            Err(LogError::Corrupt {
                segment,
                position,
                reason,
            }) => {
                tracing::warn!(%segment, position, %reason, "the producer state skips a damaged batch header");
            }
            Err(other) => return Err(other),
        }
    }
    producers.forget_before(start_offset);
    if producers.len() > 0 {
        tracing::debug!(producers = producers.len(), "rebuilt the producer state");
    }
    Ok(producers)
}

impl Drop for Partition {
    fn drop(&mut self) {
        // Readers waiting at the end of the log stop waiting.
        self.shared.update(|published| published.writable = false);
    }
}
