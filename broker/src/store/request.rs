//! What the loop asks of the store and what comes back: requests, each with an id
//! the loop chooses; one completion per request, carrying its reply or its error;
//! and per-partition notices ("new data up to X", "durable up to Y") for waking
//! parked fetches.
//!
//! Plain data: this file must never do anything. Record bytes travel as
//! `bytes::Bytes` (a frame's buffer, shared, never copied on the way to the log).

use super::error::StoreError;
use super::topic::{Acks, TopicConfig};
use bytes::Bytes;
use sinew_log::{AppendRecord, Batches, Producer};
use std::sync::Arc;

/// The id the loop gives a request; its completion carries it back.
pub type RequestId = u64;

/// Something for the storage thread to do.
#[derive(Debug, Clone)]
pub enum Request {
    /// Create a topic (`Reply::TopicCreated`).
    CreateTopic(TopicConfig),
    /// Delete a topic and all its records (`Reply::TopicDeleted`).
    DeleteTopic {
        /// The topic.
        topic: String,
    },
    /// Every topic's name, sorted (`Reply::Topics`).
    ListTopics,
    /// A topic's settings and each partition's offsets (`Reply::Topic`).
    DescribeTopic {
        /// The topic.
        topic: String,
    },
    /// Several topics described in one request, or every topic (sorted) when
    /// `topics` is `None` (`Reply::Descriptions`).
    DescribeTopics {
        /// The topics.
        topics: Option<Vec<String>>,
    },
    /// Append records to a partition (`Reply::Produced`).
    Produce(Produce),
    /// Read stored batches from a partition (`Reply::Fetched`).
    Fetch(Fetch),
    /// Find an offset in a partition (`Reply::Offset`).
    ListOffsets {
        /// The topic.
        topic: String,
        /// The partition.
        partition: u32,
        /// Which offset.
        position: OffsetPosition,
    },
    /// Move a partition's log start up to `before` (Kafka's DeleteRecords;
    /// `Reply::LogStart`).
    DeleteRecords {
        /// The topic.
        topic: String,
        /// The partition.
        partition: u32,
        /// Records below this offset are deleted.
        before: u64,
    },
    /// Grows a topic to `total` partitions (`Reply::TopicCreated` with its new
    /// settings).
    CreatePartitions {
        /// The topic.
        topic: String,
        /// How many partitions it will have.
        total: u32,
    },
    /// A new idempotent producer id, never handed out before, even across crashes,
    /// or with `existing` (the id and epoch a client holds) that id's next epoch,
    /// which fences the older one on every partition (`Reply::ProducerId`).
    InitProducerId {
        /// The id and epoch the client holds, if any.
        existing: Option<(i64, i16)>,
    },
}

/// Records for one partition.
#[derive(Debug, Clone)]
pub struct Produce {
    /// The topic.
    pub topic: String,
    /// Which partition the records go to.
    pub partition: Target,
    /// The records.
    pub payload: Payload,
    /// An idempotent producer's id, epoch and base sequence, for `Payload::Records`
    /// (a `Payload::Batch` carries its own in its header).
    pub producer: Option<Producer>,
    /// The acknowledgement wanted; `None` takes the topic's policy.
    pub acks: Option<Acks>,
}

/// Where a produce request's records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// This partition.
    Partition(u32),
    /// The partition Kafka's Java client picks for this key (murmur2); the
    /// records keep their own keys.
    Key(Bytes),
    /// By the first record's key (murmur2), or round robin when it has none
    /// (records only: a stored batch needs a partition or a key).
    FirstKey,
}

/// The records of a produce request.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Records to encode into one batch.
    Records(Vec<ProduceRecord>),
    /// One RecordBatch v2 as a Kafka producer sent it (it is checked, and stored
    /// as it came but for its base offset). Needs an explicit partition.
    Batch(Bytes),
}

/// One record to append, its fields sharing the buffers they arrived in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRecord {
    /// The key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// The value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// Milliseconds since the Unix epoch, as the producer or the door set it.
    pub timestamp: i64,
    /// Headers: a name and an optional value each.
    pub headers: Vec<(String, Option<Bytes>)>,
}

impl ProduceRecord {
    /// A record with a value, an optional key and no headers.
    pub fn new(key: Option<Bytes>, value: Bytes, timestamp: i64) -> ProduceRecord {
        ProduceRecord {
            key,
            value: Some(value),
            timestamp,
            headers: Vec::new(),
        }
    }
}

impl AppendRecord for ProduceRecord {
    fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }
    fn value(&self) -> Option<&[u8]> {
        self.value.as_deref()
    }
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn header_count(&self) -> usize {
        self.headers.len()
    }
    fn header(&self, index: usize) -> Option<(&[u8], Option<&[u8]>)> {
        let (name, value) = self.headers.get(index)?;
        Some((name.as_bytes(), value.as_deref()))
    }
}

/// A read from a partition.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: u32,
    /// The first offset wanted (the batch holding it is returned whole).
    pub offset: u64,
    /// At most about this many bytes (at least one whole batch if any is visible;
    /// capped by the store's own limit).
    pub max_bytes: u64,
    /// Decode the batches' records too, here on the storage thread (for clients
    /// that want records rather than batches), so the loop never decodes.
    pub decode: bool,
}

/// Which offset `Request::ListOffsets` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetPosition {
    /// The first offset held.
    Earliest,
    /// The offset after the last record consumers can see.
    Latest,
    /// The first offset whose record's timestamp is at or after this (ms since the
    /// epoch).
    Timestamp(i64),
}

/// The answer to one request.
#[derive(Debug)]
pub struct Completion {
    /// The request's id.
    pub id: RequestId,
    /// Its reply, or why it failed.
    pub result: Result<Reply, StoreError>,
}

/// What a request got.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The topic was created with these settings.
    TopicCreated(TopicConfig),
    /// The topic and its records are gone.
    TopicDeleted,
    /// Every topic's name, sorted.
    Topics(Vec<String>),
    /// One topic.
    Topic(TopicDescription),
    /// Each topic asked for, in order, with its description (`None`: no such
    /// topic).
    Descriptions(Vec<(String, Option<TopicDescription>)>),
    /// Records were appended (or found appended before).
    Produced(Produced),
    /// Batches read.
    Fetched(Fetched),
    /// The offset found; `None` when no record is at or after the timestamp.
    Offset(Option<u64>),
    /// The partition's log start offset now.
    LogStart(u64),
    /// A new producer id and its first epoch.
    ProducerId {
        /// The id.
        id: i64,
        /// The epoch (0 for a new id).
        epoch: i16,
    },
}

/// How far an acknowledgement goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Acknowledged {
    /// In the operating system's cache (the request asked for `none` or `written`).
    Written,
    /// Covered by an fsync.
    Durable,
}

/// Where a produce request's records are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Produced {
    /// The partition they went to.
    pub partition: u32,
    /// The first record's offset.
    pub base_offset: u64,
    /// The last record's offset.
    pub last_offset: u64,
    /// How far the acknowledgement goes.
    pub acknowledged: Acknowledged,
    /// The request was an idempotent producer's retry: nothing was written, and
    /// the offsets are those the records got the first time.
    pub duplicate: bool,
    /// The partition's durable offset when the completion was made (every offset
    /// below it is fsynced).
    pub durable_offset: u64,
}

/// What a fetch read.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Whole stored batches (Kafka's RecordBatch v2), sharing one read buffer.
    pub batches: Batches,
    /// Their records, when the fetch asked for them decoded; why not if a stored
    /// batch does not decode.
    pub records: Option<Result<Vec<sinew_log::Record>, String>>,
    /// The partition's first offset.
    pub start_offset: u64,
    /// The offset after the last record consumers can see (the high watermark).
    pub visible_end: u64,
    /// The offset the next record written will get.
    pub end_offset: u64,
    /// Every offset below this is fsynced.
    pub durable_offset: u64,
}

/// A topic's settings and its partitions' offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    /// The settings.
    pub config: TopicConfig,
    /// Each partition, in order.
    pub partitions: Vec<PartitionDescription>,
}

/// One partition's offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionDescription {
    /// The partition.
    pub partition: u32,
    /// The first offset held.
    pub start_offset: u64,
    /// The offset the next record will get.
    pub end_offset: u64,
    /// Every offset below this is fsynced.
    pub durable_offset: u64,
    /// The offset after the last record consumers can see.
    pub visible_end: u64,
    /// The bytes of complete batches in the partition's segments.
    pub size_bytes: u64,
}

/// What changed in one partition since the loop last looked: for waking parked
/// fetches. Notices for one partition are merged until the loop takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionNotice {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: u32,
    /// Records are written up to here (not yet visible on a durable topic).
    pub new_data: Option<u64>,
    /// Records are durable up to here.
    pub durable: Option<u64>,
    /// Consumers can now read up to here: what parked fetches wait for.
    pub visible_end: Option<u64>,
}
