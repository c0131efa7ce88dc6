//! PUSH/PULL and PAIR against libzmq 4.3, in both roles (Sinew binds and libzmq
//! connects, and the reverse), over tcp and ipc: multipart, empty frames, the
//! short/long size boundary, large frames, order over many messages, round-robin,
//! fair queuing, and a libzmq peer that leaves and comes back.

use sinew::SocketType;
use sinew_interop_tests::{Contexts, Side, TIMEOUT, Transport, combinations, link};
use std::time::{Duration, Instant};

#[test]
fn push_pull_and_pair_exchange_every_frame_shape() {
    let one_mebibyte = vec![0x5a; 1 << 20];
    let shapes: Vec<Vec<&[u8]>> = vec![
        vec![b"hello"],
        vec![b""],
        vec![b"", b"middle", b""],
        vec![&[7u8; 255]],
        vec![&[8u8; 256]],
        vec![&[9u8; 255], &[10u8; 256], b"tail"],
        vec![&one_mebibyte],
    ];
    for (transport, binder) in combinations() {
        for (binder_kind, connector_kind) in [
            (SocketType::Pull, SocketType::Push),
            (SocketType::Push, SocketType::Pull),
            (SocketType::Pair, SocketType::Pair),
        ] {
            let contexts = Contexts::new();
            let link = link(&contexts, transport, binder, binder_kind, connector_kind);
            let (sender, receiver) = if binder_kind == SocketType::Pull {
                (&link.connector, &link.binder)
            } else {
                (&link.binder, &link.connector)
            };
            for shape in &shapes {
                sender.send(shape);
                let received = receiver.recv();
                let expected: Vec<Vec<u8>> = shape.iter().map(|frame| frame.to_vec()).collect();
                assert!(
                    received == expected,
                    "{transport:?}, {binder:?} binds {binder_kind}: frames of {:?} bytes",
                    shape.iter().map(|frame| frame.len()).collect::<Vec<_>>()
                );
            }
            if binder_kind == SocketType::Pair {
                // PAIR is symmetric: the other direction too.
                link.connector.send(&[b"back", b"again"]);
                assert_eq!(
                    link.binder.recv(),
                    vec![b"back".to_vec(), b"again".to_vec()]
                );
            }
        }
    }
}

#[test]
fn one_hundred_thousand_messages_arrive_in_order() {
    const COUNT: u32 = 100_000;
    for (transport, binder) in combinations() {
        for sinew_sends in [true, false] {
            let contexts = Contexts::new();
            let sender_side = if sinew_sends {
                Side::Sinew
            } else {
                Side::Libzmq
            };
            let (binder_kind, connector_kind) = if sender_side == binder {
                (SocketType::Push, SocketType::Pull)
            } else {
                (SocketType::Pull, SocketType::Push)
            };
            let link = link(&contexts, transport, binder, binder_kind, connector_kind);
            let (sender, receiver) = if binder_kind == SocketType::Push {
                (link.binder, link.connector)
            } else {
                (link.connector, link.binder)
            };
            let producer = std::thread::spawn(move || {
                for index in 0..COUNT {
                    sender.send(&[&index.to_be_bytes()]);
                }
                sender
            });
            for index in 0..COUNT {
                let frames = receiver.recv();
                assert_eq!(
                    frames,
                    vec![index.to_be_bytes().to_vec()],
                    "{transport:?}, {binder:?} binds, sinew sends: {sinew_sends}"
                );
            }
            let _sender = producer.join().expect("producer");
        }
    }
}

#[test]
fn a_sinew_push_round_robins_over_two_libzmq_pulls() {
    for transport in Transport::BOTH {
        let contexts = Contexts::new();
        let push = contexts.socket(Side::Sinew, SocketType::Push);
        let endpoint = push.bind(&transport.bind_endpoint());
        let pulls: Vec<_> = (0..2)
            .map(|_| {
                let pull = contexts.socket(Side::Libzmq, SocketType::Pull);
                pull.connect(&endpoint);
                pull
            })
            .collect();
        // Round-robin only shares among peers that are attached: wait for both by
        // sending probes until each has received one.
        let mut attached = [false, false];
        let deadline = Instant::now() + TIMEOUT;
        while !attached.iter().all(|&done| done) {
            assert!(Instant::now() < deadline, "both pulls attach");
            push.send(&[b"probe"]);
            for (index, pull) in pulls.iter().enumerate() {
                while pull.try_recv(Duration::from_millis(20)).is_some() {
                    attached[index] = true;
                }
            }
        }
        for index in 0..100u32 {
            push.send(&[&index.to_be_bytes()]);
        }
        // Until all 100 have arrived, within a deadline (never until a silence).
        let mut counts = [0usize; 2];
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while counts[0] + counts[1] < 100 {
            assert!(
                std::time::Instant::now() < deadline,
                "{transport:?}: {counts:?} of 100 arrived"
            );
            for (slot, pull) in pulls.iter().enumerate() {
                if let Some(frames) = pull.try_recv(Duration::from_millis(10)) {
                    assert_eq!(frames.len(), 1);
                    counts[slot] += 1;
                }
            }
        }
        assert_eq!(counts, [50, 50], "{transport:?}: strict round-robin");
    }
}

#[test]
fn a_sinew_pull_fair_queues_two_libzmq_pushes() {
    const EACH: u32 = 200;
    for transport in Transport::BOTH {
        let contexts = Contexts::new();
        let pull = contexts.socket(Side::Sinew, SocketType::Pull);
        pull.set_receive_high_water_mark(10);
        let endpoint = pull.bind(&transport.bind_endpoint());
        // Both pushers connect and say hello, then queue all of their messages
        // in libzmq (the send high-water mark holds them all, so no send waits on
        // the pushing thread being scheduled) before the pull reads any: both are
        // backed up at once, served by libzmq's one I/O thread, and 64 KiB
        // messages overflow the kernel's buffers, so the pull's high-water mark
        // really holds each back. Fairness then is the pull's choice alone.
        let start = std::sync::Arc::new(std::sync::Barrier::new(3));
        let senders: Vec<_> = (0..2u8)
            .map(|name| {
                let push = contexts.socket(Side::Libzmq, SocketType::Push);
                push.set_send_high_water_mark(2 * EACH);
                push.connect(&endpoint);
                let start = std::sync::Arc::clone(&start);
                std::thread::spawn(move || {
                    push.send(&[&[name], b"hello"]);
                    start.wait();
                    let mut frame = vec![0u8; 64 * 1024];
                    frame[0] = name;
                    for index in 0..EACH {
                        frame[1..5].copy_from_slice(&index.to_be_bytes());
                        push.send(&[&frame]);
                    }
                    push
                })
            })
            .collect();
        for _ in 0..2 {
            assert_eq!(pull.recv()[1], b"hello");
        }
        start.wait();
        let pushes: Vec<_> = senders
            .into_iter()
            .map(|sender| sender.join().expect("sender"))
            .collect();
        let mut next = [0u32; 2];
        let mut other_when_first_finished = None;
        for _ in 0..2 * EACH {
            let frames = pull.recv();
            let frame = &frames[0];
            let name = usize::from(frame[0]);
            let index = u32::from_be_bytes(frame[1..5].try_into().expect("index"));
            assert_eq!(index, next[name], "each pusher's order is kept");
            next[name] += 1;
            if next[name] == EACH && other_when_first_finished.is_none() {
                other_when_first_finished = Some(next[1 - name]);
            }
        }
        drop(pushes);
        // Neither pusher is starved: when the first has delivered all of its
        // messages, the other has delivered most of its own.
        let other = other_when_first_finished.expect("one finished first");
        assert!(
            other >= EACH / 2,
            "{transport:?}: the other pusher had only {other} of {EACH} through"
        );
    }
}

#[test]
fn a_libzmq_peer_that_leaves_and_comes_back_is_served_again() {
    for transport in Transport::BOTH {
        for sinew_binds_pull in [true, false] {
            let contexts = Contexts::new();
            if sinew_binds_pull {
                let pull = contexts.socket(Side::Sinew, SocketType::Pull);
                let endpoint = pull.bind(&transport.bind_endpoint());
                for round in 0..3u8 {
                    let push = contexts.socket(Side::Libzmq, SocketType::Push);
                    push.connect(&endpoint);
                    push.send(&[&[round]]);
                    assert_eq!(
                        pull.recv(),
                        vec![vec![round]],
                        "{transport:?} round {round}"
                    );
                    drop(push);
                }
            } else {
                // libzmq binds and is replaced; the Sinew PUSH reconnects.
                let endpoint = match transport {
                    Transport::Tcp => {
                        let probe = contexts.socket(Side::Libzmq, SocketType::Pull);
                        let endpoint = probe.bind("tcp://127.0.0.1:*");
                        drop(probe);
                        endpoint
                    }
                    Transport::Ipc => transport.bind_endpoint(),
                };
                let push = contexts.socket(Side::Sinew, SocketType::Push);
                push.sinew()
                    .set_reconnect_interval(Duration::from_millis(20))
                    .expect("reconnect interval");
                push.connect(&endpoint);
                for round in 0..3u8 {
                    let pull = contexts.socket(Side::Libzmq, SocketType::Pull);
                    bind_retrying(&pull, &endpoint);
                    // A message written while the old peer was closing dies with that
                    // connection (as with libzmq): send until the new peer has one.
                    let deadline = Instant::now() + TIMEOUT;
                    loop {
                        assert!(Instant::now() < deadline, "{transport:?} round {round}");
                        push.send(&[&[round]]);
                        if let Some(frames) = pull.try_recv(Duration::from_millis(50)) {
                            assert_eq!(frames, vec![vec![round]]);
                            break;
                        }
                    }
                    drop(pull);
                }
            }
        }
    }
}

fn bind_retrying(peer: &sinew_interop_tests::Peer, endpoint: &str) {
    let sinew_interop_tests::Peer::Libzmq(socket) = peer else {
        panic!("libzmq peer expected");
    };
    let deadline = Instant::now() + TIMEOUT;
    while let Err(error) = socket.bind(endpoint) {
        assert!(Instant::now() < deadline, "bind {endpoint}: {error}");
        std::thread::yield_now();
    }
}

#[test]
fn a_closing_sinew_push_loses_nothing_a_slow_libzmq_pull_has_not_read() {
    // Regression: Sinew closed the connection as soon as everything was in the
    // kernel; a libzmq PULL stopped at its high-water mark then dropped the ipc
    // connection on the hang-up, unread bytes and all. Sinew now shuts down its
    // side for writing and waits for the peer to close first.
    for transport in Transport::BOTH {
        for attempt in 0..3 {
            let contexts = Contexts::new();
            let pull = contexts.socket(Side::Libzmq, SocketType::Pull);
            let endpoint = pull.bind(&transport.bind_endpoint());
            let sender = std::thread::spawn(move || {
                let context = sinew::Context::new();
                let push = context.socket(SocketType::Push).expect("push");
                push.set_linger(None).expect("linger");
                push.connect(&endpoint).expect("connect");
                for index in 0..50_000u32 {
                    push.send(index.to_be_bytes().to_vec()).expect("send");
                }
                // Dropping the socket and the context flushes and closes.
            });
            for index in 0..50_000u32 {
                assert_eq!(
                    pull.recv(),
                    vec![index.to_be_bytes().to_vec()],
                    "{transport:?} attempt {attempt}"
                );
            }
            sender.join().expect("sender");
        }
    }
}
