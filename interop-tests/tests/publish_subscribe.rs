//! PUB/SUB and XPUB/XSUB against libzmq 4.3, over tcp and ipc, with each side in
//! each role: prefix filtering and multipart (libzmq PUB to Sinew SUB and the
//! reverse), many subscribers, unsubscribe, subscriptions surviving a reconnect,
//! an XPUB seeing a SUB's subscribe and cancel, a libzmq XSUB's data-frame
//! subscriptions, a Sinew XSUB/XPUB forwarder between a libzmq PUB and libzmq
//! SUBs, and a slow libzmq subscriber that must not slow a fast one. Raw peers
//! over a `TcpStream` cover what libzmq 4.3 never sends: the ZMTP 3.0 data-frame
//! subscription form in both directions, and malformed subscriptions.
//!
//! To know that a subscription reached a publisher, a test publishes in a loop
//! until the subscriber receives (the guide's "slow joiner" advice). Every wait
//! has a deadline; nothing sleeps.

use sinew::SocketType;
use sinew_interop_tests::{Contexts, Peer, Side, TIMEOUT, Transport};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long one probe waits for an answer before the next is sent. It only paces
/// loops that end on a positive answer; no test takes it as a sign of absence.
const PROBE: Duration = Duration::from_millis(10);

fn frames(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|part| part.to_vec()).collect()
}

/// Publishes `topic` until `subscriber` receives it, then drains every copy up to
/// a marker of its own. Everything received meanwhile must start with `topic`.
fn wait_for_subscription(publisher: &Peer, subscriber: &Peer, topic: &str) {
    static MARKERS: AtomicU64 = AtomicU64::new(0);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        publisher.send(&[topic.as_bytes()]);
        if let Some(message) = subscriber.try_recv(PROBE) {
            assert!(message[0].starts_with(topic.as_bytes()), "{message:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{topic:?} never reached the publisher"
        );
    }
    let marker = format!(
        "{topic}#synchronized-{}",
        MARKERS.fetch_add(1, Ordering::Relaxed)
    );
    publisher.send(&[marker.as_bytes()]);
    loop {
        let message = subscriber.recv();
        assert!(message[0].starts_with(topic.as_bytes()), "{message:?}");
        if message[0] == marker.as_bytes() {
            return;
        }
    }
}

/// The next subscription report from `xpub`. Meanwhile the subscribers are
/// nudged: a bound socket takes in new connections (and sends them its
/// subscriptions) only when its application calls it, in libzmq as in Sinew.
fn report(xpub: &Peer, subscribers: &[&Peer]) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(mut message) = xpub.try_recv(PROBE) {
            assert_eq!(message.len(), 1, "{message:?}");
            return message.remove(0);
        }
        for subscriber in subscribers {
            assert_eq!(
                subscriber.try_recv(Duration::ZERO),
                None,
                "nothing was published"
            );
        }
        assert!(Instant::now() < deadline, "no subscription report");
    }
}

/// Binds one peer and connects the other; returns the endpoint.
fn join(binder: &Peer, connector: &Peer, transport: Transport) -> String {
    let endpoint = binder.bind(&transport.bind_endpoint());
    connector.connect(&endpoint);
    endpoint
}

/// Binds, retrying while an earlier socket still holds the address.
fn bind_retrying(peer: &Peer, endpoint: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let bound = match peer {
            Peer::Sinew(socket) => socket.bind(endpoint).is_ok(),
            Peer::Libzmq(socket) => socket.bind(endpoint).is_ok(),
        };
        if bound {
            return;
        }
        assert!(Instant::now() < deadline, "could not bind {endpoint} again");
        std::thread::park_timeout(Duration::from_millis(1));
    }
}

#[test]
fn sub_receives_only_its_prefix_multipart_intact_in_both_roles() {
    for transport in Transport::BOTH {
        for publisher_side in Side::BOTH {
            for publisher_binds in [true, false] {
                let label =
                    format!("{transport:?}, {publisher_side:?} PUB, binds: {publisher_binds}");
                let contexts = Contexts::new();
                let publisher = contexts.socket(publisher_side, SocketType::Publish);
                let subscriber = contexts.socket(publisher_side.other(), SocketType::Subscribe);
                subscriber.subscribe(b"wx.");
                if publisher_binds {
                    join(&publisher, &subscriber, transport);
                } else {
                    join(&subscriber, &publisher, transport);
                }
                wait_for_subscription(&publisher, &subscriber, "wx.sync");
                publisher.send(&[b"news.1"]);
                publisher.send(&[b"wx.paris", b"", b"sunny"]);
                publisher.send(&[b"wx"]);
                publisher.send(&[b"news.2", b"wx.not-the-topic"]);
                publisher.send(&[b"wx.end"]);
                assert_eq!(
                    subscriber.recv(),
                    frames(&[b"wx.paris", b"", b"sunny"]),
                    "{label}"
                );
                assert_eq!(subscriber.recv(), frames(&[b"wx.end"]), "{label}");
            }
        }
    }
}

#[test]
fn many_subscribers_each_get_their_prefixes_and_unsubscribe_stops_them() {
    const SUBSCRIBERS: usize = 8;
    for transport in Transport::BOTH {
        for publisher_side in Side::BOTH {
            let label = format!("{transport:?}, {publisher_side:?} PUB");
            let contexts = Contexts::new();
            let publisher = contexts.socket(publisher_side, SocketType::Publish);
            let endpoint = publisher.bind(&transport.bind_endpoint());
            let subscribers: Vec<Peer> = (0..SUBSCRIBERS)
                .map(|index| {
                    let subscriber = contexts.socket(publisher_side.other(), SocketType::Subscribe);
                    subscriber.subscribe(b"all.");
                    subscriber.subscribe(format!("s{index}.").as_bytes());
                    subscriber.connect(&endpoint);
                    subscriber
                })
                .collect();
            for (index, subscriber) in subscribers.iter().enumerate() {
                // Its subscriptions travel in order: "all." is in place too.
                wait_for_subscription(&publisher, subscriber, &format!("s{index}.sync"));
            }
            publisher.send(&[b"all.1"]);
            for index in 0..SUBSCRIBERS {
                publisher.send(&[format!("s{index}.1").as_bytes()]);
            }
            for (index, subscriber) in subscribers.iter().enumerate() {
                assert_eq!(subscriber.recv(), frames(&[b"all.1"]), "{label}");
                let own = format!("s{index}.1");
                assert_eq!(subscriber.recv(), frames(&[own.as_bytes()]), "{label}");
            }
            subscribers[0].unsubscribe(b"all.");
            publisher.send(&[b"all.2"]);
            publisher.send(&[b"s0.2"]);
            assert_eq!(subscribers[0].recv(), frames(&[b"s0.2"]), "{label}");
            assert_eq!(subscribers[1].recv(), frames(&[b"all.2"]), "{label}");
        }
    }
}

#[test]
fn subscriptions_survive_a_reconnect_in_both_roles() {
    for transport in Transport::BOTH {
        for subscriber_side in Side::BOTH {
            let label = format!("{transport:?}, {subscriber_side:?} SUB");
            let contexts = Contexts::new();
            let subscriber = contexts.socket(subscriber_side, SocketType::Subscribe);
            subscriber.set_reconnect_interval(Duration::from_millis(10));
            subscriber.subscribe(b"wx.");
            let publisher = contexts.socket(subscriber_side.other(), SocketType::Publish);
            let endpoint = join(&publisher, &subscriber, transport);
            wait_for_subscription(&publisher, &subscriber, "wx.first");
            publisher.set_linger(Duration::ZERO);
            drop(publisher);
            let publisher = contexts.socket(subscriber_side.other(), SocketType::Publish);
            bind_retrying(&publisher, &endpoint);
            // Only the re-sent subscription lets anything through.
            wait_for_subscription(&publisher, &subscriber, "wx.second");
            publisher.send(&[b"news"]);
            publisher.send(&[b"wx.after"]);
            assert_eq!(subscriber.recv(), frames(&[b"wx.after"]), "{label}");
        }
    }
}

#[test]
fn xpub_sees_first_subscribe_last_cancel_and_disconnects_in_both_roles() {
    for transport in Transport::BOTH {
        for xpub_side in Side::BOTH {
            for xpub_binds in [true, false] {
                let label = format!("{transport:?}, {xpub_side:?} XPUB, binds: {xpub_binds}");
                let contexts = Contexts::new();
                let xpub = contexts.socket(xpub_side, SocketType::ExtendedPublish);
                let first = contexts.socket(xpub_side.other(), SocketType::Subscribe);
                let second = contexts.socket(xpub_side.other(), SocketType::Subscribe);
                let second_endpoint = if xpub_binds {
                    let endpoint = xpub.bind(&transport.bind_endpoint());
                    first.connect(&endpoint);
                    second.connect(&endpoint);
                    endpoint
                } else {
                    join(&first, &xpub, transport);
                    join(&second, &xpub, transport)
                };
                let subscribers = [&first, &second];
                first.subscribe(b"topic");
                assert_eq!(report(&xpub, &subscribers), b"\x01topic", "{label}");
                second.subscribe(b"topic");
                second.subscribe(b"other");
                // second's "topic" came first on its connection: already counted.
                assert_eq!(report(&xpub, &subscribers), b"\x01other", "{label}");
                first.unsubscribe(b"topic");
                second.unsubscribe(b"other");
                assert_eq!(report(&xpub, &subscribers), b"\x00other", "{label}");
                if xpub_binds {
                    second.set_linger(Duration::ZERO);
                    drop(second);
                } else {
                    // A connecting XPUB keeps a lost peer's pipe (and subscriptions)
                    // for the reconnect, in both libraries: disconnect ends it.
                    xpub.disconnect(&second_endpoint);
                }
                assert_eq!(
                    report(&xpub, &[&first]),
                    b"\x00topic",
                    "{label}: a disconnect cancels"
                );
                // Nothing else was reported: a report made after those comes next.
                first.subscribe(b"barrier");
                assert_eq!(
                    report(&xpub, &[&first]),
                    b"\x01barrier",
                    "{label}: nothing reported between"
                );
            }
        }
    }
}

#[test]
fn xsub_data_frame_subscriptions_and_upstream_messages_cross_in_both_roles() {
    for transport in Transport::BOTH {
        for xpub_side in Side::BOTH {
            let label = format!("{transport:?}, {xpub_side:?} XPUB");
            let contexts = Contexts::new();
            let xpub = contexts.socket(xpub_side, SocketType::ExtendedPublish);
            let xsub = contexts.socket(xpub_side.other(), SocketType::ExtendedSubscribe);
            join(&xpub, &xsub, transport);
            // Sent before the connection is up, a libzmq XSUB keeps this one and
            // sends it as a SUBSCRIBE command when the pipe attaches.
            xsub.send(&[b"\x01first"]);
            assert_eq!(xpub.recv(), frames(&[b"\x01first"]), "{label}");
            // Over the live connection a libzmq XSUB forwards the message as it is:
            // a data frame, even on a ZMTP 3.1 link.
            xsub.send(&[b"\x01wx"]);
            assert_eq!(xpub.recv(), frames(&[b"\x01wx"]), "{label}");
            xpub.send(&[b"news"]);
            xpub.send(&[b"wx.1", b"two"]);
            assert_eq!(
                xsub.recv(),
                frames(&[b"wx.1", b"two"]),
                "{label}: filtered upstream"
            );
            xsub.send(&[b"hello", b"upstream"]);
            assert_eq!(xpub.recv(), frames(&[b"hello", b"upstream"]), "{label}");
            xsub.send(&[b"\x00wx"]);
            assert_eq!(xpub.recv(), frames(&[b"\x00wx"]), "{label}");
        }
    }
}

/// Forwards messages both ways between an XSUB and an XPUB until `stop` is set.
fn forward(xsub: Peer, xpub: Peer, stop: Arc<AtomicBool>) {
    let (xsub, xpub) = (xsub.sinew(), xpub.sinew());
    while !stop.load(Ordering::Relaxed) {
        let mut items = [
            sinew::PollItem::new(xsub, sinew::PollEvents::READABLE),
            sinew::PollItem::new(xpub, sinew::PollEvents::READABLE),
        ];
        sinew::poll(&mut items, Some(Duration::from_millis(50))).expect("poll");
        while let Ok(message) = xsub.try_recv() {
            xpub.send(message).expect("forward down");
        }
        while let Ok(message) = xpub.try_recv() {
            xsub.send(message).expect("forward up");
        }
    }
}

#[test]
fn a_sinew_forwarder_joins_a_libzmq_publisher_and_libzmq_subscribers() {
    for transport in Transport::BOTH {
        for sinew_binds in [true, false] {
            let label = format!("{transport:?}, Sinew binds: {sinew_binds}");
            let contexts = Contexts::new();
            let publisher = contexts.socket(Side::Libzmq, SocketType::Publish);
            let xsub = contexts.socket(Side::Sinew, SocketType::ExtendedSubscribe);
            let xpub = contexts.socket(Side::Sinew, SocketType::ExtendedPublish);
            let weather = contexts.socket(Side::Libzmq, SocketType::Subscribe);
            let sports = contexts.socket(Side::Libzmq, SocketType::Subscribe);
            weather.subscribe(b"wx.");
            sports.subscribe(b"sports.");
            if sinew_binds {
                join(&xsub, &publisher, transport);
                let downstream = xpub.bind(&transport.bind_endpoint());
                weather.connect(&downstream);
                sports.connect(&downstream);
            } else {
                join(&publisher, &xsub, transport);
                join(&weather, &xpub, transport);
                join(&sports, &xpub, transport);
            }
            let stop = Arc::new(AtomicBool::new(false));
            let forwarder = {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || forward(xsub, xpub, stop))
            };
            wait_for_subscription(&publisher, &weather, "wx.sync");
            wait_for_subscription(&publisher, &sports, "sports.sync");
            publisher.send(&[b"news.1"]);
            publisher.send(&[b"wx.1"]);
            publisher.send(&[b"sports.1", b"multi", b"part"]);
            publisher.send(&[b"wx.2"]);
            assert_eq!(weather.recv(), frames(&[b"wx.1"]), "{label}");
            assert_eq!(weather.recv(), frames(&[b"wx.2"]), "{label}");
            assert_eq!(
                sports.recv(),
                frames(&[b"sports.1", b"multi", b"part"]),
                "{label}"
            );
            stop.store(true, Ordering::Relaxed);
            forwarder.join().expect("the forwarder ends");
        }
    }
}

#[test]
fn a_slow_libzmq_subscriber_does_not_slow_a_fast_one() {
    const COUNT: usize = 20_000;
    const BATCH: usize = 50;
    for transport in Transport::BOTH {
        let contexts = Contexts::new();
        let publisher = contexts.socket(Side::Sinew, SocketType::Publish);
        publisher.set_send_high_water_mark(100);
        let endpoint = publisher.bind(&transport.bind_endpoint());
        let slow = contexts.socket(Side::Libzmq, SocketType::Subscribe);
        let fast = contexts.socket(Side::Libzmq, SocketType::Subscribe);
        slow.set_receive_high_water_mark(10);
        for subscriber in [&slow, &fast] {
            subscriber.subscribe(b"");
            subscriber.connect(&endpoint);
        }
        wait_for_subscription(&publisher, &slow, "sync");
        wait_for_subscription(&publisher, &fast, "sync");
        // 20 MB, far more than the slow one's marks and kernel buffers hold; the
        // fast one is kept within its mark by receiving each batch.
        let payload = vec![b'x'; 1000];
        for batch in 0..COUNT / BATCH {
            let range = batch * BATCH..(batch + 1) * BATCH;
            for index in range.clone() {
                let sent = publisher.try_send(&[index.to_string().as_bytes(), &payload]);
                assert!(sent, "{transport:?}: a publisher never blocks");
            }
            for index in range {
                assert_eq!(
                    fast.recv()[0],
                    index.to_string().into_bytes(),
                    "{transport:?}"
                );
            }
        }
        // Count what the slow one kept, up to an end marker published after all of
        // it (behind it on the same connection). At its mark the marker may be
        // dropped too: publish another whenever the slow one has nothing.
        let deadline = Instant::now() + TIMEOUT;
        let mut slow_received = 0;
        publisher.send(&[b"end"]);
        loop {
            match slow.try_recv(PROBE) {
                Some(message) if message == frames(&[b"end"]) => break,
                Some(message) if message.len() == 2 => slow_received += 1,
                Some(message) => {
                    // Copies of "sync" published while the fast one synchronized.
                    assert!(message[0].starts_with(b"sync"), "{message:?}");
                }
                None => {
                    assert!(Instant::now() < deadline, "{transport:?}: no end marker");
                    publisher.send(&[b"end"]);
                }
            }
        }
        assert!(
            slow_received < COUNT,
            "{transport:?}: the slow subscriber got everything ({slow_received})"
        );
    }
}

/// A raw ZMTP peer over TCP, for what libzmq 4.3 never sends.
struct RawPeer {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// A greeting: signature, version 3.`minor`, NULL, not a server.
fn greeting(minor: u8) -> Vec<u8> {
    let mut bytes = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, minor];
    bytes.extend_from_slice(b"NULL");
    bytes.resize(64, 0);
    bytes
}

/// A command frame: name length, name, data.
fn command(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(data);
    let mut frame = vec![0x04, body.len() as u8];
    frame.extend(body);
    frame
}

fn ready(socket_type: &str) -> Vec<u8> {
    let mut data = vec![11];
    data.extend_from_slice(b"Socket-Type");
    data.extend((socket_type.len() as u32).to_be_bytes());
    data.extend_from_slice(socket_type.as_bytes());
    command(b"READY", &data)
}

/// A short, final data frame.
fn data(body: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x00, body.len() as u8];
    frame.extend_from_slice(body);
    frame
}

impl RawPeer {
    fn connect(endpoint: &str) -> RawPeer {
        let address = endpoint.trim_start_matches("tcp://");
        RawPeer::new(TcpStream::connect(address).expect("raw connect"))
    }

    fn new(stream: TcpStream) -> RawPeer {
        RawPeer {
            stream,
            buffer: Vec::new(),
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("raw write");
    }

    /// Reads more bytes within `deadline`; false on timeout or close.
    fn fill(&mut self, deadline: Instant) -> bool {
        let Some(remaining) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        let timeout = remaining.max(Duration::from_millis(1));
        self.stream
            .set_read_timeout(Some(timeout))
            .expect("timeout");
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(count) => {
                self.buffer.extend_from_slice(&chunk[..count]);
                true
            }
        }
    }

    /// The peer's 64-byte greeting.
    fn greeting(&mut self) -> Vec<u8> {
        let deadline = Instant::now() + TIMEOUT;
        while self.buffer.len() < 64 {
            assert!(self.fill(deadline), "no greeting");
        }
        self.buffer.drain(..64).collect()
    }

    /// The next frame as (flags, body), within `timeout`.
    fn frame(&mut self, timeout: Duration) -> Option<(u8, Vec<u8>)> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(frame) = self.parse() {
                return Some(frame);
            }
            if !self.fill(deadline) {
                return None;
            }
        }
    }

    /// The next data frame's body, skipping commands, within `timeout`.
    fn data_frame(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.checked_duration_since(Instant::now())?;
            let (flags, body) = self.frame(remaining)?;
            if flags & 0x04 == 0 {
                return Some(body);
            }
        }
    }

    fn parse(&mut self) -> Option<(u8, Vec<u8>)> {
        let flags = *self.buffer.first()?;
        let (header, size) = if flags & 0x02 != 0 {
            let bytes: [u8; 8] = self.buffer.get(1..9)?.try_into().ok()?;
            (9, u64::from_be_bytes(bytes) as usize)
        } else {
            (2, usize::from(*self.buffer.get(1)?))
        };
        let body = self.buffer.get(header..header + size)?.to_vec();
        self.buffer.drain(..header + size);
        Some((flags, body))
    }

    /// Whether the peer closes the connection (end of stream or a reset) within
    /// the timeout; whatever it sends first is read and dropped.
    fn closes(&mut self) -> bool {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let Some(remaining) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            self.stream
                .set_read_timeout(Some(remaining.max(Duration::from_millis(1))))
                .expect("timeout");
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
    }
}

/// Publishes `topic` until the raw subscriber gets it, then drains to a marker.
fn wait_for_raw_subscription(publisher: &sinew::Socket, raw: &mut RawPeer, topic: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        publisher.send(topic).expect("publish");
        if raw.data_frame(PROBE).is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{topic:?} never reached the publisher"
        );
    }
    let marker = format!("{topic}#synchronized");
    publisher.send(marker.as_str()).expect("publish");
    while raw.data_frame(TIMEOUT).expect("the marker") != marker.as_bytes() {}
}

#[test]
fn a_zmtp_3_0_subscriber_subscribes_with_data_frames() {
    let contexts = Contexts::new();
    let publisher = contexts.socket(Side::Sinew, SocketType::Publish);
    let endpoint = publisher.bind("tcp://127.0.0.1:*");
    let mut raw = RawPeer::connect(&endpoint);
    raw.write(&greeting(0));
    raw.write(&ready("SUB"));
    raw.write(&data(b"\x01wx"));
    raw.greeting();
    let publisher = publisher.sinew();
    wait_for_raw_subscription(publisher, &mut raw, "wx.sync");
    publisher.send("news").expect("publish");
    publisher.send("wx.end").expect("publish");
    assert_eq!(raw.data_frame(TIMEOUT).expect("wx.end"), b"wx.end");
    raw.write(&data(b"\x00wx"));
    // Once the cancel is in, nothing more comes: a second subscription's marker is
    // the next data frame.
    raw.write(&data(b"\x01marker"));
    wait_for_raw_subscription(publisher, &mut raw, "marker");
    publisher.send("wx.gone").expect("publish");
    publisher.send("marker.end").expect("publish");
    assert_eq!(raw.data_frame(TIMEOUT).expect("marker.end"), b"marker.end");
}

#[test]
fn a_zmtp_3_0_publisher_gets_data_frame_subscriptions() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("raw listener");
    let endpoint = format!("tcp://{}", listener.local_addr().expect("address"));
    let contexts = Contexts::new();
    let subscriber = contexts.socket(Side::Sinew, SocketType::Subscribe);
    subscriber.subscribe(b"wx");
    subscriber.connect(&endpoint);
    let (stream, _) = listener.accept().expect("accept");
    let mut raw = RawPeer::new(stream);
    raw.write(&greeting(0));
    raw.write(&ready("PUB"));
    let their_greeting = raw.greeting();
    assert_eq!(&their_greeting[10..12], &[3, 1], "Sinew announces 3.1");
    let (flags, _) = raw.frame(TIMEOUT).expect("READY");
    assert_eq!(flags, 0x04, "READY first");
    assert_eq!(
        raw.frame(TIMEOUT).expect("the subscription"),
        (0x00, b"\x01wx".to_vec()),
        "to a 3.0 peer, a data frame starting with 1"
    );
    subscriber.unsubscribe(b"wx");
    assert_eq!(
        raw.frame(TIMEOUT).expect("the cancel"),
        (0x00, b"\x00wx".to_vec())
    );
    subscriber.subscribe(b"wx");
    raw.write(&data(b"news"));
    raw.write(&data(b"wx.1"));
    assert_eq!(subscriber.recv(), frames(&[b"wx.1"]), "filtered on arrival");
}

#[test]
fn malformed_subscriptions_are_ignored_or_drop_only_that_peer() {
    let contexts = Contexts::new();
    let publisher = contexts.socket(Side::Sinew, SocketType::Publish);
    let endpoint = publisher.bind("tcp://127.0.0.1:*");
    let good = contexts.socket(Side::Libzmq, SocketType::Subscribe);
    good.subscribe(b"good");
    good.connect(&endpoint);
    wait_for_subscription(&publisher, &good, "good.sync");
    // An empty message and an unknown first byte are ignored; the peer stays.
    let mut odd = RawPeer::connect(&endpoint);
    odd.write(&greeting(1));
    odd.write(&ready("SUB"));
    odd.write(&data(b""));
    odd.write(&data(b"\x02ok"));
    odd.write(&command(b"SUBSCRIBE", b"ok"));
    odd.greeting();
    let sinew_publisher = publisher.sinew();
    wait_for_raw_subscription(sinew_publisher, &mut odd, "ok.odd");
    // A command frame with an empty body cannot be parsed: that peer is dropped.
    let mut broken = RawPeer::connect(&endpoint);
    broken.write(&greeting(1));
    broken.write(&ready("SUB"));
    broken.write(&[0x04, 0x00]);
    assert!(broken.closes(), "the broken peer is disconnected");
    publisher.send(&[b"good.after"]);
    publisher.send(&[b"ok.after"]);
    assert_eq!(
        good.recv(),
        frames(&[b"good.after"]),
        "the good peer is still served"
    );
    assert_eq!(odd.data_frame(TIMEOUT).expect("ok.after"), b"ok.after");
}

/// A peer cannot grow a publisher's subscriptions without bound: past its limit
/// (lowered here to three), further subscriptions are ignored, a cancel makes room,
/// and the other subscribers are served throughout.
#[test]
fn a_flood_of_subscriptions_stops_at_the_peer_limit() {
    let contexts = Contexts::new();
    let publisher = contexts.socket(Side::Sinew, SocketType::Publish);
    publisher
        .sinew()
        .set_subscription_limit(sinew::SubscriptionLimit { count: 3, bytes: 0 })
        .expect("the limit");
    let endpoint = publisher.bind("tcp://127.0.0.1:*");
    let good = contexts.socket(Side::Libzmq, SocketType::Subscribe);
    good.subscribe(b"good");
    good.connect(&endpoint);
    wait_for_subscription(&publisher, &good, "good.sync");
    let mut flood = RawPeer::connect(&endpoint);
    flood.write(&greeting(1));
    flood.write(&ready("SUB"));
    flood.write(&command(b"SUBSCRIBE", b"a"));
    flood.write(&command(b"SUBSCRIBE", b"b"));
    let mut burst = Vec::new();
    for index in 0..10_000 {
        burst.extend_from_slice(&command(b"SUBSCRIBE", format!("x{index:05}").as_bytes()));
    }
    flood.write(&burst);
    // Processed in order: "c" fits only once "b" is cancelled, after the burst.
    flood.write(&command(b"CANCEL", b"b"));
    flood.write(&command(b"SUBSCRIBE", b"c"));
    flood.greeting();
    let sinew_publisher = publisher.sinew();
    wait_for_raw_subscription(sinew_publisher, &mut flood, "c.sync");
    for topic in ["x00001", "x09999", "x00000", "b.gone", "a.end"] {
        sinew_publisher.send(topic).expect("publish");
    }
    assert_eq!(
        flood.data_frame(TIMEOUT).expect("x00000"),
        b"x00000",
        "only the first of the burst fitted"
    );
    assert_eq!(flood.data_frame(TIMEOUT).expect("a.end"), b"a.end");
    publisher.send(&[b"good.after"]);
    assert_eq!(good.recv(), frames(&[b"good.after"]));
}
