//! Kafka's `RoundRobinAssignor`: every partition of every subscribed topic, in
//! topic order (Java's string order) and partition order, is dealt to the members
//! in turn (Kafka's member order, round and round), a member not subscribed to
//! the partition's topic being skipped.
//!
//! Balanced within one partition when every member subscribes to the same topics;
//! with different subscriptions it can be unbalanced, as Kafka's is. Pure: nothing
//! here panics or loops forever (every topic here has a subscriber).

use super::layout::{Holders, Layout};

/// Which member holds each partition.
pub(super) fn assign(layout: &Layout<'_>) -> Holders {
    let mut holders = layout.no_holders();
    let members = layout.members.len();
    let mut turn = 0;
    for (index, holders) in holders.iter_mut().enumerate() {
        for holder in holders.iter_mut() {
            // The next member, from `turn` on, subscribed to this topic.
            let Some(member) = (0..members)
                .map(|step| (turn + step) % members)
                .find(|&member| layout.subscribes(member, index))
            else {
                break;
            };
            *holder = Some(member);
            turn = (member + 1) % members;
        }
    }
    holders
}
