//! XSUB (RFC 29), and the subscribing core SUB is built on: fair-queues messages
//! from every publisher and sends subscriptions upstream.
//!
//! The socket counts its own subscriptions: each subscribe goes upstream, a cancel
//! only when the last local reference to the prefix is dropped. Every pipe gets all
//! current subscriptions when it is attached, and again after each reconnect (the
//! old connection's are gone). Upstream, subscriptions travel as pipe items that
//! each connection encodes for its peer's ZMTP version (SUBSCRIBE/CANCEL commands
//! for 3.1, 1/0-prefixed data frames for 3.0). XSUB's application sends a message
//! starting with 1 (subscribe) or 0 (cancel) to change subscriptions; anything
//! else it sends goes to every publisher, dropped where a pipe is full. SUB sends
//! nothing itself, subscribes through options, and also filters what it receives,
//! since not every publisher filters. CONFLATE keeps only the newest message.
//! This file must never drop a subscription or a cancel, and never block.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::options::TypeOption;
use crate::pipe::{Item, PipeEnd, PipeEvent, PipeId, PipeMap};
use crate::routing::FairQueue;
use crate::routing::subscriptions::LocalSubscriptions;
use crate::zmtp::PeerInfo;
use bytes::Bytes;

/// Whether the socket filters and who changes its subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// SUB: subscribes through options, filters locally, never sends.
    Subscribe,
    /// XSUB: subscribes by sending 1/0-prefixed messages, receives everything.
    Extended,
}

/// The XSUB socket type, and the core of SUB.
#[derive(Debug)]
pub(crate) struct ExtendedSubscribe {
    flavor: Flavor,
    input: FairQueue,
    subscriptions: LocalSubscriptions,
    /// Per pipe, whether a peer has completed a handshake on it: the next one is a
    /// reconnect, which must be sent every subscription again.
    connected_before: PipeMap<bool>,
    conflate: bool,
    invert_matching: bool,
    /// A message taken to answer `has_input`, for the next `receive`.
    prefetched: Option<Message>,
}

impl ExtendedSubscribe {
    pub(crate) fn new(flavor: Flavor) -> ExtendedSubscribe {
        ExtendedSubscribe {
            flavor,
            input: FairQueue::new(),
            subscriptions: LocalSubscriptions::new(),
            connected_before: PipeMap::default(),
            conflate: false,
            invert_matching: false,
            prefetched: None,
        }
    }

    /// Writes every current subscription to one pipe.
    fn send_all_subscriptions(&mut self, id: PipeId) {
        let prefixes = self.subscriptions.prefixes();
        if let Some(pipe) = self.input.pipe_mut(id) {
            for prefix in prefixes {
                // The application's own subscriptions pass the mark: libzmq
                // drops them at the mark, which loses them until a reconnect.
                if pipe.force_write(Item::Subscribe(prefix)).is_err() {
                    return;
                }
            }
            pipe.flush();
        }
    }

    /// Writes an item to every pipe; messages are dropped where a pipe is full,
    /// subscriptions never are.
    fn send_to_all(&mut self, item: &Item) {
        let subscription = !matches!(item, Item::Message(_));
        for pipe in self.input.pipes_mut() {
            let written = if subscription {
                pipe.force_write(item.clone())
            } else {
                pipe.write(item.clone())
            };
            if written.is_ok() {
                pipe.flush();
            }
        }
    }

    fn subscribe(&mut self, prefix: Bytes) {
        // Every subscribe goes upstream, even a repeated one, as in libzmq: an XPUB
        // upstream may be counting them (XPUB_VERBOSE).
        self.subscriptions.add(&prefix);
        self.send_to_all(&Item::Subscribe(prefix));
    }

    fn unsubscribe(&mut self, prefix: Bytes) {
        if self.subscriptions.remove(&prefix) {
            self.send_to_all(&Item::Cancel(prefix));
        }
    }

    /// Whether SUB delivers a message: its first frame matches a subscription (or,
    /// with INVERT_MATCHING, matches none).
    fn wanted(&self, message: &Message) -> bool {
        if self.flavor == Flavor::Extended {
            return true;
        }
        let topic = message.first().map_or(&[][..], |frame| &frame[..]);
        self.subscriptions.matches(topic) != self.invert_matching
    }

    /// The next wanted message from any pipe.
    fn next_message(&mut self) -> Option<Message> {
        if let Some(message) = self.prefetched.take() {
            return Some(message);
        }
        loop {
            let (_, message) = self.input.receive_message()?;
            if self.wanted(&message) {
                return Some(message);
            }
        }
    }
}

impl Routing for ExtendedSubscribe {
    fn attach(&mut self, pipe: PipeEnd, peer: Option<&PeerInfo>) {
        if self.conflate {
            pipe.set_inbound_conflate();
        }
        let id = pipe.id();
        self.input.attach(pipe);
        self.connected_before.insert(id, peer.is_some());
        self.send_all_subscriptions(id);
    }

    fn peer_ready(&mut self, pipe: PipeId, _peer: &PeerInfo) {
        let Some(connected_before) = self.connected_before.get_mut(&pipe) else {
            return;
        };
        // The first handshake carries what was queued at attach; later ones are
        // reconnects, whose peers have none of our subscriptions.
        let reconnect = std::mem::replace(connected_before, true);
        if reconnect {
            self.send_all_subscriptions(pipe);
        }
    }

    fn detach(&mut self, pipe: PipeId) {
        self.connected_before.remove(&pipe);
        drop(self.input.detach(pipe));
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Readable => self.input.activate(pipe),
            // A closed pipe is drained, then the fair queue drops it.
            PipeEvent::Closed => {
                self.connected_before.remove(&pipe);
                self.input.activate(pipe);
            }
            PipeEvent::Writable => {}
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        if self.flavor == Flavor::Subscribe {
            return Err(SendError::new(Error::NotSupported, message));
        }
        let first = message.first().cloned().unwrap_or_default();
        match first.first() {
            Some(1) => self.subscribe(first.slice(1..)),
            Some(0) => self.unsubscribe(first.slice(1..)),
            _ => self.send_to_all(&Item::Message(message)),
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<Message> {
        let Some(mut newest) = self.next_message() else {
            return Err(Error::WouldBlock);
        };
        if self.conflate {
            while let Some(message) = self.next_message() {
                newest = message;
            }
        }
        Ok(newest)
    }

    fn has_input(&mut self) -> bool {
        if self.prefetched.is_none() {
            self.prefetched = self.receive().ok();
        }
        self.prefetched.is_some()
    }

    fn has_room(&mut self) -> bool {
        // XSUB never waits to send (full pipes lose upstream messages); SUB cannot
        // send at all.
        self.flavor == Flavor::Extended
    }

    fn set_option(&mut self, option: TypeOption) -> Result<()> {
        match (option, self.flavor) {
            (TypeOption::Subscribe(prefix), Flavor::Subscribe) => self.subscribe(prefix),
            (TypeOption::Unsubscribe(prefix), Flavor::Subscribe) => self.unsubscribe(prefix),
            (TypeOption::InvertMatching(on), Flavor::Subscribe) => self.invert_matching = on,
            (TypeOption::Conflate(on), _) => {
                self.conflate = on;
                if on {
                    for pipe in self.input.pipes_mut() {
                        pipe.set_inbound_conflate();
                    }
                }
            }
            (TypeOption::Subscribe(_) | TypeOption::Unsubscribe(_), Flavor::Extended) => {
                return Err(Error::InvalidOption(
                    "XSUB subscribes by sending a message starting with 1 (0 cancels)",
                ));
            }
            _ => {
                return Err(Error::InvalidOption(
                    "not supported by SUB and XSUB sockets",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{Read, pipe_pair};
    use crate::zmtp::{Metadata, Revision, SocketType};

    fn peer() -> PeerInfo {
        PeerInfo {
            socket_type: SocketType::Publish,
            routing_id: None,
            metadata: Metadata::new(),
            revision: Revision::V3_1,
        }
    }

    fn items(pipe: &mut PipeEnd) -> Vec<Item> {
        let mut taken = Vec::new();
        while let Read::Item(item) = pipe.read() {
            taken.push(item);
        }
        taken
    }

    fn prefix(text: &str) -> Bytes {
        Bytes::copy_from_slice(text.as_bytes())
    }

    #[test]
    fn sub_counts_references_and_resends_after_a_reconnect() {
        let mut socket = ExtendedSubscribe::new(Flavor::Subscribe);
        socket
            .set_option(TypeOption::Subscribe(prefix("a")))
            .unwrap();
        let (ours, mut theirs) = pipe_pair(10, 10);
        socket.attach(ours, None);
        socket
            .set_option(TypeOption::Subscribe(prefix("a")))
            .unwrap();
        socket
            .set_option(TypeOption::Unsubscribe(prefix("a")))
            .unwrap();
        socket
            .set_option(TypeOption::Unsubscribe(prefix("never")))
            .unwrap();
        assert_eq!(
            items(&mut theirs),
            [Item::Subscribe(prefix("a")), Item::Subscribe(prefix("a"))],
            "every subscribe goes up, the cancel waits for the last reference"
        );
        socket.peer_ready(theirs.id(), &peer());
        assert!(
            items(&mut theirs).is_empty(),
            "the first handshake resends nothing"
        );
        socket.peer_lost(theirs.id());
        socket.peer_ready(theirs.id(), &peer());
        assert_eq!(items(&mut theirs), [Item::Subscribe(prefix("a"))]);
        socket
            .set_option(TypeOption::Unsubscribe(prefix("a")))
            .unwrap();
        assert_eq!(items(&mut theirs), [Item::Cancel(prefix("a"))]);
    }

    #[test]
    fn sub_filters_locally_and_inverts_on_request() {
        let mut socket = ExtendedSubscribe::new(Flavor::Subscribe);
        let (ours, mut theirs) = pipe_pair(10, 10);
        socket.attach(ours, Some(&peer()));
        socket
            .set_option(TypeOption::Subscribe(prefix("wx")))
            .unwrap();
        for text in ["wx.1", "news", "wx.2"] {
            theirs.write(Item::Message(Message::from(text))).unwrap();
        }
        theirs.write(Item::Subscribe(prefix("ignored"))).unwrap();
        assert!(socket.has_input());
        assert_eq!(socket.receive().unwrap(), Message::from("wx.1"));
        assert_eq!(socket.receive().unwrap(), Message::from("wx.2"));
        assert!(!socket.has_input());
        socket.set_option(TypeOption::InvertMatching(true)).unwrap();
        for text in ["wx.3", "news"] {
            theirs.write(Item::Message(Message::from(text))).unwrap();
        }
        socket.pipe_event(theirs.id(), PipeEvent::Readable);
        assert_eq!(socket.receive().unwrap(), Message::from("news"));
        assert!(matches!(
            socket.send(Message::from("x")),
            Err(SendError {
                error: Error::NotSupported,
                ..
            })
        ));
    }

    #[test]
    fn a_sub_without_subscriptions_receives_nothing_and_conflate_keeps_the_newest() {
        let mut socket = ExtendedSubscribe::new(Flavor::Subscribe);
        let (ours, mut theirs) = pipe_pair(10, 10);
        socket.attach(ours, Some(&peer()));
        theirs.write(Item::Message(Message::from("x"))).unwrap();
        assert!(matches!(socket.receive(), Err(Error::WouldBlock)));
        socket.set_option(TypeOption::Conflate(true)).unwrap();
        socket
            .set_option(TypeOption::Subscribe(prefix("")))
            .unwrap();
        for index in 0..20 {
            theirs
                .write(Item::Message(Message::from(format!("{index}"))))
                .unwrap();
        }
        socket.pipe_event(theirs.id(), PipeEvent::Readable);
        assert_eq!(socket.receive().unwrap(), Message::from("19"));
        assert!(matches!(socket.receive(), Err(Error::WouldBlock)));
    }

    #[test]
    fn xsub_turns_messages_into_subscriptions_and_forwards_the_rest() {
        let mut socket = ExtendedSubscribe::new(Flavor::Extended);
        // Room for three items: the two subscriptions count, as in libzmq, so the
        // pipe is full after the first upstream message.
        let (ours, mut theirs) = pipe_pair(3, 10);
        socket.attach(ours, Some(&peer()));
        socket.send(Message::from("\x01wx")).unwrap();
        socket.send(Message::from("\x01wx")).unwrap();
        socket.send(Message::from("\x00wx")).unwrap();
        socket
            .send(Message::from_frames(["upstream", "two"]))
            .unwrap();
        socket
            .send(Message::from("dropped: the pipe is full"))
            .unwrap();
        socket.send(Message::from("\x00wx")).unwrap();
        assert_eq!(
            items(&mut theirs),
            [
                Item::Subscribe(prefix("wx")),
                Item::Subscribe(prefix("wx")),
                Item::Message(Message::from_frames(["upstream", "two"])),
                Item::Cancel(prefix("wx")),
            ]
        );
        assert!(socket.has_room());
        theirs
            .write(Item::Message(Message::from("anything")))
            .unwrap();
        assert_eq!(
            socket.receive().unwrap(),
            Message::from("anything"),
            "no filter"
        );
        assert!(
            socket
                .set_option(TypeOption::Subscribe(prefix("x")))
                .is_err()
        );
    }
}
