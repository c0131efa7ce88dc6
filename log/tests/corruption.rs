//! Damaged log directories: a flipped byte, a truncated batch, a truncated index, an
//! index pointing past the end, a zero-filled tail, a missing segment. Each is
//! detected on open, on read or by `verify`, with a report that names the segment,
//! the position and the offset; never a panic, never a wrong record.

mod common;

use common::{TempDirectory, assert_expected_prefix, read_all, record_for, small_config};
use sinew_log::{FsyncPolicy, Log, LogConfig, LogError, inspect, open_read_only};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

const RECORDS: u64 = 40;

/// A log of `RECORDS` records over several segments, closed cleanly or not.
fn build(temporary: &TempDirectory, clean: bool) -> Vec<PathBuf> {
    let policy = if clean {
        FsyncPolicy::Always
    } else {
        FsyncPolicy::Never
    };
    build_with(temporary, policy, clean)
}

fn build_with(temporary: &TempDirectory, fsync: FsyncPolicy, close: bool) -> Vec<PathBuf> {
    let config = LogConfig {
        fsync,
        ..small_config()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in 0..RECORDS {
        log.append(&[record_for(offset)]).expect("append");
    }
    if close {
        log.close().expect("close");
    }
    segments(&temporary.log())
}

fn base_of(segment: &Path) -> u64 {
    segment
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .parse()
        .expect("base offset")
}

/// The segment data files, oldest first.
fn segments(directory: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(directory)
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "log"))
        .collect();
    paths.sort();
    paths
}

fn with_extension(path: &Path, extension: &str) -> PathBuf {
    path.with_extension(extension)
}

fn flip_byte(path: &Path, position: u64) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[position as usize] ^= 0x40;
    std::fs::write(path, bytes).expect("write");
}

fn cut(path: &Path, length: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(length)
        .expect("cut");
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").len()
}

/// Opening for writing refuses; verify reports; a read-only view serves exactly the
/// records before the damage.
fn assert_damaged(temporary: &TempDirectory, first_bad_offset: u64, words: &str) {
    match Log::open(temporary.log(), small_config()) {
        Err(LogError::Damaged(report)) => {
            assert_eq!(report.damage[0].offset, first_bad_offset, "{report}");
            assert!(report.to_string().contains(words), "{report}");
        }
        Err(other) => panic!("expected damage, got {other}"),
        Ok(_) => panic!("a damaged log opened for writing"),
    }
    let verification = inspect::verify(temporary.log()).expect("verify");
    assert!(!verification.is_ok(), "verify missed it");
    let (reader, report) = open_read_only(temporary.log()).expect("read-only");
    assert!(!report.is_whole());
    let records = read_all(&reader);
    assert_eq!(records.len() as u64, first_bad_offset, "{report}");
    assert_expected_prefix(&records, "before the damage");
    assert!(matches!(
        reader.read(first_bad_offset + 1, 100),
        Err(LogError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn a_flipped_byte_before_the_recovery_point_is_damage() {
    // Every append was fsynced, then the process died: open checks the active
    // segment in full and finds damage below the recovery point.
    let temporary = TempDirectory::new("flip");
    let segments = build_with(&temporary, FsyncPolicy::Always, false);
    let active = segments.last().expect("active");
    // Inside the value of the active segment's first batch.
    flip_byte(active, 80);
    assert_damaged(&temporary, base_of(active), "CRC mismatch");
}

#[test]
fn a_flipped_byte_in_a_sealed_segment_is_never_served() {
    // Open does not rescan sealed segments of a cleanly closed log, but every read
    // checks the CRC and verify checks everything.
    let temporary = TempDirectory::new("flip-sealed");
    let segments = build(&temporary, true);
    let damaged_offset = base_of(&segments[1]);
    flip_byte(&segments[1], 80);
    let verification = inspect::verify(temporary.log()).expect("verify");
    assert!(
        verification.to_string().contains("CRC mismatch"),
        "{verification}"
    );
    let (log, _) = Log::open(temporary.log(), small_config()).expect("open");
    let reader = log.reader();
    assert!(matches!(
        reader.read(damaged_offset, 1 << 20),
        Err(LogError::Corrupt { .. })
    ));
    assert_expected_prefix(
        &reader
            .read_records(0, damaged_offset as usize)
            .expect("read"),
        "before the damage",
    );
    let after = reader.read_records(RECORDS - 1, 1).expect("read");
    assert_eq!(after[0].offset, RECORDS - 1);
}

#[test]
fn a_flipped_byte_is_caught_when_read_from_an_open_log() {
    let temporary = TempDirectory::new("flip-live");
    let (log, _) = Log::open(temporary.log(), small_config()).expect("open");
    for offset in 0..RECORDS {
        log.append(&[record_for(offset)]).expect("append");
    }
    let first = &segments(&temporary.log())[0];
    flip_byte(first, 70);
    let reader = log.reader();
    match reader.read(0, 1 << 20) {
        Err(LogError::Corrupt {
            segment, position, ..
        }) => {
            assert_eq!(segment, "00000000000000000000.log");
            assert_eq!(position, 0);
        }
        other => panic!("expected a corrupt-data error, got {other:?}"),
    }
    // Later segments are still served, and the writer goes on.
    let last = reader.read_records(RECORDS - 1, 1).expect("read");
    assert_eq!(last[0].offset, RECORDS - 1);
    log.append(&[record_for(RECORDS)]).expect("append");
}

#[test]
fn a_torn_tail_beyond_the_recovery_point_is_cut_and_reported() {
    let temporary = TempDirectory::new("torn");
    let segments = build(&temporary, false);
    let active = segments.last().expect("active");
    let size = file_size(active);
    flip_byte(active, size - 3);
    let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
    assert_eq!(report.truncations.len(), 1, "{report}");
    let cut = &report.truncations[0];
    assert_eq!(cut.from_offset, RECORDS - 1);
    assert!(cut.reason.contains("CRC"), "{report}");
    let records = read_all(&log.reader());
    assert_eq!(records.len() as u64, RECORDS - 1);
    assert_expected_prefix(&records, "after the cut");
    let ack = log.append(&[record_for(RECORDS - 1)]).expect("append");
    assert_eq!(ack.base_offset, RECORDS - 1);
    log.close().expect("close");
    assert!(inspect::verify(temporary.log()).expect("verify").is_ok());
}

#[test]
fn a_truncated_batch_is_cut_after_a_crash_and_damage_after_a_clean_close() {
    for clean in [false, true] {
        let temporary = TempDirectory::new("truncated");
        let segments = build(&temporary, clean);
        let active = segments.last().expect("active");
        cut(active, file_size(active) - 10);
        if clean {
            assert_damaged(&temporary, RECORDS - 1, "runs past the end");
        } else {
            let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
            assert_eq!(report.truncations[0].from_offset, RECORDS - 1, "{report}");
            assert_eq!(read_all(&log.reader()).len() as u64, RECORDS - 1);
        }
    }
}

#[test]
fn a_zero_filled_tail_is_cut() {
    for clean in [false, true] {
        let temporary = TempDirectory::new("zeros");
        let segments = build(&temporary, clean);
        let active = segments.last().expect("active");
        let size = file_size(active);
        cut(active, size + 4096);
        let verification = inspect::verify(temporary.log()).expect("verify");
        assert!(verification.to_string().contains("zeros"), "{verification}");
        let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
        assert_eq!(report.truncations.len(), 1, "{report}");
        assert_eq!(report.truncations[0].bytes, 4096);
        assert_eq!(report.truncations[0].from_offset, RECORDS);
        assert_eq!(file_size(active), size);
        assert_expected_prefix(&read_all(&log.reader()), "zero tail");
    }
}

#[test]
fn broken_indexes_are_detected_and_rebuilt() {
    type Breakage = fn(&Path);
    let breakages: [(&str, Breakage); 4] = [
        ("a partial entry", |index| cut(index, file_size(index) - 3)),
        ("short", |index| cut(index, 8)),
        ("past the end", |index| {
            let mut bytes = std::fs::read(index).expect("read");
            let length = bytes.len();
            bytes[length - 4..].copy_from_slice(&100_000u32.to_be_bytes());
            std::fs::write(index, bytes).expect("write");
        }),
        ("missing", |index| {
            std::fs::remove_file(index).expect("remove")
        }),
    ];
    for (label, breakage) in breakages {
        let temporary = TempDirectory::new("index");
        let segments = build(&temporary, true);
        let index = with_extension(&segments[0], "index");
        assert!(
            file_size(&index) >= 16,
            "the test needs two entries or more"
        );
        breakage(&index);
        let verification = inspect::verify(temporary.log()).expect("verify");
        assert!(!verification.is_ok(), "{label}: verify missed it");
        let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
        assert_eq!(report.rebuilt_indexes.len(), 1, "{label}: {report}");
        assert!(report.is_whole());
        let reader = log.reader();
        assert_expected_prefix(&read_all(&reader), label);
        for offset in 0..RECORDS {
            let record = reader.read_records(offset, 1).expect("read");
            assert_eq!(record[0].offset, offset, "{label}");
        }
        log.close().expect("close");
        let verification = inspect::verify(temporary.log()).expect("verify");
        assert!(verification.is_ok(), "{label}: {verification}");
    }
}

#[test]
fn a_missing_segment_is_damage() {
    // In the middle: a gap in the offsets.
    let temporary = TempDirectory::new("missing-middle");
    let segments = build(&temporary, true);
    assert!(segments.len() >= 3);
    let missing = &segments[1];
    let base = base_of(missing);
    for extension in ["log", "index", "timeindex"] {
        std::fs::remove_file(with_extension(missing, extension)).expect("remove");
    }
    assert_damaged(&temporary, base, "missing");

    // At the end: the log is shorter than its recovery point.
    let temporary = TempDirectory::new("missing-last");
    let segments = build(&temporary, true);
    let last = segments.last().expect("last");
    let base = base_of(last);
    for extension in ["log", "index", "timeindex"] {
        std::fs::remove_file(with_extension(last, extension)).expect("remove");
    }
    assert_damaged(&temporary, base, "made durable");

    // Only the data file: its index files give it away.
    let temporary = TempDirectory::new("missing-data");
    let segments = build(&temporary, true);
    let first = &segments[0];
    std::fs::remove_file(first).expect("remove");
    assert_damaged(&temporary, 0, "missing");
}

#[test]
fn garbage_after_the_last_batch_of_a_sealed_segment_is_cut_and_the_log_goes_on() {
    // Whether or not the shutdown was clean, the next segment starts where the good
    // batches end, so the bad bytes hold no records.
    for clean in [false, true] {
        let temporary = TempDirectory::new("sealed-garbage");
        let segments = build_with(&temporary, FsyncPolicy::Always, clean);
        let sealed = &segments[segments.len() - 2];
        let size = file_size(sealed);
        cut(sealed, size + 1000);
        let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
        assert!(report.is_whole(), "{report}");
        assert_eq!(report.truncations.len(), 1, "{report}");
        assert_eq!(report.truncations[0].bytes, 1000);
        assert_eq!(file_size(sealed), size);
        let records = read_all(&log.reader());
        assert_eq!(records.len() as u64, RECORDS);
        assert_expected_prefix(&records, "after cutting the garbage");
    }
}
