//! Consumer groups through the native door: native members (the Rust client's
//! `GroupConsumer`, the broker running the assignor for them) and a real Kafka
//! member (confluent-kafka, through `interop-tests/kafka/clients.py member`) in
//! one group. The partitions are shared without overlap once the group is
//! stable, every record is consumed, a member that leaves hands its partitions
//! over, and the offsets the native members commit are the ones a Kafka client
//! reads back. Waits are on events with deadlines.

mod util;

use serde_json::Value;
use sinew_broker::client::native::{
    Admin, GroupConfig, GroupConsumer, Producer, ProducerConfig, ProducerRecord, TopicSettings,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};
use util::sinew_broker;

const TOPIC: &str = "shared";
const GROUP: &str = "mixed";
const PARTITIONS: u32 = 6;
const DEADLINE: Duration = Duration::from_secs(60);

/// What a member reports.
#[derive(Debug)]
enum Event {
    /// Its partitions now.
    Owns(&'static str, BTreeSet<u32>),
    /// A value it consumed.
    Record(String),
}

/// A native member on a thread of its own: polls, reports, commits after
/// processing, and leaves when told to.
fn native_member(
    name: &'static str,
    endpoint: String,
    events: Sender<Event>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let config = GroupConfig {
            session_timeout: Duration::from_secs(6),
            heartbeat_interval: Duration::from_millis(500),
            ..GroupConfig::default()
        };
        let mut member = GroupConsumer::subscribe(&endpoint, GROUP, TOPIC, config).unwrap();
        let mut owned = BTreeSet::new();
        while !stop.load(Ordering::Acquire) {
            let records = member.poll(Duration::from_millis(200)).unwrap();
            let now: BTreeSet<u32> = member.assignment().iter().copied().collect();
            if now != owned {
                owned = now;
                let _ = events.send(Event::Owns(name, owned.clone()));
            }
            for record in &records {
                let value = record.value.as_deref().unwrap_or_default();
                let _ = events.send(Event::Record(String::from_utf8_lossy(value).into_owned()));
            }
            if !records.is_empty() {
                member.commit().unwrap();
            }
        }
        member.close().unwrap();
        let _ = events.send(Event::Owns(name, BTreeSet::new()));
    })
}

fn clients_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/kafka/clients.py")
}

fn produce(producer: &mut Producer, range: std::ops::Range<u32>) {
    for i in range {
        producer
            .send(ProducerRecord::new(TOPIC, format!("record-{i}")).partition(i % PARTITIONS))
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// Applies events until `done` holds for the owners and values seen.
fn wait_until(
    events: &std::sync::mpsc::Receiver<Event>,
    owners: &mut BTreeMap<&'static str, BTreeSet<u32>>,
    values: &mut BTreeSet<String>,
    what: &str,
    done: impl Fn(&BTreeMap<&'static str, BTreeSet<u32>>, &BTreeSet<String>) -> bool,
) {
    let deadline = Instant::now() + DEADLINE;
    while !done(owners, values) {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Owns(name, partitions)) => {
                owners.insert(name, partitions);
            }
            Ok(Event::Record(value)) => {
                values.insert(value);
            }
            Err(_) => panic!(
                "{what}: timed out; owners {owners:?}, {} values",
                values.len()
            ),
        }
    }
}

/// The members named own every partition between them, each once.
fn stable(owners: &BTreeMap<&'static str, BTreeSet<u32>>, live: &[&str]) -> bool {
    let mut seen = BTreeSet::new();
    for (name, partitions) in owners {
        if live.contains(name) == partitions.is_empty() {
            return false;
        }
        for partition in partitions {
            if !seen.insert(*partition) {
                return false;
            }
        }
    }
    live.iter().all(|name| owners.contains_key(name)) && seen.len() == PARTITIONS as usize
}

#[test]
fn native_and_kafka_members_share_a_group_and_its_offsets() {
    let server = sinew_broker(&[]);
    let endpoint = server.native.clone().unwrap();
    let bootstrap = server.kafka.unwrap().to_string();
    Admin::connect(&endpoint)
        .unwrap()
        .create_topic(TOPIC, TopicSettings::new(PARTITIONS))
        .unwrap();
    let mut producer = Producer::connect(&endpoint, ProducerConfig::default()).unwrap();
    produce(&mut producer, 0..60);

    let (sender, events) = channel();
    let mut owners = BTreeMap::new();
    let mut values = BTreeSet::new();
    let stop_a = Arc::new(AtomicBool::new(false));
    let stop_b = Arc::new(AtomicBool::new(false));
    let a = native_member("a", endpoint.clone(), sender.clone(), stop_a.clone());
    wait_until(&events, &mut owners, &mut values, "a alone", |owners, _| {
        stable(owners, &["a"])
    });
    let b = native_member("b", endpoint.clone(), sender.clone(), stop_b.clone());
    wait_until(&events, &mut owners, &mut values, "a and b", |owners, _| {
        stable(owners, &["a", "b"])
    });

    // A Kafka member (librdkafka, range assignor) joins the same group.
    let mut kafka = Command::new("python3")
        .arg(clients_script())
        .args(["member", "confluent", &bootstrap, TOPIC, GROUP])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let kafka_stdin = kafka.stdin.take();
    let lines = BufReader::new(kafka.stdout.take().unwrap());
    let kafka_events = sender.clone();
    std::thread::spawn(move || {
        for line in lines.lines() {
            let Ok(line) = line else { break };
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let partitions = || -> BTreeSet<u32> {
                event["partitions"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .filter_map(|p| p.as_u64())
                            .map(|p| p as u32)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let message = match event["event"].as_str() {
                Some("assigned") => Event::Owns("kafka", partitions()),
                Some("revoked" | "closed") => Event::Owns("kafka", BTreeSet::new()),
                Some("record") => Event::Record(event["value"].as_str().unwrap_or("").to_owned()),
                _ => continue,
            };
            if kafka_events.send(message).is_err() {
                break;
            }
        }
    });
    wait_until(
        &events,
        &mut owners,
        &mut values,
        "a, b and kafka",
        |owners, _| stable(owners, &["a", "b", "kafka"]),
    );
    produce(&mut producer, 60..120);

    // b leaves; a and the Kafka member take its partitions over.
    stop_b.store(true, Ordering::Release);
    b.join().unwrap();
    wait_until(&events, &mut owners, &mut values, "b left", |owners, _| {
        stable(owners, &["a", "kafka"])
    });
    produce(&mut producer, 120..180);
    let expected: BTreeSet<String> = (0..180).map(|i| format!("record-{i}")).collect();
    wait_until(
        &events,
        &mut owners,
        &mut values,
        "every record",
        |_, values| expected.is_subset(values),
    );

    // Everyone stops; the offsets the group committed (native and Kafka members
    // alike) are where a Kafka client resumes: the end of every partition.
    drop(kafka_stdin);
    let _ = kafka.wait();
    stop_a.store(true, Ordering::Release);
    a.join().unwrap();
    let output = Command::new("python3")
        .arg(clients_script())
        .args(["committed", "kafka-python", &bootstrap, TOPIC, GROUP])
        .arg(PARTITIONS.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed: Value = serde_json::from_str(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    for partition in 0..PARTITIONS {
        assert_eq!(
            committed["offsets"][partition.to_string()],
            30,
            "partition {partition}: {committed}"
        );
    }
}
