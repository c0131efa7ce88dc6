//! REP (RFC 28): fair-queues requests, strips and remembers each request's
//! envelope (every frame up to and including the first empty delimiter), and puts
//! it back on the reply, which goes to the peer the request came from.
//!
//! A request with no delimiter (or nothing after it) is dropped and the socket
//! keeps serving, as libzmq's REP does; a reply without a pending request, or a
//! second receive before replying, is `InvalidState` (EFSM); a reply whose peer is
//! gone or full is dropped, as libzmq drops it. This file must never send a reply
//! to any peer but the one that asked.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::pipe::{Item, PipeEnd, PipeEvent, PipeId};
use crate::routing::FairQueue;
use crate::zmtp::PeerInfo;

/// The REP socket type.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    input: FairQueue,
    /// The request being answered: where it came from and its envelope.
    replying: Option<(PipeId, Message)>,
}

impl Reply {
    pub(crate) fn new() -> Reply {
        Reply::default()
    }
}

/// Splits a request into its envelope (up to and including the first empty frame)
/// and its body; `None` if there is no delimiter with a body after it.
fn split_envelope(mut request: Message) -> Option<(Message, Message)> {
    let delimiter = request.iter().position(|frame| frame.is_empty())?;
    let body = request.split_off(delimiter + 1);
    if body.is_empty() {
        return None;
    }
    Some((request, body))
}

impl Routing for Reply {
    fn attach(&mut self, pipe: PipeEnd, _peer: Option<&PeerInfo>) {
        self.input.attach(pipe);
    }

    fn detach(&mut self, pipe: PipeId) {
        self.input.detach(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Readable | PipeEvent::Closed => self.input.activate(pipe),
            PipeEvent::Writable => {}
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        let Some((pipe, mut reply)) = self.replying.take() else {
            return Err(SendError::new(Error::InvalidState, message));
        };
        reply.append(message);
        if let Some(pipe) = self.input.pipe_mut(pipe)
            && pipe.write(Item::Message(reply)).is_ok()
        {
            pipe.flush();
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<Message> {
        if self.replying.is_some() {
            return Err(Error::InvalidState);
        }
        loop {
            let Some((pipe, request)) = self.input.receive_message() else {
                return Err(Error::WouldBlock);
            };
            if let Some((envelope, body)) = split_envelope(request) {
                self.replying = Some((pipe, envelope));
                return Ok(body);
            }
        }
    }

    fn has_input(&mut self) -> bool {
        self.replying.is_none() && self.input.has_input()
    }

    fn has_room(&mut self) -> bool {
        self.replying.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_split_at_the_first_empty_frame() {
        let (envelope, body) =
            split_envelope(Message::from_frames(["id1", "id2", "", "body", ""])).unwrap();
        assert_eq!(envelope, Message::from_frames(["id1", "id2", ""]));
        assert_eq!(body, Message::from_frames(["body", ""]));
        assert!(split_envelope(Message::from_frames(["no", "delimiter"])).is_none());
        assert!(split_envelope(Message::from_frames(["id", ""])).is_none());
    }
}
