//! PUSH (RFC 30): round-robins each message to the next peer that can take it and
//! blocks when none can; never receives.
//!
//! It is a load balancer and nothing else, as in libzmq. This file must never drop
//! a message at the high-water mark: it hands it back so the socket waits.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::pipe::{PipeEnd, PipeEvent, PipeId};
use crate::routing::LoadBalance;
use crate::zmtp::PeerInfo;

/// The PUSH socket type.
#[derive(Debug, Default)]
pub(crate) struct Push {
    output: LoadBalance,
}

impl Push {
    pub(crate) fn new() -> Push {
        Push::default()
    }
}

impl Routing for Push {
    fn attach(&mut self, pipe: PipeEnd, _peer: Option<&PeerInfo>) {
        self.output.attach(pipe);
    }

    fn detach(&mut self, pipe: PipeId) {
        self.output.detach(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Writable => self.output.activate(pipe),
            PipeEvent::Closed => {
                self.output.detach(pipe);
            }
            PipeEvent::Readable => {}
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        self.output
            .send(message)
            .map(|_| ())
            .map_err(|message| SendError::new(Error::WouldBlock, message))
    }

    fn receive(&mut self) -> Result<Message> {
        Err(Error::NotSupported)
    }

    fn has_input(&mut self) -> bool {
        false
    }

    fn has_room(&mut self) -> bool {
        self.output.has_room()
    }
}
