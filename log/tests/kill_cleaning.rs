//! Compaction and retention against real process death: a child process (this test
//! binary, run again with `SINEW_LOG_CLEANING_CHILD` set) appends keyed records with
//! an fsync per append, printing each acknowledged offset, and every few appends
//! rolls and compacts (or applies retention), printing when it starts and ends. The
//! parent kills it with SIGKILL, often right as a compaction starts, reopens the log
//! and checks that nothing that should survive is gone: each key's newest
//! acknowledged record (or a newer one) after compaction, every record from the
//! start offset on after retention.
//!
//! The target has its own small runner (`harness = false`, see `harness/mod.rs`):
//! the child's entry point is a plain function, run only when its variable is set,
//! and not a test that passes by doing nothing.

mod common;
mod harness;

use common::{Random, TempDirectory, value_for};
use harness::{ChildRole, Test};
use sinew_log::{Compaction, FsyncPolicy, Log, LogConfig, NewRecord, Record, inspect};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

const CHILD_VARIABLE: &str = "SINEW_LOG_CLEANING_CHILD";
const KILLS: u64 = 40;
const KEYS: u64 = 11;

fn config(compacted: bool) -> LogConfig {
    LogConfig {
        segment_bytes: 4 * 1024,
        index_interval_bytes: 512,
        fsync: FsyncPolicy::Always,
        compaction: compacted.then(|| Compaction {
            tombstone_retention: Duration::from_secs(3600),
            memory_bytes: 4096,
            min_dirty_percent: 0,
        }),
        retention_bytes: (!compacted).then_some(16 * 1024),
        cleaner_interval: None,
        ..LogConfig::default()
    }
}

/// The record at `offset`: keys cycle, every thirteenth is a tombstone.
fn keyed_record(offset: u64) -> NewRecord {
    NewRecord {
        key: Some(format!("key-{}", offset % KEYS).into_bytes()),
        value: (offset % 13 != 5).then(|| value_for(offset)),
        timestamp: offset as i64,
        headers: Vec::new(),
    }
}

fn main() -> ExitCode {
    harness::main(
        ChildRole {
            variable: CHILD_VARIABLE,
            run: child_appends_and_cleans_until_killed,
        },
        &[
            Test {
                name: "compaction_killed_at_any_moment_loses_no_newest_record",
                run: compaction_killed_at_any_moment_loses_no_newest_record,
            },
            Test {
                name: "retention_killed_at_any_moment_keeps_a_whole_suffix",
                run: retention_killed_at_any_moment_keeps_a_whole_suffix,
            },
        ],
    )
}

/// The child's side, given "MODE:DIRECTORY": appends, and every ten appends rolls
/// and compacts (or applies retention), printing "ack LAST_OFFSET", "cleaning" and
/// "cleaned".
fn child_appends_and_cleans_until_killed(setting: OsString) {
    let setting = setting.to_string_lossy().into_owned();
    let (mode, directory) = setting.split_once(':').expect("MODE:DIRECTORY");
    let compacted = mode == "compact";
    let (log, _) = Log::open(directory, config(compacted)).expect("child: open");
    let mut random = Random(log.end_offset() + 1);
    let stdout = std::io::stdout();
    let say = |line: String| {
        let mut out = stdout.lock();
        writeln!(out, "{line}").expect("child: print");
        out.flush().expect("child: flush");
    };
    for round in 0u64.. {
        let next = log.end_offset();
        let count = 1 + random.below(4);
        let records: Vec<NewRecord> = (next..next + count).map(keyed_record).collect();
        let ack = log.append(&records).expect("child: append");
        say(format!("ack {}", ack.last_offset));
        if round % 10 == 9 {
            say("cleaning".into());
            log.roll().expect("child: roll");
            if compacted {
                log.compact(SystemTime::now()).expect("child: compact");
            } else {
                log.apply_retention(SystemTime::now())
                    .expect("child: retention");
            }
            say("cleaned".into());
        }
    }
}

fn spawn_child(mode: &str, directory: &Path) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .env(CHILD_VARIABLE, format!("{mode}:{}", directory.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child")
}

#[derive(Debug)]
enum Line {
    Ack(u64),
    Cleaning,
    Cleaned,
}

/// Runs and kills the child `KILLS` times, calling `check` with the reopened log
/// and the highest acknowledged offset after each kill. Returns how many kills
/// landed between "cleaning" and "cleaned".
fn kill_repeatedly(mode: &str, check: impl Fn(&Log, u64, &str)) -> u64 {
    let temporary = TempDirectory::new(mode);
    let directory = temporary.log();
    let mut random = Random(0xc1ea);
    let mut highest: Option<u64> = None;
    let mut during_cleaning = 0;
    for kill in 0..KILLS {
        let mut child = {
            let _guard = common::fork_guard();
            spawn_child(mode, &directory)
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = mpsc::channel();
        let lines = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let parsed = match line.trim() {
                    "cleaning" => Line::Cleaning,
                    "cleaned" => Line::Cleaned,
                    other => match other.strip_prefix("ack ").map(str::parse) {
                        Some(Ok(offset)) => Line::Ack(offset),
                        _ => continue,
                    },
                };
                if sender.send(parsed).is_err() {
                    break;
                }
            }
        });
        // Kill as a cleaning starts (perhaps after a few more lines), or after a
        // random number of acknowledgements.
        let at_cleaning = random.below(3) != 0;
        let acks_wanted = random.below(25);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut acks = 0;
        let mut cleaning = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(left) {
                Ok(Line::Ack(offset)) => {
                    highest = highest.max(Some(offset));
                    acks += 1;
                    if !at_cleaning && acks >= acks_wanted {
                        break;
                    }
                }
                Ok(Line::Cleaning) => {
                    cleaning = true;
                    if at_cleaning {
                        break;
                    }
                }
                Ok(Line::Cleaned) => cleaning = false,
                Err(error) => panic!("{mode} kill {kill}: the child stopped: {error}"),
            }
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        lines.join().expect("reader thread");
        for line in receiver.try_iter() {
            match line {
                Line::Ack(offset) => highest = highest.max(Some(offset)),
                Line::Cleaning => cleaning = true,
                Line::Cleaned => cleaning = false,
            }
        }
        if cleaning {
            during_cleaning += 1;
        }
        let context = format!("{mode} kill {kill}");
        let guard = common::fork_guard();
        let (log, report) = Log::open(&directory, config(mode == "compact"))
            .unwrap_or_else(|error| panic!("{context}: reopen failed: {error}"));
        assert!(report.is_whole(), "{context}: {report}");
        if let Some(highest) = highest {
            assert!(
                log.end_offset() > highest,
                "{context}: offset {highest} was acknowledged but the log ends at {} ({report})",
                log.end_offset()
            );
            check(&log, highest, &context);
        }
        if kill % 2 == 0 {
            log.close().expect("clean close");
        } else {
            drop(log);
        }
        drop(guard);
    }
    let verification = inspect::verify(&directory).expect("verify");
    assert!(verification.is_ok(), "{mode}: {verification}");
    eprintln!(
        "{mode}: {KILLS} kills, {during_cleaning} while cleaning, highest acknowledged offset {highest:?}"
    );
    during_cleaning
}

fn read_all(log: &Log) -> Vec<Record> {
    let reader = log.reader();
    reader
        .read_records(reader.start_offset(), usize::MAX)
        .expect("read the whole log")
}

fn compaction_killed_at_any_moment_loses_no_newest_record() {
    let during = kill_repeatedly("compact", |log, highest, context| {
        let records = read_all(log);
        let mut previous = None;
        for record in &records {
            assert!(previous.is_none_or(|previous| previous < record.offset));
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
        // For each key, its newest acknowledged record, or a newer one, is there.
        for newest in highest.saturating_sub(KEYS - 1)..=highest {
            let key = keyed_record(newest).key;
            assert!(
                records
                    .iter()
                    .any(|record| record.offset >= newest && record.key == key),
                "{context}: the newest record of {:?} (offset {newest}) is gone",
                key.map(|key| String::from_utf8_lossy(&key).into_owned())
            );
        }
    });
    assert!(during > 0, "no kill landed during a compaction");
}

fn retention_killed_at_any_moment_keeps_a_whole_suffix() {
    let during = kill_repeatedly("retain", |log, _, context| {
        let start = log.start_offset();
        let records = read_all(log);
        assert_eq!(records.len() as u64, log.end_offset() - start, "{context}");
        for (index, record) in records.iter().enumerate() {
            assert_eq!(record.offset, start + index as u64, "{context}");
            assert_eq!(record.value, keyed_record(record.offset).value, "{context}");
        }
    });
    assert!(during > 0, "no kill landed during retention");
}
