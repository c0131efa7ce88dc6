//! `sinew group list|describe|reset-offsets` against the real `sinew-broker`
//! (found next to this build's `sinew` binary, built first if needed) on free
//! ports, with real Kafka clients making the group: confluent-kafka produces
//! and a confluent-kafka member consumes and commits
//! (`interop-tests/kafka/clients.py`), kafka-python commits from outside a
//! group and reads back what `sinew group` committed.
//!
//! Every child runs with a deadline (killed past it, failing the test). Waits
//! are for events (a member's JSON lines) or for `describe` to show a state,
//! polled with a deadline; nothing sleeps as a signal and nothing is timed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one command may run, and one wait may last (a group's first
/// rebalance, a member's leaving).
const DEADLINE: Duration = Duration::from_secs(60);

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

fn clients_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/kafka/clients.py")
}

/// A broker on free ports, killed (and its data removed) when dropped.
struct Broker {
    child: Child,
    native: String,
    kafka: String,
    data: PathBuf,
}

impl Broker {
    fn start() -> Broker {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let data = std::env::temp_dir().join(format!(
            "sinew-cli-groups-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut child = Command::new(sinew_broker_binary())
            .args(["--nats", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .args(["--listen", "tcp://127.0.0.1:0", "--kafka", "127.0.0.1:0"])
            .arg("--data-dir")
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
                if line.contains("sinew-broker ready") {
                    let field = |name: &str| {
                        line.split_whitespace()
                            .find_map(|word| word.strip_prefix(name))
                            .map(str::to_owned)
                    };
                    let _ = sender.send((field("native="), field("kafka=")));
                }
            }
        });
        let (native, kafka) = receiver
            .recv_timeout(DEADLINE)
            .expect("sinew-broker announces its endpoints");
        Broker {
            child,
            native: native.expect("a native endpoint"),
            kafka: kafka.expect("a Kafka address"),
            data,
        }
    }

    /// `sinew group ARGUMENTS --bootstrap KAFKA`.
    fn group(&self, arguments: &[&str]) -> Output {
        let mut all = vec!["group"];
        all.extend_from_slice(arguments);
        all.extend_from_slice(&["--bootstrap", &self.kafka]);
        run(Command::new(env!("CARGO_BIN_EXE_sinew")).args(&all))
    }

    /// A topic of `partitions` partitions, made on the native door.
    fn create_topic(&self, topic: &str, partitions: u32) {
        let partitions = partitions.to_string();
        let arguments = ["topic", "create", topic, "--partitions", &partitions];
        ok(&run(Command::new(env!("CARGO_BIN_EXE_sinew"))
            .args(arguments)
            .args(["--broker", &self.native])));
    }

    /// `clients.py ARGUMENTS` with this broker as bootstrap, its JSON answer.
    fn python(&self, command: &str, client: &str, rest: &[&str]) -> Value {
        let output = run(Command::new("python3")
            .arg(clients_script())
            .args([command, client, &self.kafka])
            .args(rest));
        serde_json::from_str(&ok(&output)).expect("clients.py prints JSON")
    }

    /// Produces `count` records to `topic`; each partition's records.
    fn produce(&self, topic: &str, count: usize) -> BTreeMap<u64, i64> {
        let answer = self.python("produce", "confluent", &[topic, &count.to_string()]);
        let mut per_partition = BTreeMap::new();
        for pair in answer["acknowledged"].as_array().expect("acknowledgements") {
            *per_partition.entry(pair[0].as_u64().unwrap()).or_insert(0) += 1;
        }
        per_partition
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Runs a command to its end, with no input, killed and failing past the
/// deadline.
fn run(command: &mut Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    let id = child.id();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(DEADLINE) {
        Ok(output) => output.expect("its output"),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("{command:?} did not finish in time");
        }
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

/// Asserts exit status 1 with one line on stderr and nothing on stdout;
/// returns the line.
fn fails(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}",
        text(&output.stdout)
    );
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

/// A member of a consumer group (`clients.py member`): its events as they
/// arrive; it leaves the group when its stdin closes.
struct Member {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
}

impl Member {
    fn start(broker: &Broker, topic: &str, group: &str) -> Member {
        let mut child = Command::new("python3")
            .arg(clients_script())
            .args(["member", "confluent", &broker.kafka, topic, group])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && sender.send(event).is_err()
                {
                    break;
                }
            }
        });
        Member {
            stdin: child.stdin.take(),
            child,
            events,
        }
    }

    /// Waits for events until `done` says the last one is what was awaited.
    fn wait_for(&self, what: &str, mut done: impl FnMut(&Value) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if done(&event) => return,
                Ok(_) => {}
                Err(_) => panic!("the member did not report {what} in time"),
            }
        }
    }

    /// Closes its stdin: it leaves the group, says so, and exits.
    fn leave(mut self) {
        drop(self.stdin.take());
        self.wait_for("leaving", |event| event["event"] == "closed");
        let _ = self.child.wait();
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `describe`'s three parts: the group line, the members' rows and the
/// partitions' rows (each row split on whitespace, headers dropped).
struct Described {
    group: String,
    members: Vec<Vec<String>>,
    partitions: Vec<Vec<String>>,
}

impl Described {
    fn parse(stdout: &str) -> Described {
        let parts: Vec<&str> = stdout.split("\n\n").collect();
        assert_eq!(parts.len(), 3, "three parts: {stdout}");
        let rows = |part: &str, header: &str| -> Vec<Vec<String>> {
            let mut lines = part.lines();
            assert!(lines.next().unwrap().starts_with(header), "{part}");
            lines
                .map(|line| line.split_whitespace().map(str::to_owned).collect())
                .collect()
        };
        Described {
            group: parts[0].trim().to_owned(),
            members: rows(parts[1], "MEMBER-ID"),
            partitions: rows(parts[2], "TOPIC"),
        }
    }

    /// COMMITTED, END and LAG of each partition of `topic`.
    fn offsets(&self, topic: &str) -> BTreeMap<u64, [String; 3]> {
        self.partitions
            .iter()
            .filter(|row| row[0] == topic)
            .map(|row| {
                let partition = row[1].parse().unwrap();
                (partition, [row[2].clone(), row[3].clone(), row[4].clone()])
            })
            .collect()
    }
}

/// Describes `group` until `done` holds for what is shown; fails at the
/// deadline with the last description.
fn describe_until(broker: &Broker, group: &str, done: impl Fn(&Described) -> bool) -> Described {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let output = broker.group(&["describe", group]);
        let stdout = ok(&output);
        let described = Described::parse(&stdout);
        if done(&described) {
            return described;
        }
        // Each round is a whole `sinew group describe` (a process and its
        // requests): no pause between rounds is needed.
        assert!(Instant::now() < deadline, "never reached: {stdout}");
    }
}

/// Each partition's expected [committed, end, lag], as `describe` prints them.
fn expected(
    committed: &BTreeMap<u64, i64>,
    ends: &BTreeMap<u64, i64>,
) -> BTreeMap<u64, [String; 3]> {
    ends.iter()
        .map(|(partition, end)| {
            let committed = committed.get(partition).copied().unwrap_or(0);
            let row = [
                committed.to_string(),
                end.to_string(),
                (end - committed).to_string(),
            ];
            (*partition, row)
        })
        .collect()
}

fn added(a: &BTreeMap<u64, i64>, b: &BTreeMap<u64, i64>) -> BTreeMap<u64, i64> {
    let mut sum = a.clone();
    for (partition, count) in b {
        *sum.entry(*partition).or_insert(0) += count;
    }
    sum
}

#[test]
fn a_live_group_is_listed_described_refused_a_reset_and_reset_once_its_member_leaves() {
    let broker = Broker::start();
    broker.create_topic("orders", 3);
    let first = broker.produce("orders", 30);
    let ends: BTreeMap<u64, i64> = (0..3)
        .map(|p| (p, first.get(&p).copied().unwrap_or(0)))
        .collect();

    let member = Member::start(&broker, "orders", "audit");
    let mut consumed = 0;
    member.wait_for("30 records", |event| {
        consumed += usize::from(event["event"] == "record");
        consumed == 30
    });
    // Each record is committed after it is reported: wait for the last commit.
    let live = describe_until(&broker, "audit", |described| {
        described.offsets("orders") == expected(&ends, &ends)
    });
    assert!(
        live.group
            .starts_with("group audit state=Stable protocol-type=consumer protocol="),
        "{}",
        live.group
    );
    assert!(live.group.ends_with("members=1"), "{}", live.group);
    assert_eq!(live.members.len(), 1, "{:?}", live.members);
    let member_row = &live.members[0];
    let member_id = member_row[0].clone();
    assert!(member_id.starts_with("rdkafka-"), "{member_row:?}");
    assert_eq!(member_row[1], "rdkafka");
    assert!(member_row[2].contains("127.0.0.1"), "{member_row:?}");
    assert_eq!(member_row[3], "orders:0,1,2");
    for row in &live.partitions {
        assert_eq!(row[5], member_id, "each partition is the member's: {row:?}");
    }

    let listed = ok(&broker.group(&["list"]));
    let lines: Vec<Vec<&str>> = listed
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["GROUP", "STATE", "PROTOCOL-TYPE"]);
    assert!(
        lines.contains(&vec!["audit", "Stable", "consumer"]),
        "{listed}"
    );

    let refused = fails(&broker.group(&[
        "reset-offsets",
        "audit",
        "--topic",
        "orders",
        "--to-earliest",
    ]));
    assert!(
        refused.contains("inactive") && refused.contains("Stable"),
        "{refused}"
    );

    member.leave();
    let left = describe_until(&broker, "audit", |described| {
        described.group.contains("state=Empty")
    });
    // The coordinator forgets an empty group's protocol type (Kafka keeps it).
    assert!(
        left.group.starts_with("group audit state=Empty "),
        "{}",
        left.group
    );
    assert!(
        left.group.ends_with(" protocol=- members=0"),
        "{}",
        left.group
    );
    assert!(left.members.is_empty());

    // Records produced after the member left are its lag.
    let more = broker.produce("orders", 12);
    let new_ends = added(&ends, &more);
    let lagging = Described::parse(&ok(&broker.group(&["describe", "audit"])));
    assert_eq!(lagging.offsets("orders"), expected(&ends, &new_ends));
    assert!(lagging.partitions.iter().all(|row| row[5] == "-"));

    let reset = [
        "reset-offsets",
        "audit",
        "--topic",
        "orders",
        "--to-earliest",
    ];
    let dry = ok(&broker.group(&[&reset[..], &["--dry-run"]].concat()));
    let zeros = "TOPIC   PARTITION  NEW-OFFSET\norders  0          0\norders  1          0\norders  2          0\n";
    assert_eq!(dry, zeros);
    let unchanged = Described::parse(&ok(&broker.group(&["describe", "audit"])));
    assert_eq!(
        unchanged.offsets("orders"),
        expected(&ends, &new_ends),
        "a dry run commits nothing"
    );

    assert_eq!(ok(&broker.group(&reset)), zeros);
    let reset_group = Described::parse(&ok(&broker.group(&["describe", "audit"])));
    assert_eq!(
        reset_group.offsets("orders"),
        expected(&BTreeMap::new(), &new_ends),
        "lag = end"
    );
    // Another client reads the same commits.
    let read_back = broker.python("committed", "kafka-python", &["orders", "audit", "3"]);
    assert_eq!(
        read_back["offsets"],
        serde_json::json!({"0": 0, "1": 0, "2": 0})
    );
}

#[test]
fn offsets_are_reset_to_an_offset_or_the_end_on_chosen_partitions() {
    let broker = Broker::start();
    broker.create_topic("ledger", 2);
    let produced = broker.produce("ledger", 20);
    let ends: BTreeMap<u64, i64> = (0..2)
        .map(|p| (p, produced.get(&p).copied().unwrap_or(0)))
        .collect();
    assert!(
        ends.values().all(|end| *end >= 2),
        "both partitions hold records: {ends:?}"
    );
    broker.python("commit", "kafka-python", &["ledger", "books", "0=1", "1=1"]);
    let ones: BTreeMap<u64, i64> = [(0, 1), (1, 1)].into();
    let described = describe_until(&broker, "books", |described| {
        !described.partitions.is_empty()
    });
    assert!(
        described.group.starts_with("group books state=Empty"),
        "{}",
        described.group
    );
    assert_eq!(described.offsets("ledger"), expected(&ones, &ends));

    let one = [
        "reset-offsets",
        "books",
        "--topic",
        "ledger",
        "--partitions",
        "1",
        "--to-offset",
        "2",
    ];
    assert_eq!(
        ok(&broker.group(&one)),
        "TOPIC   PARTITION  NEW-OFFSET\nledger  1          2\n"
    );
    let moved: BTreeMap<u64, i64> = [(0, 1), (1, 2)].into();
    let after = Described::parse(&ok(&broker.group(&["describe", "books"])));
    assert_eq!(after.offsets("ledger"), expected(&moved, &ends));

    // Past the end is the end, as Kafka's tool clamps it.
    let past = [
        "reset-offsets",
        "books",
        "--topic",
        "ledger",
        "--partitions",
        "0",
        "--to-offset",
        "1000000",
    ];
    let clamped = ok(&broker.group(&past));
    assert_eq!(
        clamped,
        format!(
            "TOPIC   PARTITION  NEW-OFFSET\nledger  0          {}\n",
            ends[&0]
        )
    );

    let latest = ["reset-offsets", "books", "--topic", "ledger", "--to-latest"];
    ok(&broker.group(&latest));
    let caught_up = Described::parse(&ok(&broker.group(&["describe", "books"])));
    assert_eq!(caught_up.offsets("ledger"), expected(&ends, &ends));
    let listed = ok(&broker.group(&["list"]));
    assert!(
        listed.lines().any(|line| line.starts_with("books ")),
        "{listed}"
    );
}

#[test]
fn failures_are_one_line_on_stderr_with_exit_status_1() {
    let broker = Broker::start();
    broker.create_topic("orders", 2);
    let sinew = |arguments: &[&str]| run(Command::new(env!("CARGO_BIN_EXE_sinew")).args(arguments));

    // Nothing listens on port 1 of the loopback.
    let refused = fails(&sinew(&["group", "list", "--bootstrap", "127.0.0.1:1"]));
    assert!(
        refused.starts_with("sinew group: cannot connect to 127.0.0.1:1"),
        "{refused}"
    );
    let invalid = fails(&sinew(&["group", "list", "--bootstrap", "nowhere"]));
    assert!(invalid.contains("expected HOST:PORT"), "{invalid}");

    let unknown = fails(&broker.group(&["describe", "nobody"]));
    assert_eq!(unknown, "sinew group: group nobody does not exist\n");
    let no_topic =
        fails(&broker.group(&["reset-offsets", "g", "--topic", "missing", "--to-latest"]));
    assert!(
        no_topic.contains("UNKNOWN_TOPIC_OR_PARTITION (3)"),
        "{no_topic}"
    );
    let no_partition = [
        "reset-offsets",
        "g",
        "--topic",
        "orders",
        "--partitions",
        "0,7",
        "--to-latest",
    ];
    let no_partition = fails(&broker.group(&no_partition));
    assert_eq!(
        no_partition,
        "sinew group: topic orders has no partition 7\n"
    );
    let two = fails(&broker.group(&[
        "reset-offsets",
        "g",
        "--topic",
        "orders",
        "--to-latest",
        "--to-earliest",
    ]));
    assert!(two.starts_with("sinew: "), "{two}");
    let none = fails(&broker.group(&["reset-offsets", "g", "--topic", "orders"]));
    assert!(none.starts_with("sinew: "), "{none}");
    // Nothing was committed for g by the refused resets.
    let untouched = fails(&broker.group(&["describe", "g"]));
    assert_eq!(untouched, "sinew group: group g does not exist\n");
}
