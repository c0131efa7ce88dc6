//! STREAM against plain byte-stream peers (std::net and Unix sockets, no ZeroMQ
//! at all): connect and disconnect notifications, bytes both ways, closing a
//! connection with `[routing id, ""]`, unknown ids, reconnecting with the same id,
//! the high-water marks, and the bound on what a connection may buffer.
//!
//! Every wait has a deadline. The few checks that something does *not* happen
//! (no reconnect, no notification) look for it after an event that would come
//! later than it, or within a short window far longer than the thing would take.

mod util;

use sinew::{Context, Error, EventMask, Message, Socket, SocketEvent, SocketType};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;
use util::TIMEOUT;

fn stream_socket(context: &Context) -> Socket {
    let stream = context.socket(SocketType::Stream).unwrap();
    stream.set_receive_timeout(Some(TIMEOUT)).unwrap();
    stream.set_send_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// A STREAM bound to a loopback port, and that port's address.
fn bound(context: &Context) -> (Socket, SocketAddr) {
    let stream = stream_socket(context);
    stream.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = stream.last_endpoint().unwrap();
    let address = endpoint.trim_start_matches("tcp://").parse().unwrap();
    (stream, address)
}

fn client(address: SocketAddr) -> TcpStream {
    let client = TcpStream::connect(address).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    client.set_nodelay(true).unwrap();
    client
}

fn frames(message: &Message) -> Vec<Vec<u8>> {
    message
        .frames()
        .iter()
        .map(|frame| frame.to_vec())
        .collect()
}

/// Receives the next message, which must be a notification; returns its id.
fn notification(stream: &Socket) -> Vec<u8> {
    let message = stream.recv().expect("a notification before the deadline");
    let parts = frames(&message);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[1].is_empty(), "a notification, not data: {parts:?}");
    parts[0].clone()
}

/// Receives data from `id` until `length` bytes have come (a read may split
/// them); each message must be `[id, bytes]` of at most 8 KiB.
fn receive_bytes(stream: &Socket, id: &[u8], length: usize) -> Vec<u8> {
    let mut received = Vec::new();
    while received.len() < length {
        let message = stream.recv().expect("data before the deadline");
        let parts = frames(&message);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0], id, "from the expected connection");
        assert!(!parts[1].is_empty(), "data, not a notification");
        assert!(parts[1].len() <= 8192, "one read is at most 8 KiB");
        received.extend_from_slice(&parts[1]);
    }
    assert_eq!(received.len(), length);
    received
}

/// Reads until EOF; fails on a timeout.
fn read_to_end(peer: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    peer.read_to_end(&mut received)
        .expect("EOF before the deadline");
    received
}

fn send(stream: &Socket, id: &[u8], data: &[u8]) {
    stream
        .send(Message::from_frames([id.to_vec(), data.to_vec()]))
        .unwrap();
}

#[test]
fn a_client_is_announced_exchanges_bytes_and_is_announced_leaving() {
    let context = Context::new();
    let (stream, address) = bound(&context);
    let mut peer = client(address);
    let connected = stream.recv().unwrap();
    assert_eq!(connected.gets("Peer-Address"), Some("127.0.0.1"));
    let id = frames(&connected)[0].clone();
    assert!(frames(&connected)[1].is_empty());
    assert_eq!((id.len(), id[0]), (5, 0), "a generated id: 0 and a counter");

    peer.write_all(b"hello").unwrap();
    let message = stream.recv().unwrap();
    assert_eq!(frames(&message), [id.clone(), b"hello".to_vec()]);
    assert_eq!(message.gets("Peer-Address"), Some("127.0.0.1"));

    send(&stream, &id, b"reply");
    let mut reply = [0u8; 5];
    peer.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"reply");

    drop(peer);
    assert_eq!(notification(&stream), id, "the disconnect notification");
}

#[test]
fn ids_count_up_from_one_connection_to_the_next() {
    let context = Context::new();
    let (stream, address) = bound(&context);
    let _first = client(address);
    let first = notification(&stream);
    let _second = client(address);
    let second = notification(&stream);
    let counter = |id: &[u8]| u32::from_be_bytes(id[1..5].try_into().unwrap());
    assert_eq!(counter(&second), counter(&first).wrapping_add(1));
}

#[test]
fn bytes_in_both_directions_arrive_whole_and_in_order() {
    let context = Context::new();
    let (stream, address) = bound(&context);
    let mut peer = client(address);
    let id = notification(&stream);
    let upload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut peer = peer.try_clone().unwrap();
        let upload = upload.clone();
        std::thread::spawn(move || peer.write_all(&upload).unwrap())
    };
    assert_eq!(receive_bytes(&stream, &id, upload.len()), upload);
    writer.join().unwrap();

    let download: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    for piece in download.chunks(10_000) {
        send(&stream, &id, piece);
    }
    let mut received = vec![0u8; download.len()];
    peer.read_exact(&mut received).unwrap();
    assert_eq!(received, download);
}

#[test]
fn empty_data_writes_what_was_queued_then_closes_for_good() {
    let context = Context::new();
    let (stream, address) = bound(&context);
    let mut peer = client(address);
    let id = notification(&stream);
    let body = vec![b'x'; 1 << 20];
    send(&stream, &id, b"bye ");
    send(&stream, &id, &body);
    stream
        .send(Message::from_frames([id.clone(), Vec::new()]))
        .unwrap();
    // What was sent before the close arrives, then EOF.
    let received = read_to_end(&mut peer);
    assert_eq!(received.len(), 4 + body.len());
    assert!(received.starts_with(b"bye x"));

    // The id is gone.
    let failed = stream
        .send(Message::from_frames([id.clone(), b"again".to_vec()]))
        .unwrap_err();
    assert!(matches!(failed.error, Error::HostUnreachable), "{failed:?}");

    // No disconnect notification for a connection this side closed: the next
    // messages are a later client's.
    drop(peer);
    let mut later = client(address);
    let later_id = notification(&stream);
    assert_ne!(later_id, id, "no notification for the closed connection");
    later.write_all(b"sentinel").unwrap();
    assert_eq!(receive_bytes(&stream, &later_id, 8), b"sentinel");
}

#[test]
fn unknown_ids_are_unreachable_and_other_shapes_are_refused() {
    let context = Context::new();
    let (stream, address) = bound(&context);
    let _peer = client(address);
    let id = notification(&stream);

    let failed = stream
        .send(Message::from_frames([
            b"\0\xde\xad\xbe\xef".to_vec(),
            b"q".to_vec(),
        ]))
        .unwrap_err();
    assert!(matches!(failed.error, Error::HostUnreachable), "{failed:?}");
    assert_eq!(failed.message.len(), 2, "the message is handed back");

    for shape in [
        vec![id.clone()],
        vec![id.clone(), b"x".to_vec(), b"y".to_vec()],
    ] {
        let failed = stream
            .send(Message::from_frames(shape.clone()))
            .unwrap_err();
        assert!(
            matches!(failed.error, Error::InvalidMessage(_)),
            "{failed:?}"
        );
        assert_eq!(frames(&failed.message), shape);
    }
}

#[test]
fn notifications_can_be_turned_off() {
    let context = Context::new();
    let stream = stream_socket(&context);
    assert!(stream.stream_notify(), "on by default");
    stream.set_stream_notify(false).unwrap();
    stream.bind("tcp://127.0.0.1:0").unwrap();
    let address: SocketAddr = stream.last_endpoint().unwrap()[6..].parse().unwrap();

    let mut first = client(address);
    first.write_all(b"first").unwrap();
    let message = stream.recv().unwrap();
    assert_eq!(
        frames(&message)[1],
        b"first",
        "data first: no connect notification"
    );
    drop(first);

    // No disconnect notification either: the next message is the next client's data.
    let mut second = client(address);
    second.write_all(b"second").unwrap();
    let message = stream.recv().unwrap();
    assert_eq!(frames(&message)[1], b"second");

    let dealer = context.socket(SocketType::Dealer).unwrap();
    assert!(
        dealer.set_stream_notify(false).is_err(),
        "STREAM_NOTIFY is a STREAM option"
    );
}

/// A listener that accepts one connection within the deadline.
fn accept(listener: &TcpListener) -> TcpStream {
    let (peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    peer
}

#[test]
fn a_connecting_stream_reconnects_with_the_same_id() {
    let context = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = stream_socket(&context);
    stream
        .set_reconnect_interval(Duration::from_millis(10))
        .unwrap();
    stream
        .connect(&format!("tcp://{}", listener.local_addr().unwrap()))
        .unwrap();
    let mut server = accept(&listener);
    let id = notification(&stream);
    server.write_all(b"from server").unwrap();
    assert_eq!(receive_bytes(&stream, &id, 11), b"from server");
    send(&stream, &id, b"from stream");
    let mut got = [0u8; 11];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"from stream");

    drop(server);
    assert_eq!(notification(&stream), id, "disconnect");
    let mut server = accept(&listener);
    assert_eq!(notification(&stream), id, "connect again, same id");
    server.write_all(b"again").unwrap();
    assert_eq!(receive_bytes(&stream, &id, 5), b"again");
    send(&stream, &id, b"still me");
    let mut got = [0u8; 8];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"still me");
}

/// A port nothing listens on.
fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Reads monitor events until `event` arrives for `endpoint`, and returns every
/// event before it (with their endpoints).
fn events_until(
    monitor: &sinew::Monitor,
    event: SocketEvent,
    endpoint: &str,
    times: usize,
) -> Vec<(SocketEvent, String)> {
    let mut seen = Vec::new();
    let mut found = 0;
    loop {
        let next = monitor
            .recv_with_timeout(Some(TIMEOUT))
            .unwrap_or_else(|error| {
                panic!("waiting for {event} on {endpoint} after {seen:?}: {error}")
            });
        if next.event == event && next.endpoint == endpoint {
            found += 1;
            if found == times {
                return seen;
            }
        }
        seen.push((next.event, next.endpoint));
    }
}

#[test]
fn a_connecting_stream_closed_by_its_socket_does_not_reconnect() {
    let context = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = stream_socket(&context);
    let monitor = stream.monitor_events(EventMask::ALL).unwrap();
    stream
        .set_reconnect_interval(Duration::from_millis(1))
        .unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    stream.connect(&endpoint).unwrap();
    let server = accept(&listener);
    let id = notification(&stream);
    // More than the kernel's buffers take, so the connection is still writing
    // what was queued when the server, which reads nothing, resets it.
    let chunk = vec![b'c'; 1 << 20];
    for _ in 0..32 {
        send(&stream, &id, &chunk);
    }
    stream
        .send(Message::from_frames([id.clone(), Vec::new()]))
        .unwrap();
    drop(server);
    events_until(&monitor, SocketEvent::Disconnected, &endpoint, 1);
    // A session that would reconnect schedules it in the same turn as its
    // DISCONNECTED (CONNECT_RETRIED). A witness connect, made now, is handled
    // by the same I/O thread after that turn: everything between is the
    // session's answer.
    let witness = format!("tcp://{}", closed_port());
    stream.connect(&witness).unwrap();
    let between = events_until(&monitor, SocketEvent::ConnectDelayed, &witness, 1);
    assert!(
        between.iter().all(|(_, on)| on != &endpoint),
        "after the close: {between:?}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(matches!(listener.accept(), Err(error) if error.kind() == ErrorKind::WouldBlock));
    let failed = stream
        .send(Message::from_frames([id, b"x".to_vec()]))
        .unwrap_err();
    assert!(matches!(failed.error, Error::HostUnreachable));
}

#[test]
fn a_connecting_stream_closed_while_it_waits_to_reconnect_stays_closed() {
    let context = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = stream_socket(&context);
    let monitor = stream.monitor_events(EventMask::ALL).unwrap();
    stream
        .set_reconnect_interval(Duration::from_millis(300))
        .unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    stream.connect(&endpoint).unwrap();
    let server = accept(&listener);
    let id = notification(&stream);
    drop(server);
    assert_eq!(notification(&stream), id, "disconnect");
    // The session now waits to reconnect: within 300 to 600 ms (the interval
    // plus its jitter).
    events_until(&monitor, SocketEvent::ConnectRetried, &endpoint, 1);
    stream
        .send(Message::from_frames([id.clone(), Vec::new()]))
        .unwrap();
    // A witness connects to a port nothing listens on and retries only after
    // 1000 to 2000 ms, so its second attempt is due after the session's
    // reconnect would have been; one I/O thread runs timers in deadline order,
    // so by that attempt the session has had its chance to reconnect.
    stream
        .set_reconnect_interval(Duration::from_millis(1000))
        .unwrap();
    let witness = format!("tcp://{}", closed_port());
    stream.connect(&witness).unwrap();
    let between = events_until(&monitor, SocketEvent::ConnectDelayed, &witness, 2);
    assert!(
        between.iter().all(|(_, on)| on != &endpoint),
        "after the close: {between:?}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(matches!(listener.accept(), Err(error) if error.kind() == ErrorKind::WouldBlock));
    assert!(matches!(stream.try_recv(), Err(Error::WouldBlock)));
}

#[test]
fn connect_routing_id_names_the_connection() {
    let context = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = stream_socket(&context);
    stream
        .set_connect_routing_id(Some(bytes::Bytes::from_static(b"myid")))
        .unwrap();
    stream
        .connect(&format!("tcp://{}", listener.local_addr().unwrap()))
        .unwrap();
    assert_eq!(stream.connect_routing_id(), None, "used by one connect");
    let mut server = accept(&listener);
    assert_eq!(notification(&stream), b"myid");
    send(&stream, b"myid", b"named");
    let mut got = [0u8; 5];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"named");
}

#[test]
fn a_peer_that_does_not_read_stops_sends_at_the_high_water_mark() {
    let context = Context::new();
    let stream = stream_socket(&context);
    stream.set_send_high_water_mark(4).unwrap();
    stream.bind("tcp://127.0.0.1:0").unwrap();
    let address: SocketAddr = stream.last_endpoint().unwrap()[6..].parse().unwrap();
    let mut peer = client(address);
    let id = notification(&stream);
    let chunk = bytes::Bytes::from(vec![b'z'; 1 << 20]);
    let message = Message::from_frames([bytes::Bytes::from(id.clone()), chunk.clone()]);
    // The kernel's buffers take a few MiB; 4 messages wait in the pipe, one in
    // the engine. Without a mark every send would succeed.
    let mut sent = 0usize;
    loop {
        match stream.send_with_timeout(message.clone(), Some(Duration::from_millis(100))) {
            Ok(()) => sent += 1,
            Err(failed) => {
                assert!(matches!(failed.error, Error::TimedOut), "{failed:?}");
                break;
            }
        }
        assert!(sent < 200, "200 MiB queued for a peer that reads nothing");
    }
    let failed = stream.try_send(message.clone()).unwrap_err();
    assert!(matches!(failed.error, Error::WouldBlock), "{failed:?}");

    // Once the peer reads, a blocking send goes through and nothing was lost.
    let reader = std::thread::spawn(move || {
        let mut total = 0usize;
        let mut buffer = vec![0u8; 1 << 16];
        while total < (sent + 1) << 20 {
            let count = peer.read(&mut buffer).unwrap();
            assert!(count > 0, "EOF after {total} bytes");
            total += count;
        }
        total
    });
    stream.send(message).unwrap();
    assert_eq!(reader.join().unwrap(), (sent + 1) << 20);
}

#[test]
fn a_stream_that_does_not_read_buffers_a_bounded_number_of_bytes() {
    // The pipe holds at most RCVHWM reads of at most 8 KiB each, one more waits
    // in the session: 17 × 8 KiB here. The flood's writer stops when that and
    // the kernel's buffers (a few MiB, autotuned) are full; without the bound it
    // would write all 128 MiB into the STREAM's memory.
    const FLOOD: usize = 128 << 20;
    let context = Context::new();
    let stream = stream_socket(&context);
    stream.set_receive_high_water_mark(16).unwrap();
    stream.bind("tcp://127.0.0.1:0").unwrap();
    let address: SocketAddr = stream.last_endpoint().unwrap()[6..].parse().unwrap();
    let mut peer = client(address);
    let id = notification(&stream);
    // A write that makes no progress for a second means everything is full.
    peer.set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let chunk = vec![0xabu8; 64 << 10];
    let mut written = 0usize;
    while written < FLOOD {
        match peer.write(&chunk) {
            Ok(count) => written += count,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break;
            }
            Err(error) => panic!("write: {error}"),
        }
    }
    eprintln!("a non-reading STREAM let the peer write {written} bytes");
    assert!(
        written < 32 << 20,
        "the peer wrote {written} bytes into a STREAM that reads nothing"
    );
    // Nothing was lost on the way: every byte written is received, in reads of
    // at most 8 KiB.
    let received = receive_bytes(&stream, &id, written);
    assert!(received.iter().all(|&byte| byte == 0xab));
}

#[test]
fn zmtp_peers_are_only_bytes_to_a_stream() {
    let context = Context::new();
    let (stream, address) = bound(&context);
    // A ZMTP socket connecting to a STREAM: its greeting is data.
    let dealer = context.socket(SocketType::Dealer).unwrap();
    dealer.set_linger(Some(Duration::ZERO)).unwrap();
    dealer.connect(&format!("tcp://{address}")).unwrap();
    let id = notification(&stream);
    let message = stream.recv().unwrap();
    let greeting = &frames(&message)[1];
    assert_eq!(
        greeting[0], 0xff,
        "the ZMTP signature, as data: {greeting:?}"
    );
    // Bytes that are not ZMTP make the DEALER drop the connection, for good.
    send(&stream, &id, b"not zmtp at all");
    loop {
        let parts = frames(&stream.recv().unwrap());
        assert_eq!(parts[0], id);
        if parts[1].is_empty() {
            break;
        }
    }

    // A STREAM connecting to a ZMTP socket sees its signature.
    let router = context.socket(SocketType::Router).unwrap();
    router.bind("tcp://127.0.0.1:0").unwrap();
    stream.connect(&router.last_endpoint().unwrap()).unwrap();
    let id = notification(&stream);
    let mut signature = Vec::new();
    while signature.len() < 10 {
        let parts = frames(&stream.recv().unwrap());
        assert_eq!(parts[0], id);
        signature.extend_from_slice(&parts[1]);
    }
    assert_eq!((signature[0], signature[9]), (0xff, 0x7f));
}

#[test]
fn ipc_peers_work_the_same_way() {
    use std::os::unix::net::UnixStream;
    let context = Context::new();
    let stream = stream_socket(&context);
    let path = std::env::temp_dir().join(format!("sinew-stream-{}.ipc", std::process::id()));
    stream.bind(&format!("ipc://{}", path.display())).unwrap();
    let mut peer = UnixStream::connect(&path).unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    let id = notification(&stream);
    peer.write_all(b"over ipc").unwrap();
    assert_eq!(receive_bytes(&stream, &id, 8), b"over ipc");
    send(&stream, &id, b"back");
    stream
        .send(Message::from_frames([id.clone(), Vec::new()]))
        .unwrap();
    let mut received = Vec::new();
    peer.read_to_end(&mut received).unwrap();
    assert_eq!(received, b"back");
}

#[test]
fn inproc_peers_are_refused() {
    let context = Context::new();
    let dealer = context.socket(SocketType::Dealer).unwrap();
    dealer.bind("inproc://stream-refused").unwrap();
    let stream = stream_socket(&context);
    assert!(stream.connect("inproc://stream-refused").is_err());
}
