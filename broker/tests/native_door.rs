//! The native door end to end: the real `sinew-broker` binary on a free port and
//! a temporary data directory, and sinew DEALERs speaking the protocol through the
//! codec's client side. Topics are created, listed and described; records are
//! produced with each acknowledgement level, by key and idempotently, and read back
//! in both fetch modes from offsets, positions and timestamps; errors come back
//! with their documented codes; a malformed request, or a stored batch whose CRC-32C
//! does not match (`BAD_CRC`, checked on the storage thread), does not stop the
//! broker serving others; a topic survives a restart with its offsets.
//!
//! Every reply is awaited with a deadline (the DEALER's receive timeout); a test
//! never sleeps to let something happen.

mod native_client;
mod util;

use bytes::Bytes;
use native_client::*;
use sinew_broker::doors::native::*;
use util::{TempDir, sinew_broker, sinew_broker_in};

#[test]
fn topics_are_created_listed_and_described() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("orders", 3)), ResponseBody::CreateTopic);
    assert_eq!(client.call(create("audit", 1)), ResponseBody::CreateTopic);
    let exists = error_of(client.call(create("orders", 3)));
    assert_eq!(exists.code, ErrorCode::TopicExists);

    let ResponseBody::ListTopics(topics) = client.call(RequestBody::ListTopics) else {
        panic!("expected a topic list");
    };
    let listed: Vec<(&str, u32)> = topics
        .iter()
        .map(|summary| (summary.name.as_str(), summary.partitions))
        .collect();
    assert_eq!(listed, [("audit", 1), ("orders", 3)]);

    let ResponseBody::DescribeTopic(description) =
        client.call(RequestBody::DescribeTopic(topic("orders")))
    else {
        panic!("expected a description");
    };
    assert_eq!(description.config.partitions, 3);
    assert_eq!(description.partitions.len(), 3);
    assert!(description.partitions.iter().all(|partition| {
        partition.start_offset == 0 && partition.end_offset == 0 && partition.size_bytes == 0
    }));

    // Sizes: partition 0's is the bytes of the batches stored in it.
    client.call(produce("orders", Acks::Durable, &["a", "b"]));
    client.call(produce("orders", Acks::Durable, &["c"]));
    let ResponseBody::Fetch(stored) =
        client.call(fetch("orders", Position::Offset(0), FetchMode::Batches))
    else {
        panic!("expected a fetch result");
    };
    let FetchData::Batches(batches) = stored.data else {
        panic!("expected batches");
    };
    let stored_bytes: u64 = batches.iter().map(|batch| batch.len() as u64).sum();
    assert_eq!(batches.len(), 2);
    let ResponseBody::DescribeTopic(description) =
        client.call(RequestBody::DescribeTopic(topic("orders")))
    else {
        panic!("expected a description");
    };
    let sizes: Vec<(u64, u64)> = description
        .partitions
        .iter()
        .map(|partition| (partition.end_offset, partition.size_bytes))
        .collect();
    assert_eq!(sizes, [(3, stored_bytes), (0, 0), (0, 0)]);
    let unknown = error_of(client.call(RequestBody::DescribeTopic(topic("nope"))));
    assert_eq!(unknown.code, ErrorCode::UnknownTopic);
}

#[test]
fn produce_with_each_ack_level_and_read_back_in_both_modes() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("events", 1)), ResponseBody::CreateTopic);

    let ResponseBody::Produce(durable) = client.call(produce("events", Acks::Durable, &["a", "b"]))
    else {
        panic!("expected a produce result");
    };
    assert_eq!((durable.base_offset, durable.last_offset), (0, 1));
    assert_eq!(durable.acknowledged, Acknowledged::Durable);
    // The durable acknowledgement came after an fsync, which monitoring counts.
    let metrics = util::http_get(server.http.expect("the monitoring port"), "/metrics");
    let fsyncs = metrics
        .lines()
        .find_map(|line| line.strip_prefix("sinew_store_fsyncs_total "))
        .and_then(|value| value.parse::<u64>().ok());
    assert!(fsyncs.is_some_and(|count| count >= 1), "{metrics}");

    let ResponseBody::Produce(written) = client.call(produce("events", Acks::Written, &["c"]))
    else {
        panic!("expected a produce result");
    };
    assert_eq!((written.base_offset, written.last_offset), (2, 2));

    // acks 0: no response at all; the next request's answer comes first.
    client.send(produce("events", Acks::None, &["d"]));
    let ResponseBody::Produce(last) = client.call(produce("events", Acks::Durable, &["e"])) else {
        panic!("expected a produce result");
    };
    assert_eq!(last.base_offset, 4, "the acks-0 record took offset 3");

    let expected: Vec<(u64, String)> = ["a", "b", "c", "d", "e"]
        .iter()
        .enumerate()
        .map(|(offset, value)| (offset as u64, (*value).to_owned()))
        .collect();
    let from_start = values(client.call(fetch("events", Position::Earliest, FetchMode::Records)));
    assert_eq!(from_start, expected);
    let from_two = values(client.call(fetch("events", Position::Offset(2), FetchMode::Records)));
    assert_eq!(from_two, expected[2..]);

    let ResponseBody::Fetch(result) =
        client.call(fetch("events", Position::Offset(0), FetchMode::Batches))
    else {
        panic!("expected a fetch result");
    };
    assert_eq!((result.next_offset, result.end_offset), (5, 5));
    let FetchData::Batches(batches) = result.data else {
        panic!("expected batches");
    };
    let mut stored = Vec::new();
    for batch in &batches {
        for record in sinew_log::decode_records(batch).expect("a stored batch decodes") {
            stored.push((
                record.offset,
                String::from_utf8_lossy(&record.value.unwrap_or_default()).into_owned(),
            ));
        }
    }
    assert_eq!(stored, expected);

    let ResponseBody::Fetch(at_end) =
        client.call(fetch("events", Position::Latest, FetchMode::Records))
    else {
        panic!("expected a fetch result");
    };
    assert_eq!(at_end.next_offset, 5);
    assert_eq!(at_end.data, FetchData::Records(Vec::new()));
}

#[test]
fn a_fetch_answer_keeps_to_the_frame_limit_and_the_rest_comes_next() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("many", 1)), ResponseBody::CreateTopic);
    // 17000 one-record batches, 60 requests in flight at a time (the limit is 64),
    // then a durable one.
    let total = 17_000u64;
    let mut sent = 0u64;
    let mut answered = 0u64;
    while answered < total {
        while sent < total && sent - answered < 60 {
            client.send(produce("many", Acks::Written, &["v"]));
            sent += 1;
        }
        let response = client.receive();
        assert!(
            matches!(response.body, ResponseBody::Produce(_)),
            "{response:?}"
        );
        answered += 1;
    }
    // The topic shows durable records only: one more record, acknowledged as
    // durable, makes every earlier one visible too (one fsync covers them all).
    let ResponseBody::Produce(last) = client.call(produce("many", Acks::Durable, &["v"])) else {
        panic!("expected a produce result");
    };
    assert_eq!(last.base_offset, total);
    let total = total + 1;
    let whole = |body: RequestBody| match body {
        RequestBody::Fetch(mut fetch) => {
            fetch.max_bytes = 64 << 20;
            RequestBody::Fetch(fetch)
        }
        other => other,
    };
    // Records: at most (16384 - 2) / 3 in one answer, which the client decodes
    // with the protocol's limits; the next FETCH goes on from there.
    let first = values(client.call(whole(fetch(
        "many",
        Position::Offset(0),
        FetchMode::Records,
    ))));
    assert_eq!(first.len(), 5460);
    assert_eq!(first.last().map(|(offset, _)| *offset), Some(5459));
    let rest = values(client.call(whole(fetch(
        "many",
        Position::Offset(5460),
        FetchMode::Records,
    ))));
    assert_eq!(rest.len(), 5460);
    assert_eq!(rest.first().map(|(offset, _)| *offset), Some(5460));
    // Batches: at most 16383 frames after the header; the next FETCH has the rest.
    let mut batches = |start: u64| {
        let ResponseBody::Fetch(result) = client.call(whole(fetch(
            "many",
            Position::Offset(start),
            FetchMode::Batches,
        ))) else {
            panic!("expected a fetch result");
        };
        let FetchData::Batches(frames) = result.data else {
            panic!("expected batches");
        };
        (result.next_offset, frames.len() as u64)
    };
    assert_eq!(batches(0), (16_383, 16_383));
    assert_eq!(batches(16_383), (total, total - 16_383));
}

#[test]
fn out_of_range_offsets_and_unknown_topics_get_their_codes() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("small", 1)), ResponseBody::CreateTopic);
    client.call(produce("small", Acks::Durable, &["x", "y"]));

    let beyond = error_of(client.call(fetch("small", Position::Offset(100), FetchMode::Records)));
    assert_eq!(beyond.code, ErrorCode::OffsetOutOfRange);
    assert_eq!(beyond.details, [0, 2], "earliest and latest");

    let unknown = error_of(client.call(fetch("missing", Position::Offset(0), FetchMode::Records)));
    assert_eq!(unknown.code, ErrorCode::UnknownTopic);
    let unknown = error_of(client.call(produce("missing", Acks::Written, &["z"])));
    assert_eq!(unknown.code, ErrorCode::UnknownTopic);
}

#[test]
fn a_malformed_request_is_answered_and_everyone_is_still_served() {
    let server = sinew_broker(&[]);
    let mut bad = Client::connect(&server);
    let mut good = Client::connect(&server);

    // A FETCH whose header is cut short.
    let mut frames = encode_request(&Request {
        correlation_id: 77,
        body: fetch("any", Position::Earliest, FetchMode::Records),
    });
    frames[0] = frames[0].slice(..40);
    bad.send_frames(frames);
    let response = bad.receive();
    assert_eq!(response.correlation_id, 77);
    assert_eq!(error_of(response.body).code, ErrorCode::Malformed);
    // Frames that are not the protocol at all.
    bad.send_frames(vec![Bytes::from_static(b"hello")]);
    assert_eq!(error_of(bad.receive().body).code, ErrorCode::Malformed);

    assert_eq!(good.call(create("fine", 1)), ResponseBody::CreateTopic);
    assert!(matches!(
        bad.call(RequestBody::ListTopics),
        ResponseBody::ListTopics(topics) if topics.len() == 1
    ));
}

#[test]
fn a_topic_survives_a_restart_with_its_offsets() {
    let data = TempDir::new("native-restart");
    {
        let server = sinew_broker_in(&data.0, &[]);
        let mut client = Client::connect(&server);
        assert_eq!(client.call(create("kept", 2)), ResponseBody::CreateTopic);
        let ResponseBody::Produce(produced) =
            client.call(produce("kept", Acks::Durable, &["one", "two", "three"]))
        else {
            panic!("expected a produce result");
        };
        assert_eq!(produced.last_offset, 2);
        // Dropping the server kills it (SIGKILL): durable records must survive.
    }
    let server = sinew_broker_in(&data.0, &[]);
    let mut client = Client::connect(&server);
    let ResponseBody::DescribeTopic(description) =
        client.call(RequestBody::DescribeTopic(topic("kept")))
    else {
        panic!("expected a description");
    };
    assert_eq!(description.partitions.len(), 2);
    assert_eq!(description.partitions[0].end_offset, 3);
    let read = values(client.call(fetch("kept", Position::Earliest, FetchMode::Records)));
    let read: Vec<&str> = read.iter().map(|(_, value)| value.as_str()).collect();
    assert_eq!(read, ["one", "two", "three"]);
    let ResponseBody::Produce(next) = client.call(produce("kept", Acks::Written, &["four"])) else {
        panic!("expected a produce result");
    };
    assert_eq!(next.base_offset, 3, "offsets go on where they were");
}

#[test]
fn offsets_are_found_by_position_and_timestamp_and_fetches_start_there() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("timed", 1)), ResponseBody::CreateTopic);
    let stamped = vec![
        record("k", "first", 1_000),
        record("k", "second", 2_000),
        record("k", "third", 3_000),
    ];
    client.call(records("timed", PartitionChoice::Index(0), stamped));
    let list = |query| {
        RequestBody::ListOffsets(ListOffsets {
            topic: topic("timed"),
            partition: 0,
            query,
        })
    };
    let offset = |body| match body {
        ResponseBody::ListOffsets(OffsetResult { offset, .. }) => offset,
        other => panic!("expected an offset, got {other:?}"),
    };
    assert_eq!(offset(client.call(list(Position::Earliest))), Some(0));
    assert_eq!(offset(client.call(list(Position::Latest))), Some(3));
    assert_eq!(
        offset(client.call(list(Position::Timestamp(1_500)))),
        Some(1)
    );
    assert_eq!(offset(client.call(list(Position::Timestamp(9_999)))), None);

    let from_time = values(client.call(fetch(
        "timed",
        Position::Timestamp(2_500),
        FetchMode::Records,
    )));
    assert_eq!(from_time, [(2, "third".to_owned())]);
    let after_all = values(client.call(fetch(
        "timed",
        Position::Timestamp(9_999),
        FetchMode::Records,
    )));
    assert!(after_all.is_empty());
}

#[test]
fn a_keyed_produce_goes_to_kafkas_partition_for_the_key() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("keyed", 3)), ResponseBody::CreateTopic);
    for key in ["user-42", "user-7", "order-1"] {
        let by_key = PartitionChoice::ByKey(Bytes::copy_from_slice(key.as_bytes()));
        let ResponseBody::Produce(produced) =
            client.call(records("keyed", by_key, vec![record(key, "v", -1)]))
        else {
            panic!("expected a produce result");
        };
        assert_eq!(
            Some(produced.partition),
            partition_for_key(key.as_bytes(), 3),
            "{key}"
        );
    }
    // The partition key decides, whatever keys the records carry (none, others),
    // in both formats; an empty key is murmur2 of no bytes.
    for key in ["user-42", "user-7", "order-1", ""] {
        let by_key = || PartitionChoice::ByKey(Bytes::copy_from_slice(key.as_bytes()));
        let expected = partition_for_key(key.as_bytes(), 3);
        let keyless = ProduceRecord {
            timestamp: -1,
            key: None,
            value: Some(Bytes::from_static(b"v")),
            headers: Vec::new(),
        };
        let records_body = records("keyed", by_key(), vec![record("other", "v", -1), keyless]);
        let batch = sinew_log::encode_batch(&[sinew_log::NewRecord::new(
            Some(b"another".to_vec()),
            b"v".to_vec(),
            1_700_000_000_000,
        )])
        .expect("a batch");
        let batch_body = RequestBody::Produce(Produce {
            topic: topic("keyed"),
            partition: by_key(),
            acks: Acks::Written,
            payload: ProducePayload::Batch(Bytes::from(batch)),
        });
        for body in [records_body, batch_body] {
            let ResponseBody::Produce(produced) = client.call(body) else {
                panic!("expected a produce result");
            };
            assert_eq!(Some(produced.partition), expected, "{key:?}");
        }
    }
}

#[test]
fn an_idempotent_retry_gets_its_original_offsets_and_is_not_written_twice() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("once", 1)), ResponseBody::CreateTopic);
    let ResponseBody::InitProducerId(grant) =
        client.call(RequestBody::InitProducerId(InitProducerId {
            existing: None,
        }))
    else {
        panic!("expected a producer id");
    };
    let send = |sequence: i32, value: &str| {
        RequestBody::Produce(Produce {
            topic: topic("once"),
            partition: PartitionChoice::Index(0),
            acks: Acks::Durable,
            payload: ProducePayload::Records {
                producer: Some(ProducerIdentity {
                    id: grant.id,
                    epoch: grant.epoch,
                    base_sequence: sequence,
                }),
                records: vec![record("k", value, -1)],
            },
        })
    };
    let ResponseBody::Produce(first) = client.call(send(0, "a")) else {
        panic!("expected a produce result");
    };
    let ResponseBody::Produce(retry) = client.call(send(0, "a")) else {
        panic!("expected a produce result");
    };
    assert!(!first.duplicate && retry.duplicate);
    assert_eq!(retry.base_offset, first.base_offset);
    let skipped = error_of(client.call(send(5, "b")));
    assert_eq!(skipped.code, ErrorCode::OutOfOrderSequence);
    let read = values(client.call(fetch("once", Position::Earliest, FetchMode::Records)));
    assert_eq!(read, [(0, "a".to_owned())]);
}

#[test]
fn a_new_epoch_fences_the_old_one_on_every_partition_across_a_restart() {
    let data = TempDir::new("epochs");
    let server = sinew_broker_in(&data.0, &[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("fenced", 2)), ResponseBody::CreateTopic);
    let init =
        |existing: Option<(i64, i16)>| RequestBody::InitProducerId(InitProducerId { existing });
    let ResponseBody::InitProducerId(first) = client.call(init(None)) else {
        panic!("expected a producer id");
    };
    assert_eq!(first.epoch, 0);
    let send = |partition: u32, epoch: i16, sequence: i32| {
        RequestBody::Produce(Produce {
            topic: topic("fenced"),
            partition: PartitionChoice::Index(partition),
            acks: Acks::Durable,
            payload: ProducePayload::Records {
                producer: Some(ProducerIdentity {
                    id: first.id,
                    epoch,
                    base_sequence: sequence,
                }),
                records: vec![record("k", "v", -1)],
            },
        })
    };
    assert!(matches!(
        client.call(send(0, 0, 0)),
        ResponseBody::Produce(_)
    ));
    // A new instance of the producer takes the next epoch.
    let ResponseBody::InitProducerId(second) = client.call(init(Some((first.id, 0)))) else {
        panic!("expected a new epoch");
    };
    assert_eq!((second.id, second.epoch), (first.id, 1));
    assert!(matches!(
        client.call(send(0, 1, 0)),
        ResponseBody::Produce(_)
    ));
    // The old instance is fenced, also on partition 1, where epoch 1 never wrote
    // (sequence 0 there, so only the epoch can refuse it).
    for (partition, sequence) in [(0, 1), (1, 0)] {
        let fenced = error_of(client.call(send(partition, 0, sequence)));
        assert_eq!(fenced.code, ErrorCode::ProducerFenced);
        assert_eq!(fenced.details, [1, 0], "current and sent epochs");
    }
    // So is the old instance asking for a new epoch with the one it holds.
    let stale = error_of(client.call(init(Some((first.id, 0)))));
    assert_eq!(stale.code, ErrorCode::ProducerFenced);
    let never = error_of(client.call(init(Some((first.id, 7)))));
    assert_eq!(never.code, ErrorCode::InvalidArgument);
    let unknown = error_of(client.call(init(Some((first.id + 100_000, 0)))));
    assert_eq!(unknown.code, ErrorCode::UnknownProducer);
    drop(client);
    drop(server); // SIGKILL

    let server = sinew_broker_in(&data.0, &[]);
    let mut client = Client::connect(&server);
    let fenced = error_of(client.call(send(1, 0, 0)));
    assert_eq!(fenced.code, ErrorCode::ProducerFenced);
    assert!(matches!(
        client.call(send(1, 1, 0)),
        ResponseBody::Produce(_)
    ));
    let ResponseBody::InitProducerId(third) = client.call(init(Some((first.id, 1)))) else {
        panic!("expected a new epoch");
    };
    assert_eq!((third.id, third.epoch), (first.id, 2));
}

#[test]
fn a_client_that_does_not_read_its_replies_is_cut_off_and_others_are_served() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("big", 1)), ResponseBody::CreateTopic);
    let value = "x".repeat(64 * 1024);
    for _ in 0..4 {
        client.call(produce("big", Acks::Written, &[value.as_str()]));
    }

    // A DEALER that takes one message into its queue and then stops reading asks
    // for 256 KiB again and again: the replies pile up in the broker.
    let context = sinew::Context::new();
    let greedy = context.socket(sinew::SocketType::Dealer).unwrap();
    greedy.set_receive_high_water_mark(1).unwrap();
    let monitor = greedy
        .monitor_events(sinew::EventMask::from(sinew::SocketEvent::Disconnected))
        .unwrap();
    greedy
        .connect(server.native.as_deref().expect("the native endpoint"))
        .unwrap();
    let request = RequestBody::Fetch(Fetch {
        topic: topic("big"),
        partition: 0,
        start: Position::Offset(0),
        mode: FetchMode::Batches,
        max_bytes: 256 * 1024,
        max_records: 0,
        max_wait_ms: 0,
        min_bytes: 0,
    });
    let deadline = std::time::Instant::now() + util::TIMEOUT;
    let mut correlation_id = 0u64;
    let cut_off = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "still connected after {correlation_id} requests"
        );
        // Sends until the connection's own queue is full, then looks for the
        // disconnection the broker causes.
        correlation_id += 1;
        let frames = encode_request(&Request {
            correlation_id,
            body: request.clone(),
        });
        let _ = greedy.send_with_timeout(
            sinew::Message::from_frames(frames),
            Some(std::time::Duration::from_millis(10)),
        );
        match monitor.try_recv() {
            Ok(event) => break event,
            Err(sinew::Error::WouldBlock) => {}
            Err(error) => panic!("the monitor failed: {error}"),
        }
    };
    assert_eq!(cut_off.event, sinew::SocketEvent::Disconnected);

    // Everyone else is still served.
    let ResponseBody::Produce(produced) = client.call(produce("big", Acks::Durable, &["after"]))
    else {
        panic!("expected a produce result");
    };
    assert_eq!(produced.base_offset, 4);
}

#[test]
fn a_batch_whose_crc_does_not_match_is_refused_with_bad_crc_and_everyone_is_still_served() {
    let server = sinew_broker(&[]);
    let mut bad = Client::connect(&server);
    let mut good = Client::connect(&server);
    assert_eq!(bad.call(create("checked", 1)), ResponseBody::CreateTopic);
    let batch_of = |value: &[u8]| {
        let record =
            sinew_log::NewRecord::new(Some(b"k".to_vec()), value.to_vec(), 1_700_000_000_000);
        sinew_log::encode_batch(&[record]).expect("a batch")
    };
    let produce_batch = |batch: Vec<u8>| {
        RequestBody::Produce(Produce {
            topic: topic("checked"),
            partition: PartitionChoice::Index(0),
            acks: Acks::Durable,
            payload: ProducePayload::Batch(Bytes::from(batch)),
        })
    };

    // One bit flipped in the stored CRC, in the attributes, in the last offset
    // delta (all in the header the loop thread does not check) and in the value:
    // the framing is right, the CRC-32C is not.
    let original = batch_of(b"corrupted");
    let value_at = original
        .windows(9)
        .position(|window| window == b"corrupted")
        .expect("the value is in the batch");
    for at in [17, 22, 26, value_at] {
        let mut flipped = original.clone();
        flipped[at] ^= 0x01;
        let refused = error_of(bad.call(produce_batch(flipped)));
        assert_eq!(refused.code, ErrorCode::BadCrc, "byte {at}: {refused:?}");
        assert_eq!(refused.code.code(), 11, "protocol.md's BAD_CRC");
    }

    // Nothing was stored, and both connections are still served.
    let ResponseBody::Produce(first) = good.call(produce_batch(batch_of(b"first"))) else {
        panic!("expected a produce result");
    };
    assert_eq!(first.base_offset, 0, "the refused batch took no offset");
    let ResponseBody::Produce(second) = bad.call(produce_batch(batch_of(b"second"))) else {
        panic!("expected a produce result");
    };
    assert_eq!(second.base_offset, 1);
    let read = values(good.call(fetch("checked", Position::Earliest, FetchMode::Records)));
    assert_eq!(read, [(0, "first".to_owned()), (1, "second".to_owned())]);

    // The base offset is not covered by the CRC (the broker rewrites it): a batch
    // whose base offset was changed is stored, at the partition's next offset.
    let mut rebased = batch_of(b"rebased");
    rebased[7] ^= 0x05;
    let ResponseBody::Produce(third) = bad.call(produce_batch(rebased)) else {
        panic!("expected a produce result");
    };
    assert_eq!(third.base_offset, 2);
}
