//! `LoadBalance`: sends each message to the next pipe that can take it.
//!
//! Round-robin over the pipes below their high-water mark; a pipe at the mark waits
//! behind the others until its reader drains it (`activate`); a closed pipe is
//! dropped. When no pipe can take the message it is handed back, and the socket
//! blocks or reports "would block", as libzmq's PUSH and DEALER do. This file must
//! never drop a message it was given.

use crate::message::Message;
use crate::pipe::{Item, PipeEnd, PipeId, WriteError};

/// Round-robin output to many pipes.
#[derive(Debug, Default)]
pub struct LoadBalance {
    /// The first `active` pipes may have room; the rest wait for a wake-up.
    pipes: Vec<PipeEnd>,
    active: usize,
    current: usize,
}

impl LoadBalance {
    /// An empty load balancer.
    pub fn new() -> LoadBalance {
        LoadBalance::default()
    }

    /// Adds a pipe, active.
    pub fn attach(&mut self, pipe: PipeEnd) {
        self.pipes.push(pipe);
        let last = self.pipes.len() - 1;
        self.pipes.swap(self.active, last);
        self.active += 1;
    }

    /// Marks a pipe as possibly writable again.
    pub fn activate(&mut self, pipe: PipeId) {
        if let Some(index) = self.position(pipe)
            && index >= self.active
        {
            self.pipes.swap(index, self.active);
            self.active += 1;
        }
    }

    /// Removes a pipe, returning it.
    pub fn detach(&mut self, pipe: PipeId) -> Option<PipeEnd> {
        let index = self.position(pipe)?;
        if index < self.active {
            self.active -= 1;
            self.pipes.swap(index, self.active);
            let removed = self.pipes.swap_remove(self.active);
            if self.current >= self.active {
                self.current = 0;
            }
            Some(removed)
        } else {
            Some(self.pipes.swap_remove(index))
        }
    }

    /// Sends to the next pipe with room; hands the message back if none has room.
    /// Returns the pipe it went to.
    pub fn send(&mut self, mut message: Message) -> Result<PipeId, Message> {
        while self.active > 0 {
            let Some(pipe) = self.pipes.get_mut(self.current) else {
                self.current = 0;
                continue;
            };
            match pipe.write(Item::Message(message)) {
                Ok(()) => {
                    pipe.flush();
                    let id = pipe.id();
                    self.current = (self.current + 1) % self.active;
                    return Ok(id);
                }
                Err(WriteError::Full(item)) => {
                    message = into_message(item);
                    self.deactivate_current();
                }
                Err(WriteError::Closed(item)) => {
                    message = into_message(item);
                    let id = pipe.id();
                    self.detach(id);
                }
            }
        }
        Err(message)
    }

    /// Whether some pipe can take a message now.
    pub fn has_room(&mut self) -> bool {
        // Each idle pipe found is swapped out, bringing the next one to the front.
        while self.active > 0 {
            let Some(pipe) = self.pipes.first() else {
                break;
            };
            if pipe.has_room() {
                return true;
            }
            self.active -= 1;
            self.pipes.swap(0, self.active);
            if self.current >= self.active {
                self.current = 0;
            }
        }
        false
    }

    /// The pipe with this id.
    pub fn pipe_mut(&mut self, pipe: PipeId) -> Option<&mut PipeEnd> {
        let index = self.position(pipe)?;
        self.pipes.get_mut(index)
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

    fn deactivate_current(&mut self) {
        self.active -= 1;
        self.pipes.swap(self.current, self.active);
        if self.current >= self.active {
            self.current = 0;
        }
    }

    fn position(&self, pipe: PipeId) -> Option<usize> {
        self.pipes.iter().position(|end| end.id() == pipe)
    }
}

/// The message a failed write handed back (only messages are written here).
fn into_message(item: Item) -> Message {
    match item {
        Item::Message(message) => message,
        Item::Subscribe(_) | Item::Cancel(_) => Message::new(),
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
