//! The cooperative-sticky assignor's placement: every member starts with the
//! partitions it validly owns, the others go to the least loaded subscribers,
//! then moves even the loads out.
//!
//! A chain moves one partition from a member to another subscribed to its topic,
//! one from that member to a third, and so on, so that the first member holds one
//! partition less, the last one more, and the others as many as before; it is
//! worth making when the first holds at least two more than the last. When no
//! such chain is left the loads are as even as the subscriptions allow: their sum
//! of squares is the least any assignment reaches, so the most loaded member
//! holds as few as any assignment lets it, and members subscribed to the same
//! topics hold within one partition of each other. Partitions their holders did
//! not own are always moved before owned ones are considered, so members keep
//! every partition they validly own whenever some balanced assignment lets them.
//!
//! Searching for a chain ([`chain`](super::chain)) walks the whole group, so
//! direct moves come first, from the most loaded member to the least loaded one
//! it can feed: members joining or leaving a group whose members share their
//! topics need no search at all, and when they do, the members that hand over
//! owned partitions are the most loaded ones and those that take them the least
//! loaded, so they keep as many as a balanced assignment allows. The sum of
//! squares falls with every move, so balancing ends. Nothing here indexes a
//! slice or panics.

use super::layout::{Holders, Layout};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// The partitions of one topic that one member holds.
#[derive(Debug, Default)]
struct Holding {
    /// Those it validly owned before this assignment.
    kept: BTreeSet<usize>,
    /// Those it did not.
    fresh: BTreeSet<usize>,
}

/// One move of a chain: `giver` hands a partition of `topic` to `receiver`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hop {
    pub giver: usize,
    pub topic: usize,
    pub receiver: usize,
}

/// Who holds which partition while the assignor works.
#[derive(Debug)]
pub(super) struct Placement<'l, 'a> {
    pub layout: &'l Layout<'a>,
    /// Each partition's valid owner before this assignment.
    owners: Holders,
    /// Each partition's holder now.
    holders: Holders,
    /// How many partitions each member holds.
    pub loads: Vec<usize>,
    /// What each member holds, by topic.
    holdings: Vec<BTreeMap<usize, Holding>>,
}

impl<'l, 'a> Placement<'l, 'a> {
    /// Every member holding the partitions `owners` says it validly owns.
    pub fn new(layout: &'l Layout<'a>, owners: Holders) -> Placement<'l, 'a> {
        let members = layout.members.len();
        let mut placement = Placement {
            layout,
            holders: layout.no_holders(),
            owners,
            loads: vec![0; members],
            holdings: (0..members).map(|_| BTreeMap::new()).collect(),
        };
        let owned: Vec<(usize, usize, usize)> = placement
            .owners
            .iter()
            .enumerate()
            .flat_map(|(topic, owners)| {
                owners
                    .iter()
                    .enumerate()
                    .filter_map(move |(partition, owner)| {
                        owner.map(|member| (member, topic, partition))
                    })
            })
            .collect();
        for (member, topic, partition) in owned {
            placement.place(member, topic, partition);
        }
        placement
    }

    /// Which member holds each partition.
    pub fn into_holders(self) -> Holders {
        self.holders
    }

    /// How many partitions `member` holds.
    pub fn load(&self, member: usize) -> usize {
        self.loads.get(member).copied().unwrap_or_default()
    }

    fn place(&mut self, member: usize, topic: usize, partition: usize) {
        let owned = self.owner(topic, partition) == Some(member);
        if let Some(holder) = self.holder_mut(topic, partition) {
            *holder = Some(member);
        }
        if let Some(load) = self.loads.get_mut(member) {
            *load += 1;
        }
        if let Some(holdings) = self.holdings.get_mut(member) {
            let holding = holdings.entry(topic).or_default();
            match owned {
                true => holding.kept.insert(partition),
                false => holding.fresh.insert(partition),
            };
        }
    }

    fn take(&mut self, member: usize, topic: usize, partition: usize) {
        if let Some(holder) = self.holder_mut(topic, partition) {
            *holder = None;
        }
        if let Some(load) = self.loads.get_mut(member) {
            *load = load.saturating_sub(1);
        }
        if let Some(holding) = self
            .holdings
            .get_mut(member)
            .and_then(|holdings| holdings.get_mut(&topic))
        {
            holding.kept.remove(&partition);
            holding.fresh.remove(&partition);
        }
    }

    /// Moves one partition of `topic` from `giver` to `receiver`, one the giver
    /// did not own if it has one.
    fn hand(
        &mut self,
        Hop {
            giver,
            topic,
            receiver,
        }: Hop,
    ) {
        if let Some(partition) = self.movable(giver, topic, true) {
            self.take(giver, topic, partition);
            self.place(receiver, topic, partition);
        }
    }

    fn owner(&self, topic: usize, partition: usize) -> Option<usize> {
        self.owners
            .get(topic)
            .and_then(|owners| owners.get(partition))
            .copied()
            .flatten()
    }

    fn holder_mut(&mut self, topic: usize, partition: usize) -> Option<&mut Option<usize>> {
        self.holders
            .get_mut(topic)
            .and_then(|holders| holders.get_mut(partition))
    }

    /// A partition of `topic` that `member` could hand over: one it did not own
    /// if any, else (when `owned_too`) one it owned.
    pub fn movable(&self, member: usize, topic: usize, owned_too: bool) -> Option<usize> {
        let holding = self.holdings.get(member)?.get(&topic)?;
        let fresh = holding.fresh.last().copied();
        fresh.or_else(|| owned_too.then(|| holding.kept.last().copied()).flatten())
    }

    /// Gives every partition nobody holds to the least loaded member subscribed
    /// to its topic, topics with the fewest subscribers first.
    pub fn fill(&mut self) {
        let mut topics: Vec<usize> = (0..self.layout.topics.len()).collect();
        topics.sort_by_key(|&topic| {
            let subscribers = self.layout.topics.get(topic).map(|t| t.subscribers.len());
            (subscribers, topic)
        });
        for topic in topics {
            let Some(info) = self.layout.topics.get(topic) else {
                continue;
            };
            let mut lightest: BinaryHeap<Reverse<(usize, usize)>> = info
                .subscribers
                .iter()
                .map(|&member| Reverse((self.load(member), member)))
                .collect();
            for partition in 0..info.partitions {
                let held = self
                    .holders
                    .get(topic)
                    .and_then(|holders| holders.get(partition))
                    .is_some_and(Option::is_some);
                if held {
                    continue;
                }
                let Some(Reverse((load, member))) = lightest.pop() else {
                    break;
                };
                self.place(member, topic, partition);
                lightest.push(Reverse((load + 1, member)));
            }
        }
    }

    /// Moves partitions until no chain is worth making: partitions their holders
    /// did not own first (directly, then by chains), owned ones only when no such
    /// move is left. Once an owned partition has had to move, no balanced
    /// assignment keeps every owned one, so the order matters less from there.
    pub fn balance(&mut self) {
        // Every round moves something, and the sum of squares falls by at least
        // 2 a move: this bound is never reached, it only makes the end plain.
        let mut rounds_left: usize = self.loads.iter().fold(0, |sum: usize, &load| {
            sum.saturating_add(load.saturating_mul(load))
        });
        while rounds_left > 0 {
            rounds_left -= 1;
            if self.sweep(false) {
                continue;
            }
            if let Some(chain) = self.chain(false) {
                chain.into_iter().for_each(|hop| self.hand(hop));
                continue;
            }
            if self.sweep(true) {
                continue;
            }
            match self.chain(true) {
                Some(chain) => chain.into_iter().for_each(|hop| self.hand(hop)),
                None => return,
            }
        }
    }

    /// Moves partitions straight from the most loaded member to the least loaded
    /// one it can hand one to (of the kinds `owned_too` allows), while that
    /// member holds at least two more. Whether it moved anything.
    fn sweep(&mut self, owned_too: bool) -> bool {
        let mut by_load: BTreeSet<(usize, usize)> = self.loads.iter().copied().zip(0..).collect();
        let mut moved = false;
        while let Some(&(most, giver)) = by_load.last() {
            let receiver = by_load
                .iter()
                .take_while(|&&(load, _)| load + 2 <= most)
                .find_map(|&(load, receiver)| {
                    let topics = self.layout.member_topics.get(receiver)?;
                    let topic = topics
                        .iter()
                        .find(|&&topic| self.movable(giver, topic, owned_too).is_some())?;
                    Some((load, receiver, *topic))
                });
            let Some((load, receiver, topic)) = receiver else {
                break;
            };
            by_load.remove(&(most, giver));
            by_load.remove(&(load, receiver));
            self.hand(Hop {
                giver,
                topic,
                receiver,
            });
            by_load.insert((self.load(giver), giver));
            by_load.insert((self.load(receiver), receiver));
            moved = true;
        }
        moved
    }
}
