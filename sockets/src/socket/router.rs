//! ROUTER (RFC 28): prefixes each incoming message with its peer's routing id and
//! routes each outgoing message by its first frame.
//!
//! A peer's routing id is the one it announced (`Identity` in READY), the
//! application's ZMQ_CONNECT_ROUTING_ID for a connection it made, or a generated
//! 5-byte id in libzmq's format (a zero byte, then a 32-bit counter that starts at
//! a random value). A second peer announcing a known id is ignored, unless
//! ZMQ_ROUTER_HANDOVER, where it takes over and the old connection is closed.
//! Unroutable messages are dropped, or rejected with `HostUnreachable` under
//! ZMQ_ROUTER_MANDATORY; at a peer's high-water mark messages are dropped, or the
//! send would block under ZMQ_ROUTER_MANDATORY; a message with nothing after its
//! routing frame is dropped. This file must never deliver a message without the
//! routing id of the peer that sent it.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::options::TypeOption;
use crate::pipe::{Item, PipeEnd, PipeEvent, PipeId, PipeMap, WriteError};
use crate::routing::FairQueue;
use crate::zmtp::PeerInfo;
use bytes::{BufMut, Bytes, BytesMut};
use std::collections::HashMap;

/// A random 32-bit value from the standard library's hasher seed (no dependency).
pub(crate) fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(0),
    );
    hasher.finish() as u32
}

/// Generated routing ids in libzmq's format: a zero byte, then a big-endian
/// 32-bit counter that starts at a random value and wraps (ROUTER and STREAM).
#[derive(Debug)]
pub(crate) struct RoutingIdGenerator {
    next: u32,
}

impl RoutingIdGenerator {
    /// A generator starting at a random value.
    pub(crate) fn new() -> RoutingIdGenerator {
        RoutingIdGenerator::starting_at(random_u32())
    }

    /// A generator whose first id carries `first`.
    pub(crate) fn starting_at(first: u32) -> RoutingIdGenerator {
        RoutingIdGenerator { next: first }
    }

    /// The next id.
    pub(crate) fn generate(&mut self) -> Bytes {
        let mut id = BytesMut::with_capacity(5);
        id.put_u8(0);
        id.put_u32(self.next);
        self.next = self.next.wrapping_add(1);
        id.freeze()
    }
}

/// Writes `message` to a routed peer's pipe. With `strict` (ROUTER_MANDATORY, and
/// STREAM always) a full pipe is `WouldBlock` and a closed one `HostUnreachable`,
/// the message handed back with its routing id in front; otherwise either drops
/// it, as libzmq does.
pub(super) fn write_routed(
    pipe: &mut PipeEnd,
    id: Bytes,
    message: Message,
    strict: bool,
) -> Result<(), SendError> {
    match pipe.write(Item::Message(message)) {
        Ok(()) => {
            pipe.flush();
            Ok(())
        }
        Err(WriteError::Full(Item::Message(mut message))) if strict => {
            message.push_front(id);
            Err(SendError::new(Error::WouldBlock, message))
        }
        Err(WriteError::Closed(Item::Message(mut message))) if strict => {
            message.push_front(id);
            Err(SendError::new(Error::HostUnreachable, message))
        }
        // At the mark, or to a peer that just left: dropped.
        Err(_) => Ok(()),
    }
}

/// The next message from a peer that has a routing id, with the id in front;
/// messages from pipes without one (a duplicate id) are skipped.
pub(super) fn receive_routed(input: &mut FairQueue, ids: &PipeMap<Bytes>) -> Result<Message> {
    loop {
        let Some((pipe, mut message)) = input.receive_message() else {
            return Err(Error::WouldBlock);
        };
        if let Some(id) = ids.get(&pipe) {
            message.push_front(id.clone());
            return Ok(message);
        }
    }
}

/// A routed peer's pipe closed: nothing more can be routed to it, and what it
/// sent (a disconnect notification too) is still read; ids of pipes the fair
/// queue has let go are forgotten.
pub(super) fn routed_pipe_closed(
    pipe: PipeId,
    input: &mut FairQueue,
    routes: &mut HashMap<Bytes, PipeId>,
    ids: &mut PipeMap<Bytes>,
) {
    if let Some(id) = ids.get(&pipe)
        && routes.get(id) == Some(&pipe)
    {
        let id = id.clone();
        routes.remove(&id);
    }
    input.activate(pipe);
    ids.retain(|pipe, _| input.contains(*pipe));
}

/// The ROUTER socket type.
#[derive(Debug)]
pub(crate) struct Router {
    input: FairQueue,
    /// Routing id to pipe, for output.
    routes: HashMap<Bytes, PipeId>,
    /// Pipe to routing id, for input; pipes absent here are not routable.
    ids: PipeMap<Bytes>,
    generator: RoutingIdGenerator,
    mandatory: bool,
    handover: bool,
    probe_router: bool,
}

impl Router {
    pub(crate) fn new() -> Router {
        Router {
            input: FairQueue::new(),
            routes: HashMap::new(),
            ids: PipeMap::default(),
            generator: RoutingIdGenerator::new(),
            mandatory: false,
            handover: false,
            probe_router: false,
        }
    }

    /// Gives `pipe` its routing id, as libzmq's `identify_peer` does.
    fn identify(&mut self, pipe: PipeId, peer: &PeerInfo) {
        self.forget(pipe);
        let id = match &peer.routing_id {
            Some(id) => id.clone(),
            None => self.generator.generate(),
        };
        if let Some(&existing) = self.routes.get(&id) {
            if !self.handover {
                // libzmq ignores a peer with a duplicate id: its messages are not
                // read and nothing is routed to it.
                tracing::debug!(?id, "ignored a peer with a duplicate routing id");
                return;
            }
            // Handover: the new connection takes the id; the old one is closed.
            self.forget(existing);
            self.input.detach(existing);
        }
        self.routes.insert(id.clone(), pipe);
        self.ids.insert(pipe, id);
    }

    fn forget(&mut self, pipe: PipeId) {
        if let Some(id) = self.ids.remove(&pipe)
            && self.routes.get(&id) == Some(&pipe)
        {
            self.routes.remove(&id);
        }
    }
}

impl Routing for Router {
    fn attach(&mut self, mut pipe: PipeEnd, peer: Option<&PeerInfo>) {
        if self.probe_router {
            super::dealer::send_probe(&mut pipe);
        }
        let id = pipe.id();
        self.input.attach(pipe);
        if let Some(peer) = peer {
            self.identify(id, peer);
        }
    }

    fn peer_ready(&mut self, pipe: PipeId, peer: &PeerInfo) {
        if self.input.contains(pipe) {
            self.identify(pipe, peer);
        }
    }

    fn detach(&mut self, pipe: PipeId) {
        self.forget(pipe);
        self.input.detach(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Readable => self.input.activate(pipe),
            PipeEvent::Writable => {}
            PipeEvent::Closed => {
                routed_pipe_closed(pipe, &mut self.input, &mut self.routes, &mut self.ids);
            }
        }
    }

    fn send(&mut self, mut message: Message) -> Result<(), SendError> {
        let Some(id) = message.pop_front() else {
            return Ok(());
        };
        if message.is_empty() {
            // Nothing after the routing frame: dropped, as libzmq drops it.
            return Ok(());
        }
        let pipe = self
            .routes
            .get(&id)
            .copied()
            .and_then(|pipe| self.input.pipe_mut(pipe));
        let Some(pipe) = pipe else {
            if self.mandatory {
                message.push_front(id);
                return Err(SendError::new(Error::HostUnreachable, message));
            }
            return Ok(());
        };
        write_routed(pipe, id, message, self.mandatory)
    }

    fn receive(&mut self) -> Result<Message> {
        receive_routed(&mut self.input, &self.ids)
    }

    fn has_input(&mut self) -> bool {
        self.input.has_input()
    }

    fn has_room(&mut self) -> bool {
        // As libzmq: always writable, unless MANDATORY, when some peer must have room.
        if !self.mandatory {
            return true;
        }
        let pipes: Vec<PipeId> = self.routes.values().copied().collect();
        pipes.into_iter().any(|pipe| {
            self.input
                .pipe_mut(pipe)
                .is_some_and(|pipe| pipe.has_room())
        })
    }

    fn disconnect_peer(&mut self, routing_id: &[u8]) -> Result<()> {
        let pipe = self
            .routes
            .get(routing_id)
            .copied()
            .ok_or(Error::HostUnreachable)?;
        self.detach(pipe);
        Ok(())
    }

    fn set_option(&mut self, option: TypeOption) -> Result<()> {
        match option {
            TypeOption::RouterMandatory(on) => self.mandatory = on,
            TypeOption::RouterHandover(on) => self.handover = on,
            TypeOption::ProbeRouter(on) => self.probe_router = on,
            _ => return Err(Error::InvalidOption("not a ROUTER option")),
        }
        Ok(())
    }
}
