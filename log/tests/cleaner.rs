//! One cleaner for many partitions: `sinew_log::clean` is a pass over one
//! partition at the time passed in, so an owner's single thread can clean every
//! partition while another thread appends to them. Retention and compaction do
//! their work, every record that should survive does, and a pass stops between
//! batches when asked. Nothing sleeps: the cleaner loops until the appender is done,
//! and time is passed in.

mod common;

use common::{record_for, value_for};
use sinew_log::{
    Compaction, FsyncPolicy, LogConfig, MemoryDirectory, NewRecord, Partition, Record, clean,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

fn base_config() -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 128,
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

fn compacted() -> LogConfig {
    LogConfig {
        compaction: Some(Compaction {
            min_dirty_percent: 0,
            ..Compaction::default()
        }),
        ..base_config()
    }
}

fn retained() -> LogConfig {
    LogConfig {
        retention_bytes: Some(4096),
        ..base_config()
    }
}

fn open(config: LogConfig) -> Arc<Partition> {
    let (partition, _) =
        Partition::open_in(Arc::new(MemoryDirectory::new()), config).expect("open");
    Arc::new(partition)
}

/// Every record from the start to the end.
fn all(partition: &Partition) -> Vec<Record> {
    partition
        .reader()
        .read_records(partition.start_offset(), usize::MAX)
        .expect("read")
}

#[test]
fn one_cleaner_thread_cleans_many_partitions_while_their_owner_appends() {
    let retained_partition = open(retained());
    let compacted_partition = open(compacted());
    let partitions = vec![retained_partition.clone(), compacted_partition.clone()];
    let appending_done = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    // The cleaner: one thread, every partition, pass after pass.
    let cleaner = {
        let partitions = partitions.clone();
        let appending_done = appending_done.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut passes = 0u64;
            loop {
                let last = appending_done.load(Ordering::Acquire);
                for partition in &partitions {
                    clean(partition, SystemTime::now(), &stop).expect("clean");
                }
                passes += 1;
                if last {
                    return passes;
                }
            }
        })
    };
    // The owner: appends to both, syncing every ten batches.
    let now = Instant::now();
    for offset in 0..400u64 {
        retained_partition
            .append(&[record_for(offset)], None, now)
            .expect("append");
        let key = format!("key-{}", offset % 13).into_bytes();
        compacted_partition
            .append(
                &[NewRecord::new(Some(key), value_for(offset), 0)],
                None,
                now,
            )
            .expect("append");
        if offset % 10 == 9 {
            for partition in &partitions {
                partition.sync().expect("sync");
            }
        }
    }
    appending_done.store(true, Ordering::Release);
    let passes = cleaner.join().expect("cleaner");
    assert!(passes >= 1);
    // Retention: a suffix of whole segments, no more than the limit and one segment.
    let kept = all(&retained_partition);
    let start = retained_partition.start_offset();
    assert!(start > 0, "retention deleted nothing");
    assert_eq!(kept.len() as u64, 400 - start);
    for (index, record) in kept.iter().enumerate() {
        assert_eq!(record.offset, start + index as u64);
        assert_eq!(record.value, Some(value_for(record.offset)));
    }
    let bytes = retained_partition
        .read(start, u64::MAX)
        .expect("read")
        .bytes()
        .len();
    assert!(bytes < 4096 + 1024 + 1024, "{bytes} bytes kept");
    // Compaction: after a last pass over a rolled log, one record per key, the newest.
    compacted_partition.roll().expect("roll");
    let report = clean(
        &compacted_partition,
        SystemTime::now(),
        &AtomicBool::new(false),
    )
    .expect("clean");
    assert!(report.compaction.is_some());
    let mut newest: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for offset in 0..400u64 {
        newest.insert(format!("key-{}", offset % 13).into_bytes(), offset);
    }
    let records = all(&compacted_partition);
    assert_eq!(records.len(), newest.len());
    for record in records {
        let key = record.key.clone().expect("a key");
        assert_eq!(Some(&record.offset), newest.get(&key));
        assert_eq!(record.value, Some(value_for(record.offset)));
    }
}

#[test]
fn a_pass_stops_between_batches_when_asked_and_changes_nothing() {
    let partition = open(compacted());
    let now = Instant::now();
    for offset in 0..100u64 {
        let key = format!("key-{}", offset % 3).into_bytes();
        partition
            .append(
                &[NewRecord::new(Some(key), value_for(offset), 0)],
                None,
                now,
            )
            .expect("append");
    }
    partition.roll().expect("roll");
    let stopped = clean(&partition, SystemTime::now(), &AtomicBool::new(true)).expect("clean");
    let compaction = stopped.compaction.expect("due");
    assert!(compaction.interrupted);
    assert_eq!(compaction.segments_rewritten, 0);
    assert_eq!(all(&partition).len(), 100);
    // Retention settings absent: nothing deleted.
    assert!(stopped.retention.deleted_segments.is_empty());
    let finished = clean(&partition, SystemTime::now(), &AtomicBool::new(false)).expect("clean");
    assert!(!finished.compaction.expect("due").interrupted);
    assert_eq!(all(&partition).len(), 3);
    // Nothing dirty any more: no pass is due.
    let idle = clean(
        &partition,
        SystemTime::now() + Duration::from_secs(1),
        &AtomicBool::new(false),
    )
    .expect("clean");
    assert_eq!(idle.compaction, None);
}
