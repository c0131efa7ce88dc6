//! `RoundRobin`: the output policy of PUSH, DEALER and REQ: each message to the
//! next pipe that can take it.
//!
//! It schedules pipe ids and borrows the pipes from whoever stores them (a
//! `PipeStore`: PUSH's own set, or the fair queue that DEALER and REQ also read
//! from), so one pipe can be both read and written. Pipes at their high-water mark
//! wait behind the others until their reader drains them (`activate`); pipes that
//! are gone are dropped from the rotation. When no pipe can take the message it is
//! handed back, so the socket blocks or reports "would block". This file must never
//! drop a message it was given.

use super::next_turn;
use crate::message::Message;
use crate::pipe::{Item, PipeEnd, PipeId, PipeMap, WriteError};

/// Where pipes live, looked up by id.
pub trait PipeStore {
    /// The pipe with this id, if it is still here.
    fn pipe_mut(&mut self, pipe: PipeId) -> Option<&mut PipeEnd>;
}

/// A plain set of pipes, for sockets that only write.
#[derive(Debug, Default)]
pub struct PipeSet {
    pipes: Vec<PipeEnd>,
    index: PipeMap<usize>,
}

impl PipeSet {
    /// Adds a pipe.
    pub fn insert(&mut self, pipe: PipeEnd) {
        self.index.insert(pipe.id(), self.pipes.len());
        self.pipes.push(pipe);
    }

    /// Removes a pipe, returning it.
    pub fn remove(&mut self, pipe: PipeId) -> Option<PipeEnd> {
        let index = self.index.remove(&pipe)?;
        let removed = self.pipes.swap_remove(index);
        if let Some(moved) = self.pipes.get(index) {
            self.index.insert(moved.id(), index);
        }
        Some(removed)
    }

    /// Every pipe.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut PipeEnd> {
        self.pipes.iter_mut()
    }

    /// How many pipes there are.
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pipes.is_empty()
    }
}

impl PipeStore for PipeSet {
    fn pipe_mut(&mut self, pipe: PipeId) -> Option<&mut PipeEnd> {
        let index = *self.index.get(&pipe)?;
        self.pipes.get_mut(index)
    }
}

/// Round-robin scheduling of output over pipe ids.
#[derive(Debug, Default)]
pub struct RoundRobin {
    /// The first `active` ids may have room; the rest wait for a wake-up.
    ids: Vec<PipeId>,
    active: usize,
    current: usize,
    /// Pipes dropped because their reader closed them, for the store to forget.
    closed: Vec<PipeId>,
}

impl RoundRobin {
    /// An empty rotation.
    pub fn new() -> RoundRobin {
        RoundRobin::default()
    }

    /// Adds a pipe, active.
    pub fn attach(&mut self, pipe: PipeId) {
        self.ids.push(pipe);
        let last = self.ids.len() - 1;
        self.ids.swap(self.active, last);
        self.active += 1;
    }

    /// Marks a pipe as possibly writable again.
    pub fn activate(&mut self, pipe: PipeId) {
        if let Some(index) = self.position(pipe)
            && index >= self.active
        {
            self.ids.swap(index, self.active);
            self.active += 1;
        }
    }

    /// Removes a pipe from the rotation.
    pub fn detach(&mut self, pipe: PipeId) {
        let Some(index) = self.position(pipe) else {
            return;
        };
        if index < self.active {
            self.active -= 1;
            self.ids.swap(index, self.active);
            self.ids.swap_remove(self.active);
            if self.current >= self.active {
                self.current = 0;
            }
        } else {
            self.ids.swap_remove(index);
        }
    }

    /// Whether a pipe is in the rotation.
    pub fn contains(&self, pipe: PipeId) -> bool {
        self.position(pipe).is_some()
    }

    /// Sends to the next pipe with room; returns which, or hands the message back.
    pub fn send(
        &mut self,
        store: &mut impl PipeStore,
        mut message: Message,
    ) -> Result<PipeId, Message> {
        while self.active > 0 {
            let Some(&id) = self.ids.get(self.current) else {
                self.current = 0;
                continue;
            };
            let Some(pipe) = store.pipe_mut(id) else {
                self.detach(id);
                continue;
            };
            match pipe.write(Item::Message(message)) {
                Ok(()) => {
                    pipe.flush();
                    self.current = next_turn(self.current, self.active);
                    return Ok(id);
                }
                Err(WriteError::Full(item)) => {
                    message = into_message(item);
                    self.deactivate_current();
                }
                Err(WriteError::Closed(item)) => {
                    message = into_message(item);
                    self.detach(id);
                    self.closed.push(id);
                }
            }
        }
        Err(message)
    }

    /// The pipes dropped since the last call because their reader closed them.
    pub fn take_closed(&mut self) -> Vec<PipeId> {
        std::mem::take(&mut self.closed)
    }

    /// Whether `take_closed` has anything (looked at on every send, so the
    /// common case costs one comparison).
    pub fn has_closed(&self) -> bool {
        !self.closed.is_empty()
    }

    /// Whether some pipe can take a message now (idle ones are set to wake us).
    pub fn has_room(&mut self, store: &mut impl PipeStore) -> bool {
        while self.active > 0 {
            let Some(&id) = self.ids.first() else {
                break;
            };
            match store.pipe_mut(id) {
                Some(pipe) if pipe.has_room() => return true,
                Some(_) => {
                    self.active -= 1;
                    self.ids.swap(0, self.active);
                    if self.current >= self.active {
                        self.current = 0;
                    }
                }
                None => self.detach(id),
            }
        }
        false
    }

    fn deactivate_current(&mut self) {
        self.active -= 1;
        self.ids.swap(self.current, self.active);
        if self.current >= self.active {
            self.current = 0;
        }
    }

    fn position(&self, pipe: PipeId) -> Option<usize> {
        self.ids.iter().position(|&id| id == pipe)
    }
}

/// The message a failed write handed back (only messages are written here).
fn into_message(item: Item) -> Message {
    match item {
        Item::Message(message) => message,
        Item::Subscribe(_) | Item::Cancel(_) => Message::new(),
    }
}
