//! Every example runs as written, with its default arguments, and exits 0 within
//! a deadline: the topologies in `src/bin/` stay runnable with one command. The
//! HTTP server, which serves until stopped, has its own test (http_server.rs).
//! The embedded broker's output is checked line by line, on a fresh directory and
//! again on the same one.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs the example to its end; returns what it wrote to standard error.
fn run(binary: &str, arguments: &[&str]) -> String {
    let (_, errors) = run_for_output(binary, arguments);
    errors
}

/// Runs the example to its end; returns what it wrote to standard output and
/// standard error.
fn run_for_output(binary: &str, arguments: &[&str]) -> (String, String) {
    let child = Command::new(binary)
        .args(arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example");
    // A watchdog kills the example if it outlives the deadline.
    let pid = child.id().to_string();
    let (finished, watched) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if watched.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            return true;
        }
        false
    });
    let output = child.wait_with_output().expect("wait for the example");
    let _ = finished.send(());
    let killed = watchdog.join().expect("watchdog");
    assert!(!killed, "{binary} did not finish within a minute");
    assert!(
        output.status.success(),
        "{binary} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn pipeline_runs() {
    let errors = run(env!("CARGO_BIN_EXE_pipeline"), &["--tasks", "2000"]);
    // Every worker gets a share, not only the first to connect.
    let shares: Vec<u64> = errors
        .lines()
        .filter(|line| line.starts_with("worker "))
        .filter_map(|line| line.split_whitespace().nth(3)?.parse().ok())
        .collect();
    assert_eq!(shares.len(), 4, "{errors}");
    assert!(shares.iter().all(|&share| share > 0), "{errors}");
    assert_eq!(shares.iter().sum::<u64>(), 2000, "{errors}");
}

#[test]
fn request_reply_broker_runs() {
    run(env!("CARGO_BIN_EXE_request_reply_broker"), &[]);
}

#[test]
fn load_balancing_broker_runs() {
    run(env!("CARGO_BIN_EXE_load_balancing_broker"), &[]);
}

#[test]
fn forwarder_runs() {
    run(env!("CARGO_BIN_EXE_forwarder"), &[]);
}

#[test]
fn embedded_broker_runs_and_keeps_its_records() {
    let data = std::env::temp_dir().join(format!("sinew-examples-embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let binary = env!("CARGO_BIN_EXE_embedded_broker");
    let path = data.to_str().expect("a UTF-8 temporary directory");
    let (first, errors) = run_for_output(binary, &["--data-dir", path]);
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(
        lines,
        [
            "broker serving inproc://sinew-broker",
            "topic greetings created",
            "produced offsets 0..2 (Durable)",
            "record 0 key=en value=hello headers=[trace=t1]",
            "record 1 key=fr value=bonjour headers=[trace=t2]",
            "record 2 key=de value=hallo headers=[trace=t3]",
            "after a restart: the same 3 records",
        ],
        "{errors}"
    );
    // The same directory again: the topic and its records are still there.
    let (second, errors) = run_for_output(binary, &["--data-dir", path]);
    let _ = std::fs::remove_dir_all(&data);
    let lines: Vec<&str> = second.lines().collect();
    assert_eq!(lines[1], "topic greetings exists, using it", "{errors}");
    assert_eq!(lines[2], "produced offsets 3..5 (Durable)", "{errors}");
    assert_eq!(lines.len(), 1 + 1 + 1 + 6 + 1, "{second}");
    assert_eq!(lines[9], "after a restart: the same 6 records", "{second}");
}
