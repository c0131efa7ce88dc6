//! Model-based property tests: random sequences of append, read, read by timestamp,
//! roll, reopen (clean and unclean) and power loss after fsync behave like a `Vec`
//! of records. Bounded so `cargo test` stays quick; the crash model keeps it in
//! memory.

use proptest::prelude::*;
use sinew_log::{FsyncPolicy, Log, LogConfig, MemoryDirectory, NewRecord, Record, inspect};
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Operation {
    /// Append a batch of (key, value size, timestamp) records.
    Append(Vec<(Option<u8>, usize, i64)>),
    /// Read up to `count` records from a position given as a fraction of the end.
    Read {
        from_percent: u64,
        count: usize,
    },
    /// Look up the first offset at or after a timestamp.
    Timestamp(i64),
    Roll,
    /// Close cleanly (or just drop the writer) and open again.
    Reopen {
        clean: bool,
    },
    /// Lose power: everything was fsynced, so everything must survive.
    PowerLoss(u64),
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        6 => proptest::collection::vec(
            (proptest::option::of(0u8..4), 0usize..300, 0i64..200),
            1..5
        )
        .prop_map(Operation::Append),
        3 => (0u64..=100, 1usize..20)
            .prop_map(|(from_percent, count)| Operation::Read { from_percent, count }),
        2 => (-5i64..205).prop_map(Operation::Timestamp),
        1 => Just(Operation::Roll),
        1 => any::<bool>().prop_map(|clean| Operation::Reopen { clean }),
        1 => any::<u64>().prop_map(Operation::PowerLoss),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ModelRecord {
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    timestamp: i64,
}

fn matches(record: &Record, offset: u64, expected: &ModelRecord) -> bool {
    record.offset == offset
        && record.key == expected.key
        && record.value.as_deref() == Some(expected.value.as_slice())
        && record.timestamp == expected.timestamp
}

fn open(directory: &MemoryDirectory, config: &LogConfig) -> Log {
    let (log, report) = Log::open_in(Arc::new(directory.clone()), config.clone()).expect("open");
    assert!(report.is_whole(), "{report}");
    assert!(report.truncations.is_empty(), "{report}");
    log
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_log_behaves_like_a_vector(
        operations in proptest::collection::vec(operation(), 1..40),
        segment_bytes in 200u64..3000,
        index_interval_bytes in 1u64..600,
    ) {
        let config = LogConfig {
            segment_bytes,
            index_interval_bytes,
            fsync: FsyncPolicy::Always,
            ..LogConfig::default()
        };
        let mut directory = MemoryDirectory::new();
        let mut log = open(&directory, &config);
        let mut model: Vec<ModelRecord> = Vec::new();
        for operation in operations {
            match operation {
                Operation::Append(records) => {
                    let records: Vec<ModelRecord> = records
                        .into_iter()
                        .map(|(key, size, timestamp)| ModelRecord {
                            key: key.map(|key| vec![key; 3]),
                            value: (0..size).map(|byte| (byte + model.len()) as u8).collect(),
                            timestamp,
                        })
                        .collect();
                    let batch: Vec<NewRecord> = records
                        .iter()
                        .map(|record| NewRecord::new(record.key.clone(), record.value.clone(), record.timestamp))
                        .collect();
                    let ack = log.append(&batch).expect("append");
                    prop_assert_eq!(ack.base_offset, model.len() as u64);
                    model.extend(records);
                }
                Operation::Read { from_percent, count } => {
                    let from = model.len() as u64 * from_percent / 100;
                    let records = log.reader().read_records(from, count).expect("read");
                    let expected = model.iter().skip(from as usize).take(count);
                    prop_assert_eq!(records.len(), expected.len());
                    for ((index, wanted), got) in expected.enumerate().zip(&records) {
                        prop_assert!(matches(got, from + index as u64, wanted), "{:?} vs {:?}", got, wanted);
                    }
                }
                Operation::Timestamp(timestamp) => {
                    let expected = model
                        .iter()
                        .position(|record| record.timestamp >= timestamp)
                        .map(|index| index as u64);
                    prop_assert_eq!(log.reader().offset_for_timestamp(timestamp).expect("lookup"), expected);
                }
                Operation::Roll => log.roll().expect("roll"),
                Operation::Reopen { clean } => {
                    if clean {
                        log.close().expect("close");
                    } else {
                        drop(log);
                    }
                    log = open(&directory, &config);
                }
                Operation::PowerLoss(seed) => {
                    drop(log);
                    directory = directory.crash(seed);
                    log = open(&directory, &config);
                }
            }
            prop_assert_eq!(log.end_offset(), model.len() as u64);
        }
        let all = log.reader().read_records(0, usize::MAX).expect("read");
        prop_assert_eq!(all.len(), model.len());
        for (index, (got, wanted)) in all.iter().zip(&model).enumerate() {
            prop_assert!(matches(got, index as u64, wanted));
        }
        log.close().expect("close");
        let verification = inspect::verify_in(&directory).expect("verify");
        prop_assert!(verification.is_ok(), "{}", verification);
    }
}
