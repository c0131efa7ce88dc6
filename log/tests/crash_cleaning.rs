//! Crash safety of compaction and retention with the in-memory crash model: the
//! power is cut at every disk operation of a compaction (and of a retention), the
//! unsynced writes and names are torn, reordered or lost, and the log that reopens
//! must still hold every record that should survive: each key's newest record after
//! a compaction; every record from the start offset on after retention, with the
//! start offset either the old one or the new one. A crash while recovering from
//! such a crash is tested the same way. It never touches the file system: the disk
//! is the in-memory model.

mod common;

use common::{Random, value_for};
use sinew_log::{
    Compaction, FsyncPolicy, Log, LogConfig, MemoryDirectory, NewRecord, Record, inspect,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const RECORDS: u64 = 90;
const KEYS: u64 = 9;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_000_000)
}

fn compacted_config() -> LogConfig {
    LogConfig {
        segment_bytes: 1200,
        index_interval_bytes: 256,
        fsync: FsyncPolicy::Always,
        compaction: Some(Compaction {
            // Long enough that no tombstone expires here: every newest record stays.
            tombstone_retention: Duration::from_secs(3600),
            memory_bytes: 1024,
            min_dirty_percent: 0,
        }),
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

fn retained_config() -> LogConfig {
    LogConfig {
        segment_bytes: 1200,
        index_interval_bytes: 256,
        fsync: FsyncPolicy::Always,
        retention_bytes: Some(3000),
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

/// The record at `offset`: keys cycle, and every seventh record is a tombstone.
fn keyed_record(offset: u64) -> NewRecord {
    NewRecord {
        key: Some(format!("key-{}", offset % KEYS).into_bytes()),
        value: (offset % 7 != 3).then(|| value_for(offset)),
        timestamp: 1_000 + offset as i64,
        headers: Vec::new(),
    }
}

/// A cleanly closed log of `RECORDS` records in batches of one to four.
fn build(config: &LogConfig, record: fn(u64) -> NewRecord) -> MemoryDirectory {
    let directory = MemoryDirectory::new();
    let (log, _) = Log::open_in(Arc::new(directory.clone()), config.clone()).expect("open");
    let mut random = Random(5);
    let mut offset = 0;
    while offset < RECORDS {
        let count = (1 + random.below(4)).min(RECORDS - offset);
        let batch: Vec<NewRecord> = (offset..offset + count).map(record).collect();
        log.append(&batch).expect("append");
        offset += count;
    }
    log.close().expect("close");
    directory
}

/// A copy of a cleanly closed directory, with its power on and its operations
/// counted from zero.
fn copy(directory: &MemoryDirectory) -> MemoryDirectory {
    directory.crash(0)
}

fn read_all(log: &Log) -> Vec<Record> {
    let reader = log.reader();
    reader
        .read_records(reader.start_offset(), usize::MAX)
        .expect("read the whole log")
}

/// Opens the log, rolls, compacts everything and closes; stops at the first error.
fn compaction_workload(directory: &MemoryDirectory) {
    let Ok((log, _)) = Log::open_in(Arc::new(directory.clone()), compacted_config()) else {
        return;
    };
    if log.roll().is_err() || log.compact(now()).is_err() {
        return;
    }
    let _ = log.close();
}

/// The compacted log holds each key's newest record and only records that were
/// appended, at their offsets; it takes appends and compacts again.
fn check_compacted(directory: &MemoryDirectory, context: &str) {
    let (log, report) = Log::open_in(Arc::new(directory.clone()), compacted_config())
        .unwrap_or_else(|error| panic!("{context}: reopening failed: {error}"));
    assert!(report.is_whole(), "{context}: {report}");
    assert_eq!(log.end_offset(), RECORDS, "{context}: {report}");
    let records = read_all(&log);
    let mut previous = None;
    for record in &records {
        assert!(
            previous.is_none_or(|previous| previous < record.offset),
            "{context}: offsets out of order"
        );
        previous = Some(record.offset);
        let original = keyed_record(record.offset);
        assert_eq!(
            record.key, original.key,
            "{context}: offset {}",
            record.offset
        );
        assert_eq!(
            record.value, original.value,
            "{context}: offset {}",
            record.offset
        );
    }
    for newest in RECORDS - KEYS..RECORDS {
        assert!(
            records.iter().any(|record| record.offset == newest),
            "{context}: the newest record of its key, offset {newest}, is gone ({report})"
        );
    }
    log.append(&[keyed_record(RECORDS)])
        .unwrap_or_else(|error| panic!("{context}: append after recovery: {error}"));
    log.roll().expect("roll");
    log.compact(now()).expect("compact after recovery");
    let offsets: Vec<u64> = read_all(&log).iter().map(|record| record.offset).collect();
    let expected: Vec<u64> = (RECORDS - KEYS + 1..=RECORDS).collect();
    assert_eq!(offsets, expected, "{context}");
    log.close().expect("close");
    let verification = inspect::verify_in(directory).expect("verify");
    assert!(verification.is_ok(), "{context}: {verification}");
}

#[test]
fn a_crash_at_every_step_of_a_compaction_keeps_every_newest_record() {
    let built = build(&compacted_config(), keyed_record);
    let full = copy(&built);
    compaction_workload(&full);
    let total = full.operations();
    assert!(total > 60, "the compaction did only {total} operations");
    eprintln!("compaction: {total} operations");
    let mut random = Random(17);
    for cut in 0..=total {
        for seed in 0..2 {
            let directory = copy(&built);
            directory.cut_power_after(cut);
            compaction_workload(&directory);
            let crashed = directory.crash(cut * 100 + seed);
            check_compacted(&crashed, &format!("cut {cut} seed {seed}"));
        }
        // Now and then, crash again during the recovery of that crash.
        if cut % 5 == 0 {
            let directory = copy(&built);
            directory.cut_power_after(cut);
            compaction_workload(&directory);
            let crashed = directory.crash(cut);
            let trial = copy(&crashed);
            drop(Log::open_in(Arc::new(trial.clone()), compacted_config()));
            let steps = trial.operations().max(1);
            let step = random.below(steps);
            let attempt = copy(&crashed);
            attempt.cut_power_after(step);
            let _ = Log::open_in(Arc::new(attempt.clone()), compacted_config());
            check_compacted(
                &attempt.crash(step + 1),
                &format!("cut {cut}, recovery step {step}"),
            );
        }
    }
}

/// Opens the log, applies retention, appends one record and closes; stops at the
/// first error.
fn retention_workload(directory: &MemoryDirectory) -> bool {
    let Ok((log, _)) = Log::open_in(Arc::new(directory.clone()), retained_config()) else {
        return false;
    };
    if log.apply_retention(now()).is_err() {
        return false;
    }
    let appended = log.append(&[common::record_for(RECORDS)]).is_ok();
    let _ = log.close();
    appended
}

#[test]
fn a_crash_at_every_step_of_retention_leaves_the_old_or_the_new_start() {
    let built = build(&retained_config(), common::record_for);
    let full = copy(&built);
    assert!(retention_workload(&full));
    let (log, _) = Log::open_in(Arc::new(copy(&full)), retained_config()).expect("open");
    let new_start = log.start_offset();
    assert!(new_start > 0, "retention deleted nothing");
    drop(log);
    let total = full.operations();
    let mut starts: BTreeMap<u64, u64> = BTreeMap::new();
    for cut in 0..=total {
        for seed in 0..4 {
            let directory = copy(&built);
            directory.cut_power_after(cut);
            let appended = retention_workload(&directory);
            let crashed = directory.crash(cut * 100 + seed);
            let context = format!("cut {cut} seed {seed}");
            let (log, report) = Log::open_in(Arc::new(crashed.clone()), retained_config())
                .unwrap_or_else(|error| panic!("{context}: {error}"));
            assert!(report.is_whole(), "{context}: {report}");
            let start = log.start_offset();
            assert!(
                start == 0 || start == new_start,
                "{context}: the log starts at {start}, neither 0 nor {new_start}"
            );
            *starts.entry(start).or_default() += 1;
            let records = read_all(&log);
            let end = log.end_offset();
            assert!(
                end == RECORDS || end == RECORDS + 1,
                "{context}: ends at {end}"
            );
            if appended {
                assert_eq!(
                    end,
                    RECORDS + 1,
                    "{context}: an acknowledged append is gone"
                );
            }
            assert_eq!(records.len() as u64, end - start, "{context}: {report}");
            for (index, record) in records.iter().enumerate() {
                assert_eq!(record.offset, start + index as u64, "{context}");
                assert_eq!(record.value, Some(value_for(record.offset)), "{context}");
            }
            drop(log);
            let verification = inspect::verify_in(&crashed).expect("verify");
            assert!(verification.is_ok(), "{context}: {verification}");
        }
    }
    assert!(starts.len() == 2, "both outcomes were seen: {starts:?}");
}
