//! Byte vectors written by kafka-python's own encoder (generated from Kafka's
//! JSON message definitions): every request of every advertised version decodes
//! to the values `interop-tests/kafka/vectors.py` encoded, every response
//! encodes to exactly kafka-python's bytes, and every shorter prefix of a
//! request is refused, never a panic.

use bytes::{Bytes, BytesMut};

use super::*;

const VECTORS: &str = include_str!("vectors/kafka_python.txt");

pub(super) fn unhex(text: &str) -> Bytes {
    let digits = text.as_bytes();
    assert!(digits.len().is_multiple_of(2), "odd hex length");
    let nibble = |digit: u8| (digit as char).to_digit(16).expect("a hex digit") as u8;
    digits
        .chunks(2)
        .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1]))
        .collect::<Vec<u8>>()
        .into()
}

/// (kind, api key, version, bytes) for each line.
pub(super) fn vectors() -> Vec<(String, i16, i16, Bytes)> {
    VECTORS
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            (
                fields[0].to_string(),
                fields[1].parse().unwrap(),
                fields[2].parse().unwrap(),
                unhex(fields[3]),
            )
        })
        .collect()
}

fn records() -> Bytes {
    (0..70u8).collect::<Vec<u8>>().into()
}

fn subscription() -> Bytes {
    (0..10u8).collect::<Vec<u8>>().into()
}

fn assignment() -> Bytes {
    (20..32u8).collect::<Vec<u8>>().into()
}

const TOPIC_ID: TopicId = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

fn expected_request(key: ApiKey, version: i16) -> RequestBody {
    let orders = || "orders".to_string();
    let group = || "group-1".to_string();
    let member = || "member-1".to_string();
    // The static member's instance id, from the version that has one.
    let instance = |from: i16| (version >= from).then(|| "instance-1".to_string());
    match key {
        ApiKey::ApiVersions => RequestBody::ApiVersions(if version >= 3 {
            ApiVersionsRequest {
                client_software_name: Some("kafka-python".into()),
                client_software_version: Some("3.0.12".into()),
            }
        } else {
            ApiVersionsRequest::default()
        }),
        ApiKey::Metadata => RequestBody::Metadata(MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                topic_id: [0; 16],
                name: Some(orders()),
            }]),
            // v0 to v3 always create topics; the field exists from v4.
            allow_auto_topic_creation: version < 4,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }),
        ApiKey::Produce => RequestBody::Produce(ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30000,
            topics: vec![ProduceTopic {
                name: orders(),
                partitions: vec![ProducePartition {
                    index: 0,
                    records: Some(records()),
                }],
            }],
        }),
        ApiKey::Fetch => RequestBody::Fetch(FetchRequest {
            replica_id: -1,
            max_wait_ms: 500,
            min_bytes: 1,
            max_bytes: 52428800,
            isolation_level: READ_UNCOMMITTED,
            session_id: 0,
            session_epoch: -1,
            topics: vec![FetchTopic {
                topic: orders(),
                partitions: vec![FetchPartition {
                    partition: 0,
                    current_leader_epoch: -1,
                    fetch_offset: 42,
                    last_fetched_epoch: -1,
                    log_start_offset: -1,
                    partition_max_bytes: 1048576,
                }],
            }],
            forgotten_topics: Vec::new(),
            rack_id: String::new(),
        }),
        ApiKey::ListOffsets => RequestBody::ListOffsets(ListOffsetsRequest {
            replica_id: -1,
            isolation_level: 0,
            topics: vec![ListOffsetsTopic {
                name: orders(),
                partitions: vec![ListOffsetsPartition {
                    partition_index: 0,
                    current_leader_epoch: -1,
                    timestamp: EARLIEST_TIMESTAMP,
                }],
            }],
        }),
        ApiKey::InitProducerId => RequestBody::InitProducerId(InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: 60000,
            producer_id: -1,
            producer_epoch: -1,
        }),
        ApiKey::FindCoordinator => RequestBody::FindCoordinator(FindCoordinatorRequest {
            key: "group-1".into(),
            key_type: KEY_TYPE_GROUP,
        }),
        ApiKey::CreateTopics => RequestBody::CreateTopics(CreateTopicsRequest {
            topics: vec![CreatableTopic {
                name: orders(),
                num_partitions: 3,
                replication_factor: -1,
                assignments: Vec::new(),
                configs: vec![TopicConfigEntry {
                    name: "retention.ms".into(),
                    value: Some("60000".into()),
                }],
            }],
            timeout_ms: 30000,
            validate_only: false,
        }),
        ApiKey::DeleteTopics => RequestBody::DeleteTopics(DeleteTopicsRequest {
            topic_names: vec![orders()],
            timeout_ms: 30000,
        }),
        ApiKey::CreatePartitions => RequestBody::CreatePartitions(CreatePartitionsRequest {
            topics: vec![
                CreatePartitionsTopic {
                    name: orders(),
                    count: 6,
                    assignments: None,
                },
                CreatePartitionsTopic {
                    name: "audit".into(),
                    count: 2,
                    assignments: Some(vec![CreatePartitionsAssignment {
                        broker_ids: vec![1],
                    }]),
                },
            ],
            timeout_ms: 30000,
            validate_only: false,
        }),
        ApiKey::DescribeConfigs => RequestBody::DescribeConfigs(DescribeConfigsRequest {
            resources: vec![
                DescribeConfigsResource {
                    resource_type: RESOURCE_TYPE_TOPIC,
                    resource_name: orders(),
                    configuration_keys: Some(vec!["retention.ms".into()]),
                },
                DescribeConfigsResource {
                    resource_type: RESOURCE_TYPE_BROKER,
                    resource_name: "1".into(),
                    configuration_keys: None,
                },
            ],
            include_synonyms: true,
        }),
        ApiKey::DescribeCluster => RequestBody::DescribeCluster(DescribeClusterRequest {
            include_cluster_authorized_operations: false,
            endpoint_type: ENDPOINT_TYPE_BROKERS,
        }),
        ApiKey::OffsetForLeaderEpoch => {
            RequestBody::OffsetForLeaderEpoch(OffsetForLeaderEpochRequest {
                topics: vec![OffsetForLeaderTopic {
                    topic: orders(),
                    partitions: vec![OffsetForLeaderPartition {
                        partition: 0,
                        current_leader_epoch: 0,
                        leader_epoch: 0,
                    }],
                }],
            })
        }
        ApiKey::DeleteRecords => RequestBody::DeleteRecords(DeleteRecordsRequest {
            topics: vec![DeleteRecordsTopic {
                name: orders(),
                partitions: vec![
                    DeleteRecordsPartition {
                        partition_index: 0,
                        offset: 10,
                    },
                    DeleteRecordsPartition {
                        partition_index: 1,
                        offset: DELETE_TO_HIGH_WATERMARK,
                    },
                ],
            }],
            timeout_ms: 30000,
        }),
        ApiKey::DescribeGroups => RequestBody::DescribeGroups(DescribeGroupsRequest {
            groups: vec![group()],
            include_authorized_operations: version >= 3,
        }),
        ApiKey::ListGroups => RequestBody::ListGroups(ListGroupsRequest {
            states_filter: if version >= 4 {
                vec!["Stable".into()]
            } else {
                Vec::new()
            },
            types_filter: if version >= 5 {
                vec!["classic".into()]
            } else {
                Vec::new()
            },
        }),
        ApiKey::DeleteGroups => RequestBody::DeleteGroups(DeleteGroupsRequest {
            group_names: vec![group()],
        }),
        ApiKey::OffsetCommit => RequestBody::OffsetCommit(OffsetCommitRequest {
            group_id: group(),
            generation_id_or_member_epoch: 3,
            member_id: member(),
            group_instance_id: instance(7),
            retention_time_ms: if version <= 4 { 86400000 } else { -1 },
            topics: vec![OffsetCommitTopic {
                name: orders(),
                partitions: vec![OffsetCommitPartition {
                    partition_index: 0,
                    committed_offset: 42,
                    committed_leader_epoch: if version >= 6 { 5 } else { -1 },
                    committed_metadata: Some("note".into()),
                }],
            }],
        }),
        ApiKey::OffsetFetch => RequestBody::OffsetFetch(OffsetFetchRequest {
            groups: vec![OffsetFetchGroup {
                group_id: group(),
                member_id: (version >= 9).then(member),
                member_epoch: if version >= 9 { 5 } else { -1 },
                topics: Some(vec![OffsetFetchTopic {
                    name: orders(),
                    partition_indexes: vec![0, 1],
                }]),
            }],
            require_stable: version >= 7,
        }),
        ApiKey::JoinGroup => RequestBody::JoinGroup(JoinGroupRequest {
            group_id: group(),
            session_timeout_ms: 10000,
            // v0 has no rebalance timeout: the session timeout stands for it.
            rebalance_timeout_ms: if version >= 1 { 300000 } else { 10000 },
            member_id: member(),
            group_instance_id: instance(5),
            protocol_type: "consumer".into(),
            protocols: vec![JoinGroupProtocol {
                name: "range".into(),
                metadata: subscription(),
            }],
        }),
        ApiKey::Heartbeat => RequestBody::Heartbeat(HeartbeatRequest {
            group_id: group(),
            generation_id: 3,
            member_id: member(),
            group_instance_id: instance(3),
        }),
        ApiKey::LeaveGroup => RequestBody::LeaveGroup(LeaveGroupRequest {
            group_id: group(),
            members: vec![LeaveGroupMember {
                member_id: member(),
                group_instance_id: instance(3),
            }],
        }),
        ApiKey::SyncGroup => RequestBody::SyncGroup(SyncGroupRequest {
            group_id: group(),
            generation_id: 3,
            member_id: member(),
            group_instance_id: instance(3),
            assignments: vec![SyncGroupAssignment {
                member_id: member(),
                assignment: assignment(),
            }],
        }),
    }
}

pub(super) fn expected_response(key: ApiKey) -> ResponseBody {
    let orders = || "orders".to_string();
    let member = || "member-1".to_string();
    let instance = || Some("instance-1".to_string());
    match key {
        ApiKey::ApiVersions => ResponseBody::ApiVersions(ApiVersionsResponse::supported()),
        ApiKey::Metadata => ResponseBody::Metadata(MetadataResponse {
            throttle_time_ms: 0,
            brokers: vec![MetadataBroker {
                node_id: 1,
                host: "127.0.0.1".into(),
                port: 9092,
                rack: None,
            }],
            cluster_id: Some("sinew".into()),
            controller_id: 1,
            topics: vec![MetadataTopic {
                error_code: ErrorCode::None,
                name: Some(orders()),
                topic_id: TOPIC_ID,
                is_internal: false,
                partitions: vec![MetadataPartition {
                    error_code: ErrorCode::None,
                    partition_index: 0,
                    leader_id: 1,
                    leader_epoch: 0,
                    replica_nodes: vec![1],
                    isr_nodes: vec![1],
                    offline_replicas: Vec::new(),
                }],
                topic_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            }],
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            error_code: ErrorCode::None,
        }),
        ApiKey::Produce => ResponseBody::Produce(ProduceResponse {
            responses: vec![ProduceTopicResponse {
                name: orders(),
                partitions: vec![ProducePartitionResponse {
                    index: 0,
                    error_code: ErrorCode::None,
                    base_offset: 42,
                    log_append_time_ms: -1,
                    log_start_offset: 0,
                    error_message: None,
                }],
            }],
            throttle_time_ms: 0,
        }),
        ApiKey::Fetch => ResponseBody::Fetch(FetchResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            session_id: 0,
            responses: vec![FetchTopicResponse {
                topic: orders(),
                partitions: vec![FetchPartitionResponse {
                    partition_index: 0,
                    error_code: ErrorCode::None,
                    high_watermark: 43,
                    last_stable_offset: 43,
                    log_start_offset: 0,
                    aborted_transactions: None,
                    preferred_read_replica: -1,
                    records: Some(records()),
                }],
            }],
        }),
        ApiKey::ListOffsets => ResponseBody::ListOffsets(ListOffsetsResponse {
            throttle_time_ms: 0,
            topics: vec![ListOffsetsTopicResponse {
                name: orders(),
                partitions: vec![ListOffsetsPartitionResponse {
                    partition_index: 0,
                    error_code: ErrorCode::None,
                    timestamp: -1,
                    offset: 0,
                    leader_epoch: 0,
                }],
            }],
        }),
        ApiKey::InitProducerId => ResponseBody::InitProducerId(InitProducerIdResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            producer_id: 1000,
            producer_epoch: 0,
        }),
        ApiKey::FindCoordinator => ResponseBody::FindCoordinator(FindCoordinatorResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            error_message: None,
            node_id: 1,
            host: "127.0.0.1".into(),
            port: 9092,
        }),
        ApiKey::CreateTopics => ResponseBody::CreateTopics(CreateTopicsResponse {
            throttle_time_ms: 0,
            topics: vec![CreatableTopicResult {
                name: orders(),
                error_code: ErrorCode::None,
                error_message: None,
            }],
        }),
        ApiKey::DeleteTopics => ResponseBody::DeleteTopics(DeleteTopicsResponse {
            throttle_time_ms: 0,
            responses: vec![DeletableTopicResult {
                name: orders(),
                error_code: ErrorCode::None,
            }],
        }),
        ApiKey::CreatePartitions => ResponseBody::CreatePartitions(CreatePartitionsResponse {
            throttle_time_ms: 0,
            results: vec![
                CreatePartitionsTopicResult {
                    name: orders(),
                    error_code: ErrorCode::None,
                    error_message: None,
                },
                CreatePartitionsTopicResult {
                    name: "audit".into(),
                    error_code: ErrorCode::InvalidPartitions,
                    error_message: Some("one broker".into()),
                },
            ],
        }),
        ApiKey::DescribeConfigs => ResponseBody::DescribeConfigs(DescribeConfigsResponse {
            throttle_time_ms: 0,
            results: vec![DescribeConfigsResult {
                error_code: ErrorCode::None,
                error_message: None,
                resource_type: RESOURCE_TYPE_TOPIC,
                resource_name: orders(),
                configs: vec![DescribeConfigsEntry {
                    name: "retention.ms".into(),
                    value: Some("60000".into()),
                    read_only: false,
                    config_source: CONFIG_SOURCE_TOPIC,
                    is_sensitive: false,
                    synonyms: vec![
                        DescribeConfigsSynonym {
                            name: "retention.ms".into(),
                            value: Some("60000".into()),
                            source: CONFIG_SOURCE_TOPIC,
                        },
                        DescribeConfigsSynonym {
                            name: "log.retention.ms".into(),
                            value: None,
                            source: CONFIG_SOURCE_DEFAULT,
                        },
                    ],
                }],
            }],
        }),
        ApiKey::DescribeCluster => ResponseBody::DescribeCluster(DescribeClusterResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            error_message: None,
            endpoint_type: ENDPOINT_TYPE_BROKERS,
            cluster_id: "sinew".into(),
            controller_id: 1,
            brokers: vec![DescribeClusterBroker {
                broker_id: 1,
                host: "127.0.0.1".into(),
                port: 9092,
                rack: None,
            }],
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }),
        ApiKey::OffsetForLeaderEpoch => {
            ResponseBody::OffsetForLeaderEpoch(OffsetForLeaderEpochResponse {
                throttle_time_ms: 0,
                topics: vec![OffsetForLeaderTopicResult {
                    topic: orders(),
                    partitions: vec![EpochEndOffset {
                        error_code: ErrorCode::None,
                        partition: 0,
                        leader_epoch: 0,
                        end_offset: 43,
                    }],
                }],
            })
        }
        ApiKey::DeleteRecords => ResponseBody::DeleteRecords(DeleteRecordsResponse {
            throttle_time_ms: 0,
            topics: vec![DeleteRecordsTopicResult {
                name: orders(),
                partitions: vec![
                    DeleteRecordsPartitionResult {
                        partition_index: 0,
                        low_watermark: 10,
                        error_code: ErrorCode::None,
                    },
                    DeleteRecordsPartitionResult {
                        partition_index: 1,
                        low_watermark: -1,
                        error_code: ErrorCode::OffsetOutOfRange,
                    },
                ],
            }],
        }),
        ApiKey::DescribeGroups => ResponseBody::DescribeGroups(DescribeGroupsResponse {
            throttle_time_ms: 0,
            groups: vec![DescribedGroup {
                error_code: ErrorCode::None,
                group_id: "group-1".into(),
                group_state: "Stable".into(),
                protocol_type: "consumer".into(),
                protocol_data: "range".into(),
                members: vec![DescribedGroupMember {
                    member_id: member(),
                    group_instance_id: instance(),
                    client_id: "client-1".into(),
                    client_host: "/127.0.0.1".into(),
                    member_metadata: subscription(),
                    member_assignment: assignment(),
                }],
                authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            }],
        }),
        ApiKey::ListGroups => ResponseBody::ListGroups(ListGroupsResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            groups: vec![ListedGroup {
                group_id: "group-1".into(),
                protocol_type: "consumer".into(),
                group_state: "Stable".into(),
                group_type: "classic".into(),
            }],
        }),
        ApiKey::DeleteGroups => ResponseBody::DeleteGroups(DeleteGroupsResponse {
            throttle_time_ms: 0,
            results: vec![DeletableGroupResult {
                group_id: "group-1".into(),
                error_code: ErrorCode::NonEmptyGroup,
            }],
        }),
        ApiKey::OffsetCommit => ResponseBody::OffsetCommit(OffsetCommitResponse {
            throttle_time_ms: 0,
            topics: vec![OffsetCommitTopicResponse {
                name: orders(),
                partitions: vec![OffsetCommitPartitionResponse {
                    partition_index: 0,
                    error_code: ErrorCode::None,
                }],
            }],
        }),
        ApiKey::OffsetFetch => ResponseBody::OffsetFetch(OffsetFetchResponse {
            throttle_time_ms: 0,
            groups: vec![OffsetFetchGroupResponse {
                group_id: "group-1".into(),
                topics: vec![OffsetFetchTopicResponse {
                    name: orders(),
                    partitions: vec![
                        OffsetFetchPartitionResponse {
                            partition_index: 0,
                            committed_offset: 42,
                            committed_leader_epoch: 5,
                            metadata: Some("note".into()),
                            error_code: ErrorCode::None,
                        },
                        OffsetFetchPartitionResponse {
                            partition_index: 1,
                            committed_offset: -1,
                            committed_leader_epoch: -1,
                            metadata: None,
                            error_code: ErrorCode::None,
                        },
                    ],
                }],
                error_code: ErrorCode::None,
            }],
        }),
        ApiKey::JoinGroup => ResponseBody::JoinGroup(JoinGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            generation_id: 3,
            protocol_name: "range".into(),
            leader: member(),
            member_id: member(),
            members: vec![JoinGroupMember {
                member_id: member(),
                group_instance_id: instance(),
                metadata: subscription(),
            }],
        }),
        ApiKey::Heartbeat => ResponseBody::Heartbeat(HeartbeatResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::RebalanceInProgress,
        }),
        ApiKey::LeaveGroup => ResponseBody::LeaveGroup(LeaveGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            members: vec![LeaveGroupMemberResponse {
                member_id: member(),
                group_instance_id: instance(),
                error_code: ErrorCode::None,
            }],
        }),
        ApiKey::SyncGroup => ResponseBody::SyncGroup(SyncGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            assignment: assignment(),
        }),
    }
}

pub(super) fn frame_of(bytes: &Bytes) -> Bytes {
    let mut buffer = BytesMut::from(&bytes[..]);
    let frame = split_frame(&mut buffer, MAX_REQUEST_BYTES)
        .unwrap()
        .expect("a whole frame");
    assert!(buffer.is_empty());
    frame
}

#[test]
fn every_advertised_version_has_both_vectors() {
    let vectors = vectors();
    for range in SUPPORTED {
        for version in range.min..=range.max {
            for kind in ["request", "response"] {
                let found = vectors
                    .iter()
                    .any(|(k, key, v, _)| k == kind && *key == range.key.number() && *v == version);
                assert!(found, "no {kind} vector for {:?} v{version}", range.key);
            }
        }
    }
}

#[test]
fn kafka_python_requests_decode_to_the_values_encoded() {
    for (kind, key, version, bytes) in vectors() {
        if kind != "request" {
            continue;
        }
        let api_key = ApiKey::from_number(key).unwrap();
        let request = decode_request(frame_of(&bytes))
            .unwrap_or_else(|error| panic!("{api_key:?} v{version}: {error}"));
        assert_eq!(
            request.header,
            RequestHeader {
                api_key,
                api_version: version,
                correlation_id: 7,
                client_id: Some("vectors".into())
            }
        );
        assert_eq!(
            request.body,
            expected_request(api_key, version),
            "{api_key:?} v{version}"
        );
    }
}

#[test]
fn requests_encode_to_kafka_pythons_bytes() {
    for (kind, key, version, bytes) in vectors() {
        if kind != "request" {
            continue;
        }
        let api_key = ApiKey::from_number(key).unwrap();
        let header = RequestHeader {
            api_key,
            api_version: version,
            correlation_id: 7,
            client_id: Some("vectors".into()),
        };
        let chunks = encode_request(&header, &expected_request(api_key, version));
        assert_eq!(join(&chunks), bytes, "{api_key:?} v{version}");
    }
}

#[test]
fn responses_encode_to_kafka_pythons_bytes() {
    for (kind, key, version, bytes) in vectors() {
        if kind != "response" {
            continue;
        }
        let api_key = ApiKey::from_number(key).unwrap();
        let chunks = encode_response(7, version, &expected_response(api_key));
        assert_eq!(join(&chunks), bytes, "{api_key:?} v{version}");
    }
}

#[test]
fn the_unsupported_api_versions_answer_is_kafkas() {
    let (_, _, _, bytes) = vectors()
        .into_iter()
        .find(|(kind, ..)| kind == "unsupported")
        .unwrap();
    assert_eq!(join(&encode_unsupported_api_versions(7)), bytes);
}

#[test]
fn an_api_versions_error_is_always_version_0() {
    for version in 0..=4 {
        assert_eq!(
            join(&encode_response(
                7,
                version,
                &ResponseBody::ApiVersions(ApiVersionsResponse::unsupported_version())
            )),
            join(&encode_unsupported_api_versions(7)),
            "v{version}"
        );
    }
}

#[test]
fn fetched_records_are_a_chunk_of_their_own_not_a_copy() {
    let records = records();
    let chunks = encode_response(7, 12, &expected_response(ApiKey::Fetch));
    let ResponseBody::Fetch(mut response) = expected_response(ApiKey::Fetch) else {
        unreachable!()
    };
    response.responses[0].partitions[0].records = Some(records.clone());
    let chunks_again = encode_response(7, 12, &ResponseBody::Fetch(response));
    assert_eq!(chunks.len(), chunks_again.len());
    assert!(
        chunks_again
            .iter()
            .any(|chunk| chunk.as_ptr() == records.as_ptr() && chunk.len() == records.len())
    );
}

#[test]
fn produced_records_are_a_slice_of_the_frame() {
    let (_, _, _, bytes) = vectors()
        .into_iter()
        .find(|(kind, key, v, _)| kind == "request" && *key == 0 && *v == 9)
        .unwrap();
    let frame = frame_of(&bytes);
    let request = decode_request(frame.clone()).unwrap();
    let RequestBody::Produce(produce) = request.body else {
        panic!("not a produce")
    };
    let records = produce.topics[0].partitions[0].records.clone().unwrap();
    let start = records.as_ptr() as usize - frame.as_ptr() as usize;
    assert!(
        start + records.len() <= frame.len(),
        "records are not inside the frame"
    );
}

#[test]
fn every_shorter_prefix_of_a_request_is_refused() {
    for (kind, key, version, bytes) in vectors() {
        if kind != "request" {
            continue;
        }
        let frame = frame_of(&bytes);
        for length in 0..frame.len() {
            let result = decode_request(frame.slice(..length));
            assert!(
                result.is_err(),
                "key {key} v{version} cut at {length} decoded: {result:?}"
            );
        }
    }
}

#[test]
fn trailing_bytes_are_ignored_as_kafka_ignores_them() {
    for (kind, key, version, bytes) in vectors() {
        if kind != "request" {
            continue;
        }
        let exact = decode_request(frame_of(&bytes)).unwrap();
        let mut longer = BytesMut::from(&frame_of(&bytes)[..]);
        longer.extend_from_slice(&[1, 0, 0]);
        let decoded = decode_request(longer.freeze());
        assert_eq!(decoded.as_ref(), Ok(&exact), "key {key} v{version}");
    }
}

/// librdkafka 2.16's Metadata v13 for every topic, as captured: a four-byte
/// placeholder where the compact topic count goes, so three bytes trail.
#[test]
fn librdkafkas_metadata_for_every_topic_decodes() {
    let frame = unhex("0003000d00000003000772646b61666b610000000000010000");
    let request = decode_request(frame).unwrap();
    let RequestBody::Metadata(metadata) = request.body else {
        panic!("{request:?}");
    };
    assert_eq!(metadata.topics, None, "every topic");
}
