//! The scan that walks a segment's batches from a position to the end of its data
//! and checks each one, for recovery and `verify`: its own checks (length, magic,
//! leader epoch, CRC, record count) and its offsets against the rules in
//! `docs/log-format.md` (after the previous batch, inside the segment's range,
//! agreeing with the stored offset index, without gaps where the segment was never
//! compacted).
//!
//! A scan only reads, and stops at the first batch it cannot vouch for: it must
//! never pass on a batch whose base offset its neighbours contradict, even when the
//! contradiction only shows at the batch after it.

use crate::batch::{self, BatchHeader, LOG_OVERHEAD};
use crate::index::OffsetEntry;
use crate::segment::Expected;
use crate::storage::Storage;
use std::io;

/// How much a scan reads at a time.
const SCAN_CHUNK: usize = 1 << 20;

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

/// What a scan holds a segment's offsets to, besides each batch's own checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanRules<'a> {
    /// The segment's base offset (index entries are relative to it).
    pub segment_base: u64,
    /// The offset the first batch scanned starts at or after (exactly, when
    /// `contiguous`).
    pub first_offset: u64,
    /// The segment was never compacted: each batch starts right after the
    /// previous one.
    pub contiguous: bool,
    /// The next segment's base, if there is one: the last batch ends just before.
    pub end_offset: Option<u64>,
    /// Offset-index entries to hold the batches to (sorted by position): a batch
    /// that starts where one points must have its offset. Empty when the index is
    /// not evidence (a contiguous segment's offsets need none, and its index is
    /// rebuilt if it disagrees).
    pub index: &'a [OffsetEntry],
}

impl ScanRules<'_> {
    /// The offset an index entry names for the batch at `position`, if any.
    fn indexed_offset(&self, position: u64) -> Option<u64> {
        let found = self
            .index
            .binary_search_by_key(&position, |entry| u64::from(entry.position))
            .ok()?;
        let entry = self.index.get(found)?;
        Some(
            self.segment_base
                .saturating_add(u64::from(entry.relative_offset)),
        )
    }
}

/// Walks the batches of `storage` from `start` to `limit`, checking each one
/// (length, magic, CRC, record count) and its offsets against `rules`, and calls
/// `visit` for each good one. Stops at the first bad batch.
///
/// A base offset is outside the CRC, so a batch is only visited once the batch
/// after it (or the segment's end) agrees with it. When offsets go backwards, or
/// the last batch does not end where the next segment begins, and nothing vouches
/// for the earlier batch's base offset (it follows a gap left by compaction and no
/// index entry names it), the damage is taken to start at that earlier batch.
pub(crate) fn scan(
    storage: &dyn Storage,
    start: u64,
    limit: u64,
    rules: &ScanRules<'_>,
    mut visit: impl FnMut(u64, &BatchHeader),
) -> io::Result<Scan> {
    let mut walk = Walk {
        storage,
        position: start,
        limit,
        chunk: Vec::new(),
        chunk_start: start,
    };
    let mut order = Order {
        rules,
        next_offset: rules.first_offset,
        pending: None,
    };
    loop {
        match walk.next()? {
            Step::End(position) => return Ok(order.finish(position, &mut visit)),
            Step::Bad(position, reason) => return Ok(order.stop(position, reason, &mut visit)),
            Step::Batch(position, header) => {
                if let Some(stopped) = order.accept(position, header, &mut visit) {
                    return Ok(stopped);
                }
            }
        }
    }
}

/// One step of a walk through a segment's batches.
enum Step {
    /// A batch that passed its own checks, at this position.
    Batch(u64, BatchHeader),
    /// Bytes at this position that are not a good batch.
    Bad(u64, String),
    /// The end of the data.
    End(u64),
}

/// Reads a segment's batches one after another, a chunk at a time, checking each
/// on its own: length, magic, CRC, record count.
struct Walk<'a> {
    storage: &'a dyn Storage,
    position: u64,
    limit: u64,
    chunk: Vec<u8>,
    chunk_start: u64,
}

impl Walk<'_> {
    fn read_chunk(&mut self, length: usize) -> io::Result<()> {
        let length = (self.limit - self.position).min(length as u64);
        self.chunk = vec![0u8; length as usize];
        self.storage.read_at(&mut self.chunk, self.position)?;
        self.chunk_start = self.position;
        Ok(())
    }

    fn next(&mut self) -> io::Result<Step> {
        let position = self.position;
        if position >= self.limit {
            return Ok(Step::End(position));
        }
        let in_chunk = (position - self.chunk_start) as usize;
        if self.chunk.len().saturating_sub(in_chunk) < LOG_OVERHEAD {
            self.read_chunk(SCAN_CHUNK)?;
        }
        let mut rest = self
            .chunk
            .get((position - self.chunk_start) as usize..)
            .unwrap_or_default();
        let bad = |reason: String| Ok(Step::Bad(position, reason));
        let Ok((_, length)) = batch::peek_size(rest) else {
            return bad("a partial batch header".into());
        };
        if rest
            .get(..LOG_OVERHEAD)
            .is_some_and(|bytes| bytes.iter().all(|&byte| byte == 0))
        {
            return bad("zeros where a batch should start".into());
        }
        let size = match usize::try_from(length) {
            Ok(length) if length >= batch::HEADER_SIZE - LOG_OVERHEAD => length + LOG_OVERHEAD,
            _ => return bad(format!("impossible batch length {length}")),
        };
        if position + size as u64 > self.limit {
            return bad(format!(
                "a batch of {size} bytes runs past the end of the data ({} bytes left)",
                self.limit - position
            ));
        }
        if size > rest.len() {
            // Read the whole batch into a fresh chunk.
            self.read_chunk(size.max(SCAN_CHUNK))?;
            rest = self.chunk.as_slice();
        }
        let header = match batch::check(rest.get(..size).unwrap_or_default()) {
            Ok(header) => header,
            Err(error) => return bad(error.to_string()),
        };
        if header.last_offset_delta + 1 < header.record_count {
            return bad(format!(
                "{} records do not fit in {} offsets",
                header.record_count,
                header.last_offset_delta + 1
            ));
        }
        self.position += size as u64;
        Ok(Step::Batch(position, header))
    }
}

/// A batch that passed its own checks, waiting for the next batch (or the end) to
/// agree with its offsets before it is visited.
#[derive(Debug, Clone, Copy)]
struct Pending {
    position: u64,
    header: BatchHeader,
    /// The next offset before it.
    before: u64,
    /// Its base offset is confirmed: it starts exactly where the previous batch
    /// ended (or the scan's first offset), or an index entry names it.
    vouched: bool,
}

/// The offset checks of a scan, batch after batch.
struct Order<'a, 'b> {
    rules: &'b ScanRules<'a>,
    next_offset: u64,
    pending: Option<Pending>,
}

impl Order<'_, '_> {
    /// Takes the next good batch; returns the scan's outcome if it stops here.
    fn accept(
        &mut self,
        position: u64,
        header: BatchHeader,
        visit: &mut impl FnMut(u64, &BatchHeader),
    ) -> Option<Scan> {
        let (base, next) = (header.base_offset, header.next_offset());
        let expected = Expected {
            offset: self.next_offset,
            exact: self.rules.contiguous,
        };
        if !expected.admits(base) {
            let reason = format!(
                "offset out of sequence: expected {}, found {base}",
                expected.describe()
            );
            if base < self.next_offset
                && let Some(suspect) = self.pending.filter(|pending| !pending.vouched)
            {
                return Some(self.blame(
                    suspect,
                    format!(
                        "{reason} after it; its base offset {} follows a gap and nothing confirms it",
                        suspect.header.base_offset
                    ),
                ));
            }
            return Some(self.stop(position, reason, visit));
        }
        let indexed = self.rules.indexed_offset(position);
        if let Some(indexed) = indexed
            && indexed != base
        {
            let reason =
                format!("base offset {base} disagrees with the offset index, which says {indexed}");
            return Some(self.stop(position, reason, visit));
        }
        if let Some(end) = self.rules.end_offset
            && next > end
        {
            let reason = format!("offsets {base}..{next} run into the next segment, at {end}");
            return Some(self.stop(position, reason, visit));
        }
        self.flush(visit);
        self.pending = Some(Pending {
            position,
            header,
            before: self.next_offset,
            vouched: base == self.next_offset || indexed == Some(base),
        });
        self.next_offset = next;
        None
    }

    /// Visits the pending batch.
    fn flush(&mut self, visit: &mut impl FnMut(u64, &BatchHeader)) {
        if let Some(pending) = self.pending.take() {
            visit(pending.position, &pending.header);
        }
    }

    /// Stops at `position`, after every batch before it.
    fn stop(
        &mut self,
        position: u64,
        reason: String,
        visit: &mut impl FnMut(u64, &BatchHeader),
    ) -> Scan {
        self.flush(visit);
        Scan {
            end: position,
            next_offset: self.next_offset,
            problem: Some(Problem { position, reason }),
        }
    }

    /// Stops at the pending batch, which is not visited.
    fn blame(&mut self, suspect: Pending, reason: String) -> Scan {
        self.pending = None;
        Scan {
            end: suspect.position,
            next_offset: suspect.before,
            problem: Some(Problem {
                position: suspect.position,
                reason,
            }),
        }
    }

    /// The end of the data: the last batch must end where the next segment begins.
    fn finish(&mut self, position: u64, visit: &mut impl FnMut(u64, &BatchHeader)) -> Scan {
        if let Some(end) = self.rules.end_offset
            && self.next_offset != end
            && let Some(suspect) = self.pending.filter(|pending| !pending.vouched)
        {
            let reason = format!(
                "the segment's last batch ends at offset {} but the next segment starts at {end}; its base offset {} follows a gap and nothing confirms it",
                self.next_offset, suspect.header.base_offset
            );
            return self.blame(suspect, reason);
        }
        self.flush(visit);
        Scan {
            end: position,
            next_offset: self.next_offset,
            problem: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::tests::{batch_at, segment_of};
    use crate::storage::{Directory, MemoryDirectory};

    /// Rules for a segment based at 0 that starts with its first batch.
    fn rules(contiguous: bool, end_offset: Option<u64>, index: &[OffsetEntry]) -> ScanRules<'_> {
        ScanRules {
            segment_base: 0,
            first_offset: 0,
            contiguous,
            end_offset,
            index,
        }
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
            &rules(true, None, &[]),
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
        let result = scan(
            storage.as_ref(),
            0,
            bytes.len() as u64,
            &rules(true, None, &[]),
            |_, _| {},
        )
        .expect("scan");
        assert!(
            result
                .problem
                .expect("reported")
                .reason
                .contains("sequence")
        );
    }

    fn scan_all(offsets: &[u64], rules: &ScanRules<'_>) -> (Scan, Vec<u64>) {
        let (storage, _, size) = segment_of(offsets);
        let mut seen = Vec::new();
        let result = scan(storage.as_ref(), 0, size, rules, |_, header| {
            seen.push(header.base_offset)
        })
        .expect("scan");
        (result, seen)
    }

    #[test]
    fn offsets_going_back_after_an_unconfirmed_batch_put_the_damage_there() {
        // 0, then 9 after a gap (compaction could have left one), then 3: either 9
        // or 3 is wrong, and nothing confirms 9, so the damage starts at 9.
        let (storage, positions, size) = segment_of(&[0, 9, 3]);
        let mut seen = Vec::new();
        let result = scan(
            storage.as_ref(),
            0,
            size,
            &rules(false, None, &[]),
            |_, header| seen.push(header.base_offset),
        )
        .expect("scan");
        assert_eq!(seen, vec![0]);
        assert_eq!(result.next_offset, 1);
        assert_eq!(result.end, positions[1]);
        let problem = result.problem.expect("reported");
        assert_eq!(problem.position, positions[1]);
        assert!(
            problem.reason.contains("nothing confirms"),
            "{}",
            problem.reason
        );
        // An index entry naming 9 there confirms it: then 3 is the damage.
        let entry = [OffsetEntry {
            relative_offset: 9,
            position: positions[1] as u32,
        }];
        let (result, seen) = scan_all(&[0, 9, 3], &rules(false, None, &entry));
        assert_eq!(seen, vec![0, 9]);
        assert_eq!(result.problem.expect("reported").position, positions[2]);
        // So does starting right after the batch before: 0, 1, then 0.
        let (result, seen) = scan_all(&[0, 1, 0], &rules(false, None, &[]));
        assert_eq!(seen, vec![0, 1]);
        assert_eq!(result.next_offset, 2);
    }

    #[test]
    fn a_sealed_segment_ends_where_the_next_begins() {
        let (result, seen) = scan_all(&[0, 1, 2], &rules(false, Some(3), &[]));
        assert_eq!((result.problem, seen), (None, vec![0, 1, 2]));
        // The last batch runs into the next segment.
        let (result, seen) = scan_all(&[0, 1, 2], &rules(false, Some(2), &[]));
        assert_eq!(seen, vec![0, 1]);
        assert!(
            result
                .problem
                .expect("reported")
                .reason
                .contains("next segment")
        );
        // The last batch follows a gap and ends short of the next segment: its base
        // offset may be damaged.
        let (result, seen) = scan_all(&[0, 5], &rules(false, Some(7), &[]));
        assert_eq!((seen, result.next_offset), (vec![0], 1));
        assert!(
            result
                .problem
                .expect("reported")
                .reason
                .contains("last batch")
        );
        // Without a gap the batches vouch for each other: what is missing is after
        // them (a missing segment, which recovery reports).
        let (result, seen) = scan_all(&[0, 1], &rules(false, Some(3), &[]));
        assert_eq!(
            (result.problem, seen, result.next_offset),
            (None, vec![0, 1], 2)
        );
    }

    #[test]
    fn a_batch_that_disagrees_with_the_index_is_damage_where_gaps_are_allowed() {
        let (_, positions, _) = segment_of(&[0, 4]);
        let entry = [OffsetEntry {
            relative_offset: 6,
            position: positions[1] as u32,
        }];
        let (result, seen) = scan_all(&[0, 4], &rules(false, None, &entry));
        assert_eq!(seen, vec![0]);
        let problem = result.problem.expect("reported");
        assert_eq!(problem.position, positions[1]);
        assert!(
            problem.reason.contains("offset index"),
            "{}",
            problem.reason
        );
    }
}
