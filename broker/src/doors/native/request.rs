//! The requests a native client sends, as typed values: what each command asks,
//! with its topic names checked and its payload frames kept as shared `Bytes`.
//!
//! Only types and their small helpers live here (the codec is `request_codec.rs`);
//! this module must never do I/O or hold broker state.

use bytes::Bytes;

use super::command::Command;
use super::groups::{CommitOffsets, FetchOffsets, Heartbeat, JoinGroup, Membership};
use super::records::ProduceRecord;
use crate::kafka::TopicName;
use crate::kafka::partition_for_key;

/// The PRODUCE partition field's value for "choose by key".
pub const PARTITION_BY_KEY: u32 = 0xffff_ffff;

/// One request: its correlation id (echoed by the response) and what it asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Chosen by the client; the response carries it back.
    pub correlation_id: u64,
    /// The command and its fields.
    pub body: RequestBody,
}

/// What a request asks, one variant per command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    /// Append records.
    Produce(Produce),
    /// Read records.
    Fetch(Fetch),
    /// Look up an offset.
    ListOffsets(ListOffsets),
    /// Get a producer id and epoch.
    InitProducerId(InitProducerId),
    /// Create a topic.
    CreateTopic(CreateTopic),
    /// Delete a topic.
    DeleteTopic(TopicName),
    /// List every topic.
    ListTopics,
    /// Describe a topic.
    DescribeTopic(TopicName),
    /// Join a consumer group.
    JoinGroup(JoinGroup),
    /// A group member's heartbeat.
    Heartbeat(Heartbeat),
    /// Leave a consumer group.
    LeaveGroup(Membership),
    /// Commit offsets.
    CommitOffsets(CommitOffsets),
    /// Committed offsets.
    FetchOffsets(FetchOffsets),
}

impl RequestBody {
    /// The command this body is for.
    pub fn command(&self) -> Command {
        match self {
            RequestBody::Produce(_) => Command::Produce,
            RequestBody::Fetch(_) => Command::Fetch,
            RequestBody::ListOffsets(_) => Command::ListOffsets,
            RequestBody::InitProducerId(_) => Command::InitProducerId,
            RequestBody::CreateTopic(_) => Command::CreateTopic,
            RequestBody::DeleteTopic(_) => Command::DeleteTopic,
            RequestBody::ListTopics => Command::ListTopics,
            RequestBody::DescribeTopic(_) => Command::DescribeTopic,
            RequestBody::JoinGroup(_) => Command::JoinGroup,
            RequestBody::Heartbeat(_) => Command::Heartbeat,
            RequestBody::LeaveGroup(_) => Command::LeaveGroup,
            RequestBody::CommitOffsets(_) => Command::CommitOffsets,
            RequestBody::FetchOffsets(_) => Command::FetchOffsets,
        }
    }
}

/// How far a PRODUCE is to get before it is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Acks {
    /// 0: no response at all.
    None,
    /// 1: once written to the log (in the page cache, not yet fsynced).
    Written,
    /// 2: once fsynced.
    Durable,
}

impl Acks {
    /// The byte on the wire.
    pub const fn code(self) -> u8 {
        match self {
            Acks::None => 0,
            Acks::Written => 1,
            Acks::Durable => 2,
        }
    }

    /// The level for a byte on the wire.
    pub const fn from_code(code: u8) -> Option<Acks> {
        match code {
            0 => Some(Acks::None),
            1 => Some(Acks::Written),
            2 => Some(Acks::Durable),
            _ => None,
        }
    }
}

/// Where a PRODUCE goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionChoice {
    /// This partition (below 2^31).
    Index(u32),
    /// The partition murmur2 picks for this key, as Kafka's clients do.
    ByKey(Bytes),
}

impl PartitionChoice {
    /// The partition among `partitions` (`None` for 0 partitions or an index
    /// outside them).
    pub fn resolve(&self, partitions: u32) -> Option<u32> {
        match self {
            PartitionChoice::Index(index) => Some(*index).filter(|&index| index < partitions),
            PartitionChoice::ByKey(key) => partition_for_key(key, partitions),
        }
    }
}

/// An idempotent producer's fields (all 0 or more).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProducerIdentity {
    /// From INIT_PRODUCER_ID.
    pub id: i64,
    /// From INIT_PRODUCER_ID.
    pub epoch: i16,
    /// The sequence number of the request's first record in this partition.
    pub base_sequence: i32,
}

/// What a PRODUCE carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProducePayload {
    /// One Kafka RecordBatch v2, as is; its own header carries any producer id,
    /// epoch and sequence.
    Batch(Bytes),
    /// Records for the broker to encode into one batch, with the producer fields
    /// for that batch.
    Records {
        /// Set for an idempotent producer.
        producer: Option<ProducerIdentity>,
        /// At least one.
        records: Vec<ProduceRecord>,
    },
}

/// PRODUCE: append records to one partition of a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Produce {
    /// The topic.
    pub topic: TopicName,
    /// The partition, or the key that picks it.
    pub partition: PartitionChoice,
    /// When to answer.
    pub acks: Acks,
    /// The records.
    pub payload: ProducePayload,
}

/// Where a FETCH starts, or which offset LIST_OFFSETS looks up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// 0: this offset (FETCH only).
    Offset(u64),
    /// 1: the log start offset.
    Earliest,
    /// 2: the end of the log (the next offset to be written and visible).
    Latest,
    /// 3: the first record whose timestamp is at or after this (milliseconds).
    Timestamp(i64),
}

impl Position {
    /// The kind byte on the wire.
    pub const fn kind(self) -> u8 {
        match self {
            Position::Offset(_) => 0,
            Position::Earliest => 1,
            Position::Latest => 2,
            Position::Timestamp(_) => 3,
        }
    }

    /// The 8-byte value field on the wire.
    pub const fn value(self) -> u64 {
        match self {
            Position::Offset(offset) => offset,
            Position::Timestamp(timestamp) => timestamp as u64,
            Position::Earliest | Position::Latest => 0,
        }
    }
}

/// How a FETCH returns records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FetchMode {
    /// 0: stored RecordBatch v2 batches, as they are on disk (zero copy).
    Batches,
    /// 1: one record table and three frames per record.
    Records,
}

impl FetchMode {
    /// The byte on the wire.
    pub const fn code(self) -> u8 {
        match self {
            FetchMode::Batches => 0,
            FetchMode::Records => 1,
        }
    }

    /// The mode for a byte on the wire.
    pub const fn from_code(code: u8) -> Option<FetchMode> {
        match code {
            0 => Some(FetchMode::Batches),
            1 => Some(FetchMode::Records),
            _ => None,
        }
    }
}

/// FETCH: read from one partition, waiting up to `max_wait_ms` for `min_bytes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetch {
    /// The topic.
    pub topic: TopicName,
    /// The partition.
    pub partition: u32,
    /// Where to start.
    pub start: Position,
    /// How records come back.
    pub mode: FetchMode,
    /// Stop adding batches (records) past this many bytes; at least 1. The first
    /// one is returned whatever its size.
    pub max_bytes: u32,
    /// Stop after this many records; 0 for no limit. Batches mode returns whole
    /// batches, so it may return more.
    pub max_records: u32,
    /// How long to wait for `min_bytes`, in milliseconds; 0 answers at once.
    pub max_wait_ms: u32,
    /// Answer once this many bytes are there (or the wait ends).
    pub min_bytes: u32,
}

/// LIST_OFFSETS: one offset of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsets {
    /// The topic.
    pub topic: TopicName,
    /// The partition.
    pub partition: u32,
    /// Earliest, latest or for a timestamp (never `Offset`).
    pub query: Position,
}

/// INIT_PRODUCER_ID: a new producer id, or a new epoch for an existing one (which
/// fences the older epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitProducerId {
    /// `None` for a new id; else the id and the epoch the client holds.
    pub existing: Option<(i64, i16)>,
}

/// Which records consumers see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// 0: only durable (fsynced) records.
    Durable,
    /// 1: every written record (for topics flushed by interval).
    Written,
}

impl Visibility {
    /// The byte on the wire.
    pub const fn code(self) -> u8 {
        match self {
            Visibility::Durable => 0,
            Visibility::Written => 1,
        }
    }

    /// The visibility for a byte on the wire.
    pub const fn from_code(code: u8) -> Option<Visibility> {
        match code {
            0 => Some(Visibility::Durable),
            1 => Some(Visibility::Written),
            _ => None,
        }
    }
}

/// A topic's settings, as CREATE_TOPIC sets them and DESCRIBE_TOPIC shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopicConfig {
    /// Number of partitions, 1 to 2^31-1.
    pub partitions: u32,
    /// Keep only the newest record per key.
    pub compact: bool,
    /// The least acknowledgement a PRODUCE gets: a request asking for less is
    /// answered as if it asked for this.
    pub ack_policy: Acks,
    /// Which records consumers see.
    pub visibility: Visibility,
    /// Delete segments older than this (milliseconds); `None` keeps them.
    pub retention_ms: Option<u64>,
    /// Delete the oldest segments past this size per partition; `None` keeps them.
    pub retention_bytes: Option<u64>,
    /// 0: fsync after every batch of requests (group commit); else at least this
    /// often, in milliseconds.
    pub flush_interval_ms: u32,
}

impl TopicConfig {
    /// `partitions` partitions with the broker's defaults: not compacted, ack
    /// policy none, durable visibility, kept for ever, fsynced after every batch
    /// of requests.
    pub fn new(partitions: u32) -> TopicConfig {
        TopicConfig {
            partitions,
            compact: false,
            ack_policy: Acks::None,
            visibility: Visibility::Durable,
            retention_ms: None,
            retention_bytes: None,
            flush_interval_ms: 0,
        }
    }
}

/// CREATE_TOPIC: a new topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateTopic {
    /// Its name.
    pub topic: TopicName,
    /// Its settings.
    pub config: TopicConfig,
}
