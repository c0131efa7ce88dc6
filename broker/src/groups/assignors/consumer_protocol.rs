//! Kafka's consumer protocol, sans-IO: what a consumer puts in JoinGroup's member
//! metadata ([`ConsumerSubscription`], Kafka's `ConsumerProtocolSubscription`) and
//! what the group's assignor puts in SyncGroup's member assignment
//! ([`ConsumerAssignment`], Kafka's `ConsumerProtocolAssignment`).
//!
//! Both start with a 2-byte version; versions 0-3 are known and none is flexible
//! (plain `int16` string lengths, `int32` array counts and byte lengths). A newer
//! version is read as version 3, and bytes after the last known field are ignored,
//! as Kafka's clients do, so that newer clients can add fields at the end. Writing
//! a version above 3 writes version 3, as Kafka's serializer does.
//!
//! This module never panics on bytes from a peer, never trusts a length or count
//! before checking it against the bytes actually left, and never reserves memory
//! for more elements than those bytes could hold: arrays of names grow as their
//! elements are read, and one message may hold at most [`MAX_ELEMENTS`] of them.

use super::wire::{Reader, Writer};
use bytes::{Buf, Bytes};
use thiserror::Error;

/// The highest consumer protocol version this module knows.
pub const HIGHEST_VERSION: i16 = 3;

/// Most names (topics, and owned or assigned topic entries) one message may hold,
/// all arrays together: far more than a consumer subscribes to, far fewer than a
/// large message of empty names could announce.
pub const MAX_ELEMENTS: usize = 1 << 18;

/// Partitions of one topic, as the consumer protocol lists owned and assigned ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TopicPartitions {
    /// The topic's name.
    pub topic: String,
    /// Its partitions.
    pub partitions: Vec<i32>,
}

/// A consumer's JoinGroup metadata: `ConsumerProtocolSubscription`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerSubscription {
    /// The version it was read as sent (a newer one than 3 is read as 3); the
    /// version [`ConsumerSubscription::encode`] writes.
    pub version: i16,
    /// The topics the member wants to consume.
    pub topics: Vec<String>,
    /// The assignor's opaque data (null when absent).
    pub user_data: Option<Bytes>,
    /// Version 1+: the partitions the member owns now.
    pub owned_partitions: Vec<TopicPartitions>,
    /// Version 2+: the generation the member owned them in (-1 when unknown).
    pub generation: i32,
    /// Version 3+: the member's rack (null when absent).
    pub rack: Option<String>,
}

/// The assignor's answer to one member, in SyncGroup: `ConsumerProtocolAssignment`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerAssignment {
    /// The version it was read as sent; the version
    /// [`ConsumerAssignment::encode`] writes (all four have the same fields).
    pub version: i16,
    /// The partitions the member is assigned.
    pub assigned_partitions: Vec<TopicPartitions>,
    /// The assignor's opaque data (null when absent).
    pub user_data: Option<Bytes>,
}

/// Why consumer protocol bytes could not be read, or a message not written.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConsumerProtocolError {
    /// The bytes ended inside a field.
    #[error("the consumer protocol message ends inside {0}")]
    Truncated(&'static str),
    /// A length or count is negative (other than a nullable field's -1) or larger
    /// than the bytes left could hold.
    #[error("{what} has length {length}, but {left} bytes are left")]
    BadLength {
        /// The field.
        what: &'static str,
        /// The length or count it was sent.
        length: i64,
        /// The bytes left after it.
        left: usize,
    },
    /// The version is negative (Kafka refuses versions below 0).
    #[error("consumer protocol version {0} is not supported")]
    UnsupportedVersion(i16),
    /// The message's arrays together hold more than [`MAX_ELEMENTS`] names.
    #[error("the message's arrays hold more than {0} names")]
    TooManyElements(usize),
    /// A string is not UTF-8.
    #[error("{0} is not UTF-8")]
    InvalidUtf8(&'static str),
    /// A string, array or byte field is too long for its length prefix.
    #[error("{0} is too long to encode")]
    TooLong(&'static str),
}

impl ConsumerSubscription {
    /// Reads a subscription (any version from 0; bytes after its last known field
    /// are ignored).
    pub fn decode(bytes: Bytes) -> Result<ConsumerSubscription, ConsumerProtocolError> {
        let mut reader = Reader::new(bytes);
        let version = reader.version()?;
        let topics = reader.strings("topics")?;
        let user_data = reader.nullable_bytes("user_data")?;
        let mut subscription = ConsumerSubscription {
            version,
            topics,
            user_data,
            owned_partitions: Vec::new(),
            generation: -1,
            rack: None,
        };
        if version >= 1 {
            subscription.owned_partitions = reader.topic_partitions("owned_partitions")?;
        }
        if version >= 2 {
            subscription.generation = reader.i32("generation_id")?;
        }
        if version >= 3 {
            subscription.rack = reader.nullable_string("rack_id")?;
        }
        Ok(subscription)
    }

    /// Writes the subscription as its `version` (above 3: as 3), leaving out the
    /// fields that version lacks.
    pub fn encode(&self) -> Result<Bytes, ConsumerProtocolError> {
        let version = written_version(self.version)?;
        let mut writer = Writer::default();
        writer.i16(version);
        writer.strings(&self.topics, "topics")?;
        writer.nullable_bytes(self.user_data.as_ref(), "user_data")?;
        if version >= 1 {
            writer.topic_partitions(&self.owned_partitions, "owned_partitions")?;
        }
        if version >= 2 {
            writer.i32(self.generation);
        }
        if version >= 3 {
            writer.nullable_string(self.rack.as_deref(), "rack_id")?;
        }
        Ok(writer.finish())
    }

    /// The member's generation as Kafka's `CooperativeStickyAssignor` reads it:
    /// the version 2+ field when it is not negative, else the first four bytes of
    /// the user data (where cooperative-sticky clients before version 2 put it),
    /// else -1 (unknown, older than any generation).
    pub fn cooperative_generation(&self) -> i32 {
        if self.generation >= 0 {
            return self.generation;
        }
        match &self.user_data {
            Some(user_data) if user_data.len() >= 4 => user_data.clone().get_i32(),
            _ => -1,
        }
    }
}

impl ConsumerAssignment {
    /// Reads an assignment (any version from 0; bytes after its last known field
    /// are ignored).
    pub fn decode(bytes: Bytes) -> Result<ConsumerAssignment, ConsumerProtocolError> {
        let mut reader = Reader::new(bytes);
        let version = reader.version()?;
        let assigned_partitions = reader.topic_partitions("assigned_partitions")?;
        let user_data = reader.nullable_bytes("user_data")?;
        Ok(ConsumerAssignment {
            version,
            assigned_partitions,
            user_data,
        })
    }

    /// Writes the assignment as its `version` (above 3: as 3).
    pub fn encode(&self) -> Result<Bytes, ConsumerProtocolError> {
        let mut writer = Writer::default();
        writer.i16(written_version(self.version)?);
        writer.topic_partitions(&self.assigned_partitions, "assigned_partitions")?;
        writer.nullable_bytes(self.user_data.as_ref(), "user_data")?;
        Ok(writer.finish())
    }
}

/// The version written for `version`: refused below 0, 3 above 3.
fn written_version(version: i16) -> Result<i16, ConsumerProtocolError> {
    if version < 0 {
        return Err(ConsumerProtocolError::UnsupportedVersion(version));
    }
    Ok(version.min(HIGHEST_VERSION))
}
