//! The search for a chain of moves worth making, for [`Placement::balance`]: a
//! breadth-first walk back from the least loaded members, level by level, to the
//! members that could hand them a partition, directly or through others.
//!
//! One walk visits each member and expands each topic once, so it costs about
//! as much as the subscriptions are long. It never indexes a slice or panics,
//! and a chain it returns has at most one move per member.

use super::balance::{Hop, Placement};
use std::collections::VecDeque;

impl Placement<'_, '_> {
    /// A chain worth making, if any: a breadth-first walk back from the least
    /// loaded members, level by level, to the members that could hand them a
    /// partition (directly or through others); the first level that reaches a
    /// member holding two more than the level gives the chain from the most
    /// loaded member it reached.
    pub(super) fn chain(&self, owned_too: bool) -> Option<Vec<Hop>> {
        let members = self.loads.len();
        let mut order: Vec<usize> = (0..members).collect();
        order.sort_by_key(|&member| (self.load(member), member));
        let mut next: Vec<Option<Hop>> = vec![None; members];
        let mut visited = vec![false; members];
        let mut expanded = vec![false; self.layout.topics.len()];
        let mut queue = VecDeque::new();
        let mut heaviest: Option<usize> = None;
        let mut sources = order.into_iter().peekable();
        while let Some(&lightest) = sources.peek() {
            let level = self.load(lightest);
            while let Some(source) = sources.next_if(|&member| self.load(member) == level) {
                if let Some(seen) = visited.get_mut(source)
                    && !*seen
                {
                    *seen = true;
                    queue.push_back(source);
                }
            }
            while let Some(receiver) = queue.pop_front() {
                let topics = self
                    .layout
                    .member_topics
                    .get(receiver)
                    .into_iter()
                    .flatten();
                for &topic in topics {
                    match expanded.get_mut(topic) {
                        Some(done) if !*done => *done = true,
                        _ => continue,
                    }
                    let givers = self.layout.topics.get(topic).into_iter();
                    for &giver in givers.flat_map(|topic| topic.subscribers.iter()) {
                        let Some(seen) = visited.get_mut(giver) else {
                            continue;
                        };
                        if *seen || self.movable(giver, topic, owned_too).is_none() {
                            continue;
                        }
                        *seen = true;
                        if let Some(hop) = next.get_mut(giver) {
                            *hop = Some(Hop {
                                giver,
                                topic,
                                receiver,
                            });
                        }
                        queue.push_back(giver);
                        if heaviest.is_none_or(|member| self.load(giver) > self.load(member)) {
                            heaviest = Some(giver);
                        }
                    }
                }
            }
            if let Some(start) = heaviest
                && self.load(start) >= level + 2
            {
                let mut chain = Vec::new();
                let mut at = start;
                while let Some(hop) = next.get(at).copied().flatten()
                    && chain.len() < members
                {
                    chain.push(hop);
                    at = hop.receiver;
                }
                return Some(chain);
            }
        }
        None
    }
}
