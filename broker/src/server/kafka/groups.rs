//! The consumer-group APIs on the broker's coordinator (`crate::groups`):
//! JoinGroup and SyncGroup wait for the coordinator's answer under a token;
//! Heartbeat, LeaveGroup, OffsetFetch, ListGroups and DescribeGroups are
//! answered at once; OffsetCommit and DeleteGroups are answered once their
//! records (commits, or tombstones for a deleted group's offsets) are durable in
//! `__consumer_offsets` (`server::groups`). Until the server has replayed that
//! topic, every group request is answered COORDINATOR_LOAD_IN_PROGRESS, which
//! clients retry.
//!
//! Sans-IO, like `work.rs`: this file must never touch a socket or the store,
//! never read the clock, and never panic on a request.

use super::work::{Context, Outcome, Step, Work, failure};
use crate::doors::kafka::{
    DeletableGroupResult, DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest,
    DescribeGroupsResponse, DescribedGroup, DescribedGroupMember, ErrorCode, HeartbeatRequest,
    HeartbeatResponse, JoinGroupMember, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupMemberResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, ListedGroup, OffsetCommitPartitionResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetCommitTopicResponse, OffsetFetchGroupResponse,
    OffsetFetchPartitionResponse, OffsetFetchRequest, OffsetFetchResponse,
    OffsetFetchTopicResponse, ResponseBody, SyncGroupRequest, SyncGroupResponse,
};
use crate::groups::{
    CommittedOffset, GroupError, JoinAnswer, JoinRequest, Leaving, SyncAnswer, SyncRequest,
};
use crate::server::groups::{OffsetsWrite, WriteStep, commit_records, tombstones};
use crate::store::ProduceRecord;
use std::time::Duration;

/// A group request in progress.
#[derive(Debug)]
pub(super) enum GroupWork {
    /// A JoinGroup waiting for its answer: the member id it sent.
    Join(String),
    /// A SyncGroup waiting for its answer.
    Sync,
    /// An OffsetCommit or DeleteGroups writing its records.
    Write(WriteWork),
}

/// Kafka's code for a coordinator error.
fn code(error: GroupError) -> ErrorCode {
    ErrorCode::from_number(error.code()).unwrap_or(ErrorCode::UnknownServerError)
}

fn outcome(result: Result<(), GroupError>) -> ErrorCode {
    result.map_or_else(code, |()| ErrorCode::None)
}

fn duration(ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

pub(super) fn join(
    request: JoinGroupRequest,
    version: i16,
    client: (&str, &str),
    cx: &mut Context<'_>,
) -> (Option<Work>, Step) {
    if !cx.groups.loaded {
        let answer = JoinAnswer::error(&request.member_id, GroupError::RebalanceInProgress);
        return (
            None,
            Step::Answer(join_response(answer, ErrorCode::CoordinatorLoadInProgress)),
        );
    }
    let token = cx.groups.token();
    let join = JoinRequest {
        group: request.group_id,
        member_id: request.member_id,
        instance_id: request.group_instance_id,
        client_id: client.0.to_owned(),
        client_host: client.1.to_owned(),
        session_timeout: duration(request.session_timeout_ms),
        rebalance_timeout: duration(request.rebalance_timeout_ms),
        protocol_type: request.protocol_type,
        protocols: request
            .protocols
            .into_iter()
            .map(|protocol| (protocol.name, protocol.metadata))
            .collect(),
        require_known_member_id: version >= 4,
    };
    let member_id = join.member_id.clone();
    let answers = cx.groups.coordinator.join(token, join, cx.now);
    cx.groups.answers.extend(answers);
    (
        Some(Work::Group(GroupWork::Join(member_id))),
        Step::Wait(token),
    )
}

pub(super) fn sync(request: SyncGroupRequest, cx: &mut Context<'_>) -> (Option<Work>, Step) {
    if !cx.groups.loaded {
        return (
            None,
            Step::Answer(sync_response(
                SyncAnswer::error(GroupError::RebalanceInProgress),
                ErrorCode::CoordinatorLoadInProgress,
            )),
        );
    }
    let token = cx.groups.token();
    let sync = SyncRequest {
        group: request.group_id,
        generation: request.generation_id,
        member_id: request.member_id,
        instance_id: request.group_instance_id,
        assignments: request
            .assignments
            .into_iter()
            .map(|assignment| (assignment.member_id, assignment.assignment))
            .collect(),
    };
    let answers = cx.groups.coordinator.sync(token, sync, cx.now);
    cx.groups.answers.extend(answers);
    (Some(Work::Group(GroupWork::Sync)), Step::Wait(token))
}

/// The JoinGroup response for a coordinator's answer (`load` overrides its
/// error while offsets load).
pub(super) fn join_response(answer: JoinAnswer, load: ErrorCode) -> ResponseBody {
    let error_code = match answer.error {
        _ if load != ErrorCode::None => load,
        Some(error) => code(error),
        None => ErrorCode::None,
    };
    ResponseBody::JoinGroup(JoinGroupResponse {
        throttle_time_ms: 0,
        error_code,
        generation_id: answer.generation,
        protocol_name: answer.protocol_name.unwrap_or_default(),
        leader: answer.leader,
        member_id: answer.member_id,
        members: answer
            .members
            .into_iter()
            .map(|member| JoinGroupMember {
                member_id: member.member_id,
                group_instance_id: member.instance_id,
                metadata: member.metadata,
            })
            .collect(),
    })
}

/// The SyncGroup response for a coordinator's answer.
pub(super) fn sync_response(answer: SyncAnswer, load: ErrorCode) -> ResponseBody {
    let error_code = match answer.error {
        _ if load != ErrorCode::None => load,
        Some(error) => code(error),
        None => ErrorCode::None,
    };
    ResponseBody::SyncGroup(SyncGroupResponse {
        throttle_time_ms: 0,
        error_code,
        assignment: answer.assignment,
    })
}

pub(super) fn heartbeat(request: HeartbeatRequest, cx: &mut Context<'_>) -> Step {
    let error_code = if cx.groups.loaded {
        outcome(cx.groups.coordinator.heartbeat(
            &request.group_id,
            request.generation_id,
            &request.member_id,
            request.group_instance_id.as_deref(),
            cx.now,
        ))
    } else {
        ErrorCode::CoordinatorLoadInProgress
    };
    Step::Answer(ResponseBody::Heartbeat(HeartbeatResponse {
        throttle_time_ms: 0,
        error_code,
    }))
}

pub(super) fn leave(request: LeaveGroupRequest, cx: &mut Context<'_>) -> Step {
    if !cx.groups.loaded {
        return Step::Answer(ResponseBody::LeaveGroup(LeaveGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::CoordinatorLoadInProgress,
            members: Vec::new(),
        }));
    }
    let leaving: Vec<Leaving> = request
        .members
        .iter()
        .map(|member| Leaving {
            member_id: member.member_id.clone(),
            instance_id: member.group_instance_id.clone(),
        })
        .collect();
    let (results, answers) = cx
        .groups
        .coordinator
        .leave(&request.group_id, &leaving, cx.now);
    cx.groups.answers.extend(answers);
    let members: Vec<LeaveGroupMemberResponse> = request
        .members
        .into_iter()
        .zip(results)
        .map(|(member, result)| LeaveGroupMemberResponse {
            member_id: member.member_id,
            group_instance_id: member.group_instance_id,
            error_code: outcome(result),
        })
        .collect();
    // One member (v0 to v2): its error is the response's.
    let error_code = match members.as_slice() {
        [only] => only.error_code,
        _ => ErrorCode::None,
    };
    Step::Answer(ResponseBody::LeaveGroup(LeaveGroupResponse {
        throttle_time_ms: 0,
        error_code,
        members,
    }))
}

/// An OffsetCommit or DeleteGroups whose records are being written: the answer
/// it will give, and the write.
#[derive(Debug)]
pub(super) struct WriteWork {
    answer: Written,
    write: OffsetsWrite,
}

/// What a write answers.
#[derive(Debug)]
enum Written {
    /// Per topic, per partition, the coordinator's result.
    Commit(Vec<(String, Vec<(i32, ErrorCode)>)>),
    /// Per group, its result.
    Delete(Vec<(String, ErrorCode)>),
}

impl WriteWork {
    fn start(answer: Written, records: Vec<ProduceRecord>) -> (Option<Work>, Step) {
        if records.is_empty() {
            return (None, Step::Answer(answer.answer(ErrorCode::None)));
        }
        let (write, request) = OffsetsWrite::start(records);
        let work = WriteWork { answer, write };
        (
            Some(Work::Group(GroupWork::Write(work))),
            Step::Store(vec![request]),
        )
    }

    fn advance(&mut self, replies: Vec<Outcome>) -> Step {
        let reply = replies
            .into_iter()
            .next()
            .unwrap_or(Err(crate::store::StoreError::Stopped));
        match self.write.on_reply(reply) {
            WriteStep::Store(request) => Step::Store(vec![request]),
            WriteStep::Done(Ok(())) => Step::Answer(self.answer.answer(ErrorCode::None)),
            WriteStep::Done(Err(error)) => Step::Answer(self.answer.answer(failure(&Err(error)))),
        }
    }
}

impl Written {
    /// The answer, with `failed` in place of every success if the write failed.
    fn answer(&self, failed: ErrorCode) -> ResponseBody {
        let result = |code: ErrorCode| match (code, failed) {
            (ErrorCode::None, failed) => failed,
            (code, _) => code,
        };
        match self {
            Written::Commit(topics) => ResponseBody::OffsetCommit(OffsetCommitResponse {
                throttle_time_ms: 0,
                topics: topics
                    .iter()
                    .map(|(name, partitions)| OffsetCommitTopicResponse {
                        name: name.clone(),
                        partitions: partitions
                            .iter()
                            .map(|(partition, code)| OffsetCommitPartitionResponse {
                                partition_index: *partition,
                                error_code: result(*code),
                            })
                            .collect(),
                    })
                    .collect(),
            }),
            Written::Delete(groups) => ResponseBody::DeleteGroups(DeleteGroupsResponse {
                throttle_time_ms: 0,
                results: groups
                    .iter()
                    .map(|(group, code)| DeletableGroupResult {
                        group_id: group.clone(),
                        error_code: result(*code),
                    })
                    .collect(),
            }),
        }
    }
}

pub(super) fn commit(request: OffsetCommitRequest, cx: &mut Context<'_>) -> (Option<Work>, Step) {
    let offsets: Vec<CommittedOffset> = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|partition| CommittedOffset {
                topic: topic.name.clone(),
                partition: partition.partition_index,
                offset: partition.committed_offset,
                leader_epoch: partition.committed_leader_epoch,
                metadata: partition.committed_metadata.clone(),
            })
        })
        .collect();
    let (mut results, committed) = if cx.groups.loaded {
        let (results, committed) = cx.groups.coordinator.commit_offsets(
            &request.group_id,
            request.generation_id_or_member_epoch,
            &request.member_id,
            request.group_instance_id.as_deref(),
            &offsets,
            cx.now,
        );
        (
            results.into_iter().map(outcome).collect::<Vec<_>>(),
            committed,
        )
    } else {
        (
            vec![ErrorCode::CoordinatorLoadInProgress; offsets.len()],
            Vec::new(),
        )
    };
    results.reverse();
    let answer = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|partition| {
                    (
                        partition.partition_index,
                        results.pop().unwrap_or(ErrorCode::UnknownServerError),
                    )
                })
                .collect();
            (topic.name, partitions)
        })
        .collect();
    let records = commit_records(&committed, cx.wall_ms);
    WriteWork::start(Written::Commit(answer), records)
}

pub(super) fn fetch_offsets(request: OffsetFetchRequest, cx: &mut Context<'_>) -> Step {
    let groups = request
        .groups
        .into_iter()
        .map(|group| {
            if !cx.groups.loaded {
                return OffsetFetchGroupResponse {
                    group_id: group.group_id,
                    topics: Vec::new(),
                    error_code: ErrorCode::CoordinatorLoadInProgress,
                };
            }
            let asked: Option<Vec<(String, i32)>> = group.topics.as_ref().map(|topics| {
                topics
                    .iter()
                    .flat_map(|topic| {
                        topic
                            .partition_indexes
                            .iter()
                            .map(|partition| (topic.name.clone(), *partition))
                    })
                    .collect()
            });
            let found = cx
                .groups
                .coordinator
                .fetch_offsets(&group.group_id, asked.as_deref());
            let mut topics: Vec<OffsetFetchTopicResponse> = Vec::new();
            for (topic, partition, offset) in found {
                let partition = OffsetFetchPartitionResponse {
                    partition_index: partition,
                    committed_offset: offset.as_ref().map_or(-1, |offset| offset.offset),
                    committed_leader_epoch: offset
                        .as_ref()
                        .map_or(-1, |offset| offset.leader_epoch),
                    metadata: Some(
                        offset
                            .and_then(|offset| offset.metadata)
                            .unwrap_or_default(),
                    ),
                    error_code: ErrorCode::None,
                };
                match topics.last_mut() {
                    Some(last) if last.name == topic => last.partitions.push(partition),
                    _ => topics.push(OffsetFetchTopicResponse {
                        name: topic,
                        partitions: vec![partition],
                    }),
                }
            }
            OffsetFetchGroupResponse {
                group_id: group.group_id,
                topics,
                error_code: ErrorCode::None,
            }
        })
        .collect();
    Step::Answer(ResponseBody::OffsetFetch(OffsetFetchResponse {
        throttle_time_ms: 0,
        groups,
    }))
}

pub(super) fn list(request: ListGroupsRequest, cx: &mut Context<'_>) -> Step {
    let groups = cx
        .groups
        .coordinator
        .list()
        .into_iter()
        .filter(|group| {
            request.states_filter.is_empty()
                || request
                    .states_filter
                    .iter()
                    .any(|state| state.eq_ignore_ascii_case(group.state.name()))
        })
        // Every group here is a classic one (KIP-848's are not spoken).
        .filter(|_| {
            request.types_filter.is_empty()
                || request
                    .types_filter
                    .iter()
                    .any(|kind| kind.eq_ignore_ascii_case("classic"))
        })
        .map(|group| ListedGroup {
            group_id: group.group,
            protocol_type: group.protocol_type,
            group_state: group.state.name().to_owned(),
            group_type: "classic".to_owned(),
        })
        .collect();
    Step::Answer(ResponseBody::ListGroups(ListGroupsResponse {
        throttle_time_ms: 0,
        error_code: if cx.groups.loaded {
            ErrorCode::None
        } else {
            ErrorCode::CoordinatorLoadInProgress
        },
        groups,
    }))
}

pub(super) fn describe(request: DescribeGroupsRequest, cx: &mut Context<'_>) -> Step {
    let include_operations = request.include_authorized_operations;
    let groups = request
        .groups
        .into_iter()
        .map(|group| {
            let summary = cx.groups.coordinator.describe(&group);
            DescribedGroup {
                error_code: if cx.groups.loaded {
                    ErrorCode::None
                } else {
                    ErrorCode::CoordinatorLoadInProgress
                },
                group_id: group,
                group_state: summary.state.name().to_owned(),
                protocol_type: summary.protocol_type,
                protocol_data: summary.protocol_name,
                members: summary
                    .members
                    .into_iter()
                    .map(|member| DescribedGroupMember {
                        member_id: member.member_id,
                        group_instance_id: member.instance_id,
                        client_id: member.client_id,
                        client_host: member.client_host,
                        member_metadata: member.metadata,
                        member_assignment: member.assignment,
                    })
                    .collect(),
                authorized_operations: match include_operations {
                    true => super::work::GROUP_OPERATIONS,
                    false => crate::doors::kafka::AUTHORIZED_OPERATIONS_OMITTED,
                },
            }
        })
        .collect();
    Step::Answer(ResponseBody::DescribeGroups(DescribeGroupsResponse {
        throttle_time_ms: 0,
        groups,
    }))
}

pub(super) fn delete(request: DeleteGroupsRequest, cx: &mut Context<'_>) -> (Option<Work>, Step) {
    let mut records = Vec::new();
    let results = request
        .group_names
        .into_iter()
        .map(|group| {
            if !cx.groups.loaded {
                return (group, ErrorCode::CoordinatorLoadInProgress);
            }
            let partitions: Vec<(String, i32)> = cx
                .groups
                .coordinator
                .fetch_offsets(&group, None)
                .into_iter()
                .map(|(topic, partition, _)| (topic, partition))
                .collect();
            let result = outcome(cx.groups.coordinator.delete(&group));
            if result == ErrorCode::None {
                records.extend(tombstones(&group, &partitions, cx.wall_ms));
            }
            (group, result)
        })
        .collect();
    WriteWork::start(Written::Delete(results), records)
}

impl GroupWork {
    /// The answer for a request waiting for the coordinator when the broker
    /// stops: NOT_COORDINATOR, so the client looks for its coordinator again.
    pub(super) fn abandoned(&self) -> Option<ResponseBody> {
        match self {
            GroupWork::Join(member_id) => Some(join_response(
                JoinAnswer::error(member_id, GroupError::RebalanceInProgress),
                ErrorCode::NotCoordinator,
            )),
            GroupWork::Sync => Some(sync_response(
                SyncAnswer::error(GroupError::RebalanceInProgress),
                ErrorCode::NotCoordinator,
            )),
            _ => None,
        }
    }

    pub(super) fn advance(&mut self, replies: Vec<Outcome>) -> Step {
        match self {
            GroupWork::Join(_) | GroupWork::Sync => Step::Silent,
            GroupWork::Write(work) => work.advance(replies),
        }
    }
}
