//! Partition assignors run by the broker, for group members that leave the
//! assignment to it (the native door's clients), as Kafka's consumers run them
//! on the client side. This part is Kafka's consumer protocol
//! ([`ConsumerSubscription`], [`ConsumerAssignment`]) that carries subscriptions
//! and assignments in JoinGroup and SyncGroup, and the member an assignor takes
//! ([`MemberSubscription`]).
//!
//! Nothing here touches a socket, a thread or a clock, or panics on what a
//! member sent.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod consumer_protocol;
#[cfg(test)]
mod tests;
mod wire;

pub use consumer_protocol::{
    ConsumerAssignment, ConsumerProtocolError, ConsumerSubscription, HIGHEST_VERSION, MAX_ELEMENTS,
    TopicPartitions,
};

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
