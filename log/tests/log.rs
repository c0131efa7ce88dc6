//! The log's public behaviour on real files: appends and reads, rolls, timestamps,
//! durability acknowledgements, typed errors, the writer lock, long-polling readers,
//! and the read-only view. Waits use deadlines, never sleeps.

mod common;

use common::{TempDirectory, read_all, record_for, small_config};
use sinew_log::{
    Durability, FsyncPolicy, Log, LogConfig, LogError, NewRecord, batch, encode_batch,
    open_read_only,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

fn names(directory: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .collect();
    names.sort();
    names
}

#[test]
fn appends_get_consecutive_offsets_and_read_back() {
    let temporary = TempDirectory::new("basic");
    let (log, report) = Log::open(temporary.log(), LogConfig::default()).expect("open");
    assert!(report.is_whole());
    let first = log
        .append(&[record_for(0), record_for(1), record_for(2)])
        .expect("append");
    assert_eq!((first.base_offset, first.last_offset), (0, 2));
    assert_eq!(first.durability, Durability::Durable);
    let second = log.append(&[record_for(3)]).expect("append");
    assert_eq!(second.base_offset, 3);
    let reader = log.reader();
    let records = read_all(&reader);
    assert_eq!(records.len(), 4);
    common::assert_expected_prefix(&records, "basic");
    assert_eq!(records[1].key.as_deref(), Some(&b"key-1"[..]));
    // Reading from the middle of a batch returns that whole batch.
    let batches = reader.read(1, 1 << 20).expect("read");
    assert_eq!(batches.headers()[0].base_offset, 0);
    assert_eq!(reader.read_records(1, 2).expect("read")[0].offset, 1);
    // At least one batch, however small the byte budget.
    assert_eq!(reader.read(3, 0).expect("read").headers().len(), 1);
    // At the end: nothing, not an error.
    assert!(reader.read(4, 1 << 20).expect("read").is_empty());
    log.close().expect("close");
}

#[test]
fn segments_roll_by_size_and_survive_a_clean_reopen() {
    let temporary = TempDirectory::new("roll");
    let (log, _) = Log::open(temporary.log(), small_config()).expect("open");
    for offset in 0..60 {
        log.append(&[record_for(offset)]).expect("append");
    }
    let segments: Vec<String> = names(&temporary.log())
        .into_iter()
        .filter(|name| name.ends_with(".log"))
        .collect();
    assert!(segments.len() > 3, "{segments:?}");
    assert_eq!(segments[0], "00000000000000000000.log");
    for name in &segments {
        let stem = name.trim_end_matches(".log");
        assert_eq!(stem.len(), 20);
        assert!(names(&temporary.log()).contains(&format!("{stem}.index")));
        assert!(names(&temporary.log()).contains(&format!("{stem}.timeindex")));
    }
    log.close().expect("close");
    assert!(names(&temporary.log()).contains(&"clean-shutdown".to_string()));
    let (log, report) = Log::open(temporary.log(), small_config()).expect("reopen");
    assert!(report.clean_shutdown);
    assert!(report.truncations.is_empty() && report.rebuilt_indexes.is_empty());
    let records = read_all(&log.reader());
    assert_eq!(records.len(), 60);
    common::assert_expected_prefix(&records, "after reopen");
    // The marker goes before the first append.
    log.append(&[record_for(60)]).expect("append");
    assert!(!names(&temporary.log()).contains(&"clean-shutdown".to_string()));
}

#[test]
fn segments_roll_by_age() {
    let temporary = TempDirectory::new("age");
    let config = LogConfig {
        segment_age: Some(Duration::ZERO),
        ..LogConfig::default()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in 0..3 {
        log.append(&[record_for(offset)]).expect("append");
    }
    let logs = names(&temporary.log())
        .into_iter()
        .filter(|name| name.ends_with(".log"))
        .count();
    assert_eq!(logs, 3, "every append past the first starts a new segment");
    assert_eq!(read_all(&log.reader()).len(), 3);
}

#[test]
fn reads_by_timestamp_find_the_first_record_at_or_after() {
    let temporary = TempDirectory::new("time");
    let (log, _) = Log::open(temporary.log(), small_config()).expect("open");
    // Timestamps 1000, 1010, ... with one out-of-order record at offset 20.
    for offset in 0..50u64 {
        let timestamp = if offset == 20 {
            5
        } else {
            1000 + 10 * offset as i64
        };
        log.append(&[NewRecord::new(None, vec![b'x'; 100], timestamp)])
            .expect("append");
    }
    let reader = log.reader();
    assert_eq!(reader.offset_for_timestamp(0).expect("lookup"), Some(0));
    assert_eq!(reader.offset_for_timestamp(1000).expect("lookup"), Some(0));
    assert_eq!(reader.offset_for_timestamp(1001).expect("lookup"), Some(1));
    assert_eq!(reader.offset_for_timestamp(1200).expect("lookup"), Some(21));
    assert_eq!(reader.offset_for_timestamp(1490).expect("lookup"), Some(49));
    assert_eq!(reader.offset_for_timestamp(1491).expect("lookup"), None);
}

#[test]
fn acknowledgements_say_written_or_durable() {
    for (policy, expected) in [
        (FsyncPolicy::Always, Durability::Durable),
        (FsyncPolicy::Never, Durability::Written),
        (
            FsyncPolicy::Interval(Duration::from_millis(5)),
            Durability::Written,
        ),
    ] {
        let temporary = TempDirectory::new("ack");
        let config = LogConfig {
            fsync: policy,
            ..LogConfig::default()
        };
        let (log, _) = Log::open(temporary.log(), config).expect("open");
        let ack = log.append(&[record_for(0)]).expect("append");
        assert_eq!(ack.durability, expected, "{policy:?}");
        if let FsyncPolicy::Interval(_) = policy {
            assert!(
                log.reader().wait_for_durable(1, deadline()),
                "the interval sync never came"
            );
        }
        assert_eq!(log.sync().expect("sync"), 1);
        assert_eq!(log.durable_offset(), 1);
        log.close().expect("close");
    }
}

#[test]
fn concurrent_appends_share_fsyncs_and_all_become_durable() {
    let temporary = TempDirectory::new("group");
    let (log, _) = Log::open(temporary.log(), LogConfig::default()).expect("open");
    let log = Arc::new(log);
    let (sender, receiver) = std::sync::mpsc::channel();
    for thread in 0..4 {
        let log = log.clone();
        let sender = sender.clone();
        std::thread::spawn(move || {
            for index in 0..250u64 {
                let record = NewRecord::new(None, format!("{thread}-{index}").into_bytes(), 0);
                let ack = log.append(&[record]).expect("append");
                assert_eq!(ack.durability, Durability::Durable);
                sender.send(ack.base_offset).expect("send");
            }
        });
    }
    drop(sender);
    // A lost wake-up in group commit shows up as a stall, caught by the deadline.
    let deadline = deadline();
    let mut all = Vec::new();
    while all.len() < 1000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(offset) => all.push(offset),
            Err(error) => panic!(
                "appends stalled after {} acknowledgements: {error}",
                all.len()
            ),
        }
    }
    all.sort_unstable();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
    assert_eq!(log.durable_offset(), 1000);
}

#[test]
fn bad_input_gets_a_typed_error_and_the_log_stays_usable() {
    let temporary = TempDirectory::new("errors");
    let config = LogConfig {
        max_batch_bytes: 1000,
        ..LogConfig::default()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    log.append(&[record_for(0)]).expect("append");

    let mut damaged = encode_batch(&[record_for(1)]).expect("encode");
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(matches!(
        log.append_batch(&damaged),
        Err(LogError::InvalidBatch(sinew_log::BatchError::Crc { .. }))
    ));
    assert!(matches!(
        log.append(&[NewRecord::new(None, vec![0; 2000], 0)]),
        Err(LogError::BatchTooLarge {
            limit_bytes: 1000,
            ..
        })
    ));
    assert!(matches!(log.append(&[]), Err(LogError::InvalidBatch(_))));
    let reader = log.reader();
    assert!(matches!(
        reader.read(7, 100),
        Err(LogError::OffsetOutOfRange {
            requested: 7,
            start: 0,
            end: 1
        })
    ));
    // A valid batch from outside keeps its bytes; only the base offset changes.
    let mut foreign = encode_batch(&[record_for(1)]).expect("encode");
    batch::set_base_offset(&mut foreign, 999).expect("patch");
    let ack = log.append_batch(&foreign).expect("append a foreign batch");
    assert_eq!(ack.base_offset, 1);
    let stored = reader.read(1, 1 << 20).expect("read");
    assert_eq!(&stored.bytes()[8..], &foreign[8..]);
    common::assert_expected_prefix(&read_all(&reader), "after errors");
}

#[test]
fn a_second_writer_is_refused() {
    let temporary = TempDirectory::new("lock");
    let (log, _) = Log::open(temporary.log(), LogConfig::default()).expect("open");
    assert!(matches!(
        Log::open(temporary.log(), LogConfig::default()),
        Err(LogError::Locked(_))
    ));
    // Readers need no lock.
    let (reader, _) = open_read_only(temporary.log()).expect("read-only");
    assert_eq!(reader.end_offset(), 0);
    drop(log);
    let (_log, _) = Log::open(temporary.log(), LogConfig::default()).expect("free again");
}

#[test]
fn a_reader_waiting_at_the_end_wakes_on_append() {
    let temporary = TempDirectory::new("wait");
    let config = LogConfig {
        fsync: FsyncPolicy::Never,
        ..LogConfig::default()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    let reader = log.reader();
    let started = Instant::now();
    assert!(!reader.wait_for(0, started + Duration::from_millis(20)));
    assert!(started.elapsed() >= Duration::from_millis(20));
    let waiter = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for offset in 0..20 {
            assert!(
                reader.wait_for(offset, deadline()),
                "offset {offset} never came"
            );
            seen.extend(reader.read_records(offset, 1).expect("read"));
        }
        seen
    });
    for offset in 0..20 {
        log.append(&[record_for(offset)]).expect("append");
    }
    let seen = waiter.join().expect("waiter");
    common::assert_expected_prefix(&seen, "long poll");
    // A writer that goes away releases its waiters.
    let reader = log.reader();
    let waiter = std::thread::spawn(move || reader.wait_for(20, deadline()));
    drop(log);
    assert!(!waiter.join().expect("waiter"));
}

#[test]
fn read_only_views_never_change_the_directory() {
    let temporary = TempDirectory::new("readonly");
    let config = LogConfig {
        fsync: FsyncPolicy::Never,
        ..small_config()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in 0..30 {
        log.append(&[record_for(offset)]).expect("append");
    }
    drop(log); // not a clean shutdown
    // Leave a torn tail for the read-only views to find.
    let mut active: Vec<String> = names(&temporary.log())
        .into_iter()
        .filter(|name| name.ends_with(".log"))
        .collect();
    active.sort();
    let active = temporary.log().join(active.last().expect("a segment"));
    let mut bytes = std::fs::read(&active).expect("read");
    bytes.extend_from_slice(&[0u8; 100]);
    std::fs::write(&active, &bytes).expect("write");
    let snapshot = |path: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        names(path)
            .into_iter()
            .map(|name| {
                let bytes = std::fs::read(path.join(&name)).expect("read");
                (name, bytes)
            })
            .collect()
    };
    let before = snapshot(&temporary.log());
    let (reader, report) = open_read_only(temporary.log()).expect("read-only");
    assert_eq!(report.truncations.len(), 1);
    common::assert_expected_prefix(&read_all(&reader), "read-only");
    assert_eq!(read_all(&reader).len(), 30);
    let info = sinew_log::inspect::info(temporary.log()).expect("info");
    assert!(!info.report.clean_shutdown);
    let verification = sinew_log::inspect::verify(temporary.log()).expect("verify");
    assert!(!verification.is_ok(), "the zero tail is reported");
    assert_eq!(snapshot(&temporary.log()), before);
}

#[test]
fn every_offset_reads_back_with_a_sparse_index() {
    // A sparse index leaves long stretches to skip, across many read windows.
    let temporary = TempDirectory::new("sparse");
    let config = LogConfig {
        index_interval_bytes: 100_000,
        fsync: FsyncPolicy::Never,
        ..LogConfig::default()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in (0..1500).step_by(3) {
        log.append(&[
            record_for(offset),
            record_for(offset + 1),
            record_for(offset + 2),
        ])
        .expect("append");
    }
    let reader = log.reader();
    for offset in 0..1500 {
        let records = reader.read_records(offset, 1).expect("read");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].offset, offset);
        assert_eq!(records[0].value, Some(common::value_for(offset)));
    }
}

/// The active segment's index entries are written in blocks; a log dropped without
/// `close` (as a crash would leave it) has a short index, which the next open
/// notices and rebuilds, so reads from every offset still find their record.
#[test]
fn index_entries_not_yet_written_are_rebuilt_after_a_crash() {
    let temporary = TempDirectory::new("pending-index");
    let config = LogConfig {
        index_interval_bytes: 1,
        fsync: FsyncPolicy::Never,
        ..LogConfig::default()
    };
    let (log, _) = Log::open(temporary.log(), config.clone()).expect("open");
    for offset in 0..40 {
        log.append(&[record_for(offset)]).expect("append");
    }
    log.sync().expect("sync");
    drop(log);
    let index = temporary.log().join("00000000000000000000.index");
    let stored = std::fs::metadata(&index).map_or(0, |metadata| metadata.len());
    assert!(
        stored < 40 * 8,
        "the index holds {stored} bytes: nothing pending"
    );
    let (log, report) = Log::open(temporary.log(), config).expect("reopen");
    assert!(!report.clean_shutdown);
    assert_eq!(report.rebuilt_indexes.len(), 1, "{report}");
    let reader = log.reader();
    for offset in 0..40 {
        let records = reader.read_records(offset, 1).expect("read");
        assert_eq!(records[0].offset, offset);
    }
    log.close().expect("close");
    let (_, report) = Log::open(temporary.log(), LogConfig::default()).expect("reopen");
    assert!(report.clean_shutdown && report.rebuilt_indexes.is_empty());
    assert_eq!(
        std::fs::metadata(&index).expect("index").len(),
        40 * 8,
        "close writes every entry"
    );
}

/// Bytes of disk the file occupies (its blocks, not its length).
fn allocated_bytes(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).expect("metadata").blocks() * 512
}

#[test]
fn space_is_reserved_ahead_of_appends_and_given_back_on_close() {
    let temporary = TempDirectory::new("reserve");
    let config = LogConfig {
        preallocate_bytes: 4 << 20,
        fsync: FsyncPolicy::Never,
        ..LogConfig::default()
    };
    let segment = temporary.log().join("00000000000000000000.log");
    let (log, _) = Log::open(temporary.log(), config.clone()).expect("open");
    log.append(&[record_for(0), record_for(1)]).expect("append");
    let length = std::fs::metadata(&segment).expect("metadata").len();
    let written = log.reader().read(0, 1 << 20).expect("read").bytes().len() as u64;
    // The length is what was written; the space behind it is reserved.
    assert_eq!(length, written);
    assert!(
        allocated_bytes(&segment) >= 4 << 20,
        "only {} bytes allocated",
        allocated_bytes(&segment)
    );
    log.close().expect("close");
    assert_eq!(std::fs::metadata(&segment).expect("metadata").len(), length);
    assert!(
        allocated_bytes(&segment) < 1 << 20,
        "{} bytes still allocated after close",
        allocated_bytes(&segment)
    );
    // Nothing reserved is ever read as data.
    let (log, report) = Log::open(temporary.log(), config).expect("reopen");
    assert!(report.is_whole());
    log.append(&[record_for(2)]).expect("append after reopen");
    common::assert_expected_prefix(&read_all(&log.reader()), "after reserving");
    assert_eq!(log.end_offset(), 3);
}
