//! `sinew topic`, `sinew produce` and `sinew consume` against the real
//! `sinew-broker` (found next to this build's `sinew` binary, built first if a
//! test run of this package alone did not build it), on a free port and a
//! temporary data directory: topics administered, lines produced with each
//! acknowledgement level and `--report`ed, then consumed back with
//! `--exit-at-end` and kcat formats from each start position; exit codes for
//! every failure.
//!
//! Every child runs with a deadline (killed past it, failing the test); nothing
//! sleeps. Reaching the end is the broker's answer, never a silence.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sinew_broker::client::native::{Producer, ProducerConfig, ProducerRecord};

const DEADLINE: Duration = Duration::from_secs(20);

/// The sinew-broker binary of this build.
fn sinew_broker_binary() -> PathBuf {
    let binary = Path::new(env!("CARGO_BIN_EXE_sinew")).with_file_name("sinew-broker");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let built = Command::new(cargo)
            .args(["build", "-p", "sinew-broker", "--bin", "sinew-broker"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cargo build -p sinew-broker failed");
    }
    binary
}

/// A broker on a free port, killed (and its data removed) when dropped.
struct Broker {
    child: Child,
    endpoint: String,
    data: PathBuf,
}

impl Broker {
    fn start() -> Broker {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let data = std::env::temp_dir().join(format!(
            "sinew-cli-topics-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut child = Command::new(sinew_broker_binary())
            .args([
                "--nats",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
                "--listen",
                "tcp://127.0.0.1:0",
                "--kafka",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sinew-broker starts");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads the log to its end, so the broker never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("sinew-broker ready")
                    && let Some(native) = line
                        .split_whitespace()
                        .find_map(|word| word.strip_prefix("native="))
                {
                    let _ = sender.send(native.to_owned());
                }
            }
        });
        let endpoint = receiver
            .recv_timeout(DEADLINE)
            .expect("sinew-broker announces its native endpoint");
        Broker {
            child,
            endpoint,
            data,
        }
    }

    /// Runs `sinew ARGUMENTS --broker ENDPOINT` with `input` on stdin.
    fn sinew(&self, arguments: &[&str], input: &str) -> Output {
        sinew_at(&self.endpoint, arguments, input)
    }
}

/// Runs `sinew ARGUMENTS --broker ENDPOINT` with `input` on stdin, killed and
/// failing the test past the deadline.
fn sinew_at(endpoint: &str, arguments: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sinew"))
        .args(arguments)
        .args(["--broker", endpoint])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sinew runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let id = child.id();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let output = match receiver.recv_timeout(DEADLINE) {
        Ok(output) => output.expect("sinew's output"),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("sinew {arguments:?} did not finish in time");
        }
    };
    let _ = writer.join();
    output
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success; returns stdout.
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status.code(),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Asserts exit status 1 with a message on stderr; returns it.
fn fails(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}",
        text(&output.stdout)
    );
    let stderr = text(&output.stderr);
    assert!(!stderr.is_empty());
    stderr
}

fn sorted_lines(output: &str) -> Vec<String> {
    let mut lines: Vec<String> = output.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn topics_are_created_listed_described_and_deleted() {
    let broker = Broker::start();
    let create = [
        "topic",
        "create",
        "orders",
        "--partitions",
        "3",
        "--retention-ms",
        "60000",
        "--retention-bytes",
        "1048576",
    ];
    assert_eq!(ok(&broker.sinew(&create, "")), "");
    let compacted = ["topic", "create", "users", "--partitions", "1", "--compact"];
    assert_eq!(ok(&broker.sinew(&compacted, "")), "");
    assert!(fails(&broker.sinew(&create, "")).contains("TOPIC_EXISTS (22)"));

    let listed = ok(&broker.sinew(&["topic", "list"], ""));
    assert_eq!(
        listed,
        "orders partitions=3 compacted=false\nusers partitions=1 compacted=true\n"
    );
    let described = ok(&broker.sinew(&["topic", "describe", "orders"], ""));
    let lines: Vec<&str> = described.lines().collect();
    assert_eq!(
        lines,
        [
            "topic orders partitions=3 compacted=false ack-policy=none visibility=durable \
             retention-ms=60000 retention-bytes=1048576 flush-interval-ms=0",
            "partition 0 start=0 end=0 durable=0 size=0",
            "partition 1 start=0 end=0 durable=0 size=0",
            "partition 2 start=0 end=0 durable=0 size=0",
        ]
    );

    let policies = [
        "topic",
        "create",
        "strict",
        "--partitions",
        "1",
        "--ack-policy",
        "durable",
        "--visibility",
        "written",
        "--flush-interval-ms",
        "100",
    ];
    ok(&broker.sinew(&policies, ""));
    let described = ok(&broker.sinew(&["topic", "describe", "strict"], ""));
    assert!(
        described.starts_with(
            "topic strict partitions=1 compacted=false ack-policy=durable visibility=written \
             retention-ms=-1 retention-bytes=-1 flush-interval-ms=100\n"
        ),
        "{described}"
    );
    ok(&broker.sinew(&["topic", "delete", "strict"], ""));

    assert_eq!(ok(&broker.sinew(&["topic", "delete", "orders"], "")), "");
    assert!(fails(&broker.sinew(&["topic", "describe", "orders"], "")).contains("UNKNOWN_TOPIC"));
    assert!(fails(&broker.sinew(&["topic", "delete", "orders"], "")).contains("UNKNOWN_TOPIC"));
    assert_eq!(
        ok(&broker.sinew(&["topic", "list"], "")),
        "users partitions=1 compacted=true\n"
    );
    fails(&broker.sinew(&["topic", "create", "bad name", "--partitions", "1"], ""));
    fails(&broker.sinew(&["topic", "create", "none", "--partitions", "0"], ""));
}

#[test]
fn lines_produced_with_each_acknowledgement_level_are_reported_and_consumed_back() {
    let broker = Broker::start();
    ok(&broker.sinew(&["topic", "create", "events", "--partitions", "3"], ""));
    let mut expected = Vec::new();
    for (acks, lines) in [
        ("durable", ["alice:one", "bob:two", "carol:three"]),
        ("written", ["alice:four", "bob:five", "carol:six"]),
        ("none", ["alice:seven", "bob:eight", "carol:nine"]),
    ] {
        let input = lines.join("\n") + "\n";
        let arguments = [
            "produce",
            "events",
            "--key-delimiter",
            ":",
            "--acks",
            acks,
            "--report",
        ];
        let report = ok(&broker.sinew(&arguments, &input));
        let reported = sorted_lines(&report);
        assert_eq!(reported.len(), 3, "{report}");
        for line in lines {
            let (key, _) = line.split_once(':').expect("a key");
            let partition =
                sinew_broker::kafka::partition_for_key(key.as_bytes(), 3).expect("a partition");
            let entry = reported
                .iter()
                .find(|entry| entry.ends_with(&format!(" {line}")))
                .unwrap_or_else(|| panic!("{line} not reported: {report}"));
            let fields: Vec<&str> = entry.splitn(3, ' ').collect();
            assert_eq!(fields[0], partition.to_string(), "{entry}");
            if acks == "none" {
                assert_eq!(fields[1], "-1", "acks none has no offset: {entry}");
            } else {
                assert!(fields[1].parse::<u64>().is_ok(), "{entry}");
            }
            expected.push((
                partition,
                key.to_owned(),
                line.split_once(':').expect("v").1.to_owned(),
            ));
        }
    }
    // `--count`, not `--exit-at-end`: the topic shows consumers durable records
    // only, and the last three were not acknowledged as durable, so they may
    // still wait for their fsync when the consumer starts.
    let consumed = ok(&broker.sinew(
        &[
            "consume",
            "events",
            "--count",
            "9",
            "--format",
            "%t|%p|%o|%k|%s\\n",
        ],
        "",
    ));
    let mut rows: Vec<(u32, u64, String, String)> = consumed
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('|').collect();
            assert_eq!(fields.len(), 5, "{line}");
            assert_eq!(fields[0], "events");
            (
                fields[1].parse().expect("partition"),
                fields[2].parse().expect("offset"),
                fields[3].to_owned(),
                fields[4].to_owned(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(rows.len(), 9, "{consumed}");
    // Each key's records in its partition, in the order produced, offsets from 0.
    for key in ["alice", "bob", "carol"] {
        let partition = sinew_broker::kafka::partition_for_key(key.as_bytes(), 3).expect("p");
        let values: Vec<&str> = rows
            .iter()
            .filter(|row| row.2 == key)
            .map(|row| {
                assert_eq!(row.0, partition);
                row.3.as_str()
            })
            .collect();
        let produced: Vec<&str> = expected
            .iter()
            .filter(|entry| entry.1 == key)
            .map(|entry| entry.2.as_str())
            .collect();
        assert_eq!(values, produced, "{key}");
    }
    for partition in 0..3u32 {
        let offsets: Vec<u64> = rows
            .iter()
            .filter(|row| row.0 == partition)
            .map(|row| row.1)
            .collect();
        let count = offsets.len() as u64;
        assert_eq!(
            offsets,
            (0..count).collect::<Vec<_>>(),
            "partition {partition}"
        );
    }
}

#[test]
fn consume_starts_from_each_position_and_stops_at_a_count() {
    let broker = Broker::start();
    ok(&broker.sinew(&["topic", "create", "timed", "--partitions", "1"], ""));
    let mut producer =
        Producer::connect(&broker.endpoint, ProducerConfig::default()).expect("connect");
    for (value, timestamp) in [("first", 1_000), ("second", 2_000), ("third", 3_000)] {
        let record = ProducerRecord::new("timed", value)
            .key("k")
            .partition(0)
            .timestamp(timestamp);
        producer.send(record).expect("send");
    }
    let deliveries = producer.flush(DEADLINE).expect("flush");
    assert!(deliveries.iter().all(|delivery| delivery.result.is_ok()));

    let consume = |from: &str, extra: &[&str]| {
        let mut arguments = vec![
            "consume",
            "timed",
            "--from",
            from,
            "--format",
            "%o %T %s\\n",
        ];
        arguments.extend_from_slice(extra);
        broker.sinew(&arguments, "")
    };
    let all = "0 1000 first\n1 2000 second\n2 3000 third\n";
    assert_eq!(ok(&consume("earliest", &["--exit-at-end"])), all);
    assert_eq!(
        ok(&consume(
            "beginning",
            &["--exit-at-end", "--partition", "0"]
        )),
        all
    );
    assert_eq!(
        ok(&consume("1", &["--exit-at-end"])),
        "1 2000 second\n2 3000 third\n"
    );
    assert_eq!(
        ok(&consume("@1500", &["--exit-at-end"])),
        "1 2000 second\n2 3000 third\n"
    );
    assert_eq!(ok(&consume("@9999", &["--exit-at-end"])), "");
    assert_eq!(ok(&consume("latest", &["--exit-at-end"])), "");
    // --count stops without waiting for the end.
    assert_eq!(
        ok(&consume("earliest", &["--count", "2"])),
        "0 1000 first\n1 2000 second\n"
    );
    // The default format is the value and a newline; %k, %h and %% too.
    assert_eq!(
        ok(&broker.sinew(&["consume", "timed", "--exit-at-end", "--count", "1"], "")),
        "first\n"
    );
    let custom = [
        "consume",
        "timed",
        "--from",
        "2",
        "--exit-at-end",
        "--format",
        "%k\\t%s [%h] 100%%\\n",
    ];
    assert_eq!(ok(&broker.sinew(&custom, "")), "k\tthird [] 100%\n");

    assert!(fails(&consume("99", &["--exit-at-end"])).contains("OFFSET_OUT_OF_RANGE (24)"));
    assert!(fails(&consume("soon", &["--exit-at-end"])).contains("--from"));
    let bad_format = broker.sinew(&["consume", "timed", "--format", "%q"], "");
    assert!(fails(&bad_format).contains("%q"));
    assert!(fails(&consume("earliest", &["--partition", "7"])).contains("partition 7"));
    let missing = broker.sinew(&["consume", "missing", "--exit-at-end"], "");
    assert!(fails(&missing).contains("UNKNOWN_TOPIC (20)"));
}

#[test]
fn produce_fails_with_exit_1_when_records_are_not_acknowledged() {
    let broker = Broker::start();
    let missing = broker.sinew(&["produce", "missing", "--report"], "a\nb\n");
    assert!(fails(&missing).contains("UNKNOWN_TOPIC (20)"));
    assert_eq!(text(&missing.stdout), "", "nothing reported");

    ok(&broker.sinew(
        &["topic", "create", "keys", "--partitions", "2", "--compact"],
        "",
    ));
    // A compacted topic refuses records without a key: a failure, not reported.
    let refused = broker.sinew(
        &["produce", "keys", "--report", "--partition", "0"],
        "no key\n",
    );
    let stderr = fails(&refused);
    assert!(stderr.contains("INVALID_RECORD (12)"), "{stderr}");
    assert_eq!(
        text(&refused.stdout),
        "",
        "the refused line is not reported"
    );
    let beyond = broker.sinew(&["produce", "keys", "--partition", "5"], "x\n");
    assert!(fails(&beyond).contains("no partition 5"));
    let good = broker.sinew(
        &[
            "produce",
            "keys",
            "--key-delimiter",
            "=",
            "--report",
            "--partition",
            "0",
        ],
        "good=1\n",
    );
    assert_eq!(ok(&good), "0 0 good=1\n");
    // The topic holds only what was acknowledged.
    let kept = ok(&broker.sinew(
        &[
            "consume",
            "keys",
            "--exit-at-end",
            "--format",
            "%p %o %k=%s\\n",
        ],
        "",
    ));
    assert_eq!(kept, "0 0 good=1\n");
}

#[test]
fn a_broker_that_never_answers_is_a_time_out_and_exit_1() {
    // A TCP listener that accepts and says nothing: no ZMTP greeting, no answer.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("tcp://{}", silent.local_addr().expect("address"));
    for arguments in [
        vec!["topic", "list"],
        vec!["produce", "events"],
        vec!["consume", "events", "--exit-at-end"],
    ] {
        let mut arguments = arguments;
        arguments.extend(["--timeout", "200"]);
        let output = sinew_at(&endpoint, &arguments, "");
        let stderr = fails(&output);
        assert!(stderr.contains("timed out"), "{arguments:?}: {stderr}");
    }
}

/// A `sinew` child whose stdout lines arrive on a channel.
struct Streaming {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Streaming {
    fn start(endpoint: &str, arguments: &[&str]) -> Streaming {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sinew"))
            .args(arguments)
            .args(["--broker", endpoint])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sinew runs");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Streaming { child, lines }
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(DEADLINE)
            .expect("a line before the deadline")
    }

    /// Closes stdin and waits (with the deadline) for the exit status.
    fn finish(mut self) -> Option<i32> {
        drop(self.child.stdin.take());
        let (sender, receiver) = mpsc::channel();
        let mut child = self.child;
        std::thread::spawn(move || {
            let _ = sender.send(child.wait().map(|status| status.code()));
        });
        receiver
            .recv_timeout(DEADLINE)
            .expect("exits before the deadline")
            .expect("wait")
    }
}

#[test]
fn produce_reports_each_line_while_stdin_stays_open() {
    let broker = Broker::start();
    ok(&broker.sinew(&["topic", "create", "live", "--partitions", "1"], ""));
    let mut producer = Streaming::start(&broker.endpoint, &["produce", "live", "--report"]);
    let mut stdin = producer.child.stdin.take().expect("stdin");
    for (offset, line) in ["first", "second"].iter().enumerate() {
        // Each line is sent and acknowledged with stdin still open.
        writeln!(stdin, "{line}").expect("write");
        stdin.flush().expect("flush");
        assert_eq!(producer.next_line(), format!("0 {offset} {line}"));
    }
    producer.child.stdin = Some(stdin);
    assert_eq!(producer.finish(), Some(0));
}

#[test]
fn consume_waits_for_records_produced_after_it_started() {
    let broker = Broker::start();
    ok(&broker.sinew(&["topic", "create", "later", "--partitions", "1"], ""));
    ok(&broker.sinew(&["produce", "later"], "a\nb\n"));
    // Offset 2 is the end: valid, and there is nothing yet, so it waits.
    let consumer = Streaming::start(
        &broker.endpoint,
        &[
            "consume", "later", "--from", "2", "--count", "2", "--format", "%o %s\\n",
        ],
    );
    ok(&broker.sinew(&["produce", "later"], "c\nd\n"));
    assert_eq!(consumer.next_line(), "2 c");
    assert_eq!(consumer.next_line(), "3 d");
    assert_eq!(consumer.finish(), Some(0));
}
