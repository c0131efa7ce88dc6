//! OffsetForLeaderEpoch (key 23), version 2 only: the end offset of a leader
//! epoch, which a consumer asks after a leader change to detect a truncated log
//! (KIP-320; librdkafka validates its fetch positions with it since 2.1).
//!
//! v2 is Kafka 4.0's lowest and the highest librdkafka sends; v3's replica id
//! and v4's flexible form are not spoken (see `docs/kafka.md`). Nothing here
//! may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// One partition asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetForLeaderPartition {
    /// The partition index.
    pub partition: i32,
    /// The leader epoch the client knows, to fence a stale client (-1: none).
    pub current_leader_epoch: i32,
    /// The epoch whose end offset is wanted.
    pub leader_epoch: i32,
}

/// One topic asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetForLeaderTopic {
    /// The topic name.
    pub topic: String,
    /// Its partitions.
    pub partitions: Vec<OffsetForLeaderPartition>,
}

/// An OffsetForLeaderEpoch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetForLeaderEpochRequest {
    /// The topics.
    pub topics: Vec<OffsetForLeaderTopic>,
}

impl OffsetForLeaderEpochRequest {
    /// Reads the body of version 2.
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        let topics = reader.array("the topics", 6, |reader| {
            let topic = reader.string("a topic name")?;
            let partitions = reader.array("the partitions", 12, |reader| {
                let partition = reader.i32("a partition index")?;
                let current_leader_epoch = reader.i32("the current leader epoch")?;
                let leader_epoch = reader.i32("the leader epoch")?;
                reader.tagged_fields()?;
                Ok(OffsetForLeaderPartition {
                    partition,
                    current_leader_epoch,
                    leader_epoch,
                })
            })?;
            reader.tagged_fields()?;
            Ok(OffsetForLeaderTopic { topic, partitions })
        })?;
        reader.tagged_fields()?;
        Ok(OffsetForLeaderEpochRequest { topics })
    }

    /// Writes the body of version 2 (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.topic);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition);
                writer.i32(partition.current_leader_epoch);
                writer.i32(partition.leader_epoch);
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// One partition's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochEndOffset {
    /// The error (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, ...), or none.
    pub error_code: ErrorCode,
    /// The partition index.
    pub partition: i32,
    /// The largest epoch at or below the one asked (-1 on error).
    pub leader_epoch: i32,
    /// The end offset of that epoch (-1 on error).
    pub end_offset: i64,
}

/// One topic's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetForLeaderTopicResult {
    /// The topic name.
    pub topic: String,
    /// Its partitions.
    pub partitions: Vec<EpochEndOffset>,
}

/// An OffsetForLeaderEpoch response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetForLeaderEpochResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// The topics.
    pub topics: Vec<OffsetForLeaderTopicResult>,
}

impl OffsetForLeaderEpochResponse {
    /// Writes the body of version 2.
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.topic);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i16(partition.error_code.number());
                writer.i32(partition.partition);
                writer.i32(partition.leader_epoch);
                writer.i64(partition.end_offset);
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
