//! DeleteRecords (key 21), versions 0 to 2: move partitions' log start offsets
//! forward, deleting the records before them (`kafka-delete-records`, the admin
//! clients' `delete_records`). Offset -1 means the high watermark.
//!
//! Flexible from v2. Nothing here may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// Offset asking to delete up to the high watermark.
pub const DELETE_TO_HIGH_WATERMARK: i64 = -1;

/// One partition to delete records from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeleteRecordsPartition {
    /// The partition index.
    pub partition_index: i32,
    /// The new log start offset: records before it are deleted
    /// ([`DELETE_TO_HIGH_WATERMARK`]: all up to the high watermark).
    pub offset: i64,
}

/// One topic to delete records from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRecordsTopic {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<DeleteRecordsPartition>,
}

/// A DeleteRecords request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRecordsRequest {
    /// The topics.
    pub topics: Vec<DeleteRecordsTopic>,
    /// How long to wait for the deletion.
    pub timeout_ms: i32,
}

impl DeleteRecordsRequest {
    /// Reads the body (the same fields in versions 0 to 2).
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        let topics = reader.array("the topics", 2, |reader| {
            let name = reader.string("a topic name")?;
            let partitions = reader.array("the partitions", 12, |reader| {
                let partition_index = reader.i32("a partition index")?;
                let offset = reader.i64("the offset")?;
                reader.tagged_fields()?;
                Ok(DeleteRecordsPartition {
                    partition_index,
                    offset,
                })
            })?;
            reader.tagged_fields()?;
            Ok(DeleteRecordsTopic { name, partitions })
        })?;
        let timeout_ms = reader.i32("the timeout")?;
        reader.tagged_fields()?;
        Ok(DeleteRecordsRequest { topics, timeout_ms })
    }

    /// Writes the body (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition_index);
                writer.i64(partition.offset);
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.i32(self.timeout_ms);
        writer.tagged_fields();
    }
}

/// One partition's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeleteRecordsPartitionResult {
    /// The partition index.
    pub partition_index: i32,
    /// The log start offset after the deletion (-1 on error).
    pub low_watermark: i64,
    /// The error (OFFSET_OUT_OF_RANGE past the high watermark, ...), or none.
    pub error_code: ErrorCode,
}

/// One topic's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRecordsTopicResult {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<DeleteRecordsPartitionResult>,
}

/// A DeleteRecords response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRecordsResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// The topics.
    pub topics: Vec<DeleteRecordsTopicResult>,
}

impl DeleteRecordsResponse {
    /// Writes the body (the same fields in versions 0 to 2).
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition_index);
                writer.i64(partition.low_watermark);
                writer.i16(partition.error_code.number());
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
