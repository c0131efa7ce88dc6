//! REQ (RFC 28): strict request-then-reply. Each request goes to the next peer
//! that can take it, behind an empty delimiter frame (and, with REQ_CORRELATE, a
//! request id frame before it); the reply is accepted only from the peer that got
//! the request, only with that envelope, and malformed or stale replies are
//! dropped, as libzmq drops them.
//!
//! A second send before the reply is `InvalidState` (EFSM), unless REQ_RELAXED,
//! which abandons the outstanding request. If the peer that got the request goes
//! away, a reply is accepted from any peer (libzmq's rule). This file must never
//! hand the application a reply that does not answer its outstanding request.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::options::TypeOption;
use crate::pipe::{PipeEnd, PipeEvent, PipeId};
use crate::routing::{FairQueue, RoundRobin};
use crate::zmtp::PeerInfo;
use bytes::Bytes;

/// The REQ socket type.
#[derive(Debug)]
pub(crate) struct Request {
    input: FairQueue,
    output: RoundRobin,
    /// The outstanding request, if any.
    waiting: Option<Outstanding>,
    correlate: bool,
    relaxed: bool,
    probe_router: bool,
    next_request_id: u32,
}

#[derive(Debug)]
struct Outstanding {
    /// The pipe the request went to; `None` once that peer is gone.
    pipe: Option<PipeId>,
    /// The request id frame, with REQ_CORRELATE.
    request_id: Option<[u8; 4]>,
}

impl Request {
    pub(crate) fn new() -> Request {
        Request {
            input: FairQueue::new(),
            output: RoundRobin::new(),
            waiting: None,
            correlate: false,
            relaxed: false,
            probe_router: false,
            // libzmq starts request ids at a random value.
            next_request_id: super::router::random_u32(),
        }
    }

    /// Whether `reply` answers the outstanding request; if so, its body.
    fn accept(&self, pipe: PipeId, mut reply: Message) -> Option<Message> {
        let outstanding = self.waiting.as_ref()?;
        if outstanding.pipe.is_some_and(|expected| expected != pipe) {
            return None;
        }
        if let Some(request_id) = outstanding.request_id {
            let id = reply.pop_front()?;
            if id.as_ref() != request_id {
                return None;
            }
        }
        let delimiter = reply.pop_front()?;
        if !delimiter.is_empty() || reply.is_empty() {
            return None;
        }
        Some(reply)
    }
}

impl Routing for Request {
    fn attach(&mut self, mut pipe: PipeEnd, _peer: Option<&PeerInfo>) {
        if self.probe_router {
            super::dealer::send_probe(&mut pipe);
        }
        self.output.attach(pipe.id());
        self.input.attach(pipe);
    }

    fn detach(&mut self, pipe: PipeId) {
        self.output.detach(pipe);
        self.input.detach(pipe);
        self.forget(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Readable => self.input.activate(pipe),
            PipeEvent::Writable => self.output.activate(pipe),
            PipeEvent::Closed => {
                self.output.detach(pipe);
                self.input.activate(pipe);
                self.forget(pipe);
            }
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        if self.waiting.is_some() && !self.relaxed {
            return Err(SendError::new(Error::InvalidState, message));
        }
        let request_id = self.correlate.then(|| self.next_request_id.to_ne_bytes());
        let mut request = Message::new();
        if let Some(id) = request_id {
            request.push_back(Bytes::copy_from_slice(&id));
        }
        request.push_back(Bytes::new());
        let prefix = request.len();
        request.append(message);
        match self.output.send(&mut self.input, request) {
            Ok(pipe) => {
                self.next_request_id = self.next_request_id.wrapping_add(1);
                self.waiting = Some(Outstanding {
                    pipe: Some(pipe),
                    request_id,
                });
                Ok(())
            }
            Err(mut request) => {
                let body = request.split_off(prefix);
                Err(SendError::new(Error::WouldBlock, body))
            }
        }
    }

    fn receive(&mut self) -> Result<Message> {
        if self.waiting.is_none() {
            return Err(Error::InvalidState);
        }
        loop {
            let Some((pipe, reply)) = self.input.receive_message() else {
                return Err(Error::WouldBlock);
            };
            if let Some(body) = self.accept(pipe, reply) {
                self.waiting = None;
                return Ok(body);
            }
            // A stale, foreign or malformed reply: dropped, as libzmq drops it.
        }
    }

    fn has_input(&mut self) -> bool {
        self.waiting.is_some() && self.input.has_input()
    }

    fn has_room(&mut self) -> bool {
        (self.waiting.is_none() || self.relaxed) && self.output.has_room(&mut self.input)
    }

    fn set_option(&mut self, option: TypeOption) -> Result<()> {
        match option {
            TypeOption::RequestCorrelate(on) => self.correlate = on,
            TypeOption::RequestRelaxed(on) => self.relaxed = on,
            TypeOption::ProbeRouter(on) => self.probe_router = on,
            _ => return Err(Error::InvalidOption("not a REQ option")),
        }
        Ok(())
    }
}

impl Request {
    /// The peer that got the outstanding request is gone: accept any peer's reply.
    fn forget(&mut self, pipe: PipeId) {
        if let Some(outstanding) = &mut self.waiting
            && outstanding.pipe == Some(pipe)
        {
            outstanding.pipe = None;
        }
    }
}
