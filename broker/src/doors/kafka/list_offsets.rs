//! ListOffsets (key 2), versions 1 to 7: a partition's earliest (-2) or latest
//! (-1) offset, the first offset at or after a timestamp, or (v7) the offset of
//! the largest timestamp (-3).
//!
//! Flexible from v6. Nothing here may read past the message.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// Timestamp asking for the offset after the last record.
pub const LATEST_TIMESTAMP: i64 = -1;
/// Timestamp asking for the first offset held.
pub const EARLIEST_TIMESTAMP: i64 = -2;
/// Timestamp asking for the record with the largest timestamp (v7+).
pub const MAX_TIMESTAMP: i64 = -3;

/// One partition asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOffsetsPartition {
    /// The partition index.
    pub partition_index: i32,
    /// The leader epoch the client knows (v4+; -1 otherwise).
    pub current_leader_epoch: i32,
    /// A timestamp, or one of the constants above.
    pub timestamp: i64,
}

/// One topic asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsTopic {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<ListOffsetsPartition>,
}

/// A ListOffsets request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsRequest {
    /// -1 for a consumer.
    pub replica_id: i32,
    /// v2+: 0 read uncommitted, 1 read committed.
    pub isolation_level: i8,
    /// The topics.
    pub topics: Vec<ListOffsetsTopic>,
}

impl ListOffsetsRequest {
    /// Reads the body of `version` (1 or later).
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let replica_id = reader.i32("the replica id")?;
        let isolation_level = if version >= 2 {
            reader.i8("the isolation level")?
        } else {
            0
        };
        let topics = reader.array("the topics", 2, |reader| {
            let name = reader.string("a topic name")?;
            let partitions = reader.array("the partitions", 12, |reader| {
                let partition_index = reader.i32("a partition index")?;
                let current_leader_epoch = if version >= 4 {
                    reader.i32("the current leader epoch")?
                } else {
                    -1
                };
                let timestamp = reader.i64("the timestamp")?;
                reader.tagged_fields()?;
                Ok(ListOffsetsPartition {
                    partition_index,
                    current_leader_epoch,
                    timestamp,
                })
            })?;
            reader.tagged_fields()?;
            Ok(ListOffsetsTopic { name, partitions })
        })?;
        reader.tagged_fields()?;
        Ok(ListOffsetsRequest {
            replica_id,
            isolation_level,
            topics,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.i32(self.replica_id);
        if version >= 2 {
            writer.i8(self.isolation_level);
        }
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition_index);
                if version >= 4 {
                    writer.i32(partition.current_leader_epoch);
                }
                writer.i64(partition.timestamp);
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// One partition's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOffsetsPartitionResponse {
    /// The partition index.
    pub partition_index: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The timestamp of the record found, or -1.
    pub timestamp: i64,
    /// The offset found, or -1.
    pub offset: i64,
    /// Its leader epoch (v4+).
    pub leader_epoch: i32,
}

/// One topic's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsTopicResponse {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<ListOffsetsPartitionResponse>,
}

/// A ListOffsets response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsResponse {
    /// Throttle time (v2+).
    pub throttle_time_ms: i32,
    /// The topics.
    pub topics: Vec<ListOffsetsTopicResponse>,
}

impl ListOffsetsResponse {
    /// Reads the body of `version` (1 or later; a client's side); leader epochs
    /// are -1 before v4.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = if version >= 2 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        let topics = reader.array("the topics", 2, |reader| {
            let name = reader.string("a topic name")?;
            // An index, an error code, a timestamp and an offset.
            let partitions = reader.array("the partitions", 22, |reader| {
                let partition_index = reader.i32("a partition index")?;
                let error_code = reader.error_code("a partition's error code")?;
                let timestamp = reader.i64("a timestamp")?;
                let offset = reader.i64("an offset")?;
                let leader_epoch = if version >= 4 {
                    reader.i32("a leader epoch")?
                } else {
                    -1
                };
                reader.tagged_fields()?;
                Ok(ListOffsetsPartitionResponse {
                    partition_index,
                    error_code,
                    timestamp,
                    offset,
                    leader_epoch,
                })
            })?;
            reader.tagged_fields()?;
            Ok(ListOffsetsTopicResponse { name, partitions })
        })?;
        reader.tagged_fields()?;
        Ok(ListOffsetsResponse {
            throttle_time_ms,
            topics,
        })
    }

    /// Writes the body of `version` (1 or later).
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 2 {
            writer.i32(self.throttle_time_ms);
        }
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition_index);
                writer.i16(partition.error_code.number());
                writer.i64(partition.timestamp);
                writer.i64(partition.offset);
                if version >= 4 {
                    writer.i32(partition.leader_epoch);
                }
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
