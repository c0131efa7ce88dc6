//! What one published subject matched: the plain subscribers, and per queue group
//! every member, so that the core can deliver to all of the first and to one of each
//! group.
//!
//! A result only holds copies of the subscribers' values; it never points back into
//! the trie, and it never decides which member of a group receives a message.

use std::collections::HashMap;
use std::sync::Arc;

/// The subscriptions one literal subject matched, as nats-server's `SublistResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matches<T> {
    plain: Vec<T>,
    groups: Vec<QueueGroupMatches<T>>,
}

/// The members of one queue group that matched a subject, across every subscription
/// subject they used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueGroupMatches<T> {
    name: Arc<[u8]>,
    members: Vec<T>,
}

impl<T> Matches<T> {
    /// A result that matched nothing.
    pub const fn new() -> Self {
        Self {
            plain: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// The matched subscriptions that belong to no queue group: each one receives
    /// the message.
    pub fn plain(&self) -> &[T] {
        &self.plain
    }

    /// The matched queue groups, each with all its matched members: one member of
    /// each receives the message. A queue group appears at most once.
    pub fn groups(&self) -> &[QueueGroupMatches<T>] {
        &self.groups
    }

    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.groups.is_empty()
    }

    /// How many deliveries the message makes: one per plain subscription and one per
    /// queue group (nats-server's fanout).
    pub fn fanout(&self) -> usize {
        self.plain.len() + self.groups.len()
    }

    /// How many values this result holds: plain subscriptions plus every member of
    /// every group. The cache bounds the sum of these.
    pub fn values(&self) -> usize {
        self.plain.len()
            + self
                .groups
                .iter()
                .map(|group| group.members.len())
                .sum::<usize>()
    }

    /// Forgets every value, keeping the plain list's allocation for the next result.
    pub(super) fn clear(&mut self) {
        self.plain.clear();
        self.groups.clear();
    }

    /// Gives back memory this result reserved for a larger one before it is kept for
    /// long, so a cached entry costs about what it holds.
    pub(super) fn shrink_to_content(&mut self) {
        if self.plain.capacity() > 2 * self.plain.len() + 16 {
            self.plain.shrink_to_fit();
        }
    }

    /// Adds a plain subscription's value.
    pub(super) fn push_plain(&mut self, value: &T)
    where
        T: Clone,
    {
        self.plain.push(value.clone());
    }

    /// Adds members of the queue group `name`, merging with members already matched
    /// through another subscription subject. `slots` maps a group name to its place in
    /// this result once there are many groups; it must start empty for each result.
    pub(super) fn extend_group<'a>(
        &mut self,
        name: &Arc<[u8]>,
        members: impl Iterator<Item = &'a T>,
        slots: &mut HashMap<Arc<[u8]>, usize>,
    ) where
        T: Clone + 'a,
    {
        let slot = match self.find_group(name, slots) {
            Some(slot) => slot,
            None => {
                self.groups.push(QueueGroupMatches {
                    name: Arc::clone(name),
                    members: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        if let Some(group) = self.groups.get_mut(slot) {
            group.members.extend(members.cloned());
        }
    }

    /// The place of the group `name` in this result: found by comparing names while
    /// there are few groups, through `slots` (brought up to date first) once there
    /// are many, so a subject matching thousands of groups stays linear.
    fn find_group(&self, name: &[u8], slots: &mut HashMap<Arc<[u8]>, usize>) -> Option<usize> {
        const COMPARED_MOST: usize = 16;
        if self.groups.len() <= COMPARED_MOST {
            return self.groups.iter().position(|group| *group.name == *name);
        }
        // `slots` knows the first `slots.len()` groups: groups are only appended.
        for (slot, group) in self.groups.iter().enumerate().skip(slots.len()) {
            slots.insert(Arc::clone(&group.name), slot);
        }
        slots.get(name).copied()
    }
}

impl<T> Default for Matches<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> QueueGroupMatches<T> {
    /// The queue group's name.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Every matched member of the group; never empty.
    pub fn members(&self) -> &[T] {
        &self.members
    }
}
