//! One node of the subject trie: the subscriptions whose subject ends here, and the
//! children one token further down (literal tokens by name, `*` and `>` apart).
//!
//! A node knows nothing of other nodes beyond their ids; it never walks the trie and
//! never touches the cache. Every removal checks the subscription's serial, so a
//! stale key can never remove a subscription that reused its slot.

use std::collections::HashMap;
use std::sync::Arc;

use slab::Slab;

use super::children::Children;
use super::validate::{FULL_WILDCARD, SINGLE_WILDCARD};

/// The id of a node in the trie's arena.
pub(super) type NodeId = usize;

/// The token that leads from a node's parent to it.
#[derive(Debug)]
pub(super) enum Edge {
    Literal(Box<[u8]>),
    SingleWildcard,
    FullWildcard,
}

impl Edge {
    /// The edge that `token` follows.
    pub(super) fn for_token(token: &[u8]) -> Self {
        if token == SINGLE_WILDCARD {
            Self::SingleWildcard
        } else if token == FULL_WILDCARD {
            Self::FullWildcard
        } else {
            Self::Literal(token.into())
        }
    }

    /// The token as it appears in a subject.
    pub(super) fn token(&self) -> &[u8] {
        match self {
            Self::Literal(token) => token,
            Self::SingleWildcard => SINGLE_WILDCARD,
            Self::FullWildcard => FULL_WILDCARD,
        }
    }
}

/// One subscription's value, with the serial that tells it from a later
/// subscription stored in the same slot.
#[derive(Debug)]
pub(super) struct Entry<T> {
    pub(super) serial: u64,
    pub(super) value: T,
}

/// The members of one queue group that subscribed with this node's subject.
#[derive(Debug)]
pub(super) struct QueueGroup<T> {
    pub(super) name: Arc<[u8]>,
    pub(super) members: Slab<Entry<T>>,
}

/// The queue groups of one node, kept apart so that the many nodes with none pay
/// one pointer.
#[derive(Debug)]
struct QueueGroups<T> {
    groups: Slab<QueueGroup<T>>,
    /// Where each group of `groups` is, by name.
    slots: HashMap<Arc<[u8]>, usize>,
}

/// A node of the trie.
#[derive(Debug)]
pub(super) struct Node<T> {
    /// The parent and the edge from it; `None` only for the root.
    pub(super) parent: Option<(NodeId, Edge)>,
    pub(super) literals: Children,
    pub(super) single_wildcard: Option<NodeId>,
    pub(super) full_wildcard: Option<NodeId>,
    pub(super) plain: Slab<Entry<T>>,
    /// `None` while no queue group subscribed here.
    queues: Option<Box<QueueGroups<T>>>,
}

impl<T> Node<T> {
    pub(super) fn new(parent: Option<(NodeId, Edge)>) -> Self {
        Self {
            parent,
            literals: Children::new(),
            single_wildcard: None,
            full_wildcard: None,
            plain: Slab::new(),
            queues: None,
        }
    }

    /// The child that `token` leads to, if there is one.
    pub(super) fn child(&self, token: &[u8]) -> Option<NodeId> {
        if token == SINGLE_WILDCARD {
            self.single_wildcard
        } else if token == FULL_WILDCARD {
            self.full_wildcard
        } else {
            self.literals.get(token)
        }
    }

    /// Makes `child` the node that `token` leads to.
    pub(super) fn attach(&mut self, token: &[u8], child: NodeId) {
        match Edge::for_token(token) {
            Edge::SingleWildcard => self.single_wildcard = Some(child),
            Edge::FullWildcard => self.full_wildcard = Some(child),
            Edge::Literal(token) => {
                self.literals.insert(token, child);
            }
        }
    }

    /// Forgets the child behind `edge`.
    pub(super) fn detach(&mut self, edge: &Edge) {
        match edge {
            Edge::SingleWildcard => self.single_wildcard = None,
            Edge::FullWildcard => self.full_wildcard = None,
            Edge::Literal(token) => self.literals.remove(token),
        }
    }

    /// Whether the node holds no subscription and has no child, so it can go.
    pub(super) fn is_unused(&self) -> bool {
        self.plain.is_empty()
            && self.queues.is_none()
            && self.literals.is_empty()
            && self.single_wildcard.is_none()
            && self.full_wildcard.is_none()
    }

    /// Adds a subscription, to the queue group `queue` if given. Returns the group's
    /// slot (if any) and the subscription's slot.
    pub(super) fn add(
        &mut self,
        queue: Option<&[u8]>,
        serial: u64,
        value: T,
    ) -> (Option<usize>, usize) {
        let entry = Entry { serial, value };
        let Some(queue) = queue else {
            // Most subjects have one subscriber: room for four would waste three.
            if self.plain.capacity() == 0 {
                self.plain.reserve_exact(1);
            }
            return (None, self.plain.insert(entry));
        };
        let queues = self.queues.get_or_insert_with(|| {
            Box::new(QueueGroups {
                groups: Slab::new(),
                slots: HashMap::new(),
            })
        });
        let group = match queues.slots.get(queue) {
            Some(group) => *group,
            None => {
                let name: Arc<[u8]> = queue.into();
                let group = queues.groups.insert(QueueGroup {
                    name: Arc::clone(&name),
                    members: Slab::new(),
                });
                queues.slots.insert(name, group);
                group
            }
        };
        let slot = match queues.groups.get_mut(group) {
            Some(found) => found.members.insert(entry),
            // Unreachable: `slots` only names groups in `groups`.
            None => return (None, self.plain.insert(entry)),
        };
        (Some(group), slot)
    }

    /// The value of the subscription in `slot` (of `group`, if given), if its serial
    /// is `serial`.
    pub(super) fn get(&self, group: Option<usize>, slot: usize, serial: u64) -> Option<&T> {
        let entries = match group {
            None => &self.plain,
            Some(group) => &self.queues.as_ref()?.groups.get(group)?.members,
        };
        entries
            .get(slot)
            .filter(|entry| entry.serial == serial)
            .map(|entry| &entry.value)
    }

    /// Takes out the subscription in `slot` (of `group`, if given) if its serial is
    /// `serial`; forgets a queue group that loses its last member.
    pub(super) fn remove(&mut self, group: Option<usize>, slot: usize, serial: u64) -> Option<T> {
        let Some(group) = group else {
            return take_entry(&mut self.plain, slot, serial);
        };
        let queues = self.queues.as_mut()?;
        let found = queues.groups.get_mut(group)?;
        let value = take_entry(&mut found.members, slot, serial)?;
        if found.members.is_empty() {
            if let Some(emptied) = queues.groups.try_remove(group) {
                queues.slots.remove(&emptied.name);
            }
            if queues.groups.is_empty() {
                self.queues = None;
            }
        }
        Some(value)
    }

    /// The queue groups with members here.
    pub(super) fn groups(&self) -> impl Iterator<Item = &QueueGroup<T>> {
        self.queues
            .iter()
            .flat_map(|queues| queues.groups.iter().map(|(_, group)| group))
    }

    /// Every subscription here: its queue group's name (if any) and its value.
    pub(super) fn subscriptions(&self) -> impl Iterator<Item = (Option<&[u8]>, &T)> {
        let plain = self.plain.iter().map(|(_, entry)| (None, &entry.value));
        let grouped = self.groups().flat_map(|group| {
            group
                .members
                .iter()
                .map(move |(_, entry)| (Some(&*group.name), &entry.value))
        });
        plain.chain(grouped)
    }
}

fn take_entry<T>(entries: &mut Slab<Entry<T>>, slot: usize, serial: u64) -> Option<T> {
    if entries.get(slot)?.serial != serial {
        return None;
    }
    entries.try_remove(slot).map(|entry| entry.value)
}
