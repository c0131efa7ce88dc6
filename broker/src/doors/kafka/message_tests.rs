//! Requests round trip: kafka-python's request vectors are what
//! [`encode_request`] writes for the same values, and for arbitrary values at
//! every advertised version, what the encoder writes decodes, and encodes back
//! to the same bytes (so the decoder reads every field the encoder writes, in
//! the same order and width, and nothing more).

use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._é-]{0,12}"
}

fn records() -> impl Strategy<Value = Option<Bytes>> {
    option::of(vec(any::<u8>(), 0..100)).prop_map(|records| records.map(Bytes::from))
}

/// Opaque bytes: a subscription, an assignment; sometimes longer than the
/// writer's 64-byte inline limit, so they become chunks of their own.
fn payload() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..80).prop_map(Bytes::from)
}

fn body(key: ApiKey) -> BoxedStrategy<RequestBody> {
    match key {
        ApiKey::Produce => (
            option::of(name()),
            any::<i16>(),
            any::<i32>(),
            vec((name(), vec((any::<i32>(), records()), 0..3)), 0..3),
        )
            .prop_map(|(transactional_id, acks, timeout_ms, topics)| {
                RequestBody::Produce(ProduceRequest {
                    transactional_id,
                    acks,
                    timeout_ms,
                    topics: topics
                        .into_iter()
                        .map(|(name, partitions)| ProduceTopic {
                            name,
                            partitions: partitions
                                .into_iter()
                                .map(|(index, records)| ProducePartition { index, records })
                                .collect(),
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::Fetch => (
            any::<[i32; 6]>(),
            any::<i8>(),
            vec(
                (name(), vec((any::<[i32; 4]>(), any::<[i64; 2]>()), 0..3)),
                0..3,
            ),
            vec((name(), vec(any::<i32>(), 0..3)), 0..2),
            name(),
        )
            .prop_map(|(numbers, isolation_level, topics, forgotten, rack_id)| {
                RequestBody::Fetch(FetchRequest {
                    replica_id: numbers[0],
                    max_wait_ms: numbers[1],
                    min_bytes: numbers[2],
                    max_bytes: numbers[3],
                    isolation_level,
                    session_id: numbers[4],
                    session_epoch: numbers[5],
                    topics: topics
                        .into_iter()
                        .map(|(topic, partitions)| FetchTopic {
                            topic,
                            partitions: partitions
                                .into_iter()
                                .map(|(small, large)| FetchPartition {
                                    partition: small[0],
                                    current_leader_epoch: small[1],
                                    fetch_offset: large[0],
                                    last_fetched_epoch: small[2],
                                    log_start_offset: large[1],
                                    partition_max_bytes: small[3],
                                })
                                .collect(),
                        })
                        .collect(),
                    forgotten_topics: forgotten
                        .into_iter()
                        .map(|(topic, partitions)| ForgottenTopic { topic, partitions })
                        .collect(),
                    rack_id,
                })
            })
            .boxed(),
        ApiKey::ListOffsets => (
            any::<i32>(),
            any::<i8>(),
            vec((name(), vec(any::<(i32, i32, i64)>(), 0..3)), 0..3),
        )
            .prop_map(|(replica_id, isolation_level, topics)| {
                RequestBody::ListOffsets(ListOffsetsRequest {
                    replica_id,
                    isolation_level,
                    topics: topics
                        .into_iter()
                        .map(|(name, partitions)| ListOffsetsTopic {
                            name,
                            partitions: partitions
                                .into_iter()
                                .map(|(partition_index, current_leader_epoch, timestamp)| {
                                    ListOffsetsPartition {
                                        partition_index,
                                        current_leader_epoch,
                                        timestamp,
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::Metadata => (
            option::of(vec((any::<[u8; 16]>(), option::of(name())), 0..3)),
            any::<[bool; 3]>(),
        )
            .prop_map(|(topics, flags)| {
                RequestBody::Metadata(MetadataRequest {
                    topics: topics.map(|topics| {
                        topics
                            .into_iter()
                            .map(|(topic_id, name)| MetadataRequestTopic { topic_id, name })
                            .collect()
                    }),
                    allow_auto_topic_creation: flags[0],
                    include_cluster_authorized_operations: flags[1],
                    include_topic_authorized_operations: flags[2],
                })
            })
            .boxed(),
        ApiKey::FindCoordinator => (name(), any::<i8>())
            .prop_map(|(key, key_type)| {
                RequestBody::FindCoordinator(FindCoordinatorRequest { key, key_type })
            })
            .boxed(),
        ApiKey::ApiVersions => (option::of(name()), option::of(name()))
            .prop_map(|(client_software_name, client_software_version)| {
                RequestBody::ApiVersions(ApiVersionsRequest {
                    client_software_name,
                    client_software_version,
                })
            })
            .boxed(),
        ApiKey::CreateTopics => (
            vec(
                (
                    name(),
                    any::<(i32, i16)>(),
                    vec((any::<i32>(), vec(any::<i32>(), 0..3)), 0..2),
                    vec((name(), option::of(name())), 0..2),
                ),
                0..3,
            ),
            any::<(i32, bool)>(),
        )
            .prop_map(|(topics, (timeout_ms, validate_only))| {
                RequestBody::CreateTopics(CreateTopicsRequest {
                    topics: topics
                        .into_iter()
                        .map(
                            |(name, (num_partitions, replication_factor), assignments, configs)| {
                                CreatableTopic {
                                    name,
                                    num_partitions,
                                    replication_factor,
                                    assignments: assignments
                                        .into_iter()
                                        .map(|(partition_index, broker_ids)| ReplicaAssignment {
                                            partition_index,
                                            broker_ids,
                                        })
                                        .collect(),
                                    configs: configs
                                        .into_iter()
                                        .map(|(name, value)| TopicConfigEntry { name, value })
                                        .collect(),
                                }
                            },
                        )
                        .collect(),
                    timeout_ms,
                    validate_only,
                })
            })
            .boxed(),
        ApiKey::DeleteTopics => (vec(name(), 0..4), any::<i32>())
            .prop_map(|(topic_names, timeout_ms)| {
                RequestBody::DeleteTopics(DeleteTopicsRequest {
                    topic_names,
                    timeout_ms,
                })
            })
            .boxed(),
        ApiKey::InitProducerId => (option::of(name()), any::<(i32, i64, i16)>())
            .prop_map(
                |(transactional_id, (transaction_timeout_ms, producer_id, producer_epoch))| {
                    RequestBody::InitProducerId(InitProducerIdRequest {
                        transactional_id,
                        transaction_timeout_ms,
                        producer_id,
                        producer_epoch,
                    })
                },
            )
            .boxed(),
        ApiKey::CreatePartitions => (
            vec(
                (
                    name(),
                    any::<i32>(),
                    option::of(vec(vec(any::<i32>(), 0..3), 0..3)),
                ),
                0..3,
            ),
            any::<(i32, bool)>(),
        )
            .prop_map(|(topics, (timeout_ms, validate_only))| {
                RequestBody::CreatePartitions(CreatePartitionsRequest {
                    topics: topics
                        .into_iter()
                        .map(|(name, count, assignments)| CreatePartitionsTopic {
                            name,
                            count,
                            assignments: assignments.map(|assignments| {
                                assignments
                                    .into_iter()
                                    .map(|broker_ids| CreatePartitionsAssignment { broker_ids })
                                    .collect()
                            }),
                        })
                        .collect(),
                    timeout_ms,
                    validate_only,
                })
            })
            .boxed(),
        ApiKey::DescribeConfigs => (
            vec((any::<i8>(), name(), option::of(vec(name(), 0..3))), 0..3),
            any::<bool>(),
        )
            .prop_map(|(resources, include_synonyms)| {
                RequestBody::DescribeConfigs(DescribeConfigsRequest {
                    resources: resources
                        .into_iter()
                        .map(|(resource_type, resource_name, configuration_keys)| {
                            DescribeConfigsResource {
                                resource_type,
                                resource_name,
                                configuration_keys,
                            }
                        })
                        .collect(),
                    include_synonyms,
                })
            })
            .boxed(),
        ApiKey::DescribeCluster => any::<(bool, i8)>()
            .prop_map(|(include_cluster_authorized_operations, endpoint_type)| {
                RequestBody::DescribeCluster(DescribeClusterRequest {
                    include_cluster_authorized_operations,
                    endpoint_type,
                })
            })
            .boxed(),
        ApiKey::OffsetForLeaderEpoch => vec((name(), vec(any::<(i32, i32, i32)>(), 0..3)), 0..3)
            .prop_map(|topics| {
                RequestBody::OffsetForLeaderEpoch(OffsetForLeaderEpochRequest {
                    topics: topics
                        .into_iter()
                        .map(|(topic, partitions)| OffsetForLeaderTopic {
                            topic,
                            partitions: partitions
                                .into_iter()
                                .map(|(partition, current_leader_epoch, leader_epoch)| {
                                    OffsetForLeaderPartition {
                                        partition,
                                        current_leader_epoch,
                                        leader_epoch,
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::DeleteRecords => (
            vec((name(), vec(any::<(i32, i64)>(), 0..3)), 0..3),
            any::<i32>(),
        )
            .prop_map(|(topics, timeout_ms)| {
                RequestBody::DeleteRecords(DeleteRecordsRequest {
                    topics: topics
                        .into_iter()
                        .map(|(name, partitions)| DeleteRecordsTopic {
                            name,
                            partitions: partitions
                                .into_iter()
                                .map(|(partition_index, offset)| DeleteRecordsPartition {
                                    partition_index,
                                    offset,
                                })
                                .collect(),
                        })
                        .collect(),
                    timeout_ms,
                })
            })
            .boxed(),
        ApiKey::DescribeGroups => (vec(name(), 0..4), any::<bool>())
            .prop_map(|(groups, include_authorized_operations)| {
                RequestBody::DescribeGroups(DescribeGroupsRequest {
                    groups,
                    include_authorized_operations,
                })
            })
            .boxed(),
        ApiKey::ListGroups => (vec(name(), 0..3), vec(name(), 0..3))
            .prop_map(|(states_filter, types_filter)| {
                RequestBody::ListGroups(ListGroupsRequest {
                    states_filter,
                    types_filter,
                })
            })
            .boxed(),
        ApiKey::DeleteGroups => vec(name(), 0..4)
            .prop_map(|group_names| RequestBody::DeleteGroups(DeleteGroupsRequest { group_names }))
            .boxed(),
        ApiKey::OffsetCommit => (
            (
                name(),
                any::<i32>(),
                name(),
                option::of(name()),
                any::<i64>(),
            ),
            vec(
                (
                    name(),
                    vec((any::<(i32, i64, i32)>(), option::of(name())), 0..3),
                ),
                0..3,
            ),
        )
            .prop_map(
                |(
                    (group_id, generation_id_or_member_epoch, member_id, instance, retention),
                    topics,
                )| {
                    RequestBody::OffsetCommit(OffsetCommitRequest {
                        group_id,
                        generation_id_or_member_epoch,
                        member_id,
                        group_instance_id: instance,
                        retention_time_ms: retention,
                        topics: topics
                            .into_iter()
                            .map(|(name, partitions)| OffsetCommitTopic {
                                name,
                                partitions: partitions
                                    .into_iter()
                                    .map(|((index, offset, epoch), metadata)| {
                                        OffsetCommitPartition {
                                            partition_index: index,
                                            committed_offset: offset,
                                            committed_leader_epoch: epoch,
                                            committed_metadata: metadata,
                                        }
                                    })
                                    .collect(),
                            })
                            .collect(),
                    })
                },
            )
            .boxed(),
        ApiKey::OffsetFetch => (
            vec(
                (
                    name(),
                    option::of(name()),
                    any::<i32>(),
                    option::of(vec((name(), vec(any::<i32>(), 0..3)), 0..3)),
                ),
                0..3,
            ),
            any::<bool>(),
        )
            .prop_map(|(groups, require_stable)| {
                RequestBody::OffsetFetch(OffsetFetchRequest {
                    groups: groups
                        .into_iter()
                        .map(
                            |(group_id, member_id, member_epoch, topics)| OffsetFetchGroup {
                                group_id,
                                member_id,
                                member_epoch,
                                topics: topics.map(|topics| {
                                    topics
                                        .into_iter()
                                        .map(|(name, partition_indexes)| OffsetFetchTopic {
                                            name,
                                            partition_indexes,
                                        })
                                        .collect()
                                }),
                            },
                        )
                        .collect(),
                    require_stable,
                })
            })
            .boxed(),
        ApiKey::JoinGroup => (
            (name(), any::<(i32, i32)>(), name(), option::of(name())),
            name(),
            vec((name(), payload()), 0..3),
        )
            .prop_map(
                |(
                    (group_id, (session_timeout_ms, rebalance_timeout_ms), member_id, instance),
                    protocol_type,
                    protocols,
                )| {
                    RequestBody::JoinGroup(JoinGroupRequest {
                        group_id,
                        session_timeout_ms,
                        rebalance_timeout_ms,
                        member_id,
                        group_instance_id: instance,
                        protocol_type,
                        protocols: protocols
                            .into_iter()
                            .map(|(name, metadata)| JoinGroupProtocol { name, metadata })
                            .collect(),
                    })
                },
            )
            .boxed(),
        ApiKey::Heartbeat => (name(), any::<i32>(), name(), option::of(name()))
            .prop_map(|(group_id, generation_id, member_id, group_instance_id)| {
                RequestBody::Heartbeat(HeartbeatRequest {
                    group_id,
                    generation_id,
                    member_id,
                    group_instance_id,
                })
            })
            .boxed(),
        ApiKey::LeaveGroup => (name(), vec((name(), option::of(name())), 0..3))
            .prop_map(|(group_id, members)| {
                RequestBody::LeaveGroup(LeaveGroupRequest {
                    group_id,
                    members: members
                        .into_iter()
                        .map(|(member_id, group_instance_id)| LeaveGroupMember {
                            member_id,
                            group_instance_id,
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::SyncGroup => (
            name(),
            any::<i32>(),
            name(),
            option::of(name()),
            vec((name(), payload()), 0..3),
        )
            .prop_map(
                |(group_id, generation_id, member_id, group_instance_id, assignments)| {
                    RequestBody::SyncGroup(SyncGroupRequest {
                        group_id,
                        generation_id,
                        member_id,
                        group_instance_id,
                        assignments: assignments
                            .into_iter()
                            .map(|(member_id, assignment)| SyncGroupAssignment {
                                member_id,
                                assignment,
                            })
                            .collect(),
                    })
                },
            )
            .boxed(),
    }
}

fn request() -> impl Strategy<Value = (RequestHeader, RequestBody)> {
    proptest::sample::select(SUPPORTED.to_vec()).prop_flat_map(|range| {
        (
            range.min..=range.max,
            any::<i32>(),
            option::of(name()),
            body(range.key),
        )
            .prop_map(move |(api_version, correlation_id, client_id, body)| {
                (
                    RequestHeader {
                        api_key: range.key,
                        api_version,
                        correlation_id,
                        client_id,
                    },
                    body,
                )
            })
    })
}

fn frame(chunks: &[Bytes]) -> Bytes {
    let joined = join(chunks);
    let size = i32::from_be_bytes(joined[..4].try_into().unwrap());
    assert_eq!(
        size as usize + 4,
        joined.len(),
        "the size prefix counts the rest"
    );
    joined.slice(4..)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn requests_round_trip_at_every_version((header, body) in request()) {
        let encoded = frame(&encode_request(&header, &body));
        let decoded = decode_request(encoded.clone());
        prop_assert!(decoded.is_ok(), "{:?} v{}: {:?}", header.api_key, header.api_version, decoded);
        let decoded = decoded.unwrap();
        prop_assert_eq!(&decoded.header, &header);
        let again = frame(&encode_request(&decoded.header, &decoded.body));
        prop_assert_eq!(again, encoded);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A connection's bytes arrive in arbitrary pieces: the frames split off
    /// are the requests sent, in order, and a partial frame always waits.
    #[test]
    fn pipelined_requests_split_off_whole_whatever_the_pieces(
        requests in vec(request(), 1..6),
        pieces in vec(1usize..64, 1..400),
    ) {
        let stream: Vec<u8> = requests
            .iter()
            .flat_map(|(header, body)| join(&encode_request(header, body)).to_vec())
            .collect();
        let mut buffer = bytes::BytesMut::new();
        let mut decoded = Vec::new();
        let mut offset = 0;
        let mut piece = pieces.iter().cycle();
        while offset < stream.len() {
            let end = (offset + piece.next().unwrap()).min(stream.len());
            buffer.extend_from_slice(&stream[offset..end]);
            offset = end;
            while let Some(frame) = split_frame(&mut buffer, MAX_REQUEST_BYTES).unwrap() {
                let request = decode_request(frame).unwrap();
                decoded.push((request.header, request.body));
            }
        }
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(decoded.len(), requests.len());
        for ((header, body), (sent_header, sent_body)) in decoded.iter().zip(&requests) {
            prop_assert_eq!(header, sent_header);
            let again = join(&encode_request(header, body));
            prop_assert_eq!(again, join(&encode_request(sent_header, sent_body)));
        }
    }
}
