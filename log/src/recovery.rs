//! Opening a log directory: find the segments, check what must be checked, and say
//! what was found. After an unclean shutdown every batch after the recovery point is
//! checked (length, CRC, offsets in sequence and inside the segment's range); a bad
//! tail beyond it is cut, damage before it is reported; indexes that are missing,
//! implausible (larger than the segment could need, not increasing, outside the
//! segment), short or wrong are rebuilt. Index files are never read whole before
//! their size is known to be plausible.
//!
//! `load` only reads. `repair` applies what `load` decided and is only called by a
//! writer. Truncation must never reach below the recovery point, and a log with
//! damage before it must never be served past the damage.

use crate::batch::BatchHeader;
use crate::checkpoint::{self, Checkpoint, CheckpointFile};
use crate::config::LogConfig;
use crate::error::{LogError, Result};
use crate::index::{self, IndexRule, Indexes};
use crate::report::{Damage, RebuiltIndex, RecoveryReport, Truncation};
use crate::scan::{self, Problem, ScanRules};
use crate::segment::{self, INDEX_EXTENSION, LOG_EXTENSION, Segment, TIME_INDEX_EXTENSION};
use crate::storage::Directory;
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

/// One segment as `load` found it.
#[derive(Debug)]
pub(crate) struct LoadedSegment {
    pub segment: Arc<Segment>,
    /// Bytes of good data (the cut position when the tail is cut).
    pub size: u64,
    pub next_offset: u64,
    pub rule: IndexRule,
    /// The index files must be rewritten from `segment`'s indexes.
    pub rewrite_indexes: bool,
    /// The file is longer than `size` and must be cut.
    pub cut: bool,
    /// The segment was checked beyond the recovery point and must be synced.
    pub sync: bool,
    /// The segment was checked as never compacted (it is the directory's last).
    pub contiguous: bool,
}

/// What `load` found.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub segments: Vec<LoadedSegment>,
    pub start_offset: u64,
    pub report: RecoveryReport,
    /// Segment files (all extensions) to delete.
    pub remove: Vec<String>,
}

fn io_error(directory: &dyn Directory, what: &str) -> impl FnOnce(io::Error) -> LogError {
    LogError::io(format!("{what} in {}", directory.describe()))
}

#[derive(Debug, Default)]
struct Files {
    log: bool,
    index: bool,
    time_index: bool,
}

/// Finds and checks the segments of a log directory without changing anything.
pub(crate) fn load(directory: &dyn Directory, config: &LogConfig) -> Result<Loaded> {
    let names = directory
        .list()
        .map_err(io_error(directory, "listing files"))?;
    let mut files: BTreeMap<u64, Files> = BTreeMap::new();
    // Files of a swap the cleaner did not finish: the segment they would have
    // replaced is still whole.
    let mut unfinished: Vec<String> = Vec::new();
    for name in &names {
        if let Some((base, extension)) = segment::parse_file_name(name) {
            match extension {
                LOG_EXTENSION => files.entry(base).or_default().log = true,
                INDEX_EXTENSION => files.entry(base).or_default().index = true,
                TIME_INDEX_EXTENSION => files.entry(base).or_default().time_index = true,
                other if other.ends_with(segment::CLEANED_SUFFIX) => {
                    unfinished.push(name.clone());
                }
                _ => {}
            }
        }
    }
    let clean = checkpoint::clean_shutdown(directory)
        .map_err(io_error(directory, "looking for the clean-shutdown marker"))?;
    let stored =
        CheckpointFile::read(directory).map_err(io_error(directory, "reading the checkpoint"))?;
    let checkpoint = stored.map(|(checkpoint, _)| checkpoint);
    let names_of = |base| {
        [LOG_EXTENSION, INDEX_EXTENSION, TIME_INDEX_EXTENSION]
            .iter()
            .map(move |extension| segment::file_name(base, extension))
    };
    // Segments wholly before the log start offset are what retention was deleting
    // when it stopped (it records the new start durably before removing files).
    let mut retired: Vec<String> = Vec::new();
    if let Some(start) = checkpoint.map(|checkpoint| checkpoint.start_offset) {
        let bases: Vec<u64> = files.keys().copied().collect();
        for pair in bases.windows(2) {
            if let [base, next] = *pair
                && next <= start
            {
                files.remove(&base);
                retired.extend(names_of(base));
            }
        }
    }
    let first_base = files
        .iter()
        .find(|(_, files)| files.log)
        .map(|(base, _)| *base);
    let start_offset = checkpoint
        .map(|checkpoint| checkpoint.start_offset)
        .or(first_base)
        .unwrap_or(0);
    let recovery_point = checkpoint.map_or(start_offset, |checkpoint| checkpoint.recovery_point);
    let mut report = RecoveryReport {
        directory: directory.describe(),
        clean_shutdown: clean,
        checkpoint,
        start_offset,
        ..RecoveryReport::default()
    };
    let mut loaded = Loaded {
        segments: Vec::new(),
        start_offset,
        report: RecoveryReport::default(),
        remove: unfinished,
    };
    loaded.remove.append(&mut retired);
    let bases: Vec<u64> = files.keys().copied().collect();
    let mut expected = first_base.unwrap_or(start_offset);
    if first_base.is_some_and(|base| base > start_offset) {
        report.damage.push(Damage {
            segment: None,
            position: None,
            offset: start_offset,
            reason: format!(
                "offsets {start_offset}..{expected} are missing: the first segment starts at {expected}"
            ),
        });
        expected = start_offset;
    }
    // Once the data stops (damage or a cut tail), later segments are not used.
    let mut stopped = !report.damage.is_empty();
    for (index, base) in bases.iter().copied().enumerate() {
        let Some(present) = files.get(&base) else {
            continue;
        };
        if !present.log {
            if base < recovery_point && !stopped {
                report.damage.push(Damage {
                    segment: Some(segment::file_name(base, LOG_EXTENSION)),
                    position: None,
                    offset: base,
                    reason: "the segment's data file is missing but its index is present".into(),
                });
                stopped = true;
            }
            loaded.remove.extend(names_of(base));
            continue;
        }
        let name = segment::file_name(base, LOG_EXTENSION);
        if stopped {
            let size = directory
                .open(&name)
                .and_then(|storage| storage.len())
                .map_err(io_error(directory, "opening a segment"))?;
            if report.damage.is_empty() {
                report.truncations.push(Truncation {
                    segment: name,
                    position: 0,
                    from_offset: base,
                    bytes: size,
                    reason: "it follows a cut tail".into(),
                });
            }
            loaded.remove.extend(names_of(base));
            continue;
        }
        if base != expected {
            let reason = if base > expected {
                format!("offsets {expected}..{base} are missing: a segment is missing")
            } else {
                format!(
                    "the segment starts at {base}, inside the previous one (which ends at {expected})"
                )
            };
            if expected < recovery_point {
                report.damage.push(Damage {
                    segment: Some(name),
                    position: None,
                    offset: expected,
                    reason,
                });
            } else {
                let size = directory
                    .open(&name)
                    .and_then(|storage| storage.len())
                    .map_err(io_error(directory, "opening a segment"))?;
                report.truncations.push(Truncation {
                    segment: name,
                    position: 0,
                    from_offset: expected,
                    bytes: size,
                    reason,
                });
                loaded.remove.extend(names_of(base));
            }
            stopped = true;
            continue;
        }
        let next_base = bases.get(index + 1).copied();
        // Segments that may hold offsets at or past the recovery point are checked in
        // full after an unclean shutdown.
        let beyond_recovery_point = next_base.is_none_or(|next| next > recovery_point);
        let full = !clean && beyond_recovery_point;
        // Only sealed segments are compacted, so the last one's offsets never skip.
        let contiguous = next_base.is_none();
        let (mut segment, problem) = load_segment(
            directory,
            base,
            present,
            config,
            Checks {
                full,
                contiguous,
                next_base,
            },
            &mut report,
        )?;
        segment.sync = full;
        expected = segment.next_offset;
        if let Some(problem) = problem {
            let length = segment
                .segment
                .log
                .len()
                .map_err(io_error(directory, "measuring a segment"))?;
            // The next segment starting right where the good batches end means the
            // bad bytes hold no records (a roll only follows a complete segment):
            // cut them and go on.
            let only_garbage = next_base == Some(segment.next_offset);
            if segment.next_offset < recovery_point && !only_garbage {
                report.damage.push(Damage {
                    segment: Some(name),
                    position: Some(problem.position),
                    offset: segment.next_offset,
                    reason: problem.reason,
                });
            } else {
                report.truncations.push(Truncation {
                    segment: name,
                    position: problem.position,
                    from_offset: segment.next_offset,
                    bytes: length - problem.position,
                    reason: problem.reason,
                });
                segment.cut = true;
            }
            stopped = !only_garbage;
        }
        loaded.segments.push(segment);
    }
    if report.damage.is_empty() && expected < recovery_point {
        report.damage.push(Damage {
            segment: None,
            position: None,
            offset: expected,
            reason: format!(
                "the log ends at offset {expected} but offsets up to {recovery_point} were made durable"
            ),
        });
    }
    report.end_offset = expected;
    loaded.report = report;
    Ok(loaded)
}

/// How one segment is checked on open.
#[derive(Debug, Clone, Copy)]
struct Checks {
    /// Every batch, not only those after the last index entry.
    full: bool,
    /// The segment is the directory's last, never compacted: no gaps allowed.
    contiguous: bool,
    /// The next segment's base, where this one's last batch must end.
    next_base: Option<u64>,
}

/// Loads one segment: its indexes if they are plausible (checking the tail after the
/// last entry), or a full scan that rebuilds them.
fn load_segment(
    directory: &dyn Directory,
    base: u64,
    present: &Files,
    config: &LogConfig,
    checks: Checks,
    report: &mut RecoveryReport,
) -> Result<(LoadedSegment, Option<Problem>)> {
    let Checks {
        full,
        contiguous,
        next_base,
    } = checks;
    let name = segment::file_name(base, LOG_EXTENSION);
    let log = directory
        .open(&name)
        .map_err(io_error(directory, "opening a segment"))?;
    let length = log
        .len()
        .map_err(io_error(directory, "measuring a segment"))?;
    let offset_span = next_base.map(|next| next.saturating_sub(base));
    let stored = if present.index && present.time_index {
        read_indexes(directory, base, length, offset_span)?
    } else {
        Err("the index file is missing".to_string())
    };
    if !full && let Ok(indexes) = &stored {
        let mut rule = IndexRule::resume(base, config.index_interval_bytes, indexes);
        let (start, expected) = indexes.offsets.last().map_or((0, base), |entry| {
            (
                u64::from(entry.position),
                base.saturating_add(u64::from(entry.relative_offset)),
            )
        });
        let mut short = false;
        // The batch at the last entry must have the entry's offset.
        let rules = ScanRules {
            segment_base: base,
            first_offset: expected,
            contiguous,
            end_offset: next_base,
            index: &indexes.offsets,
        };
        let tail = scan::scan(log.as_ref(), start, length, &rules, |position, header| {
            let (offset_entry, _) = rule.observe(position, header);
            short |= offset_entry.is_some();
        })
        .map_err(io_error(directory, "reading a segment"))?;
        if tail.problem.is_none() && !short {
            let segment = Arc::new(Segment::new(
                base,
                log,
                indexes.clone(),
                rule.max_timestamp(),
            ));
            return Ok((
                LoadedSegment {
                    segment,
                    size: tail.end,
                    next_offset: tail.next_offset,
                    rule,
                    rewrite_indexes: false,
                    cut: false,
                    sync: false,
                    contiguous,
                },
                None,
            ));
        }
    }
    let mut rule = IndexRule::new(base, config.index_interval_bytes);
    let mut fresh = Indexes::default();
    // In a segment that may have gaps, the stored index (written when each batch
    // was) is the only other witness of a base offset: a batch that disagrees with
    // it is damage. A contiguous segment's offsets need no witness, and an index
    // that disagrees with them is rebuilt.
    let witness = match &stored {
        Ok(indexes) if !contiguous => indexes.offsets.as_slice(),
        _ => &[],
    };
    let rules = ScanRules {
        segment_base: base,
        first_offset: base,
        contiguous,
        end_offset: next_base,
        index: witness,
    };
    let scan = scan::scan(
        log.as_ref(),
        0,
        length,
        &rules,
        |position, header: &BatchHeader| {
            let (offset_entry, time_entry) = rule.observe(position, header);
            fresh.offsets.extend(offset_entry);
            fresh.times.extend(time_entry);
        },
    )
    .map_err(io_error(directory, "reading a segment"))?;
    fresh.times.extend(rule.time_entry());
    let reason = match &stored {
        Err(reason) => Some(reason.clone()),
        Ok(indexes) if indexes.offsets != fresh.offsets => {
            Some("the offset index does not match the segment".to_string())
        }
        Ok(_) => None,
    };
    if let Some(reason) = reason {
        report.rebuilt_indexes.push(RebuiltIndex {
            segment: name,
            reason,
        });
    }
    let segment = Arc::new(Segment::new(base, log, fresh, rule.max_timestamp()));
    Ok((
        LoadedSegment {
            segment,
            size: scan.end,
            next_offset: scan.next_offset,
            rule,
            rewrite_indexes: true,
            cut: false,
            sync: false,
            contiguous,
        },
        scan.problem,
    ))
}

/// The stored indexes of the segment at `base`, or why they cannot be used: a
/// file is larger than a segment of `segment_size` bytes could need (it is then
/// not read), or its entries are implausible (see `index::parse`). `offset_span`
/// is how many offsets the segment covers, when the next segment says so.
pub(crate) fn read_indexes(
    directory: &dyn Directory,
    base: u64,
    segment_size: u64,
    offset_span: Option<u64>,
) -> Result<Result<Indexes, String>> {
    let read = |extension, what: &str, max_bytes: u64| -> Result<Result<Vec<u8>, String>> {
        let failed = || {
            LogError::io(format!(
                "reading the {what} of segment {base} in {}",
                directory.describe()
            ))
        };
        let storage = directory
            .open(&segment::file_name(base, extension))
            .map_err(failed())?;
        let length = storage.len().map_err(failed())?;
        if length > max_bytes {
            return Ok(Err(format!(
                "the {what} is {length} bytes, more than a segment of {segment_size} bytes can need ({max_bytes})"
            )));
        }
        let mut bytes = vec![0u8; usize::try_from(length).unwrap_or(0)];
        storage.read_at(&mut bytes, 0).map_err(failed())?;
        Ok(Ok(bytes))
    };
    let offsets = match read(
        INDEX_EXTENSION,
        "offset index",
        index::max_offset_index_bytes(segment_size),
    )? {
        Ok(bytes) => bytes,
        Err(reason) => return Ok(Err(reason)),
    };
    let times = match read(
        TIME_INDEX_EXTENSION,
        "time index",
        index::max_time_index_bytes(segment_size),
    )? {
        Ok(bytes) => bytes,
        Err(reason) => return Ok(Err(reason)),
    };
    Ok(index::parse(&offsets, &times, segment_size, offset_span).map_err(str::to_string))
}

/// Applies what `load` decided: cuts tails, removes dead files, rewrites indexes,
/// syncs what was checked, and writes the new recovery point. Writers only.
pub(crate) fn repair(
    directory: &dyn Directory,
    loaded: &mut Loaded,
    config: &LogConfig,
) -> Result<CheckpointFile> {
    let mut names_changed = false;
    for segment in &mut loaded.segments {
        let name = segment.segment.name();
        let log = &segment.segment.log;
        if segment.cut {
            log.set_len(segment.size)
                .map_err(io_error(directory, "cutting a torn tail"))?;
            tracing::warn!(segment = %name, position = segment.size, "cut a torn tail");
        }
        if segment.rewrite_indexes {
            let indexes = segment.segment.indexes().clone();
            write_indexes(directory, segment.segment.base_offset, &indexes)?;
            names_changed = true;
        }
        if segment.sync || segment.cut {
            log.sync()
                .map_err(io_error(directory, "syncing a segment"))?;
        }
    }
    for name in &loaded.remove {
        match directory.remove(name) {
            Ok(()) => {
                loaded.report.removed_files.push(name.clone());
                names_changed = true;
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error(directory, "removing a dead segment")(error)),
        }
    }
    let checkpoint = Checkpoint {
        recovery_point: loaded.report.end_offset,
        start_offset: loaded.start_offset,
        index_interval_bytes: u32::try_from(config.index_interval_bytes).unwrap_or(u32::MAX),
    };
    let file = CheckpointFile::open(directory, checkpoint)
        .map_err(io_error(directory, "writing the checkpoint"))?;
    if names_changed || loaded.report.checkpoint.is_none() {
        directory
            .sync()
            .map_err(io_error(directory, "syncing the directory"))?;
    }
    Ok(file)
}

/// Replaces a segment's index files with `indexes`, synced.
pub(crate) fn write_indexes(directory: &dyn Directory, base: u64, indexes: &Indexes) -> Result<()> {
    let offsets: Vec<u8> = indexes
        .offsets
        .iter()
        .flat_map(index::encode_offset_entry)
        .collect();
    let times: Vec<u8> = indexes
        .times
        .iter()
        .flat_map(index::encode_time_entry)
        .collect();
    for (extension, bytes) in [(INDEX_EXTENSION, offsets), (TIME_INDEX_EXTENSION, times)] {
        let storage = directory
            .create(&segment::file_name(base, extension))
            .map_err(io_error(directory, "creating an index"))?;
        storage
            .set_len(0)
            .and_then(|()| storage.write_at(&bytes, 0))
            .and_then(|()| storage.sync())
            .map_err(io_error(directory, "writing an index"))?;
    }
    Ok(())
}
