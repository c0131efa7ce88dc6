//! PULL (RFC 30): fair-queues messages from every peer, keeping each peer's order;
//! never sends.
//!
//! It is a fair queue and nothing else, as in libzmq. This file must never reorder
//! one peer's messages.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::pipe::{PipeEnd, PipeEvent, PipeId};
use crate::routing::FairQueue;
use crate::zmtp::PeerInfo;

/// The PULL socket type.
#[derive(Debug, Default)]
pub(crate) struct Pull {
    input: FairQueue,
}

impl Pull {
    pub(crate) fn new() -> Pull {
        Pull::default()
    }
}

impl Routing for Pull {
    fn attach(&mut self, pipe: PipeEnd, _peer: Option<&PeerInfo>) {
        self.input.attach(pipe);
    }

    fn detach(&mut self, pipe: PipeId) {
        self.input.detach(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            // A closed pipe is drained before it is dropped.
            PipeEvent::Readable | PipeEvent::Closed => self.input.activate(pipe),
            PipeEvent::Writable => {}
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        Err(SendError::new(Error::NotSupported, message))
    }

    fn receive(&mut self) -> Result<Message> {
        // A match, not `ok_or`: that builds the error and drops it again for
        // every message received (a call per message, callgrind).
        match self.input.receive_message() {
            Some((_, message)) => Ok(message),
            None => Err(Error::WouldBlock),
        }
    }

    fn has_input(&mut self) -> bool {
        self.input.has_input()
    }

    fn has_room(&mut self) -> bool {
        false
    }
}
