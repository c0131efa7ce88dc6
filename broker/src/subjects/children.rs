//! The literal children of one trie node, by token: a short list compared in order
//! while there are few (most nodes have one or two), a hash map once there are many,
//! so a lookup costs a few integer comparisons on a narrow node and one hash on a
//! wide one. Each list entry carries a fingerprint of its token, so a lookup reads
//! the token's bytes (a separate allocation, often not in the CPU cache) only when
//! the fingerprint agrees.
//!
//! This only maps tokens to node ids; it never holds `*` or `>` (the node keeps
//! those apart) and never decides what a token means.

use std::collections::HashMap;

use super::node::NodeId;

/// Above this many children the list becomes a map.
const LIST_MOST: usize = 8;

/// At or below this many children a map becomes a list again (below `LIST_MOST`, so
/// that one child coming and going at the edge does not rebuild every time).
const MAP_FEWEST: usize = 4;

/// Literal children by token.
#[derive(Debug)]
pub(super) enum Children {
    List(Vec<Listed>),
    Map(HashMap<Box<[u8]>, NodeId>),
}

/// One child in the list form.
#[derive(Debug)]
pub(super) struct Listed {
    fingerprint: u64,
    token: Box<[u8]>,
    child: NodeId,
}

/// A cheap summary of a token: equal tokens have equal fingerprints. Not a defence
/// against chosen collisions, which only cost a byte comparison in a list of at most
/// `LIST_MOST`.
fn fingerprint(token: &[u8]) -> u64 {
    token.iter().fold(token.len() as u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Children {
    pub(super) fn new() -> Self {
        Self::List(Vec::new())
    }

    /// The child behind `token`.
    pub(super) fn get(&self, token: &[u8]) -> Option<NodeId> {
        match self {
            Self::List(list) => {
                let fingerprint = fingerprint(token);
                list.iter()
                    .find(|listed| listed.fingerprint == fingerprint && *listed.token == *token)
                    .map(|listed| listed.child)
            }
            Self::Map(map) => map.get(token).copied(),
        }
    }

    /// Makes `child` the child behind `token`, replacing any other.
    pub(super) fn insert(&mut self, token: Box<[u8]>, child: NodeId) {
        match self {
            Self::List(list) => {
                if let Some(listed) = list.iter_mut().find(|listed| listed.token == token) {
                    listed.child = child;
                } else if list.len() < LIST_MOST {
                    list.push(Listed {
                        fingerprint: fingerprint(&token),
                        token,
                        child,
                    });
                } else {
                    let mut map: HashMap<Box<[u8]>, NodeId> = list
                        .drain(..)
                        .map(|listed| (listed.token, listed.child))
                        .collect();
                    map.insert(token, child);
                    *self = Self::Map(map);
                }
            }
            Self::Map(map) => {
                map.insert(token, child);
            }
        }
    }

    /// Forgets the child behind `token`.
    pub(super) fn remove(&mut self, token: &[u8]) {
        match self {
            Self::List(list) => list.retain(|listed| *listed.token != *token),
            Self::Map(map) => {
                map.remove(token);
                if map.len() <= MAP_FEWEST {
                    let list = map
                        .drain()
                        .map(|(token, child)| Listed {
                            fingerprint: fingerprint(&token),
                            token,
                            child,
                        })
                        .collect();
                    *self = Self::List(list);
                }
            }
        }
    }

    /// Whether there is no child.
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Self::List(list) => list.is_empty(),
            Self::Map(map) => map.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Children, LIST_MOST, MAP_FEWEST};

    fn token(index: usize) -> Box<[u8]> {
        format!("t{index}").into_bytes().into_boxed_slice()
    }

    #[test]
    fn grows_into_a_map_and_shrinks_back_into_a_list() {
        let mut children = Children::new();
        for index in 0..=LIST_MOST {
            children.insert(token(index), index);
        }
        assert!(matches!(children, Children::Map(_)));
        for index in 0..=LIST_MOST {
            assert_eq!(children.get(&token(index)), Some(index));
        }
        for index in MAP_FEWEST..=LIST_MOST {
            children.remove(&token(index));
        }
        assert!(matches!(children, Children::List(_)));
        for index in 0..MAP_FEWEST {
            assert_eq!(children.get(&token(index)), Some(index));
        }
        assert_eq!(children.get(&token(LIST_MOST)), None);
        for index in 0..MAP_FEWEST {
            children.remove(&token(index));
        }
        assert!(children.is_empty());
    }

    #[test]
    fn insert_replaces() {
        let mut children = Children::new();
        children.insert(token(1), 1);
        children.insert(token(1), 2);
        assert_eq!(children.get(&token(1)), Some(2));
        children.remove(&token(1));
        assert!(children.is_empty());
    }
}
