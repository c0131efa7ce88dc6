//! Crash safety against real process death: a child process (this test binary, run
//! again with `SINEW_LOG_KILL_CHILD` set) appends with an fsync per append and
//! prints each acknowledged offset; the parent kills it with SIGKILL at random
//! moments (including during its open and recovery), reopens the log, and checks
//! that every acknowledged record is intact and in order, with nothing else.
//!
//! The target has its own small runner (`harness = false`, see `harness/mod.rs`),
//! so that the child's entry point is a plain function and not a test that passes
//! by doing nothing.

mod common;
mod harness;

use common::{Random, TempDirectory, assert_expected_prefix, read_all, record_for};
use harness::{ChildRole, Test};
use sinew_log::{FsyncPolicy, Log, LogConfig};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD_VARIABLE: &str = "SINEW_LOG_KILL_CHILD";
const KILLS: u64 = 60;

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 8 * 1024,
        index_interval_bytes: 512,
        fsync: FsyncPolicy::Always,
        ..LogConfig::default()
    }
}

fn main() -> ExitCode {
    harness::main(
        ChildRole {
            variable: CHILD_VARIABLE,
            run: child_appends_until_killed,
        },
        &[Test {
            name: "acknowledged_records_survive_sigkill",
            run: acknowledged_records_survive_sigkill,
        }],
    )
}

/// The child's side, in the log `directory`: appends records 1 to 4 at a time,
/// forever, printing "ack LAST_OFFSET" after each durable acknowledgement.
fn child_appends_until_killed(directory: OsString) {
    let (log, _) = Log::open(&directory, config()).expect("child: open");
    let mut random = Random(log.end_offset() + 1);
    let stdout = std::io::stdout();
    loop {
        let next = log.end_offset();
        let count = 1 + random.below(4);
        let records: Vec<_> = (next..next + count).map(record_for).collect();
        let ack = log.append(&records).expect("child: append");
        assert_eq!(ack.base_offset, next);
        let mut out = stdout.lock();
        writeln!(out, "ack {}", ack.last_offset).expect("child: print");
        out.flush().expect("child: flush");
    }
}

fn spawn_child(directory: &std::path::Path) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .env(CHILD_VARIABLE, directory)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child")
}

fn acknowledged_records_survive_sigkill() {
    let temporary = TempDirectory::new("kill");
    let directory = temporary.log();
    let mut random = Random(0x5eed);
    let mut highest_acknowledged: Option<u64> = None;
    let mut acknowledgements = 0u64;
    for kill in 0..KILLS {
        let mut child = spawn_child(&directory);
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = mpsc::channel();
        let lines = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(offset) = line.strip_prefix("ack ")
                    && let Ok(offset) = offset.trim().parse::<u64>()
                    && sender.send(offset).is_err()
                {
                    break;
                }
            }
        });
        // Kill after a random number of acknowledgements; zero kills it while it
        // opens (and perhaps recovers) the log.
        let wait_for = random.below(12);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while (seen.len() as u64) < wait_for {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(left) {
                Ok(offset) => seen.push(offset),
                Err(error) => panic!("kill {kill}: the child stopped acknowledging: {error}"),
            }
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        lines.join().expect("reader thread");
        // Acknowledgements printed before the kill landed count too.
        seen.extend(receiver.try_iter());
        acknowledgements += seen.len() as u64;
        if let Some(&last) = seen.iter().max() {
            highest_acknowledged = highest_acknowledged.max(Some(last));
        }
        // Every few kills, open in this process and check everything.
        if kill % 5 == 4 || kill + 1 == KILLS {
            let (log, report) = Log::open(&directory, config())
                .unwrap_or_else(|error| panic!("kill {kill}: reopen failed: {error}"));
            let records = read_all(&log.reader());
            assert_expected_prefix(&records, &format!("kill {kill} ({report})"));
            let end = records.len() as u64;
            if let Some(highest) = highest_acknowledged {
                assert!(
                    end > highest,
                    "kill {kill}: offset {highest} was acknowledged but the log ends at {end} ({report})"
                );
            }
            if kill % 2 == 0 {
                log.close().expect("clean close");
            }
            // Otherwise dropped: the next child opens an uncleanly shut-down log.
        }
    }
    eprintln!(
        "{KILLS} kills, {acknowledgements} acknowledgements, highest acknowledged offset {highest_acknowledged:?}"
    );
    assert!(
        acknowledgements > KILLS,
        "only {acknowledgements} acknowledgements over {KILLS} kills"
    );
}
