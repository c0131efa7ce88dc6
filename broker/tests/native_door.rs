//! The native door end to end: the real `sinew-broker` binary on a free port and
//! a temporary data directory, and sinew DEALERs speaking the protocol through the
//! codec's client side. Topics are created, listed and described; records are
//! produced with each acknowledgement level and read back in both fetch modes;
//! errors come back with their documented codes; a malformed request does not
//! stop the broker serving others; a topic survives a restart with its offsets.
//!
//! Every reply is awaited with a deadline (the DEALER's receive timeout); a test
//! never sleeps to let something happen.

mod util;

use bytes::Bytes;
use sinew::{Context, Message, Socket, SocketType};
use sinew_broker::doors::native::{
    Acknowledged, Acks, CreateTopic, ErrorCode, ErrorResponse, Fetch, FetchData, FetchMode,
    InitProducerId, ListOffsets, OffsetResult, PartitionChoice, Position, Produce, ProducePayload,
    ProduceRecord, ProducerIdentity, Request, RequestBody, Response, ResponseBody, TopicConfig,
    TopicName, Visibility, decode_response, encode_request, partition_for_key,
};
use util::{TIMEOUT, TempDir, sinew_broker, sinew_broker_in};

/// A native client: a DEALER connected to the broker's door.
struct Client {
    dealer: Socket,
    next: u64,
    _context: Context,
}

impl Client {
    fn connect(server: &util::Server) -> Client {
        let context = Context::new();
        let dealer = context.socket(SocketType::Dealer).expect("a DEALER");
        let endpoint = server.native.as_deref().expect("the native endpoint");
        dealer.connect(endpoint).expect("connect");
        Client {
            dealer,
            next: 1,
            _context: context,
        }
    }

    /// Sends `body` with a fresh correlation id; returns that id.
    fn send(&mut self, body: RequestBody) -> u64 {
        let correlation_id = self.next;
        self.next += 1;
        let frames = encode_request(&Request {
            correlation_id,
            body,
        });
        self.send_frames(frames);
        correlation_id
    }

    fn send_frames(&self, frames: Vec<Bytes>) {
        self.dealer
            .send(Message::from_frames(frames))
            .expect("send");
    }

    /// The next response, within the deadline.
    fn receive(&self) -> Response {
        let message = self
            .dealer
            .recv_with_timeout(Some(TIMEOUT))
            .expect("a response before the deadline");
        decode_response(message.frames()).expect("a response that decodes")
    }

    /// Sends `body` and waits for its response.
    fn call(&mut self, body: RequestBody) -> ResponseBody {
        let id = self.send(body);
        let response = self.receive();
        assert_eq!(response.correlation_id, id, "{response:?}");
        response.body
    }
}

fn topic(name: &str) -> TopicName {
    TopicName::new(name.to_owned()).expect("a valid topic name")
}

fn create(name: &str, partitions: u32) -> RequestBody {
    RequestBody::CreateTopic(CreateTopic {
        topic: topic(name),
        config: TopicConfig {
            partitions,
            compact: false,
            ack_policy: Acks::None,
            visibility: Visibility::Durable,
            retention_ms: None,
            retention_bytes: None,
            flush_interval_ms: 0,
        },
    })
}

fn produce(name: &str, acks: Acks, values: &[&str]) -> RequestBody {
    RequestBody::Produce(Produce {
        topic: topic(name),
        partition: PartitionChoice::Index(0),
        acks,
        payload: ProducePayload::Records {
            producer: None,
            records: values
                .iter()
                .map(|value| ProduceRecord {
                    timestamp: -1,
                    key: Some(Bytes::from_static(b"k")),
                    value: Some(Bytes::copy_from_slice(value.as_bytes())),
                    headers: Vec::new(),
                })
                .collect(),
        },
    })
}

fn fetch(name: &str, start: Position, mode: FetchMode) -> RequestBody {
    RequestBody::Fetch(Fetch {
        topic: topic(name),
        partition: 0,
        start,
        mode,
        max_bytes: 1 << 20,
        max_records: 0,
        max_wait_ms: 0,
        min_bytes: 0,
    })
}

/// The error a response carries; fails on a success.
fn error_of(body: ResponseBody) -> ErrorResponse {
    match body {
        ResponseBody::Error(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The values a records-mode fetch returned, with their offsets.
fn values(body: ResponseBody) -> Vec<(u64, String)> {
    let ResponseBody::Fetch(result) = body else {
        panic!("expected a fetch result, got {body:?}");
    };
    let FetchData::Records(records) = result.data else {
        panic!("expected records");
    };
    records
        .into_iter()
        .map(|record| {
            let value = record.value.unwrap_or_default();
            (record.offset, String::from_utf8_lossy(&value).into_owned())
        })
        .collect()
}

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

fn long_poll(name: &str, offset: u64, max_wait_ms: u32) -> RequestBody {
    RequestBody::Fetch(Fetch {
        topic: topic(name),
        partition: 0,
        start: Position::Offset(offset),
        mode: FetchMode::Records,
        max_bytes: 1 << 20,
        max_records: 0,
        max_wait_ms,
        min_bytes: 1,
    })
}

#[test]
fn a_long_poll_waits_for_data_and_wakes_when_it_arrives() {
    let server = sinew_broker(&[]);
    let mut consumer = Client::connect(&server);
    let mut producer = Client::connect(&server);
    assert_eq!(producer.call(create("waits", 1)), ResponseBody::CreateTopic);

    let asked = std::time::Instant::now();
    let id = consumer.send(long_poll("waits", 0, 20_000));
    // Nothing to read yet: no answer while it waits.
    let early = consumer
        .dealer
        .recv_with_timeout(Some(std::time::Duration::from_millis(300)));
    assert!(early.is_err(), "answered before any data: {early:?}");

    producer.call(produce("waits", Acks::Durable, &["late"]));
    let response = consumer.receive();
    assert_eq!(response.correlation_id, id);
    assert_eq!(values(response.body), [(0, "late".to_owned())]);
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(10),
        "woken by the data, not by the end of its wait"
    );
}

#[test]
fn a_long_poll_answers_with_nothing_when_its_wait_ends() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("quiet", 1)), ResponseBody::CreateTopic);
    let asked = std::time::Instant::now();
    let answer = values(client.call(long_poll("quiet", 0, 300)));
    assert!(answer.is_empty());
    assert!(
        asked.elapsed() >= std::time::Duration::from_millis(300),
        "answered after {:?}, before its wait ended",
        asked.elapsed()
    );
}

#[test]
fn a_connection_over_its_pending_bound_gets_too_many_pending_and_others_are_served() {
    // The door's bound on one connection's pending requests (protocol.md,
    // "Limits"; parked fetches count).
    const BOUND: usize = 64;
    let server = sinew_broker(&[]);
    let mut greedy = Client::connect(&server);
    let mut other = Client::connect(&server);
    assert_eq!(other.call(create("busy", 1)), ResponseBody::CreateTopic);

    for _ in 0..BOUND + 5 {
        greedy.send(long_poll("busy", 0, 20_000));
    }
    // The five over the bound are refused at once; the rest wait for data.
    for _ in 0..5 {
        let refused = error_of(greedy.receive().body);
        assert_eq!(refused.code, ErrorCode::TooManyPending);
        assert_eq!(refused.details[0], BOUND as u64);
    }
    // Another connection is not held up by the first one's waiting requests.
    assert!(matches!(
        other.call(RequestBody::ListTopics),
        ResponseBody::ListTopics(_)
    ));
    other.call(produce("busy", Acks::Durable, &["now"]));
    for _ in 0..BOUND {
        assert_eq!(values(greedy.receive().body), [(0, "now".to_owned())]);
    }
    // Answered, they no longer count.
    assert_eq!(values(greedy.call(long_poll("busy", 0, 0))).len(), 1);
}

fn record(key: &str, value: &str, timestamp: i64) -> ProduceRecord {
    ProduceRecord {
        timestamp,
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
    }
}

fn records(name: &str, partition: PartitionChoice, records: Vec<ProduceRecord>) -> RequestBody {
    RequestBody::Produce(Produce {
        topic: topic(name),
        partition,
        acks: Acks::Durable,
        payload: ProducePayload::Records {
            producer: None,
            records,
        },
    })
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
fn an_empty_message_is_malformed_and_answers_the_connections_waiting_fetches() {
    let server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("idle", 1)), ResponseBody::CreateTopic);
    let waiting = client.send(long_poll("idle", 0, 20_000));
    let asked = std::time::Instant::now();
    client.send_frames(vec![Bytes::new()]);
    let mut answers = vec![client.receive(), client.receive()];
    answers.sort_by_key(|response| response.correlation_id);
    assert_eq!(answers[0].correlation_id, 0, "the empty message's error");
    let malformed = error_of(answers.remove(0).body);
    assert_eq!(malformed.code, ErrorCode::Malformed);
    assert_eq!(answers[0].correlation_id, waiting);
    assert!(values(answers.remove(0).body).is_empty());
    assert!(asked.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn on_sigterm_waiting_fetches_are_answered_and_the_broker_exits_0() {
    let mut server = sinew_broker(&[]);
    let mut client = Client::connect(&server);
    assert_eq!(client.call(create("ending", 1)), ResponseBody::CreateTopic);
    client.call(produce("ending", Acks::Durable, &["kept"]));
    let waiting = client.send(long_poll("ending", 1, 20_000));
    // The fetch is known to the broker once a later request is answered.
    assert!(matches!(
        client.call(RequestBody::ListTopics),
        ResponseBody::ListTopics(_)
    ));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let response = client.receive();
    assert_eq!(response.correlation_id, waiting);
    assert!(values(response.body).is_empty());
    let deadline = std::time::Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::park_timeout(std::time::Duration::from_millis(5));
    };
    assert_eq!(status.code(), Some(0));
}
