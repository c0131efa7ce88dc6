//! One segment: `<20-digit base offset>.log` with its `.index` and `.timeindex`,
//! and the positioned reads that find a batch by offset; also the offset rules a
//! segment's batches obey, which reads here and the scan (`scan.rs`) check.
//!
//! Offsets increase from batch to batch; in a segment the cleaner has compacted they
//! may skip (the records in between were removed), elsewhere each batch starts right
//! after the previous one. Every segment's batches stay inside its range: from its
//! base to the next segment's base, where its last batch ends. A base offset is
//! outside the CRC, so its neighbours, the offset index and that range are what
//! check it. A segment never hands out bytes that have not passed the batch checks
//! (length, magic, CRC) and these offset checks, and never reads past the limit its
//! caller says is complete.

use crate::batch::{self, BatchHeader, LOG_OVERHEAD};
use crate::buffers;
use crate::error::{LogError, Result};
use crate::index::{self, Indexes, OffsetEntry};
use crate::storage::Storage;
use bytes::Bytes;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The file-name extension of segment data.
pub(crate) const LOG_EXTENSION: &str = "log";
/// The file-name extension of the offset index.
pub(crate) const INDEX_EXTENSION: &str = "index";
/// The file-name extension of the time index.
pub(crate) const TIME_INDEX_EXTENSION: &str = "timeindex";

/// What the cleaner appends to a segment's file names while it writes their
/// replacements (`00000000000000000042.log.cleaned`); such files are deleted on open.
pub(crate) const CLEANED_SUFFIX: &str = ".cleaned";

/// How much a read looking for its first batch reads at a time.
const SKIP_WINDOW: u64 = 16 * 1024;

/// A segment's file name: the base offset in 20 digits, then the extension.
pub(crate) fn file_name(base_offset: u64, extension: &str) -> String {
    format!("{base_offset:020}.{extension}")
}

/// The base offset and extension of a segment file name, if it is one.
pub(crate) fn parse_file_name(name: &str) -> Option<(u64, &str)> {
    let (stem, extension) = name.split_once('.')?;
    if stem.len() != 20 || !stem.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((stem.parse().ok()?, extension))
}

/// One segment as readers see it. The writer appends to the active one.
#[derive(Debug)]
pub(crate) struct Segment {
    pub base_offset: u64,
    pub log: Arc<dyn Storage>,
    indexes: RwLock<Indexes>,
    /// The largest batch timestamp, `i64::MIN` while the segment is empty.
    max_timestamp: AtomicI64,
}

impl Segment {
    pub(crate) fn new(
        base_offset: u64,
        log: Arc<dyn Storage>,
        indexes: Indexes,
        max_timestamp: Option<i64>,
    ) -> Self {
        Segment {
            base_offset,
            log,
            indexes: RwLock::new(indexes),
            max_timestamp: AtomicI64::new(max_timestamp.unwrap_or(i64::MIN)),
        }
    }

    /// The largest timestamp of any batch, if the segment holds one.
    pub(crate) fn max_timestamp(&self) -> Option<i64> {
        let value = self.max_timestamp.load(Ordering::Acquire);
        (value != i64::MIN).then_some(value)
    }

    /// Records the timestamp of an appended batch.
    pub(crate) fn observe_timestamp(&self, timestamp: i64) {
        self.max_timestamp.fetch_max(timestamp, Ordering::AcqRel);
    }

    pub(crate) fn name(&self) -> String {
        file_name(self.base_offset, LOG_EXTENSION)
    }

    pub(crate) fn indexes(&self) -> RwLockReadGuard<'_, Indexes> {
        self.indexes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn indexes_mut(&self) -> RwLockWriteGuard<'_, Indexes> {
        self.indexes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn corrupt(&self, position: u64, reason: impl Into<String>) -> LogError {
        LogError::Corrupt {
            segment: self.name(),
            position,
            reason: reason.into(),
        }
    }

    /// Reads whole, checked batches starting with the one that holds `offset`,
    /// stopping before `bounds.limit` (the end of complete data) and after
    /// `max_bytes` (but always at least one batch). Returns the bytes (one positioned
    /// read into one buffer, shared by every batch handed out from it) and each
    /// batch's header. Every batch passed on the way and returned has its offsets
    /// checked (`check_offsets`), and so does the base offset of the batch after the
    /// last one returned: a base offset is outside the CRC, so only its neighbours,
    /// the index and the segment's range can tell that it is wrong.
    pub(crate) fn read(
        &self,
        offset: u64,
        bounds: Bounds,
        max_bytes: u64,
    ) -> Result<(Bytes, Vec<BatchHeader>)> {
        let limit = bounds.limit;
        let relative = index::relative(self.base_offset, offset);
        let indexed = self.indexes().entry_for(relative);
        let mut position = indexed.map_or(0, |entry| u64::from(entry.position));
        let mut expected = match indexed {
            Some(entry) => Expected::exactly(
                self.base_offset
                    .saturating_add(u64::from(entry.relative_offset)),
            ),
            None => Expected::first(self.base_offset, bounds.contiguous),
        };
        // Skip batches before the one holding `offset`, reading their headers a
        // window at a time (the index leaves at most an interval to skip).
        let mut window: Vec<u8> = Vec::new();
        let mut window_start = position;
        let mut entries: Vec<OffsetEntry> = Vec::new();
        let first = loop {
            if position >= limit {
                return Ok((Bytes::new(), Vec::new()));
            }
            let in_window = window
                .get((position - window_start) as usize..)
                .filter(|rest| rest.len() >= batch::HEADER_SIZE);
            let header = match in_window {
                Some(rest) => BatchHeader::parse(rest)
                    .map_err(|error| self.corrupt(position, error.to_string()))?,
                None if limit - position >= batch::HEADER_SIZE as u64 => {
                    window = self.read_bytes(position, SKIP_WINDOW.min(limit - position))?;
                    window_start = position;
                    entries = self
                        .indexes()
                        .entries_between(position, position + window.len() as u64);
                    continue;
                }
                None => self.header_at(position, limit)?,
            };
            if position + header.size() > limit {
                return Err(self.corrupt(position, "batch runs past the end"));
            }
            // The batch that seems to hold `offset` is checked with the others below.
            if header.last_offset() >= offset {
                break header;
            }
            self.check_offsets(position, &header, expected, bounds, &entries)?;
            expected = expected.after(&header, bounds.contiguous);
            position += header.size();
        };
        // At least the first batch, whatever `max_bytes` says.
        let wanted = max_bytes.max(first.size()).min(limit - position);
        let mut bytes = self.read_pooled(position, wanted)?;
        let mut entries = self
            .indexes()
            .entries_between(position, position + bytes.len() as u64);
        let mut headers = Vec::new();
        let mut used = 0usize;
        loop {
            let rest = bytes.get(used..).unwrap_or_default();
            let Ok((_, length)) = batch::peek_size(rest) else {
                break;
            };
            let size = usize::try_from(length)
                .ok()
                .and_then(|length| length.checked_add(LOG_OVERHEAD));
            let batch_position = position + used as u64;
            let Some(size) = size else {
                return Err(self.corrupt(batch_position, "negative batch length"));
            };
            if size > rest.len() {
                if !headers.is_empty() {
                    break;
                }
                // The first batch is larger than `max_bytes`: read all of it.
                if batch_position + size as u64 > limit {
                    return Err(self.corrupt(batch_position, "batch runs past the end"));
                }
                buffers::give_back(bytes);
                bytes = self.read_pooled(position, size as u64)?;
                entries = self
                    .indexes()
                    .entries_between(position, position + bytes.len() as u64);
                continue;
            }
            let header = batch::check(rest.get(..size).unwrap_or_default())
                .map_err(|error| self.corrupt(batch_position, error.to_string()))?;
            self.check_offsets(batch_position, &header, expected, bounds, &entries)?;
            expected = expected.after(&header, bounds.contiguous);
            headers.push(header);
            used += size;
        }
        // The batch after the last one returned must start after it: otherwise one
        // of the two base offsets is wrong, and it may be the one returned.
        let after = position + used as u64;
        if after < limit {
            let following = match bytes.get(used..).filter(|rest| rest.len() >= LOG_OVERHEAD) {
                Some(rest) => batch::peek_size(rest),
                None => batch::peek_size(
                    &self.read_bytes(after, (LOG_OVERHEAD as u64).min(limit - after))?,
                ),
            };
            let Ok((next_base, _)) = following else {
                return Err(self.corrupt(after, "a partial batch header"));
            };
            let admitted = u64::try_from(next_base).is_ok_and(|base| expected.admits(base));
            if !admitted {
                return Err(self.corrupt(
                    after,
                    format!(
                        "offsets out of sequence: expected {}, found {next_base}",
                        expected.describe()
                    ),
                ));
            }
        }
        // One buffer for every batch of the read: callers hand out slices of it.
        Ok((buffers::share(bytes, used), headers))
    }

    /// Checks a batch's offsets against the batches before it (`expected`), the
    /// offset-index `entries` near it, and the segment's range: it ends no later
    /// than `bounds.end_offset`, and exactly there if it is the segment's last.
    fn check_offsets(
        &self,
        position: u64,
        header: &BatchHeader,
        expected: Expected,
        bounds: Bounds,
        entries: &[OffsetEntry],
    ) -> Result<()> {
        let (base, next) = (header.base_offset, header.next_offset());
        if !expected.admits(base) {
            return Err(self.corrupt(
                position,
                format!(
                    "offsets out of sequence: expected {}, found {base}",
                    expected.describe()
                ),
            ));
        }
        let end = position + header.size();
        let from = entries.partition_point(|entry| u64::from(entry.position) < position);
        for entry in entries.get(from..).unwrap_or_default() {
            let entry_position = u64::from(entry.position);
            if entry_position >= end {
                break;
            }
            let entry_offset = self
                .base_offset
                .saturating_add(u64::from(entry.relative_offset));
            if entry_position != position || entry_offset != base {
                return Err(self.corrupt(
                    position,
                    format!(
                        "the index does not match the segment: it names offset {entry_offset} at byte {entry_position}, the batch there has base offset {base}"
                    ),
                ));
            }
        }
        if next > bounds.end_offset || (end == bounds.limit && next != bounds.end_offset) {
            return Err(self.corrupt(
                position,
                format!(
                    "offsets {base}..{next} do not fit the segment, whose records end before offset {}",
                    bounds.end_offset
                ),
            ));
        }
        Ok(())
    }

    /// Calls `visit` with the header of every batch before `limit`, in order,
    /// reading a window of headers at a time and skipping the records. For batches
    /// that recovery has already checked (it checks length, magic and leader epoch
    /// again, not the CRC); a batch that runs past `limit` is an error.
    pub(crate) fn for_each_header(
        &self,
        limit: u64,
        mut visit: impl FnMut(&BatchHeader),
    ) -> Result<()> {
        let mut position = 0u64;
        let mut window: Vec<u8> = Vec::new();
        let mut window_start = 0u64;
        while position < limit {
            let in_window = window
                .get((position - window_start) as usize..)
                .filter(|rest| rest.len() >= batch::HEADER_SIZE);
            let header = match in_window {
                Some(rest) => BatchHeader::parse(rest)
                    .map_err(|error| self.corrupt(position, error.to_string()))?,
                None if limit - position >= batch::HEADER_SIZE as u64 => {
                    window = self.read_bytes(position, SKIP_WINDOW.min(limit - position))?;
                    window_start = position;
                    continue;
                }
                None => return Err(self.corrupt(position, "a partial batch header")),
            };
            if position + header.size() > limit {
                return Err(self.corrupt(position, "batch runs past the end"));
            }
            visit(&header);
            position += header.size();
        }
        Ok(())
    }

    /// The header of the batch at `position`, checked for length, magic and leader
    /// epoch only.
    pub(crate) fn header_at(&self, position: u64, limit: u64) -> Result<BatchHeader> {
        let available = (limit - position).min(batch::HEADER_SIZE as u64);
        let bytes = self.read_bytes(position, available)?;
        let header = BatchHeader::parse(&bytes)
            .map_err(|error| self.corrupt(position, error.to_string()))?;
        if position + header.size() > limit {
            return Err(self.corrupt(position, "batch runs past the end"));
        }
        Ok(header)
    }

    /// `read_bytes` into a buffer an earlier large read may have initialized
    /// already (`buffers`): every byte of it is overwritten by this read.
    fn read_pooled(&self, position: u64, length: u64) -> Result<Vec<u8>> {
        let mut bytes = buffers::take(usize::try_from(length).unwrap_or(0));
        match self.log.read_at(&mut bytes, position) {
            Ok(()) => Ok(bytes),
            Err(error) => {
                buffers::give_back(bytes);
                Err(LogError::io_with(|| format!("reading {}", self.name()))(
                    error,
                ))
            }
        }
    }

    fn read_bytes(&self, position: u64, length: u64) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; usize::try_from(length).unwrap_or(0)];
        self.log
            .read_at(&mut bytes, position)
            .map_err(LogError::io_with(|| format!("reading {}", self.name())))?;
        Ok(bytes)
    }
}

/// What a segment's batches must agree with when it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Bytes of complete data.
    pub limit: u64,
    /// The offset after the segment's records: the next segment's base, or the
    /// log's end for the last segment. The batch that ends at `limit` ends there.
    pub end_offset: u64,
    /// Whether the segment was never compacted, so that each batch starts right
    /// after the previous one and the first at the segment's base.
    pub contiguous: bool,
}

/// The base offset the next batch must have: exactly, or at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expected {
    pub offset: u64,
    pub exact: bool,
}

impl Expected {
    pub(crate) fn exactly(offset: u64) -> Self {
        Expected {
            offset,
            exact: true,
        }
    }

    /// What a segment's first batch must start at.
    pub(crate) fn first(segment_base: u64, contiguous: bool) -> Self {
        Expected {
            offset: segment_base,
            exact: contiguous,
        }
    }

    /// What the batch after `header` must start at.
    pub(crate) fn after(self, header: &BatchHeader, contiguous: bool) -> Self {
        Expected {
            offset: header.next_offset(),
            exact: contiguous,
        }
    }

    pub(crate) fn admits(self, base_offset: u64) -> bool {
        if self.exact {
            base_offset == self.offset
        } else {
            base_offset >= self.offset
        }
    }

    pub(crate) fn describe(self) -> String {
        let at_least = if self.exact { "" } else { "at least " };
        format!("{at_least}{}", self.offset)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::encoder::encode_batch;
    use crate::record::NewRecord;
    use crate::storage::{Directory, MemoryDirectory};

    /// One batch of one record holding `value`, at `offset` (the scan's tests use
    /// it too).
    pub(crate) fn batch_at(offset: u64, value: &[u8]) -> Vec<u8> {
        let mut bytes =
            encode_batch(&[NewRecord::new(None, value.to_vec(), offset as i64)]).expect("encodes");
        batch::set_base_offset(&mut bytes, offset).expect("patch");
        bytes
    }

    #[test]
    fn file_names_have_twenty_digits() {
        assert_eq!(file_name(42, "log"), "00000000000000000042.log");
        assert_eq!(
            parse_file_name("00000000000000000042.index"),
            Some((42, "index"))
        );
        assert_eq!(parse_file_name("42.log"), None);
        assert_eq!(parse_file_name("0000000000000000004x.log"), None);
    }

    /// A segment file holding one batch per offset in `offsets`, and each batch's
    /// position.
    pub(crate) fn segment_of(offsets: &[u64]) -> (Arc<dyn Storage>, Vec<u64>, u64) {
        let directory = MemoryDirectory::new();
        let storage = directory.create("s").expect("create");
        let mut bytes = Vec::new();
        let mut positions = Vec::new();
        for &offset in offsets {
            positions.push(bytes.len() as u64);
            bytes.extend(batch_at(offset, b"value"));
        }
        storage.write_at(&bytes, 0).expect("write");
        (storage, positions, bytes.len() as u64)
    }

    fn segment_with(offsets: &[u64], entries: Vec<OffsetEntry>) -> (Segment, Vec<u64>, u64) {
        let (storage, positions, size) = segment_of(offsets);
        let indexes = Indexes {
            offsets: entries,
            times: Vec::new(),
        };
        (Segment::new(0, storage, indexes, None), positions, size)
    }

    fn first_entry() -> Vec<OffsetEntry> {
        vec![OffsetEntry {
            relative_offset: 0,
            position: 0,
        }]
    }

    #[test]
    fn a_read_returns_gaps_only_where_compaction_may_have_left_them() {
        let (segment, _, size) = segment_with(&[0, 5, 9], first_entry());
        let sealed = Bounds {
            limit: size,
            end_offset: 10,
            contiguous: false,
        };
        let (_, headers) = segment.read(0, sealed, 1 << 20).expect("read");
        let bases: Vec<u64> = headers.iter().map(|header| header.base_offset).collect();
        assert_eq!(bases, vec![0, 5, 9]);
        let (_, headers) = segment.read(3, sealed, 1).expect("read");
        assert_eq!(headers.first().map(|header| header.base_offset), Some(5));
        let active = Bounds {
            contiguous: true,
            ..sealed
        };
        assert!(matches!(
            segment.read(0, active, 1 << 20),
            Err(LogError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_read_refuses_a_base_offset_its_neighbours_or_the_segment_contradict() {
        let corrupt = |result: Result<(Bytes, Vec<BatchHeader>)>| {
            matches!(result, Err(LogError::Corrupt { .. }))
        };
        // 0, 1, 2, 9 in a segment ending at 10, with 1 damaged to 2: the batch
        // after it (2) gives it away, even when it is returned alone.
        let (segment, _, size) = segment_with(&[0, 2, 2, 9], first_entry());
        let bounds = Bounds {
            limit: size,
            end_offset: 10,
            contiguous: false,
        };
        assert!(corrupt(segment.read(1, bounds, 1)));
        assert!(corrupt(segment.read(0, bounds, 1 << 20)));
        // A last batch that does not end where the segment does.
        let (segment, _, size) = segment_with(&[0, 1, 2], first_entry());
        let bounds = Bounds {
            limit: size,
            end_offset: 4,
            contiguous: false,
        };
        assert!(corrupt(segment.read(2, bounds, 1)));
        assert!(segment.read(0, bounds, 1).is_ok());
        // Offsets past the segment's end.
        let (segment, _, size) = segment_with(&[0, 1 << 40], first_entry());
        let bounds = Bounds {
            limit: size,
            end_offset: 2,
            contiguous: false,
        };
        assert!(corrupt(segment.read(1, bounds, 1)));
        // An index entry that names another offset for the batch it points to.
        let (segment, positions, size) = segment_with(&[0, 3, 4], first_entry());
        segment.indexes_mut().offsets.push(OffsetEntry {
            relative_offset: 2,
            position: positions[1] as u32,
        });
        let bounds = Bounds {
            limit: size,
            end_offset: 5,
            contiguous: false,
        };
        assert!(corrupt(segment.read(0, bounds, 1 << 20)));
        assert!(corrupt(segment.read(4, bounds, 1)));
    }
}
