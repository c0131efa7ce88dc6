//! DEALER (RFC 28): round-robins messages out and fair-queues them in, with no
//! envelope of its own; blocks at the high-water mark, like PUSH.
//!
//! With PROBE_ROUTER it sends an empty message to each new peer, as libzmq does.
//! This file must never add or strip frames.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::options::TypeOption;
use crate::pipe::{Item, PipeEnd, PipeEvent, PipeId};
use crate::routing::{FairQueue, RoundRobin};
use crate::zmtp::PeerInfo;

/// The DEALER socket type.
#[derive(Debug, Default)]
pub(crate) struct Dealer {
    input: FairQueue,
    output: RoundRobin,
    probe_router: bool,
}

impl Dealer {
    pub(crate) fn new() -> Dealer {
        Dealer::default()
    }
}

/// Queues an empty message for a new peer (ZMQ_PROBE_ROUTER).
pub(super) fn send_probe(pipe: &mut PipeEnd) {
    if pipe
        .write(Item::Message(Message::from(bytes::Bytes::new())))
        .is_ok()
    {
        pipe.flush();
    }
}

impl Routing for Dealer {
    fn attach(&mut self, mut pipe: PipeEnd, _peer: Option<&PeerInfo>) {
        if self.probe_router {
            send_probe(&mut pipe);
        }
        self.output.attach(pipe.id());
        self.input.attach(pipe);
    }

    fn detach(&mut self, pipe: PipeId) {
        self.output.detach(pipe);
        self.input.detach(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Readable => self.input.activate(pipe),
            PipeEvent::Writable => self.output.activate(pipe),
            PipeEvent::Closed => {
                // Nothing more can be sent; what arrived is still read.
                self.output.detach(pipe);
                self.input.activate(pipe);
            }
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        self.output
            .send(&mut self.input, message)
            .map(|_| ())
            .map_err(|message| SendError::new(Error::WouldBlock, message))
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
        self.output.has_room(&mut self.input)
    }

    fn set_option(&mut self, option: TypeOption) -> Result<()> {
        match option {
            TypeOption::ProbeRouter(on) => self.probe_router = on,
            _ => return Err(Error::InvalidOption("not a DEALER option")),
        }
        Ok(())
    }
}
