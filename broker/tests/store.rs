//! The partition store through its public API, as the loop drives it: topics
//! created, described, deleted and reopened; produce with each acknowledgement
//! level and read back; group commit; idempotent retries across a reopen; producer
//! ids; and every error a client can cause. Waits are on the store's wake-ups with
//! deadlines; nothing sleeps.

mod store_client;
mod util;

use bytes::Bytes;
use sinew_broker::store::{
    Acknowledged, Acks, Fetch, OffsetPosition, Payload, Produce, ProduceRecord, Reply, Request,
    StoreError, StoreSettings, Target, TopicConfig, TopicNameError, Visibility, partition_for_key,
};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use store_client::{Client, TIMEOUT, produce, produce_as};
use util::TempDir;

fn settings(directory: &TempDir) -> StoreSettings {
    StoreSettings::new(directory.0.join("data"))
}

fn create(client: &mut Client, config: TopicConfig) {
    match client.call(Request::CreateTopic(config.clone())) {
        Ok(Reply::TopicCreated(created)) => assert_eq!(created, config),
        other => panic!("create {}: {other:?}", config.name),
    }
}

fn names(client: &mut Client) -> Vec<String> {
    match client.call(Request::ListTopics) {
        Ok(Reply::Topics(names)) => names,
        other => panic!("list: {other:?}"),
    }
}

fn describe(client: &mut Client, topic: &str) -> sinew_broker::store::TopicDescription {
    match client.call(Request::DescribeTopic {
        topic: topic.to_owned(),
    }) {
        Ok(Reply::Topic(description)) => description,
        other => panic!("describe {topic}: {other:?}"),
    }
}

#[test]
fn topics_are_created_listed_described_deleted_and_survive_a_reopen() {
    let directory = TempDir::new("store-topics");
    let orders = TopicConfig {
        retention_age: Some(Duration::from_secs(7200)),
        retention_bytes: Some(1 << 30),
        acks: Acks::Written,
        visibility: Visibility::Written {
            flush_interval: Duration::from_millis(50),
        },
        ..TopicConfig::new("orders", 3)
    };
    let logs = TopicConfig {
        compaction: true,
        ..TopicConfig::new("logs", 1)
    };
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, orders.clone());
    create(&mut client, logs.clone());
    assert!(matches!(
        client.call(Request::CreateTopic(TopicConfig::new("orders", 1))),
        Err(StoreError::TopicExists(name)) if name == "orders"
    ));
    assert_eq!(names(&mut client), ["logs", "orders"]);
    let description = describe(&mut client, "orders");
    // Several at once, or all: each described or refused on its own.
    match client.call(Request::DescribeTopics { topics: None }) {
        Ok(Reply::Descriptions(all)) => {
            let names: Vec<&str> = all.iter().map(|(name, _)| name.as_str()).collect();
            assert_eq!(names, ["logs", "orders"]);
            assert_eq!(all[1].1.as_ref(), Some(&description));
        }
        other => panic!("describe all: {other:?}"),
    }
    match client.call(Request::DescribeTopics {
        topics: Some(vec!["missing".to_owned(), "logs".to_owned()]),
    }) {
        Ok(Reply::Descriptions(some)) => {
            assert!(matches!(&some[0], (name, None) if name == "missing"));
            assert!(
                matches!(&some[1], (name, Some(found)) if name == "logs" && found.config == logs)
            );
        }
        other => panic!("describe some: {other:?}"),
    }
    assert_eq!(description.config, orders);
    assert_eq!(description.partitions.len(), 3);
    assert!(description.partitions.iter().all(|partition| {
        partition.start_offset == 0 && partition.end_offset == 0 && partition.durable_offset == 0
    }));
    client
        .produce(produce("orders", 2, &["a", "b"], Acks::Durable))
        .unwrap();
    assert!(matches!(
        client.call(Request::DeleteTopic {
            topic: "logs".to_owned()
        }),
        Ok(Reply::TopicDeleted)
    ));
    assert_eq!(names(&mut client), ["orders"]);
    client.close();

    let mut client = Client::open(settings(&directory)).unwrap();
    assert_eq!(names(&mut client), ["orders"]);
    let description = describe(&mut client, "orders");
    assert_eq!(description.config, orders, "the settings survive");
    assert_eq!(description.partitions[2].end_offset, 2, "and the records");
    assert_eq!(
        client.read_all("orders", 2, 0),
        [(0, b"a".to_vec()), (1, b"b".to_vec())]
    );
    // A deleted name can be used again, for a new, empty topic.
    create(&mut client, TopicConfig::new("logs", 2));
    assert_eq!(describe(&mut client, "logs").partitions[0].end_offset, 0);
    assert!(
        !directory.0.join("data/deleted").exists()
            || std::fs::read_dir(directory.0.join("data/deleted"))
                .unwrap()
                .next()
                .is_none()
    );
    client.close();
}

#[test]
fn a_topic_whose_creation_did_not_finish_is_removed_on_open() {
    let directory = TempDir::new("store-half");
    let data = directory.0.join("data");
    // What a crash between the partitions and topic.json leaves.
    std::fs::create_dir_all(data.join("topics/ghost/0")).unwrap();
    let mut client = Client::open(settings(&directory)).unwrap();
    assert!(names(&mut client).is_empty());
    assert!(!data.join("topics/ghost").exists());
    create(&mut client, TopicConfig::new("ghost", 1));
    client.close();
}

#[test]
fn invalid_topic_names_and_settings_are_refused_and_nothing_is_created() {
    let directory = TempDir::new("store-names");
    let mut client = Client::open(settings(&directory)).unwrap();
    let long = "x".repeat(250);
    for name in [
        "",
        ".",
        "..",
        "a/b",
        "../escape",
        "with space",
        long.as_str(),
    ] {
        match client.call(Request::CreateTopic(TopicConfig::new(name, 1))) {
            Err(StoreError::InvalidTopicName {
                name: refused,
                reason,
            }) => {
                assert_eq!(refused, name);
                assert_ne!(reason.to_string(), "");
            }
            other => panic!("{name:?}: {other:?}"),
        }
    }
    assert!(matches!(
        client.call(Request::CreateTopic(TopicConfig::new("none", 0))),
        Err(StoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        client.call(Request::CreateTopic(TopicConfig {
            segment_bytes: Some(1),
            ..TopicConfig::new("tiny", 1)
        })),
        Err(StoreError::InvalidConfig { .. })
    ));
    assert!(names(&mut client).is_empty());
    let topics = directory.0.join("data/topics");
    assert_eq!(std::fs::read_dir(&topics).unwrap().count(), 0);
    assert!(matches!(
        sinew_broker::store::validate_topic_name("a:b"),
        Err(TopicNameError::IllegalCharacter(_))
    ));
    client.close();
}

#[test]
fn each_acknowledgement_level_is_answered_and_the_records_read_back() {
    let directory = TempDir::new("store-acks");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("durable", 1));
    let none = client
        .produce(produce("durable", 0, &["n0", "n1"], Acks::None))
        .unwrap();
    let written = client
        .produce(produce("durable", 0, &["w2"], Acks::Written))
        .unwrap();
    let durable = client
        .produce(produce("durable", 0, &["d3", "d4"], Acks::Durable))
        .unwrap();
    assert_eq!((none.base_offset, none.last_offset), (0, 1));
    assert_eq!((written.base_offset, written.last_offset), (2, 2));
    assert_eq!((durable.base_offset, durable.last_offset), (3, 4));
    assert_eq!(none.acknowledged, Acknowledged::Written);
    assert_eq!(written.acknowledged, Acknowledged::Written);
    assert_eq!(durable.acknowledged, Acknowledged::Durable);
    assert!(durable.durable_offset > durable.last_offset, "{durable:?}");
    assert!(!durable.duplicate);
    let values: Vec<_> = client
        .read_all("durable", 0, 0)
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(
        values,
        [
            b"n0".to_vec(),
            b"n1".to_vec(),
            b"w2".to_vec(),
            b"d3".to_vec(),
            b"d4".to_vec()
        ]
    );
    // Reading from inside a batch returns that batch whole; its records from the
    // offset asked for on are there.
    assert_eq!(client.read_all("durable", 0, 4), [(4, b"d4".to_vec())]);

    // A topic whose consumers see written records: they see them before any fsync,
    // and a durable request still waits for one.
    create(
        &mut client,
        TopicConfig {
            visibility: Visibility::Written {
                flush_interval: Duration::from_secs(3600),
            },
            ..TopicConfig::new("written", 1)
        },
    );
    let written = client
        .produce(produce("written", 0, &["x"], Acks::Written))
        .unwrap();
    assert_eq!(written.acknowledged, Acknowledged::Written);
    let state = describe(&mut client, "written").partitions[0];
    assert_eq!(
        (state.end_offset, state.visible_end, state.durable_offset),
        (1, 1, 0)
    );
    assert_eq!(client.read_all("written", 0, 0), [(0, b"x".to_vec())]);
    let durable = client
        .produce(produce("written", 0, &["y"], Acks::Durable))
        .unwrap();
    assert_eq!(durable.acknowledged, Acknowledged::Durable);
    assert_eq!(
        describe(&mut client, "written").partitions[0].durable_offset,
        2
    );
    // The topic's own policy applies when a request names none.
    let default = client
        .produce(Produce {
            acks: None,
            ..produce("durable", 0, &["d5"], Acks::None)
        })
        .unwrap();
    assert_eq!(default.acknowledged, Acknowledged::Durable);
    client.close();
}

#[test]
fn a_flush_interval_topic_is_synced_when_its_interval_is_up_without_being_asked() {
    let directory = TempDir::new("store-interval");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(
        &mut client,
        TopicConfig {
            visibility: Visibility::Written {
                flush_interval: Duration::from_millis(20),
            },
            ..TopicConfig::new("flushed", 1)
        },
    );
    let syncs = client.store.stats().syncs.load(Ordering::Relaxed);
    let written = client
        .produce(produce("flushed", 0, &["a", "b"], Acks::Written))
        .unwrap();
    assert_eq!(written.acknowledged, Acknowledged::Written);
    // Nobody asks for durability: the storage thread's own deadline syncs it, and
    // the notice says so.
    let deadline = Instant::now() + TIMEOUT;
    while !client
        .notices
        .iter()
        .any(|notice| &*notice.topic == "flushed" && notice.durable == Some(2))
    {
        assert!(
            Instant::now() < deadline,
            "never synced: {:?}",
            client.notices
        );
        client.wait_for_output(deadline);
    }
    assert_eq!(
        client.store.stats().syncs.load(Ordering::Relaxed),
        syncs + 1
    );
    assert_eq!(
        describe(&mut client, "flushed").partitions[0].durable_offset,
        2
    );
    client.close();
}

#[test]
fn durable_requests_of_many_producers_in_one_batch_share_one_fsync_per_partition() {
    let directory = TempDir::new("store-group");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("group", 3));
    let before = client.store.stats().syncs.load(Ordering::Relaxed);
    // Eight producers, two partitions (partition 2 untouched).
    let requests = (0..8)
        .map(|producer| {
            let value = format!("producer {producer}");
            Request::Produce(produce_as(
                "group",
                producer % 2,
                &[&value],
                producer as i64 + 100,
                0,
                0,
            ))
        })
        .collect();
    let results = client.call_batch(requests);
    let syncs = client.store.stats().syncs.load(Ordering::Relaxed) - before;
    assert_eq!(
        syncs, 2,
        "one fsync per dirty partition for the whole batch"
    );
    for result in results {
        let Ok(Reply::Produced(produced)) = result else {
            panic!("{result:?}");
        };
        assert_eq!(produced.acknowledged, Acknowledged::Durable);
        assert!(produced.durable_offset > produced.last_offset);
    }
    let state = describe(&mut client, "group");
    assert_eq!(state.partitions[0].durable_offset, 4);
    assert_eq!(state.partitions[1].durable_offset, 4);
    assert_eq!(state.partitions[2].end_offset, 0);
    client.close();
}

#[test]
fn an_idempotent_retry_gets_its_original_offsets_before_and_after_a_reopen() {
    let directory = TempDir::new("store-idempotent");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("pay", 1));
    let Ok(Reply::ProducerId { id, epoch }) =
        client.call(Request::InitProducerId { existing: None })
    else {
        panic!("no producer id");
    };
    assert_eq!(epoch, 0);
    let first = client
        .produce(produce_as("pay", 0, &["a", "b", "c"], id, 0, 0))
        .unwrap();
    client
        .produce(produce("pay", 0, &["other"], Acks::Durable))
        .unwrap();
    let second = client
        .produce(produce_as("pay", 0, &["d", "e"], id, 0, 3))
        .unwrap();
    assert_eq!(
        (first.base_offset, first.last_offset, first.duplicate),
        (0, 2, false)
    );
    assert_eq!((second.base_offset, second.last_offset), (4, 5));
    let retry = client
        .produce(produce_as("pay", 0, &["a", "b", "c"], id, 0, 0))
        .unwrap();
    assert_eq!(
        (retry.base_offset, retry.last_offset, retry.duplicate),
        (0, 2, true)
    );
    assert_eq!(retry.acknowledged, Acknowledged::Durable);
    match client.produce(produce_as("pay", 0, &["gap"], id, 0, 9)) {
        Err(StoreError::OutOfOrderSequence {
            producer_id,
            expected: 5,
            found: 9,
        }) => {
            assert_eq!(producer_id, id)
        }
        other => panic!("{other:?}"),
    }
    client.close();

    let mut client = Client::open(settings(&directory)).unwrap();
    let retry = client
        .produce(produce_as("pay", 0, &["d", "e"], id, 0, 3))
        .unwrap();
    assert_eq!(
        (retry.base_offset, retry.last_offset, retry.duplicate),
        (4, 5, true)
    );
    assert_eq!(
        client.read_all("pay", 0, 0).len(),
        6,
        "nothing written twice"
    );
    // A new epoch starts at 0 and fences the old one.
    client
        .produce(produce_as("pay", 0, &["f"], id, 1, 0))
        .unwrap();
    assert!(matches!(
        client.produce(produce_as("pay", 0, &["g"], id, 0, 5)),
        Err(StoreError::ProducerFenced {
            epoch: 0,
            current_epoch: 1,
            ..
        })
    ));
    client.close();
}

#[test]
fn producer_ids_are_never_handed_out_twice_across_reopens() {
    let directory = TempDir::new("store-ids");
    let mut seen = Vec::new();
    for round in 0..3 {
        let mut settings = settings(&directory);
        settings.producer_id_block = 4;
        let mut client = Client::open(settings).unwrap();
        for _ in 0..(3 + round * 3) {
            let Ok(Reply::ProducerId { id, .. }) =
                client.call(Request::InitProducerId { existing: None })
            else {
                panic!("no producer id");
            };
            assert!(
                seen.last().is_none_or(|last| id > *last),
                "{id} after {seen:?}"
            );
            seen.push(id);
        }
        client.close();
    }
    assert_eq!(seen.len(), 18);
}

#[test]
fn unknown_topics_and_partitions_are_errors_naming_them() {
    let directory = TempDir::new("store-unknown");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("two", 2));
    assert!(matches!(
        client.produce(produce("nope", 0, &["x"], Acks::Durable)),
        Err(StoreError::UnknownTopic(name)) if name == "nope"
    ));
    let error = client
        .produce(produce("two", 5, &["x"], Acks::Durable))
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::UnknownPartition {
                partition: 5,
                partitions: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("partitions 0 to 1"), "{error}");
    for request in [
        Request::DescribeTopic {
            topic: "nope".to_owned(),
        },
        Request::DeleteTopic {
            topic: "nope".to_owned(),
        },
        Request::Fetch(Fetch {
            topic: "nope".to_owned(),
            partition: 0,
            offset: 0,
            max_bytes: 100,
            decode: false,
        }),
    ] {
        assert!(matches!(
            client.call(request),
            Err(StoreError::UnknownTopic(_))
        ));
    }
    assert!(matches!(
        client.call(Request::ListOffsets {
            topic: "two".to_owned(),
            partition: 2,
            position: OffsetPosition::Latest
        }),
        Err(StoreError::UnknownPartition { partition: 2, .. })
    ));
    // A stored batch needs a partition; bad bytes are the log's error, not a panic.
    assert!(matches!(
        client.produce(Produce {
            partition: Target::FirstKey,
            payload: Payload::Batch(Bytes::from_static(b"not a batch")),
            ..produce("two", 0, &[], Acks::Durable)
        }),
        Err(StoreError::InvalidRequest(_))
    ));
    assert!(matches!(
        client.produce(Produce {
            payload: Payload::Batch(Bytes::from_static(b"not a batch")),
            ..produce("two", 0, &[], Acks::Durable)
        }),
        Err(StoreError::Log { partition: 0, .. })
    ));
    assert!(matches!(
        client.produce(produce("two", 0, &[], Acks::Durable)),
        Err(StoreError::Log { .. })
    ));
    client.close();
}

#[test]
fn an_offset_out_of_range_names_the_earliest_and_latest_offsets() {
    let directory = TempDir::new("store-range");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("range", 1));
    for value in ["0", "1", "2", "3", "4"] {
        client
            .produce(produce("range", 0, &[value], Acks::Durable))
            .unwrap();
    }
    assert!(matches!(
        client.call(Request::DeleteRecords {
            topic: "range".to_owned(),
            partition: 0,
            before: 2
        }),
        Ok(Reply::LogStart(2))
    ));
    for requested in [0, 99] {
        let error = client
            .call(Request::Fetch(Fetch {
                topic: "range".to_owned(),
                partition: 0,
                offset: requested,
                max_bytes: 1 << 20,
                decode: false,
            }))
            .unwrap_err();
        match &error {
            StoreError::OffsetOutOfRange {
                requested: r,
                earliest: 2,
                latest: 5,
                ..
            } => {
                assert_eq!(*r, requested)
            }
            other => panic!("{other:?}"),
        }
        assert!(
            error
                .to_string()
                .contains("the earliest offset is 2 and the latest 5"),
            "{error}"
        );
    }
    // At the end is not out of range: nothing yet.
    assert_eq!(client.read_all("range", 0, 5), []);
    assert_eq!(client.read_all("range", 0, 2).len(), 3);
    client.close();
}

#[test]
fn keyless_produces_go_round_robin_and_keyed_ones_where_murmur2_says() {
    let directory = TempDir::new("store-keys");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("keyed", 7));
    let keyed = |key: &'static [u8]| Produce {
        partition: Target::FirstKey,
        payload: Payload::Records(vec![ProduceRecord::new(
            Some(Bytes::from_static(key)),
            Bytes::from_static(b"v"),
            0,
        )]),
        ..produce("keyed", 0, &[], Acks::Written)
    };
    // Kafka's Java client puts key "21" in partition toPositive(-973932308) % 7.
    assert_eq!(partition_for_key(b"21", 7), Some(1_173_551_340 % 7));
    for key in [&b"21"[..], b"foobar", b"abc", b"21"] {
        let produced = client.produce(keyed(key)).unwrap();
        assert_eq!(Some(produced.partition), partition_for_key(key, 7));
    }
    let mut partitions: Vec<u32> = (0..7)
        .map(|_| {
            client
                .produce(Produce {
                    partition: Target::FirstKey,
                    ..produce("keyed", 0, &["v"], Acks::Written)
                })
                .unwrap()
                .partition
        })
        .collect();
    partitions.sort_unstable();
    assert_eq!(partitions, [0, 1, 2, 3, 4, 5, 6]);
    client.close();
}

#[test]
fn offsets_are_listed_by_position_and_time() {
    let directory = TempDir::new("store-offsets");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("times", 1));
    for (value, timestamp) in [("a", 1_000), ("b", 2_000), ("c", 3_000)] {
        client
            .produce(Produce {
                payload: Payload::Records(vec![ProduceRecord::new(
                    None,
                    Bytes::from_static(value.as_bytes()),
                    timestamp,
                )]),
                ..produce("times", 0, &[], Acks::Durable)
            })
            .unwrap();
    }
    let mut offset = |position| match client.call(Request::ListOffsets {
        topic: "times".to_owned(),
        partition: 0,
        position,
    }) {
        Ok(Reply::Offset(offset)) => offset,
        other => panic!("{other:?}"),
    };
    assert_eq!(offset(OffsetPosition::Earliest), Some(0));
    assert_eq!(offset(OffsetPosition::Latest), Some(3));
    assert_eq!(offset(OffsetPosition::Timestamp(1_500)), Some(1));
    assert_eq!(offset(OffsetPosition::Timestamp(0)), Some(0));
    assert_eq!(offset(OffsetPosition::Timestamp(5_000)), None);
    client.close();
}

#[test]
fn notices_say_how_far_consumers_can_read() {
    let directory = TempDir::new("store-notices");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("watched", 2));
    client
        .produce(produce("watched", 1, &["a", "b"], Acks::Written))
        .unwrap();
    client
        .produce(produce("watched", 1, &["c"], Acks::Durable))
        .unwrap();
    // The durable topic syncs every written partition at the end of its batch, so
    // the notices reach 3 for data, durability and visibility.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut notices = Vec::new();
        client.store.take_notices(&mut notices);
        client.notices.extend(notices);
        let merged = client
            .notices
            .iter()
            .filter(|notice| &*notice.topic == "watched" && notice.partition == 1);
        let reached = merged.fold((0, 0, 0), |seen, notice| {
            (
                seen.0.max(notice.new_data.unwrap_or(0)),
                seen.1.max(notice.durable.unwrap_or(0)),
                seen.2.max(notice.visible_end.unwrap_or(0)),
            )
        });
        if reached == (3, 3, 3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "notices reached only {reached:?}"
        );
        // Notices are taken with completions; ask for one to be woken again.
        let _ = client.call(Request::ListTopics);
    }
    assert!(client.notices.iter().all(|notice| notice.partition == 1));
    client.close();
}

#[test]
fn a_full_queue_is_refused_and_nothing_is_buffered_past_the_bound() {
    let directory = TempDir::new("store-busy");
    let mut settings = settings(&directory);
    settings.max_in_flight = 4;
    let mut client = Client::open(settings).unwrap();
    let five = (0..5).map(|id| (id, Request::ListTopics)).collect();
    assert!(matches!(
        client.store.submit_batch(five),
        Err(StoreError::Busy { limit: 4 })
    ));
    let ids = client.submit_batch(vec![Request::ListTopics; 4]);
    // Four are in flight until their completions are taken, however fast the
    // storage thread is.
    assert!(matches!(
        client.store.submit(99, Request::ListTopics),
        Err(StoreError::Busy { limit: 4 })
    ));
    for id in ids {
        assert!(matches!(client.wait(id), Ok(Reply::Topics(_))));
    }
    assert!(client.call(Request::ListTopics).is_ok());
    client.close();
}

#[test]
fn a_partition_that_cannot_be_opened_stops_the_store_with_its_name() {
    let directory = TempDir::new("store-damaged");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("hurt", 3));
    client.close();
    let data = directory.0.join("data");
    std::fs::remove_dir_all(data.join("topics/hurt/1")).unwrap();
    match Client::open(settings(&directory)) {
        Err(error @ StoreError::Damaged { partition: 1, .. }) => {
            assert!(error.to_string().contains("\"hurt\""), "{error}");
            assert!(error.to_string().contains("missing"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    // A partition locked by another writer (a second store on the same data).
    std::fs::create_dir_all(data.join("topics/hurt/1")).unwrap();
    let first = Client::open(settings(&directory)).unwrap();
    match Client::open(settings(&directory)) {
        Err(error @ StoreError::Damaged { others: 2, .. }) => {
            assert!(error.to_string().contains("locked"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    first.close();
    std::fs::write(data.join("topics/hurt/topic.json"), b"{ not json").unwrap();
    assert!(matches!(
        Client::open(settings(&directory)),
        Err(StoreError::Metadata { .. })
    ));
}

#[test]
fn the_cleaner_applies_retention_to_every_partition() {
    let directory = TempDir::new("store-cleaner");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(
        &mut client,
        TopicConfig {
            segment_bytes: Some(512),
            retention_bytes: Some(600),
            ..TopicConfig::new("short", 2)
        },
    );
    let value = "v".repeat(100);
    // Durable acknowledgements: every record is visible once its answer came
    // (a written one may still wait for its fsync on this durable-visibility topic).
    for _ in 0..20 {
        for partition in 0..2 {
            client
                .produce(produce("short", partition, &[&value], Acks::Durable))
                .unwrap();
        }
    }
    // Rolls nudge the cleaner; wait for it to have moved both partitions' starts.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let state = describe(&mut client, "short");
        if state
            .partitions
            .iter()
            .all(|partition| partition.start_offset > 0)
        {
            assert!(client.store.stats().cleaner_passes.load(Ordering::Relaxed) > 0);
            break;
        }
        assert!(Instant::now() < deadline, "retention never ran: {state:?}");
        std::thread::yield_now();
    }
    let start = describe(&mut client, "short").partitions[0].start_offset;
    assert_eq!(client.read_all("short", 0, start).len() as u64, 20 - start);
    client.close();
}

#[test]
fn a_topic_grows_by_partitions_keeps_its_records_and_survives_a_reopen() {
    let directory = TempDir::new("store-grow");
    let mut client = Client::open(settings(&directory)).unwrap();
    create(&mut client, TopicConfig::new("grown", 2));
    for partition in 0..2 {
        client
            .produce(produce("grown", partition, &["before"], Acks::Durable))
            .unwrap();
    }
    // A growth that crashed earlier left a directory past the count (garbage in
    // it): it is replaced, not trusted.
    let stray = directory.0.join("data/topics/grown/3");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("00000000000000000000.log"), b"not a log").unwrap();
    let grow = |total| Request::CreatePartitions {
        topic: "grown".to_owned(),
        total,
    };
    match client.call(grow(4)) {
        Ok(Reply::TopicCreated(config)) => assert_eq!(config.partitions, 4),
        other => panic!("grow: {other:?}"),
    }
    for (total, current) in [(4, 4), (3, 4), (10_001, 4)] {
        match client.call(grow(total)) {
            Err(StoreError::InvalidPartitions {
                current: found,
                requested,
                ..
            }) => assert_eq!((found, requested), (current, total)),
            other => panic!("grow to {total}: {other:?}"),
        }
    }
    assert!(matches!(
        client.call(Request::CreatePartitions {
            topic: "none".to_owned(),
            total: 2
        }),
        Err(StoreError::UnknownTopic(_))
    ));
    let produced = client
        .produce(produce("grown", 3, &["new"], Acks::Durable))
        .unwrap();
    assert_eq!(produced.base_offset, 0, "the new partition starts empty");
    client.close();

    let mut client = Client::open(settings(&directory)).unwrap();
    let description = describe(&mut client, "grown");
    let ends: Vec<u64> = description
        .partitions
        .iter()
        .map(|partition| partition.end_offset)
        .collect();
    assert_eq!(ends, [1, 1, 0, 1]);
    assert_eq!(client.read_all("grown", 0, 0), [(0, b"before".to_vec())]);
    assert_eq!(client.read_all("grown", 3, 0), [(0, b"new".to_vec())]);
    client.close();
}
