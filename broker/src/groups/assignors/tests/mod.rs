//! Tests of the consumer protocol and the assignors: vectors written by
//! kafka-python's encoder and by hand from Kafka's schemas, Kafka's documented
//! examples, naive reimplementations to compare with, and properties over random
//! groups. This module holds what they share: building members, reading an
//! assignment back, random groups, and a balance check written independently of
//! the assignor's own.

mod examples;
mod protocol;
mod sticky;
mod sticky_random;

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

/// The assignment the assignor aims at: assigned and withheld partitions together.
fn target(assignment: &GroupAssignment) -> BTreeMap<Partition, String> {
    let mut target = holders(assignment);
    for withheld in &assignment.withheld {
        let key = (withheld.topic.clone(), withheld.partition);
        let previous = target.insert(key, withheld.member_id.clone());
        assert_eq!(previous, None, "{withheld:?} is also assigned");
    }
    target
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

/// Checks balance the long way: from every member, walk the members it could
/// hand a partition to, and those they could, and so on; none reached may hold
/// two fewer. Members with the same topics are then within one of each other,
/// which is checked too.
fn check_balanced(members: &[MemberSubscription], holders: &BTreeMap<Partition, String>) {
    let loads = loads(members, holders);
    let topics_of = |id: &str| -> BTreeSet<&String> {
        members
            .iter()
            .filter(|m| m.member_id == id)
            .flat_map(|m| m.topics.iter())
            .collect()
    };
    // Who can receive from whom: a holds a partition of a topic b subscribes to.
    let can_give = |giver: &str, receiver: &str| {
        let wanted = topics_of(receiver);
        holders
            .iter()
            .any(|((topic, _), holder)| holder == giver && wanted.contains(topic))
    };
    for (start, &start_load) in &loads {
        let mut seen = BTreeSet::from([start.clone()]);
        let mut queue = VecDeque::from([start.clone()]);
        while let Some(giver) = queue.pop_front() {
            for (receiver, &receiver_load) in &loads {
                if seen.contains(receiver) || !can_give(&giver, receiver) {
                    continue;
                }
                assert!(
                    receiver_load + 2 > start_load,
                    "{start} holds {start_load} and could hand one on to {receiver}, who holds {receiver_load}: {holders:?}"
                );
                seen.insert(receiver.clone());
                queue.push_back(receiver.clone());
            }
        }
    }
    for left in members {
        for right in members {
            let same: bool = topics_of(&left.member_id) == topics_of(&right.member_id);
            let (l, r) = (loads[&left.member_id], loads[&right.member_id]);
            assert!(
                !same || l.abs_diff(r) <= 1,
                "{l} and {r} with the same topics"
            );
        }
    }
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
