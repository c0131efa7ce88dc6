//! `PrefixTrie`: a compact (radix) trie from byte-string prefixes to values, the
//! index behind every subscription lookup.
//!
//! Each edge carries a run of bytes, and every node other than the root either holds
//! a value or branches, so the trie has at most two nodes per key. Finding every
//! key that is a prefix of a topic walks the topic once: the cost grows with the
//! topic's length (times a binary search over at most 256 children), never with
//! the number of keys. Nodes live in one arena and are reused after removal. This
//! file must never recurse (a peer chooses the key lengths) and never leave a
//! valueless node with fewer than two children behind.

use std::fmt;

/// A trie from byte-string prefixes to values.
pub struct PrefixTrie<V> {
    /// The arena; node 0 is the root, whose label is always empty.
    nodes: Vec<Node<V>>,
    /// Arena slots free for reuse.
    free: Vec<usize>,
    /// How many keys hold a value.
    len: usize,
}

struct Node<V> {
    /// The bytes on the edge from the parent to this node.
    label: Box<[u8]>,
    value: Option<V>,
    /// (first byte of the child's label, child), sorted by byte.
    children: Vec<(u8, usize)>,
}

impl<V> Node<V> {
    fn new(label: &[u8], value: Option<V>) -> Node<V> {
        Node {
            label: label.into(),
            value,
            children: Vec::new(),
        }
    }

    fn child(&self, byte: u8) -> Result<usize, usize> {
        self.children
            .binary_search_by_key(&byte, |&(first, _)| first)
    }
}

impl<V> Default for PrefixTrie<V> {
    fn default() -> PrefixTrie<V> {
        PrefixTrie {
            nodes: vec![Node::new(&[], None)],
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for PrefixTrie<V> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PrefixTrie")
            .field("keys", &self.len)
            .field("nodes", &(self.nodes.len() - self.free.len()))
            .finish()
    }
}

/// How many leading bytes two slices share.
fn common_length(first: &[u8], second: &[u8]) -> usize {
    first
        .iter()
        .zip(second)
        .take_while(|(left, right)| left == right)
        .count()
}

impl<V> PrefixTrie<V> {
    /// An empty trie.
    pub fn new() -> PrefixTrie<V> {
        PrefixTrie::default()
    }

    /// How many keys hold a value.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no key holds a value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value at exactly `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let node = self.find(key)?;
        self.nodes[node].value.as_ref()
    }

    /// The value at exactly `key`, to change.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let node = self.find(key)?;
        self.nodes[node].value.as_mut()
    }

    /// The value at `key`, inserting `V::default()` first if there is none.
    pub fn get_or_insert_default(&mut self, key: &[u8]) -> &mut V
    where
        V: Default,
    {
        let node = self.insert_node(key);
        let slot = &mut self.nodes[node].value;
        if slot.is_none() {
            self.len += 1;
        }
        slot.get_or_insert_with(V::default)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        // (parent, position of the edge in the parent's children) along the path.
        let mut path: Vec<(usize, usize)> = Vec::new();
        let mut node = 0;
        let mut rest = key;
        while let Some(&byte) = rest.first() {
            let position = self.nodes[node].child(byte).ok()?;
            let child = self.nodes[node].children[position].1;
            let label = &self.nodes[child].label;
            if !rest.starts_with(label) {
                return None;
            }
            rest = &rest[label.len()..];
            path.push((node, position));
            node = child;
        }
        let value = self.nodes[node].value.take()?;
        self.len -= 1;
        if let Some(&(parent, position)) = path.last() {
            self.prune(node, parent, position);
        }
        Some(value)
    }

    /// Every value whose key is a prefix of `topic` (the empty key included),
    /// shortest key first.
    pub fn prefixes_of<'a>(&'a self, topic: &'a [u8]) -> PrefixesOf<'a, V> {
        PrefixesOf {
            trie: self,
            node: Some(0),
            rest: topic,
        }
    }

    /// Calls `visit` with every key and its value, in byte order.
    pub fn for_each(&self, mut visit: impl FnMut(&[u8], &V)) {
        let mut key = Vec::new();
        // (node, key length before the node's label)
        let mut stack = vec![(0usize, 0usize)];
        while let Some((node, length)) = stack.pop() {
            let node = &self.nodes[node];
            key.truncate(length);
            key.extend_from_slice(&node.label);
            if let Some(value) = &node.value {
                visit(&key, value);
            }
            stack.extend(
                node.children
                    .iter()
                    .rev()
                    .map(|&(_, child)| (child, key.len())),
            );
        }
    }

    /// The node at exactly `key`, if the trie has one.
    fn find(&self, key: &[u8]) -> Option<usize> {
        let mut node = 0;
        let mut rest = key;
        while let Some(&byte) = rest.first() {
            let position = self.nodes[node].child(byte).ok()?;
            let child = self.nodes[node].children[position].1;
            rest = rest.strip_prefix(&*self.nodes[child].label)?;
            node = child;
        }
        Some(node)
    }

    /// The node for `key`, splitting an edge or adding a leaf as needed.
    fn insert_node(&mut self, key: &[u8]) -> usize {
        let mut node = 0;
        let mut rest = key;
        loop {
            let Some(&byte) = rest.first() else {
                return node;
            };
            let position = match self.nodes[node].child(byte) {
                Ok(position) => position,
                Err(position) => {
                    let leaf = self.allocate(Node::new(rest, None));
                    self.nodes[node].children.insert(position, (byte, leaf));
                    return leaf;
                }
            };
            let child = self.nodes[node].children[position].1;
            let common = common_length(&self.nodes[child].label, rest);
            if common < self.nodes[child].label.len() {
                // Split the edge: node -> middle (shared bytes) -> child (the rest).
                let label = std::mem::take(&mut self.nodes[child].label);
                let (head, tail) = label.split_at(common);
                let mut middle = Node::new(head, None);
                middle.children.push((tail[0], child));
                self.nodes[child].label = tail.into();
                let middle = self.allocate(middle);
                self.nodes[node].children[position].1 = middle;
                node = middle;
            } else {
                node = child;
            }
            rest = &rest[common..];
        }
    }

    /// Restores the shape after `node` (the child at `position` of `parent`) lost
    /// its value.
    fn prune(&mut self, node: usize, parent: usize, position: usize) {
        match self.nodes[node].children.len() {
            0 => {
                self.nodes[parent].children.remove(position);
                self.release(node);
                let parent_node = &self.nodes[parent];
                if parent != 0 && parent_node.value.is_none() && parent_node.children.len() == 1 {
                    self.merge_with_only_child(parent);
                }
            }
            1 => self.merge_with_only_child(node),
            _ => {}
        }
    }

    /// Folds the only child of a valueless node into it.
    fn merge_with_only_child(&mut self, node: usize) {
        let Some(&(_, child)) = self.nodes[node].children.first() else {
            return;
        };
        let taken = std::mem::replace(&mut self.nodes[child], Node::new(&[], None));
        self.release(child);
        let target = &mut self.nodes[node];
        let mut label = Vec::with_capacity(target.label.len() + taken.label.len());
        label.extend_from_slice(&target.label);
        label.extend_from_slice(&taken.label);
        target.label = label.into();
        target.value = taken.value;
        target.children = taken.children;
    }

    fn allocate(&mut self, node: Node<V>) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.nodes[slot] = node;
                slot
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        }
    }

    fn release(&mut self, node: usize) {
        self.nodes[node] = Node::new(&[], None);
        self.free.push(node);
    }
}

/// The values whose keys are prefixes of a topic; see [`PrefixTrie::prefixes_of`].
pub struct PrefixesOf<'a, V> {
    trie: &'a PrefixTrie<V>,
    /// The next node to look at.
    node: Option<usize>,
    /// The topic after that node's key.
    rest: &'a [u8],
}

impl<V> fmt::Debug for PrefixesOf<'_, V> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("PrefixesOf").finish_non_exhaustive()
    }
}

impl<'a, V> Iterator for PrefixesOf<'a, V> {
    type Item = &'a V;

    fn next(&mut self) -> Option<&'a V> {
        let nodes = &self.trie.nodes;
        loop {
            let node = &nodes[self.node?];
            // Step to the child the topic continues into, if its whole label matches.
            self.node = self.rest.first().and_then(|&byte| {
                let position = node.child(byte).ok()?;
                let child = node.children[position].1;
                let rest = self.rest.strip_prefix(&*nodes[child].label)?;
                self.rest = rest;
                Some(child)
            });
            if let Some(value) = &node.value {
                return Some(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(trie: &PrefixTrie<u32>) -> Vec<(Vec<u8>, u32)> {
        let mut all = Vec::new();
        trie.for_each(|key, &value| all.push((key.to_vec(), value)));
        all
    }

    #[test]
    fn splits_edges_and_finds_every_prefix() {
        let mut trie = PrefixTrie::new();
        for (index, key) in ["weather", "wx", "w", "", "weather.paris"]
            .iter()
            .enumerate()
        {
            *trie.get_or_insert_default(key.as_bytes()) = index as u32;
        }
        assert_eq!(trie.len(), 5);
        let found: Vec<u32> = trie.prefixes_of(b"weather.paris.rain").copied().collect();
        assert_eq!(found, [3, 2, 0, 4], "shortest prefix first");
        let found: Vec<u32> = trie.prefixes_of(b"wx").copied().collect();
        assert_eq!(found, [3, 2, 1]);
        assert_eq!(
            trie.prefixes_of(b"weat").copied().collect::<Vec<_>>(),
            [3, 2]
        );
        assert_eq!(
            trie.get(b"weathe"),
            None,
            "an inner split point holds no value"
        );
        assert_eq!(
            keys(&trie)
                .iter()
                .map(|(key, _)| String::from_utf8_lossy(key).into_owned())
                .collect::<Vec<_>>(),
            ["", "w", "weather", "weather.paris", "wx"]
        );
    }

    #[test]
    fn removal_merges_nodes_back_and_reuses_them() {
        let mut trie: PrefixTrie<u32> = PrefixTrie::new();
        *trie.get_or_insert_default(b"abc") = 1;
        *trie.get_or_insert_default(b"abd") = 2;
        *trie.get_or_insert_default(b"ab") = 3;
        let grown = trie.nodes.len();
        assert_eq!(trie.remove(b"ab"), Some(3));
        assert_eq!(trie.remove(b"ab"), None);
        assert_eq!(trie.remove(b"abx"), None);
        assert_eq!(trie.remove(b"abc"), Some(1));
        // Only "abd" is left: one leaf under the root.
        assert_eq!(trie.nodes.len() - trie.free.len(), 2);
        assert_eq!(keys(&trie), [(b"abd".to_vec(), 2)]);
        *trie.get_or_insert_default(b"abe") = 4;
        assert_eq!(trie.nodes.len(), grown, "freed nodes are reused");
        assert_eq!(trie.remove(b"abd"), Some(2));
        assert_eq!(trie.remove(b"abe"), Some(4));
        assert!(trie.is_empty());
        assert_eq!(trie.nodes.len() - trie.free.len(), 1, "only the root");
    }

    #[test]
    fn a_very_long_key_needs_no_recursion() {
        let mut trie: PrefixTrie<u32> = PrefixTrie::new();
        let long = vec![b'x'; 1 << 20];
        *trie.get_or_insert_default(&long) = 7;
        *trie.get_or_insert_default(&long[..1000]) = 8;
        assert_eq!(trie.prefixes_of(&long).count(), 2);
        assert_eq!(trie.remove(&long), Some(7));
        assert_eq!(trie.remove(&long[..1000]), Some(8));
        assert!(trie.is_empty());
    }
}
