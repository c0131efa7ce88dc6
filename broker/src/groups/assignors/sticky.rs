//! Kafka's `CooperativeStickyAssignor` (KIP-429), in essence: a balanced
//! assignment that keeps what members own where balance allows, given out so
//! that a partition reaches a new member only once the members that claimed it
//! have revoked it.
//!
//! - **Ownership.** A member's claim on a partition counts when it still
//!   subscribes to the topic and the partition exists. When several members
//!   claim one partition, the highest generation wins, as in Kafka; a tie at the
//!   highest generation leaves it owned by nobody (as Kafka's assignor drops
//!   partitions claimed twice in one generation).
//! - **Balance and stickiness** are [`Placement`]'s, for the assignment aimed at
//!   (what is assigned plus what is withheld): the loads are as even as the
//!   subscriptions allow (members subscribed to the same topics hold within one
//!   partition of each other), and members keep all they validly own whenever
//!   some balanced assignment lets them.
//! - **Cooperation.** A partition that goes to a member that does not validly own
//!   it while another member of the group claims it (in any generation, as
//!   Kafka's `computePartitionsTransferringOwnership` compares against every
//!   member's owned partitions) is withheld: assigned to nobody this generation.
//!   Its owner, not assigned it any more, revokes it and rejoins; the next
//!   rebalance, where nobody claims it, gives it to its new member. A partition
//!   its valid owner keeps is not withheld from it: a member whose claim lost
//!   (an older generation) is simply not assigned it, and revokes it.
//!
//! Pure and deterministic; never panics on what members claim, and keeps claims
//! only for partitions that exist.

use super::balance::Placement;
use super::layout::{Holders, Layout, partition_number};
use super::{GroupAssignment, Withheld};
use std::collections::BTreeMap;

/// Every claimed partition that exists (topic and partition index) with the
/// members claiming it, in member order.
type Claims = BTreeMap<(usize, usize), Vec<usize>>;

/// The group's assignment, with the partitions still owned elsewhere withheld.
pub(super) fn assign(layout: &Layout<'_>) -> GroupAssignment {
    let claims = claims(layout);
    let owners = owners(layout, &claims);
    let mut placement = Placement::new(layout, owners.clone());
    placement.fill();
    placement.balance();
    let mut holders = placement.into_holders();

    let mut withheld = Vec::new();
    for (topic, (info, holders)) in layout.topics.iter().zip(holders.iter_mut()).enumerate() {
        for (partition, holder) in holders.iter_mut().enumerate() {
            let Some(member) = *holder else {
                continue;
            };
            let Some(subscription) = layout.members.get(member) else {
                continue;
            };
            if still_owned_elsewhere(&owners, &claims, member, (topic, partition)) {
                *holder = None;
                withheld.push(Withheld {
                    topic: info.name.to_owned(),
                    partition: partition_number(partition),
                    member_id: subscription.member_id.clone(),
                });
            }
        }
    }
    let mut assignment = layout.assignment(&holders);
    assignment.withheld = withheld;
    assignment
}

/// Whether giving `partition` to `member` must wait: the member does not validly
/// own it, and another member claims it.
fn still_owned_elsewhere(
    owners: &Holders,
    claims: &Claims,
    member: usize,
    (topic, partition): (usize, usize),
) -> bool {
    let owner = owners
        .get(topic)
        .and_then(|owners| owners.get(partition))
        .copied()
        .flatten();
    let claimed_elsewhere = claims
        .get(&(topic, partition))
        .is_some_and(|claimers| claimers.iter().any(|&other| other != member));
    owner != Some(member) && claimed_elsewhere
}

/// Who claims each existing partition (a member once, whatever it repeats).
fn claims(layout: &Layout<'_>) -> Claims {
    let mut claims = Claims::new();
    for (member, subscription) in layout.members.iter().enumerate() {
        for owned in &subscription.owned {
            let Some(topic) = layout.topic(&owned.topic) else {
                continue;
            };
            let partitions = layout.topics.get(topic).map_or(0, |topic| topic.partitions);
            for &partition in &owned.partitions {
                let Some(partition) = usize::try_from(partition)
                    .ok()
                    .filter(|&partition| partition < partitions)
                else {
                    continue;
                };
                let claimers = claims.entry((topic, partition)).or_default();
                if claimers.last() != Some(&member) {
                    claimers.push(member);
                }
            }
        }
    }
    claims
}

/// Each partition's valid owner: among the claimers still subscribed to its
/// topic, the one of the highest generation, if no other shares it.
fn owners(layout: &Layout<'_>, claims: &Claims) -> Holders {
    let mut owners = layout.no_holders();
    for (&(topic, partition), claimers) in claims {
        let generation = |member: usize| layout.members.get(member).map(|m| m.generation);
        let valid: Vec<usize> = claimers
            .iter()
            .copied()
            .filter(|&member| layout.subscribes(member, topic))
            .collect();
        let Some(highest) = valid.iter().filter_map(|&member| generation(member)).max() else {
            continue;
        };
        let mut winners = valid
            .iter()
            .copied()
            .filter(|&member| generation(member) == Some(highest));
        if let (Some(winner), None) = (winners.next(), winners.next())
            && let Some(owner) = owners
                .get_mut(topic)
                .and_then(|owners| owners.get_mut(partition))
        {
            *owner = Some(winner);
        }
    }
    owners
}
