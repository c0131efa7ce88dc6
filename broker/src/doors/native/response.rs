//! The responses a native broker sends, as typed values: one per command, and the
//! error response any request can get.
//!
//! Only types live here (the codec is `response_codec.rs`); this module must never
//! do I/O or hold broker state.

use bytes::Bytes;

use super::command::Command;
use super::error::ErrorResponse;
use super::groups::GroupAssignment;
use super::records::FetchedRecord;
use super::request::TopicConfig;
use crate::kafka::TopicName;

/// One response: the request's correlation id and the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The request's, echoed.
    pub correlation_id: u64,
    /// The answer.
    pub body: ResponseBody,
}

/// The answer to a request, one variant per command, or an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseBody {
    /// PRODUCE succeeded.
    Produce(ProduceResult),
    /// FETCH succeeded (possibly with nothing).
    Fetch(FetchResult),
    /// LIST_OFFSETS succeeded.
    ListOffsets(OffsetResult),
    /// INIT_PRODUCER_ID succeeded.
    InitProducerId(ProducerGrant),
    /// CREATE_TOPIC succeeded.
    CreateTopic,
    /// DELETE_TOPIC succeeded.
    DeleteTopic,
    /// LIST_TOPICS: every topic.
    ListTopics(Vec<TopicSummary>),
    /// DESCRIBE_TOPIC: the topic's settings and partitions.
    DescribeTopic(TopicDescription),
    /// JOIN_GROUP: this member's partitions in the new generation.
    JoinGroup(GroupAssignment),
    /// HEARTBEAT succeeded.
    Heartbeat,
    /// LEAVE_GROUP succeeded.
    LeaveGroup,
    /// COMMIT_OFFSETS succeeded (every offset is durable).
    CommitOffsets,
    /// FETCH_OFFSETS: each committed partition and its offset.
    FetchOffsets(Vec<(u32, u64)>),
    /// The request failed.
    Error(ErrorResponse),
}

impl ResponseBody {
    /// The command code the response carries.
    pub fn command_code(&self) -> u16 {
        match self {
            ResponseBody::Produce(_) => Command::Produce.code(),
            ResponseBody::Fetch(_) => Command::Fetch.code(),
            ResponseBody::ListOffsets(_) => Command::ListOffsets.code(),
            ResponseBody::InitProducerId(_) => Command::InitProducerId.code(),
            ResponseBody::CreateTopic => Command::CreateTopic.code(),
            ResponseBody::DeleteTopic => Command::DeleteTopic.code(),
            ResponseBody::ListTopics(_) => Command::ListTopics.code(),
            ResponseBody::DescribeTopic(_) => Command::DescribeTopic.code(),
            ResponseBody::JoinGroup(_) => Command::JoinGroup.code(),
            ResponseBody::Heartbeat => Command::Heartbeat.code(),
            ResponseBody::LeaveGroup => Command::LeaveGroup.code(),
            ResponseBody::CommitOffsets => Command::CommitOffsets.code(),
            ResponseBody::FetchOffsets(_) => Command::FetchOffsets.code(),
            ResponseBody::Error(error) => error.command,
        }
    }
}

/// How far a produced batch got before it was acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Acknowledged {
    /// 1: written to the log, not yet fsynced.
    Written,
    /// 2: fsynced.
    Durable,
}

impl Acknowledged {
    /// The byte on the wire.
    pub const fn code(self) -> u8 {
        match self {
            Acknowledged::Written => 1,
            Acknowledged::Durable => 2,
        }
    }

    /// The level for a byte on the wire.
    pub const fn from_code(code: u8) -> Option<Acknowledged> {
        match code {
            1 => Some(Acknowledged::Written),
            2 => Some(Acknowledged::Durable),
            _ => None,
        }
    }
}

/// Where a PRODUCE's records went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProduceResult {
    /// The partition (the one murmur2 chose, for a keyed PRODUCE).
    pub partition: u32,
    /// What the acknowledgement means.
    pub acknowledged: Acknowledged,
    /// The batch was a retry of one already appended: these are its original
    /// offsets, and nothing was written twice.
    pub duplicate: bool,
    /// Offset of the first record.
    pub base_offset: u64,
    /// Offset of the last record.
    pub last_offset: u64,
}

/// What a FETCH returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchData {
    /// Stored RecordBatch v2 batches, each a frame (the first may start before
    /// the offset asked for: skip its records below it).
    Batches(Vec<Bytes>),
    /// Records, in offset order.
    Records(Vec<FetchedRecord>),
}

/// A FETCH's answer: the partition's offsets, then the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchResult {
    /// The partition.
    pub partition: u32,
    /// Where the next FETCH should start: after the last record returned, or where
    /// this one started if nothing was returned.
    pub next_offset: u64,
    /// The partition's end: the offset the next written record will get.
    pub end_offset: u64,
    /// Everything below this is fsynced.
    pub durable_offset: u64,
    /// The first offset still in the log.
    pub log_start_offset: u64,
    /// Batches or records.
    pub data: FetchData,
}

/// A LIST_OFFSETS answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetResult {
    /// The partition.
    pub partition: u32,
    /// The offset; `None` when no record is at or after the timestamp.
    pub offset: Option<u64>,
    /// That record's timestamp; -1 for earliest and latest, or when unknown.
    pub timestamp: i64,
}

/// An INIT_PRODUCER_ID answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerGrant {
    /// The producer id.
    pub id: i64,
    /// Its epoch: older epochs are fenced.
    pub epoch: i16,
}

/// One topic in LIST_TOPICS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSummary {
    /// Its name.
    pub name: TopicName,
    /// How many partitions it has.
    pub partitions: u32,
    /// Whether it is compacted.
    pub compact: bool,
}

/// One partition in DESCRIBE_TOPIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionDescription {
    /// The partition.
    pub partition: u32,
    /// The log start offset.
    pub start_offset: u64,
    /// The end offset (next to be written).
    pub end_offset: u64,
    /// Everything below this is fsynced.
    pub durable_offset: u64,
    /// Bytes on disk.
    pub size_bytes: u64,
}

/// A DESCRIBE_TOPIC answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicDescription {
    /// The topic's settings.
    pub config: TopicConfig,
    /// One entry per partition, in partition order.
    pub partitions: Vec<PartitionDescription>,
}
