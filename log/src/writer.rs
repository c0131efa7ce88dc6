//! The single writer of a log directory (`Inner`, behind the public `Log` handle):
//! it opens (and recovers) the log, appends batches with offsets assigned, rolls
//! segments, syncs under the durability policy with group commit, publishes what
//! retention and the cleaner change, and closes cleanly. Retention, compaction
//! and the cleaner work through it; it depends on none of them.
//!
//! The writer must never acknowledge a batch as durable before an fsync covered it,
//! never publish bytes to readers before they are completely written, and never
//! keep appending after a failed write or sync (it no longer knows what the disk
//! holds; reopening recovers).

use crate::batch::{self, BatchHeader};
use crate::checkpoint::{CLEAN_SHUTDOWN_FILE, CheckpointFile};
use crate::config::{Durability, FsyncPolicy, LogConfig};
use crate::error::{BatchError, LogError, Result};
use crate::index::{self, IndexRule, Indexes, OffsetEntry, TimeEntry};
use crate::recovery::{self, LoadedSegment};
use crate::report::RecoveryReport;
use crate::segment::{self, INDEX_EXTENSION, LOG_EXTENSION, Segment, TIME_INDEX_EXTENSION};
use crate::shared::{Published, SegmentView, Shared};
use crate::signal::Signal;
use crate::storage::{Directory, Storage, WriterLock};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// What the writer, the flusher and the cleaner share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) config: LogConfig,
    writer: Mutex<Writer>,
    pub(crate) shared: Arc<Shared>,
    commit: Mutex<Commit>,
    committed: Condvar,
    checkpoint: Mutex<CheckpointFile>,
    failed: AtomicBool,
    /// Held by retention and compaction, so only one of them changes sealed
    /// segments at a time.
    cleaning: Mutex<CleaningState>,
    pub(crate) cleaner_signal: Arc<Signal>,
    _lock: Box<dyn WriterLock>,
}

#[derive(Debug)]
struct Writer {
    active: Active,
    segments: Arc<Vec<SegmentView>>,
    start_offset: u64,
    marker_present: bool,
    closed: bool,
}

/// Index bytes gathered before they are written out (about 340 offset entries).
const PENDING_INDEX_BYTES: usize = 4096;

/// The segment appends go to, with its index files.
#[derive(Debug)]
struct Active {
    segment: Arc<Segment>,
    index_file: Arc<dyn Storage>,
    time_index_file: Arc<dyn Storage>,
    index_size: u64,
    time_index_size: u64,
    /// Index entries not yet written to `index_file` (written in blocks, and on
    /// seal: the active segment's indexes are only trusted once sealed, and
    /// recovery rebuilds a short one).
    pending_index: Vec<u8>,
    /// The same for `time_index_file`.
    pending_time_index: Vec<u8>,
    size: u64,
    /// How far the segment's disk space is reserved (`Storage::preallocate`).
    reserved: u64,
    next_offset: u64,
    rule: IndexRule,
    first_append: Option<Instant>,
}

#[derive(Debug)]
struct Commit {
    durable_offset: u64,
    syncing: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Milliseconds since the Unix epoch (the unit of record timestamps).
pub(crate) fn milliseconds_since_epoch(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// The current time in milliseconds since the Unix epoch.
pub(crate) fn now_milliseconds() -> i64 {
    milliseconds_since_epoch(SystemTime::now())
}

impl Inner {
    /// Opens (and recovers) the log in `directory` for writing, with its lock
    /// taken: everything but the threads, which the `Log` handle starts.
    pub(crate) fn open(
        directory: Arc<dyn Directory>,
        config: LogConfig,
    ) -> Result<(Arc<Inner>, RecoveryReport)> {
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
        let inner = Arc::new(Inner {
            commit: Mutex::new(Commit {
                durable_offset: active.next_offset,
                syncing: false,
            }),
            writer: Mutex::new(Writer {
                active,
                segments,
                start_offset: loaded.start_offset,
                marker_present: report.clean_shutdown,
                closed: false,
            }),
            directory,
            config,
            shared,
            committed: Condvar::new(),
            checkpoint: Mutex::new(checkpoint),
            failed: AtomicBool::new(false),
            cleaning: Mutex::new(CleaningState {
                first_dirty: loaded.start_offset,
                earliest_horizon: None,
            }),
            cleaner_signal: Arc::new(Signal::new()),
            _lock: writer_lock,
        });
        Ok((inner, report))
    }

    /// Starts a new segment now (if the active one holds anything).
    pub(crate) fn roll_now(&self) -> Result<()> {
        let mut writer = self.lock_writer()?;
        if writer.active.size == 0 {
            return Ok(());
        }
        let result = self
            .remove_marker(&mut writer)
            .and_then(|()| self.roll(&mut writer));
        self.fail_on_error(result)
    }

    /// Whether an earlier write or sync failed (appends are refused).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// The lock retention and compaction hold while they change sealed segments.
    pub(crate) fn lock_cleaning(&self) -> MutexGuard<'_, CleaningState> {
        lock(&self.cleaning)
    }

    /// Prepares for a change to the directory outside appends (a cleaned segment's
    /// swap): the clean-shutdown marker goes first, durably.
    pub(crate) fn begin_change(&self) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let result = self.remove_marker(&mut writer);
        self.fail_on_error(result)
    }

    /// Retention: moves the log start to `new_start` (the base of the segment after
    /// `doomed`, which must be the oldest segments), durably in the checkpoint, and
    /// publishes the shorter segment list. The caller deletes the files afterwards.
    pub(crate) fn retire(&self, doomed: &[Arc<Segment>], new_start: u64) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let current = writer.segments.clone();
        let is_prefix = doomed.len() < current.len()
            && doomed
                .iter()
                .zip(current.iter())
                .all(|(doomed, view)| Arc::ptr_eq(doomed, &view.segment));
        if !is_prefix {
            return Err(LogError::Config(
                "retention raced with another change to the segments",
            ));
        }
        let result = (|| {
            self.remove_marker(&mut writer)?;
            let mut checkpoint = lock(&self.checkpoint);
            checkpoint
                .advance(0, new_start)
                .and_then(|()| checkpoint.sync())
                .map_err(LogError::io("recording the new log start offset"))
        })();
        self.fail_on_error(result)?;
        let views = Arc::new(current.get(doomed.len()..).unwrap_or_default().to_vec());
        writer.start_offset = new_start;
        writer.segments = views.clone();
        self.shared.update(|published| {
            published.segments = views;
            published.start_offset = new_start;
        });
        Ok(())
    }

    /// Compaction: publishes a cleaned segment in place of `old`.
    pub(crate) fn replace_segment(&self, old: &Arc<Segment>, new: SegmentView) {
        let mut writer = lock(&self.writer);
        let mut views = writer.segments.as_ref().clone();
        let Some(slot) = views
            .iter_mut()
            .find(|view| Arc::ptr_eq(&view.segment, old))
        else {
            tracing::error!(segment = %old.name(), "a cleaned segment is no longer in the log");
            return;
        };
        *slot = new;
        let views = Arc::new(views);
        writer.segments = views.clone();
        self.shared.update(|published| published.segments = views);
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, Writer>> {
        if self.failed.load(Ordering::Acquire) {
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
            // Take the lock so no waiter misses the wake-up between its check and
            // its wait.
            drop(lock(&self.commit));
            self.committed.notify_all();
        }
        result
    }

    pub(crate) fn append(&self, batch: &[u8], header: &BatchHeader) -> Result<Acknowledgement> {
        let next_offset = {
            let mut writer = self.lock_writer()?;
            let result = self.write(&mut writer, batch, header);
            self.fail_on_error(result)?
        };
        let base_offset = next_offset - 1 - u64::from(header.last_offset_delta);
        let durability = match self.config.fsync {
            FsyncPolicy::Always => {
                self.make_durable(next_offset)?;
                Durability::Durable
            }
            FsyncPolicy::Interval(_) | FsyncPolicy::Never => Durability::Written,
        };
        Ok(Acknowledgement {
            base_offset,
            last_offset: next_offset - 1,
            durability,
        })
    }

    /// Writes one batch; returns the offset after it.
    /// Removes the clean-shutdown marker, durably, before the first change to the
    /// log, so that a crash from then on is always noticed.
    fn remove_marker(&self, writer: &mut Writer) -> Result<()> {
        if writer.marker_present {
            self.directory
                .remove(CLEAN_SHUTDOWN_FILE)
                .and_then(|()| self.directory.sync())
                .map_err(LogError::io("removing the clean-shutdown marker"))?;
            writer.marker_present = false;
        }
        Ok(())
    }

    fn write(&self, writer: &mut Writer, batch: &[u8], header: &BatchHeader) -> Result<u64> {
        self.remove_marker(writer)?;
        let size = batch.len() as u64;
        let active = &writer.active;
        let relative_last =
            active.next_offset - active.segment.base_offset + u64::from(header.last_offset_delta);
        let too_old = match (self.config.segment_age, active.first_append) {
            (Some(age), Some(first)) => first.elapsed() >= age,
            _ => false,
        };
        if active.size > 0
            && (active.size + size > self.config.segment_bytes
                || too_old
                || relative_last > u64::from(u32::MAX))
        {
            self.roll(writer)?;
        }
        let active = &mut writer.active;
        let base_offset = active.next_offset;
        // The batch is written as it came but for its base offset (outside the
        // CRC), which goes in front of the rest without copying it.
        let mut head = [0u8; batch::BASE_OFFSET_SIZE];
        batch::set_base_offset(&mut head, base_offset)?;
        let tail = batch
            .get(batch::BASE_OFFSET_SIZE..)
            .ok_or(BatchError::BadLength(-1))?;
        let position = active.size;
        active.reserve(position + size, &self.config);
        active
            .segment
            .log
            .write_two_at(&head, tail, position)
            .map_err(LogError::io_with(|| {
                format!("appending to {}", active.segment.name())
            }))?;
        let mut stored = *header;
        stored.base_offset = base_offset;
        let (offset_entry, time_entry) = active.rule.observe(position, &stored);
        active.add_entries(offset_entry, time_entry)?;
        active.segment.observe_timestamp(header.max_timestamp);
        active.size += size;
        active.next_offset = stored.next_offset();
        active.first_append.get_or_insert_with(Instant::now);
        let (end_offset, end_position) = (active.next_offset, active.size);
        self.shared.update(|published| {
            published.end_offset = end_offset;
            published.end_position = end_position;
        });
        Ok(end_offset)
    }

    /// Seals the active segment (synced) and starts a new one.
    fn roll(&self, writer: &mut Writer) -> Result<()> {
        let end = writer.active.seal()?;
        self.advance_durable(end, writer.start_offset)?;
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
        if self.config.needs_cleaning() {
            self.cleaner_signal.wake();
        }
        Ok(())
    }

    /// Records that everything below `end` is durable.
    fn advance_durable(&self, end: u64, start_offset: u64) -> Result<()> {
        lock(&self.checkpoint)
            .advance(end, start_offset)
            .map_err(LogError::io("writing the checkpoint"))?;
        {
            let mut commit = lock(&self.commit);
            commit.durable_offset = commit.durable_offset.max(end);
        }
        self.committed.notify_all();
        self.shared.update(|published| {
            published.durable_offset = published.durable_offset.max(end);
        });
        Ok(())
    }

    /// Waits until every offset below `target` is durable, leading a sync if none
    /// is in flight (group commit: one sync covers every append written before it).
    pub(crate) fn make_durable(&self, target: u64) -> Result<()> {
        let mut commit = lock(&self.commit);
        loop {
            if commit.durable_offset >= target {
                return Ok(());
            }
            if self.failed.load(Ordering::Acquire) {
                return Err(LogError::Failed);
            }
            if commit.syncing {
                commit = self
                    .committed
                    .wait(commit)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            commit.syncing = true;
            drop(commit);
            // Earlier segments were synced when they were sealed, so syncing the
            // last one covers everything published.
            let snapshot = self.shared.snapshot();
            let result = match snapshot.segments.last() {
                Some(view) => view.segment.log.sync().map_err(LogError::io_with(|| {
                    format!("syncing {}", view.segment.name())
                })),
                None => Ok(()),
            };
            let start_offset = snapshot.start_offset;
            let result =
                result.and_then(|()| self.advance_durable(snapshot.end_offset, start_offset));
            commit = lock(&self.commit);
            commit.syncing = false;
            // Waiters whose offsets this sync did not cover lead the next one.
            self.committed.notify_all();
            if let Err(error) = result {
                self.failed.store(true, Ordering::Release);
                return Err(error);
            }
        }
    }

    pub(crate) fn close(&self) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let result = (|| {
            let end = writer.active.seal()?;
            self.advance_durable(end, writer.start_offset)?;
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
            Ok(())
        })();
        writer.closed = true;
        self.shared.update(|published| published.writable = false);
        self.fail_on_error(result)
    }
}

impl Active {
    /// Creates the files of a new, empty segment. The caller syncs the directory.
    fn create(directory: &dyn Directory, base_offset: u64, config: &LogConfig) -> Result<Active> {
        let open = |extension| {
            directory
                .create(&segment::file_name(base_offset, extension))
                .map_err(LogError::io(format!("creating segment {base_offset}")))
        };
        let log = open(LOG_EXTENSION)?;
        let index_file = open(INDEX_EXTENSION)?;
        let time_index_file = open(TIME_INDEX_EXTENSION)?;
        Ok(Active {
            segment: Arc::new(Segment::new(base_offset, log, Indexes::default(), None)),
            index_file,
            time_index_file,
            index_size: 0,
            time_index_size: 0,
            pending_index: Vec::new(),
            pending_time_index: Vec::new(),
            size: 0,
            reserved: 0,
            next_offset: base_offset,
            rule: IndexRule::new(base_offset, config.index_interval_bytes),
            first_append: None,
        })
    }

    /// Continues appending to a segment found on open.
    fn resume(directory: &dyn Directory, loaded: LoadedSegment) -> Result<Active> {
        let base_offset = loaded.segment.base_offset;
        let open = |extension| -> Result<(Arc<dyn Storage>, u64)> {
            let storage = directory
                .create(&segment::file_name(base_offset, extension))
                .map_err(LogError::io(format!("opening segment {base_offset}")))?;
            let size = storage
                .len()
                .map_err(LogError::io(format!("opening segment {base_offset}")))?;
            Ok((storage, size))
        };
        let (index_file, index_size) = open(INDEX_EXTENSION)?;
        let (time_index_file, time_index_size) = open(TIME_INDEX_EXTENSION)?;
        Ok(Active {
            segment: loaded.segment,
            index_file,
            time_index_file,
            index_size,
            time_index_size,
            pending_index: Vec::new(),
            pending_time_index: Vec::new(),
            size: loaded.size,
            // Unknown after a restart: reserving again is harmless.
            reserved: loaded.size,
            next_offset: loaded.next_offset,
            rule: loaded.rule,
            first_append: None,
        })
    }

    fn add_entries(
        &mut self,
        offset_entry: Option<OffsetEntry>,
        time_entry: Option<TimeEntry>,
    ) -> Result<()> {
        if let Some(entry) = offset_entry {
            self.pending_index
                .extend_from_slice(&index::encode_offset_entry(&entry));
            self.segment.indexes_mut().offsets.push(entry);
        }
        if let Some(entry) = time_entry {
            self.pending_time_index
                .extend_from_slice(&index::encode_time_entry(&entry));
            self.segment.indexes_mut().times.push(entry);
        }
        if self.pending_index.len() + self.pending_time_index.len() >= PENDING_INDEX_BYTES {
            self.write_indexes()?;
        }
        Ok(())
    }

    /// Writes the pending index entries to the index files.
    fn write_indexes(&mut self) -> Result<()> {
        for (file, size, pending, what) in [
            (
                &self.index_file,
                &mut self.index_size,
                &mut self.pending_index,
                "index",
            ),
            (
                &self.time_index_file,
                &mut self.time_index_size,
                &mut self.pending_time_index,
                "time index",
            ),
        ] {
            if pending.is_empty() {
                continue;
            }
            file.write_at(pending, *size)
                .map_err(LogError::io_with(|| {
                    format!("writing the {what} of {}", self.segment.name())
                }))?;
            *size += pending.len() as u64;
            pending.clear();
        }
        Ok(())
    }

    /// Reserves disk space ahead so that `end` bytes fit, a step at a time and
    /// never far past the segment's size limit. A failure only costs speed: the
    /// write that follows allocates as usual (and reports a full disk itself).
    ///
    /// Not under `FsyncPolicy::Always`: an fsync after every append into reserved
    /// space must also record, every time, that the space now holds data, which
    /// costs more than the reservation saves (see BENCHMARKS.md).
    fn reserve(&mut self, end: u64, config: &LogConfig) {
        if end <= self.reserved
            || config.preallocate_bytes == 0
            || config.fsync == FsyncPolicy::Always
        {
            return;
        }
        let target = (end + config.preallocate_bytes).min(config.segment_bytes.max(end));
        match self.segment.log.preallocate(target) {
            Ok(true) => self.reserved = target,
            // Not supported here: stop asking for this segment.
            Ok(false) => self.reserved = u64::MAX,
            Err(error) => {
                tracing::debug!(segment = %self.segment.name(), %error, "reserving space failed");
                self.reserved = end;
            }
        }
    }

    /// Writes the final time entry, gives back reserved space it did not use, and
    /// syncs the segment and its indexes; returns the offset after the segment.
    fn seal(&mut self) -> Result<u64> {
        let final_entry = self.rule.time_entry();
        self.add_entries(None, final_entry)?;
        self.write_indexes()?;
        let name = self.segment.name();
        if self.reserved > self.size && self.reserved != u64::MAX {
            self.segment
                .log
                .set_len(self.size)
                .map_err(LogError::io(format!(
                    "giving back the space reserved for {name}"
                )))?;
            self.reserved = self.size;
        }
        for storage in [&self.segment.log, &self.index_file, &self.time_index_file] {
            storage
                .sync()
                .map_err(LogError::io(format!("syncing {name}")))?;
        }
        Ok(self.next_offset)
    }
}

/// The background thread of the interval policy.
#[derive(Debug)]
pub(crate) struct Flusher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(crate) fn start(inner: Arc<Inner>, interval: Duration) -> io::Result<Flusher> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sinew-log-flusher".into())
            .spawn(move || {
                let (stopped, wake) = &*signal;
                loop {
                    let guard = lock(stopped);
                    let (guard, _) = wake
                        .wait_timeout_while(guard, interval, |stopped| !*stopped)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if *guard {
                        return;
                    }
                    drop(guard);
                    let end = inner.shared.snapshot().end_offset;
                    if let Err(error) = inner.make_durable(end) {
                        tracing::error!(%error, "the interval sync failed");
                        return;
                    }
                }
            })?;
        Ok(Flusher {
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn stop(mut self) {
        let (stopped, wake) = &*self.stop;
        *lock(stopped) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
