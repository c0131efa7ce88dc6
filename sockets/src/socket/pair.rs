//! PAIR (RFC 31): talks to exactly one peer; a second peer is refused while the
//! first is attached, as libzmq refuses it.
//!
//! Sends block at the high-water mark. This file must never attach two pipes.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::pipe::{Item, PipeEnd, PipeEvent, PipeId, Read, WriteError};
use crate::zmtp::PeerInfo;

/// The PAIR socket type.
#[derive(Debug, Default)]
pub(crate) struct Pair {
    pipe: Option<PipeEnd>,
}

impl Pair {
    pub(crate) fn new() -> Pair {
        Pair::default()
    }

    fn drop_if(&mut self, pipe: PipeId) {
        if self
            .pipe
            .as_ref()
            .is_some_and(|current| current.id() == pipe)
        {
            self.pipe = None;
        }
    }
}

impl Routing for Pair {
    fn attach(&mut self, pipe: PipeEnd, _peer: Option<&PeerInfo>) {
        if self.pipe.is_none() {
            self.pipe = Some(pipe);
        }
        // Otherwise the new pipe is dropped here, which closes it.
    }

    fn detach(&mut self, pipe: PipeId) {
        self.drop_if(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        if event == PipeEvent::Closed
            && let Some(current) = &self.pipe
            && current.id() == pipe
            && !current.has_items()
        {
            self.pipe = None;
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        let Some(pipe) = self.pipe.as_mut() else {
            return Err(SendError::new(Error::WouldBlock, message));
        };
        match pipe.write(Item::Message(message)) {
            Ok(()) => {
                pipe.flush();
                Ok(())
            }
            Err(WriteError::Full(Item::Message(message))) => {
                Err(SendError::new(Error::WouldBlock, message))
            }
            Err(WriteError::Closed(Item::Message(message))) => {
                self.pipe = None;
                Err(SendError::new(Error::WouldBlock, message))
            }
            Err(WriteError::Full(_) | WriteError::Closed(_)) => {
                Err(SendError::new(Error::WouldBlock, Message::new()))
            }
        }
    }

    fn receive(&mut self) -> Result<Message> {
        let Some(pipe) = self.pipe.as_mut() else {
            return Err(Error::WouldBlock);
        };
        loop {
            match pipe.read() {
                Read::Item(Item::Message(message)) => return Ok(message),
                Read::Item(_) => continue,
                Read::Empty => return Err(Error::WouldBlock),
                Read::Closed => {
                    self.pipe = None;
                    return Err(Error::WouldBlock);
                }
            }
        }
    }

    fn has_input(&mut self) -> bool {
        self.pipe.as_ref().is_some_and(PipeEnd::check_readable)
    }

    fn has_room(&mut self) -> bool {
        self.pipe.as_ref().is_some_and(PipeEnd::has_room)
    }
}
