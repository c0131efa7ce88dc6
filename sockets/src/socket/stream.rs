//! STREAM (ZMQ_STREAM): plain TCP and ipc peers, no ZMTP, each known by a routing
//! id, as libzmq 4.3's `stream_t`.
//!
//! Every connection gets a generated 5-byte id (a zero byte, then a big-endian
//! 32-bit counter, as ROUTER's), or the application's ZMQ_CONNECT_ROUTING_ID for
//! one it made; a connecting STREAM keeps its id across reconnects. A received
//! message is `[routing id, bytes]`, one per read of at most 8 KiB; with
//! ZMQ_STREAM_NOTIFY (the default) a connection's start and end arrive as
//! `[routing id, ""]`. A sent message must be exactly `[routing id, data]`:
//! - an unknown id is `HostUnreachable`, a peer at its high-water mark is
//!   `WouldBlock` (a blocking send waits, as for any socket);
//! - empty data closes that connection: what was sent to it before is still
//!   written (within the linger time), then it is closed (the peer reads EOF), no
//!   end notification follows, the id is unknown from then on, and a connection
//!   this socket made is not made again;
//! - any other number of frames is refused with `InvalidMessage`. libzmq reads a
//!   third frame as the next message's id, which a whole-message API cannot
//!   express without breaking atomicity (one pair sent, the next refused).
//!
//! This file must never deliver a message without the id of the connection that
//! sent it, nor send anything to a connection whose id was not named.

use super::Routing;
use super::router::{RoutingIdGenerator, receive_routed, routed_pipe_closed, write_routed};
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::pipe::{PipeEnd, PipeEvent, PipeId, PipeMap};
use crate::routing::FairQueue;
use crate::zmtp::PeerInfo;
use bytes::Bytes;
use std::collections::HashMap;

/// What a STREAM message must look like.
const SHAPE: &str = "a STREAM message is [routing id, data]";

/// The STREAM socket type.
#[derive(Debug)]
pub(crate) struct Stream {
    input: FairQueue,
    /// Routing id to pipe, for output.
    routes: HashMap<Bytes, PipeId>,
    /// Pipe to routing id, for input and to keep an id across reconnects.
    ids: PipeMap<Bytes>,
    generator: RoutingIdGenerator,
}

impl Stream {
    pub(crate) fn new() -> Stream {
        Stream {
            input: FairQueue::new(),
            routes: HashMap::new(),
            ids: PipeMap::default(),
            generator: RoutingIdGenerator::new(),
        }
    }

    /// Gives `pipe` its routing id, once: a reconnected pipe keeps the one it has.
    fn identify(&mut self, pipe: PipeId, peer: &PeerInfo) {
        if self.ids.contains_key(&pipe) {
            return;
        }
        let id = match &peer.routing_id {
            Some(id) => id.clone(),
            None => {
                let mut id = self.generator.generate();
                // Only after 2^32 connections could a generated id still be in use.
                while self.routes.contains_key(&id) {
                    id = self.generator.generate();
                }
                id
            }
        };
        if self.routes.contains_key(&id) {
            // A ZMQ_CONNECT_ROUTING_ID already in use (libzmq asserts): that
            // connection is closed rather than left unroutable.
            tracing::warn!(?id, "closed a STREAM connection whose routing id is in use");
            self.input.detach(pipe);
            return;
        }
        self.routes.insert(id.clone(), pipe);
        self.ids.insert(pipe, id);
    }

    /// Closes the connection behind `pipe`: what was queued is still written, then
    /// the session ends with its pipe.
    fn close(&mut self, pipe: PipeId) {
        if let Some(id) = self.ids.remove(&pipe)
            && self.routes.get(&id) == Some(&pipe)
        {
            self.routes.remove(&id);
        }
        self.input.detach(pipe);
    }
}

impl Routing for Stream {
    fn attach(&mut self, pipe: PipeEnd, peer: Option<&PeerInfo>) {
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
        self.close(pipe);
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
        if message.len() != 2 {
            return Err(SendError::new(Error::InvalidMessage(SHAPE), message));
        }
        let Some(id) = message.pop_front() else {
            return Err(SendError::new(Error::InvalidMessage(SHAPE), message));
        };
        let route = self.routes.get(&id).copied();
        let Some(pipe) = route.and_then(|pipe| self.input.pipe_mut(pipe)) else {
            message.push_front(id);
            return Err(SendError::new(Error::HostUnreachable, message));
        };
        if message.frames().first().is_none_or(Bytes::is_empty) {
            let pipe = pipe.id();
            self.close(pipe);
            return Ok(());
        }
        // A STREAM always reports the mark and a closed peer.
        write_routed(pipe, id, message, true)
    }

    fn receive(&mut self) -> Result<Message> {
        receive_routed(&mut self.input, &self.ids)
    }

    fn has_input(&mut self) -> bool {
        self.input.has_input()
    }

    fn has_room(&mut self) -> bool {
        // As libzmq's stream_t::xhas_out: always; a send to a peer at its mark
        // says so itself.
        true
    }

    fn disconnect_peer(&mut self, routing_id: &[u8]) -> Result<()> {
        let pipe = self
            .routes
            .get(routing_id)
            .copied()
            .ok_or(Error::HostUnreachable)?;
        self.close(pipe);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{Item, Read, pipe_pair};
    use crate::zmtp::{Metadata, Revision, SocketType};

    fn raw_peer(routing_id: Option<&'static [u8]>) -> PeerInfo {
        PeerInfo {
            socket_type: SocketType::Stream,
            routing_id: routing_id.map(Bytes::from_static),
            metadata: Metadata::new(),
            revision: Revision::V3_1,
        }
    }

    /// A STREAM with one connected peer; returns the session's end of its pipe.
    fn connected(stream: &mut Stream, high_water_mark: u32) -> PipeEnd {
        let (ours, theirs) = pipe_pair(high_water_mark, high_water_mark);
        stream.attach(ours, Some(&raw_peer(None)));
        theirs
    }

    fn id_of(stream: &Stream, pipe: &PipeEnd) -> Bytes {
        stream.ids.get(&pipe.id()).cloned().expect("an id")
    }

    #[test]
    fn generated_ids_are_a_zero_byte_and_a_big_endian_counter() {
        let mut stream = Stream::new();
        let first = connected(&mut stream, 10);
        let second = connected(&mut stream, 10);
        let (a, b) = (id_of(&stream, &first), id_of(&stream, &second));
        assert_eq!((a.len(), a[0]), (5, 0));
        let counter = |id: &Bytes| u32::from_be_bytes([id[1], id[2], id[3], id[4]]);
        assert_eq!(counter(&b), counter(&a).wrapping_add(1));
    }

    #[test]
    fn received_bytes_carry_their_connection_id() {
        let mut stream = Stream::new();
        let mut session = connected(&mut stream, 10);
        let id = id_of(&stream, &session);
        session
            .write(Item::Message(Message::from("hello")))
            .unwrap();
        session.flush();
        let message = stream.receive().unwrap();
        assert_eq!(message.frames(), [id, Bytes::from("hello")]);
    }

    #[test]
    fn only_data_crosses_the_pipe() {
        let mut stream = Stream::new();
        let mut session = connected(&mut stream, 10);
        let id = id_of(&stream, &session);
        stream
            .send(Message::from_frames([id, Bytes::from("raw")]))
            .unwrap();
        match session.read() {
            Read::Item(Item::Message(message)) => assert_eq!(message.frames(), ["raw"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_shapes_and_unknown_ids_are_refused_with_the_message_back() {
        let mut stream = Stream::new();
        let session = connected(&mut stream, 10);
        let id = id_of(&stream, &session);
        for frames in [vec![id.clone()], vec![id.clone(), "a".into(), "b".into()]] {
            let failed = stream
                .send(Message::from_frames(frames.clone()))
                .unwrap_err();
            assert!(matches!(failed.error, Error::InvalidMessage(_)));
            assert_eq!(failed.message.frames(), frames);
        }
        let failed = stream
            .send(Message::from_frames(["\0nope", "x"]))
            .unwrap_err();
        assert!(matches!(failed.error, Error::HostUnreachable));
        assert_eq!(failed.message.frames(), ["\0nope", "x"]);
    }

    #[test]
    fn at_the_mark_a_send_would_block() {
        let mut stream = Stream::new();
        let session = connected(&mut stream, 2);
        let id = id_of(&stream, &session);
        let send =
            |stream: &mut Stream| stream.send(Message::from_frames([id.clone(), "x".into()]));
        send(&mut stream).unwrap();
        send(&mut stream).unwrap();
        let failed = send(&mut stream).unwrap_err();
        assert!(matches!(failed.error, Error::WouldBlock));
        assert_eq!(failed.message.len(), 2);
    }

    #[test]
    fn empty_data_closes_after_what_was_queued_and_forgets_the_id() {
        let mut stream = Stream::new();
        let mut session = connected(&mut stream, 10);
        let id = id_of(&stream, &session);
        stream
            .send(Message::from_frames([id.clone(), "bye".into()]))
            .unwrap();
        stream
            .send(Message::from_frames([id.clone(), Bytes::new()]))
            .unwrap();
        assert!(matches!(session.read(), Read::Item(Item::Message(_))));
        assert!(matches!(session.read(), Read::Closed));
        let failed = stream
            .send(Message::from_frames([id, "again".into()]))
            .unwrap_err();
        assert!(matches!(failed.error, Error::HostUnreachable));
    }

    #[test]
    fn a_reconnected_pipe_keeps_its_id() {
        let mut stream = Stream::new();
        let (ours, _theirs) = pipe_pair(10, 10);
        let pipe = ours.id();
        stream.attach(ours, None);
        stream.peer_ready(pipe, &raw_peer(None));
        let first = stream.ids.get(&pipe).cloned();
        stream.peer_lost(pipe);
        stream.peer_ready(pipe, &raw_peer(None));
        assert_eq!(stream.ids.get(&pipe).cloned(), first);
        assert!(first.is_some());
    }

    #[test]
    fn a_connect_routing_id_in_use_closes_the_newcomer() {
        let mut stream = Stream::new();
        let (first, _a) = pipe_pair(10, 10);
        let (second, mut b) = pipe_pair(10, 10);
        let second_id = second.id();
        stream.attach(first, Some(&raw_peer(Some(b"name"))));
        stream.attach(second, Some(&raw_peer(Some(b"name"))));
        assert!(!stream.input.contains(second_id));
        assert!(matches!(b.read(), Read::Closed));
        assert_eq!(stream.routes.len(), 1);
    }
}
