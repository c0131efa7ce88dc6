//! Idempotent producers: the producer id, epoch and base sequence a caller gives go
//! into the batch; a retried batch is answered with the offsets it got the first
//! time and not appended again; a gap in the sequence and an older epoch are
//! refused; and the state is rebuilt from the batch headers on open, after a clean
//! close, an unclean one, and a crash that cuts the tail (which forgets exactly the
//! batches it cut).

mod common;

use common::TempDirectory;
use sinew_log::batch::Compression;
use sinew_log::{
    BatchEncoder, FsyncPolicy, Log, LogConfig, LogError, MemoryDirectory, Partition, Producer,
    RecordRef, SequenceCheck, SequencedBatch,
};
use std::sync::Arc;
use std::time::Instant;

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 128,
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

fn producer(epoch: i16, base_sequence: i32) -> Producer {
    Producer {
        id: 42,
        epoch,
        base_sequence,
    }
}

/// `count` records of about 100 bytes, so a few batches fill a segment.
fn records(count: usize) -> Vec<RecordRef<'static>> {
    static VALUE: [u8; 100] = [b'v'; 100];
    (0..count)
        .map(|index| RecordRef::new(None, &VALUE, index as i64))
        .collect()
}

/// Appends batch after batch from one producer, `sizes` records each; returns the
/// (base sequence, base offset, last offset) of each.
fn append_sequence(partition: &Partition, sizes: &[usize]) -> Vec<(i32, u64, u64)> {
    let mut sequence = 0;
    let mut appended = Vec::new();
    for &size in sizes {
        let result = partition
            .append(&records(size), Some(producer(0, sequence)), Instant::now())
            .expect("append");
        assert!(!result.duplicate);
        appended.push((sequence, result.base_offset, result.last_offset));
        sequence += size as i32;
    }
    appended
}

#[test]
fn a_retried_batch_gets_its_original_offsets_and_gaps_and_old_epochs_are_refused() {
    let (partition, _) =
        Partition::open_in(Arc::new(MemoryDirectory::new()), config()).expect("open");
    let now = Instant::now();
    let appended = append_sequence(&partition, &[2, 1]);
    assert_eq!(appended, [(0, 0, 1), (2, 2, 2)]);
    let header = partition.read(0, 1).expect("read").headers()[0];
    assert_eq!(
        (
            header.producer_id,
            header.producer_epoch,
            header.base_sequence
        ),
        (42, 0, 0)
    );
    // The first batch again: nothing appended, its offsets returned.
    let retry = partition
        .append(&records(2), Some(producer(0, 0)), now)
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!((retry.base_offset, retry.last_offset), (0, 1));
    assert_eq!(partition.end_offset(), 3);
    // A gap.
    assert!(matches!(
        partition.append(&records(1), Some(producer(0, 4)), now),
        Err(LogError::OutOfOrderSequence {
            producer_id: 42,
            expected: 3,
            found: 4
        })
    ));
    // A new epoch starts at 0 and fences the old one.
    partition
        .append(&records(1), Some(producer(1, 0)), now)
        .expect("new epoch");
    assert!(matches!(
        partition.append(&records(1), Some(producer(0, 3)), now),
        Err(LogError::ProducerFenced {
            producer_id: 42,
            epoch: 0,
            current_epoch: 1
        })
    ));
    // Refusals change nothing, and the log goes on.
    assert_eq!(partition.end_offset(), 4);
    assert!(!partition.has_failed());
    // Batches without a producer are never checked.
    partition.append(&records(1), None, now).expect("plain");
    partition.append(&records(1), None, now).expect("plain");
    assert_eq!(partition.end_offset(), 6);
}

#[test]
fn producer_state_is_rebuilt_from_the_headers_on_every_kind_of_reopen() {
    let directory = MemoryDirectory::new();
    let open = || Partition::open_in(Arc::new(directory.clone()), config()).expect("open");
    let (partition, _) = open();
    // Enough batches to fill several segments.
    let sizes = [3, 1, 4, 1, 5, 2, 6, 5, 3, 5, 1, 2];
    let mut appended = append_sequence(&partition, &sizes);
    assert!(partition.read(0, 1).is_ok());
    partition.close().expect("close");
    drop(partition);
    for clean in [true, false] {
        let (partition, report) = open();
        assert_eq!(report.clean_shutdown, clean);
        let entry = partition.producer(42).expect("known");
        let last_five: Vec<(i32, u64, u64)> = entry
            .batches
            .iter()
            .map(|batch| (batch.first_sequence, batch.base_offset, batch.last_offset))
            .collect();
        assert_eq!(last_five, appended[appended.len() - 5..], "clean: {clean}");
        // Every one of the last five batches is recognised as a retry.
        for &(sequence, base, last) in &appended[appended.len() - 5..] {
            let size = (last - base + 1) as usize;
            let retry = partition
                .append(&records(size), Some(producer(0, sequence)), Instant::now())
                .expect("retry");
            assert!(retry.duplicate, "sequence {sequence}");
            assert_eq!((retry.base_offset, retry.last_offset), (base, last));
        }
        // One more batch, then dropped without closing: the next open is unclean.
        let sequence = entry.last().map_or(0, |last| last.last_sequence + 1);
        let next = partition
            .append(&records(2), Some(producer(0, sequence)), Instant::now())
            .expect("append");
        appended.push((sequence, next.base_offset, next.last_offset));
        drop(partition);
    }
}

#[test]
fn a_crash_that_cuts_the_tail_forgets_exactly_the_batches_it_cut() {
    let directory = MemoryDirectory::new();
    let (partition, _) = Partition::open_in(Arc::new(directory.clone()), config()).expect("open");
    let kept = append_sequence(&partition, &[2, 2]);
    partition.sync().expect("sync");
    // Two more batches, never synced.
    let now = Instant::now();
    partition
        .append(&records(1), Some(producer(0, 4)), now)
        .expect("append");
    partition
        .append(&records(1), Some(producer(0, 5)), now)
        .expect("append");
    drop(partition);
    let mut cut_some = false;
    for seed in 0..64 {
        let crashed = directory.crash(seed);
        let (partition, _) = Partition::open_in(Arc::new(crashed), config()).expect("reopen");
        let end = partition.end_offset();
        let entry = partition
            .producer(42)
            .expect("the synced batches are known");
        let last = entry.last().expect("a batch");
        // The producer state ends exactly where the log does.
        assert_eq!(last.last_offset + 1, end, "seed {seed}");
        let expected_next = match end {
            4 => 4,
            5 => 5,
            6 => 6,
            other => panic!("seed {seed}: the log ends at {other}"),
        };
        assert_eq!(
            partition.check_sequence(producer(0, expected_next), 1),
            SequenceCheck::Append
        );
        if end == 4 {
            cut_some = true;
            // The lost batch is no duplicate: the producer's retry appends it.
            let retry = partition
                .append(&records(1), Some(producer(0, 4)), now)
                .expect("retry");
            assert!(!retry.duplicate);
            assert_eq!(retry.base_offset, 4);
        }
        // The synced batches are still answered with their offsets.
        assert_eq!(
            partition.check_sequence(producer(0, 2), 2),
            SequenceCheck::Duplicate(SequencedBatch {
                first_sequence: 2,
                last_sequence: 3,
                base_offset: kept[1].1,
                last_offset: kept[1].2,
            })
        );
    }
    assert!(cut_some, "no crash cut the unsynced batches");
}

#[test]
fn a_torn_tail_on_disk_is_cut_and_its_batch_forgotten() {
    let temporary = TempDirectory::new("torn-producer");
    let (partition, _) = Partition::open(temporary.log(), config()).expect("open");
    append_sequence(&partition, &[1, 1, 1]);
    drop(partition);
    // Tear the last batch: cut its last bytes off the active segment.
    let mut segments: Vec<_> = std::fs::read_dir(temporary.log())
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "log"))
        .collect();
    segments.sort();
    let active = segments.last().expect("a segment");
    let length = std::fs::metadata(active).expect("metadata").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(active)
        .expect("open the segment");
    file.set_len(length - 10).expect("cut");
    drop(file);
    let (partition, report) = Partition::open(temporary.log(), config()).expect("reopen");
    assert_eq!(report.truncations.len(), 1, "{report}");
    assert_eq!(partition.end_offset(), 2);
    let last = *partition
        .producer(42)
        .expect("known")
        .last()
        .expect("a batch");
    assert_eq!((last.first_sequence, last.last_offset), (1, 1));
    assert_eq!(
        partition.check_sequence(producer(0, 2), 1),
        SequenceCheck::Append
    );
}

#[test]
fn a_producers_own_batch_through_the_log_handle_is_deduplicated_too() {
    let (log, _) = Log::open_in(Arc::new(MemoryDirectory::new()), config()).expect("open");
    let mut encoder = BatchEncoder::new();
    let batch = encoder
        .encode_records(&records(3), Compression::None, Some(producer(0, 0)))
        .expect("encode")
        .to_vec();
    let first = log.append_batch(&batch).expect("append");
    let again = log.append_batch(&batch).expect("retry");
    assert_eq!(
        (first.base_offset, first.last_offset),
        (again.base_offset, again.last_offset)
    );
    assert_eq!(log.end_offset(), 3);
    assert_eq!(
        log.partition()
            .producer(42)
            .and_then(|entry| entry.last().copied()),
        Some(SequencedBatch {
            first_sequence: 0,
            last_sequence: 2,
            base_offset: 0,
            last_offset: 2,
        })
    );
    log.close().expect("close");
}

#[test]
fn an_idle_producer_expires_after_a_day_of_record_time_and_a_cleaning_pass_reports_it() {
    let directory = Arc::new(MemoryDirectory::new());
    let (partition, _) = Partition::open_in(directory, config()).expect("open");
    // Records stamped 0, 1 and 2 ms after the epoch: the newest batch's largest
    // timestamp is 2.
    append_sequence(&partition, &[3]);
    assert!(partition.producer(42).is_some());
    let day = std::time::Duration::from_secs(24 * 60 * 60);
    let epoch = std::time::UNIX_EPOCH;
    let just_before = epoch + day + std::time::Duration::from_millis(1);
    assert_eq!(partition.expire_producers(just_before).expect("expire"), 0);
    assert!(partition.producer(42).is_some());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let at_expiry = epoch + day + std::time::Duration::from_millis(2);
    let report = sinew_log::clean(&partition, at_expiry, &stop).expect("clean");
    assert_eq!(report.expired_producers, 1);
    assert_eq!(partition.producer(42), None);
    // Forgotten, as Kafka forgets it: a retry of its batch is appended again.
    let again = partition
        .append(&records(3), Some(producer(0, 0)), Instant::now())
        .expect("append");
    assert!(!again.duplicate);
    assert_eq!(again.base_offset, 3);
    // With no expiry, producers are kept however old they are.
    let kept = LogConfig {
        producer_expiry: None,
        ..config()
    };
    let (partition, _) = Partition::open_in(Arc::new(MemoryDirectory::new()), kept).expect("open");
    append_sequence(&partition, &[1]);
    let much_later = epoch + day * 3650;
    assert_eq!(partition.expire_producers(much_later).expect("expire"), 0);
    assert!(partition.producer(42).is_some());
}
