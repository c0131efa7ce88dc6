//! Requests captured from real clients (kafka-python 3.0.12 and 2.3.3,
//! confluent-kafka 2.16.2 with its librdkafka 2.16.0, Debian's kcat 1.7.1 with
//! librdkafka 2.0.2) by `interop-tests/kafka/capture.py`, against a broker
//! advertising this door's table: each decodes, whole, into what the client
//! meant, and encodes back to the bytes it sent; every client still
//! compresses with zstd (each was asked to; a client that judged the broker
//! older than Kafka 2.1 would not), and every client's consumer group member
//! (kcat's balanced consumer included) joins, syncs and leaves.

use bytes::{Bytes, BytesMut};

use super::*;

const CLIENTS: &str = include_str!("vectors/clients.txt");

fn frames() -> Vec<(String, i16, i16, Bytes)> {
    CLIENTS
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let hex = fields[3].as_bytes();
            let bytes: Vec<u8> = hex
                .chunks(2)
                .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
                .collect();
            (
                fields[0].to_string(),
                fields[1].parse().unwrap(),
                fields[2].parse().unwrap(),
                bytes.into(),
            )
        })
        .collect()
}

fn decoded(bytes: &Bytes) -> Request {
    let mut buffer = BytesMut::from(&bytes[..]);
    let frame = split_frame(&mut buffer, MAX_REQUEST_BYTES)
        .unwrap()
        .unwrap();
    assert!(buffer.is_empty());
    decode_request(frame).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn every_captured_request_decodes() {
    let frames = frames();
    for client in ["kafka-python", "kafka-python-2", "confluent-kafka", "kcat"] {
        assert!(
            frames.iter().any(|(c, ..)| c == client),
            "nothing captured from {client}"
        );
    }
    for (client, key, version, bytes) in &frames {
        let request = decoded(bytes);
        assert_eq!(request.header.api_key.number(), *key, "{client}");
        assert_eq!(request.header.api_version, *version, "{client}");
        let expected_client_id = if client.starts_with("kafka-python") {
            "kafka-python"
        } else {
            "rdkafka"
        };
        assert!(
            request
                .header
                .client_id
                .as_deref()
                .unwrap_or("")
                .starts_with(expected_client_id),
            "{client}: {:?}",
            request.header.client_id
        );
    }
}

#[test]
fn captured_produce_requests_carry_record_batches_for_the_topic() {
    for (client, _, version, bytes) in frames().iter().filter(|(_, key, ..)| *key == 0) {
        let RequestBody::Produce(produce) = decoded(bytes).body else {
            unreachable!()
        };
        assert_eq!(produce.topics.len(), 1, "{client}");
        assert_eq!(produce.topics[0].name, "orders");
        let records = produce.topics[0].partitions[0]
            .records
            .clone()
            .expect("records");
        // A RecordBatch: base offset (8), length (4), leader epoch (4), magic 2.
        assert!(
            records.len() > 61,
            "{client} v{version}: {} bytes",
            records.len()
        );
        assert_eq!(records[16], 2, "{client} v{version}: not a v2 RecordBatch");
        let length = i32::from_be_bytes(records[8..12].try_into().unwrap()) as usize;
        assert_eq!(length + 12, records.len(), "{client}: one batch, whole");
        // Attributes (after base offset, length, epoch, magic, CRC): codec 4 is zstd.
        let attributes = i16::from_be_bytes(records[21..23].try_into().unwrap());
        assert_eq!(attributes & 7, 4, "{client} v{version}: not zstd");
    }
}

#[test]
fn captured_clients_say_who_they_are_in_api_versions() {
    for (client, _, version, bytes) in frames().iter().filter(|(_, key, ..)| *key == 18) {
        assert!(*version >= 3, "{client} sent ApiVersions v{version}");
        let RequestBody::ApiVersions(request) = decoded(bytes).body else {
            unreachable!()
        };
        let name = request.client_software_name.unwrap();
        // confluent-kafka names itself, kcat leaves librdkafka's default.
        let expected = match client.as_str() {
            "kafka-python" | "kafka-python-2" => "kafka-python",
            "confluent-kafka" => "confluent-kafka-python",
            _ => "librdkafka",
        };
        assert_eq!(name, expected, "{client}");
    }
}

#[test]
fn captured_fetches_decline_nothing_the_door_needs() {
    for (client, _, _, bytes) in frames().iter().filter(|(_, key, ..)| *key == 1) {
        let RequestBody::Fetch(fetch) = decoded(bytes).body else {
            unreachable!()
        };
        assert_eq!(fetch.replica_id, -1, "{client}: a consumer");
        assert_eq!(fetch.topics[0].topic, "orders");
        assert_eq!(fetch.topics[0].partitions[0].partition, 0);
        assert!(fetch.max_wait_ms > 0 && fetch.max_bytes > 0, "{client}");
    }
}

#[test]
fn captured_requests_encode_back_to_the_same_bytes() {
    for (client, key, version, bytes) in &frames() {
        let request = decoded(bytes);
        let again = join(&encode_request(&request.header, &request.body));
        assert_eq!(&again, bytes, "{client} key {key} v{version}");
    }
}

#[test]
fn captured_group_members_join_sync_commit_and_leave_as_meant() {
    let frames = frames();
    for client in ["kafka-python", "kafka-python-2", "confluent-kafka", "kcat"] {
        for key in [10, 11, 14, 13] {
            assert!(
                frames.iter().any(|(c, k, ..)| c == client && *k == key),
                "{client} sent no api key {key}"
            );
        }
    }
    // The capture's broker makes every member `member-1`, leader of `group-1`.
    let member = "member-1";
    for (client, key, version, bytes) in &frames {
        let context = format!("{client} key {key} v{version}");
        match decoded(bytes).body {
            RequestBody::JoinGroup(join) => {
                assert_eq!(join.group_id, "group-1", "{context}");
                assert_eq!(join.protocol_type, "consumer", "{context}");
                assert!(join.session_timeout_ms > 0, "{context}");
                assert!(join.rebalance_timeout_ms > 0, "{context}");
                assert!(!join.protocols.is_empty(), "{context}");
                assert!(
                    join.protocols.iter().all(|p| !p.metadata.is_empty()),
                    "{context}"
                );
            }
            RequestBody::SyncGroup(sync) => {
                assert_eq!((sync.group_id.as_str(), sync.generation_id), ("group-1", 1));
                assert_eq!(sync.member_id, member, "{context}");
                assert!(
                    sync.assignments.iter().any(|a| a.member_id == member),
                    "{context}: the leader assigns itself"
                );
            }
            RequestBody::OffsetCommit(commit) => {
                assert_eq!(commit.group_id, "group-1", "{context}");
                assert_eq!(commit.topics[0].name, "orders", "{context}");
                let partition = &commit.topics[0].partitions[0];
                assert_eq!(
                    (partition.partition_index, partition.committed_offset),
                    (0, 1),
                    "{context}"
                );
            }
            RequestBody::OffsetFetch(fetch) => {
                assert_eq!(fetch.groups.len(), 1, "{context}");
                assert_eq!(fetch.groups[0].group_id, "group-1", "{context}");
            }
            RequestBody::LeaveGroup(leave) => {
                assert_eq!(leave.group_id, "group-1", "{context}");
                let members: Vec<&str> =
                    leave.members.iter().map(|m| m.member_id.as_str()).collect();
                assert_eq!(members, [member], "{context}");
            }
            RequestBody::DescribeGroups(describe) => {
                assert_eq!(describe.groups, ["group-1"], "{context}");
            }
            RequestBody::DeleteGroups(delete) => {
                assert_eq!(delete.group_names, ["group-1"], "{context}");
            }
            RequestBody::CreatePartitions(create) => {
                assert_eq!(create.topics[0].name, "orders", "{context}");
                assert_eq!(create.topics[0].count, 2, "{context}");
            }
            RequestBody::DeleteRecords(delete) => {
                assert_eq!(delete.topics[0].name, "orders", "{context}");
                assert_eq!(delete.topics[0].partitions[0].offset, 0, "{context}");
            }
            RequestBody::DescribeConfigs(describe) => {
                let resource = &describe.resources[0];
                assert_eq!(resource.resource_type, RESOURCE_TYPE_TOPIC, "{context}");
                assert_eq!(resource.resource_name, "orders", "{context}");
            }
            _ => {}
        }
    }
}
