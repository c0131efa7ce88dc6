//! One segment: `<20-digit base offset>.log` with its `.index` and `.timeindex`,
//! the scan that walks and checks its batches, and the positioned reads that find a
//! batch by offset.
//!
//! Offsets increase from batch to batch; in a segment the cleaner has compacted they
//! may skip (the records in between were removed), elsewhere each batch starts right
//! after the previous one. A segment never hands out bytes that have not passed the
//! batch checks (length, magic, CRC, offsets in sequence), and never reads past the
//! limit its caller says is complete.

use crate::batch::{self, BatchHeader, LOG_OVERHEAD};
use crate::error::{LogError, Result};
use crate::index::{self, Indexes};
use crate::storage::Storage;
use std::io;
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

/// How much a scan reads at a time.
const SCAN_CHUNK: usize = 1 << 20;
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
    /// stopping before `limit` (the end of complete data) and after `max_bytes`
    /// (but always at least one batch). Returns the bytes and each batch's range.
    pub(crate) fn read(
        &self,
        offset: u64,
        limit: u64,
        max_bytes: u64,
    ) -> Result<(Vec<u8>, Vec<BatchHeader>)> {
        let relative = index::relative(self.base_offset, offset);
        let indexed = self.indexes().entry_for(relative);
        let mut position = indexed.map_or(0, |entry| u64::from(entry.position));
        // The offset the next batch must start at or after.
        let mut expected: Option<u64> = None;
        // Skip batches before the one holding `offset`, reading their headers a
        // window at a time (the index leaves at most an interval to skip).
        let mut window: Vec<u8> = Vec::new();
        let mut window_start = position;
        let first = loop {
            if position >= limit {
                return Ok((Vec::new(), Vec::new()));
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
                    continue;
                }
                None => self.header_at(position, limit)?,
            };
            if position + header.size() > limit {
                return Err(self.corrupt(position, "batch runs past the end"));
            }
            match (expected, indexed) {
                (Some(expected), _) if header.base_offset < expected => {
                    return Err(self.corrupt(position, "offsets out of sequence"));
                }
                (None, Some(entry))
                    if header.base_offset
                        != self.base_offset + u64::from(entry.relative_offset) =>
                {
                    return Err(self.corrupt(position, "the index does not match the segment"));
                }
                (None, None) if header.base_offset < self.base_offset => {
                    return Err(self.corrupt(position, "a batch before the segment's base"));
                }
                _ => {}
            }
            if header.last_offset() >= offset {
                break header;
            }
            expected = Some(header.next_offset());
            position += header.size();
        };
        // At least the first batch, whatever `max_bytes` says.
        let wanted = max_bytes.max(first.size()).min(limit - position);
        let mut bytes = self.read_bytes(position, wanted)?;
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
                bytes = self.read_bytes(position, size as u64)?;
                continue;
            }
            let header = batch::check(rest.get(..size).unwrap_or_default())
                .map_err(|error| self.corrupt(batch_position, error.to_string()))?;
            if let Some(expected) = expected
                && header.base_offset < expected
            {
                return Err(self.corrupt(batch_position, "offsets out of sequence"));
            }
            expected = Some(header.next_offset());
            headers.push(header);
            used += size;
        }
        bytes.truncate(used);
        Ok((bytes, headers))
    }

    /// The header of the batch at `position`, checked for length and magic only.
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

    fn read_bytes(&self, position: u64, length: u64) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; usize::try_from(length).unwrap_or(0)];
        self.log
            .read_at(&mut bytes, position)
            .map_err(LogError::io_with(|| format!("reading {}", self.name())))?;
        Ok(bytes)
    }
}

/// Why a scan stopped before the end of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Where the bad batch starts.
    pub position: u64,
    /// What was wrong.
    pub reason: String,
}

/// The outcome of walking a segment's batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The position after the last good batch.
    pub end: u64,
    /// The offset after the last good batch (the expected one if none was found).
    pub next_offset: u64,
    /// Why the scan stopped early, if it did.
    pub problem: Option<Problem>,
}

/// Walks the batches of `storage` from `start` to `limit`, checking each one (length,
/// magic, CRC, base offset equal to `expected_offset` and then to the previous
/// batch's next offset, or with `contiguous` false at or after it, as in a compacted
/// segment) and calling `visit` for each good one. Stops at the first bad batch.
pub(crate) fn scan(
    storage: &dyn Storage,
    start: u64,
    limit: u64,
    expected_offset: u64,
    contiguous: bool,
    mut visit: impl FnMut(u64, &BatchHeader),
) -> io::Result<Scan> {
    let mut position = start;
    let mut next_offset = expected_offset;
    let mut chunk: Vec<u8> = Vec::new();
    let mut chunk_start = start;
    let stop = |position: u64, next_offset: u64, reason: String| Scan {
        end: position,
        next_offset,
        problem: Some(Problem { position, reason }),
    };
    while position < limit {
        let in_chunk = (position - chunk_start) as usize;
        let available = chunk.len().saturating_sub(in_chunk);
        if available < LOG_OVERHEAD {
            let length = (limit - position).min(SCAN_CHUNK as u64);
            chunk = vec![0u8; length as usize];
            storage.read_at(&mut chunk, position)?;
            chunk_start = position;
        }
        let in_chunk = (position - chunk_start) as usize;
        let rest = chunk.get(in_chunk..).unwrap_or_default();
        let Ok((_, length)) = batch::peek_size(rest) else {
            return Ok(stop(position, next_offset, "a partial batch header".into()));
        };
        if rest
            .get(..LOG_OVERHEAD)
            .is_some_and(|bytes| bytes.iter().all(|&byte| byte == 0))
        {
            return Ok(stop(
                position,
                next_offset,
                "zeros where a batch should start".into(),
            ));
        }
        let size = match usize::try_from(length) {
            Ok(length) if length >= batch::HEADER_SIZE - LOG_OVERHEAD => length + LOG_OVERHEAD,
            _ => {
                return Ok(stop(
                    position,
                    next_offset,
                    format!("impossible batch length {length}"),
                ));
            }
        };
        if position + size as u64 > limit {
            let reason = format!(
                "a batch of {size} bytes runs past the end of the data ({} bytes left)",
                limit - position
            );
            return Ok(stop(position, next_offset, reason));
        }
        if size > rest.len() {
            // Read the whole batch into a fresh chunk.
            let length = (limit - position).min(size.max(SCAN_CHUNK) as u64);
            chunk = vec![0u8; length as usize];
            storage.read_at(&mut chunk, position)?;
            chunk_start = position;
            continue;
        }
        let bytes = rest.get(..size).unwrap_or_default();
        let header = match batch::check(bytes) {
            Ok(header) => header,
            Err(error) => return Ok(stop(position, next_offset, error.to_string())),
        };
        if header.base_offset < next_offset || (contiguous && header.base_offset != next_offset) {
            let reason = format!(
                "offset out of sequence: expected {}{next_offset}, found {}",
                if contiguous { "" } else { "at least " },
                header.base_offset
            );
            return Ok(stop(position, next_offset, reason));
        }
        if header.last_offset_delta + 1 < header.record_count {
            let reason = format!(
                "{} records do not fit in {} offsets",
                header.record_count,
                header.last_offset_delta + 1
            );
            return Ok(stop(position, next_offset, reason));
        }
        visit(position, &header);
        next_offset = header.next_offset();
        position += size as u64;
    }
    Ok(Scan {
        end: position,
        next_offset,
        problem: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::encode_batch;
    use crate::record::NewRecord;
    use crate::storage::{Directory, MemoryDirectory};

    fn batch_at(offset: u64, value: &[u8]) -> Vec<u8> {
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

    #[test]
    fn a_scan_stops_at_the_first_bad_batch() {
        let directory = MemoryDirectory::new();
        let storage = directory.create("s").expect("create");
        let first = batch_at(0, b"one");
        let second = batch_at(1, b"two");
        let mut bytes = [first.clone(), second.clone()].concat();
        bytes.extend_from_slice(&[0u8; 30]);
        storage.write_at(&bytes, 0).expect("write");
        let mut seen = Vec::new();
        let result = scan(
            storage.as_ref(),
            0,
            bytes.len() as u64,
            0,
            true,
            |position, header| {
                seen.push((position, header.base_offset));
            },
        )
        .expect("scan");
        assert_eq!(seen, vec![(0, 0), (first.len() as u64, 1)]);
        assert_eq!(result.next_offset, 2);
        assert_eq!(result.end, (first.len() + second.len()) as u64);
        let problem = result.problem.expect("the zeros are reported");
        assert!(problem.reason.contains("zeros"), "{}", problem.reason);
    }

    #[test]
    fn a_scan_reports_offsets_out_of_sequence() {
        let directory = MemoryDirectory::new();
        let storage = directory.create("s").expect("create");
        let bytes = [batch_at(0, b"one"), batch_at(5, b"two")].concat();
        storage.write_at(&bytes, 0).expect("write");
        let result =
            scan(storage.as_ref(), 0, bytes.len() as u64, 0, true, |_, _| {}).expect("scan");
        assert!(
            result
                .problem
                .expect("reported")
                .reason
                .contains("sequence")
        );
    }
}
