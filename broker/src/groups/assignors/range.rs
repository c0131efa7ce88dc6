//! Kafka's `RangeAssignor`: for each topic on its own, its partitions in order
//! are cut into contiguous ranges, one for each member subscribed to it in
//! Kafka's member order, the first `partitions % members` ranges one longer.
//!
//! With several topics of the same size the same members get the longer ranges
//! every time; that is Kafka's behaviour and clients rely on it (co-partitioned
//! topics land on the same member), so it is kept. Pure: nothing here panics or
//! allocates beyond one slot for each partition.

use super::layout::{Holders, Layout};

/// Which member holds each partition.
pub(super) fn assign(layout: &Layout<'_>) -> Holders {
    let mut holders = layout.no_holders();
    for (topic, holders) in layout.topics.iter().zip(holders.iter_mut()) {
        let members = topic.subscribers.len();
        if members == 0 {
            continue;
        }
        let each = topic.partitions / members;
        let longer = topic.partitions % members;
        let mut next = holders.iter_mut();
        for (rank, &member) in topic.subscribers.iter().enumerate() {
            let length = each + usize::from(rank < longer);
            next.by_ref()
                .take(length)
                .for_each(|holder| *holder = Some(member));
        }
    }
    holders
}
