//! The store's errors: one variant per thing a client or an operator can act on,
//! each naming the topic, partition or offsets involved, so a door can turn it into
//! its own error code and a message that says what was wrong.
//!
//! This file must never hide an I/O error or the log's own error behind a vaguer
//! one.

use crate::kafka::InvalidTopicName as TopicNameError;
use sinew_log::LogError;
use std::path::PathBuf;

/// What went wrong with a request to the store, or with the store itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No topic has this name.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// A topic can only grow, and only up to the partition limit.
    #[error("topic {topic:?} has {current} partitions; it cannot have {requested}")]
    InvalidPartitions {
        /// The topic.
        topic: String,
        /// Its partitions now.
        current: u32,
        /// What was asked for.
        requested: u32,
    },
    /// The broker never gave out this producer id.
    #[error("producer id {0} was never given out")]
    UnknownProducer(i64),
    /// The topic has no such partition.
    #[error("topic {topic:?} has partitions 0 to {last}; there is no partition {partition}", last = .partitions.saturating_sub(1))]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: u32,
        /// How many partitions the topic has.
        partitions: u32,
    },
    /// A topic with this name exists already.
    #[error("topic {0:?} exists already")]
    TopicExists(String),
    /// The name is not a valid topic name.
    #[error("invalid topic name {name:?}: {reason}")]
    InvalidTopicName {
        /// The name given.
        name: String,
        /// Why it was refused.
        reason: TopicNameError,
    },
    /// A topic's settings cannot be used.
    #[error("invalid configuration for topic {topic:?}: {reason}")]
    InvalidConfig {
        /// The topic.
        topic: String,
        /// What is wrong.
        reason: String,
    },
    /// A request the store cannot carry out as given.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The offset is not in the partition.
    #[error(
        "offset {requested} is out of range for {topic}/{partition}: the earliest offset is {earliest} and the latest {latest}"
    )]
    OffsetOutOfRange {
        /// The topic.
        topic: String,
        /// The partition.
        partition: u32,
        /// The offset asked for.
        requested: u64,
        /// The first offset the partition holds.
        earliest: u64,
        /// The offset after the last record consumers can see.
        latest: u64,
    },
    /// An idempotent producer skipped or repeated a sequence number; nothing was
    /// written (Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER).
    #[error(
        "producer {producer_id} sent sequence {found} where {expected} was expected; nothing was written"
    )]
    OutOfOrderSequence {
        /// The producer id.
        producer_id: i64,
        /// The sequence its next batch must start with.
        expected: i32,
        /// The sequence it sent.
        found: i32,
    },
    /// An idempotent producer's epoch is older than the current one (Kafka's
    /// INVALID_PRODUCER_EPOCH): a newer instance fenced it.
    #[error("producer {producer_id} epoch {epoch} is fenced by epoch {current_epoch}")]
    ProducerFenced {
        /// The producer id.
        producer_id: i64,
        /// The epoch it sent.
        epoch: i16,
        /// The current epoch.
        current_epoch: i16,
    },
    /// The log refused the request or failed (a bad batch, a batch too large, a
    /// keyless record on a compacted topic, an I/O error).
    #[error("{topic}/{partition}: {source}")]
    Log {
        /// The topic.
        topic: String,
        /// The partition.
        partition: u32,
        /// What the log said.
        #[source]
        source: LogError,
    },
    /// The fsync that should have made records durable failed; they were written
    /// but may not survive a power loss, and the partition refuses appends until the
    /// broker reopens it.
    #[error("{topic}/{partition}: the fsync failed: {reason}")]
    SyncFailed {
        /// The topic.
        topic: String,
        /// The partition.
        partition: u32,
        /// What the log said.
        reason: String,
    },
    /// A partition could not be opened (damaged data before its recovery point,
    /// a missing directory, a lock held by another process).
    #[error("cannot open partition {partition} of topic {topic:?} at {path}: {reason}{more}", more = more_damage(*.others))]
    Damaged {
        /// The topic.
        topic: String,
        /// The partition.
        partition: u32,
        /// Its directory.
        path: PathBuf,
        /// What is wrong (`sinew log verify PATH` shows the details).
        reason: String,
        /// How many other partitions failed to open as well.
        others: usize,
    },
    /// The store's own files could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What the store was doing, and on which file.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A metadata file holds something the store cannot read.
    #[error("{path}: {reason}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Too many requests are waiting for the store (its bounded queue is full);
    /// nothing was queued. Retry once completions have been taken.
    #[error("the store is busy: {limit} requests are already in flight")]
    Busy {
        /// The most requests that may be in flight.
        limit: usize,
    },
    /// The storage thread has stopped; no request can be served.
    #[error("the store has stopped")]
    Stopped,
}

fn more_damage(others: usize) -> String {
    match others {
        0 => String::new(),
        1 => " (and 1 other partition)".to_owned(),
        n => format!(" (and {n} other partitions)"),
    }
}

impl StoreError {
    /// Wraps an I/O error with what the store was doing.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Io { context, source }
    }

    /// The log's error about `topic`/`partition`, with the log's own refusals
    /// turned into the store's variants. `latest` is the offset after the last
    /// record consumers can see.
    pub(crate) fn from_log(
        error: LogError,
        topic: &str,
        partition: u32,
        latest: u64,
    ) -> StoreError {
        match error {
            LogError::OffsetOutOfRange {
                requested, start, ..
            } => StoreError::OffsetOutOfRange {
                topic: topic.to_owned(),
                partition,
                requested,
                earliest: start,
                latest,
            },
            LogError::OutOfOrderSequence {
                producer_id,
                expected,
                found,
            } => StoreError::OutOfOrderSequence {
                producer_id,
                expected,
                found,
            },
            LogError::ProducerFenced {
                producer_id,
                epoch,
                current_epoch,
            } => StoreError::ProducerFenced {
                producer_id,
                epoch,
                current_epoch,
            },
            source => StoreError::Log {
                topic: topic.to_owned(),
                partition,
                source,
            },
        }
    }
}
