//! Retention on real files: by size and by age (the segment's newest timestamp,
//! with the time passed in), whole segments only, oldest first, never the active
//! one; readers before the new start are told the earliest offset; the start
//! survives a reopen; the background cleaner applies it after rolls. Time is passed
//! in; nothing sleeps.

mod common;

use common::{TempDirectory, record_for};
use sinew_log::{FsyncPolicy, Log, LogConfig, LogError, NewRecord, inspect, open_read_only};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn at(milliseconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(milliseconds as u64)
}

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 256,
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

fn segment_files(log: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(log)
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".log"))
        .collect();
    names.sort();
    names
}

fn base_of(name: &str) -> u64 {
    name.trim_end_matches(".log")
        .parse()
        .expect("a base offset")
}

/// Every record from `start` to the end is there, in order, with its value.
fn assert_suffix(log: &Log, start: u64) {
    let reader = log.reader();
    assert_eq!(reader.start_offset(), start);
    let records = reader.read_records(start, usize::MAX).expect("read");
    assert_eq!(records.len() as u64, log.end_offset() - start);
    for (index, record) in records.iter().enumerate() {
        assert_eq!(record.offset, start + index as u64);
        assert_eq!(record.value, Some(common::value_for(record.offset)));
    }
}

#[test]
fn retention_by_size_deletes_the_oldest_whole_segments() {
    let temporary = TempDirectory::new("retention-size");
    let config = LogConfig {
        retention_bytes: Some(3000),
        ..config()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in 0..120 {
        log.append(&[record_for(offset)]).expect("append");
    }
    let before = segment_files(&temporary.log());
    let size = |names: &[String]| -> u64 {
        names
            .iter()
            .map(|name| {
                std::fs::metadata(temporary.log().join(name))
                    .expect("metadata")
                    .len()
            })
            .sum()
    };
    let report = log.apply_retention(at(0)).expect("retention");
    let after = segment_files(&temporary.log());
    assert!(!report.deleted_segments.is_empty(), "{report}");
    assert_eq!(
        report.deleted_segments,
        before[..report.deleted_segments.len()]
    );
    assert_eq!(after, before[report.deleted_segments.len()..]);
    // What is left still holds the limit, and would not without its oldest segment.
    let remaining = size(&after);
    assert!(remaining >= 3000, "{remaining}");
    let oldest = size(&after[..1]);
    assert!(remaining - oldest < 3000, "{remaining} - {oldest}");
    let start = base_of(&after[0]);
    assert_eq!(report.start_offset, start);
    assert_suffix(&log, start);
    // A reader before the start is told where the log starts now.
    let error = log.reader().read(0, 100).expect_err("before the start");
    match &error {
        LogError::OffsetOutOfRange {
            requested: 0,
            start: earliest,
            ..
        } => assert_eq!(*earliest, start),
        other => panic!("{other}"),
    }
    assert!(
        error
            .to_string()
            .contains(&format!("earliest available is {start}")),
        "{error}"
    );
    // Applying it again deletes nothing more.
    assert!(
        log.apply_retention(at(0))
            .expect("again")
            .deleted_segments
            .is_empty()
    );
    log.close().expect("close");
    // The start offset and the shorter log survive a reopen and read-only views.
    let (reader, report) = open_read_only(temporary.log()).expect("read-only");
    assert!(report.is_whole(), "{report}");
    assert_eq!(reader.start_offset(), start);
    assert!(inspect::verify(temporary.log()).expect("verify").is_ok());
    let (log, _) = Log::open(temporary.log(), config_with_limit(0)).expect("reopen");
    assert_suffix(&log, start);
    // Even a limit of zero never deletes the active segment.
    let report = log.apply_retention(at(0)).expect("retention");
    let last = segment_files(&temporary.log());
    assert_eq!(last.len(), 1, "{report}");
    assert_eq!(base_of(&last[0]), log.reader().start_offset());
    assert_suffix(&log, base_of(&last[0]));
    log.append(&[record_for(120)])
        .expect("append after retention");
}

fn config_with_limit(bytes: u64) -> LogConfig {
    LogConfig {
        retention_bytes: Some(bytes),
        ..config()
    }
}

#[test]
fn retention_by_age_goes_by_each_segments_newest_timestamp_oldest_first() {
    let temporary = TempDirectory::new("retention-age");
    let config = LogConfig {
        retention_age: Some(Duration::from_millis(2500)),
        segment_bytes: 1 << 20,
        ..config()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    // Segment i holds timestamps around 1000 * i; segment 3 also holds a late one.
    for segment in 0..8i64 {
        for index in 0..3 {
            let offset = log.end_offset();
            let mut timestamp = 1000 * segment + index;
            if segment == 3 && index == 2 {
                timestamp = 9000;
            }
            let record = NewRecord::new(None, common::value_for(offset), timestamp);
            log.append(&[record]).expect("append");
        }
        log.roll().expect("roll");
    }
    let bases: Vec<u64> = segment_files(&temporary.log())
        .iter()
        .map(|name| base_of(name))
        .collect();
    // At 4000 segments 0 and 1 (newest 1002) are older than 2500 ms.
    let report = log.apply_retention(at(4000)).expect("retention");
    assert_eq!(report.deleted_segments.len(), 2, "{report}");
    assert_eq!(log.reader().start_offset(), bases[2]);
    // At 7000 segment 2 goes, but segment 3 (newest 9000) stops the deletion, so
    // segments 4 and 5 stay though they are old: the log is always a suffix.
    let report = log.apply_retention(at(7000)).expect("retention");
    assert_eq!(report.deleted_segments.len(), 1, "{report}");
    assert_eq!(log.reader().start_offset(), bases[3]);
    // Once segment 3 is old enough, everything before the active segment goes.
    let report = log.apply_retention(at(20_000)).expect("retention");
    assert_eq!(report.deleted_segments.len(), 5, "{report}");
    assert_eq!(log.reader().start_offset(), log.end_offset());
    assert_suffix(&log, log.end_offset());
    log.close().expect("close");
    let (log, report) = Log::open(temporary.log(), LogConfig::default()).expect("reopen");
    assert!(report.is_whole(), "{report}");
    assert_eq!(log.start_offset(), log.end_offset());
}

#[test]
fn the_background_cleaner_applies_retention_after_rolls() {
    let temporary = TempDirectory::new("retention-background");
    let config = LogConfig {
        retention_bytes: Some(2048),
        cleaner_interval: Some(Duration::from_secs(3600)),
        ..config()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in 0..100 {
        log.append(&[record_for(offset)]).expect("append");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while log.start_offset() == 0 {
        assert!(Instant::now() < deadline, "retention never ran");
        std::thread::yield_now();
    }
    // The cleaner may still be deleting: a read from a start it has just passed
    // is "out of range" with the new start, and is retried from there.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let start = log.start_offset();
        match log.reader().read_records(start, usize::MAX) {
            Ok(records) => {
                assert_eq!(records.first().map(|record| record.offset), Some(start));
                break;
            }
            Err(LogError::OffsetOutOfRange { start: newer, .. }) if newer > start => {
                assert!(Instant::now() < deadline, "the start never settled");
            }
            Err(other) => panic!("read: {other:?}"),
        }
    }
    log.close().expect("close");
    // Readers from the start of what is left see every record in order.
    let (reader, _) = open_read_only(temporary.log()).expect("read-only");
    let records = reader
        .read_records(reader.start_offset(), usize::MAX)
        .expect("read");
    assert_eq!(
        records.last().map(|record| record.offset),
        Some(reader.end_offset() - 1)
    );
    let shifted: Vec<_> = records
        .iter()
        .map(|record| record.offset - reader.start_offset())
        .collect();
    assert_eq!(shifted, (0..records.len() as u64).collect::<Vec<_>>());
}
