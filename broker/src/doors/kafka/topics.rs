//! CreateTopics (key 19, versions 2 to 4) and DeleteTopics (key 20, versions 1 to
//! 4): the admin requests kcat, confluent-kafka's `AdminClient` and
//! kafka-python's `KafkaAdminClient` send. CreateTopics is never flexible in this
//! range; DeleteTopics is from v4.
//!
//! Nothing here may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// Manual replica assignment for one partition (the door refuses it: one broker).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaAssignment {
    /// The partition index.
    pub partition_index: i32,
    /// The brokers to hold it.
    pub broker_ids: Vec<i32>,
}

/// A topic configuration entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicConfigEntry {
    /// The configuration name, e.g. `retention.ms`.
    pub name: String,
    /// Its value (null: the default).
    pub value: Option<String>,
}

/// One topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatableTopic {
    /// The name.
    pub name: String,
    /// Partitions, or -1 for the broker's default.
    pub num_partitions: i32,
    /// Replication factor, or -1 for the default.
    pub replication_factor: i16,
    /// Manual assignments (empty for none).
    pub assignments: Vec<ReplicaAssignment>,
    /// Configuration.
    pub configs: Vec<TopicConfigEntry>,
}

/// A CreateTopics request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateTopicsRequest {
    /// The topics.
    pub topics: Vec<CreatableTopic>,
    /// How long to wait for creation.
    pub timeout_ms: i32,
    /// Check only, create nothing.
    pub validate_only: bool,
}

impl CreateTopicsRequest {
    /// Reads the body (the same fields in versions 2 to 4).
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        let topics = reader.array("the topics", 12, |reader| {
            let name = reader.string("a topic name")?;
            let num_partitions = reader.i32("the partition count")?;
            let replication_factor = reader.i16("the replication factor")?;
            let assignments = reader.array("the assignments", 5, |reader| {
                let partition_index = reader.i32("a partition index")?;
                let broker_ids =
                    reader.array("the broker ids", 4, |reader| reader.i32("a broker id"))?;
                reader.tagged_fields()?;
                Ok(ReplicaAssignment {
                    partition_index,
                    broker_ids,
                })
            })?;
            let configs = reader.array("the configs", 4, |reader| {
                let name = reader.string("a config name")?;
                let value = reader.nullable_string("a config value")?;
                reader.tagged_fields()?;
                Ok(TopicConfigEntry { name, value })
            })?;
            reader.tagged_fields()?;
            Ok(CreatableTopic {
                name,
                num_partitions,
                replication_factor,
                assignments,
                configs,
            })
        })?;
        let timeout_ms = reader.i32("the timeout")?;
        let validate_only = reader.bool("validate only")?;
        reader.tagged_fields()?;
        Ok(CreateTopicsRequest {
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
            writer.i32(topic.num_partitions);
            writer.i16(topic.replication_factor);
            writer.array_count(Some(topic.assignments.len()));
            for assignment in &topic.assignments {
                writer.i32(assignment.partition_index);
                writer.i32_array(&assignment.broker_ids);
                writer.tagged_fields();
            }
            writer.array_count(Some(topic.configs.len()));
            for config in &topic.configs {
                writer.string(&config.name);
                writer.nullable_string(config.value.as_deref());
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
pub struct CreatableTopicResult {
    /// The name.
    pub name: String,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// A message for the error.
    pub error_message: Option<String>,
}

/// A CreateTopics response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateTopicsResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// The topics.
    pub topics: Vec<CreatableTopicResult>,
}

impl CreateTopicsResponse {
    /// Writes the body (the same fields in versions 2 to 4).
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.name);
            writer.i16(topic.error_code.number());
            writer.nullable_string(topic.error_message.as_deref());
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// A DeleteTopics request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteTopicsRequest {
    /// The topics to delete.
    pub topic_names: Vec<String>,
    /// How long to wait for deletion.
    pub timeout_ms: i32,
}

impl DeleteTopicsRequest {
    /// Reads the body (the same fields in versions 1 to 4).
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        let topic_names =
            reader.array("the topic names", 1, |reader| reader.string("a topic name"))?;
        let timeout_ms = reader.i32("the timeout")?;
        reader.tagged_fields()?;
        Ok(DeleteTopicsRequest {
            topic_names,
            timeout_ms,
        })
    }

    /// Writes the body (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.array_count(Some(self.topic_names.len()));
        for name in &self.topic_names {
            writer.string(name);
        }
        writer.i32(self.timeout_ms);
        writer.tagged_fields();
    }
}

/// One topic's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletableTopicResult {
    /// The name.
    pub name: String,
    /// The error, or none.
    pub error_code: ErrorCode,
}

/// A DeleteTopics response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteTopicsResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// The topics.
    pub responses: Vec<DeletableTopicResult>,
}

impl DeleteTopicsResponse {
    /// Writes the body (the same fields in versions 1 to 4).
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.array_count(Some(self.responses.len()));
        for topic in &self.responses {
            writer.string(&topic.name);
            writer.i16(topic.error_code.number());
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
