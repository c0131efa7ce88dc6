//! The Kafka door's responses, of random values at every advertised version,
//! read by kafka-python's own decoder: `interop-tests/kafka/reencode.py` decodes
//! each and encodes it again with kafka-python, and the bytes must be the ones
//! the door wrote. A field the two codecs disagree on (missing, extra, another
//! width, order or nullability) fails here.
//!
//! Needs python3 with kafka-python 3 (`pip install -r interop-tests/requirements.txt`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use sinew_broker::doors::kafka::*;

/// Responses per API and version.
const SAMPLES: usize = 12;

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._é-]{0,12}"
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    proptest::sample::select(ALL_ERROR_CODES.to_vec())
}

fn records() -> impl Strategy<Value = Option<Bytes>> {
    option::of(vec(any::<u8>(), 0..100)).prop_map(|records| records.map(Bytes::from))
}

fn payload() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..80).prop_map(Bytes::from)
}

fn metadata() -> impl Strategy<Value = ResponseBody> {
    let broker = (any::<i32>(), name(), any::<i32>(), option::of(name())).prop_map(
        |(node_id, host, port, rack)| MetadataBroker {
            node_id,
            host,
            port,
            rack,
        },
    );
    let partition = (
        error_code(),
        any::<[i32; 3]>(),
        vec(any::<i32>(), 0..3),
        vec(any::<i32>(), 0..3),
        vec(any::<i32>(), 0..2),
    )
        .prop_map(
            |(error_code, numbers, replica_nodes, isr_nodes, offline_replicas)| MetadataPartition {
                error_code,
                partition_index: numbers[0],
                leader_id: numbers[1],
                leader_epoch: numbers[2],
                replica_nodes,
                isr_nodes,
                offline_replicas,
            },
        );
    let topic = (
        error_code(),
        name(),
        any::<[u8; 16]>(),
        any::<bool>(),
        vec(partition, 0..3),
        any::<i32>(),
    )
        .prop_map(
            |(error_code, name, topic_id, is_internal, partitions, topic_authorized_operations)| {
                MetadataTopic {
                    error_code,
                    name: Some(name),
                    topic_id,
                    is_internal,
                    partitions,
                    topic_authorized_operations,
                }
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
            |(
                (throttle_time_ms, controller_id, cluster_authorized_operations),
                brokers,
                cluster_id,
                topics,
                error_code,
            )| {
                ResponseBody::Metadata(MetadataResponse {
                    throttle_time_ms,
                    brokers,
                    cluster_id,
                    controller_id,
                    topics,
                    cluster_authorized_operations,
                    error_code,
                })
            },
        )
}

fn produce() -> impl Strategy<Value = ResponseBody> {
    let partition = (
        any::<i32>(),
        error_code(),
        any::<[i64; 3]>(),
        option::of(name()),
    )
        .prop_map(
            |(index, error_code, offsets, error_message)| ProducePartitionResponse {
                index,
                error_code,
                base_offset: offsets[0],
                log_append_time_ms: offsets[1],
                log_start_offset: offsets[2],
                error_message,
            },
        );
    (vec((name(), vec(partition, 0..3)), 0..3), any::<i32>()).prop_map(
        |(topics, throttle_time_ms)| {
            ResponseBody::Produce(ProduceResponse {
                responses: topics
                    .into_iter()
                    .map(|(name, partitions)| ProduceTopicResponse { name, partitions })
                    .collect(),
                throttle_time_ms,
            })
        },
    )
}

fn fetch() -> impl Strategy<Value = ResponseBody> {
    let aborted = vec(any::<(i64, i64)>(), 0..2).prop_map(|list| {
        list.into_iter()
            .map(|(producer_id, first_offset)| AbortedTransaction {
                producer_id,
                first_offset,
            })
            .collect()
    });
    let partition = (
        any::<i32>(),
        error_code(),
        any::<[i64; 3]>(),
        option::of(aborted),
        any::<i32>(),
        records(),
    )
        .prop_map(
            |(
                partition_index,
                error_code,
                offsets,
                aborted_transactions,
                preferred_read_replica,
                records,
            )| FetchPartitionResponse {
                partition_index,
                error_code,
                high_watermark: offsets[0],
                last_stable_offset: offsets[1],
                log_start_offset: offsets[2],
                aborted_transactions,
                preferred_read_replica,
                records,
            },
        );
    (
        any::<(i32, i32)>(),
        error_code(),
        vec((name(), vec(partition, 0..3)), 0..3),
    )
        .prop_map(|((throttle_time_ms, session_id), error_code, topics)| {
            ResponseBody::Fetch(FetchResponse {
                throttle_time_ms,
                error_code,
                session_id,
                responses: topics
                    .into_iter()
                    .map(|(topic, partitions)| FetchTopicResponse { topic, partitions })
                    .collect(),
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
    (any::<i32>(), vec((name(), vec(partition, 0..3)), 0..3)).prop_map(
        |(throttle_time_ms, topics)| {
            ResponseBody::ListOffsets(ListOffsetsResponse {
                throttle_time_ms,
                topics: topics
                    .into_iter()
                    .map(|(name, partitions)| ListOffsetsTopicResponse { name, partitions })
                    .collect(),
            })
        },
    )
}

fn others(key: ApiKey) -> BoxedStrategy<ResponseBody> {
    match key {
        ApiKey::FindCoordinator => (
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
            .boxed(),
        ApiKey::ApiVersions => (
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
            .boxed(),
        ApiKey::CreateTopics => (
            any::<i32>(),
            vec((name(), error_code(), option::of(name())), 0..3),
        )
            .prop_map(|(throttle_time_ms, topics)| {
                ResponseBody::CreateTopics(CreateTopicsResponse {
                    throttle_time_ms,
                    topics: topics
                        .into_iter()
                        .map(|(name, error_code, error_message)| CreatableTopicResult {
                            name,
                            error_code,
                            error_message,
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::DeleteTopics => (any::<i32>(), vec((name(), error_code()), 0..3))
            .prop_map(|(throttle_time_ms, topics)| {
                ResponseBody::DeleteTopics(DeleteTopicsResponse {
                    throttle_time_ms,
                    responses: topics
                        .into_iter()
                        .map(|(name, error_code)| DeletableTopicResult { name, error_code })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::InitProducerId => (any::<(i32, i64, i16)>(), error_code())
            .prop_map(
                |((throttle_time_ms, producer_id, producer_epoch), error_code)| {
                    ResponseBody::InitProducerId(InitProducerIdResponse {
                        throttle_time_ms,
                        error_code,
                        producer_id,
                        producer_epoch,
                    })
                },
            )
            .boxed(),
        ApiKey::CreatePartitions => (
            any::<i32>(),
            vec((name(), error_code(), option::of(name())), 0..3),
        )
            .prop_map(|(throttle_time_ms, results)| {
                ResponseBody::CreatePartitions(CreatePartitionsResponse {
                    throttle_time_ms,
                    results: results
                        .into_iter()
                        .map(
                            |(name, error_code, error_message)| CreatePartitionsTopicResult {
                                name,
                                error_code,
                                error_message,
                            },
                        )
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::DescribeConfigs => {
            let synonym =
                (name(), option::of(name()), any::<i8>()).prop_map(|(name, value, source)| {
                    DescribeConfigsSynonym {
                        name,
                        value,
                        source,
                    }
                });
            let entry = (
                name(),
                option::of(name()),
                any::<(bool, i8, bool)>(),
                vec(synonym, 0..3),
            )
                .prop_map(
                    |(name, value, (read_only, config_source, is_sensitive), synonyms)| {
                        DescribeConfigsEntry {
                            name,
                            value,
                            read_only,
                            config_source,
                            is_sensitive,
                            synonyms,
                        }
                    },
                );
            let result = (
                error_code(),
                option::of(name()),
                any::<i8>(),
                name(),
                vec(entry, 0..3),
            )
                .prop_map(
                    |(error_code, error_message, resource_type, resource_name, configs)| {
                        DescribeConfigsResult {
                            error_code,
                            error_message,
                            resource_type,
                            resource_name,
                            configs,
                        }
                    },
                );
            (any::<i32>(), vec(result, 0..3))
                .prop_map(|(throttle_time_ms, results)| {
                    ResponseBody::DescribeConfigs(DescribeConfigsResponse {
                        throttle_time_ms,
                        results,
                    })
                })
                .boxed()
        }
        ApiKey::DescribeCluster => (
            any::<(i32, i32, i32, i8)>(),
            error_code(),
            option::of(name()),
            name(),
            vec((any::<(i32, i32)>(), name(), option::of(name())), 0..3),
        )
            .prop_map(
                |(
                    (throttle_time_ms, controller_id, cluster_authorized_operations, endpoint_type),
                    error_code,
                    error_message,
                    cluster_id,
                    brokers,
                )| {
                    ResponseBody::DescribeCluster(DescribeClusterResponse {
                        throttle_time_ms,
                        error_code,
                        error_message,
                        endpoint_type,
                        cluster_id,
                        controller_id,
                        brokers: brokers
                            .into_iter()
                            .map(|((broker_id, port), host, rack)| DescribeClusterBroker {
                                broker_id,
                                host,
                                port,
                                rack,
                            })
                            .collect(),
                        cluster_authorized_operations,
                    })
                },
            )
            .boxed(),
        ApiKey::OffsetForLeaderEpoch => (
            any::<i32>(),
            vec(
                (name(), vec((error_code(), any::<(i32, i32, i64)>()), 0..3)),
                0..3,
            ),
        )
            .prop_map(|(throttle_time_ms, topics)| {
                ResponseBody::OffsetForLeaderEpoch(OffsetForLeaderEpochResponse {
                    throttle_time_ms,
                    topics: topics
                        .into_iter()
                        .map(|(topic, partitions)| OffsetForLeaderTopicResult {
                            topic,
                            partitions: partitions
                                .into_iter()
                                .map(|(error_code, (partition, leader_epoch, end_offset))| {
                                    EpochEndOffset {
                                        error_code,
                                        partition,
                                        leader_epoch,
                                        end_offset,
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::DeleteRecords => (
            any::<i32>(),
            vec(
                (name(), vec((any::<(i32, i64)>(), error_code()), 0..3)),
                0..3,
            ),
        )
            .prop_map(|(throttle_time_ms, topics)| {
                ResponseBody::DeleteRecords(DeleteRecordsResponse {
                    throttle_time_ms,
                    topics: topics
                        .into_iter()
                        .map(|(name, partitions)| DeleteRecordsTopicResult {
                            name,
                            partitions: partitions
                                .into_iter()
                                .map(|((partition_index, low_watermark), error_code)| {
                                    DeleteRecordsPartitionResult {
                                        partition_index,
                                        low_watermark,
                                        error_code,
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::DescribeGroups => {
            let member = (
                (name(), option::of(name()), name(), name()),
                payload(),
                payload(),
            )
                .prop_map(
                    |(
                        (member_id, group_instance_id, client_id, client_host),
                        member_metadata,
                        member_assignment,
                    )| DescribedGroupMember {
                        member_id,
                        group_instance_id,
                        client_id,
                        client_host,
                        member_metadata,
                        member_assignment,
                    },
                );
            let group = (
                error_code(),
                (name(), name(), name(), name()),
                vec(member, 0..3),
                any::<i32>(),
            )
                .prop_map(
                    |(
                        error_code,
                        (group_id, group_state, protocol_type, protocol_data),
                        members,
                        authorized_operations,
                    )| DescribedGroup {
                        error_code,
                        group_id,
                        group_state,
                        protocol_type,
                        protocol_data,
                        members,
                        authorized_operations,
                    },
                );
            (any::<i32>(), vec(group, 0..3))
                .prop_map(|(throttle_time_ms, groups)| {
                    ResponseBody::DescribeGroups(DescribeGroupsResponse {
                        throttle_time_ms,
                        groups,
                    })
                })
                .boxed()
        }
        ApiKey::ListGroups => (
            any::<i32>(),
            error_code(),
            vec((name(), name(), name(), name()), 0..3),
        )
            .prop_map(|(throttle_time_ms, error_code, groups)| {
                ResponseBody::ListGroups(ListGroupsResponse {
                    throttle_time_ms,
                    error_code,
                    groups: groups
                        .into_iter()
                        .map(
                            |(group_id, protocol_type, group_state, group_type)| ListedGroup {
                                group_id,
                                protocol_type,
                                group_state,
                                group_type,
                            },
                        )
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::DeleteGroups => (any::<i32>(), vec((name(), error_code()), 0..3))
            .prop_map(|(throttle_time_ms, results)| {
                ResponseBody::DeleteGroups(DeleteGroupsResponse {
                    throttle_time_ms,
                    results: results
                        .into_iter()
                        .map(|(group_id, error_code)| DeletableGroupResult {
                            group_id,
                            error_code,
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::OffsetCommit => (
            any::<i32>(),
            vec((name(), vec((any::<i32>(), error_code()), 0..3)), 0..3),
        )
            .prop_map(|(throttle_time_ms, topics)| {
                ResponseBody::OffsetCommit(OffsetCommitResponse {
                    throttle_time_ms,
                    topics: topics
                        .into_iter()
                        .map(|(name, partitions)| OffsetCommitTopicResponse {
                            name,
                            partitions: partitions
                                .into_iter()
                                .map(|(partition_index, error_code)| {
                                    OffsetCommitPartitionResponse {
                                        partition_index,
                                        error_code,
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::OffsetFetch => {
            let partition = (any::<(i32, i64, i32)>(), option::of(name()), error_code()).prop_map(
                |(
                    (partition_index, committed_offset, committed_leader_epoch),
                    metadata,
                    error_code,
                )| {
                    OffsetFetchPartitionResponse {
                        partition_index,
                        committed_offset,
                        committed_leader_epoch,
                        metadata,
                        error_code,
                    }
                },
            );
            let topic = (name(), vec(partition, 0..3))
                .prop_map(|(name, partitions)| OffsetFetchTopicResponse { name, partitions });
            let group = (name(), vec(topic, 0..3), error_code()).prop_map(
                |(group_id, topics, error_code)| OffsetFetchGroupResponse {
                    group_id,
                    topics,
                    error_code,
                },
            );
            (any::<i32>(), vec(group, 0..3))
                .prop_map(|(throttle_time_ms, groups)| {
                    ResponseBody::OffsetFetch(OffsetFetchResponse {
                        throttle_time_ms,
                        groups,
                    })
                })
                .boxed()
        }
        ApiKey::JoinGroup => (
            (any::<(i32, i32)>(), error_code()),
            (name(), name(), name()),
            vec((name(), option::of(name()), payload()), 0..3),
        )
            .prop_map(
                |(
                    ((throttle_time_ms, generation_id), error_code),
                    (protocol_name, leader, member_id),
                    members,
                )| {
                    ResponseBody::JoinGroup(JoinGroupResponse {
                        throttle_time_ms,
                        error_code,
                        generation_id,
                        protocol_name,
                        leader,
                        member_id,
                        members: members
                            .into_iter()
                            .map(|(member_id, group_instance_id, metadata)| JoinGroupMember {
                                member_id,
                                group_instance_id,
                                metadata,
                            })
                            .collect(),
                    })
                },
            )
            .boxed(),
        ApiKey::Heartbeat => (any::<i32>(), error_code())
            .prop_map(|(throttle_time_ms, error_code)| {
                ResponseBody::Heartbeat(HeartbeatResponse {
                    throttle_time_ms,
                    error_code,
                })
            })
            .boxed(),
        ApiKey::LeaveGroup => (
            any::<i32>(),
            error_code(),
            vec((name(), option::of(name()), error_code()), 0..3),
        )
            .prop_map(|(throttle_time_ms, error_code, members)| {
                ResponseBody::LeaveGroup(LeaveGroupResponse {
                    throttle_time_ms,
                    error_code,
                    members: members
                        .into_iter()
                        .map(|(member_id, group_instance_id, error_code)| {
                            LeaveGroupMemberResponse {
                                member_id,
                                group_instance_id,
                                error_code,
                            }
                        })
                        .collect(),
                })
            })
            .boxed(),
        ApiKey::SyncGroup => (any::<i32>(), error_code(), payload())
            .prop_map(|(throttle_time_ms, error_code, assignment)| {
                ResponseBody::SyncGroup(SyncGroupResponse {
                    throttle_time_ms,
                    error_code,
                    assignment,
                })
            })
            .boxed(),
        ApiKey::Metadata => metadata().boxed(),
        ApiKey::Produce => produce().boxed(),
        ApiKey::Fetch => fetch().boxed(),
        ApiKey::ListOffsets => list_offsets().boxed(),
    }
}

fn reencode_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/kafka/reencode.py")
}

#[test]
fn kafka_python_reads_every_response_as_written() {
    let mut runner = TestRunner::deterministic();
    let mut lines = Vec::new();
    for range in SUPPORTED {
        let strategy = others(range.key);
        for version in range.min..=range.max {
            for sample in 0..SAMPLES {
                let body = strategy.new_tree(&mut runner).expect("a value").current();
                let correlation_id = i32::try_from(sample).unwrap() - 3;
                let bytes = join(&encode_response(correlation_id, version, &body));
                lines.push((range.key, version, bytes));
            }
        }
    }
    let mut child = Command::new("python3")
        .arg(reencode_script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with kafka-python 3 (pip install -r interop-tests/requirements.txt)");
    let mut input = String::new();
    for (key, version, bytes) in &lines {
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        input.push_str(&format!("{} {version} {hex}\n", key.number()));
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("reencode.py's answers");
    writer
        .join()
        .expect("the writer thread")
        .expect("reencode.py read its input");
    assert!(
        output.status.success(),
        "reencode.py failed: is kafka-python 3 installed?"
    );
    let answers: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(answers.len(), lines.len(), "one answer per response");
    let failures: Vec<String> = lines
        .iter()
        .zip(&answers)
        .filter(|(_, answer)| *answer != "ok")
        .map(|((key, version, bytes), answer)| format!("{key:?} v{version} {bytes:?}: {answer}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} responses:\n{}",
        failures.len(),
        lines.len(),
        failures.join("\n")
    );
}
