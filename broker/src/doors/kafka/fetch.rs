//! Fetch (key 1), versions 4 to 12: a consumer's long poll (max wait, min and max
//! bytes) for partitions from offsets. Fetch sessions (KIP-227) are declined by
//! answering session id 0; the request's session fields are read so the door can
//! do so. The response's records are stored RecordBatch bytes as `Bytes`, kept
//! as chunks of their own by the writer: never copied or parsed here.
//!
//! Flexible from v12; topic ids (v13+) are not spoken yet, see `docs/kafka.md`.
//! Nothing here may read past the request.

use bytes::Bytes;

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// READ_UNCOMMITTED.
pub const READ_UNCOMMITTED: i8 = 0;
/// READ_COMMITTED.
pub const READ_COMMITTED: i8 = 1;

/// One partition asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPartition {
    /// The partition index.
    pub partition: i32,
    /// The leader epoch the client knows (v9+; -1 otherwise).
    pub current_leader_epoch: i32,
    /// The first offset wanted.
    pub fetch_offset: i64,
    /// The epoch of the last record fetched (v12+; -1 otherwise).
    pub last_fetched_epoch: i32,
    /// Followers only (v5+).
    pub log_start_offset: i64,
    /// Most bytes for this partition.
    pub partition_max_bytes: i32,
}

/// One topic asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchTopic {
    /// The topic name.
    pub topic: String,
    /// Its partitions, in the order they are to be served.
    pub partitions: Vec<FetchPartition>,
}

/// Partitions an incremental fetch session drops (v7+).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForgottenTopic {
    /// The topic name.
    pub topic: String,
    /// The partitions.
    pub partitions: Vec<i32>,
}

/// A Fetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest {
    /// -1 for a consumer.
    pub replica_id: i32,
    /// Longest wait for `min_bytes`.
    pub max_wait_ms: i32,
    /// Bytes to accumulate before answering.
    pub min_bytes: i32,
    /// Most bytes in the response (KIP-74: the first batch is sent whole anyway).
    pub max_bytes: i32,
    /// [`READ_UNCOMMITTED`] or [`READ_COMMITTED`].
    pub isolation_level: i8,
    /// Fetch session id (v7+; 0 for none).
    pub session_id: i32,
    /// Fetch session epoch (v7+; -1 for none, 0 to open one).
    pub session_epoch: i32,
    /// The topics.
    pub topics: Vec<FetchTopic>,
    /// Incremental sessions only (v7+).
    pub forgotten_topics: Vec<ForgottenTopic>,
    /// The consumer's rack (v11+).
    pub rack_id: String,
}

impl FetchRequest {
    /// Reads the body of `version` (4 or later).
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let replica_id = reader.i32("the replica id")?;
        let max_wait_ms = reader.i32("max wait")?;
        let min_bytes = reader.i32("min bytes")?;
        let max_bytes = reader.i32("max bytes")?;
        let isolation_level = reader.i8("the isolation level")?;
        let (session_id, session_epoch) = if version >= 7 {
            (
                reader.i32("the session id")?,
                reader.i32("the session epoch")?,
            )
        } else {
            (0, -1)
        };
        let topics = reader.array("the topics", 2, |reader| {
            let topic = reader.string("a topic name")?;
            let partitions = reader.array("the partitions", 16, |reader| {
                decode_partition(reader, version)
            })?;
            reader.tagged_fields()?;
            Ok(FetchTopic { topic, partitions })
        })?;
        let forgotten_topics = if version >= 7 {
            reader.array("the forgotten topics", 2, |reader| {
                let topic = reader.string("a forgotten topic")?;
                let partitions = reader.array("forgotten partitions", 4, |reader| {
                    reader.i32("a partition")
                })?;
                reader.tagged_fields()?;
                Ok(ForgottenTopic { topic, partitions })
            })?
        } else {
            Vec::new()
        };
        let rack_id = if version >= 11 {
            reader.string("the rack id")?
        } else {
            String::new()
        };
        reader.tagged_fields()?;
        Ok(FetchRequest {
            replica_id,
            max_wait_ms,
            min_bytes,
            max_bytes,
            isolation_level,
            session_id,
            session_epoch,
            topics,
            forgotten_topics,
            rack_id,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.i32(self.replica_id);
        writer.i32(self.max_wait_ms);
        writer.i32(self.min_bytes);
        writer.i32(self.max_bytes);
        writer.i8(self.isolation_level);
        if version >= 7 {
            writer.i32(self.session_id);
            writer.i32(self.session_epoch);
        }
        writer.array_count(Some(self.topics.len()));
        for topic in &self.topics {
            writer.string(&topic.topic);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                writer.i32(partition.partition);
                if version >= 9 {
                    writer.i32(partition.current_leader_epoch);
                }
                writer.i64(partition.fetch_offset);
                if version >= 12 {
                    writer.i32(partition.last_fetched_epoch);
                }
                if version >= 5 {
                    writer.i64(partition.log_start_offset);
                }
                writer.i32(partition.partition_max_bytes);
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        if version >= 7 {
            writer.array_count(Some(self.forgotten_topics.len()));
            for forgotten in &self.forgotten_topics {
                writer.string(&forgotten.topic);
                writer.i32_array(&forgotten.partitions);
                writer.tagged_fields();
            }
        }
        if version >= 11 {
            writer.string(&self.rack_id);
        }
        writer.tagged_fields();
    }
}

fn decode_partition(reader: &mut Reader, version: i16) -> Result<FetchPartition, DecodeError> {
    let partition = reader.i32("a partition index")?;
    let current_leader_epoch = if version >= 9 {
        reader.i32("the current leader epoch")?
    } else {
        -1
    };
    let fetch_offset = reader.i64("the fetch offset")?;
    let last_fetched_epoch = if version >= 12 {
        reader.i32("the last fetched epoch")?
    } else {
        -1
    };
    let log_start_offset = if version >= 5 {
        reader.i64("the log start offset")?
    } else {
        -1
    };
    let partition_max_bytes = reader.i32("the partition max bytes")?;
    reader.tagged_fields()?;
    Ok(FetchPartition {
        partition,
        current_leader_epoch,
        fetch_offset,
        last_fetched_epoch,
        log_start_offset,
        partition_max_bytes,
    })
}

/// An aborted transaction in a READ_COMMITTED answer (the door has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortedTransaction {
    /// Its producer id.
    pub producer_id: i64,
    /// Its first offset.
    pub first_offset: i64,
}

/// One partition's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPartitionResponse {
    /// The partition index.
    pub partition_index: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The high watermark.
    pub high_watermark: i64,
    /// The last stable offset.
    pub last_stable_offset: i64,
    /// The first offset held (v5+).
    pub log_start_offset: i64,
    /// Aborted transactions (`None`: null).
    pub aborted_transactions: Option<Vec<AbortedTransaction>>,
    /// v11+; -1 for none.
    pub preferred_read_replica: i32,
    /// Stored RecordBatch bytes as they are (`None`: null).
    pub records: Option<Bytes>,
}

/// One topic's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchTopicResponse {
    /// The topic name.
    pub topic: String,
    /// Its partitions.
    pub partitions: Vec<FetchPartitionResponse>,
}

/// A Fetch response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// Top-level error (v7+).
    pub error_code: ErrorCode,
    /// The fetch session id: always 0, sessions declined (v7+).
    pub session_id: i32,
    /// The topics.
    pub responses: Vec<FetchTopicResponse>,
}

impl FetchResponse {
    /// Writes the body of `version` (4 or later).
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.i32(self.throttle_time_ms);
        if version >= 7 {
            writer.i16(self.error_code.number());
            writer.i32(self.session_id);
        }
        writer.array_count(Some(self.responses.len()));
        for topic in &self.responses {
            writer.string(&topic.topic);
            writer.array_count(Some(topic.partitions.len()));
            for partition in &topic.partitions {
                encode_partition(writer, version, partition);
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}

fn encode_partition(writer: &mut Writer, version: i16, partition: &FetchPartitionResponse) {
    writer.i32(partition.partition_index);
    writer.i16(partition.error_code.number());
    writer.i64(partition.high_watermark);
    writer.i64(partition.last_stable_offset);
    if version >= 5 {
        writer.i64(partition.log_start_offset);
    }
    writer.array_count(partition.aborted_transactions.as_ref().map(Vec::len));
    for aborted in partition.aborted_transactions.iter().flatten() {
        writer.i64(aborted.producer_id);
        writer.i64(aborted.first_offset);
        writer.tagged_fields();
    }
    if version >= 11 {
        writer.i32(partition.preferred_read_replica);
    }
    writer.nullable_bytes(partition.records.as_ref());
    writer.tagged_fields();
}
