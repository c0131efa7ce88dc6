//! `sinew bench` as scripts use it: with `--json`, exactly one parseable line on
//! stdout carrying the documented keys with sensible values, for every transport,
//! with both ends run by the command itself and with two `--role` processes; and a
//! one-line error with exit 1 for bad arguments.
//!
//! Counts are small so the suite stays quick. These tests must never assert on
//! timing: a figure only has to be positive and finite.

use serde_json::Value;
use std::process::{Command, Output, Stdio};

fn sinew() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sinew"))
}

fn run(arguments: &[&str]) -> Output {
    sinew()
        .arg("bench")
        .args(arguments)
        .stdin(Stdio::null())
        .output()
        .expect("run sinew bench")
}

/// The single JSON line on stdout, parsed.
fn json_line(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "sinew bench failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "expected exactly one line, got {stdout:?}");
    serde_json::from_str(lines[0]).expect("the line is JSON")
}

fn positive(value: &Value, key: &str) -> f64 {
    let number = value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is a number in {value}"));
    assert!(number.is_finite() && number > 0.0, "{key} = {number}");
    number
}

fn check_throughput(value: &Value, transport: &str, size: u64, count: u64) {
    let messages = positive(value, "msgs_per_sec");
    let megabytes = positive(value, "mb_per_sec");
    let expected = messages * size as f64 / 1e6;
    assert!((megabytes - expected).abs() <= expected * 1e-9, "{value}");
    assert_eq!(value["size"], size);
    assert_eq!(value["count"], count);
    assert_eq!(value["transport"], transport);
}

fn check_latency(value: &Value, transport: &str, size: u64, count: u64) {
    let p50 = positive(value, "p50_us");
    let p99 = positive(value, "p99_us");
    let p999 = positive(value, "p999_us");
    positive(value, "mean_us");
    assert!(
        p50 <= p99 && p99 <= p999,
        "percentiles out of order: {value}"
    );
    assert_eq!(value["size"], size);
    assert_eq!(value["count"], count);
    assert_eq!(value["transport"], transport);
}

#[test]
fn throughput_prints_one_json_line_for_every_transport() {
    for transport in ["tcp", "ipc", "inproc"] {
        let output = run(&[
            "thr",
            "--transport",
            transport,
            "--size",
            "100",
            "--count",
            "2000",
            "--json",
        ]);
        check_throughput(&json_line(&output), transport, 100, 2000);
    }
}

#[test]
fn latency_prints_one_json_line_for_every_transport() {
    for transport in ["tcp", "ipc", "inproc"] {
        let output = run(&[
            "lat",
            "--transport",
            transport,
            "--size",
            "10",
            "--count",
            "50",
            "--json",
        ]);
        check_latency(&json_line(&output), transport, 10, 50);
    }
}

#[test]
fn large_messages_go_through() {
    let output = run(&["thr", "--size", "300000", "--count", "20", "--json"]);
    check_throughput(&json_line(&output), "tcp", 300_000, 20);
}

#[test]
fn two_role_processes_measure_across_an_endpoint() {
    let path = std::env::temp_dir().join(format!("sinew-bench-test-{}.ipc", std::process::id()));
    let endpoint = format!("ipc://{}", path.display());
    let receiver = sinew()
        .args(["bench", "thr", "--role", "recv", "--bind", &endpoint])
        .args([
            "--transport",
            "ipc",
            "--size",
            "8",
            "--count",
            "500",
            "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the receiver");
    // Connecting before the bind is fine: the sender reconnects until it exists.
    let sender = run(&[
        "thr",
        "--role",
        "send",
        "--connect",
        &endpoint,
        "--transport",
        "ipc",
        "--size",
        "8",
        "--count",
        "500",
    ]);
    assert!(sender.status.success(), "{sender:?}");
    assert!(
        sender.stdout.is_empty(),
        "the sender prints nothing on stdout"
    );
    let received = receiver.wait_with_output().expect("wait for the receiver");
    check_throughput(&json_line(&received), "ipc", 8, 500);
    let _ = std::fs::remove_file(path);
}

#[test]
fn bad_arguments_exit_1_with_one_line() {
    for arguments in [
        &["thr", "--role", "send"][..],
        &["lat", "--bind", "tcp://127.0.0.1:0"][..],
        &[
            "thr",
            "--transport",
            "inproc",
            "--role",
            "recv",
            "--bind",
            "inproc://x",
        ][..],
        &["thr", "--count", "1"][..],
        &["thr", "--transport", "carrier-pigeon"][..],
    ] {
        let output = run(arguments);
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{arguments:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{arguments:?}: {stderr}");
    }
}
