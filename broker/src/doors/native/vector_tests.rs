//! The hex examples of `broker/docs/protocol.md`, read from the page itself: each
//! decodes to the value written here, and that value encodes to exactly those bytes.
//! The examples were written with an encoder independent of this codec (Python's
//! `struct`, from the page's tables), so these tests hold the codec to the page.

use bytes::Bytes;

use super::*;

const PROTOCOL: &str = include_str!("../../../docs/protocol.md");
const TIMESTAMP: i64 = 1_700_000_000_000;

/// The frames of example `name`: the `text` block after `<!-- example: name -->`,
/// where a line `frame N: what, L bytes` starts frame N and every other line holds
/// hex bytes up to a `#`. Checks each frame's stated length.
fn example(name: &str) -> Vec<Bytes> {
    let marker = format!("<!-- example: {name} -->\n```text\n");
    let start = PROTOCOL
        .find(&marker)
        .expect("the example is in protocol.md")
        + marker.len();
    let block = &PROTOCOL[start..];
    let block = &block[..block.find("```").expect("the block ends")];
    let mut frames: Vec<(usize, Vec<u8>)> = Vec::new();
    for line in block.lines() {
        if let Some(title) = line.strip_prefix("frame ") {
            let index: usize = title.split(':').next().unwrap().parse().unwrap();
            assert_eq!(index, frames.len(), "{name}: frames in order");
            let stated = title.rsplit(", ").next().unwrap();
            let stated = stated.strip_suffix(" bytes").unwrap().parse().unwrap();
            frames.push((stated, Vec::new()));
            continue;
        }
        let data = line.split('#').next().unwrap();
        let frame = &mut frames.last_mut().expect("a frame line first").1;
        for token in data.split_whitespace() {
            assert_eq!(token.len(), 2, "{name}: {token:?} is not one hex byte");
            frame.push(u8::from_str_radix(token, 16).unwrap());
        }
    }
    frames
        .into_iter()
        .enumerate()
        .map(|(index, (stated, frame))| {
            assert_eq!(frame.len(), stated, "{name}: frame {index}'s length");
            Bytes::from(frame)
        })
        .collect()
}

fn check_request(name: &str, expected: Request) {
    let frames = example(name);
    assert_eq!(decode_request(&frames), Ok(expected.clone()), "{name}");
    assert_eq!(encode_request(&expected), frames, "{name}");
}

fn check_response(name: &str, expected: Response) {
    let frames = example(name);
    assert_eq!(decode_response(&frames), Ok(expected.clone()), "{name}");
    assert_eq!(encode_response(&expected), frames, "{name}");
}

fn topic(name: &'static str) -> TopicName {
    TopicName::new(name).unwrap()
}

fn trace_header() -> Vec<RecordHeader> {
    vec![RecordHeader::new("trace", Some(Bytes::from_static(b"ab"))).unwrap()]
}

fn request(correlation_id: u64, body: RequestBody) -> Request {
    Request {
        correlation_id,
        body,
    }
}

fn response(correlation_id: u64, body: ResponseBody) -> Response {
    Response {
        correlation_id,
        body,
    }
}

#[test]
fn produce_request_records_by_key() {
    let produce = Produce {
        topic: topic("orders"),
        partition: PartitionChoice::ByKey(Bytes::from_static(b"user-42")),
        acks: Acks::Durable,
        payload: ProducePayload::Records {
            producer: Some(ProducerIdentity {
                id: 1000,
                epoch: 0,
                base_sequence: 0,
            }),
            records: vec![ProduceRecord {
                timestamp: TIMESTAMP,
                key: Some(Bytes::from_static(b"user-42")),
                value: Some(Bytes::from_static(b"hello")),
                headers: trace_header(),
            }],
        },
    };
    check_request("produce-request", request(1, RequestBody::Produce(produce)));
}

#[test]
fn produce_request_batch_is_what_sinew_log_encodes() {
    let record = sinew_log::NewRecord::new(Some(b"user-42".to_vec()), b"hello".to_vec(), TIMESTAMP);
    let batch = sinew_log::encode_batch(&[record]).unwrap();
    sinew_log::check_produced_batch(&batch, false).expect("a valid batch, CRC included");
    let produce = Produce {
        topic: topic("orders"),
        partition: PartitionChoice::Index(3),
        acks: Acks::Written,
        payload: ProducePayload::Batch(Bytes::from(batch)),
    };
    check_request(
        "produce-batch-request",
        request(2, RequestBody::Produce(produce)),
    );
}

#[test]
fn produce_response() {
    let result = ProduceResult {
        partition: 4,
        acknowledged: Acknowledged::Durable,
        duplicate: false,
        base_offset: 41,
        last_offset: 41,
    };
    check_response(
        "produce-response",
        response(1, ResponseBody::Produce(result)),
    );
}

#[test]
fn the_keyed_example_lands_where_the_response_says() {
    // The example's response names partition 4 for "user-42"; that is murmur2's
    // choice among 6 partitions (the CREATE_TOPIC example's count).
    assert_eq!(partition_for_key(b"user-42", 6), Some(4));
}

#[test]
fn fetch_request() {
    let fetch = Fetch {
        topic: topic("orders"),
        partition: 4,
        start: Position::Offset(41),
        mode: FetchMode::Records,
        max_bytes: 1024 * 1024,
        max_records: 100,
        max_wait_ms: 500,
        min_bytes: 1,
    };
    check_request("fetch-request", request(3, RequestBody::Fetch(fetch)));
}

#[test]
fn fetch_response_records() {
    let result = FetchResult {
        partition: 4,
        next_offset: 42,
        end_offset: 42,
        durable_offset: 42,
        log_start_offset: 0,
        data: FetchData::Records(vec![FetchedRecord {
            offset: 41,
            timestamp: TIMESTAMP,
            key: Some(Bytes::from_static(b"user-42")),
            value: Some(Bytes::from_static(b"hello")),
            headers: trace_header(),
        }]),
    };
    check_response("fetch-response", response(3, ResponseBody::Fetch(result)));
}

#[test]
fn list_offsets() {
    let list = ListOffsets {
        topic: topic("orders"),
        partition: 0,
        query: Position::Timestamp(TIMESTAMP),
    };
    check_request(
        "list-offsets-request",
        request(4, RequestBody::ListOffsets(list)),
    );
    let result = OffsetResult {
        partition: 0,
        offset: Some(17),
        timestamp: TIMESTAMP + 123,
    };
    check_response(
        "list-offsets-response",
        response(4, ResponseBody::ListOffsets(result)),
    );
}

#[test]
fn init_producer_id() {
    let init = InitProducerId { existing: None };
    check_request(
        "init-producer-id-request",
        request(5, RequestBody::InitProducerId(init)),
    );
    let grant = ProducerGrant { id: 1000, epoch: 0 };
    check_response(
        "init-producer-id-response",
        response(5, ResponseBody::InitProducerId(grant)),
    );
}

#[test]
fn create_topic() {
    let create = CreateTopic {
        topic: topic("orders"),
        config: TopicConfig {
            partitions: 6,
            compact: false,
            ack_policy: Acks::None,
            visibility: Visibility::Durable,
            retention_ms: Some(7 * 24 * 3600 * 1000),
            retention_bytes: None,
            flush_interval_ms: 0,
        },
    };
    check_request(
        "create-topic-request",
        request(6, RequestBody::CreateTopic(create)),
    );
    check_response(
        "create-topic-response",
        response(6, ResponseBody::CreateTopic),
    );
}

#[test]
fn delete_topic() {
    check_request(
        "delete-topic-request",
        request(7, RequestBody::DeleteTopic(topic("orders"))),
    );
    check_response(
        "delete-topic-response",
        response(7, ResponseBody::DeleteTopic),
    );
}

#[test]
fn list_topics() {
    check_request("list-topics-request", request(8, RequestBody::ListTopics));
    let topics = vec![
        TopicSummary {
            name: topic("orders"),
            partitions: 6,
            compact: false,
        },
        TopicSummary {
            name: topic("users"),
            partitions: 1,
            compact: true,
        },
    ];
    check_response(
        "list-topics-response",
        response(8, ResponseBody::ListTopics(topics)),
    );
}

#[test]
fn describe_topic() {
    check_request(
        "describe-topic-request",
        request(9, RequestBody::DescribeTopic(topic("users"))),
    );
    let description = TopicDescription {
        config: TopicConfig {
            partitions: 1,
            compact: true,
            ack_policy: Acks::Durable,
            visibility: Visibility::Durable,
            retention_ms: None,
            retention_bytes: None,
            flush_interval_ms: 0,
        },
        partitions: vec![PartitionDescription {
            partition: 0,
            start_offset: 3,
            end_offset: 120,
            durable_offset: 118,
            size_bytes: 65536,
        }],
    };
    check_response(
        "describe-topic-response",
        response(9, ResponseBody::DescribeTopic(description)),
    );
}

#[test]
fn error_response_offset_out_of_range() {
    let error = ErrorResponse {
        command: Command::Fetch.code(),
        code: ErrorCode::OffsetOutOfRange,
        details: [100, 250],
        message: Some("offset 41 is out of range: earliest 100, latest 250".to_owned()),
    };
    check_response("error-response", response(3, ResponseBody::Error(error)));
}

#[test]
fn every_command_and_code_in_the_tables_is_the_codecs() {
    for command in Command::ALL {
        let row = format!("| `{:#06x}` | {} |", command.code(), command.name());
        assert!(PROTOCOL.contains(&row), "{row}");
        assert_eq!(Command::from_code(command.code()), Some(command));
    }
    for code in 1..=u16::from(u8::MAX) {
        let Some(error) = ErrorCode::from_code(code) else {
            continue;
        };
        if let ErrorCode::Other(_) = error {
            continue;
        }
        let row = format!("| {code} | `{}` |", error.name());
        assert!(PROTOCOL.contains(&row), "{row}");
    }
}
