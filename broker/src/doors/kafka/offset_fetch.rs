//! OffsetFetch (key 9), versions 1 to 9: the offsets a group committed, for the
//! partitions asked or (topics null, v2+) for every partition it committed.
//!
//! v1 to v7 ask for one group; v8+ (the multi-group form, KIP-709) for a list
//! of groups, each answered on its own. The decoder gives both forms as
//! [`OffsetFetchRequest::groups`] (one group for v1 to v7) and the encoder
//! writes [`OffsetFetchResponse::groups`] in either form, so the door answers
//! one shape; a client decodes either form into it too (one group, its id
//! empty, for v1 to v7). v1 has no top-level error: a group error goes in every
//! partition. Flexible from v6; topic ids (v10) are not spoken. Nothing here
//! may read past the message.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// One topic asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchTopic {
    /// The topic name.
    pub name: String,
    /// The partitions asked about.
    pub partition_indexes: Vec<i32>,
}

/// One group asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchGroup {
    /// The group.
    pub group_id: String,
    /// The member asking (v9+, KIP-848 groups; null otherwise).
    pub member_id: Option<String>,
    /// The member's epoch (v9+; -1 otherwise).
    pub member_epoch: i32,
    /// The topics asked about; null for all the group committed (v2+: v1's
    /// encoder writes null as an empty list).
    pub topics: Option<Vec<OffsetFetchTopic>>,
}

/// An OffsetFetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchRequest {
    /// The groups: exactly one for v1 to v7 (whose encoder writes the first, or
    /// an empty group id and no topics if there is none).
    pub groups: Vec<OffsetFetchGroup>,
    /// Whether to wait out pending transactional offsets (v7+; false otherwise).
    pub require_stable: bool,
}

impl OffsetFetchRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let groups = if version >= 8 {
            // A group is at least an id, a null topic list and its tagged fields.
            reader.array("the groups", 3, |reader| {
                let group_id = reader.string("a group id")?;
                let (member_id, member_epoch) = if version >= 9 {
                    (
                        reader.nullable_string("a member id")?,
                        reader.i32("a member epoch")?,
                    )
                } else {
                    (None, -1)
                };
                let topics = decode_topics(reader, true)?;
                reader.tagged_fields()?;
                Ok(OffsetFetchGroup {
                    group_id,
                    member_id,
                    member_epoch,
                    topics,
                })
            })?
        } else {
            let group_id = reader.string("the group id")?;
            let topics = decode_topics(reader, version >= 2)?;
            vec![OffsetFetchGroup {
                group_id,
                member_id: None,
                member_epoch: -1,
                topics,
            }]
        };
        let require_stable = if version >= 7 {
            reader.bool("require stable")?
        } else {
            false
        };
        reader.tagged_fields()?;
        Ok(OffsetFetchRequest {
            groups,
            require_stable,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 8 {
            writer.array_count(Some(self.groups.len()));
            for group in &self.groups {
                writer.string(&group.group_id);
                if version >= 9 {
                    writer.nullable_string(group.member_id.as_deref());
                    writer.i32(group.member_epoch);
                }
                encode_topics(writer, group.topics.as_deref(), true);
                writer.tagged_fields();
            }
        } else {
            let group = self.groups.first();
            writer.string(group.map_or("", |group| &group.group_id));
            let topics = match group {
                Some(group) => group.topics.as_deref(),
                None => Some(&[][..]),
            };
            encode_topics(writer, topics, version >= 2);
        }
        if version >= 7 {
            writer.bool(self.require_stable);
        }
        writer.tagged_fields();
    }
}

/// The topics of one group: a nullable list where `nullable`, else a list.
fn decode_topics(
    reader: &mut Reader,
    nullable: bool,
) -> Result<Option<Vec<OffsetFetchTopic>>, DecodeError> {
    let topic = |reader: &mut Reader| {
        let name = reader.string("a topic name")?;
        let partition_indexes = reader.array("the partition indexes", 4, |reader| {
            reader.i32("a partition")
        })?;
        reader.tagged_fields()?;
        Ok(OffsetFetchTopic {
            name,
            partition_indexes,
        })
    };
    // A topic is at least a name and a count: 3 bytes when flexible.
    if nullable {
        reader.nullable_array("the topics", 3, topic)
    } else {
        reader.array("the topics", 3, topic).map(Some)
    }
}

fn encode_topics(writer: &mut Writer, topics: Option<&[OffsetFetchTopic]>, nullable: bool) {
    let topics = match topics {
        None if !nullable => Some(&[][..]),
        topics => topics,
    };
    writer.array_count(topics.map(<[OffsetFetchTopic]>::len));
    for topic in topics.into_iter().flatten() {
        writer.string(&topic.name);
        writer.i32_array(&topic.partition_indexes);
        writer.tagged_fields();
    }
}

/// One partition's committed offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchPartitionResponse {
    /// The partition index.
    pub partition_index: i32,
    /// The committed offset, or -1 for none.
    pub committed_offset: i64,
    /// The leader epoch committed with it (v5+; -1 for none).
    pub committed_leader_epoch: i32,
    /// The metadata committed with it.
    pub metadata: Option<String>,
    /// The error, or none.
    pub error_code: ErrorCode,
}

/// One topic's committed offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchTopicResponse {
    /// The topic name.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<OffsetFetchPartitionResponse>,
}

/// One group's committed offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchGroupResponse {
    /// The group (written for v8+ only).
    pub group_id: String,
    /// Its topics.
    pub topics: Vec<OffsetFetchTopicResponse>,
    /// The group's error, or none (v2+; v1 has only the partitions' errors).
    pub error_code: ErrorCode,
}

/// An OffsetFetch response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchResponse {
    /// Throttle time (v3+).
    pub throttle_time_ms: i32,
    /// One answer per group asked: v1 to v7 write the first group's topics and
    /// error (no topics and no error if there is none).
    pub groups: Vec<OffsetFetchGroupResponse>,
}

impl OffsetFetchResponse {
    /// Reads the body of `version` (a client's side): v1 to v7 give one group
    /// whose id is empty (the answer does not carry it), with no error in v1;
    /// leader epochs are -1 before v5.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = if version >= 3 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        let groups = if version >= 8 {
            // A group is at least an id, a topic count and an error code.
            reader.array("the groups", 4, |reader| {
                let group_id = reader.string("a group id")?;
                let topics = decode_topic_responses(reader, version)?;
                let error_code = reader.error_code("a group's error code")?;
                reader.tagged_fields()?;
                Ok(OffsetFetchGroupResponse {
                    group_id,
                    topics,
                    error_code,
                })
            })?
        } else {
            let topics = decode_topic_responses(reader, version)?;
            let error_code = if version >= 2 {
                reader.error_code("the error code")?
            } else {
                ErrorCode::None
            };
            vec![OffsetFetchGroupResponse {
                group_id: String::new(),
                topics,
                error_code,
            }]
        };
        reader.tagged_fields()?;
        Ok(OffsetFetchResponse {
            throttle_time_ms,
            groups,
        })
    }

    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 3 {
            writer.i32(self.throttle_time_ms);
        }
        if version >= 8 {
            writer.array_count(Some(self.groups.len()));
            for group in &self.groups {
                writer.string(&group.group_id);
                encode_topic_responses(writer, version, &group.topics);
                writer.i16(group.error_code.number());
                writer.tagged_fields();
            }
        } else {
            let group = self.groups.first();
            encode_topic_responses(writer, version, group.map_or(&[], |group| &group.topics));
            if version >= 2 {
                let error_code = group.map_or(ErrorCode::None, |group| group.error_code);
                writer.i16(error_code.number());
            }
        }
        writer.tagged_fields();
    }
}

fn decode_topic_responses(
    reader: &mut Reader,
    version: i16,
) -> Result<Vec<OffsetFetchTopicResponse>, DecodeError> {
    // A topic is at least a name and a count; a partition an index, an offset,
    // a null metadata and an error code (15 bytes in v1).
    reader.array("the topics", 2, |reader| {
        let name = reader.string("a topic name")?;
        let partitions = reader.array("the partitions", 15, |reader| {
            let partition_index = reader.i32("a partition index")?;
            let committed_offset = reader.i64("a committed offset")?;
            let committed_leader_epoch = if version >= 5 {
                reader.i32("a committed leader epoch")?
            } else {
                -1
            };
            let metadata = reader.nullable_string("a committed metadata")?;
            let error_code = reader.error_code("a partition's error code")?;
            reader.tagged_fields()?;
            Ok(OffsetFetchPartitionResponse {
                partition_index,
                committed_offset,
                committed_leader_epoch,
                metadata,
                error_code,
            })
        })?;
        reader.tagged_fields()?;
        Ok(OffsetFetchTopicResponse { name, partitions })
    })
}

fn encode_topic_responses(writer: &mut Writer, version: i16, topics: &[OffsetFetchTopicResponse]) {
    writer.array_count(Some(topics.len()));
    for topic in topics {
        writer.string(&topic.name);
        writer.array_count(Some(topic.partitions.len()));
        for partition in &topic.partitions {
            writer.i32(partition.partition_index);
            writer.i64(partition.committed_offset);
            if version >= 5 {
                writer.i32(partition.committed_leader_epoch);
            }
            writer.nullable_string(partition.metadata.as_deref());
            writer.i16(partition.error_code.number());
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
