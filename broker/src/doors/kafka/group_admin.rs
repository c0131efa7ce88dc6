//! The group admin APIs: DescribeGroups (key 15, versions 0 to 5), ListGroups
//! (key 16, versions 0 to 5) and DeleteGroups (key 42, versions 0 to 2), as
//! kafka-python's `KafkaAdminClient`, confluent-kafka's `AdminClient` and
//! `kcat -L`-style tools send them.
//!
//! Flexible from v5 (DescribeGroups), v3 (ListGroups) and v2 (DeleteGroups).
//! ListGroups filters by state from v4 and by type from v5 (empty: no filter).
//! Nothing here may read past the message.

use bytes::Bytes;

use super::error_code::ErrorCode;
use super::metadata::AUTHORIZED_OPERATIONS_OMITTED;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// A DescribeGroups request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeGroupsRequest {
    /// The groups to describe.
    pub groups: Vec<String>,
    /// Whether to fill in the authorized operations (v3+; false otherwise).
    pub include_authorized_operations: bool,
}

impl DescribeGroupsRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let groups = reader.array("the groups", 1, |reader| reader.string("a group id"))?;
        let include_authorized_operations = if version >= 3 {
            reader.bool("include authorized operations")?
        } else {
            false
        };
        reader.tagged_fields()?;
        Ok(DescribeGroupsRequest {
            groups,
            include_authorized_operations,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        write_strings(writer, &self.groups);
        if version >= 3 {
            writer.bool(self.include_authorized_operations);
        }
        writer.tagged_fields();
    }
}

/// One member of a described group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedGroupMember {
    /// Its member id.
    pub member_id: String,
    /// Its instance id (v4+; null for a dynamic member).
    pub group_instance_id: Option<String>,
    /// The client id of its last JoinGroup.
    pub client_id: String,
    /// The host it connected from.
    pub client_host: String,
    /// Its metadata for the group's protocol (empty unless the group is stable).
    pub member_metadata: Bytes,
    /// Its assignment (empty unless the group is stable).
    pub member_assignment: Bytes,
}

/// One described group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedGroup {
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The group.
    pub group_id: String,
    /// Its state: `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable`
    /// or `Dead`.
    pub group_state: String,
    /// Its protocol type, e.g. `consumer` (empty if unknown).
    pub protocol_type: String,
    /// The protocol chosen, e.g. `range` (empty unless stable).
    pub protocol_data: String,
    /// Its members.
    pub members: Vec<DescribedGroupMember>,
    /// A bit set of the operations the client may perform (v3+;
    /// [`super::AUTHORIZED_OPERATIONS_OMITTED`] when not asked for).
    pub authorized_operations: i32,
}

/// A DescribeGroups response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeGroupsResponse {
    /// Throttle time (v1+).
    pub throttle_time_ms: i32,
    /// One per group asked.
    pub groups: Vec<DescribedGroup>,
}

impl DescribeGroupsResponse {
    /// Reads the body of `version` (a client's side); the authorized operations
    /// are [`AUTHORIZED_OPERATIONS_OMITTED`] before v3.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = if version >= 1 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        // A group is at least an error code, four strings and a member count.
        let groups = reader.array("the groups", 7, |reader| {
            let error_code = reader.error_code("a group's error code")?;
            let group_id = reader.string("a group id")?;
            let group_state = reader.string("a group state")?;
            let protocol_type = reader.string("a protocol type")?;
            let protocol_data = reader.string("a protocol")?;
            // A member is at least three strings and two byte fields.
            let members = reader.array("the members", 5, |reader| {
                let member_id = reader.string("a member id")?;
                let group_instance_id = if version >= 4 {
                    reader.nullable_string("a group instance id")?
                } else {
                    None
                };
                let client_id = reader.string("a client id")?;
                let client_host = reader.string("a client host")?;
                let member_metadata = reader.bytes("a member's metadata")?;
                let member_assignment = reader.bytes("a member's assignment")?;
                reader.tagged_fields()?;
                Ok(DescribedGroupMember {
                    member_id,
                    group_instance_id,
                    client_id,
                    client_host,
                    member_metadata,
                    member_assignment,
                })
            })?;
            let authorized_operations = if version >= 3 {
                reader.i32("the authorized operations")?
            } else {
                AUTHORIZED_OPERATIONS_OMITTED
            };
            reader.tagged_fields()?;
            Ok(DescribedGroup {
                error_code,
                group_id,
                group_state,
                protocol_type,
                protocol_data,
                members,
                authorized_operations,
            })
        })?;
        reader.tagged_fields()?;
        Ok(DescribeGroupsResponse {
            throttle_time_ms,
            groups,
        })
    }

    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 1 {
            writer.i32(self.throttle_time_ms);
        }
        writer.array_count(Some(self.groups.len()));
        for group in &self.groups {
            writer.i16(group.error_code.number());
            writer.string(&group.group_id);
            writer.string(&group.group_state);
            writer.string(&group.protocol_type);
            writer.string(&group.protocol_data);
            writer.array_count(Some(group.members.len()));
            for member in &group.members {
                writer.string(&member.member_id);
                if version >= 4 {
                    writer.nullable_string(member.group_instance_id.as_deref());
                }
                writer.string(&member.client_id);
                writer.string(&member.client_host);
                writer.bytes(&member.member_metadata);
                writer.bytes(&member.member_assignment);
                writer.tagged_fields();
            }
            if version >= 3 {
                writer.i32(group.authorized_operations);
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// A ListGroups request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListGroupsRequest {
    /// Only groups in these states (v4+; empty: every state).
    pub states_filter: Vec<String>,
    /// Only groups of these types, e.g. `classic` (v5+; empty: every type).
    pub types_filter: Vec<String>,
}

impl ListGroupsRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let states_filter = if version >= 4 {
            reader.array("the states filter", 1, |reader| reader.string("a state"))?
        } else {
            Vec::new()
        };
        let types_filter = if version >= 5 {
            reader.array("the types filter", 1, |reader| reader.string("a type"))?
        } else {
            Vec::new()
        };
        reader.tagged_fields()?;
        Ok(ListGroupsRequest {
            states_filter,
            types_filter,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 4 {
            write_strings(writer, &self.states_filter);
        }
        if version >= 5 {
            write_strings(writer, &self.types_filter);
        }
        writer.tagged_fields();
    }
}

/// One listed group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedGroup {
    /// The group.
    pub group_id: String,
    /// Its protocol type, e.g. `consumer`.
    pub protocol_type: String,
    /// Its state (v4+).
    pub group_state: String,
    /// Its type, e.g. `classic` (v5+).
    pub group_type: String,
}

/// A ListGroups response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListGroupsResponse {
    /// Throttle time (v1+).
    pub throttle_time_ms: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The groups.
    pub groups: Vec<ListedGroup>,
}

impl ListGroupsResponse {
    /// Reads the body of `version` (a client's side); a group's state is empty
    /// before v4 and its type before v5.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = if version >= 1 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        let error_code = reader.error_code("the error code")?;
        let groups = reader.array("the groups", 2, |reader| {
            let group_id = reader.string("a group id")?;
            let protocol_type = reader.string("a protocol type")?;
            let group_state = if version >= 4 {
                reader.string("a group state")?
            } else {
                String::new()
            };
            let group_type = if version >= 5 {
                reader.string("a group type")?
            } else {
                String::new()
            };
            reader.tagged_fields()?;
            Ok(ListedGroup {
                group_id,
                protocol_type,
                group_state,
                group_type,
            })
        })?;
        reader.tagged_fields()?;
        Ok(ListGroupsResponse {
            throttle_time_ms,
            error_code,
            groups,
        })
    }

    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 1 {
            writer.i32(self.throttle_time_ms);
        }
        writer.i16(self.error_code.number());
        writer.array_count(Some(self.groups.len()));
        for group in &self.groups {
            writer.string(&group.group_id);
            writer.string(&group.protocol_type);
            if version >= 4 {
                writer.string(&group.group_state);
            }
            if version >= 5 {
                writer.string(&group.group_type);
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// A DeleteGroups request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteGroupsRequest {
    /// The groups to delete (Kafka's `GroupsNames`).
    pub group_names: Vec<String>,
}

impl DeleteGroupsRequest {
    /// Reads the body (the same fields in versions 0 to 2).
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        let group_names = reader.array("the group names", 1, |reader| reader.string("a group"))?;
        reader.tagged_fields()?;
        Ok(DeleteGroupsRequest { group_names })
    }

    /// Writes the body (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        write_strings(writer, &self.group_names);
        writer.tagged_fields();
    }
}

/// One group's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletableGroupResult {
    /// The group.
    pub group_id: String,
    /// The error (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, ...), or none.
    pub error_code: ErrorCode,
}

/// A DeleteGroups response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteGroupsResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// One per group asked.
    pub results: Vec<DeletableGroupResult>,
}

impl DeleteGroupsResponse {
    /// Writes the body (the same fields in versions 0 to 2).
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.array_count(Some(self.results.len()));
        for result in &self.results {
            writer.string(&result.group_id);
            writer.i16(result.error_code.number());
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// An array of strings.
fn write_strings(writer: &mut Writer, strings: &[String]) {
    writer.array_count(Some(strings.len()));
    for string in strings {
        writer.string(string);
    }
}
