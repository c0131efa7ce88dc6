//! XPUB (RFC 29), and the publishing core PUB is built on: distributes each message
//! to the peers subscribed to a prefix of it, and (XPUB) hands subscriptions and
//! upstream messages to the application.
//!
//! Peers subscribe with SUBSCRIBE/CANCEL commands or with data messages whose first
//! byte is 1 or 0 (a libzmq XSUB sends those even on ZMTP 3.1 links); both are
//! accepted from anyone. Per prefix the socket keeps the set of subscribed pipes
//! (libzmq's mtrie). XPUB reports `\x01prefix` when a prefix gains its first peer
//! and `\x00prefix` when it loses its last (a closed pipe counts); XPUB_VERBOSE
//! reports every subscribe, XPUB_VERBOSER every cancel too; with XPUB_MANUAL the
//! application decides, subscribing the pipe of the last reported subscription.
//! A subscriber at its high-water mark loses messages (XPUB_NODROP: the send waits
//! instead). As in libzmq, a connect-side pipe keeps its subscriptions across a
//! reconnect (the returning peer re-sends them, and sets ignore repeats). Messages
//! from upstream wait for the application up to a bound, then their pipe is no
//! longer read until the application catches up. What one peer may subscribe to is
//! limited (`SubscriptionLimit`); past it, its subscriptions are ignored. This file
//! must never block in `send` unless XPUB_NODROP asks it to, and never trust a
//! peer's bytes: a malformed subscription is ignored.

use super::Routing;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::options::TypeOption;
use crate::pipe::{Item, PipeEnd, PipeEvent, PipeId, PipeIdSet, Read};
use crate::routing::distribute::Distribute;
use crate::routing::subscriptions::{Added, PeerSubscriptions, Removed};
use crate::zmtp::PeerInfo;
use bytes::Bytes;
use std::collections::VecDeque;

/// Upstream messages (not subscriptions) held for the application before the
/// pipes they come from stop being read.
const UPSTREAM_LIMIT: usize = 1000;

/// Whether the application sees subscriptions and upstream messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// PUB: subscriptions are applied silently; upstream messages are dropped.
    Publish,
    /// XPUB: both are delivered to the application.
    Extended,
}

/// Something waiting for the application's `receive`.
#[derive(Debug)]
enum Pending {
    /// A `\x01prefix` or `\x00prefix` report, with the pipe it came from (`None`
    /// for cancels caused by a closed pipe).
    Subscription(Message, Option<PipeId>),
    /// A message a peer sent upstream.
    Upstream(Message),
}

/// The XPUB socket type, and the core of PUB.
#[derive(Debug)]
pub(crate) struct ExtendedPublish {
    flavor: Flavor,
    output: Distribute,
    /// What each pipe is sent: the real subscriptions.
    subscriptions: PeerSubscriptions,
    /// XPUB_MANUAL: what each peer asked for, to report cancels when it goes.
    requested: PeerSubscriptions,
    pending: VecDeque<Pending>,
    /// How many `Pending::Upstream` are in `pending`.
    upstream: usize,
    /// Pipes not read because `upstream` reached its limit.
    paused: Vec<PipeId>,
    verbose_subscribe: bool,
    verbose_cancel: bool,
    manual: bool,
    /// XPUB_MANUAL: the pipe of the last subscription the application received.
    last_pipe: Option<PipeId>,
    no_drop: bool,
    invert_matching: bool,
    welcome: Option<Bytes>,
    /// Pipes already warned about reaching their subscription limit.
    warned: PipeIdSet,
}

impl ExtendedPublish {
    pub(crate) fn new(flavor: Flavor) -> ExtendedPublish {
        ExtendedPublish {
            flavor,
            output: Distribute::new(),
            subscriptions: PeerSubscriptions::new(),
            requested: PeerSubscriptions::new(),
            pending: VecDeque::new(),
            upstream: 0,
            paused: Vec::new(),
            verbose_subscribe: false,
            verbose_cancel: false,
            manual: false,
            last_pipe: None,
            no_drop: false,
            invert_matching: false,
            welcome: None,
            warned: PipeIdSet::default(),
        }
    }

    /// Reads what a pipe holds: subscriptions are applied, upstream messages kept
    /// for the application (until the limit, unless `drain`: the pipe is closing).
    fn read_pipe(&mut self, id: PipeId, drain: bool) {
        loop {
            if !drain && self.upstream >= UPSTREAM_LIMIT {
                if !self.paused.contains(&id) {
                    self.paused.push(id);
                }
                return;
            }
            let Some(pipe) = self.output.pipe_mut(id) else {
                return;
            };
            match pipe.read() {
                Read::Item(item) => self.handle_item(id, item),
                Read::Empty => return,
                Read::Closed => {
                    self.remove_pipe(id);
                    return;
                }
            }
        }
    }

    fn handle_item(&mut self, id: PipeId, item: Item) {
        match item {
            Item::Subscribe(prefix) => self.apply(id, true, prefix),
            Item::Cancel(prefix) => self.apply(id, false, prefix),
            Item::Message(message) => {
                let first = message.first().cloned().unwrap_or_default();
                match first.first() {
                    Some(1) => self.apply(id, true, first.slice(1..)),
                    Some(0) => self.apply(id, false, first.slice(1..)),
                    // An empty message or any other first byte is not a
                    // subscription: XPUB passes it on, PUB ignores it.
                    _ if self.flavor == Flavor::Extended => {
                        self.upstream += 1;
                        self.pending.push_back(Pending::Upstream(message));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Applies a subscribe or cancel from pipe `id`, reporting it if it should be.
    fn apply(&mut self, id: PipeId, subscribe: bool, prefix: Bytes) {
        let report = if self.manual {
            if subscribe {
                if self.requested.add(&prefix, id) == Added::Refused {
                    self.refused(id);
                    return;
                }
            } else {
                self.requested.remove(&prefix, id);
            }
            true
        } else if subscribe {
            match self.subscriptions.add(&prefix, id) {
                Added::First => true,
                Added::Again => self.verbose_subscribe,
                Added::Refused => {
                    self.refused(id);
                    return;
                }
            }
        } else {
            // libzmq also reports a cancel for a prefix the pipe never had
            // (KNOWN_DIFFERENCES.md); Sinew reports only real changes.
            let removed = self.subscriptions.remove(&prefix, id);
            removed == Removed::Last || (removed == Removed::Remaining && self.verbose_cancel)
        };
        if report {
            self.report(subscribe, &prefix, Some(id));
        }
    }

    /// A subscription past the peer's limit was ignored: says so once per peer.
    fn refused(&mut self, id: PipeId) {
        if self.warned.insert(id) {
            tracing::warn!(
                pipe = id,
                "a subscriber reached its subscription limit; its further subscriptions are ignored"
            );
        }
    }

    fn report(&mut self, subscribe: bool, prefix: &[u8], pipe: Option<PipeId>) {
        if self.flavor == Flavor::Publish {
            return;
        }
        let mut body = Vec::with_capacity(prefix.len() + 1);
        body.push(u8::from(subscribe));
        body.extend_from_slice(prefix);
        let pipe = if self.manual { pipe } else { None };
        self.pending
            .push_back(Pending::Subscription(Message::from(body), pipe));
    }

    /// Forgets a pipe: its subscriptions go, and the prefixes nobody else wants
    /// are reported cancelled.
    fn remove_pipe(&mut self, id: PipeId) {
        let removed = self.subscriptions.remove_pipe(id);
        if self.manual {
            for (prefix, _) in self.requested.remove_pipe(id) {
                self.report(false, &prefix, None);
            }
            if self.last_pipe == Some(id) {
                self.last_pipe = None;
            }
        } else {
            for (prefix, last) in removed {
                if last || self.verbose_cancel {
                    self.report(false, &prefix, None);
                }
            }
        }
        self.paused.retain(|&paused| paused != id);
        self.warned.remove(&id);
        drop(self.output.detach(id));
    }

    /// Reads pipes paused at the upstream limit once there is room again.
    fn resume_paused(&mut self) {
        while self.upstream < UPSTREAM_LIMIT {
            let Some(id) = self.paused.pop() else {
                return;
            };
            self.read_pipe(id, false);
        }
    }

    /// XPUB_MANUAL: (un)subscribes the last reported pipe to `prefix`.
    fn manual_change(&mut self, subscribe: bool, prefix: &Bytes) -> Result<()> {
        if !self.manual {
            return Err(Error::InvalidOption(
                "XPUB takes SUBSCRIBE and UNSUBSCRIBE only with XPUB_MANUAL",
            ));
        }
        if let Some(pipe) = self.last_pipe {
            if subscribe {
                self.subscriptions.add_unlimited(prefix, pipe);
            } else {
                self.subscriptions.remove(prefix, pipe);
            }
        }
        Ok(())
    }
}

impl Routing for ExtendedPublish {
    fn attach(&mut self, mut pipe: PipeEnd, _peer: Option<&PeerInfo>) {
        if let Some(welcome) = &self.welcome
            && pipe
                .write(Item::Message(Message::from(welcome.clone())))
                .is_ok()
        {
            pipe.flush();
        }
        let id = pipe.id();
        self.output.attach(pipe);
        self.read_pipe(id, false);
    }

    fn detach(&mut self, pipe: PipeId) {
        self.remove_pipe(pipe);
    }

    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Readable => self.read_pipe(pipe, false),
            PipeEvent::Closed => {
                self.read_pipe(pipe, true);
                self.remove_pipe(pipe);
            }
            // A send waiting under XPUB_NODROP retries on any wake-up.
            PipeEvent::Writable => {}
        }
    }

    fn send(&mut self, message: Message) -> Result<(), SendError> {
        let topic = message.first().cloned().unwrap_or_default();
        self.output.clear_marks();
        let output = &mut self.output;
        self.subscriptions
            .for_each_match(&topic, |pipe| output.mark(pipe));
        if self.invert_matching {
            self.output.invert_marks();
        }
        if self.no_drop && !self.output.marked_have_room() {
            return Err(SendError::new(Error::WouldBlock, message));
        }
        let delivery = self.output.send_to_marked(message);
        if delivery.dropped > 0 {
            tracing::trace!(
                dropped = delivery.dropped,
                "subscribers at their high-water mark lost a message"
            );
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<Message> {
        if self.flavor == Flavor::Publish {
            return Err(Error::NotSupported);
        }
        let message = match self.pending.pop_front() {
            None => return Err(Error::WouldBlock),
            Some(Pending::Subscription(message, pipe)) => {
                if self.manual {
                    self.last_pipe = pipe.filter(|&pipe| self.output.contains(pipe));
                }
                message
            }
            Some(Pending::Upstream(message)) => {
                self.upstream -= 1;
                message
            }
        };
        self.resume_paused();
        Ok(message)
    }

    fn has_input(&mut self) -> bool {
        self.flavor == Flavor::Extended && !self.pending.is_empty()
    }

    fn has_room(&mut self) -> bool {
        // As libzmq: a publisher always accepts (it drops, or NODROP waits in send).
        true
    }

    fn set_option(&mut self, option: TypeOption) -> Result<()> {
        match option {
            TypeOption::PublishVerbose(on) => {
                self.verbose_subscribe = on;
                self.verbose_cancel = false;
            }
            TypeOption::PublishVerboser(on) => {
                self.verbose_subscribe = on;
                self.verbose_cancel = on;
            }
            TypeOption::PublishManual(on) => self.manual = on,
            TypeOption::PublishNoDrop(on) => self.no_drop = on,
            TypeOption::PublishWelcomeMessage(welcome) => {
                self.welcome = welcome.filter(|welcome| !welcome.is_empty());
            }
            TypeOption::InvertMatching(on) => self.invert_matching = on,
            TypeOption::PublishSubscriptionLimit(limit) => {
                self.subscriptions.set_limit(limit);
                self.requested.set_limit(limit);
            }
            TypeOption::Subscribe(prefix) => self.manual_change(true, &prefix)?,
            TypeOption::Unsubscribe(prefix) => self.manual_change(false, &prefix)?,
            _ => {
                return Err(Error::InvalidOption(
                    "not supported by PUB and XPUB sockets",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::pipe_pair;

    /// An XPUB with `count` subscriber pipes; returns the far ends.
    fn publisher(flavor: Flavor, count: usize, mark: u32) -> (ExtendedPublish, Vec<PipeEnd>) {
        let mut socket = ExtendedPublish::new(flavor);
        let mut peers = Vec::new();
        for _ in 0..count {
            let (ours, theirs) = pipe_pair(mark, mark);
            socket.attach(ours, None);
            peers.push(theirs);
        }
        (socket, peers)
    }

    fn subscribe(socket: &mut ExtendedPublish, peer: &mut PipeEnd, item: Item) {
        peer.write(item).unwrap();
        socket.pipe_event(peer.id(), PipeEvent::Readable);
    }

    fn messages(peer: &mut PipeEnd) -> Vec<Message> {
        let mut taken = Vec::new();
        while let Read::Item(Item::Message(message)) = peer.read() {
            taken.push(message);
        }
        taken
    }

    fn reports(socket: &mut ExtendedPublish) -> Vec<Vec<u8>> {
        let mut taken = Vec::new();
        while let Ok(message) = socket.receive() {
            taken.push(message.frames()[0].to_vec());
        }
        taken
    }

    fn prefix(text: &str) -> Bytes {
        Bytes::copy_from_slice(text.as_bytes())
    }

    #[test]
    fn both_subscription_forms_filter_and_report_first_and_last() {
        let (mut socket, mut peers) = publisher(Flavor::Extended, 2, 10);
        let (first, second) = peers.split_at_mut(1);
        subscribe(&mut socket, &mut first[0], Item::Subscribe(prefix("wx.")));
        subscribe(
            &mut socket,
            &mut second[0],
            Item::Message(Message::from("\x01wx.")),
        );
        subscribe(
            &mut socket,
            &mut second[0],
            Item::Message(Message::from("\x01news")),
        );
        assert_eq!(
            reports(&mut socket),
            [b"\x01wx.".to_vec(), b"\x01news".to_vec()]
        );
        socket
            .send(Message::from_frames(["wx.paris", "sunny"]))
            .unwrap();
        socket.send(Message::from("news.today")).unwrap();
        socket.send(Message::from("sports")).unwrap();
        assert_eq!(
            messages(&mut first[0]),
            [Message::from_frames(["wx.paris", "sunny"])]
        );
        assert_eq!(messages(&mut second[0]).len(), 2);
        subscribe(&mut socket, &mut first[0], Item::Cancel(prefix("wx.")));
        assert!(
            reports(&mut socket).is_empty(),
            "wx. still has a subscriber"
        );
        // An empty message is no subscription: XPUB passes it on as an upstream
        // message. A closed pipe reports the prefixes it was the last one on.
        subscribe(
            &mut socket,
            &mut second[0],
            Item::Message(Message::from("")),
        );
        assert_eq!(reports(&mut socket), [Vec::<u8>::new()]);
        let id = second[0].id();
        drop(peers.pop());
        socket.pipe_event(id, PipeEvent::Closed);
        let mut cancels = reports(&mut socket);
        cancels.sort();
        assert_eq!(cancels, [b"\x00news".to_vec(), b"\x00wx.".to_vec()]);
    }

    #[test]
    fn subscriptions_past_a_peers_limit_are_ignored_and_not_reported() {
        let (mut socket, mut peers) = publisher(Flavor::Extended, 2, 10);
        socket
            .set_option(TypeOption::PublishSubscriptionLimit(
                crate::SubscriptionLimit { count: 2, bytes: 0 },
            ))
            .unwrap();
        let (first, second) = peers.split_at_mut(1);
        for topic in ["a", "b", "c"] {
            subscribe(&mut socket, &mut first[0], Item::Subscribe(prefix(topic)));
        }
        subscribe(&mut socket, &mut second[0], Item::Subscribe(prefix("c")));
        assert_eq!(
            reports(&mut socket),
            [b"\x01a".to_vec(), b"\x01b".to_vec(), b"\x01c".to_vec()],
            "the third subscription of the first peer is ignored; the second peer's counts"
        );
        socket.send(Message::from("c.1")).unwrap();
        assert!(messages(&mut first[0]).is_empty());
        assert_eq!(messages(&mut second[0]).len(), 1);
        // A cancel makes room again.
        subscribe(&mut socket, &mut first[0], Item::Cancel(prefix("a")));
        subscribe(&mut socket, &mut first[0], Item::Subscribe(prefix("c")));
        assert_eq!(reports(&mut socket), [b"\x00a".to_vec()]);
        socket.send(Message::from("c.2")).unwrap();
        assert_eq!(messages(&mut first[0]).len(), 1);
    }

    #[test]
    fn publish_never_blocks_and_drops_only_for_the_full_subscriber() {
        let (mut socket, mut peers) = publisher(Flavor::Publish, 2, 2);
        for peer in &mut peers {
            subscribe(&mut socket, peer, Item::Subscribe(prefix("")));
        }
        for index in 0..5 {
            socket.send(Message::from(format!("{index}"))).unwrap();
            // The second subscriber keeps up.
            assert_eq!(messages(&mut peers[1]).len(), 1);
        }
        assert_eq!(messages(&mut peers[0]).len(), 2, "the slow one lost three");
        assert!(matches!(socket.receive(), Err(Error::NotSupported)));
        subscribe(
            &mut socket,
            &mut peers[0],
            Item::Message(Message::from("\x02odd")),
        );
        assert!(
            !socket.has_input(),
            "PUB ignores what is not a subscription"
        );
    }

    #[test]
    fn no_drop_waits_for_room_and_invert_matching_selects_the_others() {
        let (mut socket, mut peers) = publisher(Flavor::Extended, 2, 1);
        socket.set_option(TypeOption::PublishNoDrop(true)).unwrap();
        subscribe(&mut socket, &mut peers[0], Item::Subscribe(prefix("a")));
        socket.send(Message::from("a1")).unwrap();
        let back = socket.send(Message::from("a2")).unwrap_err();
        assert!(matches!(back.error, Error::WouldBlock));
        assert_eq!(messages(&mut peers[0]), [Message::from("a1")]);
        socket.send(back.message).unwrap();
        socket.set_option(TypeOption::InvertMatching(true)).unwrap();
        socket.set_option(TypeOption::PublishNoDrop(false)).unwrap();
        socket.send(Message::from("a3")).unwrap();
        socket.send(Message::from("b")).unwrap();
        assert_eq!(messages(&mut peers[0]), [Message::from("a2")]);
        assert_eq!(messages(&mut peers[1]), [Message::from("a3")], "then full");
    }

    #[test]
    fn verbose_modes_and_the_welcome_message() {
        let mut socket = ExtendedPublish::new(Flavor::Extended);
        socket
            .set_option(TypeOption::PublishVerboser(true))
            .unwrap();
        socket
            .set_option(TypeOption::PublishWelcomeMessage(Some(prefix("hello"))))
            .unwrap();
        let mut peers = Vec::new();
        for _ in 0..2 {
            let (ours, theirs) = pipe_pair(10, 10);
            socket.attach(ours, None);
            peers.push(theirs);
        }
        assert_eq!(messages(&mut peers[0]), [Message::from("hello")]);
        for peer in &mut peers {
            subscribe(&mut socket, peer, Item::Subscribe(prefix("t")));
            subscribe(&mut socket, peer, Item::Subscribe(prefix("t")));
        }
        for peer in &mut peers {
            subscribe(&mut socket, peer, Item::Cancel(prefix("t")));
        }
        assert_eq!(
            reports(&mut socket),
            [
                b"\x01t".to_vec(),
                b"\x01t".to_vec(),
                b"\x01t".to_vec(),
                b"\x01t".to_vec(),
                b"\x00t".to_vec(),
                b"\x00t".to_vec()
            ]
        );
        socket.set_option(TypeOption::PublishVerbose(true)).unwrap();
        subscribe(&mut socket, &mut peers[0], Item::Subscribe(prefix("u")));
        subscribe(&mut socket, &mut peers[1], Item::Subscribe(prefix("u")));
        subscribe(&mut socket, &mut peers[0], Item::Cancel(prefix("u")));
        assert_eq!(reports(&mut socket), [b"\x01u".to_vec(), b"\x01u".to_vec()]);
    }

    #[test]
    fn manual_mode_subscribes_the_last_reported_pipe() {
        let (mut socket, mut peers) = publisher(Flavor::Extended, 2, 10);
        socket.set_option(TypeOption::PublishManual(true)).unwrap();
        assert!(
            socket
                .set_option(TypeOption::Subscribe(prefix("x")))
                .is_ok()
        );
        subscribe(&mut socket, &mut peers[1], Item::Subscribe(prefix("wx")));
        assert_eq!(socket.receive().unwrap(), Message::from("\x01wx"));
        socket.send(Message::from("wx.before")).unwrap();
        assert!(
            messages(&mut peers[1]).is_empty(),
            "nothing until the application agrees"
        );
        // The application maps the request to another topic.
        socket
            .set_option(TypeOption::Subscribe(prefix("weather")))
            .unwrap();
        socket.send(Message::from("weather.now")).unwrap();
        socket.send(Message::from("wx.now")).unwrap();
        assert_eq!(messages(&mut peers[1]), [Message::from("weather.now")]);
        assert!(messages(&mut peers[0]).is_empty());
        let id = peers[1].id();
        drop(peers.pop());
        socket.pipe_event(id, PipeEvent::Closed);
        assert_eq!(reports(&mut socket), [b"\x00wx".to_vec()]);
        let mut plain = ExtendedPublish::new(Flavor::Extended);
        assert!(
            plain
                .set_option(TypeOption::Subscribe(prefix("x")))
                .is_err()
        );
    }

    #[test]
    fn upstream_messages_are_bounded_by_pausing_the_pipe() {
        let (mut socket, mut peers) = publisher(Flavor::Extended, 1, 0);
        for index in 0..UPSTREAM_LIMIT + 10 {
            peers[0]
                .write(Item::Message(Message::from(format!("m{index}"))))
                .unwrap();
        }
        peers[0].write(Item::Subscribe(prefix("late"))).unwrap();
        socket.pipe_event(peers[0].id(), PipeEvent::Readable);
        assert_eq!(socket.pending.len(), UPSTREAM_LIMIT);
        let mut received = 0;
        while socket.receive().is_ok() {
            received += 1;
        }
        assert_eq!(
            received,
            UPSTREAM_LIMIT + 11,
            "every message, then the subscription"
        );
    }
}
