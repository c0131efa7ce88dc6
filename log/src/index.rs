//! A segment's sparse indexes: the offset index (`.index`: batch offset to byte
//! position) and the time index (`.timeindex`: largest timestamp so far to offset),
//! in memory and as file bytes, and the rule that decides which batches get an entry.
//!
//! Indexes are hints that are rebuilt from the segment whenever they look wrong; a
//! lookup only says where to start scanning. Nothing here may ever decide which
//! record is returned: that is checked against the batch itself.

use crate::batch::{self, BatchHeader};
use crate::cursor::Cursor;

/// Bytes per offset-index entry: relative offset (u32) and position (u32).
pub(crate) const OFFSET_ENTRY_SIZE: usize = 8;
/// Bytes per time-index entry: timestamp (i64) and relative offset (u32).
pub(crate) const TIME_ENTRY_SIZE: usize = 12;

/// A batch's base offset (relative to the segment's) and where the batch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetEntry {
    pub relative_offset: u32,
    pub position: u32,
}

/// The largest timestamp seen up to and including the batch at `relative_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeEntry {
    pub timestamp: i64,
    pub relative_offset: u32,
}

/// Both indexes of one segment, as readers see them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Indexes {
    pub offsets: Vec<OffsetEntry>,
    pub times: Vec<TimeEntry>,
}

impl Indexes {
    /// The last entry at or before `relative_offset`: where to start scanning for the
    /// batch holding it (the segment's start if there is none).
    pub(crate) fn entry_for(&self, relative_offset: u32) -> Option<OffsetEntry> {
        let index = self
            .offsets
            .partition_point(|entry| entry.relative_offset <= relative_offset);
        index
            .checked_sub(1)
            .and_then(|index| self.offsets.get(index))
            .copied()
    }

    /// The offset-index entries whose positions are in `start..end`.
    pub(crate) fn entries_between(&self, start: u64, end: u64) -> Vec<OffsetEntry> {
        let from = self
            .offsets
            .partition_point(|entry| u64::from(entry.position) < start);
        let to = self
            .offsets
            .partition_point(|entry| u64::from(entry.position) < end);
        self.offsets.get(from..to).unwrap_or_default().to_vec()
    }

    /// Where to start scanning for the batch holding `relative_offset`.
    #[cfg(test)]
    pub(crate) fn position_for(&self, relative_offset: u32) -> u64 {
        self.entry_for(relative_offset)
            .map_or(0, |entry| u64::from(entry.position))
    }

    /// A relative offset from which every earlier record has a timestamp below
    /// `timestamp`, or `None` to scan from the segment's start.
    pub(crate) fn start_for_timestamp(&self, timestamp: i64) -> Option<u32> {
        let index = self
            .times
            .partition_point(|entry| entry.timestamp < timestamp);
        index
            .checked_sub(1)
            .and_then(|index| self.times.get(index))
            .map(|entry| entry.relative_offset)
    }

    /// The largest timestamp the time index knows of.
    pub(crate) fn max_timestamp(&self) -> Option<i64> {
        self.times.last().map(|entry| entry.timestamp)
    }
}

/// Decides which batches get index entries: the first batch, then the first batch
/// starting at least `interval_bytes` after the last indexed one. The rule depends
/// only on positions, so a scan regenerates exactly the entries an append wrote.
#[derive(Debug, Clone)]
pub(crate) struct IndexRule {
    base_offset: u64,
    interval_bytes: u64,
    last_indexed_position: Option<u64>,
    max_timestamp: Option<(i64, u32)>,
    last_time_entry: Option<i64>,
}

impl IndexRule {
    pub(crate) fn new(base_offset: u64, interval_bytes: u64) -> Self {
        IndexRule {
            base_offset,
            interval_bytes,
            last_indexed_position: None,
            max_timestamp: None,
            last_time_entry: None,
        }
    }

    /// Continues the rule after existing entries.
    pub(crate) fn resume(base_offset: u64, interval_bytes: u64, indexes: &Indexes) -> Self {
        let mut rule = IndexRule::new(base_offset, interval_bytes);
        rule.last_indexed_position = indexes
            .offsets
            .last()
            .map(|entry| u64::from(entry.position));
        rule.last_time_entry = indexes.max_timestamp();
        rule.max_timestamp = indexes
            .times
            .last()
            .map(|entry| (entry.timestamp, entry.relative_offset));
        rule
    }

    /// The entries a batch at `position` adds, if any.
    pub(crate) fn observe(
        &mut self,
        position: u64,
        header: &BatchHeader,
    ) -> (Option<OffsetEntry>, Option<TimeEntry>) {
        let relative_offset = relative(self.base_offset, header.base_offset);
        if self
            .max_timestamp
            .is_none_or(|(largest, _)| header.max_timestamp > largest)
        {
            self.max_timestamp = Some((header.max_timestamp, relative_offset));
        }
        let due = self
            .last_indexed_position
            .is_none_or(|last| position >= last.saturating_add(self.interval_bytes));
        if !due {
            return (None, None);
        }
        self.last_indexed_position = Some(position);
        let offset_entry = OffsetEntry {
            relative_offset,
            position: u32::try_from(position).unwrap_or(u32::MAX),
        };
        (Some(offset_entry), self.time_entry())
    }

    /// The time entry that records the largest timestamp so far, if it is new.
    /// Called for indexed batches and when a segment is sealed.
    pub(crate) fn time_entry(&mut self) -> Option<TimeEntry> {
        let (timestamp, relative_offset) = self.max_timestamp?;
        if self.last_time_entry.is_some_and(|last| last >= timestamp) {
            return None;
        }
        self.last_time_entry = Some(timestamp);
        Some(TimeEntry {
            timestamp,
            relative_offset,
        })
    }

    /// The largest timestamp observed.
    pub(crate) fn max_timestamp(&self) -> Option<i64> {
        self.max_timestamp.map(|(timestamp, _)| timestamp)
    }
}

/// An offset relative to a segment's base. Callers keep segments below 2^32 offsets.
pub(crate) fn relative(base_offset: u64, offset: u64) -> u32 {
    u32::try_from(offset.saturating_sub(base_offset)).unwrap_or(u32::MAX)
}

pub(crate) fn encode_offset_entry(entry: &OffsetEntry) -> [u8; OFFSET_ENTRY_SIZE] {
    let mut bytes = [0u8; OFFSET_ENTRY_SIZE];
    bytes[..4].copy_from_slice(&entry.relative_offset.to_be_bytes());
    bytes[4..].copy_from_slice(&entry.position.to_be_bytes());
    bytes
}

pub(crate) fn encode_time_entry(entry: &TimeEntry) -> [u8; TIME_ENTRY_SIZE] {
    let mut bytes = [0u8; TIME_ENTRY_SIZE];
    bytes[..8].copy_from_slice(&entry.timestamp.to_be_bytes());
    bytes[8..].copy_from_slice(&entry.relative_offset.to_be_bytes());
    bytes
}

/// The most entries either index of a segment of `segment_size` bytes can hold:
/// one per batch at most (offset entries name distinct batches, and so do time
/// entries, whose offsets strictly increase), and a batch takes at least a header.
pub(crate) fn max_entries(segment_size: u64) -> u64 {
    segment_size / batch::HEADER_SIZE as u64
}

/// The largest offset-index file a segment of `segment_size` bytes can have.
pub(crate) fn max_offset_index_bytes(segment_size: u64) -> u64 {
    max_entries(segment_size).saturating_mul(OFFSET_ENTRY_SIZE as u64)
}

/// The largest time-index file a segment of `segment_size` bytes can have.
pub(crate) fn max_time_index_bytes(segment_size: u64) -> u64 {
    max_entries(segment_size).saturating_mul(TIME_ENTRY_SIZE as u64)
}

/// Parses index files and checks they are plausible for a segment of
/// `segment_size` bytes whose offsets are below its base plus `offset_span` (when
/// the next segment's base says so): no more entries than the segment has room
/// for batches, whole entries, offsets and positions strictly increasing,
/// positions at least a batch header apart and before the end, the first at 0,
/// timestamps and their offsets strictly increasing, every offset in the span.
pub(crate) fn parse(
    offset_bytes: &[u8],
    time_bytes: &[u8],
    segment_size: u64,
    offset_span: Option<u64>,
) -> Result<Indexes, &'static str> {
    if offset_bytes.len() as u64 > max_offset_index_bytes(segment_size) {
        return Err("the offset index has more entries than the segment has batches");
    }
    if time_bytes.len() as u64 > max_time_index_bytes(segment_size) {
        return Err("the time index has more entries than the segment has batches");
    }
    if !offset_bytes.len().is_multiple_of(OFFSET_ENTRY_SIZE) {
        return Err("the offset index ends in a partial entry");
    }
    if !time_bytes.len().is_multiple_of(TIME_ENTRY_SIZE) {
        return Err("the time index ends in a partial entry");
    }
    let in_span =
        |relative_offset: u32| offset_span.is_none_or(|span| u64::from(relative_offset) < span);
    let mut indexes = Indexes::default();
    let mut cursor = Cursor::new(offset_bytes);
    while cursor.remaining() > 0 {
        let relative_offset = cursor.u32().map_err(|_| "short offset index")?;
        let position = cursor.u32().map_err(|_| "short offset index")?;
        if u64::from(position) >= segment_size {
            return Err("the offset index points past the end of the segment");
        }
        if !in_span(relative_offset) {
            return Err("the offset index names an offset past the segment's");
        }
        if let Some(previous) = indexes.offsets.last() {
            if previous.relative_offset >= relative_offset || previous.position >= position {
                return Err("the offset index is not increasing");
            }
            if u64::from(position - previous.position) < batch::HEADER_SIZE as u64 {
                return Err("the offset index has entries closer than a batch header");
            }
        }
        indexes.offsets.push(OffsetEntry {
            relative_offset,
            position,
        });
    }
    if indexes
        .offsets
        .first()
        .is_some_and(|entry| entry.position != 0)
    {
        return Err("the offset index does not start at the first batch");
    }
    let mut cursor = Cursor::new(time_bytes);
    while cursor.remaining() > 0 {
        let timestamp = cursor.i64().map_err(|_| "short time index")?;
        let relative_offset = cursor.u32().map_err(|_| "short time index")?;
        if !in_span(relative_offset) {
            return Err("the time index names an offset past the segment's");
        }
        if let Some(previous) = indexes.times.last()
            && (previous.timestamp >= timestamp || previous.relative_offset >= relative_offset)
        {
            return Err("the time index is not increasing");
        }
        indexes.times.push(TimeEntry {
            timestamp,
            relative_offset,
        });
    }
    Ok(indexes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_the_entry_at_or_before_the_target() {
        let indexes = Indexes {
            offsets: vec![
                OffsetEntry {
                    relative_offset: 0,
                    position: 0,
                },
                OffsetEntry {
                    relative_offset: 10,
                    position: 4096,
                },
            ],
            times: vec![
                TimeEntry {
                    timestamp: 100,
                    relative_offset: 0,
                },
                TimeEntry {
                    timestamp: 200,
                    relative_offset: 10,
                },
            ],
        };
        assert_eq!(indexes.position_for(0), 0);
        assert_eq!(indexes.position_for(9), 0);
        assert_eq!(indexes.position_for(10), 4096);
        assert_eq!(indexes.position_for(99), 4096);
        assert_eq!(indexes.start_for_timestamp(100), None);
        assert_eq!(indexes.start_for_timestamp(101), Some(0));
        assert_eq!(indexes.start_for_timestamp(500), Some(10));
    }

    #[test]
    fn implausible_index_files_are_refused() {
        let entry = |relative_offset, position| {
            encode_offset_entry(&OffsetEntry {
                relative_offset,
                position,
            })
        };
        let time = |timestamp: i64, relative_offset| {
            encode_time_entry(&TimeEntry {
                timestamp,
                relative_offset,
            })
        };
        let good = [entry(0, 0), entry(5, 100)].concat();
        let times = [time(10, 0), time(20, 5)].concat();
        assert!(parse(&good, &times, 200, Some(6)).is_ok());
        assert!(parse(&good, &times, 200, None).is_ok());
        assert!(parse(&good[..12], &[], 200, None).is_err(), "partial entry");
        assert!(parse(&good, &[], 100, None).is_err(), "past the end");
        let backwards = [entry(0, 0), entry(5, 100), entry(3, 150)].concat();
        assert!(parse(&backwards, &[], 200, None).is_err(), "not increasing");
        let crowded = [entry(0, 0), entry(5, 60)].concat();
        assert!(
            parse(&crowded, &[], 200, None).is_err(),
            "closer than a batch"
        );
        assert!(parse(&good, &[], 200, Some(5)).is_err(), "past the span");
        let late = [time(10, 0), time(20, 9)].concat();
        assert!(
            parse(&good, &late, 200, Some(6)).is_err(),
            "time past the span"
        );
        let same = [time(10, 5), time(20, 5)].concat();
        assert!(
            parse(&good, &same, 200, None).is_err(),
            "time offsets repeat"
        );
        // 200 bytes hold at most three batches, so at most three entries.
        let many: Vec<u8> = (0..4).flat_map(|index| entry(index, index * 61)).collect();
        assert!(parse(&many[..24], &[], 200, None).is_ok());
        assert!(parse(&many, &[], 250, None).is_ok());
        assert!(
            parse(&many, &[], 200, None).is_err(),
            "more entries than batches"
        );
        let many_times: Vec<u8> = (0..4).flat_map(|index| time(index.into(), index)).collect();
        assert!(
            parse(&[], &many_times, 200, None).is_err(),
            "more times than batches"
        );
    }
}
