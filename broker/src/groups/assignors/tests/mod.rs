//! Tests of the consumer protocol and the assignors: vectors written by
//! kafka-python's encoder and by hand from Kafka's schemas, Kafka's documented
//! examples, naive reimplementations to compare with, and properties over random
//! groups. This module holds what they share: building members, reading an
//! assignment back, and random groups.

mod examples;
mod protocol;

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A topic and partition.
type Partition = (String, i32);

/// A dynamic member subscribed to `topics`, owning nothing.
fn member(id: &str, topics: &[&str]) -> MemberSubscription {
    MemberSubscription {
        member_id: id.to_owned(),
        instance_id: None,
        topics: topics.iter().map(|topic| (*topic).to_owned()).collect(),
        owned: Vec::new(),
        generation: -1,
    }
}

/// Partition counts from pairs.
fn counts(topics: &[(&str, i32)]) -> BTreeMap<String, i32> {
    topics
        .iter()
        .map(|(topic, count)| ((*topic).to_owned(), *count))
        .collect()
}

/// Topic and partitions from pairs, as members own them and assignments list them.
fn partitions(list: &[(&str, &[i32])]) -> Vec<TopicPartitions> {
    list.iter()
        .map(|(topic, partitions)| TopicPartitions {
            topic: (*topic).to_owned(),
            partitions: partitions.to_vec(),
        })
        .collect()
}

/// Each assigned partition with its member, failing on a partition assigned twice.
fn holders(assignment: &GroupAssignment) -> BTreeMap<Partition, String> {
    let mut holders = BTreeMap::new();
    for (member, topics) in &assignment.members {
        for topic in topics {
            for &partition in &topic.partitions {
                let previous = holders.insert((topic.topic.clone(), partition), member.clone());
                assert_eq!(previous, None, "{}-{partition} assigned twice", topic.topic);
            }
        }
    }
    holders
}

/// Every partition of a topic someone subscribes to (and that has partitions).
fn subscribed_partitions(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
) -> BTreeSet<Partition> {
    let topics: BTreeSet<&String> = members.iter().flat_map(|m| m.topics.iter()).collect();
    topics
        .into_iter()
        .flat_map(|topic| {
            let count = partition_counts.get(topic).copied().unwrap_or(0);
            (0..count.max(0)).map(move |partition| (topic.clone(), partition))
        })
        .collect()
}

/// Checks that `holders` covers every subscribed partition once, each with a
/// member subscribed to its topic.
fn check_complete(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
    holders: &BTreeMap<Partition, String>,
) {
    let expected = subscribed_partitions(members, partition_counts);
    let covered: BTreeSet<Partition> = holders.keys().cloned().collect();
    assert_eq!(covered, expected, "partitions covered");
    for ((topic, partition), member_id) in holders {
        let member = members.iter().find(|m| &m.member_id == member_id);
        let member = member.unwrap_or_else(|| panic!("{member_id} is not a member"));
        assert!(
            member.topics.contains(topic),
            "{member_id} got {topic}-{partition} without subscribing to it"
        );
    }
}

/// Each member's load (members without partitions included).
fn loads(
    members: &[MemberSubscription],
    holders: &BTreeMap<Partition, String>,
) -> BTreeMap<String, usize> {
    let mut loads: BTreeMap<String, usize> =
        members.iter().map(|m| (m.member_id.clone(), 0)).collect();
    for member in holders.values() {
        *loads.entry(member.clone()).or_default() += 1;
    }
    loads
}

/// The topics random groups draw from.
const TOPICS: [&str; 5] = ["alpha", "beta", "gamma", "delta", "epsilon"];

/// A random group: 1-5 topics of 0-20 partitions, and 1-10 members, each with a
/// random subscription, random claims (some on partitions that do not exist or
/// topics it does not subscribe to) and a generation from -1 to 3; every third
/// member or so is static.
fn random_group() -> impl Strategy<Value = (Vec<MemberSubscription>, BTreeMap<String, i32>)> {
    let topics = proptest::collection::vec(0i32..=20, 1..=5);
    let member = (
        proptest::collection::vec(any::<bool>(), 5),
        proptest::collection::vec((0usize..6, 0i32..22), 0..8),
        -1i32..=3,
        0u8..3,
    );
    (topics, proptest::collection::vec(member, 1..=10)).prop_map(|(sizes, members)| {
        let partition_counts: BTreeMap<String, i32> = TOPICS
            .iter()
            .zip(&sizes)
            .map(|(topic, size)| ((*topic).to_owned(), *size))
            .collect();
        let members = members
            .into_iter()
            .enumerate()
            .map(|(index, (subscribed, claims, generation, kind))| {
                let topics = TOPICS
                    .iter()
                    .zip(&subscribed)
                    .take(sizes.len())
                    .filter(|(_, on)| **on)
                    .map(|(topic, _)| (*topic).to_owned())
                    .collect();
                let owned = claims
                    .into_iter()
                    .map(|(topic, partition)| TopicPartitions {
                        topic: TOPICS.get(topic).unwrap_or(&"unknown").to_string(),
                        partitions: vec![partition],
                    })
                    .collect();
                MemberSubscription {
                    member_id: format!("member-{index}"),
                    instance_id: (kind == 0).then(|| format!("instance-{}", 9 - index)),
                    topics,
                    owned,
                    generation,
                }
            })
            .collect();
        (members, partition_counts)
    })
}
