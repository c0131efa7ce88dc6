//! Looking into a log directory from the outside, as `sinew log verify` and
//! `sinew log info` do: a full check of every batch and index, and a summary of
//! segments, offsets and shutdown state.
//!
//! Both work on a read-only directory and must never change a byte or a name in it.

use crate::checkpoint::{self, Checkpoint, CheckpointFile};
use crate::error::{LogError, Result};
use crate::index::{IndexRule, Indexes};
use crate::reader::read_only_config;
use crate::recovery;
use crate::report::RecoveryReport;
use crate::scan::{self, ScanRules};
use crate::segment::{self, INDEX_EXTENSION, LOG_EXTENSION, TIME_INDEX_EXTENSION};
use crate::storage::{Directory, FileDirectory, Storage};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// One segment as `info` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The data file's name.
    pub name: String,
    /// Offset of the first record.
    pub base_offset: u64,
    /// The offset after the last good record.
    pub next_offset: u64,
    /// Bytes of good data.
    pub size_bytes: u64,
    /// Offset-index entries.
    pub index_entries: usize,
    /// Time-index entries.
    pub time_index_entries: usize,
}

/// What `info` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// What opening the log would find (nothing is changed to find it).
    pub report: RecoveryReport,
    /// The segments that would be served.
    pub segments: Vec<SegmentInfo>,
}

impl fmt::Display for Info {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = &self.report;
        let yes_no = |value: bool| if value { "yes" } else { "no" };
        writeln!(formatter, "directory: {}", report.directory)?;
        writeln!(
            formatter,
            "clean shutdown: {}",
            yes_no(report.clean_shutdown)
        )?;
        writeln!(formatter, "start offset: {}", report.start_offset)?;
        writeln!(formatter, "end offset: {}", report.end_offset)?;
        match report.checkpoint {
            Some(checkpoint) => {
                writeln!(formatter, "recovery point: {}", checkpoint.recovery_point)?
            }
            None => writeln!(formatter, "recovery point: none recorded")?,
        }
        writeln!(formatter, "segments: {}", self.segments.len())?;
        for segment in &self.segments {
            writeln!(
                formatter,
                "  {}  offsets {}..{}  {} bytes  {} index entries  {} time index entries",
                segment.name,
                segment.base_offset,
                segment.next_offset,
                segment.size_bytes,
                segment.index_entries,
                segment.time_index_entries
            )?;
        }
        for cut in &report.truncations {
            writeln!(
                formatter,
                "torn tail (the next writer cuts it): {} bytes from offset {} in {} at byte {}: {}",
                cut.bytes, cut.from_offset, cut.segment, cut.position, cut.reason
            )?;
        }
        for damage in &report.damage {
            writeln!(
                formatter,
                "damage from offset {}: {}",
                damage.offset, damage.reason
            )?;
        }
        for rebuilt in &report.rebuilt_indexes {
            writeln!(
                formatter,
                "index to rebuild: {}: {}",
                rebuilt.segment, rebuilt.reason
            )?;
        }
        Ok(())
    }
}

/// Describes the log in `path` without changing it.
pub fn info(path: impl AsRef<Path>) -> Result<Info> {
    info_in(&read_only(path.as_ref())?)
}

/// `info` for any `Directory`.
pub fn info_in(directory: &dyn Directory) -> Result<Info> {
    let loaded = recovery::load(directory, &read_only_config(directory)?)?;
    let mut segments = Vec::new();
    for segment in &loaded.segments {
        let indexes = segment.segment.indexes();
        segments.push(SegmentInfo {
            name: segment.segment.name(),
            base_offset: segment.segment.base_offset,
            next_offset: segment.next_offset,
            size_bytes: segment.size,
            index_entries: indexes.offsets.len(),
            time_index_entries: indexes.times.len(),
        });
    }
    Ok(Info {
        report: loaded.report,
        segments,
    })
}

/// One segment as `verify` checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentCheck {
    /// The data file's name.
    pub name: String,
    /// Offset of the first record.
    pub base_offset: u64,
    /// The offset after the last good batch.
    pub next_offset: u64,
    /// Good batches.
    pub batches: u64,
    /// Records in the good batches.
    pub records: u64,
    /// The file's size.
    pub size_bytes: u64,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// The log directory.
    pub directory: String,
    /// Whether the clean-shutdown marker is present.
    pub clean_shutdown: bool,
    /// The stored checkpoint.
    pub checkpoint: Option<Checkpoint>,
    /// Every segment checked.
    pub segments: Vec<SegmentCheck>,
    /// Every problem found, one sentence each.
    pub problems: Vec<String>,
}

impl Verification {
    /// Whether every batch and index checked out.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batches: u64 = self.segments.iter().map(|segment| segment.batches).sum();
        let records: u64 = self.segments.iter().map(|segment| segment.records).sum();
        let bytes: u64 = self.segments.iter().map(|segment| segment.size_bytes).sum();
        let first = self
            .segments
            .first()
            .map_or(0, |segment| segment.base_offset);
        let end = self
            .segments
            .last()
            .map_or(first, |segment| segment.next_offset);
        for problem in &self.problems {
            writeln!(formatter, "problem: {problem}")?;
        }
        writeln!(
            formatter,
            "{}: {} segments, {} batches, {} records, {} bytes, offsets {}..{}: {}",
            self.directory,
            self.segments.len(),
            batches,
            records,
            bytes,
            first,
            end,
            if self.is_ok() {
                "ok".to_string()
            } else {
                format!("{} problems", self.problems.len())
            }
        )
    }
}

fn read_only(path: &Path) -> Result<FileDirectory> {
    FileDirectory::open_read_only(path).map_err(LogError::io(format!("opening {}", path.display())))
}

/// Checks every batch (length, magic, CRC, offsets in sequence) and every index
/// entry of the log in `path`, without changing it.
pub fn verify(path: impl AsRef<Path>) -> Result<Verification> {
    verify_in(&read_only(path.as_ref())?)
}

/// `verify` for any `Directory`.
pub fn verify_in(directory: &dyn Directory) -> Result<Verification> {
    let failed = |what: &str| LogError::io(format!("{what} in {}", directory.describe()));
    let interval = read_only_config(directory)?.index_interval_bytes;
    let mut result = Verification {
        directory: directory.describe(),
        clean_shutdown: checkpoint::clean_shutdown(directory).map_err(failed("listing"))?,
        checkpoint: CheckpointFile::read(directory)
            .map_err(failed("reading the checkpoint"))?
            .map(|(checkpoint, _)| checkpoint),
        ..Verification::default()
    };
    let mut bases: BTreeMap<u64, (bool, bool, bool)> = BTreeMap::new();
    for name in directory.list().map_err(failed("listing"))? {
        if let Some((base, extension)) = segment::parse_file_name(&name) {
            match extension {
                LOG_EXTENSION => bases.entry(base).or_default().0 = true,
                INDEX_EXTENSION => bases.entry(base).or_default().1 = true,
                TIME_INDEX_EXTENSION => bases.entry(base).or_default().2 = true,
                _ => {}
            }
        }
    }
    // Segments wholly before the start offset are left by a retention that stopped
    // before removing them; the writer removes them on open.
    if let Some(start) = result.checkpoint.map(|checkpoint| checkpoint.start_offset) {
        let all: Vec<u64> = bases.keys().copied().collect();
        for pair in all.windows(2) {
            if let [base, next] = *pair
                && next <= start
            {
                bases.remove(&base);
            }
        }
    }
    let all: Vec<u64> = bases.keys().copied().collect();
    let mut expected: Option<u64> = None;
    if let (Some(checkpoint), Some(first)) = (result.checkpoint, bases.keys().next())
        && *first > checkpoint.start_offset
    {
        result.problems.push(format!(
            "offsets {}..{first} are missing: the first segment starts at {first}",
            checkpoint.start_offset
        ));
    }
    for (index, (base, (has_log, has_index, has_time_index))) in bases.into_iter().enumerate() {
        let name = segment::file_name(base, LOG_EXTENSION);
        if !has_log {
            result
                .problems
                .push(format!("{name} is missing but its index files are present"));
            continue;
        }
        if let Some(expected) = expected
            && expected != base
        {
            result.problems.push(format!(
                "{name} starts at offset {base} but the previous segment ends at {expected}"
            ));
        }
        let log = directory.open(&name).map_err(failed("opening a segment"))?;
        let check = check_segment(
            directory,
            log.as_ref(),
            base,
            interval,
            has_index && has_time_index,
            all.get(index + 1).copied(),
            &mut result.problems,
        )?;
        expected = Some(check.next_offset);
        result.segments.push(check);
    }
    let end = expected.unwrap_or(0);
    if let Some(checkpoint) = result.checkpoint
        && checkpoint.recovery_point > end
        && !result.segments.is_empty()
    {
        result.problems.push(format!(
            "the log ends at offset {end} but offsets up to {} were made durable",
            checkpoint.recovery_point
        ));
    }
    Ok(result)
}

/// Checks one segment whose successor, if any, starts at `next_base` (the last
/// segment is never compacted, so its offsets may have no gap).
fn check_segment(
    directory: &dyn Directory,
    log: &dyn Storage,
    base: u64,
    interval: u64,
    has_indexes: bool,
    next_base: Option<u64>,
    problems: &mut Vec<String>,
) -> Result<SegmentCheck> {
    let name = segment::file_name(base, LOG_EXTENSION);
    let failed = |what: &str| LogError::io(format!("{what} {name}"));
    let size = log.len().map_err(failed("measuring"))?;
    let contiguous = next_base.is_none();
    let stored = if has_indexes {
        recovery::read_indexes(
            directory,
            base,
            size,
            next_base.map(|next| next.saturating_sub(base)),
        )?
    } else if size > 0 {
        Err("an index file is missing".to_string())
    } else {
        Ok(Indexes::default())
    };
    let stored_offsets = stored
        .as_ref()
        .map(|indexes| indexes.offsets.as_slice())
        .unwrap_or_default();
    let mut rule = IndexRule::new(base, interval);
    let mut expected_entries = 0usize;
    let mut batches = 0u64;
    let mut records = 0u64;
    let mut next_entry = 0usize;
    let mut misplaced: Option<String> = None;
    let rules = ScanRules {
        segment_base: base,
        first_offset: base,
        contiguous,
        end_offset: next_base,
        index: if contiguous { &[] } else { stored_offsets },
    };
    let scan = scan::scan(log, 0, size, &rules, |position, header| {
        batches += 1;
        records += u64::from(header.record_count);
        if rule.observe(position, header).0.is_some() {
            expected_entries += 1;
        }
        // Stored entries must each name the start of a batch, with its offset.
        while let Some(entry) = stored_offsets.get(next_entry) {
            let entry_position = u64::from(entry.position);
            if entry_position > position {
                break;
            }
            let entry_offset = base.saturating_add(u64::from(entry.relative_offset));
            if (entry_position < position || entry_offset != header.base_offset) && misplaced.is_none() {
                misplaced = Some(format!(
                    "{name}: the index entry for offset {entry_offset} points to byte {entry_position}, where that batch does not start"
                ));
            }
            next_entry += 1;
        }
    })
    .map_err(failed("reading"))?;
    if let Some(problem) = &scan.problem {
        problems.push(format!(
            "{name}: bad batch at byte {} (offset {}): {}; {} bytes from there are unreadable",
            problem.position,
            scan.next_offset,
            problem.reason,
            size - problem.position
        ));
    }
    match &stored {
        Err(reason) => problems.push(format!("{name}: {reason}")),
        Ok(_) => {
            problems.extend(misplaced);
            if next_entry < stored_offsets.len() && scan.problem.is_none() {
                problems.push(format!("{name}: the index points past the last batch"));
            }
            if stored_offsets.len() < expected_entries {
                problems.push(format!(
                    "{name}: the index is short: {} entries where {expected_entries} were expected",
                    stored_offsets.len(),
                ));
            }
        }
    }
    Ok(SegmentCheck {
        name,
        base_offset: base,
        next_offset: scan.next_offset,
        batches,
        records,
        size_bytes: size,
    })
}
