//! Properties of the codec: every request and response encodes to frames that
//! decode to it again; whatever frames decode, they are exactly what the decoded
//! value encodes to (the encoding is canonical); and no input, however mangled,
//! makes either decoder panic.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

fn topic() -> impl Strategy<Value = TopicName> {
    "[a-zA-Z0-9._-]{1,24}"
        .prop_filter("not . or ..", |name| name != "." && name != "..")
        .prop_map(|name| TopicName::new(name).unwrap())
}

fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![0..100u64, 0..=i64::MAX as u64]
}

fn partition() -> impl Strategy<Value = u32> {
    prop_oneof![0..8u32, 0..=i32::MAX as u32]
}

fn record_headers() -> impl Strategy<Value = Vec<RecordHeader>> {
    vec(
        ("\\PC{0,8}", option::of(bytes(8)))
            .prop_map(|(name, value)| RecordHeader::new(name, value).unwrap()),
        0..3,
    )
}

fn produce_record() -> impl Strategy<Value = ProduceRecord> {
    (
        prop_oneof![Just(-1i64), 0..=i64::MAX],
        option::of(bytes(16)),
        option::of(bytes(32)),
        record_headers(),
    )
        .prop_map(|(timestamp, key, value, headers)| ProduceRecord {
            timestamp,
            key,
            value,
            headers,
        })
}

fn fetched_record() -> impl Strategy<Value = FetchedRecord> {
    (
        any::<u64>(),
        any::<i64>(),
        option::of(bytes(16)),
        option::of(bytes(32)),
        record_headers(),
    )
        .prop_map(|(offset, timestamp, key, value, headers)| FetchedRecord {
            offset,
            timestamp,
            key,
            value,
            headers,
        })
}

/// A RecordBatch-shaped frame: the framing the codec checks is right, the rest
/// arbitrary.
fn batch() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 61..128).prop_map(|mut batch| {
        let length = (batch.len() - 12) as i32;
        batch[8..12].copy_from_slice(&length.to_be_bytes());
        batch[16] = 2;
        Bytes::from(batch)
    })
}

fn acks() -> impl Strategy<Value = Acks> {
    prop_oneof![Just(Acks::None), Just(Acks::Written), Just(Acks::Durable)]
}

fn producer() -> impl Strategy<Value = Option<ProducerIdentity>> {
    let id = prop_oneof![Just(0), 0..=i64::MAX];
    let epoch = prop_oneof![Just(0), 0..=i16::MAX];
    let sequence = prop_oneof![Just(0), Just(i32::MAX), 0..=i32::MAX];
    option::of(
        (id, epoch, sequence).prop_map(|(id, epoch, base_sequence)| ProducerIdentity {
            id,
            epoch,
            base_sequence,
        }),
    )
}

fn produce() -> impl Strategy<Value = Produce> {
    let partition_choice = prop_oneof![
        partition().prop_map(PartitionChoice::Index),
        bytes(16).prop_map(PartitionChoice::ByKey),
    ];
    let payload = prop_oneof![
        batch().prop_map(ProducePayload::Batch),
        (producer(), vec(produce_record(), 1..5))
            .prop_map(|(producer, records)| ProducePayload::Records { producer, records }),
    ];
    (topic(), partition_choice, acks(), payload).prop_map(|(topic, partition, acks, payload)| {
        Produce {
            topic,
            partition,
            acks,
            payload,
        }
    })
}

fn position(offsets: bool) -> impl Strategy<Value = Position> {
    let offset = if offsets {
        offset().prop_map(Position::Offset).boxed()
    } else {
        Just(Position::Earliest).boxed()
    };
    prop_oneof![
        offset,
        Just(Position::Earliest),
        Just(Position::Latest),
        (0..=i64::MAX).prop_map(Position::Timestamp),
    ]
}

fn fetch() -> impl Strategy<Value = Fetch> {
    (
        topic(),
        partition(),
        position(true),
        prop_oneof![Just(FetchMode::Batches), Just(FetchMode::Records)],
        1..=u32::MAX,
        any::<[u32; 3]>(),
    )
        .prop_map(
            |(topic, partition, start, mode, max_bytes, [max_records, max_wait_ms, min_bytes])| {
                Fetch {
                    topic,
                    partition,
                    start,
                    mode,
                    max_bytes,
                    max_records,
                    max_wait_ms,
                    min_bytes,
                }
            },
        )
}

fn config() -> impl Strategy<Value = TopicConfig> {
    (
        1..=i32::MAX as u32,
        any::<bool>(),
        acks(),
        prop_oneof![Just(Visibility::Durable), Just(Visibility::Written)],
        option::of(0..=i64::MAX as u64),
        option::of(0..=i64::MAX as u64),
        any::<u32>(),
    )
        .prop_map(
            |(
                partitions,
                compact,
                ack_policy,
                visibility,
                retention_ms,
                retention_bytes,
                flush,
            )| {
                TopicConfig {
                    partitions,
                    compact,
                    ack_policy,
                    visibility,
                    retention_ms,
                    retention_bytes,
                    flush_interval_ms: flush,
                }
            },
        )
}

fn group_name(empty: bool) -> impl Strategy<Value = String> {
    let low = usize::from(!empty);
    proptest::string::string_regex(&format!("[a-z0-9.-]{{{low},20}}")).unwrap()
}

fn membership() -> impl Strategy<Value = Membership> {
    (
        group_name(false),
        group_name(true),
        option::of(group_name(false)),
    )
        .prop_map(|(group, member_id, instance_id)| Membership {
            group,
            member_id,
            instance_id,
        })
}

fn offsets_table(least: usize) -> impl Strategy<Value = Vec<(u32, u64)>> {
    vec((partition(), offset()), least..6)
}

fn group_request() -> impl Strategy<Value = RequestBody> {
    let assignor = prop_oneof![
        Just(AssignorChoice::Range),
        Just(AssignorChoice::RoundRobin),
        Just(AssignorChoice::CooperativeSticky),
    ];
    prop_oneof![
        (
            membership(),
            any::<u32>(),
            any::<u32>(),
            assignor,
            vec(topic(), 1..4)
        )
            .prop_map(
                |(member, session_timeout_ms, rebalance_timeout_ms, assignor, topics)| {
                    RequestBody::JoinGroup(JoinGroup {
                        member,
                        session_timeout_ms,
                        rebalance_timeout_ms,
                        assignor,
                        topics,
                    })
                }
            ),
        (membership(), any::<i32>()).prop_map(|(member, generation)| RequestBody::Heartbeat(
            Heartbeat { member, generation }
        )),
        membership().prop_map(RequestBody::LeaveGroup),
        (membership(), any::<i32>(), topic(), offsets_table(1)).prop_map(
            |(member, generation, topic, offsets)| {
                RequestBody::CommitOffsets(CommitOffsets {
                    member,
                    generation,
                    topic,
                    offsets,
                })
            }
        ),
        (group_name(false), topic())
            .prop_map(|(group, topic)| RequestBody::FetchOffsets(FetchOffsets { group, topic })),
    ]
}

fn group_response() -> impl Strategy<Value = ResponseBody> {
    prop_oneof![
        (
            any::<i32>(),
            group_name(false),
            vec((topic(), vec(partition(), 0..5)), 0..4)
        )
            .prop_map(|(generation, member_id, partitions)| {
                ResponseBody::JoinGroup(GroupAssignment {
                    generation,
                    member_id,
                    partitions,
                })
            }),
        Just(ResponseBody::Heartbeat),
        Just(ResponseBody::LeaveGroup),
        Just(ResponseBody::CommitOffsets),
        offsets_table(0).prop_map(ResponseBody::FetchOffsets),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    let body = prop_oneof![
        group_request(),
        produce().prop_map(RequestBody::Produce),
        fetch().prop_map(RequestBody::Fetch),
        (topic(), partition(), position(false)).prop_map(|(topic, partition, query)| {
            RequestBody::ListOffsets(ListOffsets {
                topic,
                partition,
                query,
            })
        }),
        option::of((
            prop_oneof![Just(0), 0..=i64::MAX],
            prop_oneof![Just(0), 0..=i16::MAX]
        ))
        .prop_map(|existing| RequestBody::InitProducerId(InitProducerId { existing })),
        (topic(), config())
            .prop_map(|(topic, config)| RequestBody::CreateTopic(CreateTopic { topic, config })),
        topic().prop_map(RequestBody::DeleteTopic),
        Just(RequestBody::ListTopics),
        topic().prop_map(RequestBody::DescribeTopic),
    ];
    (any::<u64>(), body).prop_map(|(correlation_id, body)| Request {
        correlation_id,
        body,
    })
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    (1..=u16::MAX).prop_map(|code| ErrorCode::from_code(code).unwrap())
}

fn response() -> impl Strategy<Value = Response> {
    let produce = (
        any::<u32>(),
        prop_oneof![Just(Acknowledged::Written), Just(Acknowledged::Durable)],
        any::<bool>(),
        any::<[u64; 2]>(),
    )
        .prop_map(
            |(partition, acknowledged, duplicate, [base_offset, last_offset])| {
                ResponseBody::Produce(ProduceResult {
                    partition,
                    acknowledged,
                    duplicate,
                    base_offset,
                    last_offset,
                })
            },
        );
    let data = prop_oneof![
        vec(bytes(64), 0..4).prop_map(FetchData::Batches),
        vec(fetched_record(), 0..4).prop_map(FetchData::Records),
    ];
    let fetch = (any::<u32>(), any::<[u64; 4]>(), data).prop_map(|(partition, offsets, data)| {
        ResponseBody::Fetch(FetchResult {
            partition,
            next_offset: offsets[0],
            end_offset: offsets[1],
            durable_offset: offsets[2],
            log_start_offset: offsets[3],
            data,
        })
    });
    let offsets = (any::<u32>(), option::of(0..u64::MAX), any::<i64>()).prop_map(
        |(partition, offset, timestamp)| {
            ResponseBody::ListOffsets(OffsetResult {
                partition,
                offset,
                timestamp,
            })
        },
    );
    let grant = (any::<i64>(), any::<i16>())
        .prop_map(|(id, epoch)| ResponseBody::InitProducerId(ProducerGrant { id, epoch }));
    let topics = vec(
        (topic(), any::<u32>(), any::<bool>()).prop_map(|(name, partitions, compact)| {
            TopicSummary {
                name,
                partitions,
                compact,
            }
        }),
        0..4,
    )
    .prop_map(ResponseBody::ListTopics);
    let describe = (config(), vec(any::<[u64; 4]>(), 1..4)).prop_map(|(mut config, entries)| {
        config.partitions = entries.len() as u32;
        let partitions = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| PartitionDescription {
                partition: index as u32,
                start_offset: entry[0],
                end_offset: entry[1],
                durable_offset: entry[2],
                size_bytes: entry[3],
            })
            .collect();
        ResponseBody::DescribeTopic(TopicDescription { config, partitions })
    });
    let error = (
        any::<u16>(),
        error_code(),
        any::<[u64; 2]>(),
        option::of("\\PC{0,64}"),
    )
        .prop_map(|(command, code, details, message)| {
            ResponseBody::Error(ErrorResponse {
                command,
                code,
                details,
                message,
            })
        });
    let body = prop_oneof![
        group_response(),
        produce,
        fetch,
        offsets,
        grant,
        Just(ResponseBody::CreateTopic),
        Just(ResponseBody::DeleteTopic),
        topics,
        describe,
        error,
    ];
    (any::<u64>(), body).prop_map(|(correlation_id, body)| Response {
        correlation_id,
        body,
    })
}

/// A mangling of valid frames: a byte changed, a frame cut, dropped or added.
#[derive(Clone, Debug)]
enum Mangle {
    Flip {
        frame: usize,
        byte: usize,
        value: u8,
    },
    Cut {
        frame: usize,
        length: usize,
    },
    Drop {
        frame: usize,
    },
    Add {
        frame: usize,
        bytes: Bytes,
    },
}

fn mangle() -> impl Strategy<Value = Mangle> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(frame, byte, value)| Mangle::Flip { frame, byte, value }),
        (any::<usize>(), any::<usize>()).prop_map(|(frame, length)| Mangle::Cut { frame, length }),
        any::<usize>().prop_map(|frame| Mangle::Drop { frame }),
        (any::<usize>(), bytes(24)).prop_map(|(frame, bytes)| Mangle::Add { frame, bytes }),
    ]
}

fn apply(frames: &mut Vec<Bytes>, mangles: &[Mangle]) {
    for mangle in mangles {
        if frames.is_empty() {
            return;
        }
        match mangle {
            Mangle::Flip { frame, byte, value } => {
                let index = frame % frames.len();
                let mut bytes = frames[index].to_vec();
                if !bytes.is_empty() {
                    let at = byte % bytes.len();
                    bytes[at] = *value;
                }
                frames[index] = Bytes::from(bytes);
            }
            Mangle::Cut { frame, length } => {
                let index = frame % frames.len();
                let length = length % (frames[index].len() + 1);
                frames[index] = frames[index].slice(..length);
            }
            Mangle::Drop { frame } => {
                frames.remove(frame % frames.len());
            }
            Mangle::Add { frame, bytes } => {
                frames.insert(frame % (frames.len() + 1), bytes.clone());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn requests_round_trip(request in request()) {
        let frames = encode_request(&request);
        prop_assert_eq!(decode_request(&frames), Ok(request));
    }

    #[test]
    fn responses_round_trip(response in response()) {
        let frames = encode_response(&response);
        prop_assert_eq!(decode_response(&frames), Ok(response));
    }

    #[test]
    fn mangled_requests_never_panic_and_decode_canonically(
        request in request(),
        mangles in vec(mangle(), 1..4),
    ) {
        let mut frames = encode_request(&request);
        apply(&mut frames, &mangles);
        match decode_request(&frames) {
            Ok(decoded) => prop_assert_eq!(encode_request(&decoded), frames),
            Err(error) => {
                // The answer is itself a valid response.
                let answer = encode_response(&error.to_response());
                prop_assert!(decode_response(&answer).is_ok());
            }
        }
    }

    #[test]
    fn mangled_responses_never_panic_and_decode_canonically(
        response in response(),
        mangles in vec(mangle(), 1..4),
    ) {
        let mut frames = encode_response(&response);
        apply(&mut frames, &mangles);
        if let Ok(decoded) = decode_response(&frames) {
            prop_assert_eq!(encode_response(&decoded), frames);
        }
    }

    #[test]
    fn arbitrary_frames_never_panic(frames in vec(bytes(64), 0..8)) {
        let _ = decode_request(&frames);
        let _ = decode_response(&frames);
    }
}
