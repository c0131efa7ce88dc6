//! Real Kafka clients nobody here wrote against sinew-broker's Kafka door:
//! kafka-python and confluent-kafka (librdkafka) through
//! `interop-tests/kafka/clients.py`, and Debian's kcat. Every codec from both
//! Python clients comes back as sent and is stored as sent; kcat produces,
//! consumes and lists; topics cross between the Kafka and the native door both
//! ways; acks=all records survive a SIGKILL in the middle of a stream; an
//! idempotent producer whose answer is lost retries without duplicating.
//!
//! The clients come from `interop-tests/requirements.txt` and the README's test
//! command (kcat from Debian); a missing one fails the test. Waits have deadlines.

mod util;

use serde_json::Value;
use sinew_broker::client::native::{
    Consumer, ConsumerConfig, Position, Producer, ProducerConfig, ProducerRecord,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use util::{Server, TIMEOUT, TempDir, sinew_broker, sinew_broker_in};

fn clients_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/kafka/clients.py")
}

/// Runs clients.py to its end (it has its own 30 s deadlines); returns its last
/// JSON line, failing with its stderr if it failed.
fn python(args: &[&str]) -> Value {
    let output = Command::new("python3")
        .arg(clients_script())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs (pip install -r interop-tests/requirements.txt)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "clients.py {args:?} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON line")
}

fn kafka(server: &Server) -> String {
    server.kafka.expect("the Kafka door is on").to_string()
}

fn native(server: &Server) -> &str {
    server
        .native
        .as_deref()
        .expect("the native door's endpoint")
}

/// Every batch's compression codec in a partition's segment files, read from
/// the disk (acks=all: they are there).
fn stored_codecs(partition: &Path) -> BTreeSet<u16> {
    let mut codecs = BTreeSet::new();
    for entry in std::fs::read_dir(partition).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "log") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let mut position = 0;
        while position + 61 <= bytes.len() {
            let length = i32::from_be_bytes(bytes[position + 8..position + 12].try_into().unwrap());
            let attributes =
                u16::from_be_bytes(bytes[position + 21..position + 23].try_into().unwrap());
            codecs.insert(attributes & 7);
            position += 12 + length as usize;
        }
    }
    codecs
}

#[test]
fn every_codec_from_both_python_clients_comes_back_and_is_stored_as_sent() {
    let data = TempDir::new("kafka-codecs");
    let server = sinew_broker_in(&data.0.join("data"), &[]);
    let bootstrap = kafka(&server);
    for client in ["kafka-python", "confluent"] {
        let topic = format!("codecs-{client}");
        let summary = python(&["codecs", client, &bootstrap, &topic]);
        assert_eq!(summary["records"], 200, "{summary}");
        let mut codecs = BTreeSet::new();
        for partition in 0..3 {
            let directory = data
                .0
                .join("data/topics")
                .join(&topic)
                .join(partition.to_string());
            codecs.extend(stored_codecs(&directory));
        }
        // none, gzip, snappy, lz4, zstd: the producers' batches as they sent them.
        assert_eq!(codecs, BTreeSet::from([0, 1, 2, 3, 4]), "{client}");
    }
}

#[test]
fn admin_clients_grow_describe_and_trim_topics() {
    let server = sinew_broker(&[]);
    let bootstrap = kafka(&server);
    for client in ["kafka-python", "confluent"] {
        let topic = format!("admin-{client}");
        let seen = python(&["admin", client, &bootstrap, &topic]);
        assert_eq!(seen["partitions"], 4, "{client}: {seen}");
        assert_eq!(
            seen["configs"]["cleanup.policy"], "compact,delete",
            "{client}: {seen}"
        );
        assert_eq!(
            seen["configs"]["retention.ms"], "3600000",
            "{client}: {seen}"
        );
        assert_eq!(seen["brokers"], serde_json::json!([1]), "{client}: {seen}");
        assert_eq!(seen["low_watermark"], 5, "{client}: {seen}");
    }
}

#[test]
fn committed_offsets_survive_sigkill_and_a_deleted_group_stays_deleted() {
    let data = TempDir::new("kafka-offsets");
    let directory = data.0.join("data");
    let mut server = sinew_broker_in(&directory, &[]);
    let bootstrap = kafka(&server);
    python(&["produce", "confluent", &bootstrap, "offsets", "10"]);
    python(&["commit", "confluent", &bootstrap, "offsets", "kept", "0=7"]);
    python(&[
        "commit",
        "kafka-python",
        &bootstrap,
        "offsets",
        "gone",
        "0=3",
    ]);
    python(&[
        "commit",
        "kafka-python",
        &bootstrap,
        "offsets",
        "gone",
        "0=4",
    ]);
    python(&["delete-group", "confluent", &bootstrap, "offsets", "gone"]);
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    drop(server);
    let server = sinew_broker_in(&directory, &[]);
    let bootstrap = kafka(&server);
    for client in ["kafka-python", "confluent"] {
        let kept = python(&["committed", client, &bootstrap, "offsets", "kept", "1"]);
        assert_eq!(kept["offsets"]["0"], 7, "{client}: {kept}");
        let gone = python(&["committed", client, &bootstrap, "offsets", "gone", "1"]);
        assert_eq!(gone["offsets"]["0"], -1, "{client}: {gone}");
    }
}

/// Runs kcat with `args`, `input` on its stdin; fails if it fails or outlives
/// the deadline.
fn kcat(args: &[&str], input: &str) -> String {
    let mut child = Command::new("kcat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat runs (apt-get install kcat; see the README's test command)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    // Its end is the event waited on (by a thread that owns it), with a deadline.
    let pid = child.id().to_string();
    let (sender, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let Ok(output) = ended.recv_timeout(TIMEOUT * 3) else {
        let _ = Command::new("kill").args(["-9", &pid]).status();
        panic!("kcat {args:?} did not finish");
    };
    let output = output.unwrap();
    assert!(
        output.status.success(),
        "kcat {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn kcat_produces_consumes_and_lists() {
    let server = sinew_broker(&[]);
    let bootstrap = kafka(&server);
    let lines: String = (0..50).map(|i| format!("key-{i}:value {i}\n")).collect();
    // Auto-created on first use (one partition), snappy batches, a header each.
    kcat(
        &[
            "-b",
            &bootstrap,
            "-P",
            "-t",
            "kcat",
            "-K:",
            "-z",
            "snappy",
            "-H",
            "from=kcat",
        ],
        &lines,
    );
    let consumed = kcat(
        &[
            "-b",
            &bootstrap,
            "-C",
            "-t",
            "kcat",
            "-o",
            "beginning",
            "-e",
            "-f",
            "%k|%s|%o|%h\n",
        ],
        "",
    );
    let expected: String = (0..50)
        .map(|i| format!("key-{i}|value {i}|{i}|from=kcat\n"))
        .collect();
    assert_eq!(consumed, expected);
    // A balanced consumer (-G): it joins group "kcat-group", reads everything
    // from the start, commits, and a second run of the group finds nothing left.
    let grouped = kcat(
        &[
            "-b",
            &bootstrap,
            "-G",
            "kcat-group",
            "-o",
            "beginning",
            "-e",
            "-f",
            "%k|%o\n",
            "kcat",
        ],
        "",
    );
    let expected: String = (0..50).map(|i| format!("key-{i}|{i}\n")).collect();
    assert_eq!(grouped, expected);
    let committed = python(&[
        "committed",
        "kafka-python",
        &bootstrap,
        "kcat",
        "kcat-group",
        "1",
    ]);
    assert_eq!(committed["offsets"]["0"], 50, "{committed}");
    let again = kcat(
        &[
            "-b",
            &bootstrap,
            "-G",
            "kcat-group",
            "-e",
            "-f",
            "%k|%o\n",
            "kcat",
        ],
        "",
    );
    assert_eq!(again, "", "the group resumes after what it committed");
    let listing = kcat(&["-b", &bootstrap, "-L", "-t", "kcat"], "");
    assert!(
        listing.contains("topic \"kcat\" with 1 partitions")
            && listing.contains("partition 0, leader 1, replicas: 1, isrs: 1"),
        "{listing}"
    );
}

#[test]
fn a_topic_written_through_one_door_is_read_through_the_other() {
    let server = sinew_broker(&[]);
    let bootstrap = kafka(&server);
    // Kafka door in (the topic auto-created with one partition), native door out.
    let produced = python(&["produce", "kafka-python", &bootstrap, "from-kafka", "30"]);
    assert_eq!(produced["acknowledged"].as_array().unwrap().len(), 30);
    let mut consumer = Consumer::connect(native(&server), ConsumerConfig::default()).unwrap();
    consumer.assign("from-kafka", &[0]).unwrap();
    consumer.seek(0, Position::Earliest).unwrap();
    let mut records = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while records.len() < 30 && Instant::now() < deadline {
        records.extend(consumer.poll(Duration::from_millis(200)).unwrap());
    }
    let seen: Vec<(u64, String, String)> = records
        .iter()
        .map(|record| {
            (
                record.offset,
                String::from_utf8_lossy(record.key.as_deref().unwrap_or_default()).into_owned(),
                String::from_utf8_lossy(record.value.as_deref().unwrap_or_default()).into_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String, String)> = (0..30)
        .map(|i| (i, format!("key-{i}"), format!("value-{i}")))
        .collect();
    assert_eq!(seen, expected);
    // Native door in, Kafka door out (both Python clients).
    let mut admin = sinew_broker::client::native::Admin::connect(native(&server)).unwrap();
    admin
        .create_topic(
            "from-native",
            sinew_broker::client::native::TopicSettings::new(2),
        )
        .unwrap();
    let mut producer = Producer::connect(native(&server), ProducerConfig::default()).unwrap();
    for i in 0..40u32 {
        producer
            .send(
                ProducerRecord::new("from-native", format!("value-{i}"))
                    .key(format!("key-{i}"))
                    .partition(i % 2),
            )
            .unwrap();
    }
    producer.flush(TIMEOUT).unwrap();
    for client in ["kafka-python", "confluent"] {
        let consumed = python(&["consume", client, &bootstrap, "from-native", "40"]);
        let mut got: Vec<(u64, u64, String, String)> = consumed["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| {
                (
                    record[0].as_u64().unwrap(),
                    record[1].as_u64().unwrap(),
                    record[2].as_str().unwrap().to_owned(),
                    record[3].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort();
        let mut expected: Vec<(u64, u64, String, String)> = (0..40u64)
            .map(|i| (i % 2, i / 2, format!("key-{i}"), format!("value-{i}")))
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{client}");
    }
}

#[test]
fn acknowledged_records_survive_sigkill_mid_stream_and_topics_survive_restart() {
    let data = TempDir::new("kafka-kill");
    let directory = data.0.join("data");
    let mut server = sinew_broker_in(&directory, &[]);
    let bootstrap = kafka(&server);
    // A long stream of acks=all records; the broker is killed after 300 acks.
    let mut producer = Command::new("python3")
        .arg(clients_script())
        .args([
            "produce",
            "confluent",
            &bootstrap,
            "killed",
            "1000000",
            "--stream",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let lines = BufReader::new(producer.stdout.take().unwrap());
    let mut acknowledged = BTreeMap::new();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + TIMEOUT * 3;
    while acknowledged.len() < 300 {
        let line = receiver
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("acknowledgements arrive");
        let ack: Value = serde_json::from_str(&line).unwrap();
        acknowledged.insert(
            ack["offset"].as_u64().unwrap(),
            ack["index"].as_u64().unwrap(),
        );
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    // Acknowledgements already on their way were given before the kill.
    while let Ok(line) = receiver.recv_timeout(Duration::from_millis(0)) {
        let ack: Value = serde_json::from_str(&line).unwrap();
        acknowledged.insert(
            ack["offset"].as_u64().unwrap(),
            ack["index"].as_u64().unwrap(),
        );
    }
    let _ = producer.kill();
    let _ = producer.wait();
    drop(server);
    let restarted = sinew_broker_in(&directory, &[]);
    let last = *acknowledged.keys().next_back().unwrap();
    let count = (last + 1).to_string();
    let consumed = python(&[
        "consume",
        "kafka-python",
        &kafka(&restarted),
        "killed",
        &count,
    ]);
    let stored: BTreeMap<u64, String> = consumed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            (
                record[1].as_u64().unwrap(),
                record[3].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (offset, index) in &acknowledged {
        assert_eq!(
            stored.get(offset),
            Some(&format!("value-{index}")),
            "acknowledged record {index} at offset {offset} after the kill"
        );
    }
}

/// A TCP proxy in front of the Kafka door that closes the first connection on
/// which a Produce's answer comes back, before passing that answer on: the
/// producer never hears that its records were written and sends them again.
/// Returns the flag it sets when it dropped one.
fn answer_dropping_proxy(
    listener: TcpListener,
    broker: SocketAddr,
) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = dropped.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(upstream) = TcpStream::connect(broker) else {
                return;
            };
            let dropped = dropped.clone();
            let produces = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
            let (client_in, upstream_out) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let requests = produces.clone();
            // Requests: forwarded; the correlation ids of Produce requests noted.
            std::thread::spawn(move || {
                let (mut from, mut to) = (client_in, upstream_out);
                while let Some(frame) = read_frame(&mut from) {
                    if frame.len() >= 12 && frame[4..6] == [0, 0] {
                        let correlation = i32::from_be_bytes(frame[8..12].try_into().unwrap());
                        requests.lock().unwrap().insert(correlation);
                    }
                    if to.write_all(&frame).is_err() {
                        break;
                    }
                }
                let _ = to.shutdown(std::net::Shutdown::Both);
            });
            // Answers: forwarded, but for the first Produce answer of all.
            std::thread::spawn(move || {
                let (mut from, mut to) = (upstream, client);
                while let Some(frame) = read_frame(&mut from) {
                    let correlation = i32::from_be_bytes(frame[4..8].try_into().unwrap());
                    let produce = produces.lock().unwrap().contains(&correlation);
                    if produce && !dropped.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    if to.write_all(&frame).is_err() {
                        break;
                    }
                }
                let _ = to.shutdown(std::net::Shutdown::Both);
                let _ = from.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    flag
}

/// One size-prefixed Kafka frame, prefix included.
fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).ok()?;
    let length = usize::try_from(i32::from_be_bytes(size)).ok()?;
    let mut frame = vec![0u8; 4 + length];
    frame[..4].copy_from_slice(&size);
    stream.read_exact(&mut frame[4..]).ok()?;
    Some(frame)
}

#[test]
fn an_idempotent_producer_whose_answer_is_lost_retries_without_duplicates() {
    for client in ["confluent", "kafka-python"] {
        let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
        let advertised = proxy.local_addr().unwrap().to_string();
        let server = sinew_broker(&["--kafka-advertised", &advertised]);
        let dropped = answer_dropping_proxy(proxy, server.kafka.unwrap());
        let produced = python(&[
            "produce",
            client,
            &advertised,
            "retried",
            "100",
            "--idempotent",
        ]);
        let acknowledged = produced["acknowledged"].as_array().unwrap().len();
        assert_eq!(acknowledged, 100, "{client}");
        assert!(
            dropped.load(std::sync::atomic::Ordering::SeqCst),
            "{client}: an answer was lost"
        );
        let consumed = python(&["consume", "kafka-python", &kafka(&server), "retried", "100"]);
        let values: Vec<&str> = consumed["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record[3].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (0..100).map(|i| format!("value-{i}")).collect();
        assert_eq!(values, expected, "{client}: every record once, in order");
        // Nothing after them either: the partition ends at 100.
        assert_eq!(consumed["ends"]["0"], 100, "{client}: {consumed}");
    }
}
