//! The readiness descriptor (ZMQ_FD) and `events` (ZMQ_EVENTS): the descriptor
//! fires when readiness may have changed, `events` lowers it and says what is
//! possible, and nothing is missed between the two.
//!
//! Every wait is a mio poll on the descriptor with a deadline; "not readable" is
//! a poll with a zero timeout, a look at the descriptor's state now, not a wait.

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use sinew::{Context, PollEvents, SocketType};
use std::os::fd::AsRawFd;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(10);

/// A mio poll watching one descriptor.
struct Watch {
    poll: Poll,
    events: Events,
}

impl Watch {
    fn new(fd: &sinew::SocketFd) -> Watch {
        let poll = Poll::new().expect("poll");
        let raw = fd.as_raw_fd();
        poll.registry()
            .register(&mut SourceFd(&raw), Token(0), Interest::READABLE)
            .expect("register");
        Watch {
            poll,
            events: Events::with_capacity(4),
        }
    }

    /// Whether the descriptor fires within `timeout` (zero: is it readable now).
    fn fires(&mut self, timeout: Duration) -> bool {
        self.poll
            .poll(&mut self.events, Some(timeout))
            .expect("poll");
        !self.events.is_empty()
    }
}

#[test]
fn the_descriptor_starts_raised_and_events_lowers_it() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("inproc://readiness-start").unwrap();
    let fd = pull.fd().unwrap();
    // mio registers edge-triggered: a fresh registration reports what is
    // readable now.
    let mut watch = Watch::new(&fd);
    assert!(watch.fires(DEADLINE), "a new descriptor asks for one look");
    assert_eq!(pull.events(), PollEvents::default(), "nothing to do yet");
    let mut fresh = Watch::new(&fd);
    assert!(
        !fresh.fires(Duration::ZERO),
        "events lowered the descriptor"
    );
}

#[test]
fn a_message_over_tcp_raises_the_descriptor_and_events_says_readable() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let fd = pull.fd().unwrap();
    let mut watch = Watch::new(&fd);
    assert!(watch.fires(DEADLINE));
    assert!(!pull.events().readable);

    let push = context.socket(SocketType::Push).unwrap();
    push.connect(&endpoint).unwrap();
    let mut received = Vec::new();
    for round in 0..3u8 {
        push.send(vec![round]).unwrap();
        // Wait for the descriptor, then drain until WouldBlock, as with ZMQ_FD.
        loop {
            if pull.events().readable {
                break;
            }
            assert!(
                watch.fires(DEADLINE),
                "the descriptor fired for round {round}"
            );
        }
        loop {
            match pull.try_recv() {
                Ok(message) => received.push(message.frames()[0][0]),
                Err(sinew::Error::WouldBlock) => break,
                Err(error) => panic!("{error}"),
            }
        }
    }
    assert_eq!(received, [0, 1, 2]);
}

#[test]
fn a_push_at_its_high_water_mark_becomes_writable_through_the_descriptor() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_high_water_mark(1).unwrap();
    pull.bind("inproc://readiness-hwm").unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_send_high_water_mark(1).unwrap();
    push.connect("inproc://readiness-hwm").unwrap();
    let fd = push.fd().unwrap();
    let mut sent = 0;
    while push.events().writable {
        push.try_send("x").unwrap();
        sent += 1;
        assert!(sent < 1000, "the high-water mark stops the sender");
    }
    assert!(sent >= 1);
    // The last look lowered the descriptor; it stays quiet until room appears.
    let mut watch = Watch::new(&fd);
    assert!(!watch.fires(Duration::ZERO), "no room, no signal");
    let receiver = std::thread::spawn(move || {
        for _ in 0..sent {
            pull.recv().unwrap();
        }
        pull.recv().unwrap()
    });
    assert!(watch.fires(DEADLINE), "the descriptor fired for room");
    while !push.events().writable {
        assert!(watch.fires(DEADLINE), "the descriptor fired again");
    }
    push.try_send("again").unwrap();
    assert_eq!(receiver.join().unwrap().frames()[0], "again");
}

#[test]
fn shutting_the_context_down_raises_the_descriptor() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    let fd = pull.fd().unwrap();
    let mut watch = Watch::new(&fd);
    assert!(watch.fires(DEADLINE));
    pull.events();
    let mut fresh = Watch::new(&fd);
    assert!(!fresh.fires(Duration::ZERO));
    context.shutdown();
    assert!(fresh.fires(DEADLINE), "shutdown is news");
    assert!(matches!(pull.try_recv(), Err(sinew::Error::Terminated)));
}
