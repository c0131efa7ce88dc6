//! CreatePartitions (key 37), versions 0 to 2: grow topics to a new partition
//! count (`kafka-topics --alter --partitions`, the admin clients'
//! `create_partitions`). Manual assignments (a broker list per new partition)
//! are read so the door can refuse them: one broker holds every partition.
//!
//! Flexible from v2. Nothing here may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// The brokers to hold one new partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePartitionsAssignment {
    /// The broker ids, the leader first.
    pub broker_ids: Vec<i32>,
}

/// One topic to grow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePartitionsTopic {
    /// The topic name.
    pub name: String,
    /// The new partition count (not the number to add).
    pub count: i32,
    /// One assignment per new partition, or null for the broker's choice.
    pub assignments: Option<Vec<CreatePartitionsAssignment>>,
}

/// A CreatePartitions request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePartitionsRequest {
    /// The topics.
    pub topics: Vec<CreatePartitionsTopic>,
    /// How long to wait for the partitions to be created.
    pub timeout_ms: i32,
    /// Check only, create nothing.
    pub validate_only: bool,
}

impl CreatePartitionsRequest {
    /// Reads the body (the same fields in versions 0 to 2).
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        // A topic is at least a name, a count and a null list: 7 bytes flexible.
        let topics = reader.array("the topics", 7, |reader| {
            let name = reader.string("a topic name")?;
            let count = reader.i32("the partition count")?;
            let assignments = reader.nullable_array("the assignments", 2, |reader| {
                let broker_ids =
                    reader.array("the broker ids", 4, |reader| reader.i32("a broker id"))?;
                reader.tagged_fields()?;
                Ok(CreatePartitionsAssignment { broker_ids })
            })?;
            reader.tagged_fields()?;
            Ok(CreatePartitionsTopic {
                name,
                count,
                assignments,
            })
        })?;
        let timeout_ms = reader.i32("the timeout")?;
        let validate_only = reader.bool("validate only")?;
        reader.tagged_fields()?;
        Ok(CreatePartitionsRequest {
            topics,
            timeout_ms,
            validate_only,
        })
    }

    /// Writes the body (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.i32(topic.count);
            writer.array_count(topic.assignments.as_ref().map(Vec::len));
            for assignment in topic.assignments.iter().flatten() {
                writer.i32_array(&assignment.broker_ids);
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.i32(self.timeout_ms);
        writer.bool(self.validate_only);
        writer.tagged_fields();
    }
}

/// One topic's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePartitionsTopicResult {
    /// The topic name.
    pub name: String,
    /// The error (INVALID_PARTITIONS for a count not above the current one,
    /// UNKNOWN_TOPIC_OR_PARTITION, ...), or none.
    pub error_code: ErrorCode,
    /// A message for the error.
    pub error_message: Option<String>,
}

/// A CreatePartitions response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePartitionsResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// One per topic asked.
    pub results: Vec<CreatePartitionsTopicResult>,
}

impl CreatePartitionsResponse {
    /// Writes the body (the same fields in versions 0 to 2).
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.array_count(Some(self.results.len()));
        for result in &self.results {
            writer.string(&result.name);
            writer.i16(result.error_code.number());
            writer.nullable_string(result.error_message.as_deref());
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
