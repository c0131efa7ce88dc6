//! A Sinew ROUTER tracking its libzmq peers: ZMQ_ROUTER_NOTIFY's connect and
//! disconnect messages (libzmq's `[routing id, ""]`, after the handshake and when
//! a connection that completed it ends), closing one peer by its routing id, and
//! the peer's address and metadata as message properties (`zmq_msg_gets`).
//!
//! ROUTER_NOTIFY is a draft option in libzmq 4.3.5, so no released binding can
//! act as the reference ROUTER; the behaviour follows libzmq's source
//! (`stream_engine_base_t::mechanism_ready` and `error`). The peers are real
//! libzmq: the `zmq` crate in this process, and pyzmq in a child process that is
//! killed with SIGKILL.

use sinew::{Context, RouterNotify, SocketType};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(10);

fn router(context: &Context, notify: RouterNotify) -> (sinew::Socket, String) {
    let router = context.socket(SocketType::Router).unwrap();
    router.set_router_notify(notify).unwrap();
    router.set_receive_timeout(Some(DEADLINE)).unwrap();
    router.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = router.last_endpoint().unwrap();
    (router, endpoint)
}

fn frames(message: &sinew::Message) -> Vec<Vec<u8>> {
    message
        .frames()
        .iter()
        .map(|frame| frame.to_vec())
        .collect()
}

#[test]
fn a_peer_that_connects_and_is_killed_is_announced_both_times() {
    let context = Context::new();
    let (router, endpoint) = router(
        &context,
        RouterNotify {
            connect: true,
            disconnect: true,
        },
    );
    let script = r#"
import sys, time, zmq
dealer = zmq.Context().socket(zmq.DEALER)
dealer.setsockopt(zmq.ROUTING_ID, b"doomed")
dealer.connect(sys.argv[1])
dealer.send(b"hi")
print("sent", flush=True)
time.sleep(600)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, &endpoint])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with pyzmq (pip install -r interop-tests/requirements.txt)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "sent");
    assert_eq!(
        frames(&router.recv().unwrap()),
        [b"doomed".to_vec(), vec![]],
        "connect"
    );
    assert_eq!(
        frames(&router.recv().unwrap()),
        [b"doomed".to_vec(), b"hi".to_vec()]
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        frames(&router.recv().unwrap()),
        [b"doomed".to_vec(), vec![]],
        "disconnect"
    );
}

#[test]
fn connect_notifications_come_once_per_peer_and_only_on_a_router() {
    let context = Context::new();
    let (router, endpoint) = router(
        &context,
        RouterNotify {
            connect: true,
            disconnect: false,
        },
    );
    let zmq_context = zmq::Context::new();
    let mut dealers = Vec::new();
    for name in ["one", "two"] {
        let dealer = zmq_context.socket(zmq::DEALER).unwrap();
        dealer.set_identity(name.as_bytes()).unwrap();
        dealer.set_linger(0).unwrap();
        dealer.connect(&endpoint).unwrap();
        assert_eq!(
            frames(&router.recv().unwrap()),
            [name.as_bytes().to_vec(), vec![]]
        );
        dealer.send(name, 0).unwrap();
        assert_eq!(
            frames(&router.recv().unwrap()),
            [name.as_bytes().to_vec(), name.as_bytes().to_vec()],
            "after its connect message, only what the peer sent"
        );
        dealers.push(dealer);
    }
    // A peer leaves: with disconnect notifications off, nothing is queued. The
    // ROUTER's monitor says when the connection ended; the disconnect message
    // would have been queued before that event (as libzmq's engine does it), so
    // an empty queue right after is the answer, not a guess.
    let monitor = router
        .monitor_events(sinew::EventMask::from(sinew::SocketEvent::Disconnected))
        .unwrap();
    drop(dealers.remove(0));
    let event = monitor.recv_with_timeout(Some(DEADLINE)).unwrap();
    assert_eq!(event.event, sinew::SocketEvent::Disconnected);
    assert!(matches!(router.try_recv(), Err(sinew::Error::WouldBlock)));

    let plain = context.socket(SocketType::Dealer).unwrap();
    assert!(
        plain.set_router_notify(RouterNotify::default()).is_err(),
        "ROUTER_NOTIFY is refused on other socket types"
    );
}

#[test]
fn the_disconnect_message_is_queued_before_the_disconnected_event() {
    let context = Context::new();
    let (router, endpoint) = router(
        &context,
        RouterNotify {
            connect: false,
            disconnect: true,
        },
    );
    let monitor = router
        .monitor_events(sinew::EventMask::from(sinew::SocketEvent::Disconnected))
        .unwrap();
    let zmq_context = zmq::Context::new();
    let dealer = zmq_context.socket(zmq::DEALER).unwrap();
    dealer.set_identity(b"leaving").unwrap();
    dealer.set_linger(0).unwrap();
    dealer.connect(&endpoint).unwrap();
    dealer.send("here", 0).unwrap();
    assert_eq!(
        frames(&router.recv().unwrap()),
        [b"leaving".to_vec(), b"here".to_vec()]
    );
    drop(dealer);
    let event = monitor.recv_with_timeout(Some(DEADLINE)).unwrap();
    assert_eq!(event.event, sinew::SocketEvent::Disconnected);
    assert_eq!(
        frames(&router.try_recv().expect("queued before the event")),
        [b"leaving".to_vec(), vec![]]
    );
}

#[test]
fn disconnecting_one_peer_by_routing_id_leaves_the_others() {
    let context = Context::new();
    let (router, endpoint) = router(&context, RouterNotify::default());
    let zmq_context = zmq::Context::new();
    let mut dealers = Vec::new();
    for name in ["a", "b"] {
        let dealer = zmq_context.socket(zmq::DEALER).unwrap();
        dealer.set_identity(name.as_bytes()).unwrap();
        dealer.set_rcvtimeo(10_000).unwrap();
        dealer.set_linger(0).unwrap();
        // Watch each dealer's connection from libzmq's side.
        let monitor = format!("inproc://monitor-{name}");
        dealer
            .monitor(&monitor, zmq::SocketEvent::DISCONNECTED as i32)
            .unwrap();
        let watcher = zmq_context.socket(zmq::PAIR).unwrap();
        watcher.set_rcvtimeo(10_000).unwrap();
        watcher.connect(&monitor).unwrap();
        dealer.connect(&endpoint).unwrap();
        dealer
            .send(format!("hello from {name}").as_str(), 0)
            .unwrap();
        dealers.push((name, dealer, watcher));
    }
    for _ in 0..2 {
        let message = frames(&router.recv().unwrap());
        assert_eq!(
            message[1],
            format!("hello from {}", std::str::from_utf8(&message[0]).unwrap()).into_bytes()
        );
    }
    router.disconnect_peer("a").unwrap();
    assert!(
        matches!(
            router.disconnect_peer("nobody"),
            Err(sinew::Error::HostUnreachable)
        ),
        "an unknown id is refused"
    );
    // libzmq's monitor on "a" reports the disconnect.
    let event = dealers[0]
        .2
        .recv_multipart(0)
        .expect("a DISCONNECTED event for a");
    let id = u16::from_ne_bytes([event[0][0], event[0][1]]);
    assert_eq!(id, zmq::SocketEvent::DISCONNECTED as u16);
    // "b" is still served both ways, and its monitor has nothing to say: the
    // exchange below went through the same connection.
    router
        .send(sinew::Message::from_frames(["b", "still here"]))
        .unwrap();
    assert_eq!(dealers[1].1.recv_bytes(0).unwrap(), b"still here");
    dealers[1].1.send("and you", 0).unwrap();
    assert_eq!(
        frames(&router.recv().unwrap()),
        [b"b".to_vec(), b"and you".to_vec()]
    );
    // libzmq's I/O thread sends DISCONNECTED before it reconnects, so had b
    // been cut off, the event would sit in the pipe before the exchange above
    // could complete: this is a look at the queue now, not a wait.
    dealers[1].2.set_rcvtimeo(0).unwrap();
    assert!(
        dealers[1].2.recv_multipart(0).is_err(),
        "b was never disconnected"
    );
}

#[test]
fn messages_carry_the_peer_address_and_its_metadata() {
    let context = Context::new();
    let (router, endpoint) = router(&context, RouterNotify::default());
    let zmq_context = zmq::Context::new();
    let dealer = zmq_context.socket(zmq::DEALER).unwrap();
    dealer.set_identity(b"props").unwrap();
    dealer.connect(&endpoint).unwrap();
    dealer.send("x", 0).unwrap();
    let message = router.recv().unwrap();
    assert_eq!(message.gets("Peer-Address"), Some("127.0.0.1"));
    assert_eq!(message.gets("Socket-Type"), Some("DEALER"));
    assert_eq!(message.gets("Identity"), Some("props"));
    assert_eq!(message.gets("No-Such-Property"), None);

    // And libzmq's own answer for the same peer address, for comparison.
    let pull = zmq_context.socket(zmq::PULL).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let zmq_endpoint = pull.get_last_endpoint().unwrap().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.connect(&zmq_endpoint).unwrap();
    push.send("y").unwrap();
    pull.set_rcvtimeo(10_000).unwrap();
    let mut received = pull.recv_msg(0).unwrap();
    assert_eq!(received.gets("Peer-Address"), Some("127.0.0.1"));
    assert_eq!(received.gets("Socket-Type"), Some("PUSH"));

    // inproc messages carry no properties, as in libzmq.
    let inproc_pull = context.socket(SocketType::Pull).unwrap();
    inproc_pull.bind("inproc://no-properties").unwrap();
    let inproc_push = context.socket(SocketType::Push).unwrap();
    inproc_push.connect("inproc://no-properties").unwrap();
    inproc_push.send("z").unwrap();
    assert!(inproc_pull.recv().unwrap().properties().is_none());
}
