//! A blocking Rust client of the broker's native door (`broker/docs/protocol.md`):
//! a [`Producer`] (batching, linger, pipelined acknowledgements, idempotent
//! retries, Kafka's murmur2 partitioning by key), a [`Consumer`] (assign, seek,
//! long-poll), a [`GroupConsumer`] (a member of a consumer group, the broker
//! assigning its partitions), and an [`Admin`] for topics, each on sinew DEALERs.
//!
//! Requests and responses go through the door's own codec
//! (`crate::doors::native`); this module never encodes a frame itself, never
//! starts a thread or an async runtime, and never panics on what the broker sends:
//! every fault is an [`Error`] carrying the protocol's error code when the broker
//! gave one.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod admin;
mod batch;
mod connection;
mod consumer;
mod error;
mod group;
mod producer;

pub use crate::doors::native::{
    Acknowledged, Acks, AssignorChoice, ErrorCode, OffsetResult, PartitionDescription, Position,
    RecordHeader, TopicDescription, TopicName, TopicSummary, Visibility,
};
pub use admin::{Admin, DEFAULT_REQUEST_TIMEOUT, TopicSettings, topic_name};
pub use connection::{Connection, DEFAULT_ENDPOINT};
pub use consumer::{Consumer, ConsumerConfig, ConsumerRecord};
pub use error::{Error, Result};
pub use group::{GroupConfig, GroupConsumer};
pub use producer::{
    Acknowledgement, Delivery, MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_IN_FLIGHT, MAX_RECORD_BYTES,
    Producer, ProducerConfig, ProducerRecord,
};
