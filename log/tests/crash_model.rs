//! Crash safety with the in-memory crash model: a workload is cut at every one of
//! its disk operations, the unsynced writes are torn, reordered and zero-filled, and
//! the log that reopens must hold every record acknowledged as durable and nothing
//! that was never appended. A crash during that recovery is tested the same way.

mod common;

use common::{Random, assert_expected_prefix, read_all, record_for};
use sinew_log::{Durability, FsyncPolicy, Log, LogConfig, MemoryDirectory};
use std::sync::Arc;

fn config() -> LogConfig {
    config_with(FsyncPolicy::Always)
}

fn config_with(fsync: FsyncPolicy) -> LogConfig {
    LogConfig {
        segment_bytes: 1500,
        index_interval_bytes: 200,
        fsync,
        ..LogConfig::default()
    }
}

/// What a workload did before the power went.
#[derive(Debug, Default)]
struct Outcome {
    /// Records whose append was called (acknowledged or not), in offset order.
    attempted: u64,
    /// Records acknowledged as durable.
    durable: u64,
}

/// Opens the log, appends batches of one to three records, closes cleanly halfway
/// and reopens, then appends more. Stops at the first error (the power is gone).
fn workload(directory: &MemoryDirectory, outcome: &mut Outcome) {
    workload_with(directory, outcome, FsyncPolicy::Always);
}

/// `workload` under any policy; with `Never` it calls `Log::sync` after every
/// third append, and what that sync covered counts as durable.
fn workload_with(directory: &MemoryDirectory, outcome: &mut Outcome, policy: FsyncPolicy) {
    let mut random = Random(7);
    for phase in 0..2 {
        let Ok((log, _)) = Log::open_in(Arc::new(directory.clone()), config_with(policy)) else {
            return;
        };
        for _ in 0..8 {
            let count = 1 + random.below(3);
            let records: Vec<_> = (outcome.attempted..outcome.attempted + count)
                .map(record_for)
                .collect();
            outcome.attempted += count;
            match log.append(&records) {
                Ok(ack) if ack.durability == Durability::Durable => {
                    assert_eq!(ack.last_offset + 1, outcome.attempted);
                    outcome.durable = outcome.attempted;
                }
                Ok(ack) => {
                    assert_eq!(ack.last_offset + 1, outcome.attempted);
                    if random.below(3) == 0 {
                        match log.sync() {
                            Ok(end) => outcome.durable = end,
                            Err(_) => return,
                        }
                    }
                }
                Err(_) => return,
            }
        }
        if phase == 0 && log.close().is_err() {
            return;
        }
    }
}

/// Reopens a crashed directory and checks the recovered log against the outcome.
fn check_recovery(directory: &MemoryDirectory, outcome: &Outcome, context: &str) {
    let (log, report) = Log::open_in(Arc::new(directory.clone()), config())
        .unwrap_or_else(|error| panic!("{context}: reopening failed: {error}"));
    let records = read_all(&log.reader());
    assert_expected_prefix(&records, context);
    let count = records.len() as u64;
    assert!(
        count >= outcome.durable,
        "{context}: {} durable records, {count} survived ({report})",
        outcome.durable
    );
    assert!(
        count <= outcome.attempted,
        "{context}: {count} records but only {} were appended",
        outcome.attempted
    );
    assert_eq!(log.end_offset(), count, "{context}");
    // The recovered log takes appends and reads them back.
    log.append(&[record_for(count)])
        .unwrap_or_else(|error| panic!("{context}: append after recovery: {error}"));
    assert_eq!(read_all(&log.reader()).len() as u64, count + 1, "{context}");
    log.close()
        .unwrap_or_else(|error| panic!("{context}: close: {error}"));
    let verification = sinew_log::inspect::verify_in(directory).expect("verify");
    assert!(verification.is_ok(), "{context}: {verification}");
}

#[test]
fn every_durable_record_survives_a_crash_at_every_write() {
    let full = MemoryDirectory::new();
    let mut outcome = Outcome::default();
    workload(&full, &mut outcome);
    let total = full.operations();
    assert!(outcome.durable > 20, "the workload appended {outcome:?}");
    assert!(total > 100, "only {total} operations");
    for cut in 0..=total {
        for seed in 0..4 {
            let directory = MemoryDirectory::new();
            directory.cut_power_after(cut);
            let mut outcome = Outcome::default();
            workload(&directory, &mut outcome);
            let crashed = directory.crash(cut * 1000 + seed);
            check_recovery(&crashed, &outcome, &format!("cut {cut} seed {seed}"));
        }
    }
}

#[test]
fn explicitly_synced_records_survive_a_crash_at_every_write() {
    let full = MemoryDirectory::new();
    let mut outcome = Outcome::default();
    workload_with(&full, &mut outcome, FsyncPolicy::Never);
    let total = full.operations();
    assert!(outcome.durable > 10, "the workload synced {outcome:?}");
    for cut in 0..=total {
        for seed in 0..4 {
            let directory = MemoryDirectory::new();
            directory.cut_power_after(cut);
            let mut outcome = Outcome::default();
            workload_with(&directory, &mut outcome, FsyncPolicy::Never);
            let crashed = directory.crash(cut * 1000 + seed);
            check_recovery(&crashed, &outcome, &format!("never: cut {cut} seed {seed}"));
        }
    }
}

#[test]
fn a_crash_during_recovery_loses_nothing_durable() {
    let mut random = Random(11);
    for round in 0..40u64 {
        // Crash once somewhere in the workload.
        let first = MemoryDirectory::new();
        let mut probe = Outcome::default();
        workload(&first, &mut probe);
        let cut = random.below(first.operations());
        let directory = MemoryDirectory::new();
        directory.cut_power_after(cut);
        let mut outcome = Outcome::default();
        workload(&directory, &mut outcome);
        let crashed = directory.crash(round);
        // Measure the recovery, then crash it at every step.
        let trial = crashed.crash(u64::MAX);
        let recovery_operations = match Log::open_in(Arc::new(trial.clone()), config()) {
            Ok((log, _)) => {
                drop(log);
                trial.operations()
            }
            Err(error) => panic!("round {round}: {error}"),
        };
        for step in 0..recovery_operations {
            let attempt = crashed.crash(u64::MAX);
            attempt.cut_power_after(step);
            let _ = Log::open_in(Arc::new(attempt.clone()), config());
            let again = attempt.crash(round * 100 + step);
            check_recovery(
                &again,
                &outcome,
                &format!("round {round} recovery step {step}"),
            );
        }
    }
}
