//! The native protocol's consumer-group commands, their values and their codec
//! in both directions: JOIN_GROUP (the broker runs the assignor and answers with
//! this member's partitions), HEARTBEAT, LEAVE_GROUP, COMMIT_OFFSETS and
//! FETCH_OFFSETS. `protocol.md` ("Consumer groups") is the layout, byte for byte.
//!
//! Names (group, member id, instance id, topics) travel in frames of their own;
//! partition lists and offset tables are big-endian tables in one frame each.
//! This module must never panic on a peer's bytes or allocate beyond what the
//! frames it holds could need.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{ErrorCode, Fault};
use super::wire::{Frames, Reader};
use crate::kafka::TopicName;

/// The longest group id, member id or instance id, in bytes.
pub const MAX_GROUP_NAME_BYTES: usize = 255;
/// Bytes per entry of an offsets table: partition (`u32`), offset (`u64`).
pub const OFFSET_ENTRY_SIZE: usize = 12;

/// How a group's partitions are spread over its members (Kafka's assignors, by
/// their names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssignorChoice {
    /// 0: `range`.
    Range,
    /// 1: `roundrobin`.
    RoundRobin,
    /// 2: `cooperative-sticky`.
    CooperativeSticky,
}

impl AssignorChoice {
    /// The byte on the wire.
    pub const fn code(self) -> u8 {
        match self {
            AssignorChoice::Range => 0,
            AssignorChoice::RoundRobin => 1,
            AssignorChoice::CooperativeSticky => 2,
        }
    }

    /// The assignor for a byte on the wire.
    pub const fn from_code(code: u8) -> Option<AssignorChoice> {
        match code {
            0 => Some(AssignorChoice::Range),
            1 => Some(AssignorChoice::RoundRobin),
            2 => Some(AssignorChoice::CooperativeSticky),
            _ => None,
        }
    }

    /// Kafka's name for it, as group members agree on it.
    pub const fn name(self) -> &'static str {
        match self {
            AssignorChoice::Range => "range",
            AssignorChoice::RoundRobin => "roundrobin",
            AssignorChoice::CooperativeSticky => "cooperative-sticky",
        }
    }
}

/// Who a member is: the group, its member id (empty to be given one) and its
/// static instance id, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The group id (1 to 255 bytes of UTF-8).
    pub group: String,
    /// The member id the broker gave; empty before the first join.
    pub member_id: String,
    /// A static member's `group.instance.id`.
    pub instance_id: Option<String>,
}

/// JOIN_GROUP: join (or rejoin) and get this member's partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroup {
    /// Who joins.
    pub member: Membership,
    /// Without a heartbeat for this long the member is removed (6 s to 30 min).
    pub session_timeout_ms: u32,
    /// How long a rebalance waits for the members to rejoin.
    pub rebalance_timeout_ms: u32,
    /// The assignor this member asks for (the group uses one all members name).
    pub assignor: AssignorChoice,
    /// The topics it subscribes to (at least one).
    pub topics: Vec<TopicName>,
}

/// JOIN_GROUP's answer: the generation, the member id to use from now on and the
/// partitions assigned to it, by topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupAssignment {
    /// The generation joined.
    pub generation: i32,
    /// The member's id.
    pub member_id: String,
    /// Per topic, its partitions, in the order the assignor gave them.
    pub partitions: Vec<(TopicName, Vec<u32>)>,
}

/// HEARTBEAT: still here, in this generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// Who.
    pub member: Membership,
    /// The generation it has.
    pub generation: i32,
}

/// COMMIT_OFFSETS: where the group resumes each partition of a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitOffsets {
    /// Who commits; member id empty and generation -1 from outside the group.
    pub member: Membership,
    /// The member's generation, or -1.
    pub generation: i32,
    /// The topic.
    pub topic: TopicName,
    /// Partition and offset (the next record to read) pairs (at least one).
    pub offsets: Vec<(u32, u64)>,
}

/// FETCH_OFFSETS: a group's committed offsets for one topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOffsets {
    /// The group.
    pub group: String,
    /// The topic.
    pub topic: TopicName,
}

fn name(frame: &Bytes, what: &str, allow_empty: bool) -> Result<String, Fault> {
    if frame.len() > MAX_GROUP_NAME_BYTES {
        return Err(Fault::new(
            ErrorCode::InvalidArgument,
            format!(
                "a {what} of {} bytes; at most {MAX_GROUP_NAME_BYTES}",
                frame.len()
            ),
        ));
    }
    if frame.is_empty() && !allow_empty {
        return Err(Fault::new(
            ErrorCode::InvalidArgument,
            format!("the {what} is empty"),
        ));
    }
    String::from_utf8(frame.to_vec()).map_err(|_| {
        Fault::new(
            ErrorCode::InvalidArgument,
            format!("the {what} is not UTF-8"),
        )
    })
}

fn topic(frame: &Bytes) -> Result<TopicName, Fault> {
    TopicName::new(frame.clone())
        .map_err(|error| Fault::new(ErrorCode::InvalidTopicName, error.to_string()))
}

/// Reads the group, member id and instance id frames.
pub(crate) fn read_membership(frames: &mut Frames<'_>) -> Result<Membership, Fault> {
    let group = name(frames.next("group")?, "group id", false)?;
    let member_id = name(frames.next("member id")?, "member id", true)?;
    let instance = name(frames.next("instance id")?, "instance id", true)?;
    Ok(Membership {
        group,
        member_id,
        instance_id: (!instance.is_empty()).then_some(instance),
    })
}

/// Writes the group, member id and instance id frames.
pub(crate) fn put_membership(frames: &mut Vec<Bytes>, member: &Membership) {
    frames.push(Bytes::copy_from_slice(member.group.as_bytes()));
    frames.push(Bytes::copy_from_slice(member.member_id.as_bytes()));
    frames.push(Bytes::copy_from_slice(
        member.instance_id.as_deref().unwrap_or("").as_bytes(),
    ));
}

/// JOIN_GROUP's fields after the prefix, then its frames.
pub(crate) fn read_join(
    header: &mut Reader<'_>,
    frames: &mut Frames<'_>,
) -> Result<JoinGroup, Fault> {
    let session_timeout_ms = header.u32()?;
    let rebalance_timeout_ms = header.u32()?;
    let code = header.u8()?;
    let assignor = AssignorChoice::from_code(code).ok_or_else(|| {
        Fault::new(
            ErrorCode::InvalidArgument,
            format!("assignor {code}: 0 (range), 1 (roundrobin) or 2 (cooperative-sticky)"),
        )
    })?;
    header.reserved(7)?;
    let member = read_membership(frames)?;
    let topics = frames
        .rest()
        .iter()
        .map(topic)
        .collect::<Result<Vec<_>, _>>()?;
    if topics.is_empty() {
        return Err(Fault::malformed("JOIN_GROUP names no topic"));
    }
    Ok(JoinGroup {
        member,
        session_timeout_ms,
        rebalance_timeout_ms,
        assignor,
        topics,
    })
}

pub(crate) fn put_join(header: &mut BytesMut, frames: &mut Vec<Bytes>, join: &JoinGroup) {
    header.put_u32(join.session_timeout_ms);
    header.put_u32(join.rebalance_timeout_ms);
    header.put_u8(join.assignor.code());
    header.put_bytes(0, 7);
    put_membership(frames, &join.member);
    frames.extend(join.topics.iter().map(|topic| topic.as_bytes().clone()));
}

/// HEARTBEAT's generation and reserved bytes, then its frames.
pub(crate) fn read_heartbeat(
    header: &mut Reader<'_>,
    frames: &mut Frames<'_>,
) -> Result<Heartbeat, Fault> {
    let generation = header.i32()?;
    header.reserved(4)?;
    Ok(Heartbeat {
        member: read_membership(frames)?,
        generation,
    })
}

pub(crate) fn read_commit(
    header: &mut Reader<'_>,
    frames: &mut Frames<'_>,
) -> Result<CommitOffsets, Fault> {
    let generation = header.i32()?;
    header.reserved(4)?;
    let member = read_membership(frames)?;
    let topic = topic(frames.next("topic")?)?;
    let offsets = read_offsets(frames.next("offsets table")?)?;
    if offsets.is_empty() {
        return Err(Fault::malformed("COMMIT_OFFSETS commits no offset"));
    }
    Ok(CommitOffsets {
        member,
        generation,
        topic,
        offsets,
    })
}

pub(crate) fn put_commit(header: &mut BytesMut, frames: &mut Vec<Bytes>, commit: &CommitOffsets) {
    header.put_i32(commit.generation);
    header.put_bytes(0, 4);
    put_membership(frames, &commit.member);
    frames.push(commit.topic.as_bytes().clone());
    frames.push(offsets_table(&commit.offsets));
}

/// A table of (partition, offset) entries.
pub(crate) fn offsets_table(offsets: &[(u32, u64)]) -> Bytes {
    let mut table = BytesMut::with_capacity(offsets.len() * OFFSET_ENTRY_SIZE);
    for (partition, offset) in offsets {
        table.put_u32(*partition);
        table.put_u64(*offset);
    }
    table.freeze()
}

/// Reads a table of (partition, offset) entries; partitions below 2^31 and
/// offsets below 2^63.
pub(crate) fn read_offsets(table: &Bytes) -> Result<Vec<(u32, u64)>, Fault> {
    if !table.len().is_multiple_of(OFFSET_ENTRY_SIZE) {
        return Err(Fault::malformed(format!(
            "an offsets table of {} bytes is not a whole number of {OFFSET_ENTRY_SIZE}-byte entries",
            table.len()
        )));
    }
    let mut reader = Reader::new(table);
    let mut offsets = Vec::with_capacity(table.len() / OFFSET_ENTRY_SIZE);
    while reader.remaining() > 0 {
        let partition = super::wire::partition(reader.u32()?)?;
        let offset = super::wire::offset(reader.u64()?, "offset")?;
        offsets.push((partition, offset));
    }
    Ok(offsets)
}

/// A partition list: `u32`s.
pub(crate) fn partitions_table(partitions: &[u32]) -> Bytes {
    let mut table = BytesMut::with_capacity(partitions.len() * 4);
    for partition in partitions {
        table.put_u32(*partition);
    }
    table.freeze()
}

fn read_partitions(table: &Bytes) -> Result<Vec<u32>, Fault> {
    if !table.len().is_multiple_of(4) {
        return Err(Fault::malformed(format!(
            "a partition list of {} bytes is not a whole number of 4-byte entries",
            table.len()
        )));
    }
    let mut reader = Reader::new(table);
    let mut partitions = Vec::with_capacity(table.len() / 4);
    while reader.remaining() > 0 {
        partitions.push(super::wire::partition(reader.u32()?)?);
    }
    Ok(partitions)
}

pub(crate) fn read_fetch_offsets(frames: &mut Frames<'_>) -> Result<FetchOffsets, Fault> {
    Ok(FetchOffsets {
        group: name(frames.next("group")?, "group id", false)?,
        topic: topic(frames.next("topic")?)?,
    })
}

/// JOIN_GROUP's answer: generation and reserved bytes, the member id frame, then
/// a topic frame and a partition list frame per assigned topic.
pub(crate) fn put_assignment(
    header: &mut BytesMut,
    frames: &mut Vec<Bytes>,
    assignment: &GroupAssignment,
) {
    header.put_i32(assignment.generation);
    header.put_bytes(0, 4);
    frames.push(Bytes::copy_from_slice(assignment.member_id.as_bytes()));
    for (topic, partitions) in &assignment.partitions {
        frames.push(topic.as_bytes().clone());
        frames.push(partitions_table(partitions));
    }
}

pub(crate) fn read_assignment(
    header: &mut Reader<'_>,
    frames: &mut Frames<'_>,
) -> Result<GroupAssignment, Fault> {
    let generation = header.i32()?;
    header.reserved(4)?;
    let member_id = name(frames.next("member id")?, "member id", false)?;
    let rest = frames.rest();
    if !rest.len().is_multiple_of(2) {
        return Err(Fault::malformed(
            "JOIN_GROUP's answer has a topic without its partition list",
        ));
    }
    let partitions = rest
        .chunks(2)
        .map(|pair| match pair {
            [name, table] => Ok((topic(name)?, read_partitions(table)?)),
            _ => Err(Fault::malformed("a topic without its partition list")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GroupAssignment {
        generation,
        member_id,
        partitions,
    })
}
