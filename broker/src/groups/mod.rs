//! Consumer groups as Kafka's classic protocol defines them (Kafka's
//! `GroupCoordinator`): members join, one of them (the leader) assigns partitions
//! on the client side, everyone receives its share, heartbeats keep a member in,
//! and any change of membership starts a new generation. Committed offsets are kept
//! per group, topic and partition.
//!
//! This is the broker's one coordinator for every door, sans-IO: requests and the
//! time come in; answers come out, some at once and some later (a JoinGroup is
//! answered when the rebalance completes, a follower's SyncGroup when the leader's
//! assignment arrives), each tagged with the token the door gave so it can route the
//! answer to its connection. Time only moves when the door calls `expire`; nothing
//! here reads a clock, touches a socket or a thread, or panics on a request. The
//! error codes are Kafka's own, so clients retry or fail as they would against
//! Kafka. Offsets are kept in memory here; the door writes each commit durably
//! (`OffsetCommitted`) and replays them on start (`Coordinator::restore`).
//!
//! For members that leave the assignment to the broker (the native door's
//! clients), [`assignors`] has Kafka's assignors and its consumer protocol; the
//! coordinator itself only carries members' metadata and assignments as bytes.

pub mod assignors;
mod group;
mod offsets;
mod record;
#[cfg(test)]
mod tests;

pub use assignors::{
    Assignor, ConsumerAssignment, ConsumerProtocolError, ConsumerSubscription, GroupAssignment,
    MemberSubscription, TopicPartitions, Withheld,
};
pub use group::{GroupState, MemberSummary};
pub use offsets::{CommittedOffset, OffsetCommitted};

use bytes::Bytes;
use group::Group;
use offsets::Offsets;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The door's handle for an answer that may come later.
pub type Token = u64;

/// Kafka's error codes for the group APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupError {
    /// OFFSET_METADATA_TOO_LARGE (12).
    OffsetMetadataTooLarge,
    /// ILLEGAL_GENERATION (22).
    IllegalGeneration,
    /// INCONSISTENT_GROUP_PROTOCOL (23).
    InconsistentGroupProtocol,
    /// INVALID_GROUP_ID (24).
    InvalidGroupId,
    /// UNKNOWN_MEMBER_ID (25).
    UnknownMemberId,
    /// INVALID_SESSION_TIMEOUT (26).
    InvalidSessionTimeout,
    /// REBALANCE_IN_PROGRESS (27).
    RebalanceInProgress,
    /// NON_EMPTY_GROUP (68).
    NonEmptyGroup,
    /// GROUP_ID_NOT_FOUND (69).
    GroupIdNotFound,
    /// MEMBER_ID_REQUIRED (79): the join is answered with a member id to join with.
    MemberIdRequired,
    /// GROUP_MAX_SIZE_REACHED (81).
    GroupMaxSizeReached,
    /// FENCED_INSTANCE_ID (82): another instance took this static member's place.
    FencedInstanceId,
}

impl GroupError {
    /// Kafka's number for the error.
    pub const fn code(self) -> i16 {
        match self {
            GroupError::OffsetMetadataTooLarge => 12,
            GroupError::IllegalGeneration => 22,
            GroupError::InconsistentGroupProtocol => 23,
            GroupError::InvalidGroupId => 24,
            GroupError::UnknownMemberId => 25,
            GroupError::InvalidSessionTimeout => 26,
            GroupError::RebalanceInProgress => 27,
            GroupError::NonEmptyGroup => 68,
            GroupError::GroupIdNotFound => 69,
            GroupError::MemberIdRequired => 79,
            GroupError::GroupMaxSizeReached => 81,
            GroupError::FencedInstanceId => 82,
        }
    }
}

/// The coordinator's limits (Kafka's broker settings of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSettings {
    /// `group.min.session.timeout.ms` (6 s).
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms` (30 min).
    pub max_session_timeout: Duration,
    /// `group.initial.rebalance.delay.ms` (3 s): how long the first rebalance of
    /// an empty group waits for more members.
    pub initial_rebalance_delay: Duration,
    /// `group.max.size`.
    pub max_group_size: usize,
    /// `offset.metadata.max.bytes` (4096).
    pub max_offset_metadata: usize,
}

impl Default for GroupSettings {
    fn default() -> GroupSettings {
        GroupSettings {
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            initial_rebalance_delay: Duration::from_secs(3),
            max_group_size: 1000,
            max_offset_metadata: 4096,
        }
    }
}

/// A JoinGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub group: String,
    /// Empty for a member that has none yet.
    pub member_id: String,
    /// A static member's `group.instance.id`.
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    /// "consumer" for consumers.
    pub protocol_type: String,
    /// The assignors the member supports, in its order of preference, each with
    /// the member's metadata for it.
    pub protocols: Vec<(String, Bytes)>,
    /// JoinGroup v4 and later: a new dynamic member first gets MEMBER_ID_REQUIRED
    /// and a member id to join with (a static member never does).
    pub require_known_member_id: bool,
}

/// One member as the leader sees it in its JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    /// The member's metadata for the chosen protocol.
    pub metadata: Bytes,
}

/// A JoinGroup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinAnswer {
    pub error: Option<GroupError>,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// Every member, for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinAnswer {
    pub(crate) fn error(member_id: &str, error: GroupError) -> JoinAnswer {
        JoinAnswer {
            error: Some(error),
            generation: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: member_id.to_owned(),
            members: Vec::new(),
        }
    }
}

/// A SyncGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    pub group: String,
    pub generation: i32,
    pub member_id: String,
    pub instance_id: Option<String>,
    /// The leader's assignment for each member; empty from followers.
    pub assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncAnswer {
    pub error: Option<GroupError>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncAnswer {
    pub(crate) fn error(error: GroupError) -> SyncAnswer {
        SyncAnswer {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// An answer for a token the door gave earlier (or just now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Join(Token, JoinAnswer),
    Sync(Token, SyncAnswer),
}

impl Answer {
    /// The token the answer is for.
    pub fn token(&self) -> Token {
        match self {
            Answer::Join(token, _) | Answer::Sync(token, _) => *token,
        }
    }
}

/// A member named in a LeaveGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaving {
    pub member_id: String,
    pub instance_id: Option<String>,
}

/// A group in ListGroups' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOverview {
    pub group: String,
    pub protocol_type: String,
    pub state: GroupState,
}

/// A group in DescribeGroups' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub state: GroupState,
    pub protocol_type: String,
    pub protocol_name: String,
    pub members: Vec<MemberSummary>,
}

/// Every group and their committed offsets.
#[derive(Debug)]
pub struct Coordinator {
    settings: GroupSettings,
    groups: BTreeMap<String, Group>,
    offsets: Offsets,
    /// Makes member ids unique (with the seed, across restarts too).
    next_member: u64,
    seed: u64,
}

impl Coordinator {
    /// A coordinator with no groups; `seed` (for example the start time) keeps
    /// member ids of different runs apart.
    pub fn new(settings: GroupSettings, seed: u64) -> Coordinator {
        Coordinator {
            settings,
            groups: BTreeMap::new(),
            offsets: Offsets::default(),
            next_member: 0,
            seed,
        }
    }

    /// A JoinGroup; its answer (under `token`) may come now or later, with other
    /// members' answers.
    pub fn join(&mut self, token: Token, request: JoinRequest, now: Instant) -> Vec<Answer> {
        let refuse = |error| {
            vec![Answer::Join(
                token,
                JoinAnswer::error(&request.member_id, error),
            )]
        };
        if request.group.is_empty() {
            return refuse(GroupError::InvalidGroupId);
        }
        if request.session_timeout < self.settings.min_session_timeout
            || request.session_timeout > self.settings.max_session_timeout
        {
            return refuse(GroupError::InvalidSessionTimeout);
        }
        if !self.groups.contains_key(&request.group) {
            if !request.member_id.is_empty() {
                return refuse(GroupError::UnknownMemberId);
            }
            self.groups
                .insert(request.group.clone(), Group::new(request.group.clone()));
        }
        self.next_member += 1;
        let fresh_id = format!(
            "{}-{:08x}-{:08x}",
            if request.client_id.is_empty() {
                "member"
            } else {
                &request.client_id
            },
            self.seed as u32,
            self.next_member
        );
        let settings = self.settings;
        match self.groups.get_mut(&request.group) {
            Some(group) => group.join(token, request, fresh_id, &settings, now),
            None => refuse(GroupError::UnknownMemberId),
        }
    }

    /// A SyncGroup; the leader's completes the generation and answers everyone.
    pub fn sync(&mut self, token: Token, request: SyncRequest, now: Instant) -> Vec<Answer> {
        match self.groups.get_mut(&request.group) {
            Some(group) => group.sync(token, request, now),
            None => vec![Answer::Sync(
                token,
                SyncAnswer::error(if request.group.is_empty() {
                    GroupError::InvalidGroupId
                } else {
                    GroupError::UnknownMemberId
                }),
            )],
        }
    }

    /// A Heartbeat: `Ok` to go on, or the error that tells the member to rejoin.
    pub fn heartbeat(
        &mut self,
        group: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: Instant,
    ) -> Result<(), GroupError> {
        match self.groups.get_mut(group) {
            Some(found) => found.heartbeat(generation, member_id, instance_id, now),
            None if group.is_empty() => Err(GroupError::InvalidGroupId),
            None => Err(GroupError::UnknownMemberId),
        }
    }

    /// A LeaveGroup: each member's result, and answers it caused.
    pub fn leave(
        &mut self,
        group: &str,
        members: &[Leaving],
        now: Instant,
    ) -> (Vec<Result<(), GroupError>>, Vec<Answer>) {
        match self.groups.get_mut(group) {
            Some(found) => found.leave(members, now),
            None => (
                members
                    .iter()
                    .map(|_| Err(GroupError::UnknownMemberId))
                    .collect(),
                Vec::new(),
            ),
        }
    }

    /// Moves time on: members whose sessions ended are removed, rebalances whose
    /// wait is over complete. Call it by `next_deadline`.
    pub fn expire(&mut self, now: Instant) -> Vec<Answer> {
        let mut answers = Vec::new();
        for group in self.groups.values_mut() {
            answers.extend(group.expire(now));
        }
        answers
    }

    /// When `expire` next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.groups.values().filter_map(Group::next_deadline).min()
    }

    /// An OffsetCommit: each offset's result; the accepted ones are returned to be
    /// written durably before the commit is answered.
    #[allow(clippy::type_complexity)]
    pub fn commit_offsets(
        &mut self,
        group: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        offsets: &[CommittedOffset],
        now: Instant,
    ) -> (Vec<Result<(), GroupError>>, Vec<OffsetCommitted>) {
        let refuse = |error| (offsets.iter().map(|_| Err(error)).collect(), Vec::new());
        // A group id must fit the stored record's key (a 16-bit length).
        if group.len() > i16::MAX as usize {
            return refuse(GroupError::InvalidGroupId);
        }
        let allowed = match self.groups.get_mut(group) {
            None if generation < 0 => {
                self.groups
                    .insert(group.to_owned(), Group::new(group.to_owned()));
                Ok(())
            }
            None => Err(GroupError::IllegalGeneration),
            Some(found) => found.may_commit(generation, member_id, instance_id, now),
        };
        if let Err(error) = allowed {
            return refuse(error);
        }
        let limit = self.settings.max_offset_metadata;
        let mut results = Vec::with_capacity(offsets.len());
        let mut committed = Vec::new();
        for offset in offsets {
            if offset
                .metadata
                .as_ref()
                .is_some_and(|text| text.len() > limit)
            {
                results.push(Err(GroupError::OffsetMetadataTooLarge));
                continue;
            }
            let record = OffsetCommitted {
                group: group.to_owned(),
                offset: offset.clone(),
            };
            self.offsets.apply(&record);
            committed.push(record);
            results.push(Ok(()));
        }
        (results, committed)
    }

    /// Replays a commit written earlier (on start).
    pub fn restore(&mut self, committed: &OffsetCommitted) {
        if !self.groups.contains_key(&committed.group) {
            self.groups
                .insert(committed.group.clone(), Group::new(committed.group.clone()));
        }
        self.offsets.apply(committed);
    }

    /// Replays a tombstone written earlier (on start): the group, topic and
    /// partition's offset was deleted with its group.
    pub fn forget(&mut self, group: &str, topic: &str, partition: i32) {
        self.offsets.remove(group, topic, partition);
    }

    /// An OffsetFetch: the committed offset of each partition asked for (every
    /// committed one when `partitions` is `None`).
    pub fn fetch_offsets(
        &self,
        group: &str,
        partitions: Option<&[(String, i32)]>,
    ) -> Vec<(String, i32, Option<CommittedOffset>)> {
        self.offsets.fetch(group, partitions)
    }

    /// ListGroups.
    pub fn list(&self) -> Vec<GroupOverview> {
        self.groups.values().map(Group::overview).collect()
    }

    /// DescribeGroups for one group (Dead when unknown, as Kafka answers).
    pub fn describe(&self, group: &str) -> GroupSummary {
        match self.groups.get(group) {
            Some(found) => found.summary(),
            None => GroupSummary {
                state: GroupState::Dead,
                protocol_type: String::new(),
                protocol_name: String::new(),
                members: Vec::new(),
            },
        }
    }

    /// DeleteGroups for one group: only an empty group can go, with its offsets.
    pub fn delete(&mut self, group: &str) -> Result<(), GroupError> {
        match self.groups.get(group) {
            None => Err(GroupError::GroupIdNotFound),
            Some(found) if found.state() != GroupState::Empty => Err(GroupError::NonEmptyGroup),
            Some(_) => {
                self.groups.remove(group);
                self.offsets.remove_group(group);
                Ok(())
            }
        }
    }
}
