//! `Message`: one or more frames, each a `bytes::Bytes`, sent and received whole.
//!
//! A multipart message is atomic: a peer sees all of its frames or none of them. A
//! message with no frames cannot be sent. Frames are reference-counted, so a message
//! fanned out to many peers is never copied; small messages keep their frame list
//! inline, so building one allocates nothing beyond the payload. A received
//! message may carry its connection's `Properties` (as `zmq_msg_gets` reads
//! them), shared by every message of that connection. This file must never copy
//! frame bodies.

use bytes::Bytes;
use smallvec::SmallVec;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Frames kept inline before the list spills to the heap.
const INLINE_FRAMES: usize = 2;

/// A message of one or more frames.
///
/// Equality and hashing look at the frames only, not at the properties.
#[derive(Clone, Default)]
pub struct Message {
    frames: SmallVec<[Bytes; INLINE_FRAMES]>,
    properties: Option<Arc<Properties>>,
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.frames == other.frames
    }
}

impl Eq for Message {}

impl Hash for Message {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.frames.hash(state);
    }
}

/// What a connection says about the messages it delivers, as libzmq's
/// `zmq_msg_gets` reads it: every ZMTP metadata property the peer sent
/// (`Socket-Type`, `Identity`, application `X-` properties) and `Peer-Address`
/// (the peer's numeric IP address, for TCP). Names are matched exactly, as
/// libzmq matches them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, Bytes)>,
}

impl Properties {
    /// No properties.
    pub fn new() -> Properties {
        Properties::default()
    }

    /// Adds a property (a later one of the same name does not replace it).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Bytes>) {
        self.entries.push((name.into(), value.into()));
    }

    /// A property's value.
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.entries
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// A property's value as text (`zmq_msg_gets`), if it is UTF-8.
    pub fn gets(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// Every property, in the order the connection gave them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Bytes)> {
        self.entries
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }
}

impl Message {
    /// An empty message, with no frames yet.
    pub fn new() -> Message {
        Message::default()
    }

    /// A message of the given frames, in order.
    pub fn from_frames<I, F>(frames: I) -> Message
    where
        I: IntoIterator<Item = F>,
        F: Into<Bytes>,
    {
        Message {
            frames: frames.into_iter().map(Into::into).collect(),
            properties: None,
        }
    }

    /// The properties of the connection this message arrived on (none for
    /// messages built here or received over inproc).
    pub fn properties(&self) -> Option<&Properties> {
        self.properties.as_deref()
    }

    /// One property of the connection this message arrived on, as text
    /// (`zmq_msg_gets`): `Peer-Address`, `Socket-Type`, `Identity`, ...
    pub fn gets(&self, name: &str) -> Option<&str> {
        self.properties()
            .and_then(|properties| properties.gets(name))
    }

    /// Attaches a connection's properties.
    pub fn set_properties(&mut self, properties: Arc<Properties>) {
        self.properties = Some(properties);
    }

    /// Appends a frame at the end.
    pub fn push_back(&mut self, frame: impl Into<Bytes>) {
        self.frames.push(frame.into());
    }

    /// Inserts a frame at the start (as ROUTER does with a routing id).
    pub fn push_front(&mut self, frame: impl Into<Bytes>) {
        self.frames.insert(0, frame.into());
    }

    /// Removes and returns the first frame.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        if self.frames.is_empty() {
            None
        } else {
            Some(self.frames.remove(0))
        }
    }

    /// Removes and returns the last frame.
    pub fn pop_back(&mut self) -> Option<Bytes> {
        self.frames.pop()
    }

    /// The frames, in order.
    pub fn frames(&self) -> &[Bytes] {
        &self.frames
    }

    /// The first frame.
    pub fn first(&self) -> Option<&Bytes> {
        self.frames.first()
    }

    /// The last frame.
    pub fn last(&self) -> Option<&Bytes> {
        self.frames.last()
    }

    /// The frame at `index`.
    pub fn get(&self, index: usize) -> Option<&Bytes> {
        self.frames.get(index)
    }

    /// How many frames the message has.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the message has no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The total payload size over all frames, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.frames.iter().map(Bytes::len).sum()
    }

    /// Iterates over the frames.
    pub fn iter(&self) -> std::slice::Iter<'_, Bytes> {
        self.frames.iter()
    }

    /// Splits off the frames from `index` on, leaving the first `index` here.
    pub fn split_off(&mut self, index: usize) -> Message {
        // Both halves came from the same connection.
        let index = index.min(self.frames.len());
        Message {
            frames: self.frames.drain(index..).collect(),
            properties: self.properties.clone(),
        }
    }

    /// Appends every frame of `other`.
    pub fn append(&mut self, other: Message) {
        self.frames.extend(other.frames);
    }

    /// Consumes the message, returning its frames.
    pub fn into_frames(self) -> impl Iterator<Item = Bytes> {
        self.frames.into_iter()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.frames.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Message {
    type Item = &'a Bytes;
    type IntoIter = std::slice::Iter<'a, Bytes>;
    fn into_iter(self) -> Self::IntoIter {
        self.frames.iter()
    }
}

impl FromIterator<Bytes> for Message {
    fn from_iter<I: IntoIterator<Item = Bytes>>(frames: I) -> Message {
        Message {
            frames: frames.into_iter().collect(),
            properties: None,
        }
    }
}

impl From<Bytes> for Message {
    fn from(frame: Bytes) -> Message {
        let mut frames = SmallVec::new();
        frames.push(frame);
        Message {
            frames,
            properties: None,
        }
    }
}

impl From<Vec<u8>> for Message {
    fn from(frame: Vec<u8>) -> Message {
        Message::from(Bytes::from(frame))
    }
}

impl From<&[u8]> for Message {
    fn from(frame: &[u8]) -> Message {
        Message::from(Bytes::copy_from_slice(frame))
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    fn from(frame: &[u8; N]) -> Message {
        Message::from(Bytes::copy_from_slice(frame))
    }
}

impl From<&str> for Message {
    fn from(frame: &str) -> Message {
        Message::from(Bytes::copy_from_slice(frame.as_bytes()))
    }
}

impl From<String> for Message {
    fn from(frame: String) -> Message {
        Message::from(Bytes::from(frame))
    }
}

impl From<Vec<Bytes>> for Message {
    fn from(frames: Vec<Bytes>) -> Message {
        Message {
            frames: SmallVec::from_vec(frames),
            properties: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_their_order_and_envelope_operations_work() {
        let mut message = Message::from_frames(["b", "c"]);
        message.push_front(Bytes::from_static(b"a"));
        message.push_back("d");
        assert_eq!(message.len(), 4);
        assert_eq!(message.size_bytes(), 4);
        assert_eq!(message.pop_front().as_deref(), Some(&b"a"[..]));
        let tail = message.split_off(1);
        assert_eq!(message, Message::from("b"));
        assert_eq!(tail, Message::from_frames(["c", "d"]));
        message.append(tail);
        assert_eq!(message.frames().len(), 3);
        assert_eq!(message.last().map(|frame| &frame[..]), Some(&b"d"[..]));
        assert_eq!(Message::new().pop_front(), None);
    }

    #[test]
    fn properties_travel_with_a_message_but_do_not_change_its_equality() {
        let mut properties = Properties::new();
        properties.insert("Peer-Address", "127.0.0.1");
        properties.insert("Identity", Bytes::from_static(b"\xff"));
        let mut message = Message::from_frames(["a", "b"]);
        assert_eq!(message.gets("Peer-Address"), None);
        message.set_properties(Arc::new(properties));
        assert_eq!(message.gets("Peer-Address"), Some("127.0.0.1"));
        assert_eq!(message.gets("peer-address"), None, "names match exactly");
        assert_eq!(message.gets("Identity"), None, "not UTF-8");
        let tail = message.split_off(1);
        assert_eq!(tail.gets("Peer-Address"), Some("127.0.0.1"));
        assert_eq!(message, Message::from("a"));
    }
}
