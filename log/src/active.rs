//! The active segment: the one appends go to, with its offset and time index files
//! (entries gathered and written in blocks), the disk space reserved ahead of it,
//! and sealing it (final time entry, unused space given back, everything synced)
//! when the log rolls or closes.
//!
//! It knows nothing of the published state or the checkpoint; the partition
//! (`partition.rs`) decides when to append, seal and publish. It must never report
//! a segment sealed before its data and both indexes are synced.

use crate::batch::BatchHeader;
use crate::config::{FsyncPolicy, LogConfig};
use crate::error::{LogError, Result};
use crate::index::{self, IndexRule, Indexes, OffsetEntry, TimeEntry};
use crate::recovery::LoadedSegment;
use crate::segment::{self, INDEX_EXTENSION, LOG_EXTENSION, Segment, TIME_INDEX_EXTENSION};
use crate::storage::{Directory, Storage};
use std::sync::Arc;
use std::time::Instant;

/// Index bytes gathered before they are written out (about 340 offset entries).
const PENDING_INDEX_BYTES: usize = 4096;

/// The segment appends go to, with its index files.
#[derive(Debug)]
pub(crate) struct Active {
    pub(crate) segment: Arc<Segment>,
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
    pub(crate) size: u64,
    /// How far the segment's disk space is reserved (`Storage::preallocate`).
    reserved: u64,
    pub(crate) next_offset: u64,
    rule: IndexRule,
    /// When the first append to this segment came, by the clock the owner passes in.
    first_append: Option<Instant>,
}

impl Active {
    /// Creates the files of a new, empty segment. The caller syncs the directory.
    pub(crate) fn create(
        directory: &dyn Directory,
        base_offset: u64,
        config: &LogConfig,
    ) -> Result<Active> {
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
    pub(crate) fn resume(directory: &dyn Directory, loaded: LoadedSegment) -> Result<Active> {
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

    /// Whether a batch of `size` bytes whose last offset is `last_offset_delta` past
    /// the next offset must go to a new segment at time `now`: the active one holds
    /// something and would grow past its size limit, has taken appends for longer
    /// than the segment age, or could not address the offset in 32 bits.
    pub(crate) fn needs_roll(
        &self,
        size: u64,
        last_offset_delta: u32,
        now: Instant,
        config: &LogConfig,
    ) -> bool {
        let relative_last =
            self.next_offset - self.segment.base_offset + u64::from(last_offset_delta);
        let too_old = match (config.segment_age, self.first_append) {
            (Some(age), Some(first)) => now.saturating_duration_since(first) >= age,
            _ => false,
        };
        self.size > 0
            && (self.size + size > config.segment_bytes
                || too_old
                || relative_last > u64::from(u32::MAX))
    }

    /// Writes one batch (`head`, its base offset, then `tail`, the rest as it came)
    /// at the end of the segment and indexes it; `header` is the batch's, with its
    /// base offset as written.
    pub(crate) fn append(
        &mut self,
        head: &[u8],
        tail: &[u8],
        header: &BatchHeader,
        now: Instant,
        config: &LogConfig,
    ) -> Result<()> {
        let size = (head.len() + tail.len()) as u64;
        let position = self.size;
        self.reserve(position + size, config);
        self.segment
            .log
            .write_two_at(head, tail, position)
            .map_err(LogError::io_with(|| {
                format!("appending to {}", self.segment.name())
            }))?;
        let (offset_entry, time_entry) = self.rule.observe(position, header);
        self.add_entries(offset_entry, time_entry)?;
        self.segment.observe_timestamp(header.max_timestamp);
        self.size += size;
        self.next_offset = header.next_offset();
        self.first_append.get_or_insert(now);
        Ok(())
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
    pub(crate) fn seal(&mut self) -> Result<u64> {
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
