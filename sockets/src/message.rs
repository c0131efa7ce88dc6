//! `Message`: one or more frames, each a `bytes::Bytes`, sent and received whole.
//!
//! A multipart message is atomic: a peer sees all of its frames or none of them. A
//! message with no frames cannot be sent. Frames are reference-counted, so a message
//! fanned out to many peers is never copied; small messages keep their frame list
//! inline, so building one allocates nothing beyond the payload. This file must
//! never copy frame bodies.

use bytes::Bytes;
use smallvec::SmallVec;
use std::fmt;

/// Frames kept inline before the list spills to the heap.
const INLINE_FRAMES: usize = 2;

/// A message of one or more frames.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Message {
    frames: SmallVec<[Bytes; INLINE_FRAMES]>,
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
        }
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
        let index = index.min(self.frames.len());
        Message {
            frames: self.frames.drain(index..).collect(),
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
        }
    }
}

impl From<Bytes> for Message {
    fn from(frame: Bytes) -> Message {
        let mut frames = SmallVec::new();
        frames.push(frame);
        Message { frames }
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
}
