//! Partition assignors run by the broker, for group members that leave the
//! assignment to it (the native door's clients), as Kafka's consumers run them
//! on the client side: [`Assignor::Range`] (Kafka's `RangeAssignor`),
//! [`Assignor::RoundRobin`] (`RoundRobinAssignor`) and
//! [`Assignor::CooperativeSticky`] (`CooperativeStickyAssignor`), named as Kafka
//! names them in JoinGroup's protocols, and Kafka's consumer protocol
//! ([`ConsumerSubscription`], [`ConsumerAssignment`]) that carries subscriptions
//! and assignments in JoinGroup and SyncGroup.
//!
//! Each assignor is a pure function from the members' subscriptions and each
//! topic's partition count to each member's partitions: it never touches a
//! socket, a thread, a clock or a random number, never panics on what a member
//! sent, and gives the same answer to the same question.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod balance;
mod chain;
mod consumer_protocol;
mod layout;
mod range;
mod round_robin;
mod sticky;
#[cfg(test)]
mod tests;
mod wire;

pub use consumer_protocol::{
    ConsumerAssignment, ConsumerProtocolError, ConsumerSubscription, HIGHEST_VERSION, MAX_ELEMENTS,
    TopicPartitions,
};

use std::collections::BTreeMap;

/// One group member as an assignor sees it: who it is and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberSubscription {
    /// The member id the coordinator gave it (unique in the group).
    pub member_id: String,
    /// A static member's `group.instance.id`.
    pub instance_id: Option<String>,
    /// The topics it subscribes to.
    pub topics: Vec<String>,
    /// The partitions it says it owns now (cooperative-sticky only).
    pub owned: Vec<TopicPartitions>,
    /// The generation it owned them in, -1 when unknown (cooperative-sticky only).
    pub generation: i32,
}

impl MemberSubscription {
    /// The member as its JoinGroup metadata describes it (the generation as
    /// Kafka's cooperative-sticky assignor reads it).
    pub fn from_consumer(
        member_id: &str,
        instance_id: Option<&str>,
        subscription: &ConsumerSubscription,
    ) -> MemberSubscription {
        MemberSubscription {
            member_id: member_id.to_owned(),
            instance_id: instance_id.map(str::to_owned),
            topics: subscription.topics.clone(),
            owned: subscription.owned_partitions.clone(),
            generation: subscription.cooperative_generation(),
        }
    }
}

/// A partition the cooperative-sticky assignor gives to nobody this generation
/// because another member still owns it: that member revokes it first, and a
/// follow-up rebalance gives it to `member_id`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Withheld {
    /// The partition's topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The member it moves to.
    pub member_id: String,
}

/// What an assignor decided for the whole group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupAssignment {
    /// Every member's partitions, by member id (members given nothing included):
    /// topics in order, each with its partitions in ascending order.
    pub members: BTreeMap<String, Vec<TopicPartitions>>,
    /// Partitions given to nobody this generation (cooperative-sticky only), in
    /// topic and partition order; while any is left, the group needs another
    /// rebalance once their owners have revoked them.
    pub withheld: Vec<Withheld>,
}

/// One of Kafka's assignors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Assignor {
    /// `range`: per topic, contiguous ranges of partitions, the first members
    /// (in Kafka's member order) getting one more.
    Range,
    /// `roundrobin`: every subscribed partition, in topic and partition order,
    /// dealt to the members in turn, skipping those not subscribed to its topic.
    RoundRobin,
    /// `cooperative-sticky`: balanced, keeps what members own where balance
    /// allows, and withholds a moving partition until its owner has revoked it.
    CooperativeSticky,
}

impl Assignor {
    /// Every assignor.
    pub const ALL: [Assignor; 3] = [
        Assignor::Range,
        Assignor::CooperativeSticky,
        Assignor::RoundRobin,
    ];

    /// The assignor a JoinGroup protocol names, spelt as Kafka spells it.
    pub fn from_name(name: &str) -> Option<Assignor> {
        Assignor::ALL
            .into_iter()
            .find(|assignor| assignor.name() == name)
    }

    /// The protocol name Kafka's consumers give it in JoinGroup.
    pub const fn name(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::RoundRobin => "roundrobin",
            Assignor::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// Whether it follows Kafka's cooperative rebalance protocol (members keep
    /// their partitions through a rebalance and revoke only what they lose),
    /// rather than the eager one (members give everything up first).
    pub const fn cooperative(self) -> bool {
        matches!(self, Assignor::CooperativeSticky)
    }

    /// Assigns the partitions of every subscribed topic that `partition_counts`
    /// gives more than 0 partitions (others are skipped, as Kafka skips topics
    /// without metadata) to the `members`. A member id listed twice counts once
    /// (its first entry).
    pub fn assign(
        self,
        members: &[MemberSubscription],
        partition_counts: &BTreeMap<String, i32>,
    ) -> GroupAssignment {
        let layout = layout::Layout::new(members, partition_counts);
        match self {
            Assignor::Range => layout.assignment(&range::assign(&layout)),
            Assignor::RoundRobin => layout.assignment(&round_robin::assign(&layout)),
            Assignor::CooperativeSticky => sticky::assign(&layout),
        }
    }
}
