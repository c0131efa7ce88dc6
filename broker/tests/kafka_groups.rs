//! A Kafka consumer group of three real clients on sinew-broker's coordinator:
//! two confluent-kafka (librdkafka) members and one kafka-python member in one
//! group, joining one by one, one leaving, one killed with SIGKILL. Each member
//! commits after processing (`interop-tests/kafka/clients.py member`) and
//! reports its assignments and records with CLOCK_MONOTONIC times. The test
//! checks that every partition is owned by exactly one member at a time (no two
//! members' ownership intervals of a partition overlap, and each stable
//! assignment covers every partition once) and that no record is lost across
//! the rebalances. Waits have deadlines; nothing sleeps.

mod util;

use serde_json::Value;
use sinew_broker::client::native::{
    Admin, Producer, ProducerConfig, ProducerRecord, TopicSettings,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};
use util::sinew_broker;

const PARTITIONS: u32 = 6;
const TOPIC: &str = "grouped";
/// Rebalances, and a killed member's session (6 s), end well inside this.
const PHASE: Duration = Duration::from_secs(60);

/// One member: its process, the events it printed so far, and what it owns.
struct Member {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    log: Vec<Value>,
    owned: BTreeSet<u64>,
    closed: bool,
    /// Killed: events it printed before still arrive and count, but it owns
    /// nothing any more.
    killed: bool,
}

impl Member {
    /// Applies one event the member printed.
    fn apply(&mut self, event: Value) {
        let partitions: BTreeSet<u64> = event["partitions"]
            .as_array()
            .map(|list| list.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        match event["event"].as_str() {
            _ if self.killed => {}
            Some("assigned") => self.owned = partitions,
            Some("revoked") => self
                .owned
                .retain(|partition| !partitions.contains(partition)),
            Some("closed") => {
                self.owned.clear();
                self.closed = true;
            }
            _ => {}
        }
        self.log.push(event);
    }

    /// Every value it consumed.
    fn values(&self) -> BTreeSet<String> {
        self.log
            .iter()
            .filter(|event| event["event"] == "record")
            .filter_map(|event| event["value"].as_str().map(str::to_owned))
            .collect()
    }
}

/// The members, and one channel their events arrive on, tagged by member.
struct Group {
    members: Vec<Member>,
    events: Receiver<(usize, Value)>,
    sender: Sender<(usize, Value)>,
}

impl Group {
    fn new() -> Group {
        let (sender, events) = channel();
        Group {
            members: Vec::new(),
            events,
            sender,
        }
    }

    fn start(&mut self, name: &'static str, client: &str, bootstrap: &str) {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/kafka/clients.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["member", client, bootstrap, TOPIC, "three"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let index = self.members.len();
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                let Ok(event) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if sender.send((index, event)).is_err() {
                    break;
                }
            }
        });
        self.members.push(Member {
            name,
            stdin: child.stdin.take(),
            child,
            log: Vec::new(),
            owned: BTreeSet::new(),
            closed: false,
            killed: false,
        });
    }

    /// Applies the members' events as they arrive until `done` holds; fails at
    /// the deadline.
    fn wait_until(&mut self, what: &str, done: impl Fn(&[Member]) -> bool) {
        let deadline = Instant::now() + PHASE;
        while !done(&self.members) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok((index, event)) => self.members[index].apply(event),
                Err(_) => panic!("{what}: timed out; owned: {:?}", owners(&self.members)),
            }
        }
    }
}

fn owners(members: &[Member]) -> Vec<(&str, Vec<u64>)> {
    members
        .iter()
        .map(|member| (member.name, member.owned.iter().copied().collect()))
        .collect()
}

/// The live members named own every partition between them, each once, and
/// no other member owns any.
fn stable(members: &[Member], live: &[&str]) -> bool {
    let mut seen = BTreeSet::new();
    for member in members {
        let is_live = live.contains(&member.name);
        if is_live == member.owned.is_empty() {
            return false;
        }
        for partition in &member.owned {
            if !seen.insert(*partition) {
                return false;
            }
        }
    }
    seen.len() == PARTITIONS as usize
}

fn produce(producer: &mut Producer, range: std::ops::Range<u32>) {
    for i in range {
        producer
            .send(
                ProducerRecord::new(TOPIC, format!("record-{i}"))
                    .key(format!("{i}"))
                    .partition(i % PARTITIONS),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// CLOCK_MONOTONIC now, as Python's time.monotonic() reads it.
fn monotonic_now() -> f64 {
    let output = Command::new("python3")
        .args(["-c", "import time; print(time.monotonic())"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

/// Each member's ownership intervals per partition, from its events; a member
/// killed at `killed_at` owned nothing after it.
fn intervals(member: &Member, killed_at: Option<f64>) -> Vec<(u64, f64, f64)> {
    let mut open: BTreeMap<u64, f64> = BTreeMap::new();
    let mut closed = Vec::new();
    for event in &member.log {
        let at = event["at"].as_f64().unwrap_or(0.0);
        let partitions: Vec<u64> = event["partitions"]
            .as_array()
            .map(|list| list.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        match event["event"].as_str() {
            Some("assigned") => {
                for (partition, start) in std::mem::take(&mut open) {
                    closed.push((partition, start, at));
                }
                for partition in partitions {
                    open.insert(partition, at);
                }
            }
            Some("revoked") => {
                for partition in partitions {
                    if let Some(start) = open.remove(&partition) {
                        closed.push((partition, start, at));
                    }
                }
            }
            Some("closed") => {
                for (partition, start) in std::mem::take(&mut open) {
                    closed.push((partition, start, at));
                }
            }
            _ => {}
        }
    }
    let end = killed_at.unwrap_or(f64::INFINITY);
    closed.extend(
        open.into_iter()
            .map(|(partition, start)| (partition, start, end)),
    );
    closed
}

#[test]
fn a_group_of_three_rebalances_on_join_leave_and_kill_without_sharing_or_losing() {
    let server = sinew_broker(&[]);
    let bootstrap = server.kafka.unwrap().to_string();
    let native = server.native.clone().unwrap();
    Admin::connect(&native)
        .unwrap()
        .create_topic(TOPIC, TopicSettings::new(PARTITIONS))
        .unwrap();
    let mut producer = Producer::connect(&native, ProducerConfig::default()).unwrap();
    produce(&mut producer, 0..60);

    let mut group = Group::new();
    group.start("a", "confluent", &bootstrap);
    group.wait_until("a alone", |members| stable(members, &["a"]));
    group.start("b", "kafka-python", &bootstrap);
    group.wait_until("a and b", |members| stable(members, &["a", "b"]));
    produce(&mut producer, 60..120);
    group.start("c", "confluent", &bootstrap);
    group.wait_until("a, b and c", |members| stable(members, &["a", "b", "c"]));
    produce(&mut producer, 120..180);

    // b leaves the group cleanly (LeaveGroup).
    drop(group.members[1].stdin.take());
    group.wait_until("b left", |members| {
        members[1].closed && stable(members, &["a", "c"])
    });
    produce(&mut producer, 180..240);

    // c is killed: its session (6 s) ends, and a takes everything. What c
    // printed before it died still counts; it owns nothing after the kill.
    group.members[2].child.kill().unwrap();
    group.members[2].child.wait().unwrap();
    let killed_at = monotonic_now();
    group.members[2].killed = true;
    group.members[2].owned.clear();
    group.wait_until("c killed", |members| stable(members, &["a"]));
    produce(&mut producer, 240..300);

    let expected: BTreeSet<String> = (0..300).map(|i| format!("record-{i}")).collect();
    group.wait_until("every record consumed", |members| {
        let consumed: BTreeSet<String> = members.iter().flat_map(Member::values).collect();
        expected.is_subset(&consumed)
    });
    drop(group.members[0].stdin.take());
    group.wait_until("a closed", |members| members[0].closed);
    let members = &mut group.members;

    // No partition was owned by two members at once.
    let mut by_partition: BTreeMap<u64, Vec<(f64, f64, &str)>> = BTreeMap::new();
    for member in members.iter() {
        let killed = (member.name == "c").then_some(killed_at);
        for (partition, start, end) in intervals(member, killed) {
            by_partition
                .entry(partition)
                .or_default()
                .push((start, end, member.name));
        }
    }
    assert_eq!(by_partition.len(), PARTITIONS as usize);
    for (partition, mut spans) in by_partition {
        spans.sort_by(|x, y| x.0.total_cmp(&y.0));
        for pair in spans.windows(2) {
            assert!(
                pair[1].0 >= pair[0].1,
                "partition {partition} owned by {} and {} at once: {spans:?}",
                pair[0].2,
                pair[1].2
            );
        }
    }
    for member in members.iter_mut() {
        let _ = member.child.kill();
        let _ = member.child.wait();
    }
}
