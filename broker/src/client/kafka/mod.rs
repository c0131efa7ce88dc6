//! A small blocking client of Kafka's protocol, on the Kafka door's own codec
//! (`crate::doors::kafka`): a [`Connection`] to one broker (TCP with timeouts,
//! ApiVersions, then one request at a time at the highest version both sides
//! support) and an [`Admin`] for consumer groups and offsets, which sends each
//! request to the broker Kafka wants it on (the group's coordinator, the
//! partition's leader). It speaks to sinew-broker's Kafka door and to Kafka.
//!
//! It uses `std::net` only: no async runtime, no thread, no broker internals.
//! It never panics on what a broker sends and never reserves memory for bytes
//! that have not arrived; every fault is an [`Error`], carrying Kafka's error
//! code when the broker gave one.
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
mod assignment;
mod connection;
mod error;
#[cfg(test)]
mod tests;

pub use crate::doors::kafka::{
    DescribedGroup, DescribedGroupMember, EARLIEST_TIMESTAMP, ErrorCode, LATEST_TIMESTAMP,
    ListedGroup,
};
pub use admin::{Admin, CLIENT_ID, Offsets, TopicPartition};
pub use assignment::{AssignedTopic, ConsumerAssignment};
pub use connection::{Connection, MAX_RESPONSE_BYTES};
pub use error::{Error, Result, error_name};

/// The Kafka door's default address, and Kafka's.
pub const DEFAULT_BOOTSTRAP: &str = "127.0.0.1:9092";
