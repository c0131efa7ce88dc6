//! Tests of the consumer protocol: vectors written by kafka-python's encoder and
//! by hand from Kafka's schemas. This module holds what they share.

mod protocol;

use super::*;
use proptest::prelude::*;

/// Topic and partitions from pairs, as members own them and assignments list them.
fn partitions(list: &[(&str, &[i32])]) -> Vec<TopicPartitions> {
    list.iter()
        .map(|(topic, partitions)| TopicPartitions {
            topic: (*topic).to_owned(),
            partitions: partitions.to_vec(),
        })
        .collect()
}
