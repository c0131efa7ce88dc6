//! Heartbeat (key 12, versions 0 to 3) and LeaveGroup (key 13, versions 0 to 3):
//! a member staying in its group between rebalances, and leaving it.
//!
//! LeaveGroup v0 to v2 name one member; v3 a batch of members, each with its
//! static instance id. The decoder gives both as [`LeaveGroupRequest::members`]
//! (one member, without an instance id, for v0 to v2), so the door answers one
//! shape. Neither API is flexible in these ranges (both are from v4). Nothing
//! here may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// A Heartbeat request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatRequest {
    /// The group.
    pub group_id: String,
    /// The generation the member is in.
    pub generation_id: i32,
    /// The member's id.
    pub member_id: String,
    /// The static member's instance id (v3+; null otherwise).
    pub group_instance_id: Option<String>,
}

impl HeartbeatRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let group_id = reader.string("the group id")?;
        let generation_id = reader.i32("the generation id")?;
        let member_id = reader.string("the member id")?;
        let group_instance_id = if version >= 3 {
            reader.nullable_string("the group instance id")?
        } else {
            None
        };
        reader.tagged_fields()?;
        Ok(HeartbeatRequest {
            group_id,
            generation_id,
            member_id,
            group_instance_id,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.string(&self.group_id);
        writer.i32(self.generation_id);
        writer.string(&self.member_id);
        if version >= 3 {
            writer.nullable_string(self.group_instance_id.as_deref());
        }
        writer.tagged_fields();
    }
}

/// A Heartbeat response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatResponse {
    /// Throttle time (v1+).
    pub throttle_time_ms: i32,
    /// The error, or none (REBALANCE_IN_PROGRESS tells the member to rejoin).
    pub error_code: ErrorCode,
}

impl HeartbeatResponse {
    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 1 {
            writer.i32(self.throttle_time_ms);
        }
        writer.i16(self.error_code.number());
        writer.tagged_fields();
    }
}

/// One member leaving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupMember {
    /// Its member id.
    pub member_id: String,
    /// Its instance id (v3+; null for a dynamic member, and for v0 to v2).
    pub group_instance_id: Option<String>,
}

/// A LeaveGroup request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupRequest {
    /// The group.
    pub group_id: String,
    /// The members leaving: exactly one for v0 to v2 (whose encoder writes the
    /// first's member id, or an empty one if there is none).
    pub members: Vec<LeaveGroupMember>,
}

impl LeaveGroupRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let group_id = reader.string("the group id")?;
        let members = if version >= 3 {
            reader.array("the members", 4, |reader| {
                let member_id = reader.string("a member id")?;
                let group_instance_id = reader.nullable_string("a group instance id")?;
                reader.tagged_fields()?;
                Ok(LeaveGroupMember {
                    member_id,
                    group_instance_id,
                })
            })?
        } else {
            vec![LeaveGroupMember {
                member_id: reader.string("the member id")?,
                group_instance_id: None,
            }]
        };
        reader.tagged_fields()?;
        Ok(LeaveGroupRequest { group_id, members })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.string(&self.group_id);
        if version >= 3 {
            writer.array_count(Some(self.members.len()));
            for member in &self.members {
                writer.string(&member.member_id);
                writer.nullable_string(member.group_instance_id.as_deref());
                writer.tagged_fields();
            }
        } else {
            let member_id = self.members.first().map_or("", |member| &member.member_id);
            writer.string(member_id);
        }
        writer.tagged_fields();
    }
}

/// One member's outcome (v3+).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupMemberResponse {
    /// Its member id.
    pub member_id: String,
    /// Its instance id, as sent.
    pub group_instance_id: Option<String>,
    /// The error for this member, or none.
    pub error_code: ErrorCode,
}

/// A LeaveGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaveGroupResponse {
    /// Throttle time (v1+).
    pub throttle_time_ms: i32,
    /// The error for the whole request, or none.
    pub error_code: ErrorCode,
    /// Each member's outcome (v3+; v0 to v2 carry only `error_code`).
    pub members: Vec<LeaveGroupMemberResponse>,
}

impl LeaveGroupResponse {
    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 1 {
            writer.i32(self.throttle_time_ms);
        }
        writer.i16(self.error_code.number());
        if version >= 3 {
            writer.array_count(Some(self.members.len()));
            for member in &self.members {
                writer.string(&member.member_id);
                writer.nullable_string(member.group_instance_id.as_deref());
                writer.i16(member.error_code.number());
                writer.tagged_fields();
            }
        }
        writer.tagged_fields();
    }
}
