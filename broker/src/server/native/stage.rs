//! What a native request waits for while the store works on it: the client it
//! came from, its correlation id, and its stage (the store request a FETCH from a
//! position or a LIST_TOPICS needs next); and the first store request for each
//! decoded request.
//!
//! Plain data and pure functions: this file must never touch the store, a socket
//! or a clock (but for the wall-clock time that stamps records sent without one).

use super::convert;
use crate::doors::native as wire;
use crate::server::groups::OffsetsWrite;
use crate::store::Request;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// A client request waiting for the store.
#[derive(Debug)]
pub struct Pending {
    pub routing: Bytes,
    pub correlation_id: u64,
    /// The request's size, counted against the broker-wide bound until answered.
    pub bytes: usize,
    pub stage: Stage,
}

/// What a pending request waits for, and what its completion becomes.
#[derive(Debug)]
pub enum Stage {
    /// A PRODUCE; `silent` for acks 0 (no response at all).
    Produce { silent: bool },
    /// A FETCH whose start offset is being looked up.
    FetchLookup {
        fetch: wire::Fetch,
        deadline: Option<Instant>,
    },
    /// A FETCH reading from `offset`; until `deadline` it may wait for
    /// `min_bytes`.
    Fetch {
        fetch: wire::Fetch,
        offset: u64,
        deadline: Option<Instant>,
        /// The noticed end this read was made again for, when a notice passed
        /// the read before it.
        reread_for: Option<u64>,
    },
    /// LIST_OFFSETS for a partition.
    ListOffsets { partition: u32 },
    /// LIST_TOPICS, waiting for the names.
    ListTopics,
    /// LIST_TOPICS, waiting for `remaining` descriptions.
    ListGather {
        remaining: usize,
        summaries: Vec<wire::TopicSummary>,
    },
    /// A command answered from its reply alone.
    Simple(wire::Command),
    /// COMMIT_OFFSETS, writing its records.
    GroupWrite(OffsetsWrite),
    /// JOIN_GROUP's leader, reading its group's partition counts to assign.
    GroupAssign(Box<super::groups::Joining>),
}

impl Stage {
    /// The stage, leaving a placeholder (`ListTopics`) until the next is set.
    pub fn take(&mut self) -> Stage {
        std::mem::replace(self, Stage::ListTopics)
    }
}

/// The command a stage answers.
pub fn stage_command(stage: &Stage) -> u16 {
    match stage {
        Stage::Produce { .. } => wire::Command::Produce.code(),
        Stage::FetchLookup { .. } | Stage::Fetch { .. } => wire::Command::Fetch.code(),
        Stage::ListOffsets { .. } => wire::Command::ListOffsets.code(),
        Stage::ListTopics | Stage::ListGather { .. } => wire::Command::ListTopics.code(),
        Stage::Simple(command) => command.code(),
        Stage::GroupWrite(_) => wire::Command::CommitOffsets.code(),
        Stage::GroupAssign(_) => wire::Command::JoinGroup.code(),
    }
}

/// A decoded request as the store's first request and what waits for it.
pub fn to_store(
    body: wire::RequestBody,
    now: Instant,
) -> Result<(Request, Stage), wire::ResponseBody> {
    Ok(match body {
        wire::RequestBody::Produce(produce) => {
            let silent = produce.acks == wire::Acks::None;
            (
                convert::produce(produce, now_ms()),
                Stage::Produce { silent },
            )
        }
        wire::RequestBody::Fetch(fetch) => {
            let deadline = (fetch.max_wait_ms > 0 && fetch.min_bytes > 0)
                .then(|| now + Duration::from_millis(u64::from(fetch.max_wait_ms)));
            match convert::position(fetch.start) {
                None => {
                    let offset = fetch.start.value();
                    let request = Request::Fetch(convert::fetch(&fetch, offset));
                    (
                        request,
                        Stage::Fetch {
                            fetch,
                            offset,
                            deadline,
                            reread_for: None,
                        },
                    )
                }
                Some(position) => (
                    Request::ListOffsets {
                        topic: fetch.topic.as_str().to_owned(),
                        partition: fetch.partition,
                        position,
                    },
                    Stage::FetchLookup { fetch, deadline },
                ),
            }
        }
        wire::RequestBody::ListOffsets(list) => {
            let Some(position) = convert::position(list.query) else {
                return Err(convert::error(
                    wire::Command::ListOffsets.code(),
                    wire::ErrorCode::InvalidArgument,
                    [0, 0],
                    "LIST_OFFSETS takes earliest, latest or a timestamp".to_owned(),
                ));
            };
            (
                Request::ListOffsets {
                    topic: list.topic.as_str().to_owned(),
                    partition: list.partition,
                    position,
                },
                Stage::ListOffsets {
                    partition: list.partition,
                },
            )
        }
        wire::RequestBody::InitProducerId(init) => (
            Request::InitProducerId {
                existing: init.existing,
            },
            Stage::Simple(wire::Command::InitProducerId),
        ),
        wire::RequestBody::CreateTopic(create) => (
            Request::CreateTopic(convert::topic_config(&create.topic, &create.config)),
            Stage::Simple(wire::Command::CreateTopic),
        ),
        wire::RequestBody::DeleteTopic(topic) => (
            Request::DeleteTopic {
                topic: topic.as_str().to_owned(),
            },
            Stage::Simple(wire::Command::DeleteTopic),
        ),
        wire::RequestBody::ListTopics => (Request::ListTopics, Stage::ListTopics),
        wire::RequestBody::DescribeTopic(topic) => (
            Request::DescribeTopic {
                topic: topic.as_str().to_owned(),
            },
            Stage::Simple(wire::Command::DescribeTopic),
        ),
        group @ (wire::RequestBody::JoinGroup(_)
        | wire::RequestBody::Heartbeat(_)
        | wire::RequestBody::LeaveGroup(_)
        | wire::RequestBody::CommitOffsets(_)
        | wire::RequestBody::FetchOffsets(_)) => {
            // The door serves these without the store; never here.
            return Err(convert::error(
                group.command().code(),
                wire::ErrorCode::UnknownCommand,
                [0, 0],
                "a group command reached the store's converter".to_owned(),
            ));
        }
    })
}

/// Milliseconds since the Unix epoch, for records sent without a timestamp.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
