//! Kafka's rules that the broker's doors and its store share: the murmur2
//! partitioner (the partition Kafka's Java client and kafka-python choose for a
//! key) and topic names (`org.apache.kafka.common.internals.Topic`).
//!
//! Pure functions over bytes, kept in one place so a door and the store can never
//! disagree about where a key goes or which name is legal. This module must never
//! touch the disk or depend on a door or the store.

mod murmur2;
mod topic;

pub use murmur2::{murmur2, partition_for_key, to_positive};
pub use topic::{
    InvalidTopicName, MAX_TOPIC_NAME_BYTES, TopicName, check_topic_name, validate_topic_name,
};
