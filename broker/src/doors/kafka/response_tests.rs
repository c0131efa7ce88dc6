//! Responses decode: kafka-python's response vectors of every API a client of
//! this codec reads decode to the values they were written from and encode back
//! byte for byte; arbitrary responses at every advertised version encode,
//! decode to what that version keeps of them, and encode to the same bytes;
//! every shorter prefix is an error, never a panic.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::vector_tests::{expected_response, frame_of, unhex, vectors};
use super::*;

/// The APIs whose responses decode.
const DECODED: [ApiKey; 8] = [
    ApiKey::ApiVersions,
    ApiKey::Metadata,
    ApiKey::FindCoordinator,
    ApiKey::ListGroups,
    ApiKey::DescribeGroups,
    ApiKey::OffsetFetch,
    ApiKey::ListOffsets,
    ApiKey::OffsetCommit,
];

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._é-]{0,12}"
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    proptest::sample::select(ALL_ERROR_CODES.to_vec())
}

/// Opaque bytes, sometimes past the writer's 64-byte inline limit.
fn payload() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..80).prop_map(Bytes::from)
}

fn api_versions() -> impl Strategy<Value = ResponseBody> {
    (
        error_code(),
        vec(any::<(i16, i16, i16)>(), 0..5),
        any::<i32>(),
    )
        .prop_map(|(error_code, keys, throttle_time_ms)| {
            ResponseBody::ApiVersions(ApiVersionsResponse {
                error_code,
                api_keys: keys
                    .into_iter()
                    .map(|(api_key, min_version, max_version)| ApiVersionRange {
                        api_key,
                        min_version,
                        max_version,
                    })
                    .collect(),
                throttle_time_ms,
            })
        })
}

fn metadata() -> impl Strategy<Value = ResponseBody> {
    let broker = (any::<(i32, i32)>(), name(), option::of(name())).prop_map(
        |((node_id, port), host, rack)| MetadataBroker {
            node_id,
            host,
            port,
            rack,
        },
    );
    let partition = (
        error_code(),
        any::<[i32; 3]>(),
        [
            vec(any::<i32>(), 0..3),
            vec(any::<i32>(), 0..3),
            vec(any::<i32>(), 0..2),
        ],
    )
        .prop_map(
            |(error_code, numbers, [replicas, isr, offline])| MetadataPartition {
                error_code,
                partition_index: numbers[0],
                leader_id: numbers[1],
                leader_epoch: numbers[2],
                replica_nodes: replicas,
                isr_nodes: isr,
                offline_replicas: offline,
            },
        );
    let topic = (
        (error_code(), option::of(name()), any::<[u8; 16]>()),
        any::<(bool, i32)>(),
        vec(partition, 0..3),
    )
        .prop_map(
            |((error_code, name, topic_id), (is_internal, operations), partitions)| MetadataTopic {
                error_code,
                name,
                topic_id,
                is_internal,
                partitions,
                topic_authorized_operations: operations,
            },
        );
    (
        any::<(i32, i32, i32)>(),
        vec(broker, 0..3),
        option::of(name()),
        vec(topic, 0..3),
        error_code(),
    )
        .prop_map(
            |((throttle, controller_id, operations), brokers, cluster_id, topics, error_code)| {
                ResponseBody::Metadata(MetadataResponse {
                    throttle_time_ms: throttle,
                    brokers,
                    cluster_id,
                    controller_id,
                    topics,
                    cluster_authorized_operations: operations,
                    error_code,
                })
            },
        )
}

fn find_coordinator() -> impl Strategy<Value = ResponseBody> {
    (
        any::<(i32, i32, i32)>(),
        error_code(),
        option::of(name()),
        name(),
    )
        .prop_map(
            |((throttle_time_ms, node_id, port), error_code, error_message, host)| {
                ResponseBody::FindCoordinator(FindCoordinatorResponse {
                    throttle_time_ms,
                    error_code,
                    error_message,
                    node_id,
                    host,
                    port,
                })
            },
        )
}

fn list_groups() -> impl Strategy<Value = ResponseBody> {
    let group = [name(), name(), name(), name()].prop_map(
        |[group_id, protocol_type, group_state, group_type]| ListedGroup {
            group_id,
            protocol_type,
            group_state,
            group_type,
        },
    );
    (any::<i32>(), error_code(), vec(group, 0..3)).prop_map(
        |(throttle_time_ms, error_code, groups)| {
            ResponseBody::ListGroups(ListGroupsResponse {
                throttle_time_ms,
                error_code,
                groups,
            })
        },
    )
}

fn describe_groups() -> impl Strategy<Value = ResponseBody> {
    let member = (
        [name(), name(), name()],
        option::of(name()),
        payload(),
        payload(),
    )
        .prop_map(
            |([member_id, client_id, client_host], group_instance_id, metadata, assignment)| {
                DescribedGroupMember {
                    member_id,
                    group_instance_id,
                    client_id,
                    client_host,
                    member_metadata: metadata,
                    member_assignment: assignment,
                }
            },
        );
    let group = (
        error_code(),
        [name(), name(), name(), name()],
        vec(member, 0..3),
        any::<i32>(),
    )
        .prop_map(
            |(error_code, [group_id, state, protocol_type, protocol], members, operations)| {
                DescribedGroup {
                    error_code,
                    group_id,
                    group_state: state,
                    protocol_type,
                    protocol_data: protocol,
                    members,
                    authorized_operations: operations,
                }
            },
        );
    (any::<i32>(), vec(group, 0..3)).prop_map(|(throttle_time_ms, groups)| {
        ResponseBody::DescribeGroups(DescribeGroupsResponse {
            throttle_time_ms,
            groups,
        })
    })
}

fn offset_fetch() -> impl Strategy<Value = ResponseBody> {
    let partition = (any::<(i32, i64, i32)>(), option::of(name()), error_code()).prop_map(
        |((partition_index, committed_offset, epoch), metadata, error_code)| {
            OffsetFetchPartitionResponse {
                partition_index,
                committed_offset,
                committed_leader_epoch: epoch,
                metadata,
                error_code,
            }
        },
    );
    let topic = (name(), vec(partition, 0..3))
        .prop_map(|(name, partitions)| OffsetFetchTopicResponse { name, partitions });
    let group =
        (name(), vec(topic, 0..3), error_code()).prop_map(|(group_id, topics, error_code)| {
            OffsetFetchGroupResponse {
                group_id,
                topics,
                error_code,
            }
        });
    (any::<i32>(), vec(group, 0..3)).prop_map(|(throttle_time_ms, groups)| {
        ResponseBody::OffsetFetch(OffsetFetchResponse {
            throttle_time_ms,
            groups,
        })
    })
}

fn list_offsets() -> impl Strategy<Value = ResponseBody> {
    let partition = (any::<i32>(), error_code(), any::<(i64, i64, i32)>()).prop_map(
        |(partition_index, error_code, (timestamp, offset, leader_epoch))| {
            ListOffsetsPartitionResponse {
                partition_index,
                error_code,
                timestamp,
                offset,
                leader_epoch,
            }
        },
    );
    let topic = (name(), vec(partition, 0..3))
        .prop_map(|(name, partitions)| ListOffsetsTopicResponse { name, partitions });
    (any::<i32>(), vec(topic, 0..3)).prop_map(|(throttle_time_ms, topics)| {
        ResponseBody::ListOffsets(ListOffsetsResponse {
            throttle_time_ms,
            topics,
        })
    })
}

fn offset_commit() -> impl Strategy<Value = ResponseBody> {
    let partition = (any::<i32>(), error_code()).prop_map(|(partition_index, error_code)| {
        OffsetCommitPartitionResponse {
            partition_index,
            error_code,
        }
    });
    let topic = (name(), vec(partition, 0..3))
        .prop_map(|(name, partitions)| OffsetCommitTopicResponse { name, partitions });
    (any::<i32>(), vec(topic, 0..3)).prop_map(|(throttle_time_ms, topics)| {
        ResponseBody::OffsetCommit(OffsetCommitResponse {
            throttle_time_ms,
            topics,
        })
    })
}

fn body(key: ApiKey) -> BoxedStrategy<ResponseBody> {
    match key {
        ApiKey::ApiVersions => api_versions().boxed(),
        ApiKey::Metadata => metadata().boxed(),
        ApiKey::FindCoordinator => find_coordinator().boxed(),
        ApiKey::ListGroups => list_groups().boxed(),
        ApiKey::DescribeGroups => describe_groups().boxed(),
        ApiKey::OffsetFetch => offset_fetch().boxed(),
        ApiKey::ListOffsets => list_offsets().boxed(),
        _ => offset_commit().boxed(),
    }
}

/// What `version` keeps of `body`: the fields it lacks at their defaults.
fn kept(body: ResponseBody, version: i16) -> ResponseBody {
    let since = |from: i16, value: i32, default: i32| if version >= from { value } else { default };
    match body {
        ResponseBody::ApiVersions(mut response) => {
            if response.error_code != ErrorCode::None || version < 1 {
                response.throttle_time_ms = 0;
            }
            ResponseBody::ApiVersions(response)
        }
        ResponseBody::Metadata(mut response) => {
            response.throttle_time_ms = since(3, response.throttle_time_ms, 0);
            response.controller_id = since(1, response.controller_id, -1);
            if !(8..=10).contains(&version) {
                response.cluster_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
            }
            if version < 13 {
                response.error_code = ErrorCode::None;
            }
            if version < 2 {
                response.cluster_id = None;
            }
            for broker in &mut response.brokers {
                if version < 1 {
                    broker.rack = None;
                }
            }
            for topic in &mut response.topics {
                if version < 12 {
                    topic.name = Some(topic.name.take().unwrap_or_default());
                }
                if version < 10 {
                    topic.topic_id = [0; 16];
                }
                topic.is_internal &= version >= 1;
                topic.topic_authorized_operations = since(
                    8,
                    topic.topic_authorized_operations,
                    AUTHORIZED_OPERATIONS_OMITTED,
                );
                for partition in &mut topic.partitions {
                    partition.leader_epoch = since(7, partition.leader_epoch, -1);
                    if version < 5 {
                        partition.offline_replicas.clear();
                    }
                }
            }
            ResponseBody::Metadata(response)
        }
        ResponseBody::FindCoordinator(mut response) => {
            response.throttle_time_ms = since(1, response.throttle_time_ms, 0);
            if version < 1 {
                response.error_message = None;
            }
            ResponseBody::FindCoordinator(response)
        }
        ResponseBody::ListGroups(mut response) => {
            response.throttle_time_ms = since(1, response.throttle_time_ms, 0);
            for group in &mut response.groups {
                if version < 4 {
                    group.group_state.clear();
                }
                if version < 5 {
                    group.group_type.clear();
                }
            }
            ResponseBody::ListGroups(response)
        }
        ResponseBody::DescribeGroups(mut response) => {
            response.throttle_time_ms = since(1, response.throttle_time_ms, 0);
            for group in &mut response.groups {
                group.authorized_operations = since(
                    3,
                    group.authorized_operations,
                    AUTHORIZED_OPERATIONS_OMITTED,
                );
                for member in &mut group.members {
                    if version < 4 {
                        member.group_instance_id = None;
                    }
                }
            }
            ResponseBody::DescribeGroups(response)
        }
        ResponseBody::OffsetFetch(mut response) => {
            response.throttle_time_ms = since(3, response.throttle_time_ms, 0);
            if version < 8 {
                let mut group = response.groups.into_iter().next().unwrap_or_else(|| {
                    OffsetFetchGroupResponse {
                        group_id: String::new(),
                        topics: Vec::new(),
                        error_code: ErrorCode::None,
                    }
                });
                group.group_id.clear();
                if version < 2 {
                    group.error_code = ErrorCode::None;
                }
                response.groups = vec![group];
            }
            for group in &mut response.groups {
                for topic in &mut group.topics {
                    for partition in &mut topic.partitions {
                        partition.committed_leader_epoch =
                            since(5, partition.committed_leader_epoch, -1);
                    }
                }
            }
            ResponseBody::OffsetFetch(response)
        }
        ResponseBody::ListOffsets(mut response) => {
            response.throttle_time_ms = since(2, response.throttle_time_ms, 0);
            for topic in &mut response.topics {
                for partition in &mut topic.partitions {
                    partition.leader_epoch = since(4, partition.leader_epoch, -1);
                }
            }
            ResponseBody::ListOffsets(response)
        }
        ResponseBody::OffsetCommit(mut response) => {
            response.throttle_time_ms = since(3, response.throttle_time_ms, 0);
            ResponseBody::OffsetCommit(response)
        }
        other => other,
    }
}

fn response() -> impl Strategy<Value = (i16, i32, ResponseBody)> {
    proptest::sample::select(DECODED.to_vec()).prop_flat_map(|key| {
        let range = key.range();
        (range.min..=range.max, any::<i32>(), body(key))
    })
}

/// The frame of `chunks`, without its size prefix.
fn frame(chunks: &[Bytes]) -> Bytes {
    frame_of(&join(chunks))
}

#[test]
fn kafka_python_responses_decode_to_the_values_written_and_back_to_their_bytes() {
    let mut decoded = 0;
    for (kind, key, version, bytes) in vectors() {
        let api_key = ApiKey::from_number(key).unwrap();
        if kind != "response" || !DECODED.contains(&api_key) {
            continue;
        }
        let (correlation_id, body) = decode_response(api_key, version, frame_of(&bytes))
            .unwrap_or_else(|error| panic!("{api_key:?} v{version}: {error}"));
        assert_eq!(correlation_id, 7);
        assert_eq!(
            body,
            kept(expected_response(api_key), version),
            "{api_key:?} v{version}"
        );
        let again = join(&encode_response(correlation_id, version, &body));
        assert_eq!(again, bytes, "{api_key:?} v{version}");
        decoded += 1;
    }
    let versions: i16 = DECODED
        .iter()
        .map(|key| key.range().max - key.range().min + 1)
        .sum();
    assert_eq!(
        decoded,
        usize::try_from(versions).unwrap(),
        "one per version"
    );
}

#[test]
fn every_shorter_prefix_of_a_response_vector_is_an_error() {
    for (kind, key, version, bytes) in vectors() {
        let api_key = ApiKey::from_number(key).unwrap();
        if kind != "response" || !DECODED.contains(&api_key) {
            continue;
        }
        let frame = frame_of(&bytes);
        for length in 0..frame.len() {
            let result = decode_response(api_key, version, frame.slice(..length));
            assert!(
                result.is_err(),
                "{api_key:?} v{version} cut at {length} decoded: {result:?}"
            );
        }
    }
}

#[test]
fn an_api_versions_error_is_read_as_version_0_whatever_was_asked() {
    let frame = frame(&encode_unsupported_api_versions(9));
    for version in 0..=4 {
        let (correlation_id, body) = decode_response(ApiKey::ApiVersions, version, frame.clone())
            .unwrap_or_else(|error| panic!("v{version}: {error}"));
        assert_eq!(correlation_id, 9);
        assert_eq!(
            body,
            ResponseBody::ApiVersions(ApiVersionsResponse::unsupported_version())
        );
    }
}

/// Kafka 4's ApiVersions v3 answer ends with tagged fields (its features);
/// they are skipped, as are unknown error codes' numbers (read as -1).
#[test]
fn tagged_fields_are_skipped_and_unknown_error_codes_read_as_unknown_server_error() {
    let (.., bytes) = vectors()
        .into_iter()
        .find(|(kind, key, version, _)| kind == "response" && *key == 18 && *version == 3)
        .unwrap();
    let mut tagged = BytesMut::from(&frame_of(&bytes)[..]);
    assert_eq!(tagged.last(), Some(&0), "no tagged fields");
    tagged.truncate(tagged.len() - 1);
    tagged.extend_from_slice(&unhex("02000201ff0300"));
    let (_, body) = decode_response(ApiKey::ApiVersions, 3, tagged.freeze()).unwrap();
    assert_eq!(body, expected_response(ApiKey::ApiVersions));

    // FindCoordinator v0: error 9999, node 1, host "h", port 9092.
    let frame = unhex("00000007270f0000000100016800002384");
    let (_, body) = decode_response(ApiKey::FindCoordinator, 0, frame).unwrap();
    let ResponseBody::FindCoordinator(found) = body else {
        panic!("{body:?}")
    };
    assert_eq!(found.error_code, ErrorCode::UnknownServerError);
    assert_eq!((found.host.as_str(), found.port), ("h", 9092));
}

#[test]
fn responses_without_a_decoder_or_out_of_range_are_refused() {
    let frame = frame(&encode_response(
        1,
        3,
        &ResponseBody::Heartbeat(HeartbeatResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
        }),
    ));
    assert_eq!(
        decode_response(ApiKey::Heartbeat, 3, frame),
        Err(DecodeError::NoDecoder {
            api_key: 12,
            version: 3
        })
    );
    assert_eq!(
        decode_response(ApiKey::ListOffsets, 0, Bytes::new()),
        Err(DecodeError::NoDecoder {
            api_key: 2,
            version: 0
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn responses_round_trip_at_every_version((version, correlation_id, body) in response()) {
        let api_key = body.api_key();
        let encoded = frame(&encode_response(correlation_id, version, &body));
        let decoded = decode_response(api_key, version, encoded.clone());
        prop_assert!(decoded.is_ok(), "{:?} v{}: {:?}", api_key, version, decoded);
        let (decoded_id, decoded) = decoded.unwrap();
        prop_assert_eq!(decoded_id, correlation_id);
        prop_assert_eq!(&decoded, &kept(body, version));
        let again = frame(&encode_response(correlation_id, version, &decoded));
        prop_assert_eq!(again, encoded.clone());
        for length in 0..encoded.len() {
            prop_assert!(
                decode_response(api_key, version, encoded.slice(..length)).is_err(),
                "{:?} v{} cut at {}", api_key, version, length
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A broker's bytes, changed anywhere: decoding never panics, and what
    /// decodes encodes to bytes that decode to the same again.
    #[test]
    fn changed_responses_never_panic_and_what_decodes_is_stable(
        (version, correlation_id, body) in response(),
        changes in vec((any::<usize>(), any::<u8>()), 1..4),
        cut in any::<usize>(),
    ) {
        let api_key = body.api_key();
        let mut bytes = frame(&encode_response(correlation_id, version, &body)).to_vec();
        for (at, byte) in changes {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        bytes.truncate(bytes.len() - cut % 3);
        if let Ok((id, decoded)) = decode_response(api_key, version, bytes.into()) {
            let again = frame(&encode_response(id, version, &decoded));
            prop_assert_eq!(decode_response(api_key, version, again), Ok((id, decoded)));
        }
    }
}
