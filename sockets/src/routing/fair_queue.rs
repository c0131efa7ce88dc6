//! `FairQueue`: takes input from many pipes in turn, one whole message at a time.
//!
//! Pipes that returned nothing are moved behind the active ones and come back when
//! their writer wakes them (`activate`). A pipe whose writer closed is dropped once
//! it is drained, so every message sent before a disconnect is still delivered. This
//! file must never reorder the messages of one pipe.

use super::next_turn;
use crate::message::Message;
use crate::pipe::{Item, PipeEnd, PipeId, PipeMap, Read};

/// Fair-queued input from many pipes.
#[derive(Debug, Default)]
pub struct FairQueue {
    /// The first `active` pipes may have input; the rest wait for a wake-up.
    pipes: Vec<PipeEnd>,
    /// Where each pipe is in `pipes`, so lookups by id cost the same for any count.
    index: PipeMap<usize>,
    active: usize,
    /// The active pipe to read next.
    current: usize,
}

/// An item taken from the fair queue, with the pipe it came from.
#[derive(Debug)]
pub struct Received {
    /// The pipe it came from.
    pub pipe: PipeId,
    /// The item.
    pub item: Item,
}

impl FairQueue {
    /// An empty fair queue.
    pub fn new() -> FairQueue {
        FairQueue::default()
    }

    /// Adds a pipe, active.
    pub fn attach(&mut self, pipe: PipeEnd) {
        self.index.insert(pipe.id(), self.pipes.len());
        self.pipes.push(pipe);
        let last = self.pipes.len() - 1;
        self.swap(self.active, last);
        self.active += 1;
    }

    /// Marks a pipe as possibly readable again.
    pub fn activate(&mut self, pipe: PipeId) {
        if let Some(index) = self.position(pipe)
            && index >= self.active
        {
            self.swap(index, self.active);
            self.active += 1;
        }
    }

    /// Removes a pipe (its messages are lost), returning it.
    pub fn detach(&mut self, pipe: PipeId) -> Option<PipeEnd> {
        let mut index = self.position(pipe)?;
        if index < self.active {
            self.active -= 1;
            self.swap(index, self.active);
            index = self.active;
            if self.current >= self.active {
                self.current = 0;
            }
        }
        let last = self.pipes.len() - 1;
        self.swap(index, last);
        let removed = self.pipes.pop()?;
        self.index.remove(&removed.id());
        Some(removed)
    }

    /// Swaps two slots, keeping the index right.
    fn swap(&mut self, first: usize, second: usize) {
        if first == second {
            return;
        }
        self.pipes.swap(first, second);
        for slot in [first, second] {
            if let Some(pipe) = self.pipes.get(slot) {
                self.index.insert(pipe.id(), slot);
            }
        }
    }

    /// Takes the next item from the next pipe that has one.
    pub fn receive(&mut self) -> Option<Received> {
        while self.active > 0 {
            let Some(pipe) = self.pipes.get_mut(self.current) else {
                self.current = 0;
                continue;
            };
            match pipe.read() {
                Read::Item(item) => {
                    let received = Received {
                        pipe: pipe.id(),
                        item,
                    };
                    // A whole message was taken: the next pipe's turn.
                    if matches!(received.item, Item::Message(_)) {
                        self.current = next_turn(self.current, self.active);
                    }
                    return Some(received);
                }
                Read::Empty => self.deactivate_current(),
                Read::Closed => {
                    let id = pipe.id();
                    self.detach(id);
                }
            }
        }
        None
    }

    /// Takes the next message, skipping any other items.
    pub fn receive_message(&mut self) -> Option<(PipeId, Message)> {
        loop {
            let received = self.receive()?;
            if let Item::Message(message) = received.item {
                return Some((received.pipe, message));
            }
        }
    }

    /// Whether any pipe has an item waiting; idle pipes are set to wake the reader.
    pub fn has_input(&mut self) -> bool {
        // Each idle pipe found is swapped out, bringing the next one to the front.
        while self.active > 0 {
            let Some(pipe) = self.pipes.first() else {
                break;
            };
            if pipe.check_readable() {
                return true;
            }
            self.active -= 1;
            self.swap(0, self.active);
            if self.current >= self.active {
                self.current = 0;
            }
        }
        false
    }

    /// Whether a pipe with this id is attached.
    pub fn contains(&self, pipe: PipeId) -> bool {
        self.index.contains_key(&pipe)
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
        self.swap(self.current, self.active);
        if self.current >= self.active {
            self.current = 0;
        }
    }

    fn position(&self, pipe: PipeId) -> Option<usize> {
        self.index.get(&pipe).copied()
    }
}

impl super::round_robin::PipeStore for FairQueue {
    fn pipe_mut(&mut self, pipe: PipeId) -> Option<&mut PipeEnd> {
        FairQueue::pipe_mut(self, pipe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::pipe_pair;

    fn message(text: &str) -> Item {
        Item::Message(Message::from(text))
    }

    #[test]
    fn takes_turns_and_keeps_each_pipes_order() {
        let mut queue = FairQueue::new();
        let mut writers = Vec::new();
        for _ in 0..3 {
            let (writer, reader) = pipe_pair(0, 0);
            queue.attach(reader);
            writers.push(writer);
        }
        for (index, writer) in writers.iter_mut().enumerate() {
            for round in 0..2 {
                writer.write(message(&format!("{index}{round}"))).unwrap();
            }
        }
        let mut seen = Vec::new();
        while let Some((_, message)) = queue.receive_message() {
            seen.push(String::from_utf8(message.frames()[0].to_vec()).unwrap());
        }
        assert_eq!(seen, ["00", "10", "20", "01", "11", "21"]);
        // All pipes are idle now; a write plus activation brings one back.
        writers[1].write(message("again")).unwrap();
        let id = writers[1].id();
        queue.activate(id);
        assert_eq!(queue.receive_message().unwrap().0, id);
    }

    #[test]
    fn closed_pipes_are_drained_then_dropped() {
        let mut queue = FairQueue::new();
        let (mut writer, reader) = pipe_pair(0, 0);
        queue.attach(reader);
        writer.write(message("last words")).unwrap();
        drop(writer);
        assert!(queue.receive_message().is_some());
        assert!(queue.receive_message().is_none());
        assert!(queue.is_empty());
    }
}
