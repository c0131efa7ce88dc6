//! PUB/SUB and XPUB/XSUB between Sinew sockets over tcp, ipc and inproc: prefix
//! filtering in both roles, multipart, reference-counted unsubscribe, XPUB's
//! subscription reports (plain, verbose, manual, on disconnect), the welcome
//! message, NODROP, INVERT_MATCHING, CONFLATE, a slow subscriber that must not slow
//! a fast one, subscriptions surviving a reconnect, and an XSUB/XPUB forwarder.
//!
//! Every wait has a deadline. To know that a subscription has reached a publisher,
//! a test publishes in a loop until the subscriber receives (the ZeroMQ guide's
//! "slow joiner" advice); no test sleeps.

mod util;

use sinew::poll::{PollEvents, PollItem, poll};
use sinew::{Context, Error, Message, Socket, SocketType, TypeOption};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use util::{TIMEOUT, bind_retrying, endpoints, recv_text};

/// How long one probe waits for an answer before the next is sent. It only paces
/// loops that end on a positive answer; no test takes it as a sign of absence.
const PROBE: Duration = Duration::from_millis(10);

fn socket(context: &Context, kind: SocketType) -> Socket {
    let socket = context.socket(kind).unwrap();
    socket.set_receive_timeout(Some(TIMEOUT)).unwrap();
    socket.set_send_timeout(Some(TIMEOUT)).unwrap();
    socket
}

/// Binds `binder` to `endpoint` and connects `connector` to where it bound.
fn join(binder: &Socket, connector: &Socket, endpoint: &str) -> String {
    binder.bind(endpoint).unwrap();
    let bound = binder.last_endpoint().unwrap();
    connector.connect(&bound).unwrap();
    bound
}

/// Publishes `topic` until `subscriber` receives it, then drains the extra copies
/// up to a marker of its own: from then on, the subscription is known to be in
/// place. Every message received meanwhile must start with `topic`.
fn wait_for_subscription(publisher: &Socket, subscriber: &Socket, topic: &str) {
    static MARKERS: AtomicU64 = AtomicU64::new(0);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        publisher.send(topic).unwrap();
        if let Ok(message) = subscriber.recv_with_timeout(Some(PROBE)) {
            assert!(
                message.frames()[0].starts_with(topic.as_bytes()),
                "{message:?}"
            );
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
    publisher.send(marker.as_str()).unwrap();
    loop {
        let text = recv_text(subscriber);
        assert!(
            text.starts_with(topic),
            "{text:?} while waiting for {topic:?}"
        );
        if text == marker {
            return;
        }
    }
}

#[test]
fn sub_receives_only_its_prefixes_multipart_intact_on_every_transport_in_both_roles() {
    for endpoint in endpoints("pub-sub") {
        for publisher_binds in [true, false] {
            let context = Context::new();
            let publisher = socket(&context, SocketType::Publish);
            let subscriber = socket(&context, SocketType::Subscribe);
            subscriber.subscribe("wx.").unwrap();
            subscriber.subscribe("sports").unwrap();
            if publisher_binds {
                join(&publisher, &subscriber, &endpoint);
            } else {
                join(&subscriber, &publisher, &endpoint);
            }
            wait_for_subscription(&publisher, &subscriber, "wx.sync");
            wait_for_subscription(&publisher, &subscriber, "sports.sync");
            let multipart = Message::from_frames(["wx.paris", "", "sunny"]);
            publisher.send("news.1").unwrap();
            publisher.send(multipart.clone()).unwrap();
            publisher.send("w").unwrap();
            publisher.send("sports.1").unwrap();
            publisher.send("wx").unwrap();
            publisher.send("wx.end").unwrap();
            let context_note = format!("{endpoint}, publisher binds: {publisher_binds}");
            assert_eq!(subscriber.recv().unwrap(), multipart, "{context_note}");
            assert_eq!(recv_text(&subscriber), "sports.1", "{context_note}");
            assert_eq!(recv_text(&subscriber), "wx.end", "{context_note}");
        }
    }
}

#[test]
fn a_sub_without_subscriptions_receives_nothing_and_unsubscribe_counts_references() {
    for endpoint in endpoints("no-subscription") {
        let context = Context::new();
        let publisher = socket(&context, SocketType::Publish);
        let control = socket(&context, SocketType::Subscribe);
        let silent = socket(&context, SocketType::Subscribe);
        control.subscribe("").unwrap();
        let bound = join(&publisher, &control, &endpoint);
        silent.connect(&bound).unwrap();
        wait_for_subscription(&publisher, &control, "before");
        for index in 0..100 {
            publisher.send(format!("unwanted {index}")).unwrap();
        }
        // The first thing `silent` ever receives is what it subscribes to later.
        silent.subscribe("a").unwrap();
        silent.subscribe("a").unwrap();
        silent.subscribe("b").unwrap();
        wait_for_subscription(&publisher, &silent, "a.sync");
        wait_for_subscription(&publisher, &silent, "b.sync");
        // One of two references to "a" is dropped: "a" still arrives.
        silent.unsubscribe("a").unwrap();
        publisher.send("a.1").unwrap();
        assert_eq!(recv_text(&silent), "a.1", "{endpoint}");
        silent.unsubscribe("a").unwrap();
        silent.unsubscribe("never subscribed").unwrap();
        publisher.send("a.2").unwrap();
        publisher.send("b.1").unwrap();
        assert_eq!(recv_text(&silent), "b.1", "{endpoint}");
        assert!(matches!(
            silent.send("x").unwrap_err().error,
            Error::NotSupported
        ));
    }
}

#[test]
fn xpub_reports_first_subscribe_and_last_cancel_and_a_disconnect_counts() {
    for endpoint in endpoints("xpub-reports") {
        let context = Context::new();
        let xpub = socket(&context, SocketType::ExtendedPublish);
        xpub.bind(&endpoint).unwrap();
        let bound = xpub.last_endpoint().unwrap();
        let first = socket(&context, SocketType::Subscribe);
        let second = socket(&context, SocketType::Subscribe);
        first.connect(&bound).unwrap();
        second.connect(&bound).unwrap();
        first.subscribe("topic").unwrap();
        assert_eq!(
            xpub.recv().unwrap(),
            Message::from("\x01topic"),
            "{endpoint}"
        );
        second.subscribe("topic").unwrap();
        second.subscribe("other").unwrap();
        assert_eq!(
            xpub.recv().unwrap(),
            Message::from("\x01other"),
            "{endpoint}"
        );
        first.unsubscribe("topic").unwrap();
        second.unsubscribe("other").unwrap();
        assert_eq!(
            xpub.recv().unwrap(),
            Message::from("\x00other"),
            "{endpoint}: topic still has a subscriber, so only other's cancel"
        );
        drop(second);
        assert_eq!(
            xpub.recv().unwrap(),
            Message::from("\x00topic"),
            "{endpoint}: a closed subscriber cancels"
        );
        // Nothing else was reported: a report made after those must come next.
        first.subscribe("barrier").unwrap();
        assert_eq!(
            xpub.recv().unwrap(),
            Message::from("\x01barrier"),
            "{endpoint}: nothing reported between"
        );
    }
}

#[test]
fn xpub_verbose_reports_every_subscribe_and_verboser_every_cancel() {
    let context = Context::new();
    let xpub = socket(&context, SocketType::ExtendedPublish);
    xpub.set_type_option(TypeOption::PublishVerboser(true))
        .unwrap();
    xpub.bind("tcp://127.0.0.1:0").unwrap();
    let bound = xpub.last_endpoint().unwrap();
    let subscribers: Vec<Socket> = (0..2)
        .map(|_| {
            let subscriber = socket(&context, SocketType::Subscribe);
            subscriber.connect(&bound).unwrap();
            subscriber.subscribe("t").unwrap();
            subscriber
        })
        .collect();
    for _ in 0..2 {
        assert_eq!(xpub.recv().unwrap(), Message::from("\x01t"));
    }
    for subscriber in &subscribers {
        subscriber.unsubscribe("t").unwrap();
    }
    for _ in 0..2 {
        assert_eq!(xpub.recv().unwrap(), Message::from("\x00t"));
    }
}

#[test]
fn xpub_manual_lets_the_application_choose_what_a_peer_gets() {
    let context = Context::new();
    let xpub = socket(&context, SocketType::ExtendedPublish);
    xpub.set_type_option(TypeOption::PublishManual(true))
        .unwrap();
    let subscriber = socket(&context, SocketType::Subscribe);
    join(&xpub, &subscriber, "inproc://manual");
    subscriber.subscribe("x").unwrap();
    assert_eq!(xpub.recv().unwrap(), Message::from("\x01x"));
    // The application narrows the request to "x.special".
    xpub.subscribe("x.special").unwrap();
    xpub.send("x.other").unwrap();
    xpub.send("x.special.1").unwrap();
    assert_eq!(recv_text(&subscriber), "x.special.1");
}

#[test]
fn xpub_welcomes_each_new_subscriber_and_nodrop_waits_at_the_mark() {
    let context = Context::new();
    let xpub = socket(&context, SocketType::ExtendedPublish);
    xpub.set_type_option(TypeOption::PublishWelcomeMessage(Some(
        bytes::Bytes::from_static(b"welcome"),
    )))
    .unwrap();
    xpub.set_type_option(TypeOption::PublishNoDrop(true))
        .unwrap();
    xpub.set_send_high_water_mark(2).unwrap();
    xpub.bind("inproc://welcome").unwrap();
    let subscriber = socket(&context, SocketType::Subscribe);
    subscriber.set_receive_high_water_mark(2).unwrap();
    subscriber.subscribe("").unwrap();
    subscriber.connect("inproc://welcome").unwrap();
    // Receiving makes the XPUB attach the pipe, which sends the welcome.
    assert_eq!(xpub.recv().unwrap(), Message::from("\x01"));
    assert_eq!(recv_text(&subscriber), "welcome");
    // inproc sums the marks (4); sends go through until the pipe is full, then wait.
    let mut sent = 0;
    while xpub.try_send(format!("{sent}")).is_ok() {
        sent += 1;
        assert!(sent <= 4, "passed the mark");
    }
    assert!(sent >= 3, "{sent}");
    // Nobody reads, so no room can appear: a send with any timeout must time out.
    let failed = xpub
        .send_with_timeout(format!("{sent}"), Some(Duration::from_millis(1)))
        .unwrap_err();
    assert!(matches!(failed.error, Error::TimedOut), "{failed:?}");
    for index in 0..sent {
        assert_eq!(recv_text(&subscriber), index.to_string());
    }
    // Finding the pipe empty tells the XPUB it drained.
    assert!(matches!(subscriber.try_recv(), Err(Error::WouldBlock)));
    xpub.send(failed.message).unwrap();
    assert_eq!(
        recv_text(&subscriber),
        sent.to_string(),
        "nothing was dropped"
    );
}

#[test]
fn invert_matching_delivers_what_matches_no_subscription() {
    let context = Context::new();
    // An XSUB does not filter, so what arrives is what the publisher chose.
    let publisher = socket(&context, SocketType::Publish);
    let xsub = socket(&context, SocketType::ExtendedSubscribe);
    publisher
        .set_type_option(TypeOption::InvertMatching(true))
        .unwrap();
    join(&publisher, &xsub, "tcp://127.0.0.1:0");
    xsub.send("\x01a").unwrap();
    // Until the subscription is in place, the publisher sends "a" messages too.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        publisher.send("a.probe").unwrap();
        publisher.send("b.marker").unwrap();
        match xsub.recv_with_timeout(Some(PROBE)) {
            Ok(message) if message == Message::from("b.marker") => break,
            Ok(message) => {
                assert_eq!(message, Message::from("a.probe"));
                assert_eq!(recv_text(&xsub), "b.marker");
            }
            Err(_) => {}
        }
        assert!(Instant::now() < deadline, "the subscription never arrived");
    }
    for text in ["a.1", "b.1", "a.2", "c.1"] {
        publisher.send(text).unwrap();
    }
    assert_eq!(recv_text(&xsub), "b.1");
    assert_eq!(recv_text(&xsub), "c.1");
    // A SUB inverts its own filter too.
    let subscriber = socket(&context, SocketType::Subscribe);
    subscriber
        .set_type_option(TypeOption::InvertMatching(true))
        .unwrap();
    subscriber.subscribe("a").unwrap();
    let plain = socket(&context, SocketType::Publish);
    join(&plain, &subscriber, "inproc://invert");
    for text in ["a.1", "b.1"] {
        plain.send(text).unwrap();
    }
    assert!(matches!(subscriber.try_recv(), Err(Error::WouldBlock)));
}

#[test]
fn conflate_keeps_only_the_newest_message() {
    let context = Context::new();
    let publisher = socket(&context, SocketType::Publish);
    let subscriber = socket(&context, SocketType::Subscribe);
    subscriber
        .set_type_option(TypeOption::Conflate(true))
        .unwrap();
    subscriber.subscribe("").unwrap();
    join(&publisher, &subscriber, "inproc://conflate");
    for index in 0..100 {
        publisher.send(format!("{index}")).unwrap();
    }
    assert_eq!(recv_text(&subscriber), "99");
    assert!(matches!(subscriber.try_recv(), Err(Error::WouldBlock)));
    // Over tcp, whatever arrives is in order and the newest is not lost.
    let publisher = socket(&context, SocketType::Publish);
    let subscriber = socket(&context, SocketType::Subscribe);
    subscriber
        .set_type_option(TypeOption::Conflate(true))
        .unwrap();
    subscriber.subscribe("").unwrap();
    join(&publisher, &subscriber, "tcp://127.0.0.1:0");
    wait_for_subscription(&publisher, &subscriber, "sync");
    for index in 0..1000 {
        publisher.send(format!("{index}")).unwrap();
    }
    let mut last = None;
    while last != Some(999) {
        let value: u32 = recv_text(&subscriber).parse().unwrap();
        assert!(last.is_none_or(|last| value > last), "in order");
        last = Some(value);
    }
}

#[test]
fn a_slow_subscriber_loses_messages_without_slowing_a_fast_one() {
    for endpoint in endpoints("slow-subscriber") {
        let context = Context::new();
        let publisher = socket(&context, SocketType::Publish);
        publisher.set_send_high_water_mark(100).unwrap();
        let fast = socket(&context, SocketType::Subscribe);
        let slow = socket(&context, SocketType::Subscribe);
        slow.set_receive_high_water_mark(10).unwrap();
        fast.subscribe("").unwrap();
        slow.subscribe("").unwrap();
        let bound = join(&publisher, &fast, &endpoint);
        slow.connect(&bound).unwrap();
        // The slow one first: the fast one drains every copy up to its own marker.
        wait_for_subscription(&publisher, &slow, "sync");
        wait_for_subscription(&publisher, &fast, "sync");
        // 20 MB: more than the slow one's marks and kernel buffers can hold. The
        // fast one is kept within its mark by waiting for each batch.
        const COUNT: usize = 20_000;
        let payload = vec![b'x'; 1000];
        for batch in 0..COUNT / 50 {
            for index in batch * 50..(batch + 1) * 50 {
                let message =
                    Message::from_frames([format!("{index}").into_bytes(), payload.clone()]);
                publisher
                    .try_send(message)
                    .expect("a publisher never blocks");
            }
            for index in batch * 50..(batch + 1) * 50 {
                let message = fast.recv().unwrap();
                assert_eq!(message.frames()[0], format!("{index}"), "{endpoint}");
            }
        }
        // Count what the slow one kept, up to an end marker published after all of
        // it (behind it on the same connection). At its mark the marker may be
        // dropped too: publish another whenever the slow one has nothing.
        let deadline = Instant::now() + TIMEOUT;
        let mut slow_received = 0;
        publisher.send("end").unwrap();
        loop {
            match slow.recv_with_timeout(Some(PROBE)) {
                Ok(message) if message == Message::from("end") => break,
                Ok(message) if message.len() == 2 => slow_received += 1,
                Ok(message) => {
                    // Copies of "sync" published while the fast one synchronized.
                    assert!(message.frames()[0].starts_with(b"sync"), "{message:?}");
                }
                Err(Error::TimedOut) => {
                    assert!(Instant::now() < deadline, "{endpoint}: no end marker");
                    publisher.send("end").unwrap();
                }
                Err(error) => panic!("{endpoint}: {error}"),
            }
        }
        assert!(
            slow_received < COUNT,
            "{endpoint}: the slow subscriber lost messages ({slow_received})"
        );
    }
}

#[test]
fn subscriptions_survive_a_reconnect() {
    for endpoint in endpoints("reconnect") {
        if endpoint.starts_with("inproc") {
            continue; // inproc never reconnects
        }
        let context = Context::new();
        let subscriber = socket(&context, SocketType::Subscribe);
        subscriber
            .set_reconnect_interval(Duration::from_millis(10))
            .unwrap();
        subscriber.subscribe("wx.").unwrap();
        let publisher = socket(&context, SocketType::Publish);
        publisher.bind(&endpoint).unwrap();
        let bound = publisher.last_endpoint().unwrap();
        subscriber.connect(&bound).unwrap();
        wait_for_subscription(&publisher, &subscriber, "wx.first");
        publisher.set_linger(Some(Duration::ZERO)).unwrap();
        drop(publisher);
        let publisher = socket(&context, SocketType::Publish);
        bind_retrying(&publisher, &bound);
        // Only a re-sent subscription lets anything through: nobody else subscribes.
        wait_for_subscription(&publisher, &subscriber, "wx.second");
        publisher.send("news").unwrap();
        publisher.send("wx.after").unwrap();
        assert_eq!(recv_text(&subscriber), "wx.after", "{endpoint}");
    }
}

/// Forwards messages both ways between an XSUB and an XPUB until `stop` is set.
fn forward(xsub: Socket, xpub: Socket, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let mut items = [
            PollItem::new(&xsub, PollEvents::READABLE),
            PollItem::new(&xpub, PollEvents::READABLE),
        ];
        poll(&mut items, Some(Duration::from_millis(50))).unwrap();
        while let Ok(message) = xsub.try_recv() {
            xpub.send(message).unwrap();
        }
        while let Ok(message) = xpub.try_recv() {
            xsub.send(message).unwrap();
        }
    }
}

#[test]
fn an_xsub_xpub_forwarder_carries_subscriptions_up_and_messages_down() {
    for endpoint in endpoints("forwarder") {
        let context = Context::new();
        let publisher = socket(&context, SocketType::Publish);
        publisher.bind(&endpoint).unwrap();
        let upstream = publisher.last_endpoint().unwrap();
        let xsub = socket(&context, SocketType::ExtendedSubscribe);
        xsub.connect(&upstream).unwrap();
        let xpub = socket(&context, SocketType::ExtendedPublish);
        let downstream = if endpoint.starts_with("tcp") {
            xpub.bind("tcp://127.0.0.1:0").unwrap();
            xpub.last_endpoint().unwrap()
        } else {
            let downstream = format!("{endpoint}-down");
            xpub.bind(&downstream).unwrap();
            downstream
        };
        let stop = Arc::new(AtomicBool::new(false));
        let forwarder = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || forward(xsub, xpub, stop))
        };
        let weather = socket(&context, SocketType::Subscribe);
        let sports = socket(&context, SocketType::Subscribe);
        weather.subscribe("wx.").unwrap();
        sports.subscribe("sports.").unwrap();
        weather.connect(&downstream).unwrap();
        sports.connect(&downstream).unwrap();
        wait_for_subscription(&publisher, &weather, "wx.sync");
        wait_for_subscription(&publisher, &sports, "sports.sync");
        for text in ["news.1", "wx.1", "sports.1", "wx.2"] {
            publisher.send(text).unwrap();
        }
        publisher
            .send(Message::from_frames(["sports.2", "multi", "part"]))
            .unwrap();
        assert_eq!(recv_text(&weather), "wx.1", "{endpoint}");
        assert_eq!(recv_text(&weather), "wx.2", "{endpoint}");
        assert_eq!(recv_text(&sports), "sports.1", "{endpoint}");
        assert_eq!(
            sports.recv().unwrap(),
            Message::from_frames(["sports.2", "multi", "part"])
        );
        stop.store(true, Ordering::Relaxed);
        forwarder.join().unwrap();
    }
}
