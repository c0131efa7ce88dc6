//! `poll` over several sockets: readiness, writability, the timeout, and waking
//! as soon as one socket becomes readable.

mod util;

use sinew::{Context, PollEvents, PollItem, SocketType, poll};
use std::time::{Duration, Instant};
use util::TIMEOUT;

#[test]
fn poll_reports_which_socket_is_ready_and_honours_the_timeout() {
    let context = Context::new();
    let first = context.socket(SocketType::Pull).unwrap();
    first.bind("inproc://poll-first").unwrap();
    let second = context.socket(SocketType::Pull).unwrap();
    second.bind("inproc://poll-second").unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.connect("inproc://poll-second").unwrap();

    let mut items = [
        PollItem::new(&first, PollEvents::READABLE),
        PollItem::new(&second, PollEvents::READABLE),
    ];
    let started = Instant::now();
    assert_eq!(
        poll(&mut items, Some(Duration::from_millis(50))).unwrap(),
        0
    );
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "waited the timeout"
    );

    push.send("hello").unwrap();
    assert_eq!(poll(&mut items, Some(TIMEOUT)).unwrap(), 1);
    assert!(!items[0].is_readable());
    assert!(items[1].is_readable());
    assert_eq!(second.try_recv().unwrap().frames()[0], "hello");

    // A writable PUSH with a peer is ready for output.
    let mut output = [PollItem::new(&push, PollEvents::WRITABLE)];
    assert_eq!(poll(&mut output, Some(Duration::ZERO)).unwrap(), 1);
    assert!(output[0].is_writable());
}

#[test]
fn poll_wakes_when_a_message_arrives_from_another_thread() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let sender = std::thread::spawn(move || {
        let context = Context::new();
        let push = context.socket(SocketType::Push).unwrap();
        push.connect(&endpoint).unwrap();
        push.send("wake up").unwrap();
    });
    let mut items = [PollItem::new(&pull, PollEvents::READABLE)];
    assert_eq!(poll(&mut items, Some(TIMEOUT)).unwrap(), 1);
    assert_eq!(pull.try_recv().unwrap().frames()[0], "wake up");
    sender.join().unwrap();
}
