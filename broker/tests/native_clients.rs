//! The native client (`sinew_broker::client::native`) end to end against the real
//! `sinew-broker` binary on free ports and temporary data directories: topics
//! administered; records produced with each acknowledgement level, batched and
//! pipelined, by key, and read back from each start position; idempotent retries
//! that are not written twice, before and after a broker restart (a proxy drops
//! the first acknowledgement so the producer must retry); a topic that survives a
//! restart with every offset; errors that carry the protocol's codes.
//!
//! Every wait has a deadline; nothing sleeps. A retry is driven by the producer's
//! own request time-out, which is a mechanism here, never something measured.

mod native_proxy;
mod util;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use native_proxy::Proxy;
use sinew_broker::client::native::*;
use sinew_broker::kafka::partition_for_key;
use util::{TIMEOUT, TempDir, sinew_broker, sinew_broker_in};

fn endpoint(server: &util::Server) -> String {
    server.native.clone().expect("the native endpoint")
}

fn admin(endpoint: &str) -> Admin {
    Admin::connect(endpoint).expect("connect")
}

/// A consumer that answers at once (no long poll), so reading to the end is
/// decided by the broker's offsets, never by a silence.
fn reader(endpoint: &str, topic: &str, partitions: &[u32]) -> Consumer {
    let config = ConsumerConfig {
        max_wait: Duration::ZERO,
        ..ConsumerConfig::default()
    };
    let mut consumer = Consumer::connect(endpoint, config).expect("connect");
    consumer.assign(topic, partitions).expect("assign");
    consumer
}

/// Polls until every assigned partition is at its end.
fn read_to_end(consumer: &mut Consumer) -> Vec<ConsumerRecord> {
    let deadline = Instant::now() + TIMEOUT;
    let mut records = Vec::new();
    loop {
        records.extend(consumer.poll(TIMEOUT).expect("poll"));
        if consumer.at_end() {
            return records;
        }
        assert!(
            Instant::now() < deadline,
            "never reached the end: {records:?}"
        );
    }
}

/// Polls until `count` records came.
fn read(consumer: &mut Consumer, count: usize) -> Vec<ConsumerRecord> {
    let deadline = Instant::now() + TIMEOUT;
    let mut records = Vec::new();
    while records.len() < count {
        assert!(Instant::now() < deadline, "only {records:?}");
        records.extend(consumer.poll(TIMEOUT).expect("poll"));
    }
    records
}

fn values(records: &[ConsumerRecord]) -> Vec<(u64, String)> {
    records
        .iter()
        .map(|record| {
            let value = record.value.clone().unwrap_or_default();
            (record.offset, String::from_utf8_lossy(&value).into_owned())
        })
        .collect()
}

fn producer(endpoint: &str, config: ProducerConfig) -> Producer {
    Producer::connect(endpoint, config).expect("connect")
}

/// Sends `values` to partition 0 of `topic`; flushes; returns each offset.
fn produce_all(producer: &mut Producer, topic: &str, values: &[&str]) -> Vec<Delivery> {
    let ids: Vec<u64> = values
        .iter()
        .map(|value| {
            let record = ProducerRecord::new(topic, value.as_bytes().to_vec()).partition(0);
            producer.send(record).expect("send")
        })
        .collect();
    let mut deliveries = producer.flush(TIMEOUT).expect("flush");
    deliveries.sort_by_key(|delivery| delivery.id);
    assert_eq!(
        deliveries
            .iter()
            .map(|delivery| delivery.id)
            .collect::<Vec<_>>(),
        ids
    );
    deliveries
}

fn offsets(deliveries: &[Delivery]) -> Vec<Option<u64>> {
    deliveries
        .iter()
        .map(|delivery| delivery.result.as_ref().expect("acknowledged").offset)
        .collect()
}

#[test]
fn topics_are_created_with_their_settings_listed_described_and_deleted() {
    let server = sinew_broker(&[]);
    let mut admin = admin(&endpoint(&server));
    let settings = TopicSettings {
        compact: true,
        retention_ms: Some(60_000),
        retention_bytes: Some(1 << 20),
        ack_policy: Acks::Written,
        ..TopicSettings::new(3)
    };
    admin.create_topic("users", settings).expect("create");
    admin
        .create_topic("audit", TopicSettings::new(1))
        .expect("create");
    let exists = admin.create_topic("users", settings).expect_err("exists");
    assert_eq!(exists.code(), Some(ErrorCode::TopicExists));
    assert_eq!(exists.code().map(ErrorCode::code), Some(22));

    let listed: Vec<(String, u32, bool)> = admin
        .list_topics()
        .expect("list")
        .into_iter()
        .map(|topic| {
            (
                topic.name.as_str().to_owned(),
                topic.partitions,
                topic.compact,
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("audit".to_owned(), 1, false),
            ("users".to_owned(), 3, true)
        ]
    );
    let description = admin.describe_topic("users").expect("describe");
    assert_eq!(description.config.partitions, 3);
    assert!(description.config.compact);
    assert_eq!(description.config.retention_ms, Some(60_000));
    assert_eq!(description.config.retention_bytes, Some(1 << 20));
    assert_eq!(description.config.ack_policy, Acks::Written);
    assert_eq!(description.partitions.len(), 3);

    admin.delete_topic("users").expect("delete");
    let gone = admin.describe_topic("users").expect_err("deleted");
    assert_eq!(gone.code(), Some(ErrorCode::UnknownTopic));
    let again = admin.delete_topic("users").expect_err("deleted");
    assert_eq!(again.code(), Some(ErrorCode::UnknownTopic));
    let bad = admin
        .create_topic("no spaces", TopicSettings::new(1))
        .expect_err("bad name");
    assert!(matches!(bad, Error::InvalidArgument(_)), "{bad}");
    let none = admin
        .create_topic("empty", TopicSettings::new(0))
        .expect_err("no partitions");
    assert!(matches!(none, Error::InvalidArgument(_)), "{none}");
}

#[test]
fn records_are_produced_with_each_acknowledgement_level_and_read_back() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    admin(&endpoint)
        .create_topic("events", TopicSettings::new(1))
        .expect("create");

    let mut durable = producer(&endpoint, ProducerConfig::default());
    let acknowledged = produce_all(&mut durable, "events", &["a", "b"]);
    assert_eq!(offsets(&acknowledged), [Some(0), Some(1)]);
    assert!(
        acknowledged
            .iter()
            .all(|delivery| delivery.result.as_ref().expect("ok").level
                == Some(Acknowledged::Durable))
    );

    let written_config = ProducerConfig {
        acks: Acks::Written,
        ..ProducerConfig::default()
    };
    let mut written = producer(&endpoint, written_config);
    let acknowledged = produce_all(&mut written, "events", &["c", "d"]);
    assert_eq!(offsets(&acknowledged), [Some(2), Some(3)]);
    assert!(acknowledged.iter().all(|delivery| {
        matches!(
            delivery.result.as_ref().expect("ok").level,
            Some(Acknowledged::Written | Acknowledged::Durable)
        )
    }));

    let none_config = ProducerConfig {
        acks: Acks::None,
        ..ProducerConfig::default()
    };
    let mut none = producer(&endpoint, none_config);
    assert_eq!(none.producer_id(), None, "acks 0 is not idempotent");
    let taken = produce_all(&mut none, "events", &["e"]);
    assert_eq!(offsets(&taken), [None], "acks 0 returns no offset");

    // The next durable record lands after the acks-0 one.
    let acknowledged = produce_all(&mut durable, "events", &["f"]);
    assert_eq!(offsets(&acknowledged), [Some(5)]);

    let mut consumer = reader(&endpoint, "events", &[]);
    let read = values(&read_to_end(&mut consumer));
    let expected: Vec<(u64, String)> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .enumerate()
        .map(|(offset, value)| (offset as u64, (*value).to_owned()))
        .collect();
    assert_eq!(read, expected);
    assert_eq!(consumer.position(0), Some(6));
}

#[test]
fn keys_headers_and_timestamps_come_back_and_keys_pick_kafkas_partitions() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    admin(&endpoint)
        .create_topic("keyed", TopicSettings::new(4))
        .expect("create");
    let mut producer = producer(&endpoint, ProducerConfig::default());
    let keys = ["user-42", "user-7", "order-1", "foobar", "abc", "21"];
    let header = RecordHeader::new("trace", Some(Bytes::from_static(b"ab"))).expect("header");
    for (index, key) in keys.iter().enumerate() {
        let record = ProducerRecord::new("keyed", format!("value-{index}"))
            .key(key.as_bytes().to_vec())
            .header(header.clone())
            .timestamp(1_700_000_000_000 + index as i64);
        producer.send(record).expect("send");
    }
    let deliveries = producer.flush(TIMEOUT).expect("flush");
    assert_eq!(deliveries.len(), keys.len());
    for delivery in &deliveries {
        let key = keys[delivery.id as usize];
        assert_eq!(
            Some(delivery.partition),
            partition_for_key(key.as_bytes(), 4),
            "{key}"
        );
    }
    let mut consumer = reader(&endpoint, "keyed", &[]);
    let mut read = read_to_end(&mut consumer);
    assert_eq!(read.len(), keys.len());
    read.sort_by_key(|record| record.timestamp);
    for (index, record) in read.iter().enumerate() {
        let key = keys[index];
        assert_eq!(record.key.as_deref(), Some(key.as_bytes()));
        assert_eq!(
            record.value.as_deref(),
            Some(format!("value-{index}").as_bytes())
        );
        assert_eq!(record.headers, std::slice::from_ref(&header));
        assert_eq!(record.timestamp, 1_700_000_000_000 + index as i64);
        assert_eq!(Some(record.partition), partition_for_key(key.as_bytes(), 4));
    }
}

#[test]
fn many_small_batches_in_flight_are_acknowledged_in_order() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    admin(&endpoint)
        .create_topic("bulk", TopicSettings::new(2))
        .expect("create");
    let config = ProducerConfig {
        batch_records: 7,
        max_in_flight: 8,
        linger: Duration::from_secs(60),
        ..ProducerConfig::default()
    };
    let mut producer = producer(&endpoint, config);
    let total = 500u64;
    for index in 0..total {
        let record = ProducerRecord::new("bulk", index.to_string()).partition((index % 2) as u32);
        assert_eq!(producer.send(record).expect("send"), index);
    }
    let mut deliveries = producer.deliveries().expect("deliveries");
    deliveries.extend(producer.flush(TIMEOUT).expect("flush"));
    assert_eq!(producer.pending_records(), 0);
    deliveries.sort_by_key(|delivery| delivery.id);
    assert_eq!(deliveries.len() as u64, total);
    for delivery in &deliveries {
        assert_eq!(u64::from(delivery.partition), delivery.id % 2);
        let offset = delivery.result.as_ref().expect("acknowledged").offset;
        assert_eq!(
            offset,
            Some(delivery.id / 2),
            "in order within the partition"
        );
    }
    let mut consumer = reader(&endpoint, "bulk", &[1]);
    let read = values(&read_to_end(&mut consumer));
    let expected: Vec<(u64, String)> = (0..total / 2)
        .map(|offset| (offset, (offset * 2 + 1).to_string()))
        .collect();
    assert_eq!(read, expected);
}

#[test]
fn a_producer_keeps_within_the_brokers_in_flight_limit() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    admin(&endpoint)
        .create_topic("narrow", TopicSettings::new(1))
        .expect("create");
    // One record per batch and more requests wanted in flight than the broker's
    // 64: the producer keeps to MAX_IN_FLIGHT, so nothing is refused.
    let config = ProducerConfig {
        batch_records: 1,
        max_in_flight: 1000,
        retries: 0,
        ..ProducerConfig::default()
    };
    let mut producer = producer(&endpoint, config);
    let values: Vec<String> = (0..600).map(|index| index.to_string()).collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let deliveries = produce_all(&mut producer, "narrow", &values);
    let expected: Vec<Option<u64>> = (0..600).map(Some).collect();
    assert_eq!(offsets(&deliveries), expected);
}

#[test]
fn unlimited_durations_mean_no_limit_and_an_idle_flush_returns_at_once() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    let (done, finished) = std::sync::mpsc::channel();
    // In a thread, so that a wait that never ends fails the test at the deadline.
    std::thread::spawn(move || {
        let mut admin = admin(&endpoint);
        admin.set_timeout(Duration::MAX);
        admin
            .create_topic("forever", TopicSettings::new(1))
            .expect("create");
        let config = ProducerConfig {
            linger: Duration::MAX,
            request_timeout: Duration::MAX,
            ..ProducerConfig::default()
        };
        let mut producer = producer(&endpoint, config);
        assert!(
            producer
                .flush(Duration::MAX)
                .expect("idle flush")
                .is_empty()
        );
        producer
            .send(ProducerRecord::new("forever", "x").partition(0))
            .expect("send");
        let deliveries = producer.flush(Duration::MAX).expect("flush");
        assert!(
            producer
                .flush(Duration::MAX)
                .expect("idle again")
                .is_empty()
        );
        let mut consumer =
            Consumer::connect(&endpoint, ConsumerConfig::default()).expect("connect");
        consumer.assign("forever", &[0]).expect("assign");
        let polled = consumer.poll(Duration::MAX).expect("poll");
        let _ = done.send((offsets(&deliveries), values(&polled)));
    });
    let (offsets, polled) = finished.recv_timeout(TIMEOUT).expect("no wait is endless");
    assert_eq!(offsets, [Some(0)]);
    assert_eq!(polled, [(0, "x".to_owned())]);
}

#[test]
fn a_consumer_starts_from_each_position() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    admin(&endpoint)
        .create_topic("timed", TopicSettings::new(1))
        .expect("create");
    let mut producer = producer(&endpoint, ProducerConfig::default());
    for (value, timestamp) in [("first", 1_000), ("second", 2_000), ("third", 3_000)] {
        let record = ProducerRecord::new("timed", value)
            .partition(0)
            .timestamp(timestamp);
        producer.send(record).expect("send");
    }
    producer.flush(TIMEOUT).expect("flush");

    let mut lookup = admin(&endpoint);
    let offset_of = |lookup: &mut Admin, query| {
        lookup
            .list_offsets("timed", 0, query)
            .expect("list offsets")
            .offset
    };
    assert_eq!(offset_of(&mut lookup, Position::Earliest), Some(0));
    assert_eq!(offset_of(&mut lookup, Position::Latest), Some(3));
    assert_eq!(offset_of(&mut lookup, Position::Timestamp(1_500)), Some(1));
    assert_eq!(offset_of(&mut lookup, Position::Timestamp(9_999)), None);
    let by_offset = lookup.list_offsets("timed", 0, Position::Offset(1));
    assert!(matches!(by_offset, Err(Error::InvalidArgument(_))));

    let mut consumer = reader(&endpoint, "timed", &[0]);
    let all = values(&read_to_end(&mut consumer));
    assert_eq!(all.len(), 3);

    consumer.seek(0, Position::Offset(1)).expect("seek");
    let from_one = values(&read_to_end(&mut consumer));
    assert_eq!(from_one, all[1..]);

    consumer.seek(0, Position::Timestamp(2_500)).expect("seek");
    let from_time = values(&read_to_end(&mut consumer));
    assert_eq!(from_time, [(2, "third".to_owned())]);

    consumer.seek(0, Position::Latest).expect("seek");
    assert!(read_to_end(&mut consumer).is_empty());
    assert_eq!(consumer.position(0), Some(3));

    consumer.seek(0, Position::Earliest).expect("seek");
    assert_eq!(values(&read_to_end(&mut consumer)), all);

    // From latest, a long-polling consumer gets what is produced after it.
    let mut waiting = Consumer::connect(&endpoint, ConsumerConfig::default()).expect("connect");
    waiting.assign("timed", &[0]).expect("assign");
    waiting.seek(0, Position::Latest).expect("seek");
    // Latest is resolved by the broker's first answer: wait for it, so that the
    // record below is surely after it.
    let deadline = Instant::now() + TIMEOUT;
    while waiting.position(0).is_none() {
        assert!(Instant::now() < deadline, "latest never resolved");
        let polled = waiting.poll(Duration::from_millis(50)).expect("poll");
        assert!(polled.is_empty());
    }
    assert_eq!(waiting.position(0), Some(3));
    producer
        .send(ProducerRecord::new("timed", "fourth").partition(0))
        .expect("send");
    let fourth = producer.flush(TIMEOUT).expect("flush");
    assert_eq!(offsets(&fourth), [Some(3)]);
    assert_eq!(values(&read(&mut waiting, 1)), [(3, "fourth".to_owned())]);

    consumer.seek(0, Position::Offset(99)).expect("seek");
    let beyond = consumer.poll(TIMEOUT).expect_err("out of range");
    assert_eq!(beyond.code(), Some(ErrorCode::OffsetOutOfRange));
    assert!(
        matches!(
            beyond,
            Error::Broker {
                details: [0, 4],
                ..
            }
        ),
        "{beyond:?}"
    );
    assert!(
        consumer.seek(5, Position::Earliest).is_err(),
        "not assigned"
    );
    assert!(consumer.assign("timed", &[1]).is_err(), "no partition 1");
}

#[test]
fn errors_carry_the_protocols_codes() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    let mut producer = producer(&endpoint, ProducerConfig::default());
    let unknown = producer
        .send(ProducerRecord::new("missing", "x"))
        .expect_err("no such topic");
    assert_eq!(unknown.code(), Some(ErrorCode::UnknownTopic));
    assert_eq!(unknown.code().map(ErrorCode::code), Some(20));
    let bad = producer
        .send(ProducerRecord::new("bad name!", "x"))
        .expect_err("bad name");
    assert!(matches!(bad, Error::InvalidArgument(_)));

    admin(&endpoint)
        .create_topic(
            "compacted",
            TopicSettings {
                compact: true,
                ..TopicSettings::new(2)
            },
        )
        .expect("create");
    let beyond = producer
        .send(ProducerRecord::new("compacted", "x").partition(2))
        .expect_err("no partition 2");
    assert!(matches!(beyond, Error::InvalidArgument(_)));
    let huge = vec![b'x'; MAX_RECORD_BYTES + 1];
    let too_large = producer
        .send(ProducerRecord::new("compacted", huge).key("k").partition(0))
        .expect_err("too large");
    assert!(
        matches!(too_large, Error::InvalidArgument(_)),
        "{too_large}"
    );
    // No key on a compacted topic: the broker refuses the batch.
    producer
        .send(ProducerRecord::new("compacted", "x").partition(0))
        .expect("buffered");
    let deliveries = producer.flush(TIMEOUT).expect("flush");
    let refused = deliveries[0].result.as_ref().expect_err("refused");
    assert_eq!(refused.code(), Some(ErrorCode::InvalidRecord));
    // The producer goes on: the refused sequence is used again.
    producer
        .send(ProducerRecord::new("compacted", "y").key("k").partition(0))
        .expect("send");
    let deliveries = producer.flush(TIMEOUT).expect("flush");
    assert_eq!(offsets(&deliveries), [Some(0)]);

    let mut consumer = Consumer::connect(&endpoint, ConsumerConfig::default()).expect("connect");
    let missing = consumer.assign("missing", &[]).expect_err("no such topic");
    assert_eq!(missing.code(), Some(ErrorCode::UnknownTopic));
    assert!(consumer.poll(Duration::ZERO).is_err(), "nothing assigned");
}

/// A producer behind a proxy that drops the first acknowledgement: it must send
/// the batch again with the same sequence and get the original offsets.
fn retried_producer(
    proxy_endpoint: String,
    values: &'static [&'static str],
) -> std::thread::JoinHandle<Vec<Delivery>> {
    std::thread::spawn(move || {
        let config = ProducerConfig {
            request_timeout: Duration::from_millis(300),
            retries: 30,
            ..ProducerConfig::default()
        };
        let mut producer = producer(&proxy_endpoint, config);
        assert!(producer.producer_id().is_some(), "idempotent by default");
        let mut deliveries = produce_all(&mut producer, "once", values);
        deliveries.extend(produce_all(&mut producer, "once", &["after"]));
        deliveries
    })
}

#[test]
fn an_idempotent_retry_is_not_written_twice() {
    let server = sinew_broker(&[]);
    let endpoint = endpoint(&server);
    admin(&endpoint)
        .create_topic("once", TopicSettings::new(1))
        .expect("create");
    let proxy = Proxy::start(&endpoint, 1, false);
    let producing = retried_producer(proxy.endpoint.clone(), &["a", "b", "c"]);
    proxy
        .dropped
        .recv_timeout(TIMEOUT)
        .expect("an answer dropped");
    let deliveries = producing.join().expect("the producer thread");
    assert_eq!(offsets(&deliveries), [Some(0), Some(1), Some(2), Some(3)]);
    assert!(
        deliveries[..3]
            .iter()
            .all(|delivery| delivery.result.as_ref().expect("ok").duplicate),
        "the retry was answered as a duplicate: {deliveries:?}"
    );
    let mut consumer = reader(&endpoint, "once", &[]);
    assert_eq!(
        values(&read_to_end(&mut consumer)),
        [
            (0, "a".to_owned()),
            (1, "b".to_owned()),
            (2, "c".to_owned()),
            (3, "after".to_owned())
        ]
    );
}

#[test]
fn an_idempotent_retry_after_a_broker_restart_is_not_written_twice() {
    let data = TempDir::new("native-client-retry");
    let server = sinew_broker_in(&data.0, &[]);
    admin(&endpoint(&server))
        .create_topic("once", TopicSettings::new(1))
        .expect("create");
    let proxy = Proxy::start(&endpoint(&server), 1, true);
    let producing = retried_producer(proxy.endpoint.clone(), &["a", "b", "c"]);
    proxy
        .dropped
        .recv_timeout(TIMEOUT)
        .expect("an answer dropped");
    // The batch is durable (it was acknowledged); the broker dies with the
    // acknowledgement lost, and comes back on the same data. The proxy holds the
    // producer's retries until then, so they reach the restarted broker.
    drop(server);
    let server = sinew_broker_in(&data.0, &[]);
    proxy.switch_backend(&endpoint(&server));
    let deliveries = producing.join().expect("the producer thread");
    assert_eq!(offsets(&deliveries), [Some(0), Some(1), Some(2), Some(3)]);
    assert!(
        deliveries[..3]
            .iter()
            .all(|delivery| delivery.result.as_ref().expect("ok").duplicate),
        "the retry was answered as a duplicate: {deliveries:?}"
    );
    let mut consumer = reader(&endpoint(&server), "once", &[]);
    let read: Vec<String> = values(&read_to_end(&mut consumer))
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(read, ["a", "b", "c", "after"]);
}

#[test]
fn a_topic_survives_a_restart_with_every_offset() {
    let data = TempDir::new("native-client-restart");
    let before: BTreeMap<(u32, u64), String>;
    {
        let server = sinew_broker_in(&data.0, &[]);
        let endpoint = endpoint(&server);
        admin(&endpoint)
            .create_topic("kept", TopicSettings::new(3))
            .expect("create");
        let mut producer = producer(&endpoint, ProducerConfig::default());
        for index in 0..60 {
            let record =
                ProducerRecord::new("kept", format!("value-{index}")).key(format!("key-{index}"));
            producer.send(record).expect("send");
        }
        let deliveries = producer.flush(TIMEOUT).expect("flush");
        assert_eq!(deliveries.len(), 60);
        let mut consumer = reader(&endpoint, "kept", &[]);
        before = read_to_end(&mut consumer)
            .into_iter()
            .map(|record| {
                let value = String::from_utf8_lossy(&record.value.unwrap_or_default()).into_owned();
                ((record.partition, record.offset), value)
            })
            .collect();
        assert_eq!(before.len(), 60);
        // Dropping the server kills it (SIGKILL).
    }
    let server = sinew_broker_in(&data.0, &[]);
    let endpoint = endpoint(&server);
    let mut consumer = reader(&endpoint, "kept", &[]);
    let after: BTreeMap<(u32, u64), String> = read_to_end(&mut consumer)
        .into_iter()
        .map(|record| {
            let value = String::from_utf8_lossy(&record.value.unwrap_or_default()).into_owned();
            ((record.partition, record.offset), value)
        })
        .collect();
    assert_eq!(after, before);
    let description = admin(&endpoint).describe_topic("kept").expect("describe");
    for partition in &description.partitions {
        let count = before
            .keys()
            .filter(|(p, _)| *p == partition.partition)
            .count() as u64;
        assert_eq!(
            partition.end_offset, count,
            "partition {}",
            partition.partition
        );
    }
    // A new producer's records follow on.
    let mut producer = producer(&endpoint, ProducerConfig::default());
    let deliveries = produce_all(&mut producer, "kept", &["next"]);
    let end = description.partitions[0].end_offset;
    assert_eq!(offsets(&deliveries), [Some(end)]);
}
