//! OffsetCommit (key 8), versions 2 to 9: a group member (or an admin client,
//! with generation -1) stores the offsets it consumed up to, per partition, with
//! an optional metadata string.
//!
//! v2 is Kafka 4.0's lowest; v2 to v4 carry a retention time (-1: the broker's),
//! v6+ each partition's leader epoch, v7+ the static member's instance id.
//! Flexible from v8; topic ids (v10) are not spoken. Nothing here may read past
//! the message.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// One partition's offset to commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitPartition {
    /// The partition index.
    pub partition_index: i32,
    /// The offset to commit: the next record the group will consume.
    pub committed_offset: i64,
    /// The leader epoch of the last record consumed (v6+; -1 otherwise).
    pub committed_leader_epoch: i32,
    /// The client's metadata string (null or any text).
    pub committed_metadata: Option<String>,
}

/// One topic's offsets to commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitTopic {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<OffsetCommitPartition>,
}

/// An OffsetCommit request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitRequest {
    /// The group.
    pub group_id: String,
    /// The member's generation (Kafka's `GenerationIdOrMemberEpoch`); -1 for a
    /// commit from outside the group (an admin client, a simple consumer).
    pub generation_id_or_member_epoch: i32,
    /// The member's id (empty from outside the group).
    pub member_id: String,
    /// The static member's instance id (v7+; null otherwise).
    pub group_instance_id: Option<String>,
    /// How long to keep the offsets (v2 to v4; -1 for the broker's default, and
    /// for v5+).
    pub retention_time_ms: i64,
    /// The offsets.
    pub topics: Vec<OffsetCommitTopic>,
}

impl OffsetCommitRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let group_id = reader.string("the group id")?;
        let generation_id_or_member_epoch = reader.i32("the generation id")?;
        let member_id = reader.string("the member id")?;
        let group_instance_id = if version >= 7 {
            reader.nullable_string("the group instance id")?
        } else {
            None
        };
        let retention_time_ms = if version <= 4 {
            reader.i64("the retention time")?
        } else {
            -1
        };
        // A topic is at least a name and a count (3 bytes when flexible); a
        // partition an index, an offset and a null metadata (14 bytes in v2).
        let topics = reader.array("the topics", 3, |reader| {
            let name = reader.string("a topic name")?;
            let partitions = reader.array("the partitions", 14, |reader| {
                let partition_index = reader.i32("a partition index")?;
                let committed_offset = reader.i64("the committed offset")?;
                let committed_leader_epoch = if version >= 6 {
                    reader.i32("the committed leader epoch")?
                } else {
                    -1
                };
                let committed_metadata = reader.nullable_string("the committed metadata")?;
                reader.tagged_fields()?;
                Ok(OffsetCommitPartition {
                    partition_index,
                    committed_offset,
                    committed_leader_epoch,
                    committed_metadata,
                })
            })?;
            reader.tagged_fields()?;
            Ok(OffsetCommitTopic { name, partitions })
        })?;
        reader.tagged_fields()?;
        Ok(OffsetCommitRequest {
            group_id,
            generation_id_or_member_epoch,
            member_id,
            group_instance_id,
            retention_time_ms,
            topics,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.string(&self.group_id);
        writer.i32(self.generation_id_or_member_epoch);
        writer.string(&self.member_id);
        if version >= 7 {
            writer.nullable_string(self.group_instance_id.as_deref());
        }
        if version <= 4 {
            writer.i64(self.retention_time_ms);
        }
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition_index);
                writer.i64(partition.committed_offset);
                if version >= 6 {
                    writer.i32(partition.committed_leader_epoch);
                }
                writer.nullable_string(partition.committed_metadata.as_deref());
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// One partition's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitPartitionResponse {
    /// The partition index.
    pub partition_index: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
}

/// One topic's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitTopicResponse {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<OffsetCommitPartitionResponse>,
}

/// An OffsetCommit response: errors are per partition only, group errors
/// (NOT_COORDINATOR, ILLEGAL_GENERATION, ...) included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitResponse {
    /// Throttle time (v3+).
    pub throttle_time_ms: i32,
    /// The topics.
    pub topics: Vec<OffsetCommitTopicResponse>,
}

impl OffsetCommitResponse {
    /// Reads the body of `version` (a client's side).
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = if version >= 3 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        let topics = reader.array("the topics", 2, |reader| {
            let name = reader.string("a topic name")?;
            let partitions = reader.array("the partitions", 6, |reader| {
                let partition_index = reader.i32("a partition index")?;
                let error_code = reader.error_code("a partition's error code")?;
                reader.tagged_fields()?;
                Ok(OffsetCommitPartitionResponse {
                    partition_index,
                    error_code,
                })
            })?;
            reader.tagged_fields()?;
            Ok(OffsetCommitTopicResponse { name, partitions })
        })?;
        reader.tagged_fields()?;
        Ok(OffsetCommitResponse {
            throttle_time_ms,
            topics,
        })
    }

    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 3 {
            writer.i32(self.throttle_time_ms);
        }
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition_index);
                writer.i16(partition.error_code.number());
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
