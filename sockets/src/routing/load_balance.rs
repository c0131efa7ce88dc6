//! `LoadBalance`: PUSH's output: a set of pipes and a round-robin over them.
//!
//! Each message goes to the next pipe below its high-water mark; when none has
//! room the message is handed back and the socket blocks or reports "would
//! block", as libzmq's PUSH does. This file must never drop a message it was given.

use super::round_robin::{PipeSet, PipeStore, RoundRobin};
use crate::message::Message;
use crate::pipe::{PipeEnd, PipeId};

/// Round-robin output to many pipes it owns.
#[derive(Debug, Default)]
pub struct LoadBalance {
    pipes: PipeSet,
    rotation: RoundRobin,
}

impl LoadBalance {
    /// An empty load balancer.
    pub fn new() -> LoadBalance {
        LoadBalance::default()
    }

    /// Adds a pipe, active.
    pub fn attach(&mut self, pipe: PipeEnd) {
        self.rotation.attach(pipe.id());
        self.pipes.insert(pipe);
    }

    /// Marks a pipe as possibly writable again.
    pub fn activate(&mut self, pipe: PipeId) {
        self.rotation.activate(pipe);
    }

    /// Removes a pipe, returning it.
    pub fn detach(&mut self, pipe: PipeId) -> Option<PipeEnd> {
        self.rotation.detach(pipe);
        self.pipes.remove(pipe)
    }

    /// Sends to the next pipe with room; hands the message back if none has room.
    /// Returns the pipe it went to.
    pub fn send(&mut self, message: Message) -> Result<PipeId, Message> {
        let result = self.rotation.send(&mut self.pipes, message);
        // Pipes whose reader went away left the rotation: drop them too.
        if self.rotation.has_closed() {
            for closed in self.rotation.take_closed() {
                self.pipes.remove(closed);
            }
        }
        result
    }

    /// Whether some pipe can take a message now.
    pub fn has_room(&mut self) -> bool {
        self.rotation.has_room(&mut self.pipes)
    }

    /// The pipe with this id.
    pub fn pipe_mut(&mut self, pipe: PipeId) -> Option<&mut PipeEnd> {
        self.pipes.pipe_mut(pipe)
    }

    /// Every pipe.
    pub fn pipes_mut(&mut self) -> impl Iterator<Item = &mut PipeEnd> {
        self.pipes.iter_mut()
    }

    /// How many pipes are attached.
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// Whether no pipe is attached.
    pub fn is_empty(&self) -> bool {
        self.pipes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{Read, pipe_pair};

    #[test]
    fn round_robin_skips_full_pipes_and_hands_back_when_all_are_full() {
        let mut balance = LoadBalance::new();
        let mut readers = Vec::new();
        for _ in 0..2 {
            let (writer, reader) = pipe_pair(2, 2);
            balance.attach(writer);
            readers.push(reader);
        }
        let first = balance.send(Message::from("a")).unwrap();
        let second = balance.send(Message::from("b")).unwrap();
        assert_ne!(first, second);
        balance.send(Message::from("c")).unwrap();
        balance.send(Message::from("d")).unwrap();
        let back = balance.send(Message::from("e")).unwrap_err();
        assert_eq!(back, Message::from("e"), "never dropped");
        assert!(!balance.has_room());
        // Draining one pipe to its low-water mark and activating it lets a send through.
        assert!(matches!(readers[0].read(), Read::Item(_)));
        balance.activate(readers[0].id());
        assert_eq!(balance.send(back).unwrap(), readers[0].id());
    }

    #[test]
    fn closed_pipes_are_dropped() {
        let mut balance = LoadBalance::new();
        let (writer, reader) = pipe_pair(0, 0);
        balance.attach(writer);
        drop(reader);
        assert!(balance.send(Message::from("x")).is_err());
        assert!(balance.is_empty());
    }
}
