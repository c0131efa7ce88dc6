//! REQ, REP, DEALER and ROUTER between Sinew sockets over tcp, ipc and inproc:
//! envelopes, strict alternation, routing ids, ROUTER_MANDATORY, handover, probes,
//! correlation and relaxed requests.
//!
//! Every wait has a deadline; every TCP test binds 127.0.0.1 port 0.

mod util;

use bytes::Bytes;
use sinew::{Context, Error, Message, Socket, SocketType};
use std::time::{Duration, Instant};
use util::{TIMEOUT, endpoints};

fn socket(context: &Context, kind: SocketType) -> Socket {
    let socket = context.socket(kind).unwrap();
    socket.set_receive_timeout(Some(TIMEOUT)).unwrap();
    socket.set_send_timeout(Some(TIMEOUT)).unwrap();
    socket
}

fn frames(message: &Message) -> Vec<&[u8]> {
    message.iter().map(|frame| frame.as_ref()).collect()
}

#[test]
fn req_rep_round_trips_on_every_transport() {
    for endpoint in endpoints("req-rep") {
        let context = Context::new();
        let rep = socket(&context, SocketType::Reply);
        rep.bind(&endpoint).unwrap();
        let bound = rep.last_endpoint().unwrap();
        let req = socket(&context, SocketType::Request);
        req.connect(&bound).unwrap();
        for round in 0..10 {
            req.send(Message::from_frames([format!("q{round}"), "more".into()]))
                .unwrap();
            let request = rep.recv().unwrap();
            assert_eq!(
                frames(&request),
                [format!("q{round}").as_bytes(), b"more"],
                "{endpoint}"
            );
            rep.send(format!("a{round}")).unwrap();
            assert_eq!(
                frames(&req.recv().unwrap()),
                [format!("a{round}").as_bytes()]
            );
        }
    }
}

#[test]
fn req_and_rep_enforce_alternation() {
    let context = Context::new();
    let rep = socket(&context, SocketType::Reply);
    rep.bind("inproc://alternation").unwrap();
    let req = socket(&context, SocketType::Request);
    req.connect("inproc://alternation").unwrap();
    assert!(
        matches!(req.try_recv(), Err(Error::InvalidState)),
        "no request yet"
    );
    assert!(matches!(
        rep.try_send("x").unwrap_err().error,
        Error::InvalidState
    ));
    req.send("first").unwrap();
    let failed = req.try_send("second").unwrap_err();
    assert!(matches!(failed.error, Error::InvalidState));
    assert_eq!(failed.message, Message::from("second"), "handed back");
    rep.recv().unwrap();
    assert!(
        matches!(rep.try_recv(), Err(Error::InvalidState)),
        "reply first"
    );
    rep.send("answer").unwrap();
    assert_eq!(req.recv().unwrap(), Message::from("answer"));
}

#[test]
fn dealer_router_routes_by_identity_and_generates_ids() {
    for endpoint in endpoints("dealer-router") {
        let context = Context::new();
        let router = socket(&context, SocketType::Router);
        router.bind(&endpoint).unwrap();
        let bound = router.last_endpoint().unwrap();
        let named = socket(&context, SocketType::Dealer);
        named
            .set_routing_id(Some(Bytes::from_static(b"named")))
            .unwrap();
        named.connect(&bound).unwrap();
        let anonymous = socket(&context, SocketType::Dealer);
        anonymous.connect(&bound).unwrap();
        named.send("from named").unwrap();
        anonymous.send("from anonymous").unwrap();
        let mut ids = Vec::new();
        for _ in 0..2 {
            let message = router.recv().unwrap();
            assert_eq!(message.len(), 2, "{endpoint}");
            let id = message.frames()[0].clone();
            if message.frames()[1] == "from named" {
                assert_eq!(id, "named");
            } else {
                assert_eq!(id.len(), 5, "a generated id is 5 bytes");
                assert_eq!(id[0], 0, "and starts with a zero byte");
            }
            ids.push(id);
        }
        for id in &ids {
            router
                .send(Message::from_frames([
                    id.clone(),
                    Bytes::from_static(b"reply"),
                ]))
                .unwrap();
        }
        assert_eq!(named.recv().unwrap(), Message::from("reply"));
        assert_eq!(anonymous.recv().unwrap(), Message::from("reply"));
    }
}

#[test]
fn router_mandatory_reports_unknown_peers_and_full_pipes() {
    let context = Context::new();
    let router = socket(&context, SocketType::Router);
    router.set_send_high_water_mark(2).unwrap();
    router.bind("inproc://mandatory").unwrap();
    // Without MANDATORY an unknown peer's message vanishes.
    router
        .send(Message::from_frames(["nobody", "lost"]))
        .unwrap();
    router.set_router_mandatory(true).unwrap();
    let failed = router
        .send(Message::from_frames(["nobody", "lost"]))
        .unwrap_err();
    assert!(matches!(failed.error, Error::HostUnreachable));
    assert_eq!(failed.message, Message::from_frames(["nobody", "lost"]));
    let dealer = socket(&context, SocketType::Dealer);
    dealer
        .set_routing_id(Some(Bytes::from_static(b"slow")))
        .unwrap();
    dealer.set_receive_high_water_mark(2).unwrap();
    dealer.connect("inproc://mandatory").unwrap();
    dealer.send("hello").unwrap();
    router.recv().unwrap();
    let mut sent = 0;
    loop {
        match router.try_send(Message::from_frames(["slow", "x"])) {
            Ok(()) => sent += 1,
            Err(failed) => {
                assert!(
                    matches!(failed.error, Error::WouldBlock),
                    "{:?}",
                    failed.error
                );
                break;
            }
        }
        assert!(sent <= 4, "passed the mark");
    }
    assert_eq!(sent, 4, "inproc sums the marks");
    // Without MANDATORY a full peer's messages are dropped and sends succeed.
    router.set_router_mandatory(false).unwrap();
    router
        .send(Message::from_frames(["slow", "dropped"]))
        .unwrap();
}

#[test]
fn router_drops_a_message_with_nothing_after_the_routing_frame() {
    let context = Context::new();
    let router = socket(&context, SocketType::Router);
    router.bind("inproc://bare-id").unwrap();
    let dealer = socket(&context, SocketType::Dealer);
    dealer
        .set_routing_id(Some(Bytes::from_static(b"d")))
        .unwrap();
    dealer.connect("inproc://bare-id").unwrap();
    dealer.send("hi").unwrap();
    router.recv().unwrap();
    router.send(Message::from_frames(["d"])).unwrap();
    router.send(Message::from_frames(["d", "real"])).unwrap();
    assert_eq!(dealer.recv().unwrap(), Message::from("real"));
}

#[test]
fn rep_drops_requests_without_a_delimiter() {
    let context = Context::new();
    let rep = socket(&context, SocketType::Reply);
    rep.bind("inproc://no-delimiter").unwrap();
    let dealer = socket(&context, SocketType::Dealer);
    dealer.connect("inproc://no-delimiter").unwrap();
    dealer
        .send(Message::from_frames(["no", "delimiter"]))
        .unwrap();
    dealer.send(Message::from_frames(["", "good"])).unwrap();
    assert_eq!(rep.recv().unwrap(), Message::from("good"));
    rep.send("answer").unwrap();
    assert_eq!(frames(&dealer.recv().unwrap()), [b"".as_ref(), b"answer"]);
}

#[test]
fn rep_keeps_the_whole_envelope() {
    let context = Context::new();
    let rep = socket(&context, SocketType::Reply);
    rep.bind("inproc://envelope").unwrap();
    let dealer = socket(&context, SocketType::Dealer);
    dealer.connect("inproc://envelope").unwrap();
    dealer
        .send(Message::from_frames(["hop2", "hop1", "", "body"]))
        .unwrap();
    assert_eq!(rep.recv().unwrap(), Message::from("body"));
    rep.send("reply").unwrap();
    assert_eq!(
        frames(&dealer.recv().unwrap()),
        [b"hop2".as_ref(), b"hop1", b"", b"reply"]
    );
}

#[test]
fn connect_routing_id_names_the_peer_of_one_connect() {
    let context = Context::new();
    let server = socket(&context, SocketType::Router);
    server.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = server.last_endpoint().unwrap();
    let client = socket(&context, SocketType::Router);
    client
        .set_connect_routing_id(Some(Bytes::from_static(b"server")))
        .unwrap();
    client.connect(&endpoint).unwrap();
    assert_eq!(client.connect_routing_id(), None, "used once");
    client.set_router_mandatory(true).unwrap();
    // The client can address the server by the name it chose, once connected.
    util::wait_until(|| {
        client
            .send(Message::from_frames(["server", "hello"]))
            .is_ok()
    });
    let message = server.recv().unwrap();
    assert_eq!(message.frames()[1], "hello");
}

#[test]
fn handover_lets_a_new_connection_take_a_known_id() {
    let context = Context::new();
    let router = socket(&context, SocketType::Router);
    router.set_router_handover(true).unwrap();
    router.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = router.last_endpoint().unwrap();
    let first = socket(&context, SocketType::Dealer);
    first
        .set_routing_id(Some(Bytes::from_static(b"worker")))
        .unwrap();
    // It is handed over and keeps reconnecting: do not linger on it at the end.
    first.set_linger(Some(Duration::ZERO)).unwrap();
    first.connect(&endpoint).unwrap();
    first.send("first").unwrap();
    assert_eq!(router.recv().unwrap().frames()[1], "first");
    let second = socket(&context, SocketType::Dealer);
    second
        .set_routing_id(Some(Bytes::from_static(b"worker")))
        .unwrap();
    second.connect(&endpoint).unwrap();
    second.send("second").unwrap();
    assert_eq!(router.recv().unwrap().frames()[1], "second");
    router
        .send(Message::from_frames(["worker", "to the newest"]))
        .unwrap();
    assert_eq!(second.recv().unwrap(), Message::from("to the newest"));
    // Nothing went to `first`: anything that did would be ahead of what it gets
    // later. Close `second`, let `first` reconnect and take the id back (it
    // resends until the router hears it under that id), then route a barrier to
    // it: the first thing `first` receives must be the barrier.
    drop(second);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "first never took the id back");
        // Sent while its old connection is going, a message can die with it.
        first.send("back").unwrap();
        match router.recv_with_timeout(Some(Duration::from_millis(10))) {
            Ok(message) => {
                assert_eq!(frames(&message), [b"worker".as_ref(), b"back"]);
                break;
            }
            Err(Error::TimedOut) => {}
            Err(error) => panic!("{error}"),
        }
    }
    router
        .send(Message::from_frames(["worker", "barrier"]))
        .unwrap();
    assert_eq!(first.recv().unwrap(), Message::from("barrier"));
}

#[test]
fn without_handover_a_duplicate_id_is_ignored() {
    let context = Context::new();
    let router = socket(&context, SocketType::Router);
    router.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = router.last_endpoint().unwrap();
    let first = socket(&context, SocketType::Dealer);
    first
        .set_routing_id(Some(Bytes::from_static(b"twin")))
        .unwrap();
    first.connect(&endpoint).unwrap();
    first.send("first").unwrap();
    assert_eq!(router.recv().unwrap().frames()[1], "first");
    let second = socket(&context, SocketType::Dealer);
    second
        .set_routing_id(Some(Bytes::from_static(b"twin")))
        .unwrap();
    // Its message may never be taken: do not linger on it at the end.
    second.set_linger(Some(Duration::ZERO)).unwrap();
    second.connect(&endpoint).unwrap();
    second.send("ignored").unwrap();
    first.send("still first").unwrap();
    assert_eq!(router.recv().unwrap().frames()[1], "still first");
    router
        .send(Message::from_frames(["twin", "to the first"]))
        .unwrap();
    assert_eq!(first.recv().unwrap(), Message::from("to the first"));
}

#[test]
fn probe_router_sends_an_empty_message_on_connect() {
    let context = Context::new();
    let router = socket(&context, SocketType::Router);
    router.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = router.last_endpoint().unwrap();
    let dealer = socket(&context, SocketType::Dealer);
    dealer
        .set_routing_id(Some(Bytes::from_static(b"prober")))
        .unwrap();
    dealer.set_probe_router(true).unwrap();
    dealer.connect(&endpoint).unwrap();
    let probe = router.recv().unwrap();
    assert_eq!(frames(&probe), [b"prober".as_ref(), b""]);
}

#[test]
fn correlated_relaxed_req_survives_a_dead_rep() {
    let context = Context::new();
    let req = socket(&context, SocketType::Request);
    req.set_request_correlate(true).unwrap();
    req.set_request_relaxed(true).unwrap();
    req.set_reconnect_interval(Duration::from_millis(10))
        .unwrap();
    let rep = socket(&context, SocketType::Reply);
    rep.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = rep.last_endpoint().unwrap();
    req.connect(&endpoint).unwrap();
    req.send("lost").unwrap();
    let _ = rep.recv().unwrap();
    drop(rep); // dies without answering
    let rep = socket(&context, SocketType::Reply);
    util::bind_retrying(&rep, &endpoint);
    // The first request is abandoned; resend until the new REP sees one.
    req.send("retry").unwrap();
    let request = rep.recv().unwrap();
    assert_eq!(request, Message::from("retry"));
    rep.send("answer").unwrap();
    assert_eq!(req.recv().unwrap(), Message::from("answer"));
}

#[test]
fn req_discards_a_stale_reply_with_correlation() {
    let context = Context::new();
    let req = socket(&context, SocketType::Request);
    req.set_request_correlate(true).unwrap();
    req.set_request_relaxed(true).unwrap();
    let router = socket(&context, SocketType::Router);
    router.bind("inproc://stale").unwrap();
    req.connect("inproc://stale").unwrap();
    req.send("one").unwrap();
    let first = router.recv().unwrap(); // [peer, id1, "", one]
    req.send("two").unwrap();
    let second = router.recv().unwrap(); // [peer, id2, "", two]
    assert_ne!(first.frames()[1], second.frames()[1], "ids differ");
    let mut stale = first.clone();
    stale.pop_back();
    stale.push_back("reply to one");
    router.send(stale).unwrap();
    let mut fresh = second.clone();
    fresh.pop_back();
    fresh.push_back("reply to two");
    router.send(fresh).unwrap();
    assert_eq!(req.recv().unwrap(), Message::from("reply to two"));
}

#[test]
fn dealer_to_dealer_and_router_to_router() {
    for endpoint in endpoints("peers") {
        let context = Context::new();
        let left = socket(&context, SocketType::Dealer);
        left.bind(&endpoint).unwrap();
        let bound = left.last_endpoint().unwrap();
        let right = socket(&context, SocketType::Dealer);
        right.connect(&bound).unwrap();
        right.send(Message::from_frames(["a", "b"])).unwrap();
        assert_eq!(frames(&left.recv().unwrap()), [b"a".as_ref(), b"b"]);
        left.send("back").unwrap();
        assert_eq!(right.recv().unwrap(), Message::from("back"));
    }
    for endpoint in endpoints("routers") {
        let context = Context::new();
        let server = socket(&context, SocketType::Router);
        server
            .set_routing_id(Some(Bytes::from_static(b"server")))
            .unwrap();
        server.bind(&endpoint).unwrap();
        let bound = server.last_endpoint().unwrap();
        let client = socket(&context, SocketType::Router);
        client
            .set_routing_id(Some(Bytes::from_static(b"client")))
            .unwrap();
        client.set_router_mandatory(true).unwrap();
        client.connect(&bound).unwrap();
        util::wait_until(|| client.send(Message::from_frames(["server", "hi"])).is_ok());
        assert_eq!(frames(&server.recv().unwrap()), [b"client".as_ref(), b"hi"]);
        server
            .send(Message::from_frames(["client", "hello"]))
            .unwrap();
        assert_eq!(
            frames(&client.recv().unwrap()),
            [b"server".as_ref(), b"hello"]
        );
    }
}

#[test]
fn req_drops_malformed_replies_and_takes_the_next_good_one() {
    let context = Context::new();
    let router = socket(&context, SocketType::Router);
    router.bind("inproc://malformed-reply").unwrap();
    let req = socket(&context, SocketType::Request);
    req.connect("inproc://malformed-reply").unwrap();
    req.send("question").unwrap();
    let request = router.recv().unwrap(); // [peer, "", question]
    let peer = request.frames()[0].clone();
    // No delimiter, a non-empty "delimiter", nothing after the delimiter: dropped.
    router
        .send(Message::from_frames([
            peer.clone(),
            Bytes::from_static(b"no delimiter"),
        ]))
        .unwrap();
    router
        .send(Message::from_frames([
            peer.clone(),
            Bytes::from_static(b"x"),
            Bytes::from_static(b"y"),
        ]))
        .unwrap();
    router
        .send(Message::from_frames([peer.clone(), Bytes::new()]))
        .unwrap();
    router
        .send(Message::from_frames([
            peer,
            Bytes::new(),
            Bytes::from_static(b"answer"),
        ]))
        .unwrap();
    assert_eq!(req.recv().unwrap(), Message::from("answer"));
}
