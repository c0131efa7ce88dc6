//! The native door's consumer groups, on the coordinator every door shares
//! (`server::groups`): a native member joins the same groups as Kafka clients,
//! and the broker does for it what a Kafka consumer does for itself.
//!
//! JOIN_GROUP joins with Kafka's consumer protocol (the member's assignor named
//! as Kafka names it, its topics as a `ConsumerProtocolSubscription`); when the
//! coordinator answers, a leader's partition counts are read from the store and
//! the assignor runs here for every member (Kafka members' subscriptions
//! included), then the member syncs and gets its `ConsumerProtocolAssignment`,
//! decoded into the answer. Native members rejoin eagerly (they own nothing when
//! they join), so the cooperative assignor never has to withhold from them.
//! HEARTBEAT, LEAVE_GROUP and FETCH_OFFSETS are answered at once; COMMIT_OFFSETS
//! once its records are durable in the offsets topic.
//!
//! This file must never block, never hold the groups' lock across a call into
//! another door or the store, and never panic on what a client sends.

use super::NativeDoor;
use super::convert;
use super::stage::{Pending, Stage};
use crate::doors::native as wire;
use crate::groups::assignors::{
    Assignor, ConsumerAssignment, ConsumerSubscription, MemberSubscription,
};
use crate::groups::{Answer, GroupError, JoinAnswer, JoinRequest, Leaving, SyncRequest, Token};
use crate::server::groups::{OffsetsWrite, WriteStep, commit_records, lock};
use crate::store::{Reply, Request, Store, StoreError};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A JOIN_GROUP between its join and its assignment.
#[derive(Debug)]
pub struct Joining {
    pub join: wire::JoinGroup,
    /// The coordinator's join answer, once the member leads and its assignment
    /// is being computed.
    pub leading: Option<JoinAnswer>,
    /// The generation joined (once synced).
    pub generation: i32,
}

/// Whether the door serves this request with the group coordinator rather than
/// the store.
pub(super) fn is_group_command(body: &wire::RequestBody) -> bool {
    matches!(
        body,
        wire::RequestBody::JoinGroup(_)
            | wire::RequestBody::Heartbeat(_)
            | wire::RequestBody::LeaveGroup(_)
            | wire::RequestBody::CommitOffsets(_)
            | wire::RequestBody::FetchOffsets(_)
    )
}

/// The native error for a coordinator's.
fn error_code(error: GroupError) -> wire::ErrorCode {
    match error {
        GroupError::RebalanceInProgress => wire::ErrorCode::RebalanceInProgress,
        GroupError::UnknownMemberId | GroupError::MemberIdRequired => {
            wire::ErrorCode::UnknownMember
        }
        GroupError::IllegalGeneration => wire::ErrorCode::IllegalGeneration,
        GroupError::GroupMaxSizeReached => wire::ErrorCode::GroupFull,
        GroupError::FencedInstanceId => wire::ErrorCode::FencedInstance,
        GroupError::OffsetMetadataTooLarge => wire::ErrorCode::InvalidArgument,
        GroupError::InvalidGroupId
        | GroupError::InvalidSessionTimeout
        | GroupError::InconsistentGroupProtocol
        | GroupError::NonEmptyGroup
        | GroupError::GroupIdNotFound => wire::ErrorCode::InvalidGroup,
    }
}

fn refusal(command: wire::Command, code: wire::ErrorCode, message: String) -> wire::ResponseBody {
    convert::error(command.code(), code, [0, 0], message)
}

fn loading(command: wire::Command) -> wire::ResponseBody {
    refusal(
        command,
        wire::ErrorCode::GroupsLoading,
        "the broker is still loading committed offsets".to_owned(),
    )
}

fn group_error(command: wire::Command, error: GroupError) -> wire::ResponseBody {
    refusal(command, error_code(error), format!("{error:?}"))
}

impl NativeDoor {
    /// Serves a group command (see [`is_group_command`]).
    pub(super) fn group_request(
        &mut self,
        store: &Store,
        pending: Pending,
        body: wire::RequestBody,
        now: Instant,
    ) {
        match body {
            wire::RequestBody::JoinGroup(join) => self.join_group(pending, join, now),
            wire::RequestBody::Heartbeat(heartbeat) => {
                let result = {
                    let mut groups = lock(&self.groups);
                    groups.loaded.then(|| {
                        groups.coordinator.heartbeat(
                            &heartbeat.member.group,
                            heartbeat.generation,
                            &heartbeat.member.member_id,
                            heartbeat.member.instance_id.as_deref(),
                            now,
                        )
                    })
                };
                let body = match result {
                    None => loading(wire::Command::Heartbeat),
                    Some(Ok(())) => wire::ResponseBody::Heartbeat,
                    Some(Err(error)) => group_error(wire::Command::Heartbeat, error),
                };
                self.finish(pending, Some(body));
            }
            wire::RequestBody::LeaveGroup(member) => {
                let result = {
                    let mut groups = lock(&self.groups);
                    groups.loaded.then(|| {
                        let leaving = [Leaving {
                            member_id: member.member_id.clone(),
                            instance_id: member.instance_id.clone(),
                        }];
                        let (results, answers) =
                            groups.coordinator.leave(&member.group, &leaving, now);
                        groups.answers.extend(answers);
                        results.into_iter().next().unwrap_or(Ok(()))
                    })
                };
                let body = match result {
                    None => loading(wire::Command::LeaveGroup),
                    Some(Ok(())) => wire::ResponseBody::LeaveGroup,
                    Some(Err(error)) => group_error(wire::Command::LeaveGroup, error),
                };
                self.finish(pending, Some(body));
            }
            wire::RequestBody::CommitOffsets(commit) => {
                self.commit_offsets(store, pending, commit, now)
            }
            wire::RequestBody::FetchOffsets(fetch) => {
                let found = {
                    let groups = lock(&self.groups);
                    groups.loaded.then(|| {
                        groups
                            .coordinator
                            .fetch_offsets(&fetch.group, None)
                            .into_iter()
                            .filter(|(topic, _, _)| topic == fetch.topic.as_str())
                            .filter_map(|(_, partition, offset)| {
                                let partition = u32::try_from(partition).ok()?;
                                let offset = u64::try_from(offset?.offset).ok()?;
                                Some((partition, offset))
                            })
                            .collect::<Vec<_>>()
                    })
                };
                let body = match found {
                    None => loading(wire::Command::FetchOffsets),
                    Some(offsets) => wire::ResponseBody::FetchOffsets(offsets),
                };
                self.finish(pending, Some(body));
            }
            other => {
                debug_assert!(false, "{:?} is not a group command", other.command());
                let body = refusal(
                    other.command(),
                    wire::ErrorCode::UnknownCommand,
                    "not a group command".to_owned(),
                );
                self.finish(pending, Some(body));
            }
        }
    }

    fn join_group(&mut self, pending: Pending, join: wire::JoinGroup, now: Instant) {
        let subscription = ConsumerSubscription {
            version: 1,
            topics: join
                .topics
                .iter()
                .map(|topic| topic.as_str().to_owned())
                .collect(),
            ..ConsumerSubscription::default()
        };
        let metadata = match subscription.encode() {
            Ok(metadata) => metadata,
            Err(error) => {
                let body = refusal(
                    wire::Command::JoinGroup,
                    wire::ErrorCode::InvalidArgument,
                    error.to_string(),
                );
                return self.finish(pending, Some(body));
            }
        };
        let token = {
            let mut groups = lock(&self.groups);
            if !groups.loaded {
                drop(groups);
                return self.finish(pending, Some(loading(wire::Command::JoinGroup)));
            }
            let token = groups.token();
            let request = JoinRequest {
                group: join.member.group.clone(),
                member_id: join.member.member_id.clone(),
                instance_id: join.member.instance_id.clone(),
                client_id: "sinew-native".to_owned(),
                client_host: String::from_utf8_lossy(&pending.routing).into_owned(),
                session_timeout: Duration::from_millis(u64::from(join.session_timeout_ms)),
                rebalance_timeout: Duration::from_millis(u64::from(join.rebalance_timeout_ms)),
                protocol_type: "consumer".to_owned(),
                protocols: vec![(join.assignor.name().to_owned(), metadata)],
                require_known_member_id: false,
            };
            let answers = groups.coordinator.join(token, request, now);
            groups.answers.extend(answers);
            token
        };
        self.joins.insert(
            token,
            (
                pending,
                Joining {
                    join,
                    leading: None,
                    generation: -1,
                },
            ),
        );
    }

    fn commit_offsets(
        &mut self,
        store: &Store,
        pending: Pending,
        commit: wire::CommitOffsets,
        now: Instant,
    ) {
        let offsets: Vec<crate::groups::CommittedOffset> = commit
            .offsets
            .iter()
            .map(|(partition, offset)| crate::groups::CommittedOffset {
                topic: commit.topic.as_str().to_owned(),
                partition: i32::try_from(*partition).unwrap_or(i32::MAX),
                offset: i64::try_from(*offset).unwrap_or(i64::MAX),
                leader_epoch: -1,
                metadata: None,
            })
            .collect();
        let outcome = {
            let mut groups = lock(&self.groups);
            groups.loaded.then(|| {
                groups.coordinator.commit_offsets(
                    &commit.member.group,
                    commit.generation,
                    &commit.member.member_id,
                    commit.member.instance_id.as_deref(),
                    &offsets,
                    now,
                )
            })
        };
        let Some((results, committed)) = outcome else {
            return self.finish(pending, Some(loading(wire::Command::CommitOffsets)));
        };
        if let Some(Err(error)) = results.into_iter().find(Result::is_err) {
            return self.finish(
                pending,
                Some(group_error(wire::Command::CommitOffsets, error)),
            );
        }
        let (write, request) = OffsetsWrite::start(commit_records(&committed, wall_ms()));
        let mut pending = pending;
        pending.stage = Stage::GroupWrite(write);
        self.submit(store, pending, request);
    }

    /// A COMMIT_OFFSETS write's store reply: write on, or answer.
    pub(super) fn on_group_write(
        &mut self,
        store: &Store,
        mut pending: Pending,
        mut write: OffsetsWrite,
        result: Result<Reply, StoreError>,
    ) {
        match write.on_reply(result) {
            WriteStep::Store(request) => {
                pending.stage = Stage::GroupWrite(write);
                self.submit(store, pending, request);
            }
            WriteStep::Done(Ok(())) => {
                self.finish(pending, Some(wire::ResponseBody::CommitOffsets))
            }
            WriteStep::Done(Err(error)) => {
                let body = convert::store_error(wire::Command::CommitOffsets.code(), &error);
                self.finish(pending, Some(body));
            }
        }
    }

    /// Takes the coordinator's answers for this door's joins and carries each
    /// on: a leader reads its partition counts, a member syncs, a synced member
    /// gets its partitions.
    pub fn deliver_groups(&mut self, store: &Store, now: Instant) {
        if self.joins.is_empty() {
            return;
        }
        let joins = &self.joins;
        let answers = lock(&self.groups).take_answers(|token| joins.contains_key(&token));
        for answer in answers {
            let token = answer.token();
            let Some((pending, joining)) = self.joins.remove(&token) else {
                continue;
            };
            match answer {
                Answer::Join(_, answer) => {
                    self.on_join_answer(store, pending, joining, answer, now)
                }
                Answer::Sync(_, answer) => {
                    let body = match answer.error {
                        Some(error) => group_error(wire::Command::JoinGroup, error),
                        None => assignment_answer(&joining, answer.assignment),
                    };
                    self.finish(pending, Some(body));
                }
            }
        }
    }

    fn on_join_answer(
        &mut self,
        store: &Store,
        mut pending: Pending,
        mut joining: Joining,
        answer: JoinAnswer,
        now: Instant,
    ) {
        if let Some(error) = answer.error {
            return self.finish(pending, Some(group_error(wire::Command::JoinGroup, error)));
        }
        joining.join.member.member_id = answer.member_id.clone();
        if answer.leader == answer.member_id {
            // The leader assigns for everyone: it needs every subscribed
            // topic's partition count first.
            let mut topics: Vec<String> = answer
                .members
                .iter()
                .filter_map(|member| ConsumerSubscription::decode(member.metadata.clone()).ok())
                .flat_map(|subscription| subscription.topics)
                .collect();
            topics.sort();
            topics.dedup();
            joining.leading = Some(answer);
            pending.stage = Stage::GroupAssign(Box::new(joining));
            let request = Request::DescribeTopics {
                topics: Some(topics),
            };
            return self.submit(store, pending, request);
        }
        self.sync(pending, joining, answer.generation, Vec::new(), now);
    }

    /// The leader's partition counts arrived: assign, and sync with the result.
    pub(super) fn on_group_assign(
        &mut self,
        pending: Pending,
        mut joining: Joining,
        result: Result<Reply, StoreError>,
        now: Instant,
    ) {
        let Some(answer) = joining.leading.take() else {
            return;
        };
        let counts: BTreeMap<String, i32> = match result {
            Ok(Reply::Descriptions(descriptions)) => descriptions
                .into_iter()
                .filter_map(|(name, found)| {
                    let partitions = found?.config.partitions;
                    Some((name, i32::try_from(partitions).ok()?))
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        let members: Vec<MemberSubscription> = answer
            .members
            .iter()
            .map(|member| {
                let subscription =
                    ConsumerSubscription::decode(member.metadata.clone()).unwrap_or_default();
                MemberSubscription::from_consumer(
                    &member.member_id,
                    member.instance_id.as_deref(),
                    &subscription,
                )
            })
            .collect();
        let assignor = answer
            .protocol_name
            .as_deref()
            .and_then(Assignor::from_name)
            .unwrap_or(Assignor::Range);
        let decided = assignor.assign(&members, &counts);
        let assignments = decided
            .members
            .into_iter()
            .filter_map(|(member_id, partitions)| {
                let assignment = ConsumerAssignment {
                    version: 0,
                    assigned_partitions: partitions,
                    user_data: None,
                };
                Some((member_id, assignment.encode().ok()?))
            })
            .collect();
        self.sync(pending, joining, answer.generation, assignments, now);
    }

    fn sync(
        &mut self,
        pending: Pending,
        mut joining: Joining,
        generation: i32,
        assignments: Vec<(String, bytes::Bytes)>,
        now: Instant,
    ) {
        let token: Token = {
            let mut groups = lock(&self.groups);
            let token = groups.token();
            let request = SyncRequest {
                group: joining.join.member.group.clone(),
                generation,
                member_id: joining.join.member.member_id.clone(),
                instance_id: joining.join.member.instance_id.clone(),
                assignments,
            };
            let answers = groups.coordinator.sync(token, request, now);
            groups.answers.extend(answers);
            token
        };
        joining.generation = generation;
        self.joins.insert(token, (pending, joining));
    }
}

/// JOIN_GROUP's answer from the member's assignment bytes.
fn assignment_answer(joining: &Joining, assignment: bytes::Bytes) -> wire::ResponseBody {
    let decoded = if assignment.is_empty() {
        Ok(ConsumerAssignment::default())
    } else {
        ConsumerAssignment::decode(assignment)
    };
    let partitions = match decoded {
        Ok(decoded) => decoded
            .assigned_partitions
            .into_iter()
            .filter_map(|topic| {
                let name = wire::TopicName::new(bytes::Bytes::from(topic.topic)).ok()?;
                let partitions = topic
                    .partitions
                    .into_iter()
                    .filter_map(|partition| u32::try_from(partition).ok())
                    .collect();
                Some((name, partitions))
            })
            .collect(),
        Err(error) => {
            return refusal(
                wire::Command::JoinGroup,
                wire::ErrorCode::InvalidGroup,
                format!("the group's assignment does not decode: {error}"),
            );
        }
    };
    wire::ResponseBody::JoinGroup(wire::GroupAssignment {
        generation: joining.generation,
        member_id: joining.join.member.member_id.clone(),
        partitions,
    })
}

/// Milliseconds since the Unix epoch, for committed offsets' records.
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
