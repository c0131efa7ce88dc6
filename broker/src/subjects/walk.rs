//! The walk that collects every subscription matching one literal subject, with an
//! explicit stack so that no client's subject can deepen the call stack.
//!
//! Each node is visited at most once per walk (a node sits at one depth behind one
//! sequence of tokens), so the cost grows with the subject's tokens and with the
//! wildcard branches it meets, never with the number of subscriptions elsewhere in
//! the trie. The walk only reads the trie; it never caches and never validates.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use slab::Slab;

use super::matches::Matches;
use super::node::{Node, NodeId};
use super::validate::SEPARATOR;

/// Buffers the walk reuses from one match to the next.
#[derive(Debug, Default)]
pub(super) struct WalkBuffers {
    tokens: Vec<Range<usize>>,
    stack: Vec<(NodeId, usize)>,
    group_slots: HashMap<Arc<[u8]>, usize>,
}

/// Adds to `matches` every subscription under `root` that matches the literal
/// `subject`.
pub(super) fn collect<T: Clone>(
    nodes: &Slab<Node<T>>,
    root: NodeId,
    subject: &[u8],
    buffers: &mut WalkBuffers,
    matches: &mut Matches<T>,
) {
    let WalkBuffers {
        tokens,
        stack,
        group_slots,
    } = buffers;
    tokens.clear();
    stack.clear();
    group_slots.clear();
    let mut start = 0;
    for token in subject.split(|byte| *byte == SEPARATOR) {
        tokens.push(start..start + token.len());
        start += token.len() + 1;
    }

    stack.push((root, 0));
    while let Some((id, depth)) = stack.pop() {
        let Some(node) = nodes.get(id) else {
            continue;
        };
        let Some(range) = tokens.get(depth) else {
            // Every token consumed: the subscriptions here match.
            add_node(node, matches, group_slots);
            continue;
        };
        // `>` matches this token and all after it: at least one remains.
        if let Some(rest) = node.full_wildcard.and_then(|child| nodes.get(child)) {
            add_node(rest, matches, group_slots);
        }
        if let Some(child) = node.single_wildcard {
            stack.push((child, depth + 1));
        }
        let literal = subject
            .get(range.clone())
            .and_then(|token| node.literals.get(token));
        if let Some(child) = literal {
            stack.push((child, depth + 1));
        }
    }
}

fn add_node<T: Clone>(
    node: &Node<T>,
    matches: &mut Matches<T>,
    group_slots: &mut HashMap<Arc<[u8]>, usize>,
) {
    for (_, entry) in &node.plain {
        matches.push_plain(&entry.value);
    }
    for group in node.groups() {
        let members = group.members.iter().map(|(_, entry)| &entry.value);
        matches.extend_group(&group.name, members, group_slots);
    }
}
