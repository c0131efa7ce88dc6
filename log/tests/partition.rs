//! The owner-driven `Partition` ("broker mode"): it starts no thread, appends
//! without syncing, syncs when asked, judges segment age and the fsync interval by
//! the time passed in, reports what changed as notices, and serves reads as shared
//! `Bytes`. The crash model shows what an append without a sync promises (nothing)
//! and what a sync promises (everything before it). Nothing sleeps: time is passed in.

mod common;

use bytes::Bytes;
use common::record_for;
use sinew_log::{
    FsyncPolicy, HeaderRef, LogConfig, LogError, MemoryDirectory, Notice, Partition, RecordRef,
    RecoveryReport,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 4096,
        index_interval_bytes: 256,
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

fn open(directory: &MemoryDirectory, config: LogConfig) -> (Partition, RecoveryReport) {
    Partition::open_in(Arc::new(directory.clone()), config).expect("open")
}

/// Appends the crash tests' record for each offset from the end, one batch each.
fn append_records(partition: &Partition, count: u64, now: Instant) -> Notice {
    let mut notice = Notice::default();
    for _ in 0..count {
        let offset = partition.end_offset();
        let appended = partition
            .append(&[record_for(offset)], None, now)
            .expect("append");
        assert_eq!(appended.base_offset, offset);
        notice = notice.merge(appended.notice);
    }
    notice
}

/// The names of this process's threads (Linux), or `None` where that is unknown.
fn thread_names() -> Option<Vec<String>> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(|task| {
                let path = task.ok()?.path().join("comm");
                std::fs::read_to_string(path).ok()
            })
            .map(|name| name.trim().to_string())
            .collect(),
    )
}

#[test]
fn a_partition_starts_no_thread_even_where_a_log_would_start_two() {
    // The settings under which `Log` starts its flusher and its cleaner. No test in
    // this binary opens a `Log`, so any such thread would be the partition's.
    let config = LogConfig {
        fsync: FsyncPolicy::Interval(Duration::from_millis(1)),
        retention_bytes: Some(1),
        cleaner_interval: Some(Duration::from_millis(1)),
        ..config()
    };
    let (partition, _) = open(&MemoryDirectory::new(), config);
    append_records(&partition, 5, Instant::now());
    partition.roll().expect("roll");
    let Some(names) = thread_names() else {
        return;
    };
    assert!(
        !names.iter().any(|name| name.starts_with("sinew-log")),
        "threads: {names:?}"
    );
    assert_eq!(partition.durable_offset(), 5, "the roll synced");
}

#[test]
fn appends_report_new_data_and_syncs_report_what_became_durable() {
    let (partition, _) = open(&MemoryDirectory::new(), config());
    let now = Instant::now();
    let appended = partition
        .append(&[record_for(0), record_for(1)], None, now)
        .expect("append");
    assert_eq!((appended.base_offset, appended.last_offset), (0, 1));
    assert_eq!(
        appended.notice,
        Notice {
            new_data: Some(2),
            durable: None,
            sealed: false
        }
    );
    assert_eq!(partition.end_offset(), 2);
    assert_eq!(partition.durable_offset(), 0, "an append does not sync");
    let synced = partition.sync().expect("sync");
    assert_eq!(synced.durable_offset, 2);
    assert_eq!(synced.notice.durable, Some(2));
    assert_eq!(partition.durable_offset(), 2);
    // Nothing new: the durable offset stays, and the notice says nothing moved.
    let again = partition.sync().expect("sync");
    assert_eq!(again.durable_offset, 2);
    assert_eq!(again.notice, Notice::default());
    // A roll seals (and so syncs) the active segment.
    append_records(&partition, 1, now);
    let rolled = partition.roll().expect("roll");
    assert!(rolled.sealed);
    assert_eq!(rolled.durable, Some(3));
    assert_eq!(partition.close().expect("close").durable, Some(3));
}

#[test]
fn only_what_a_sync_covered_is_promised_after_a_power_loss() {
    let directory = MemoryDirectory::new();
    let (partition, _) = open(&directory, config());
    let now = Instant::now();
    append_records(&partition, 4, now);
    assert_eq!(partition.sync().expect("sync").durable_offset, 4);
    append_records(&partition, 6, now);
    drop(partition);
    let mut lost_some = false;
    for seed in 0..64 {
        let crashed = directory.crash(seed);
        let (partition, report) = open(&crashed, config());
        let end = partition.end_offset();
        assert!(
            (4..=10).contains(&end),
            "seed {seed}: ends at {end} ({report})"
        );
        lost_some |= end < 10;
        let batches = partition.read(0, u64::MAX).expect("read");
        let records = batches.records().expect("decode");
        assert_eq!(records.len() as u64, end);
        for record in &records {
            assert_eq!(record.value, Some(common::value_for(record.offset)));
        }
    }
    assert!(
        lost_some,
        "no crash lost an unsynced append: appends must be syncing"
    );
}

#[test]
fn segment_age_is_judged_by_the_time_passed_in() {
    let config = LogConfig {
        segment_age: Some(Duration::from_secs(3600)),
        ..config()
    };
    let (partition, _) = open(&MemoryDirectory::new(), config);
    let start = Instant::now();
    assert!(!append_records(&partition, 2, start).sealed);
    assert!(!append_records(&partition, 1, start + Duration::from_secs(3599)).sealed);
    let notice = append_records(&partition, 1, start + Duration::from_secs(3600));
    assert!(notice.sealed, "the segment is an hour old");
    assert_eq!(notice.durable, Some(3), "sealing synced the old segment");
    // The new segment's age counts from its own first append.
    assert!(!append_records(&partition, 1, start + Duration::from_secs(7000)).sealed);
    assert!(append_records(&partition, 1, start + Duration::from_secs(7200)).sealed);
}

#[test]
fn the_interval_policy_says_when_a_sync_is_due() {
    let interval = Duration::from_secs(10);
    let config = LogConfig {
        fsync: FsyncPolicy::Interval(interval),
        ..config()
    };
    let (partition, _) = open(&MemoryDirectory::new(), config);
    let start = Instant::now();
    assert_eq!(partition.sync_deadline(), None, "nothing to sync");
    append_records(&partition, 1, start);
    append_records(&partition, 1, start + Duration::from_secs(4));
    assert_eq!(partition.sync_deadline(), Some(start + interval));
    assert!(!partition.sync_due(start + Duration::from_secs(9)));
    assert!(partition.sync_due(start + interval));
    partition.sync().expect("sync");
    assert_eq!(partition.sync_deadline(), None);
    // Under the other policies the owner decides alone.
    let (never, _) = open(&MemoryDirectory::new(), self::config());
    append_records(&never, 1, start);
    assert_eq!(never.sync_deadline(), None);
}

#[test]
fn reads_share_one_buffer_and_durable_reads_stop_at_the_durable_offset() {
    let (partition, _) = open(&MemoryDirectory::new(), config());
    let now = Instant::now();
    append_records(&partition, 3, now);
    partition.sync().expect("sync");
    append_records(&partition, 2, now);
    let batches = partition.read(0, u64::MAX).expect("read");
    assert_eq!(batches.headers().len(), 5);
    // Each batch handed out is a slice of the same buffer, back to back.
    let whole = batches.to_bytes();
    let mut expected_start = whole.as_ptr();
    for (header, bytes) in batches.shared() {
        assert_eq!(
            bytes.as_ptr(),
            expected_start,
            "batch {}",
            header.base_offset
        );
        assert_eq!(bytes.len() as u64, header.size());
        expected_start = expected_start.wrapping_add(bytes.len());
    }
    // Durable reads stop where the sync did.
    let durable = partition.read_durable(0, u64::MAX).expect("read");
    assert_eq!(durable.next_offset(), Some(3));
    assert_eq!(durable.records().expect("decode").len(), 3);
    assert!(
        partition
            .read_durable(3, u64::MAX)
            .expect("read")
            .is_empty()
    );
    assert!(
        partition
            .read_durable(5, u64::MAX)
            .expect("read")
            .is_empty()
    );
    assert!(matches!(
        partition.read_durable(6, u64::MAX),
        Err(LogError::OffsetOutOfRange {
            requested: 6,
            start: 0,
            end: 5
        })
    ));
    // A reader on another thread sees the same.
    let reader = partition.reader();
    let records = std::thread::spawn(move || reader.read_records(0, 10).expect("read"))
        .join()
        .expect("reader thread");
    assert_eq!(records.len(), 5);
}

#[test]
fn records_borrowed_from_a_frame_append_and_read_back() {
    let (partition, _) = open(&MemoryDirectory::new(), config());
    // One received frame; the records point into it.
    let frame = Bytes::from_static(b"key-1value-1key-2value-2NATS/1.0");
    let headers = [HeaderRef {
        key: "Nats-Msg-Id",
        value: Some(&frame[24..]),
    }];
    let records = [
        RecordRef {
            key: Some(&frame[0..5]),
            value: Some(&frame[5..12]),
            timestamp: 10,
            headers: &headers,
        },
        RecordRef::new(Some(&frame[12..17]), &frame[17..24], 11),
    ];
    let appended = partition
        .append(&records, None, Instant::now())
        .expect("append");
    assert_eq!((appended.base_offset, appended.last_offset), (0, 1));
    let read = partition
        .read(0, u64::MAX)
        .expect("read")
        .records()
        .expect("decode");
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].key.as_deref(), Some(&b"key-1"[..]));
    assert_eq!(read[0].value.as_deref(), Some(&b"value-1"[..]));
    assert_eq!(read[0].headers[0].key, "Nats-Msg-Id");
    assert_eq!(read[0].headers[0].value.as_deref(), Some(&b"NATS/1.0"[..]));
    assert_eq!(read[1].value.as_deref(), Some(&b"value-2"[..]));
    assert_eq!(read[1].timestamp, 11);
}

#[test]
fn large_reads_that_reuse_buffers_return_exactly_the_records_at_their_offsets() {
    // Reads of hundreds of KiB take buffers earlier reads filled with other
    // records; none of those old bytes may show.
    let directory = MemoryDirectory::new();
    let big = LogConfig {
        segment_bytes: 64 << 20,
        ..config()
    };
    let (partition, _) = open(&directory, big);
    let now = Instant::now();
    append_records(&partition, 6000, now);
    partition.sync().expect("sync");
    for (round, start) in [0u64, 2500, 17, 5999, 1234, 0, 4000]
        .into_iter()
        .enumerate()
    {
        let max_bytes = [300 << 10, 700 << 10, 260 << 10][round % 3];
        let batches = partition.read(start, max_bytes).expect("read");
        let records = batches.records().expect("decode");
        assert!(!records.is_empty(), "round {round}");
        let mut expected = records.first().map(|record| record.offset).unwrap_or(0);
        assert!(
            expected <= start,
            "the first batch holds the offset asked for"
        );
        for record in &records {
            assert_eq!(record.offset, expected, "round {round}");
            assert_eq!(
                record.value.as_deref(),
                Some(common::value_for(record.offset).as_slice()),
                "round {round}: the record at {}",
                record.offset
            );
            expected += 1;
        }
        assert!(
            expected > start,
            "round {round}: reached the offset asked for"
        );
    }
}
