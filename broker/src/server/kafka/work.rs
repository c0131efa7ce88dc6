//! What a Kafka request asks of the store and how its answer is put together:
//! each request becomes [`Work`] and a first [`Step`] (an answer at once, store
//! requests to send, or nothing for a Produce with acks 0); when every store
//! request of a step has its reply, the work takes them and says the next step.
//! A Fetch may also ask to wait for data ([`Step::Park`]).
//!
//! Sans-IO: values in, values out, the time passed in. This file (and the ones
//! beside it for each API) must never touch a socket or the store, never read the
//! clock, and never panic on what a client sent.

use super::admin::{
    self, CreatePartitionsWork, DeleteRecordsWork, DescribeConfigsWork, LeaderEpochWork,
};
use super::errors;
use super::fetch::FetchWork;
use super::groups::{self, GroupWork};
use super::metadata::MetadataWork;
use super::produce::ProduceWork;
use super::topics::{CreateTopicsWork, DeleteTopicsWork, ListOffsetsWork};
use crate::doors::kafka::{
    ApiVersionsResponse, ErrorCode, FindCoordinatorResponse, InitProducerIdResponse,
    KEY_TYPE_GROUP, RequestBody, ResponseBody,
};
use crate::groups::Token;
use crate::server::groups::Groups;
use crate::store::{Reply, Request, StoreError};
use std::time::Instant;

/// The node id this broker gives itself in Metadata and FindCoordinator.
pub(super) const NODE_ID: i32 = 1;

/// Kafka's ACL operation numbers (`AclOperation`), as bits of an authorized
/// operations set.
const fn operations(codes: &[u8]) -> i32 {
    let mut bits = 0;
    let mut index = 0;
    while index < codes.len() {
        bits |= 1 << codes[index];
        index += 1;
    }
    bits
}

/// What a client may do to a topic when the broker has no authorizer: every
/// topic operation (READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
/// DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11), as Kafka answers without one.
pub(super) const TOPIC_OPERATIONS: i32 = operations(&[3, 4, 5, 6, 7, 8, 10, 11]);
/// Every group operation: READ 3, DELETE 6, DESCRIBE 8.
pub(super) const GROUP_OPERATIONS: i32 = operations(&[3, 6, 8]);
/// Every cluster operation: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
/// DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
pub(super) const CLUSTER_OPERATIONS: i32 = operations(&[5, 7, 8, 9, 10, 11, 12]);

/// What every request may need to know about the broker.
#[derive(Debug, Clone)]
pub(crate) struct DoorSettings {
    /// The host clients are told to connect to.
    pub host: String,
    /// The port clients are told to connect to.
    pub port: i32,
    /// Metadata creates the topics it is asked about (Kafka's
    /// `auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of a topic created without a count (Kafka's `num.partitions`).
    pub default_partitions: u32,
    /// What Metadata calls the cluster.
    pub cluster_id: String,
}

/// What a request's work may use and change: the broker's settings, its
/// consumer groups, and the time.
pub(super) struct Context<'a> {
    pub settings: &'a DoorSettings,
    pub groups: &'a mut Groups,
    pub now: Instant,
    /// Milliseconds since the Unix epoch, for the timestamps of records the
    /// door writes itself (committed offsets).
    pub wall_ms: i64,
    /// The broker is shutting down: nothing waits any more.
    pub stopping: bool,
}

/// Who sent a request: its client id and `/address` (as Kafka shows hosts).
pub(super) struct Client<'a> {
    pub id: &'a str,
    pub host: &'a str,
}

/// What happens next for a request.
#[derive(Debug)]
pub(super) enum Step {
    /// Send this answer.
    Answer(ResponseBody),
    /// Send nothing (a Produce with acks 0, once its records are in).
    Silent,
    /// Send these store requests; their replies come back to the work, in order.
    Store(Vec<Request>),
    /// Wait for new data in the fetched partitions, or the fetch's deadline.
    Park,
    /// Wait for the group coordinator's answer for this token.
    Wait(Token),
}

/// A request in progress.
#[derive(Debug)]
pub(super) enum Work {
    Produce(ProduceWork),
    Fetch(FetchWork),
    Metadata(MetadataWork),
    ListOffsets(ListOffsetsWork),
    CreateTopics(CreateTopicsWork),
    DeleteTopics(DeleteTopicsWork),
    InitProducerId,
    Group(GroupWork),
    CreatePartitions(CreatePartitionsWork),
    DescribeConfigs(DescribeConfigsWork),
    LeaderEpoch(LeaderEpochWork),
    DeleteRecords(DeleteRecordsWork),
    /// Answered at once: nothing to carry on.
    Done,
}

/// A reply of the store, or why there is none.
pub(super) type Outcome = Result<Reply, StoreError>;

/// Starts a request: its work (if it needs the store) and its first step.
pub(super) fn start(
    body: RequestBody,
    version: i16,
    client: &Client<'_>,
    cx: &mut Context<'_>,
) -> (Option<Work>, Step) {
    let settings = cx.settings;
    let now = cx.now;
    match body {
        RequestBody::ApiVersions(_) => (
            None,
            Step::Answer(ResponseBody::ApiVersions(ApiVersionsResponse::supported())),
        ),
        RequestBody::FindCoordinator(request) => {
            let group = request.key_type == KEY_TYPE_GROUP;
            let response = FindCoordinatorResponse {
                throttle_time_ms: 0,
                error_code: if group {
                    ErrorCode::None
                } else {
                    ErrorCode::CoordinatorNotAvailable
                },
                error_message: (!group)
                    .then(|| "this broker has no transaction coordinator".to_owned()),
                node_id: if group { NODE_ID } else { -1 },
                host: if group {
                    settings.host.clone()
                } else {
                    String::new()
                },
                port: if group { settings.port } else { -1 },
            };
            (None, Step::Answer(ResponseBody::FindCoordinator(response)))
        }
        RequestBody::InitProducerId(request) => {
            if request.transactional_id.is_some() {
                let refused =
                    producer_id_answer(Err(ErrorCode::TransactionalIdAuthorizationFailed));
                return (None, Step::Answer(refused));
            }
            let existing =
                (request.producer_id >= 0).then_some((request.producer_id, request.producer_epoch));
            (
                Some(Work::InitProducerId),
                Step::Store(vec![Request::InitProducerId { existing }]),
            )
        }
        RequestBody::Produce(request) => {
            let (work, step) = ProduceWork::start(request);
            (Some(Work::Produce(work)), step)
        }
        RequestBody::Fetch(request) => {
            let (work, step) = FetchWork::start(request, version, now);
            (Some(Work::Fetch(work)), step)
        }
        RequestBody::Metadata(request) => {
            let (work, step) = MetadataWork::start(request, version, settings);
            (work.map(Work::Metadata), step)
        }
        RequestBody::ListOffsets(request) => {
            let (work, step) = ListOffsetsWork::start(request);
            (Some(Work::ListOffsets(work)), step)
        }
        RequestBody::CreateTopics(request) => {
            let (work, step) = CreateTopicsWork::start(request, settings);
            (Some(Work::CreateTopics(work)), step)
        }
        RequestBody::DeleteTopics(request) => {
            let (work, step) = DeleteTopicsWork::start(request);
            (Some(Work::DeleteTopics(work)), step)
        }
        RequestBody::JoinGroup(request) => {
            groups::join(request, version, (client.id, client.host), cx)
        }
        RequestBody::SyncGroup(request) => groups::sync(request, cx),
        RequestBody::Heartbeat(request) => (None, groups::heartbeat(request, cx)),
        RequestBody::LeaveGroup(request) => (None, groups::leave(request, cx)),
        RequestBody::OffsetCommit(request) => groups::commit(request, cx),
        RequestBody::OffsetFetch(request) => (None, groups::fetch_offsets(request, cx)),
        RequestBody::ListGroups(request) => (None, groups::list(request, cx)),
        RequestBody::DescribeGroups(request) => (None, groups::describe(request, cx)),
        RequestBody::DeleteGroups(request) => groups::delete(request, cx),
        RequestBody::CreatePartitions(request) => {
            let (work, step) = CreatePartitionsWork::start(request);
            (Some(Work::CreatePartitions(work)), step)
        }
        RequestBody::DescribeConfigs(request) => {
            let (work, step) = DescribeConfigsWork::start(request);
            (Some(Work::DescribeConfigs(work)), step)
        }
        RequestBody::DescribeCluster(request) => {
            (None, admin::describe_cluster(&request, settings))
        }
        RequestBody::OffsetForLeaderEpoch(request) => {
            let (work, step) = LeaderEpochWork::start(request);
            (Some(Work::LeaderEpoch(work)), step)
        }
        RequestBody::DeleteRecords(request) => {
            let (work, step) = DeleteRecordsWork::start(request);
            (Some(Work::DeleteRecords(work)), step)
        }
    }
}

impl Work {
    /// The replies to the last step's store requests, in order: the next step.
    /// `stopping`: the broker is shutting down, so nothing waits any more.
    pub(super) fn advance(&mut self, replies: Vec<Outcome>, cx: &mut Context<'_>) -> Step {
        match self {
            Work::Produce(work) => work.answer(replies),
            Work::Fetch(work) => work.advance(replies, cx.now, cx.stopping),
            Work::Metadata(work) => work.advance(replies, cx.settings),
            Work::Group(work) => work.advance(replies),
            Work::CreatePartitions(work) => work.answer(replies),
            Work::DescribeConfigs(work) => work.answer(replies, cx.settings),
            Work::LeaderEpoch(work) => work.answer(replies),
            Work::DeleteRecords(work) => work.advance(replies),
            Work::ListOffsets(work) => work.answer(replies),
            Work::CreateTopics(work) => work.answer(replies),
            Work::DeleteTopics(work) => work.answer(replies),
            Work::Done => Step::Silent,
            Work::InitProducerId => {
                let granted = match replies.into_iter().next() {
                    Some(Ok(Reply::ProducerId { id, epoch })) => Ok((id, epoch)),
                    Some(Err(error)) => Err(errors::code(&error)),
                    _ => Err(ErrorCode::UnknownServerError),
                };
                Step::Answer(producer_id_answer(granted))
            }
        }
    }
}

fn producer_id_answer(granted: Result<(i64, i16), ErrorCode>) -> ResponseBody {
    let (error_code, producer_id, producer_epoch) = match granted {
        Ok((id, epoch)) => (ErrorCode::None, id, epoch),
        Err(code) => (code, -1, -1),
    };
    ResponseBody::InitProducerId(InitProducerIdResponse {
        throttle_time_ms: 0,
        error_code,
        producer_id,
        producer_epoch,
    })
}

/// The error code of one reply that should have been `expected`: its store
/// error's, or UNKNOWN_SERVER_ERROR for a reply of the wrong kind (which the
/// store never gives).
pub(super) fn failure(outcome: &Outcome) -> ErrorCode {
    match outcome {
        Err(error) => errors::code(error),
        Ok(_) => ErrorCode::UnknownServerError,
    }
}
