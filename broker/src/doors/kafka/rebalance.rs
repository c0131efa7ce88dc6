//! JoinGroup (key 11, versions 0 to 5) and SyncGroup (key 14, versions 0 to 3):
//! a classic consumer group's rebalance. Every member joins with the protocols
//! it supports; the coordinator picks one, names a leader and answers the leader
//! with every member's metadata; each member then syncs, the leader sending the
//! assignments, and gets its own assignment back.
//!
//! JoinGroup starts at v0, below Kafka 4.0's v2, for librdkafka before 2.11 (see
//! `docs/kafka.md`); v0 has no rebalance timeout, so the decoder gives the session
//! timeout for it, as Kafka does. Neither API is flexible in these ranges
//! (JoinGroup is from v6, SyncGroup from v4). Protocol metadata and assignments
//! are opaque bytes here, slices of the request. Nothing here may read past the
//! request.

use bytes::Bytes;

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// One protocol a joining member supports, e.g. `range` with its subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupProtocol {
    /// The protocol name (for consumers, the assignor's name).
    pub name: String,
    /// The protocol metadata (for consumers, the subscription), opaque here.
    pub metadata: Bytes,
}

/// A JoinGroup request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupRequest {
    /// The group.
    pub group_id: String,
    /// How long the coordinator waits for a heartbeat before removing the member.
    pub session_timeout_ms: i32,
    /// How long the coordinator waits for each member to rejoin in a rebalance
    /// (v1+; the session timeout for v0, as Kafka reads it).
    pub rebalance_timeout_ms: i32,
    /// The member id the coordinator gave, or empty for a first join.
    pub member_id: String,
    /// The static member's instance id (v5+; null otherwise).
    pub group_instance_id: Option<String>,
    /// The kind of group, e.g. `consumer`.
    pub protocol_type: String,
    /// The protocols the member supports, in its order of preference.
    pub protocols: Vec<JoinGroupProtocol>,
}

impl JoinGroupRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let group_id = reader.string("the group id")?;
        let session_timeout_ms = reader.i32("the session timeout")?;
        let rebalance_timeout_ms = if version >= 1 {
            reader.i32("the rebalance timeout")?
        } else {
            session_timeout_ms
        };
        let member_id = reader.string("the member id")?;
        let group_instance_id = if version >= 5 {
            reader.nullable_string("the group instance id")?
        } else {
            None
        };
        let protocol_type = reader.string("the protocol type")?;
        let protocols = reader.array("the protocols", 6, |reader| {
            let name = reader.string("a protocol name")?;
            let metadata = reader.bytes("a protocol's metadata")?;
            reader.tagged_fields()?;
            Ok(JoinGroupProtocol { name, metadata })
        })?;
        reader.tagged_fields()?;
        Ok(JoinGroupRequest {
            group_id,
            session_timeout_ms,
            rebalance_timeout_ms,
            member_id,
            group_instance_id,
            protocol_type,
            protocols,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.string(&self.group_id);
        writer.i32(self.session_timeout_ms);
        if version >= 1 {
            writer.i32(self.rebalance_timeout_ms);
        }
        writer.string(&self.member_id);
        if version >= 5 {
            writer.nullable_string(self.group_instance_id.as_deref());
        }
        writer.string(&self.protocol_type);
        writer.array_count(Some(self.protocols.len()));
        for protocol in &self.protocols {
            writer.string(&protocol.name);
            writer.bytes(&protocol.metadata);
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// One member, as the leader is told of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupMember {
    /// Its member id.
    pub member_id: String,
    /// Its instance id (v5+; null for a dynamic member).
    pub group_instance_id: Option<String>,
    /// Its metadata for the chosen protocol.
    pub metadata: Bytes,
}

/// A JoinGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupResponse {
    /// Throttle time (v2+).
    pub throttle_time_ms: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The generation the member joined (-1 on error).
    pub generation_id: i32,
    /// The protocol the coordinator chose (empty on error).
    pub protocol_name: String,
    /// The leader's member id.
    pub leader: String,
    /// The member id of the member answered.
    pub member_id: String,
    /// Every member, for the leader only; empty for the others.
    pub members: Vec<JoinGroupMember>,
}

impl JoinGroupResponse {
    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 2 {
            writer.i32(self.throttle_time_ms);
        }
        writer.i16(self.error_code.number());
        writer.i32(self.generation_id);
        writer.string(&self.protocol_name);
        writer.string(&self.leader);
        writer.string(&self.member_id);
        writer.array_count(Some(self.members.len()));
        for member in &self.members {
            writer.string(&member.member_id);
            if version >= 5 {
                writer.nullable_string(member.group_instance_id.as_deref());
            }
            writer.bytes(&member.metadata);
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// One member's assignment, sent by the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupAssignment {
    /// The member it is for.
    pub member_id: String,
    /// The assignment, opaque here.
    pub assignment: Bytes,
}

/// A SyncGroup request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupRequest {
    /// The group.
    pub group_id: String,
    /// The generation the member joined.
    pub generation_id: i32,
    /// The member's id.
    pub member_id: String,
    /// The static member's instance id (v3+; null otherwise).
    pub group_instance_id: Option<String>,
    /// Every member's assignment from the leader; empty from the others.
    pub assignments: Vec<SyncGroupAssignment>,
}

impl SyncGroupRequest {
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
        let assignments = reader.array("the assignments", 6, |reader| {
            let member_id = reader.string("an assignment's member id")?;
            let assignment = reader.bytes("an assignment")?;
            reader.tagged_fields()?;
            Ok(SyncGroupAssignment {
                member_id,
                assignment,
            })
        })?;
        reader.tagged_fields()?;
        Ok(SyncGroupRequest {
            group_id,
            generation_id,
            member_id,
            group_instance_id,
            assignments,
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
        writer.array_count(Some(self.assignments.len()));
        for assignment in &self.assignments {
            writer.string(&assignment.member_id);
            writer.bytes(&assignment.assignment);
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

/// A SyncGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroupResponse {
    /// Throttle time (v1+).
    pub throttle_time_ms: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The member's assignment (empty on error).
    pub assignment: Bytes,
}

impl SyncGroupResponse {
    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 1 {
            writer.i32(self.throttle_time_ms);
        }
        writer.i16(self.error_code.number());
        writer.bytes(&self.assignment);
        writer.tagged_fields();
    }
}
