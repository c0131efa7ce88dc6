//! `Distribute`: fans one message out to many pipes (PUB, XPUB, XSUB).
//!
//! For each message the socket marks the pipes that should get it (a pipe marked
//! twice is kept once), optionally inverts the selection, then sends a copy to
//! each (frames are reference-counted, so a copy costs no payload). A pipe at its
//! high-water mark loses that message and the others are unaffected, as libzmq's
//! PUB does; a socket that must not drop (XPUB_NODROP) first asks whether every
//! marked pipe has room. A message is whole, so a subscriber gets all its frames
//! or none. This file must never block and never wait for a slow pipe.

use crate::message::Message;
use crate::pipe::{Item, PipeEnd, PipeId, PipeMap, WriteError};

/// Fan-out to a set of pipes it owns.
#[derive(Debug, Default)]
pub struct Distribute {
    pipes: Vec<PipeEnd>,
    /// Where each pipe is in `pipes`.
    index: PipeMap<usize>,
    /// Per slot, the round in which it was last marked.
    marks: Vec<u64>,
    /// The current round; marks from older rounds do not count.
    round: u64,
    /// The slots marked this round.
    matched: Vec<usize>,
}

/// What became of one distributed message.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Pipes that took it.
    pub delivered: usize,
    /// Pipes at their high-water mark that lost it.
    pub dropped: usize,
}

impl Distribute {
    /// No pipes.
    pub fn new() -> Distribute {
        Distribute::default()
    }

    /// Adds a pipe.
    pub fn attach(&mut self, pipe: PipeEnd) {
        self.index.insert(pipe.id(), self.pipes.len());
        self.pipes.push(pipe);
        self.marks.push(0);
    }

    /// Removes a pipe, returning it (dropping it closes it).
    pub fn detach(&mut self, pipe: PipeId) -> Option<PipeEnd> {
        let slot = self.index.remove(&pipe)?;
        let removed = self.pipes.swap_remove(slot);
        self.marks.swap_remove(slot);
        if let Some(moved) = self.pipes.get(slot) {
            self.index.insert(moved.id(), slot);
        }
        // Slots moved: forget this round's marks.
        self.clear_marks();
        Some(removed)
    }

    /// Whether a pipe with this id is attached.
    pub fn contains(&self, pipe: PipeId) -> bool {
        self.index.contains_key(&pipe)
    }

    /// The pipe with this id.
    pub fn pipe_mut(&mut self, pipe: PipeId) -> Option<&mut PipeEnd> {
        let slot = *self.index.get(&pipe)?;
        self.pipes.get_mut(slot)
    }

    /// How many pipes are attached.
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// Whether no pipe is attached.
    pub fn is_empty(&self) -> bool {
        self.pipes.is_empty()
    }

    /// Starts a new message: no pipe is marked.
    pub fn clear_marks(&mut self) {
        self.round += 1;
        self.matched.clear();
    }

    /// Marks a pipe to get the current message (again: no effect).
    pub fn mark(&mut self, pipe: PipeId) {
        let Some(&slot) = self.index.get(&pipe) else {
            return;
        };
        if let Some(mark) = self.marks.get_mut(slot)
            && *mark != self.round
        {
            *mark = self.round;
            self.matched.push(slot);
        }
    }

    /// Marks every pipe.
    pub fn mark_all(&mut self) {
        self.round += 1;
        self.marks.fill(self.round);
        self.matched.clear();
        self.matched.extend(0..self.pipes.len());
    }

    /// Marks exactly the pipes that were not marked (ZMQ_INVERT_MATCHING).
    pub fn invert_marks(&mut self) {
        let previous = self.round;
        self.round += 1;
        self.matched.clear();
        for (slot, mark) in self.marks.iter_mut().enumerate() {
            if *mark != previous {
                *mark = self.round;
                self.matched.push(slot);
            }
        }
    }

    /// Whether every marked pipe can take a message now (pipes whose peer is gone
    /// count as having room: they will be skipped). Full pipes wake the socket
    /// when they drain.
    pub fn marked_have_room(&self) -> bool {
        self.matched.iter().all(|&slot| {
            self.pipes
                .get(slot)
                .is_none_or(|pipe| pipe.is_peer_closed() || pipe.has_room())
        })
    }

    /// Sends the message to every marked pipe; pipes at their mark lose it.
    pub fn send_to_marked(&mut self, message: Message) -> Delivery {
        let mut delivery = Delivery::default();
        let mut remaining = self.matched.len();
        let mut message = Some(message);
        for &slot in &self.matched {
            remaining -= 1;
            let Some(pipe) = self.pipes.get_mut(slot) else {
                continue;
            };
            // The last pipe takes the message itself instead of a copy.
            let copy = if remaining == 0 {
                message.take()
            } else {
                message.clone()
            };
            let Some(copy) = copy else { break };
            match pipe.write(Item::Message(copy)) {
                Ok(()) => {
                    pipe.flush();
                    delivery.delivered += 1;
                }
                Err(WriteError::Full(_)) => delivery.dropped += 1,
                // Its closing is handled when the socket hears of it.
                Err(WriteError::Closed(_)) => {}
            }
        }
        delivery
    }

    /// Every pipe.
    pub fn pipes_mut(&mut self) -> impl Iterator<Item = &mut PipeEnd> {
        self.pipes.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{Read, pipe_pair};

    fn take_all(reader: &mut PipeEnd) -> Vec<Message> {
        let mut taken = Vec::new();
        while let Read::Item(Item::Message(message)) = reader.read() {
            taken.push(message);
        }
        taken
    }

    #[test]
    fn a_full_pipe_loses_the_message_and_the_others_still_get_it() {
        let mut distribute = Distribute::new();
        let mut readers = Vec::new();
        for mark in [1, 100] {
            let (writer, reader) = pipe_pair(mark, mark);
            distribute.attach(writer);
            readers.push(reader);
        }
        for round in 0..3 {
            distribute.clear_marks();
            for reader in &readers {
                distribute.mark(reader.id());
                distribute.mark(reader.id());
            }
            let delivery = distribute.send_to_marked(Message::from_frames(["topic", "body"]));
            let expected = if round == 0 { (2, 0) } else { (1, 1) };
            assert_eq!(
                (delivery.delivered, delivery.dropped),
                expected,
                "round {round}"
            );
        }
        assert_eq!(take_all(&mut readers[0]).len(), 1, "the slow one lost two");
        let fast = take_all(&mut readers[1]);
        assert_eq!(fast.len(), 3, "marked twice, delivered once per message");
        assert_eq!(fast[0], Message::from_frames(["topic", "body"]), "whole");
    }

    #[test]
    fn inverting_selects_the_unmarked_pipes_and_room_is_checked_for_marked_ones() {
        let mut distribute = Distribute::new();
        let mut readers = Vec::new();
        for _ in 0..3 {
            let (writer, reader) = pipe_pair(1, 1);
            distribute.attach(writer);
            readers.push(reader);
        }
        distribute.clear_marks();
        distribute.mark(readers[0].id());
        distribute.invert_marks();
        assert!(distribute.marked_have_room());
        assert_eq!(distribute.send_to_marked(Message::from("x")).delivered, 2);
        assert!(take_all(&mut readers[0]).is_empty());
        distribute.clear_marks();
        distribute.mark(readers[1].id());
        assert!(!distribute.marked_have_room(), "reader 1 is at its mark");
        distribute.clear_marks();
        distribute.mark(readers[0].id());
        assert!(distribute.marked_have_room());
        // Detaching moves slots; marks start over and stay consistent.
        let id = readers[0].id();
        drop(distribute.detach(id));
        distribute.mark_all();
        assert_eq!(distribute.send_to_marked(Message::from("y")).dropped, 2);
        assert_eq!(distribute.len(), 2);
    }
}
