//! Compaction against a model: after every full compaction the log holds exactly
//! the newest record of each key, at its original offset, with tombstones kept until
//! their horizon and then dropped; across appends in every codec, rolls, reopens and
//! key maps too small for one pass. Also: tombstones expire on the time passed in,
//! keyless records are refused, readers see a consistent log while the cleaner runs,
//! and the background cleaner does its work without being asked. Nothing here
//! sleeps: time is passed in, and the background test waits on its result with a
//! deadline.

mod common;

use common::TempDirectory;
use proptest::prelude::*;
use sinew_log::batch::Compression;
use sinew_log::{
    Compaction, FsyncPolicy, Log, LogConfig, LogError, MemoryDirectory, NewRecord, Record,
    encode_batch_with, inspect,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TOMBSTONE_RETENTION_MS: i64 = 1000;

fn at(milliseconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(milliseconds as u64)
}

fn config(memory_bytes: u64, segment_bytes: u64) -> LogConfig {
    LogConfig {
        segment_bytes,
        index_interval_bytes: 128,
        fsync: FsyncPolicy::Never,
        compaction: Some(Compaction {
            tombstone_retention: Duration::from_millis(TOMBSTONE_RETENTION_MS as u64),
            memory_bytes,
            min_dirty_percent: 0,
        }),
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

fn key(number: u8) -> Vec<u8> {
    format!("key-{number}").into_bytes()
}

/// The value stored at `offset` (tombstones have none).
fn value(offset: u64, size: usize) -> Vec<u8> {
    let mut value = format!("value-{offset}-").into_bytes();
    value.resize(value.len() + size, b'a' + (offset % 26) as u8);
    value
}

/// The newest record of one key, as the model knows it.
#[derive(Debug, Clone)]
struct Newest {
    offset: u64,
    value: Option<Vec<u8>>,
    /// When a compaction first kept it, if it is a tombstone: it goes once a
    /// compaction runs at or after this time.
    horizon: Option<i64>,
}

#[derive(Debug, Default)]
struct Model {
    newest: BTreeMap<Vec<u8>, Newest>,
    end: u64,
}

impl Model {
    /// What a full compaction at `now` leaves, offset by offset.
    fn compact(&mut self, now: i64) {
        self.newest.retain(|_, newest| {
            if newest.value.is_some() {
                return true;
            }
            match newest.horizon {
                Some(horizon) => now < horizon,
                None => {
                    newest.horizon = Some(now + TOMBSTONE_RETENTION_MS);
                    true
                }
            }
        });
    }

    fn expected(&self) -> BTreeMap<u64, (Vec<u8>, Option<Vec<u8>>)> {
        self.newest
            .iter()
            .map(|(key, newest)| (newest.offset, (key.clone(), newest.value.clone())))
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Operation {
    /// A batch of (key, value size or None for a tombstone) in a codec.
    Append(Vec<(u8, Option<usize>)>, usize),
    Roll,
    /// Roll, then compact everything, this many milliseconds after the last one.
    Compact(i64),
    Reopen,
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        8 => (
            proptest::collection::vec((0u8..8, proptest::option::weighted(0.8, 0usize..120)), 1..6),
            0usize..5
        )
            .prop_map(|(records, codec)| Operation::Append(records, codec)),
        1 => Just(Operation::Roll),
        2 => (0i64..1500).prop_map(Operation::Compact),
        1 => Just(Operation::Reopen),
    ]
}

fn read_all(log: &Log) -> Vec<Record> {
    let reader = log.reader();
    reader
        .read_records(reader.start_offset(), usize::MAX)
        .expect("read the whole log")
}

/// Every record is one that was appended at that offset, offsets increase, and
/// every key's newest record is there.
fn check_survivors(records: &[Record], model: &Model, appended: &BTreeMap<u64, NewRecord>) {
    let mut previous: Option<u64> = None;
    for record in records {
        assert!(previous.is_none_or(|previous| previous < record.offset));
        previous = Some(record.offset);
        let original = appended
            .get(&record.offset)
            .unwrap_or_else(|| panic!("offset {} was never appended", record.offset));
        assert_eq!(record.key, original.key, "offset {}", record.offset);
        assert_eq!(record.value, original.value, "offset {}", record.offset);
    }
    for newest in model.newest.values() {
        assert!(
            records.iter().any(|record| record.offset == newest.offset),
            "the newest record of a key, at offset {}, is gone",
            newest.offset
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn compaction_keeps_exactly_the_newest_record_per_key(
        operations in proptest::collection::vec(operation(), 1..40),
        memory_bytes in prop_oneof![Just(1024u64), Just(1u64 << 20)],
        segment_bytes in 300u64..2000,
    ) {
        let directory = MemoryDirectory::new();
        let open = || {
            Log::open_in(Arc::new(directory.clone()), config(memory_bytes, segment_bytes))
                .expect("open")
                .0
        };
        let mut log = open();
        let mut model = Model::default();
        let mut appended: BTreeMap<u64, NewRecord> = BTreeMap::new();
        let mut now = 1_000_000i64;
        for operation in operations {
            match operation {
                Operation::Append(records, codec) => {
                    let batch: Vec<NewRecord> = records
                        .iter()
                        .enumerate()
                        .map(|(index, (number, size))| NewRecord {
                            key: Some(key(*number)),
                            value: size.map(|size| value(model.end + index as u64, size)),
                            timestamp: now,
                            headers: Vec::new(),
                        })
                        .collect();
                    let bytes = encode_batch_with(&batch, Compression::ALL[codec]).expect("encode");
                    let ack = log.append_batch(&bytes).expect("append");
                    prop_assert_eq!(ack.base_offset, model.end);
                    for (index, record) in batch.into_iter().enumerate() {
                        let offset = model.end + index as u64;
                        model.newest.insert(
                            record.key.clone().expect("keyed"),
                            Newest { offset, value: record.value.clone(), horizon: None },
                        );
                        appended.insert(offset, record);
                    }
                    model.end = ack.last_offset + 1;
                }
                Operation::Roll => log.roll().expect("roll"),
                Operation::Compact(after) => {
                    now += after;
                    log.roll().expect("roll");
                    log.compact(at(now)).expect("compact");
                    model.compact(now);
                    let records = read_all(&log);
                    let got: BTreeMap<u64, (Vec<u8>, Option<Vec<u8>>)> = records
                        .iter()
                        .map(|record| {
                            (record.offset, (record.key.clone().expect("keyed"), record.value.clone()))
                        })
                        .collect();
                    prop_assert_eq!(got, model.expected(), "after a compaction at {}", now);
                }
                Operation::Reopen => {
                    log.close().expect("close");
                    log = open();
                }
            }
            prop_assert_eq!(log.end_offset(), model.end);
        }
        check_survivors(&read_all(&log), &model, &appended);
        log.close().expect("close");
        let verification = inspect::verify_in(&directory).expect("verify");
        prop_assert!(verification.is_ok(), "{}", verification);
        // Reopened after a crash that keeps only what was synced, it is the same log.
        let crashed = directory.crash(7);
        let (log, report) = Log::open_in(Arc::new(crashed), config(memory_bytes, segment_bytes)).expect("reopen");
        prop_assert!(report.is_whole(), "{}", report);
        check_survivors(&read_all(&log), &model, &appended);
    }
}

#[test]
fn tombstones_expire_on_the_time_passed_in() {
    let directory = MemoryDirectory::new();
    let (log, _) = Log::open_in(Arc::new(directory), config(1 << 20, 1 << 20)).expect("open");
    let record = |key: &[u8], value: Option<&[u8]>| NewRecord {
        key: Some(key.to_vec()),
        value: value.map(<[u8]>::to_vec),
        timestamp: 5,
        headers: Vec::new(),
    };
    log.append(&[record(b"a", Some(b"1")), record(b"b", Some(b"1"))])
        .expect("append");
    log.append(&[record(b"a", None)])
        .expect("append a tombstone");
    log.roll().expect("roll");
    let keys = |log: &Log| -> Vec<(u64, Option<Vec<u8>>)> {
        read_all(log)
            .into_iter()
            .map(|record| (record.offset, record.value))
            .collect()
    };
    // The first compaction removes the old value and sets the tombstone's horizon.
    let first = log.compact(at(10_000)).expect("compact");
    assert_eq!(first.records_removed, 1);
    assert_eq!(keys(&log), vec![(1, Some(b"1".to_vec())), (2, None)]);
    // One millisecond before the horizon it stays; at the horizon it goes.
    log.compact(at(10_000 + TOMBSTONE_RETENTION_MS - 1))
        .expect("compact");
    assert_eq!(keys(&log), vec![(1, Some(b"1".to_vec())), (2, None)]);
    let last = log
        .compact(at(10_000 + TOMBSTONE_RETENTION_MS))
        .expect("compact");
    assert_eq!(last.tombstones_removed, 1);
    assert_eq!(keys(&log), vec![(1, Some(b"1".to_vec()))]);
    // Offsets never change: the next append follows the old end.
    assert_eq!(log.end_offset(), 3);
    assert_eq!(
        log.append(&[record(b"c", Some(b"2"))])
            .expect("append")
            .base_offset,
        3
    );
    // A tombstone in a batch that was never compacted is not dropped.
    log.append(&[record(b"b", None)]).expect("append");
    log.roll().expect("roll");
    log.compact(at(1 << 40)).expect("compact");
    assert!(keys(&log).contains(&(4, None)), "{:?}", keys(&log));
}

#[test]
fn records_without_a_key_are_refused_on_a_compacted_log() {
    let directory = MemoryDirectory::new();
    let (log, _) = Log::open_in(Arc::new(directory), config(1 << 20, 1 << 20)).expect("open");
    let keyed = NewRecord::new(Some(b"k".to_vec()), b"v".to_vec(), 0);
    let keyless = NewRecord::new(None, b"v".to_vec(), 0);
    assert!(matches!(
        log.append(&[keyed.clone(), keyless.clone()]),
        Err(LogError::KeyRequired { position: 1 })
    ));
    for codec in Compression::ALL {
        let batch = encode_batch_with(&[keyless.clone(), keyed.clone()], codec).expect("encode");
        assert!(
            matches!(
                log.append_batch(&batch),
                Err(LogError::KeyRequired { position: 0 })
            ),
            "{codec:?}"
        );
    }
    assert_eq!(log.end_offset(), 0, "nothing was appended");
    log.append(&[keyed]).expect("a keyed record is fine");
}

#[test]
fn readers_see_a_consistent_log_while_it_is_compacted() {
    let temporary = TempDirectory::new("compact-readers");
    let config = LogConfig {
        segment_bytes: 4096,
        ..config(64 * 1024, 4096)
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    let log = Arc::new(log);
    let keys = 20u64;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let log = log.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut rounds = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || rounds < 3 {
                let reader = log.reader();
                let end = reader.end_offset();
                let records = reader.read_records(0, usize::MAX).expect("read");
                let mut previous = None;
                let mut newest: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
                for record in &records {
                    assert!(previous.is_none_or(|previous| previous < record.offset));
                    previous = Some(record.offset);
                    assert_eq!(
                        record.value.as_deref(),
                        Some(value(record.offset, 50).as_slice())
                    );
                    newest.insert(record.key.clone().expect("keyed"), record.offset);
                }
                // Every key's newest record before `end` is there: the last `keys`
                // offsets hold one record of every key, and the reader saw that
                // record or a newer one of the same key.
                if end >= keys {
                    for offset in end - keys..end {
                        let key = format!("key-{}", offset % keys).into_bytes();
                        assert!(
                            newest.get(&key).is_some_and(|&seen| seen >= offset),
                            "offset {offset} (newest of its key) was missing in round {rounds}"
                        );
                    }
                }
                rounds += 1;
            }
            rounds
        })
    };
    let mut offset = 0u64;
    for round in 0..30 {
        for _ in 0..40 {
            let record = NewRecord::new(
                Some(format!("key-{}", offset % keys).into_bytes()),
                value(offset, 50),
                offset as i64,
            );
            log.append(&[record]).expect("append");
            offset += 1;
        }
        if round % 3 == 0 {
            log.roll().expect("roll");
        }
        log.compact(at(1_000)).expect("compact");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds = reader.join().expect("reader");
    assert!(rounds >= 3);
    let log = Arc::into_inner(log).expect("the only handle");
    log.roll().expect("roll");
    log.compact(at(1_000)).expect("compact");
    let records = read_all(&log);
    assert_eq!(records.len() as u64, keys);
    assert_eq!(records[0].offset, offset - keys);
    log.close().expect("close");
    assert!(inspect::verify(temporary.log()).expect("verify").is_ok());
}

#[test]
fn the_background_cleaner_compacts_after_rolls() {
    let temporary = TempDirectory::new("compact-background");
    let config = LogConfig {
        cleaner_interval: Some(Duration::from_secs(3600)),
        ..config(1 << 20, 1 << 20)
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in 0..100u64 {
        let record = NewRecord::new(Some(b"same".to_vec()), value(offset, 10), 0);
        log.append(&[record]).expect("append");
    }
    // The roll wakes the cleaner; nothing else asks it to run.
    log.roll().expect("roll");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let records = read_all(&log);
        if records.len() == 1 {
            assert_eq!(records[0].offset, 99);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cleaner never ran: {} records",
            records.len()
        );
        std::thread::yield_now();
    }
    log.close().expect("close");
}
