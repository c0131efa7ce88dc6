//! PUSH/PULL between Sinew sockets over tcp, ipc and inproc: delivery, order,
//! round-robin, fair queuing, high-water marks, reconnects and linger.
//!
//! Every wait has a deadline (a receive timeout, or `poll` with one); no test
//! sleeps to wait for an event or takes a silence for an answer, and every TCP
//! test binds 127.0.0.1 port 0 (or a port reserved that way).

mod util;

use sinew::{
    Context, Error, EventMask, Message, PollEvents, PollItem, Socket, SocketEvent, SocketType, poll,
};
use std::time::{Duration, Instant};
use util::{TIMEOUT, endpoints, recv_text};

/// How long one probe waits for an answer before the next is sent. Only paces a
/// loop that ends on a positive answer; never taken as a sign of absence.
const PROBE: Duration = Duration::from_millis(10);

/// Waits up to `deadline` until one of `sockets` has a message; false if none has.
fn wait_any_readable(sockets: &[&Socket], deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    let mut items: Vec<_> = sockets
        .iter()
        .map(|socket| PollItem::new(socket, PollEvents::READABLE))
        .collect();
    poll(&mut items, Some(left)).unwrap() > 0
}

#[test]
fn push_to_pull_on_every_transport() {
    for endpoint in endpoints("push-pull") {
        let context = Context::new();
        let pull = context.socket(SocketType::Pull).unwrap();
        pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
        pull.bind(&endpoint).unwrap();
        let bound = pull.last_endpoint().unwrap();
        let push = context.socket(SocketType::Push).unwrap();
        push.connect(&bound).unwrap();
        for index in 0..100 {
            push.send(format!("message {index}")).unwrap();
        }
        for index in 0..100 {
            assert_eq!(recv_text(&pull), format!("message {index}"), "{endpoint}");
        }
        let multipart = Message::from_frames(["a", "", "c"]);
        push.send(multipart.clone()).unwrap();
        assert_eq!(pull.recv().unwrap(), multipart);
    }
}

#[test]
fn connect_before_bind_queues_then_delivers() {
    for endpoint in endpoints("connect-first") {
        // Port 0 cannot be connected to: reserve a real port, then connect to it
        // while nothing listens there. The connection is refused and retried.
        let endpoint = if endpoint.starts_with("tcp://") {
            util::free_tcp_endpoint()
        } else {
            endpoint
        };
        let context = Context::new();
        let push = context.socket(SocketType::Push).unwrap();
        push.connect(&endpoint).unwrap();
        push.send("early").unwrap();
        let pull = context.socket(SocketType::Pull).unwrap();
        pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
        // Another test's connection may hold the reserved port for a moment.
        util::bind_retrying(&pull, &endpoint);
        assert_eq!(recv_text(&pull), "early", "{endpoint}");
    }
}

#[test]
fn push_round_robins_and_pull_fair_queues() {
    let context = Context::new();
    let push = context.socket(SocketType::Push).unwrap();
    push.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = push.last_endpoint().unwrap();
    let pulls: Vec<_> = (0..2)
        .map(|_| {
            let pull = context.socket(SocketType::Pull).unwrap();
            pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
            pull.connect(&endpoint).unwrap();
            pull
        })
        .collect();
    let pulls: Vec<&Socket> = pulls.iter().collect();
    // The PUSH round-robins over the peers attached when it sends: probe until
    // each PULL has received one, so both are attached.
    let deadline = Instant::now() + TIMEOUT;
    let mut joined = [false; 2];
    while joined.contains(&false) {
        assert!(Instant::now() < deadline, "not both attached: {joined:?}");
        push.send("probe").unwrap();
        let waiting: Vec<&Socket> = (0..2)
            .filter(|&index| !joined[index])
            .map(|index| pulls[index])
            .collect();
        wait_any_readable(&waiting, Instant::now() + PROBE);
        for (index, pull) in pulls.iter().enumerate() {
            while let Ok(message) = pull.try_recv() {
                assert_eq!(message, Message::from("probe"));
                joined[index] = true;
            }
        }
    }
    for round in 0..20u32 {
        push.send(format!("{round}")).unwrap();
    }
    // Each PULL gets its share in order, behind any probe still on its way: stop
    // at the known count of 20.
    let mut received: [Vec<u32>; 2] = Default::default();
    while received.iter().map(Vec::len).sum::<usize>() < 20 {
        assert!(
            wait_any_readable(&pulls, deadline),
            "only {received:?} of 20 arrived"
        );
        for (index, pull) in pulls.iter().enumerate() {
            while let Ok(message) = pull.try_recv() {
                let text = std::str::from_utf8(&message.frames()[0])
                    .unwrap()
                    .to_owned();
                if text != "probe" {
                    received[index].push(text.parse().unwrap());
                }
            }
        }
    }
    // With both attached and far from their marks, strict alternation: one gets
    // the even messages, the other the odd ones, each in order.
    received.sort();
    let evens: Vec<u32> = (0..20).step_by(2).collect();
    let odds: Vec<u32> = (1..20).step_by(2).collect();
    assert_eq!(received, [evens, odds]);
}

#[test]
fn send_blocks_at_the_high_water_mark_and_times_out() {
    let context = Context::new();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_send_high_water_mark(5).unwrap();
    push.connect("inproc://nobody-reads").unwrap();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_high_water_mark(5).unwrap();
    pull.bind("inproc://nobody-reads").unwrap();
    let mut sent = 0;
    loop {
        match push.try_send("x") {
            Ok(()) => sent += 1,
            Err(failed) => {
                assert!(matches!(failed.error, Error::WouldBlock));
                assert_eq!(failed.message, Message::from("x"), "handed back");
                break;
            }
        }
        assert!(sent <= 10, "passed the mark");
    }
    assert_eq!(sent, 10, "inproc sums the send and receive marks");
    let failed = push
        .send_with_timeout("y", Some(Duration::from_millis(20)))
        .unwrap_err();
    assert!(matches!(failed.error, Error::TimedOut));
    pull.recv().unwrap();
    // One read is not yet the low-water mark: drain to it and a send goes through.
    for _ in 0..5 {
        pull.recv().unwrap();
    }
    push.send_with_timeout("z", Some(TIMEOUT)).unwrap();
}

#[test]
fn pair_talks_both_ways_and_refuses_a_second_peer() {
    for endpoint in endpoints("pair") {
        let context = Context::new();
        let left = context.socket(SocketType::Pair).unwrap();
        left.set_receive_timeout(Some(TIMEOUT)).unwrap();
        left.bind(&endpoint).unwrap();
        let bound = left.last_endpoint().unwrap();
        let right = context.socket(SocketType::Pair).unwrap();
        right.set_receive_timeout(Some(TIMEOUT)).unwrap();
        right.connect(&bound).unwrap();
        right.send("ping").unwrap();
        assert_eq!(recv_text(&left), "ping");
        left.send("pong").unwrap();
        assert_eq!(recv_text(&right), "pong");
        let third = context.socket(SocketType::Pair).unwrap();
        // Its message can never be delivered: do not linger on it at exit.
        third.set_linger(Some(Duration::ZERO)).unwrap();
        third.connect(&bound).unwrap();
        third.try_send("intruder").ok();
        right.send("still here").unwrap();
        assert_eq!(recv_text(&left), "still here", "{endpoint}");
    }
}

#[test]
fn shutdown_ends_a_receive_whether_or_not_it_blocked_yet() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("inproc://shutdown").unwrap();
    let stopper = context.clone();
    let waiter = std::thread::spawn(move || pull.recv().map(|_| ()));
    // Whether the receive is already parked or not, it must end with Terminated.
    stopper.shutdown();
    let result = waiter.join().unwrap();
    assert!(matches!(result, Err(Error::Terminated)), "{result:?}");
}

#[test]
fn linger_flushes_queued_messages_after_close() {
    let receiver_context = Context::new();
    let pull = receiver_context.socket(SocketType::Pull).unwrap();
    pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    {
        let context = Context::new();
        let push = context.socket(SocketType::Push).unwrap();
        push.set_linger(None).unwrap();
        push.connect(&endpoint).unwrap();
        for index in 0..1000 {
            push.send(format!("{index}")).unwrap();
        }
        // Dropping the socket and the context waits until everything is sent.
    }
    for index in 0..1000 {
        assert_eq!(recv_text(&pull), format!("{index}"));
    }
}

#[test]
fn reconnects_after_the_peer_comes_back() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_reconnect_interval(Duration::from_millis(10))
        .unwrap();
    let monitor = push.monitor_events(EventMask::ALL).unwrap();
    push.connect(&endpoint).unwrap();
    push.send("before").unwrap();
    assert_eq!(recv_text(&pull), "before");
    drop(pull);
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
    util::bind_retrying(&pull, &endpoint);
    // Sent once the push has a new connection: sent earlier, a message may go
    // to the old connection before its end is noticed, and be lost with it (as
    // in libzmq).
    let mut handshakes = 0;
    while handshakes < 2 {
        let event = monitor
            .recv_with_timeout(Some(TIMEOUT))
            .expect("the push's events in time");
        if event.event == SocketEvent::HandshakeSucceeded {
            handshakes += 1;
        }
    }
    push.send("after").unwrap();
    assert_eq!(recv_text(&pull), "after");
}

#[test]
fn every_message_sent_before_a_close_arrives() {
    // Regression: the last messages before the sender closed were decoded but the
    // receiver was never woken, or bytes read before end-of-stream were dropped.
    for round in 0..5 {
        let context = Context::new();
        let push = context.socket(SocketType::Push).unwrap();
        push.bind("tcp://127.0.0.1:0").unwrap();
        let endpoint = push.last_endpoint().unwrap();
        let pull = context.socket(SocketType::Pull).unwrap();
        pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
        pull.connect(&endpoint).unwrap();
        util::wait_writable(&push);
        for index in 0..5000u32 {
            push.send(index.to_string()).unwrap();
        }
        drop(push);
        for index in 0..5000u32 {
            assert_eq!(recv_text(&pull), index.to_string(), "round {round}");
        }
    }
}

#[test]
fn workers_share_a_ventilator_that_closes_early() {
    let context = Context::new();
    let sink = context.socket(SocketType::Pull).unwrap();
    sink.set_receive_timeout(Some(TIMEOUT)).unwrap();
    sink.bind("tcp://127.0.0.1:0").unwrap();
    let results = sink.last_endpoint().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.bind("tcp://127.0.0.1:0").unwrap();
    let tasks = push.last_endpoint().unwrap();
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (context, tasks, results) = (context.clone(), tasks.clone(), results.clone());
            std::thread::spawn(move || {
                let pull = context.socket(SocketType::Pull).unwrap();
                pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
                pull.connect(&tasks).unwrap();
                let out = context.socket(SocketType::Push).unwrap();
                out.connect(&results).unwrap();
                // Forward until the test shuts the context down, which it does
                // once the sink has every result; running dry is no signal.
                let mut forwarded = 0u32;
                loop {
                    match pull.recv() {
                        Ok(message) => {
                            out.send(message).unwrap();
                            forwarded += 1;
                        }
                        Err(Error::Terminated) => return forwarded,
                        Err(error) => panic!("worker, after {forwarded} tasks: {error}"),
                    }
                }
            })
        })
        .collect();
    let sender = std::thread::spawn(move || {
        for index in 0..6000u32 {
            push.send(index.to_string()).unwrap();
        }
    });
    let mut seen = vec![false; 6000];
    for _ in 0..6000 {
        let index: usize = recv_text(&sink).parse().unwrap();
        assert!(!seen[index], "duplicate {index}");
        seen[index] = true;
    }
    sender.join().unwrap();
    // Every result is in: the stop signal, which ends each worker's receive.
    context.shutdown();
    let forwarded: u32 = workers
        .into_iter()
        .map(|worker| worker.join().unwrap())
        .sum();
    assert_eq!(forwarded, 6000, "no task forwarded twice or lost");
}

#[test]
fn large_messages_flow_through_small_marks() {
    // Regression: after a write emptied a full output batch, the session did not go
    // back to the pipe for more, and the sender stalled.
    for endpoint in endpoints("large") {
        for size in [60_000usize, 65_536, 200_000] {
            let context = Context::new();
            let pull = context.socket(SocketType::Pull).unwrap();
            pull.set_receive_high_water_mark(4).unwrap();
            pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
            pull.bind(&endpoint).unwrap();
            let bound = pull.last_endpoint().unwrap();
            let push = context.socket(SocketType::Push).unwrap();
            push.set_send_high_water_mark(4).unwrap();
            push.connect(&bound).unwrap();
            let sender = std::thread::spawn(move || {
                for index in 0..100u32 {
                    let mut frame = vec![0u8; size];
                    frame[..4].copy_from_slice(&index.to_be_bytes());
                    push.send(frame).unwrap();
                }
                push
            });
            for index in 0..100u32 {
                let message = pull.recv().unwrap();
                assert_eq!(message.frames()[0].len(), size, "{endpoint}");
                assert_eq!(message.frames()[0][..4], index.to_be_bytes(), "{endpoint}");
            }
            drop(sender.join().unwrap());
        }
    }
}

#[test]
fn immediate_queues_only_for_completed_connections() {
    let context = Context::new();
    // A port nobody listens on: reserve one, then free it.
    let probe = context.socket(SocketType::Pull).unwrap();
    probe.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = probe.last_endpoint().unwrap();
    drop(probe);
    let push = context.socket(SocketType::Push).unwrap();
    push.set_immediate(true).unwrap();
    push.set_linger(Some(Duration::ZERO)).unwrap();
    push.connect(&endpoint).unwrap();
    let failed = push.try_send("nowhere to go").unwrap_err();
    assert!(
        matches!(failed.error, Error::WouldBlock),
        "no pipe without a connection"
    );
    // Without IMMEDIATE the same connect queues the message at once.
    let queued = context.socket(SocketType::Push).unwrap();
    queued.set_linger(Some(Duration::ZERO)).unwrap();
    queued.connect(&endpoint).unwrap();
    queued.try_send("queued").unwrap();
    // Once a peer is there, the IMMEDIATE socket gets a pipe and sends.
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
    util::bind_retrying(&pull, &endpoint);
    util::wait_writable(&push);
    push.send("arrived").unwrap();
    let mut seen = vec![recv_text(&pull), recv_text(&pull)];
    seen.sort();
    assert_eq!(seen, ["arrived", "queued"]);
}
