//! Produce (key 0), versions 3 to 10: record batches for partitions, with acks 0
//! (no response at all), 1 or -1. The records stay the request's bytes: a
//! `Bytes` slice of the frame, never copied or parsed here (the log checks them).
//!
//! Flexible from v9. Nothing here may read past the request.

use bytes::Bytes;

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// One partition's records in a Produce request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducePartition {
    /// The partition index.
    pub index: i32,
    /// The RecordBatch bytes as sent (null is refused by the door, not here).
    pub records: Option<Bytes>,
}

/// One topic's partitions in a Produce request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceTopic {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<ProducePartition>,
}

/// A Produce request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceRequest {
    /// The transactional id; a non-null one is refused by the door.
    pub transactional_id: Option<String>,
    /// 0: no response; 1: the leader wrote it; -1: all in-sync replicas did.
    pub acks: i16,
    /// How long to wait for acks.
    pub timeout_ms: i32,
    /// The topics.
    pub topics: Vec<ProduceTopic>,
}

impl ProduceRequest {
    /// Reads the body (the same fields in every supported version).
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        let transactional_id = reader.nullable_string("the transactional id")?;
        let acks = reader.i16("acks")?;
        let timeout_ms = reader.i32("the timeout")?;
        let topics = reader.array("the topics", 2, |reader| {
            let name = reader.string("a topic name")?;
            let partitions = reader.array("the partitions", 5, |reader| {
                let index = reader.i32("a partition index")?;
                let records = reader.nullable_bytes("the records")?;
                reader.tagged_fields()?;
                Ok(ProducePartition { index, records })
            })?;
            reader.tagged_fields()?;
            Ok(ProduceTopic { name, partitions })
        })?;
        reader.tagged_fields()?;
        Ok(ProduceRequest {
            transactional_id,
            acks,
            timeout_ms,
            topics,
        })
    }

    /// Writes the body (a client's side, and the tests'); records uncopied.
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.nullable_string(self.transactional_id.as_deref());
        writer.i16(self.acks);
        writer.i32(self.timeout_ms);
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.index);
                writer.nullable_bytes(partition.records.as_ref());
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// One partition's outcome in a Produce response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducePartitionResponse {
    /// The partition index.
    pub index: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The offset of the first record written.
    pub base_offset: i64,
    /// The append time if the topic uses LogAppendTime, else -1.
    pub log_append_time_ms: i64,
    /// The partition's first offset (v5+).
    pub log_start_offset: i64,
    /// A message for the error (v8+).
    pub error_message: Option<String>,
}

/// One topic's outcome in a Produce response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceTopicResponse {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<ProducePartitionResponse>,
}

/// A Produce response (never sent for acks 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceResponse {
    /// The topics.
    pub responses: Vec<ProduceTopicResponse>,
    /// Throttle time.
    pub throttle_time_ms: i32,
}

impl ProduceResponse {
    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.array_count(Some(self.responses.len()));
        for topic in &self.responses {
            writer.string(&topic.name);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.index);
                writer.i16(partition.error_code.number());
                writer.i64(partition.base_offset);
                writer.i64(partition.log_append_time_ms);
                if version >= 5 {
                    writer.i64(partition.log_start_offset);
                }
                if version >= 8 {
                    // RecordErrors: the door drops a whole batch or none of it.
                    writer.array_count(Some(0));
                    writer.nullable_string(partition.error_message.as_deref());
                }
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.i32(self.throttle_time_ms);
        writer.tagged_fields();
    }
}
