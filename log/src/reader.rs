//! `Reader`: reads batches by offset or by timestamp, and waits at the end of the log
//! for more. Any number of readers, on any threads, alongside the writer; also
//! `open_read_only` for looking into a directory without a writer. The reads
//! themselves (`read_published`, `offset_for_timestamp`) are what `Partition` serves
//! too; waiting (a condition variable on the published state) is only for threads
//! of the threaded API: a partition's owner gets notices instead.
//!
//! A read is one positioned read into one buffer, handed out as `bytes::Bytes`
//! slices (no memory map).
//!
//! A reader works on a snapshot and positioned reads, so it never holds a lock
//! during I/O and never blocks the writer. It must never return a batch that failed
//! its checks, or a batch other than the one holding the requested offset.

use crate::batch::BatchHeader;
use crate::checkpoint::CheckpointFile;
use crate::config::LogConfig;
use crate::error::{LogError, Result};
use crate::record::{self, Record};
use crate::recovery;
use crate::report::RecoveryReport;
use crate::shared::{Published, SegmentView, Shared};
use crate::storage::{Directory, FileDirectory};
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// A handle for reading a log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Reader {
    shared: Arc<Shared>,
}

/// Whole batches read from the log, as stored (Kafka's wire layout), each checked.
/// Their bytes are one shared buffer (`bytes::Bytes`), filled by one positioned read:
/// handing out a batch, or all of them, copies nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batches {
    bytes: Bytes,
    headers: Vec<BatchHeader>,
}

impl Batches {
    /// The stored bytes of every batch, back to back.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The stored bytes of every batch, back to back, sharing the read's buffer.
    pub fn to_bytes(&self) -> Bytes {
        self.bytes.clone()
    }

    /// The header of each batch.
    pub fn headers(&self) -> &[BatchHeader] {
        &self.headers
    }

    /// Whether no batch was read.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Each batch's header and bytes.
    pub fn iter(&self) -> impl Iterator<Item = (&BatchHeader, &[u8])> {
        self.batches()
            .map(|(header, range)| (header, self.bytes.get(range).unwrap_or_default()))
    }

    /// Each batch's header and bytes, as a slice of the read's buffer.
    pub fn shared(&self) -> impl Iterator<Item = (&BatchHeader, Bytes)> {
        self.batches()
            .map(|(header, range)| (header, self.bytes.slice(range)))
    }

    /// Each batch's header and where its bytes are in the buffer.
    fn batches(&self) -> impl Iterator<Item = (&BatchHeader, std::ops::Range<usize>)> {
        let mut position = 0usize;
        let length = self.bytes.len();
        self.headers.iter().map(move |header| {
            let end = (position + header.size() as usize).min(length);
            let range = position.min(end)..end;
            position = end;
            (header, range)
        })
    }

    /// The offset after the last batch, if any.
    pub fn next_offset(&self) -> Option<u64> {
        self.headers.last().map(BatchHeader::next_offset)
    }

    /// Decodes every record of every batch.
    pub fn records(&self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for (_, bytes) in self.iter() {
            records.extend(record::decode_records(bytes)?);
        }
        Ok(records)
    }

    /// Only the batches that end at or before `end_offset` (the first ones: offsets
    /// increase).
    pub(crate) fn ending_by(mut self, end_offset: u64) -> Batches {
        let kept = self
            .headers
            .partition_point(|header| header.next_offset() <= end_offset);
        let size: u64 = self.headers.iter().take(kept).map(BatchHeader::size).sum();
        self.headers.truncate(kept);
        self.bytes.truncate(size as usize);
        self
    }
}

/// Reads whole batches from the published state, starting with the one holding
/// `offset` (so the first batch may start before it), up to about `max_bytes` but
/// always at least one batch. Empty at the end of the log.
pub(crate) fn read_published(
    published: &Published,
    offset: u64,
    max_bytes: u64,
) -> Result<Batches> {
    if offset < published.start_offset || offset > published.end_offset {
        return Err(LogError::OffsetOutOfRange {
            requested: offset,
            start: published.start_offset,
            end: published.end_offset,
        });
    }
    let segments = published.segments.as_ref();
    let mut index = segments
        .partition_point(|view| view.segment.base_offset <= offset)
        .saturating_sub(1);
    while let Some(view) = segments.get(index) {
        let from = offset.max(view.segment.base_offset);
        let (bytes, headers) = view
            .segment
            .read(from, published.bounds(index), max_bytes)?;
        if !headers.is_empty() {
            return Ok(Batches { bytes, headers });
        }
        index += 1;
    }
    Ok(Batches::default())
}

/// The first offset, at or after the log start, whose record has a timestamp at or
/// after `timestamp`, or `None` if every record is older.
pub(crate) fn offset_for_timestamp(published: &Published, timestamp: i64) -> Result<Option<u64>> {
    for (index, view) in published.segments.iter().enumerate() {
        if view
            .segment
            .max_timestamp()
            .is_none_or(|largest| largest < timestamp)
        {
            continue;
        }
        if let Some(offset) = find_in_segment(published, index, view, timestamp)? {
            return Ok(Some(offset));
        }
    }
    Ok(None)
}

impl Reader {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Reader { shared }
    }

    /// The first offset the log holds.
    pub fn start_offset(&self) -> u64 {
        self.shared.snapshot().start_offset
    }

    /// The offset the next record will get.
    pub fn end_offset(&self) -> u64 {
        self.shared.snapshot().end_offset
    }

    /// Every offset below this one is durable.
    pub fn durable_offset(&self) -> u64 {
        self.shared.snapshot().durable_offset
    }

    /// Reads whole batches, starting with the one holding `offset` (so the first
    /// batch may start before it), up to about `max_bytes` but always at least one
    /// batch. Empty at the end of the log.
    pub fn read(&self, offset: u64, max_bytes: u64) -> Result<Batches> {
        read_published(&self.shared.snapshot(), offset, max_bytes)
    }

    /// Reads up to `max_records` records from `offset` on (records before `offset` in
    /// the first batch are skipped). Empty at the end of the log.
    pub fn read_records(&self, offset: u64, max_records: usize) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        let mut next = offset;
        while records.len() < max_records {
            let batches = self.read(next, 64 * 1024)?;
            let Some(after) = batches.next_offset() else {
                break;
            };
            for (_, bytes) in batches.iter() {
                if records.len() >= max_records {
                    break;
                }
                for record in record::decode_records(bytes)? {
                    if record.offset >= next && records.len() < max_records {
                        records.push(record);
                    }
                }
            }
            next = after;
        }
        Ok(records)
    }

    /// The first offset whose record has a timestamp at or after `timestamp`, or
    /// `None` if every record is older.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<u64>> {
        offset_for_timestamp(&self.shared.snapshot(), timestamp)
    }

    /// Waits until `offset` can be read (the log ends after it), the writer goes
    /// away, or `deadline` passes. Returns whether `offset` can be read.
    pub fn wait_for(&self, offset: u64, deadline: Instant) -> bool {
        self.shared
            .wait_until(deadline, |published| published.end_offset > offset)
    }

    /// Waits until every offset below `offset` is durable, the writer goes away,
    /// or `deadline` passes. Returns whether they are durable.
    pub fn wait_for_durable(&self, offset: u64, deadline: Instant) -> bool {
        self.shared
            .wait_until(deadline, |published| published.durable_offset >= offset)
    }
}

/// Scans one segment from the time index's hint for the first record at or after
/// `timestamp`.
fn find_in_segment(
    published: &Published,
    index: usize,
    view: &SegmentView,
    timestamp: i64,
) -> Result<Option<u64>> {
    let segment = &view.segment;
    let start = segment
        .indexes()
        .start_for_timestamp(timestamp)
        .map_or(segment.base_offset, |relative| {
            segment.base_offset.saturating_add(u64::from(relative))
        });
    let bounds = published.bounds(index);
    let mut next = start.max(published.start_offset);
    loop {
        let (bytes, headers) = segment.read(next, bounds, 1 << 16)?;
        if headers.is_empty() {
            return Ok(None);
        }
        let mut position = 0usize;
        for header in &headers {
            let size = header.size() as usize;
            let batch = bytes.get(position..position + size).unwrap_or_default();
            position += size;
            if header.max_timestamp < timestamp || header.last_offset() < next {
                continue;
            }
            for record in record::decode_records(batch)? {
                if record.offset >= next && record.timestamp >= timestamp {
                    return Ok(Some(record.offset));
                }
            }
        }
        next = headers.last().map_or(next, BatchHeader::next_offset);
    }
}

/// The settings a read-only look at a log needs: the writer's index interval, so
/// a sparse index is not taken for a short one.
pub(crate) fn read_only_config(directory: &dyn Directory) -> Result<LogConfig> {
    let stored = CheckpointFile::read(directory).map_err(LogError::io(format!(
        "reading the checkpoint in {}",
        directory.describe()
    )))?;
    let mut config = LogConfig::default();
    if let Some((checkpoint, _)) = stored
        && checkpoint.index_interval_bytes > 0
    {
        config.index_interval_bytes = u64::from(checkpoint.index_interval_bytes);
    }
    Ok(config)
}

/// Opens a log directory without writing anything to it: no lock, no repair. What
/// recovery would do is in the report; nothing past damage or a bad tail is served.
pub fn open_read_only(path: impl AsRef<Path>) -> Result<(Reader, RecoveryReport)> {
    let path = path.as_ref();
    let directory = FileDirectory::open_read_only(path)
        .map_err(LogError::io(format!("opening {}", path.display())))?;
    open_read_only_in(&directory)
}

/// `open_read_only` for any `Directory`.
pub fn open_read_only_in(directory: &dyn Directory) -> Result<(Reader, RecoveryReport)> {
    let loaded = recovery::load(directory, &read_only_config(directory)?)?;
    let start_offset = loaded.start_offset;
    let end_offset = loaded.report.end_offset;
    let mut sizes: Vec<u64> = Vec::new();
    let mut views = Vec::new();
    for segment in loaded.segments {
        sizes.push(segment.size);
        views.push(SegmentView {
            segment: segment.segment,
            sealed_size: segment.size,
            contiguous: segment.contiguous,
        });
    }
    let end_position = sizes.last().copied().unwrap_or(0);
    let shared = Shared::new(Published {
        segments: Arc::new(views),
        start_offset,
        end_offset: end_offset.max(start_offset),
        end_position,
        durable_offset: end_offset,
        writable: false,
        waiters: 0,
    });
    Ok((Reader::new(Arc::new(shared)), loaded.report))
}
