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
    assert!(
        description
            .partitions
            .iter()
            .all(|partition| partition.start_offset == 0 && partition.end_offset == 0)
    );
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
