//! Metadata (key 3), versions 0 to 13: which brokers there are, which topics, and
//! who leads each partition. The door is one broker leading every partition.
//!
//! Flexible from v9; topic ids from v10 (the door sends its own or zeros);
//! request topic names nullable from v10; the cluster's authorized operations
//! only in v8 to v10; a top-level error code from v13 (KIP-1102). A client's
//! decoder fills what a version lacks with Kafka's defaults. Nothing here may
//! read past the message.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// A topic id: 16 bytes, all zero for none.
pub type TopicId = [u8; 16];

/// "Not requested" for authorized operations (Kafka's `Integer.MIN_VALUE`).
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// One topic a Metadata request names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRequestTopic {
    /// Its id (v10+; zeros when asked by name).
    pub topic_id: TopicId,
    /// Its name (null only from v10, when asked by id).
    pub name: Option<String>,
}

/// A Metadata request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The topics asked about; `None` is every topic (v0 says so with an empty
    /// list, which this decoder turns into `None`).
    pub topics: Option<Vec<MetadataRequestTopic>>,
    /// Whether asking creates missing topics (v4+; always in v0 to v3).
    pub allow_auto_topic_creation: bool,
    /// v8 to v10.
    pub include_cluster_authorized_operations: bool,
    /// v8+.
    pub include_topic_authorized_operations: bool,
}

impl MetadataRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let topics = reader.nullable_array("the topics", 1, |reader| {
            let topic_id = if version >= 10 {
                reader.uuid("a topic id")?
            } else {
                [0; 16]
            };
            let name = if version >= 10 {
                reader.nullable_string("a topic name")?
            } else {
                Some(reader.string("a topic name")?)
            };
            reader.tagged_fields()?;
            Ok(MetadataRequestTopic { topic_id, name })
        })?;
        let topics = match topics {
            Some(topics) if version == 0 && topics.is_empty() => None,
            None if version == 0 => return Err(DecodeError::UnexpectedNull("the topics")),
            topics => topics,
        };
        let allow_auto_topic_creation = if version >= 4 {
            reader.bool("allow auto topic creation")?
        } else {
            true
        };
        let include_cluster_authorized_operations = if (8..=10).contains(&version) {
            reader.bool("include cluster authorized operations")?
        } else {
            false
        };
        let include_topic_authorized_operations = if version >= 8 {
            reader.bool("include topic authorized operations")?
        } else {
            false
        };
        reader.tagged_fields()?;
        Ok(MetadataRequest {
            topics,
            allow_auto_topic_creation,
            include_cluster_authorized_operations,
            include_topic_authorized_operations,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests'). Every
    /// topic (`None`) is an empty list in v0; a null name before v10 is empty.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        match &self.topics {
            None if version == 0 => writer.array_count(Some(0)),
            None => writer.array_count(None),
            Some(topics) => {
                writer.array_count(Some(topics.len()));
                for topic in topics {
                    if version >= 10 {
                        writer.uuid(&topic.topic_id);
                        writer.nullable_string(topic.name.as_deref());
                    } else {
                        writer.string(topic.name.as_deref().unwrap_or(""));
                    }
                    writer.tagged_fields();
                }
            }
        }
        if version >= 4 {
            writer.bool(self.allow_auto_topic_creation);
        }
        if (8..=10).contains(&version) {
            writer.bool(self.include_cluster_authorized_operations);
        }
        if version >= 8 {
            writer.bool(self.include_topic_authorized_operations);
        }
        writer.tagged_fields();
    }
}

/// A broker in a Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataBroker {
    /// Its node id.
    pub node_id: i32,
    /// The host clients connect to.
    pub host: String,
    /// The port.
    pub port: i32,
    /// Its rack (v1+).
    pub rack: Option<String>,
}

/// A partition in a Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataPartition {
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The partition index.
    pub partition_index: i32,
    /// The leader's node id.
    pub leader_id: i32,
    /// The leader epoch (v7+).
    pub leader_epoch: i32,
    /// The replicas.
    pub replica_nodes: Vec<i32>,
    /// The in-sync replicas.
    pub isr_nodes: Vec<i32>,
    /// The offline replicas (v5+).
    pub offline_replicas: Vec<i32>,
}

/// A topic in a Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataTopic {
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The name (null allowed from v12, for a topic asked by an unknown id).
    pub name: Option<String>,
    /// Its id (v10+).
    pub topic_id: TopicId,
    /// Whether it is internal (v1+).
    pub is_internal: bool,
    /// Its partitions.
    pub partitions: Vec<MetadataPartition>,
    /// v8+; [`AUTHORIZED_OPERATIONS_OMITTED`] when not asked for.
    pub topic_authorized_operations: i32,
}

/// A Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Throttle time (v3+).
    pub throttle_time_ms: i32,
    /// The brokers.
    pub brokers: Vec<MetadataBroker>,
    /// The cluster id (v2+).
    pub cluster_id: Option<String>,
    /// The controller's node id (v1+).
    pub controller_id: i32,
    /// The topics.
    pub topics: Vec<MetadataTopic>,
    /// v8 to v10.
    pub cluster_authorized_operations: i32,
    /// Top-level error (v13+; Kafka uses it only for REBOOTSTRAP_REQUIRED, which a
    /// single broker never needs).
    pub error_code: ErrorCode,
}

impl MetadataResponse {
    /// Reads the body of `version` (a client's side). What the version lacks is
    /// Kafka's default: no rack or cluster id, controller and leader epoch -1,
    /// zero topic ids, authorized operations omitted, no error.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = if version >= 3 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        // A broker is at least a node id, a host and a port.
        let brokers = reader.array("the brokers", 9, |reader| {
            let node_id = reader.i32("a node id")?;
            let host = reader.string("a host")?;
            let port = reader.i32("a port")?;
            let rack = if version >= 1 {
                reader.nullable_string("a rack")?
            } else {
                None
            };
            reader.tagged_fields()?;
            Ok(MetadataBroker {
                node_id,
                host,
                port,
                rack,
            })
        })?;
        let cluster_id = if version >= 2 {
            reader.nullable_string("the cluster id")?
        } else {
            None
        };
        let controller_id = if version >= 1 {
            reader.i32("the controller id")?
        } else {
            -1
        };
        // A topic is at least an error code, a name and a partition count.
        let topics = reader.array("the topics", 4, |reader| decode_topic(reader, version))?;
        let cluster_authorized_operations = if (8..=10).contains(&version) {
            reader.i32("the cluster authorized operations")?
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        };
        let error_code = if version >= 13 {
            reader.error_code("the error code")?
        } else {
            ErrorCode::None
        };
        reader.tagged_fields()?;
        Ok(MetadataResponse {
            throttle_time_ms,
            brokers,
            cluster_id,
            controller_id,
            topics,
            cluster_authorized_operations,
            error_code,
        })
    }

    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 3 {
            writer.i32(self.throttle_time_ms);
        }
        writer.array_count(Some(self.brokers.len()));
        for broker in &self.brokers {
            writer.i32(broker.node_id);
            writer.string(&broker.host);
            writer.i32(broker.port);
            if version >= 1 {
                writer.nullable_string(broker.rack.as_deref());
            }
            writer.tagged_fields();
        }
        if version >= 2 {
            writer.nullable_string(self.cluster_id.as_deref());
        }
        if version >= 1 {
            writer.i32(self.controller_id);
        }
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            encode_topic(writer, version, topic);
        }
        if (8..=10).contains(&version) {
            writer.i32(self.cluster_authorized_operations);
        }
        if version >= 13 {
            writer.i16(self.error_code.number());
        }
        writer.tagged_fields();
    }
}

fn decode_topic(reader: &mut Reader, version: i16) -> Result<MetadataTopic, DecodeError> {
    let error_code = reader.error_code("a topic's error code")?;
    let name = if version >= 12 {
        reader.nullable_string("a topic name")?
    } else {
        Some(reader.string("a topic name")?)
    };
    let topic_id = if version >= 10 {
        reader.uuid("a topic id")?
    } else {
        [0; 16]
    };
    let is_internal = if version >= 1 {
        reader.bool("is internal")?
    } else {
        false
    };
    // A partition is at least an error code, an index, a leader and two counts.
    let partitions = reader.array("the partitions", 12, |reader| {
        let error_code = reader.error_code("a partition's error code")?;
        let partition_index = reader.i32("a partition index")?;
        let leader_id = reader.i32("a leader id")?;
        let leader_epoch = if version >= 7 {
            reader.i32("a leader epoch")?
        } else {
            -1
        };
        let replica_nodes = reader.array("the replicas", 4, |reader| reader.i32("a replica"))?;
        let isr_nodes =
            reader.array("the in-sync replicas", 4, |reader| reader.i32("a replica"))?;
        let offline_replicas = if version >= 5 {
            reader.array("the offline replicas", 4, |reader| reader.i32("a replica"))?
        } else {
            Vec::new()
        };
        reader.tagged_fields()?;
        Ok(MetadataPartition {
            error_code,
            partition_index,
            leader_id,
            leader_epoch,
            replica_nodes,
            isr_nodes,
            offline_replicas,
        })
    })?;
    let topic_authorized_operations = if version >= 8 {
        reader.i32("the topic authorized operations")?
    } else {
        AUTHORIZED_OPERATIONS_OMITTED
    };
    reader.tagged_fields()?;
    Ok(MetadataTopic {
        error_code,
        name,
        topic_id,
        is_internal,
        partitions,
        topic_authorized_operations,
    })
}

fn encode_topic(writer: &mut Writer, version: i16, topic: &MetadataTopic) {
    writer.i16(topic.error_code.number());
    if version >= 12 {
        writer.nullable_string(topic.name.as_deref());
    } else {
        writer.string(topic.name.as_deref().unwrap_or(""));
    }
    if version >= 10 {
        writer.uuid(&topic.topic_id);
    }
    if version >= 1 {
        writer.bool(topic.is_internal);
    }
    writer.array_count(Some(topic.partitions.len()));
    for partition in &topic.partitions {
        writer.i16(partition.error_code.number());
        writer.i32(partition.partition_index);
        writer.i32(partition.leader_id);
        if version >= 7 {
            writer.i32(partition.leader_epoch);
        }
        writer.i32_array(&partition.replica_nodes);
        writer.i32_array(&partition.isr_nodes);
        if version >= 5 {
            writer.i32_array(&partition.offline_replicas);
        }
        writer.tagged_fields();
    }
    if version >= 8 {
        writer.i32(topic.topic_authorized_operations);
    }
    writer.tagged_fields();
}
