//! REQ, REP, DEALER and ROUTER against libzmq 4.3, in both roles (Sinew binds and
//! libzmq connects, and the reverse), over tcp and ipc: every compatible pair,
//! routing-id assignment and handover, ROUTER_MANDATORY, and a REQ whose REP dies
//! and is replaced.

use sinew::SocketType;
use sinew_interop_tests::{Contexts, Peer, Side, TIMEOUT, Transport, combinations, link};
use std::time::{Duration, Instant};

fn libzmq(peer: &Peer) -> &zmq::Socket {
    match peer {
        Peer::Libzmq(socket) => socket,
        Peer::Sinew(_) => panic!("a libzmq peer was expected"),
    }
}

/// A socket of `kind` on `side`, configured before it binds or connects.
fn socket_with(
    contexts: &Contexts,
    side: Side,
    kind: SocketType,
    routing_id: Option<&[u8]>,
) -> Peer {
    let peer = contexts.socket(side, kind);
    if let Some(id) = routing_id {
        peer.set_routing_id(id);
    }
    peer
}

#[test]
fn req_rep_both_roles() {
    for (transport, binder) in combinations() {
        for (binder_kind, connector_kind) in [
            (SocketType::Reply, SocketType::Request),
            (SocketType::Request, SocketType::Reply),
        ] {
            let contexts = Contexts::new();
            let link = link(&contexts, transport, binder, binder_kind, connector_kind);
            let (req, rep) = if binder_kind == SocketType::Request {
                (&link.binder, &link.connector)
            } else {
                (&link.connector, &link.binder)
            };
            for round in 0..20u8 {
                req.send(&[b"question", &[round]]);
                assert_eq!(
                    rep.recv(),
                    vec![b"question".to_vec(), vec![round]],
                    "{transport:?}, {binder:?} binds {binder_kind}"
                );
                rep.send(&[b"answer", &[round]]);
                assert_eq!(req.recv(), vec![b"answer".to_vec(), vec![round]]);
            }
        }
    }
}

#[test]
fn req_router_and_dealer_rep_keep_envelopes_both_roles() {
    for (transport, binder) in combinations() {
        // REQ to ROUTER: the ROUTER sees [id, "", body] and replies by id.
        let contexts = Contexts::new();
        let (router_side, req_side) = (binder, binder.other());
        let router = contexts.socket(router_side, SocketType::Router);
        let endpoint = router.bind(&transport.bind_endpoint());
        let req = socket_with(&contexts, req_side, SocketType::Request, Some(b"asker"));
        req.connect(&endpoint);
        req.send(&[b"ping"]);
        let request = router.recv();
        assert_eq!(
            request,
            vec![b"asker".to_vec(), vec![], b"ping".to_vec()],
            "{transport:?}"
        );
        router.send(&[b"asker", b"", b"pong"]);
        assert_eq!(req.recv(), vec![b"pong".to_vec()]);

        // DEALER to REP: the DEALER writes the delimiter itself.
        let contexts = Contexts::new();
        let link = link(
            &contexts,
            transport,
            binder,
            SocketType::Reply,
            SocketType::Dealer,
        );
        link.connector.send(&[b"hop", b"", b"request"]);
        assert_eq!(
            link.binder.recv(),
            vec![b"request".to_vec()],
            "{transport:?}"
        );
        link.binder.send(&[b"reply"]);
        assert_eq!(
            link.connector.recv(),
            vec![b"hop".to_vec(), vec![], b"reply".to_vec()]
        );
    }
}

#[test]
fn dealer_router_router_router_and_dealer_dealer_both_roles() {
    for (transport, binder) in combinations() {
        // DEALER (with a routing id) to ROUTER.
        let contexts = Contexts::new();
        let router = contexts.socket(binder, SocketType::Router);
        let endpoint = router.bind(&transport.bind_endpoint());
        let dealer = socket_with(&contexts, binder.other(), SocketType::Dealer, Some(b"d1"));
        dealer.connect(&endpoint);
        dealer.send(&[b"a", b"b"]);
        assert_eq!(
            router.recv(),
            vec![b"d1".to_vec(), b"a".to_vec(), b"b".to_vec()]
        );
        router.send(&[b"d1", b"back"]);
        assert_eq!(
            dealer.recv(),
            vec![b"back".to_vec()],
            "{transport:?} {binder:?}"
        );

        // ROUTER to ROUTER with explicit routing ids on both sides.
        let contexts = Contexts::new();
        let server = socket_with(&contexts, binder, SocketType::Router, Some(b"server"));
        let endpoint = server.bind(&transport.bind_endpoint());
        let client = socket_with(
            &contexts,
            binder.other(),
            SocketType::Router,
            Some(b"client"),
        );
        client.connect(&endpoint);
        // The client learns the server's id from the handshake; send until routed.
        let deadline = Instant::now() + TIMEOUT;
        let first = loop {
            assert!(Instant::now() < deadline, "{transport:?}: router to router");
            client.send(&[b"server", b"hello"]);
            if let Some(message) = server.try_recv(Duration::from_millis(50)) {
                break message;
            }
        };
        assert_eq!(first, vec![b"client".to_vec(), b"hello".to_vec()]);
        server.send(&[b"client", b"welcome"]);
        assert_eq!(client.recv(), vec![b"server".to_vec(), b"welcome".to_vec()]);

        // DEALER to DEALER.
        let contexts = Contexts::new();
        let link = link(
            &contexts,
            transport,
            binder,
            SocketType::Dealer,
            SocketType::Dealer,
        );
        link.connector.send(&[b"x", b"", b"y"]);
        assert_eq!(
            link.binder.recv(),
            vec![b"x".to_vec(), vec![], b"y".to_vec()]
        );
        link.binder.send(&[b"z"]);
        assert_eq!(link.connector.recv(), vec![b"z".to_vec()]);
    }
}

#[test]
fn routing_ids_are_assigned_as_libzmq_assigns_them() {
    for transport in Transport::BOTH {
        // A Sinew ROUTER: a peer's own id, or a generated 5-byte id starting with 0.
        let contexts = Contexts::new();
        let router = contexts.socket(Side::Sinew, SocketType::Router);
        let endpoint = router.bind(&transport.bind_endpoint());
        let named = socket_with(&contexts, Side::Libzmq, SocketType::Dealer, Some(b"named"));
        named.connect(&endpoint);
        let anonymous = contexts.socket(Side::Libzmq, SocketType::Dealer);
        anonymous.connect(&endpoint);
        named.send(&[b"n"]);
        anonymous.send(&[b"a"]);
        for _ in 0..2 {
            let message = router.recv();
            if message[1] == b"n" {
                assert_eq!(message[0], b"named");
            } else {
                assert_eq!(message[0].len(), 5, "{transport:?}");
                assert_eq!(message[0][0], 0);
            }
        }
        // A libzmq ROUTER sees a Sinew DEALER's id, and generates one for a Sinew
        // DEALER without.
        let contexts = Contexts::new();
        let router = contexts.socket(Side::Libzmq, SocketType::Router);
        let endpoint = router.bind(&transport.bind_endpoint());
        let named = socket_with(&contexts, Side::Sinew, SocketType::Dealer, Some(b"sinew"));
        named.connect(&endpoint);
        named.send(&[b"hi"]);
        assert_eq!(router.recv(), vec![b"sinew".to_vec(), b"hi".to_vec()]);
        let anonymous = contexts.socket(Side::Sinew, SocketType::Dealer);
        anonymous.connect(&endpoint);
        anonymous.send(&[b"hi"]);
        let message = router.recv();
        assert_eq!(message[0].len(), 5);
        assert_eq!(message[0][0], 0);
    }
}

#[test]
fn handover_to_a_reconnecting_libzmq_peer() {
    for transport in Transport::BOTH {
        let contexts = Contexts::new();
        let router = contexts.socket(Side::Sinew, SocketType::Router);
        router.sinew().set_router_handover(true).expect("handover");
        let endpoint = router.bind(&transport.bind_endpoint());
        let old = socket_with(&contexts, Side::Libzmq, SocketType::Dealer, Some(b"worker"));
        old.connect(&endpoint);
        old.send(&[b"old"]);
        assert_eq!(router.recv()[1], b"old");
        let new = socket_with(&contexts, Side::Libzmq, SocketType::Dealer, Some(b"worker"));
        new.connect(&endpoint);
        new.send(&[b"new"]);
        assert_eq!(router.recv()[1], b"new");
        router.send(&[b"worker", b"to the new one"]);
        assert_eq!(
            new.recv(),
            vec![b"to the new one".to_vec()],
            "{transport:?}"
        );
    }
}

#[test]
fn router_mandatory_unknown_peer_and_full_pipe() {
    let contexts = Contexts::new();
    let router = contexts.socket(Side::Sinew, SocketType::Router);
    router
        .sinew()
        .set_router_mandatory(true)
        .expect("mandatory");
    router.set_send_high_water_mark(5);
    let endpoint = router.bind("tcp://127.0.0.1:*");
    let failed = router
        .sinew()
        .try_send(sinew::Message::from_frames(["nobody", "x"]))
        .unwrap_err();
    assert!(matches!(failed.error, sinew::Error::HostUnreachable));
    let dealer = socket_with(&contexts, Side::Libzmq, SocketType::Dealer, Some(b"slow"));
    dealer.set_receive_high_water_mark(5);
    dealer.connect(&endpoint);
    dealer.send(&[b"here"]);
    assert_eq!(router.recv()[1], b"here");
    // The libzmq peer never reads: the kernel buffers fill, then both marks, then
    // the send would block.
    let payload = bytes::Bytes::from(vec![0u8; 64 * 1024]);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "the pipe never filled");
        match router.sinew().try_send(sinew::Message::from_frames([
            bytes::Bytes::from_static(b"slow"),
            payload.clone(),
        ])) {
            Ok(()) => {}
            Err(failed) => {
                assert!(
                    matches!(failed.error, sinew::Error::WouldBlock),
                    "{:?}",
                    failed.error
                );
                break;
            }
        }
    }
    // Without MANDATORY the same send is accepted and dropped.
    router
        .sinew()
        .set_router_mandatory(false)
        .expect("mandatory off");
    router
        .sinew()
        .try_send(sinew::Message::from_frames([
            bytes::Bytes::from_static(b"slow"),
            payload.clone(),
        ]))
        .expect("dropped, not refused");
}

#[test]
fn a_req_whose_rep_dies_is_served_by_its_replacement() {
    for transport in Transport::BOTH {
        for sinew_req in [true, false] {
            let contexts = Contexts::new();
            let (req_side, rep_side) = if sinew_req {
                (Side::Sinew, Side::Libzmq)
            } else {
                (Side::Libzmq, Side::Sinew)
            };
            let rep = contexts.socket(rep_side, SocketType::Reply);
            let endpoint = rep.bind(&transport.bind_endpoint());
            let req = contexts.socket(req_side, SocketType::Request);
            match &req {
                Peer::Sinew(socket) => {
                    socket.set_request_relaxed(true).expect("relaxed");
                    socket.set_request_correlate(true).expect("correlate");
                    socket
                        .set_reconnect_interval(Duration::from_millis(20))
                        .expect("reconnect");
                }
                Peer::Libzmq(socket) => {
                    socket.set_req_relaxed(true).expect("relaxed");
                    socket.set_req_correlate(true).expect("correlate");
                    socket.set_reconnect_ivl(20).expect("reconnect");
                }
            }
            req.connect(&endpoint);
            req.send(&[b"first"]);
            assert_eq!(rep.recv(), vec![b"first".to_vec()]);
            drop(rep); // dies without answering
            let rep = contexts.socket(rep_side, SocketType::Reply);
            let deadline = Instant::now() + TIMEOUT;
            loop {
                let bound = match &rep {
                    Peer::Sinew(socket) => socket.bind(&endpoint).is_ok(),
                    Peer::Libzmq(socket) => socket.bind(&endpoint).is_ok(),
                };
                if bound {
                    break;
                }
                assert!(Instant::now() < deadline, "rebind {endpoint}");
                std::thread::yield_now();
            }
            // Relaxed: a new request abandons the old one; resend until answered.
            let answer = loop {
                assert!(
                    Instant::now() < deadline,
                    "{transport:?}, sinew REQ: {sinew_req}"
                );
                req.send(&[b"again"]);
                if let Some(request) = rep.try_recv(Duration::from_millis(100)) {
                    assert_eq!(request, vec![b"again".to_vec()]);
                    rep.send(&[b"answered"]);
                    break req.recv();
                }
            };
            assert_eq!(answer, vec![b"answered".to_vec()]);
        }
    }
}

#[test]
fn a_libzmq_req_skips_nothing_from_a_sinew_rep_and_rejects_nothing_valid() {
    // 200 round trips with multipart bodies: any envelope mistake would make the
    // libzmq REQ drop the reply (and this test time out).
    for transport in Transport::BOTH {
        let contexts = Contexts::new();
        let rep = contexts.socket(Side::Sinew, SocketType::Reply);
        let endpoint = rep.bind(&transport.bind_endpoint());
        let req = contexts.socket(Side::Libzmq, SocketType::Request);
        libzmq(&req).set_req_correlate(true).expect("correlate");
        req.connect(&endpoint);
        for round in 0..200u32 {
            req.send(&[&round.to_be_bytes(), b""]);
            let request = rep.recv();
            assert_eq!(request, vec![round.to_be_bytes().to_vec(), vec![]]);
            rep.send(&[b"", &round.to_be_bytes()]);
            assert_eq!(req.recv(), vec![vec![], round.to_be_bytes().to_vec()]);
        }
    }
}
