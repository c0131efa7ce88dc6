//! The group as every assignor sees it: members in Kafka's member order, the
//! topics that have partitions in Java's string order, who subscribes to what;
//! and the way back from "which member holds each partition" to a
//! [`GroupAssignment`].
//!
//! Orders are Kafka's so that the same group gets the same assignment from the
//! broker as from a Kafka client: Java compares strings by UTF-16 code units,
//! and Kafka's `MemberInfo` puts static members first, by group instance id, then
//! dynamic ones by member id. Nothing here panics, whatever the members sent.

use super::{GroupAssignment, MemberSubscription, TopicPartitions};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One topic with partitions that at least one member subscribes to.
#[derive(Debug)]
pub(super) struct Topic<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its partition count (more than 0).
    pub partitions: usize,
    /// The members subscribed to it, in member order.
    pub subscribers: Vec<usize>,
}

/// Which member holds each partition, if any: by topic, then partition.
pub(super) type Holders = Vec<Vec<Option<usize>>>;

/// The members and topics of one assignment, indexed.
#[derive(Debug)]
pub(super) struct Layout<'a> {
    /// The members in Kafka's member order, each id once.
    pub members: Vec<&'a MemberSubscription>,
    /// The topics, in Java's string order.
    pub topics: Vec<Topic<'a>>,
    /// Each member's topics (indices into `topics`), ascending.
    pub member_topics: Vec<Vec<usize>>,
    /// Each topic's index by name.
    by_name: BTreeMap<&'a str, usize>,
}

/// Java's `String.compareTo`: UTF-16 code units in order.
pub(super) fn java_order(left: &str, right: &str) -> Ordering {
    left.encode_utf16().cmp(right.encode_utf16())
}

/// Kafka's `MemberInfo` order: static members first, by group instance id, then
/// dynamic members by member id (and member id between equal instance ids).
fn member_order(left: &MemberSubscription, right: &MemberSubscription) -> Ordering {
    let by_instance = match (&left.instance_id, &right.instance_id) {
        (Some(left), Some(right)) => java_order(left, right),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    by_instance.then_with(|| java_order(&left.member_id, &right.member_id))
}

impl<'a> Layout<'a> {
    /// Indexes `members` (a repeated member id counts once) and the topics they
    /// subscribe to that `partition_counts` gives more than 0 partitions.
    pub fn new(
        members: &'a [MemberSubscription],
        partition_counts: &'a BTreeMap<String, i32>,
    ) -> Layout<'a> {
        let mut unique: BTreeMap<&str, &MemberSubscription> = BTreeMap::new();
        for member in members {
            unique.entry(member.member_id.as_str()).or_insert(member);
        }
        let mut members: Vec<&MemberSubscription> = unique.into_values().collect();
        members.sort_by(|left, right| member_order(left, right));

        let mut names: Vec<&str> = members
            .iter()
            .flat_map(|member| member.topics.iter())
            .filter(|topic| partition_counts.get(*topic).is_some_and(|&count| count > 0))
            .map(String::as_str)
            .collect();
        names.sort_by(|left, right| java_order(left, right));
        names.dedup();
        let by_name: BTreeMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(index, name)| (*name, index))
            .collect();
        let mut topics: Vec<Topic<'_>> = names
            .iter()
            .map(|name| Topic {
                name,
                partitions: partition_counts
                    .get(*name)
                    .and_then(|&count| usize::try_from(count).ok())
                    .unwrap_or_default(),
                subscribers: Vec::new(),
            })
            .collect();

        let mut member_topics = Vec::with_capacity(members.len());
        for (index, member) in members.iter().enumerate() {
            let mut subscribed: Vec<usize> = member
                .topics
                .iter()
                .filter_map(|topic| by_name.get(topic.as_str()).copied())
                .collect();
            subscribed.sort_unstable();
            subscribed.dedup();
            for &topic in &subscribed {
                if let Some(topic) = topics.get_mut(topic) {
                    topic.subscribers.push(index);
                }
            }
            member_topics.push(subscribed);
        }
        Layout {
            members,
            topics,
            member_topics,
            by_name,
        }
    }

    /// The index of the topic named `name`, if it is in the layout.
    pub fn topic(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Whether `member` subscribes to `topic`.
    pub fn subscribes(&self, member: usize, topic: usize) -> bool {
        self.member_topics
            .get(member)
            .is_some_and(|topics| topics.binary_search(&topic).is_ok())
    }

    /// Every partition held by nobody.
    pub fn no_holders(&self) -> Holders {
        self.topics
            .iter()
            .map(|topic| vec![None; topic.partitions])
            .collect()
    }

    /// The group assignment that gives each member the partitions `holders` say
    /// it holds (nothing withheld).
    pub fn assignment(&self, holders: &Holders) -> GroupAssignment {
        let mut assigned: Vec<Vec<TopicPartitions>> = vec![Vec::new(); self.members.len()];
        for (topic, holders) in self.topics.iter().zip(holders) {
            for (partition, holder) in holders.iter().enumerate() {
                let Some(topics) = holder.and_then(|member| assigned.get_mut(member)) else {
                    continue;
                };
                let partition = partition_number(partition);
                match topics.last_mut() {
                    Some(last) if last.topic == topic.name => last.partitions.push(partition),
                    _ => topics.push(TopicPartitions {
                        topic: topic.name.to_owned(),
                        partitions: vec![partition],
                    }),
                }
            }
        }
        GroupAssignment {
            members: self
                .members
                .iter()
                .zip(assigned)
                .map(|(member, topics)| (member.member_id.clone(), topics))
                .collect(),
            withheld: Vec::new(),
        }
    }
}

/// A partition index as Kafka numbers partitions (indices are below a count
/// that came as an `i32`, so they fit).
pub(super) fn partition_number(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}
