//! The log start offset inside a segment (Kafka's DeleteRecords): reads below it
//! are refused with an error naming the earliest and latest offsets, it survives
//! clean and unclean reopens and a power cut at any disk operation of the move, and
//! retention then deletes the whole segments below it, whatever its settings.

mod common;

use common::{TempDirectory, record_for, value_for};
use sinew_log::{
    FsyncPolicy, Log, LogConfig, LogError, MemoryDirectory, Partition, Producer, clean, inspect,
};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 128,
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

fn fill(partition: &Partition, count: u64) {
    for offset in partition.end_offset()..count {
        partition
            .append(&[record_for(offset)], None, Instant::now())
            .expect("append");
    }
}

/// Every record from `start` on is there, in order.
fn assert_suffix(partition: &Partition, start: u64, context: &str) {
    assert_eq!(partition.start_offset(), start, "{context}");
    let reader = partition.reader();
    let records = reader
        .read_records(start, usize::MAX)
        .unwrap_or_else(|error| panic!("{context}: {error}"));
    assert_eq!(
        records.len() as u64,
        partition.end_offset() - start,
        "{context}"
    );
    for (index, record) in records.iter().enumerate() {
        assert_eq!(record.offset, start + index as u64, "{context}");
        assert_eq!(record.value, Some(value_for(record.offset)), "{context}");
    }
}

#[test]
fn reads_below_a_start_inside_a_segment_are_refused_naming_both_ends() {
    let directory = MemoryDirectory::new();
    let open = || Partition::open_in(Arc::new(directory.clone()), config()).expect("open");
    let (partition, _) = open();
    fill(&partition, 30);
    assert_eq!(partition.delete_records_before(13).expect("delete"), 13);
    assert!(partition.durable_offset() >= 13, "durable below the start");
    match partition.read(12, 1 << 20) {
        Err(
            error @ LogError::OffsetOutOfRange {
                requested: 12,
                start: 13,
                end: 30,
            },
        ) => {
            let message = error.to_string();
            assert!(
                message.contains("13") && message.contains("30"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The batch holding 13 is served from 13 on; the reader skips nothing else.
    assert_suffix(&partition, 13, "after the move");
    assert_eq!(
        partition.offset_for_timestamp(0).expect("lookup"),
        Some(13),
        "by time, the earliest is the start"
    );
    // Lower or equal: nothing changes. Past the end: refused.
    assert_eq!(partition.delete_records_before(5).expect("lower"), 13);
    assert!(matches!(
        partition.delete_records_before(31),
        Err(LogError::OffsetOutOfRange {
            requested: 31,
            start: 13,
            end: 30
        })
    ));
    partition.close().expect("close");
    drop(partition);
    let verification = inspect::verify_in(&directory).expect("verify");
    assert!(verification.is_ok(), "{verification}");
    let (partition, report) = open();
    assert_eq!(report.start_offset, 13);
    assert_suffix(&partition, 13, "after a clean reopen");
    fill(&partition, 40);
    assert!(partition.durable_offset() < 40);
    assert_eq!(partition.delete_records_before(40).expect("all"), 40);
    assert_eq!(partition.durable_offset(), 40, "synced before the move");
    drop(partition);
    let (partition, report) = open();
    assert!(!report.clean_shutdown);
    assert_suffix(&partition, 40, "everything deleted, unclean reopen");
    assert!(partition.read(40, 1).expect("read").is_empty());
}

#[test]
fn a_power_cut_at_any_point_of_the_move_leaves_the_old_start_or_the_new() {
    let base = MemoryDirectory::new();
    {
        let (partition, _) = Partition::open_in(Arc::new(base.clone()), config()).expect("open");
        fill(&partition, 25);
        partition.close().expect("close");
    }
    // Count the operations of an uncut move.
    let counting = base.crash(0);
    let (partition, _) = Partition::open_in(Arc::new(counting.clone()), config()).expect("open");
    fill(&partition, 30);
    let before = counting.operations();
    partition.delete_records_before(17).expect("delete");
    let operations = counting.operations() - before;
    drop(partition);
    assert!(operations > 0);
    let mut moves = 0;
    for cut in 0..=operations {
        for seed in 0..32 {
            let directory = base.crash(0);
            let (partition, _) =
                Partition::open_in(Arc::new(directory.clone()), config()).expect("open");
            fill(&partition, 30);
            directory.cut_power_after(directory.operations() + cut);
            let moved = partition.delete_records_before(17).is_ok();
            drop(partition);
            let crashed = directory.crash(seed);
            let (partition, report) = Partition::open_in(Arc::new(crashed), config())
                .unwrap_or_else(|error| panic!("cut {cut}, seed {seed}: {error}"));
            let start = partition.start_offset();
            let context = format!("cut {cut}, seed {seed}: start {start} ({report})");
            assert!(start == 0 || start == 17, "{context}");
            if moved {
                moves += 1;
                assert_eq!(start, 17, "{context}: the move returned, so it is durable");
            }
            assert!(partition.end_offset() >= 25, "{context}");
            assert!(partition.end_offset() >= start, "{context}");
            assert_suffix(&partition, start, &context);
        }
    }
    assert_eq!(moves, 32, "only the uncut runs complete the move");
}

#[test]
fn retention_deletes_the_whole_segments_below_the_start_whatever_its_settings() {
    let temporary = TempDirectory::new("delete-records");
    let (partition, _) = Partition::open(temporary.log(), config()).expect("open");
    fill(&partition, 40);
    let files = || -> Vec<u64> {
        let mut bases: Vec<u64> = std::fs::read_dir(temporary.log())
            .expect("list")
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".log")?.parse().ok()
            })
            .collect();
        bases.sort_unstable();
        bases
    };
    let bases = files();
    assert!(bases.len() >= 4, "{bases:?}");
    // A start inside the third segment.
    let start = bases[2] + 1;
    partition.delete_records_before(start).expect("delete");
    assert_eq!(files(), bases, "nothing is deleted by the move itself");
    // No retention settings at all: the segments below the start go anyway.
    let report = clean(&partition, SystemTime::now(), &AtomicBool::new(false)).expect("clean");
    assert_eq!(report.retention.deleted_segments.len(), 2);
    assert_eq!(report.retention.start_offset, start);
    assert_eq!(files(), bases[2..].to_vec());
    assert_suffix(&partition, start, "after retention");
    drop(partition);
    let (partition, _) = Partition::open(temporary.log(), config()).expect("reopen");
    assert_suffix(&partition, start, "after reopen");
}

#[test]
fn the_log_handle_moves_the_start_and_producers_before_it_are_forgotten() {
    let (log, _) = Log::open_in(Arc::new(MemoryDirectory::new()), config()).expect("open");
    let producer = Producer {
        id: 5,
        epoch: 0,
        base_sequence: 0,
    };
    log.partition()
        .append(&[record_for(0)], Some(producer), Instant::now())
        .expect("append");
    for offset in 1..10 {
        log.append(&[record_for(offset)]).expect("append");
    }
    assert!(log.partition().producer(5).is_some());
    assert_eq!(log.delete_records_before(4).expect("delete"), 4);
    assert_eq!(log.start_offset(), 4);
    assert!(
        log.partition().producer(5).is_none(),
        "its only batch is gone"
    );
    assert!(matches!(
        log.reader().read_records(3, 1),
        Err(LogError::OffsetOutOfRange { start: 4, .. })
    ));
    log.close().expect("close");
}
