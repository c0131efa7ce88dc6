//! Sinew's STREAM against libzmq's STREAM (the `zmq` crate), in both roles over
//! tcp: connect notifications on both sides, bytes both ways (each side hands
//! its reads over in pieces of at most 8 KiB), closing a connection with
//! `[routing id, ""]` from either side, and the connecting side coming back with
//! the same id.
//!
//! libzmq closes a connection for `[id, ""]` only once its socket processes the
//! command that follows (any later call on it, see notes/libzmq-part2.md §3), so
//! the tests keep calling it while they wait for Sinew to see the close.

use sinew::{Context, Message, Socket, SocketType};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(10);

fn sinew_stream(context: &Context) -> Socket {
    let stream = context.socket(SocketType::Stream).unwrap();
    stream.set_receive_timeout(Some(DEADLINE)).unwrap();
    stream.set_send_timeout(Some(DEADLINE)).unwrap();
    stream.set_linger(Some(Duration::ZERO)).unwrap();
    stream
        .set_reconnect_interval(Duration::from_millis(10))
        .unwrap();
    stream
}

fn zmq_stream(context: &zmq::Context) -> zmq::Socket {
    let stream = context.socket(zmq::STREAM).unwrap();
    stream.set_rcvtimeo(DEADLINE.as_millis() as i32).unwrap();
    stream.set_sndtimeo(DEADLINE.as_millis() as i32).unwrap();
    stream.set_linger(0).unwrap();
    stream.set_reconnect_ivl(10).unwrap();
    stream
}

fn frames(message: &Message) -> Vec<Vec<u8>> {
    message
        .frames()
        .iter()
        .map(|frame| frame.to_vec())
        .collect()
}

/// Sinew's next message must be a notification; returns its id.
fn sinew_notification(stream: &Socket) -> Vec<u8> {
    let parts = frames(&stream.recv().expect("a notification from Sinew"));
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[1].is_empty(), "a notification, not data: {parts:?}");
    parts[0].clone()
}

/// libzmq's next message must be a notification; returns its id.
fn zmq_notification(stream: &zmq::Socket) -> Vec<u8> {
    let parts = stream
        .recv_multipart(0)
        .expect("a notification from libzmq");
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[1].is_empty(), "a notification, not data: {parts:?}");
    parts[0].clone()
}

/// Collects `length` bytes from connection `id` on Sinew's side.
fn sinew_bytes(stream: &Socket, id: &[u8], length: usize) -> Vec<u8> {
    let mut received = Vec::new();
    while received.len() < length {
        let message = stream.recv().expect("data on Sinew's side");
        assert_eq!(message.gets("Peer-Address"), Some("127.0.0.1"));
        let parts = frames(&message);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], id);
        assert!(!parts[1].is_empty() && parts[1].len() <= 8192);
        received.extend_from_slice(&parts[1]);
    }
    assert_eq!(received.len(), length);
    received
}

/// Collects `length` bytes from connection `id` on libzmq's side.
fn zmq_bytes(stream: &zmq::Socket, id: &[u8], length: usize) -> Vec<u8> {
    let mut received = Vec::new();
    while received.len() < length {
        let parts = stream.recv_multipart(0).expect("data on libzmq's side");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], id);
        assert!(!parts[1].is_empty() && parts[1].len() <= 8192);
        received.extend_from_slice(&parts[1]);
    }
    assert_eq!(received.len(), length);
    received
}

/// Waits for Sinew's next message while giving libzmq's socket the calls it
/// needs to act on its own commands (a close, a reconnect).
fn sinew_recv_while_turning(stream: &Socket, turned: &zmq::Socket) -> Message {
    let deadline = Instant::now() + DEADLINE;
    loop {
        turned.get_events().unwrap();
        match stream.recv_with_timeout(Some(Duration::from_millis(5))) {
            Ok(message) => return message,
            Err(error) if error.is_would_block() => {
                assert!(Instant::now() < deadline, "nothing reached Sinew in time");
            }
            Err(error) => panic!("{error}"),
        }
    }
}

fn sinew_send(stream: &Socket, id: &[u8], data: &[u8]) {
    stream
        .send(Message::from_frames([id.to_vec(), data.to_vec()]))
        .unwrap();
}

/// Bytes both ways, large enough to be split into several reads.
fn exchange(sinew: &Socket, sinew_id: &[u8], libzmq: &zmq::Socket, zmq_id: &[u8]) {
    let from_sinew: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    for piece in from_sinew.chunks(30_000) {
        sinew_send(sinew, sinew_id, piece);
    }
    assert_eq!(zmq_bytes(libzmq, zmq_id, from_sinew.len()), from_sinew);
    let from_zmq: Vec<u8> = (0..100_000u32).map(|i| (i % 239) as u8).collect();
    for piece in from_zmq.chunks(30_000) {
        libzmq.send_multipart([zmq_id, piece], 0).unwrap();
    }
    assert_eq!(sinew_bytes(sinew, sinew_id, from_zmq.len()), from_zmq);
}

fn is_generated(id: &[u8]) -> bool {
    id.len() == 5 && id[0] == 0
}

#[test]
fn a_sinew_stream_connects_to_a_libzmq_stream() {
    let zmq_context = zmq::Context::new();
    let server = zmq_stream(&zmq_context);
    server.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = server.get_last_endpoint().unwrap().unwrap();
    let context = Context::new();
    let client = sinew_stream(&context);
    client.connect(&endpoint).unwrap();

    let client_id = sinew_notification(&client);
    let server_id = zmq_notification(&server);
    assert!(is_generated(&client_id) && is_generated(&server_id));
    exchange(&client, &client_id, &server, &server_id);

    // libzmq closes: Sinew is told, then reconnects under the same id.
    server.send_multipart([&server_id[..], b""], 0).unwrap();
    let parts = frames(&sinew_recv_while_turning(&client, &server));
    assert_eq!(
        parts,
        [client_id.clone(), vec![]],
        "disconnect notification"
    );
    assert_eq!(
        sinew_notification(&client),
        client_id,
        "reconnected, same id"
    );
    let new_server_id = zmq_notification(&server);
    assert_ne!(new_server_id, server_id, "a new connection for libzmq");
    exchange(&client, &client_id, &server, &new_server_id);

    // Sinew closes: libzmq is told, and Sinew does not come back.
    client
        .send(Message::from_frames([client_id.clone(), Vec::new()]))
        .unwrap();
    assert_eq!(zmq_notification(&server), new_server_id, "disconnect");
    let failed = client
        .send(Message::from_frames([client_id, b"gone".to_vec()]))
        .unwrap_err();
    assert!(matches!(failed.error, sinew::Error::HostUnreachable));
}

#[test]
fn a_libzmq_stream_connects_to_a_sinew_stream() {
    let context = Context::new();
    let server = sinew_stream(&context);
    server.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = server.last_endpoint().unwrap();
    let zmq_context = zmq::Context::new();
    let client = zmq_stream(&zmq_context);
    client.connect(&endpoint).unwrap();

    let connected = server.recv().unwrap();
    assert_eq!(connected.gets("Peer-Address"), Some("127.0.0.1"));
    let server_id = frames(&connected)[0].clone();
    assert!(frames(&connected)[1].is_empty());
    let client_id = zmq_notification(&client);
    assert!(is_generated(&client_id) && is_generated(&server_id));
    exchange(&server, &server_id, &client, &client_id);

    // Sinew closes: what it sent first arrives, then libzmq is told, and
    // reconnects under its same id; Sinew sees a new connection, numbered next.
    sinew_send(&server, &server_id, b"last words");
    server
        .send(Message::from_frames([server_id.clone(), Vec::new()]))
        .unwrap();
    assert_eq!(zmq_bytes(&client, &client_id, 10), b"last words");
    assert_eq!(zmq_notification(&client), client_id, "disconnect");
    assert_eq!(zmq_notification(&client), client_id, "reconnected, same id");
    let new_server_id = sinew_notification(&server);
    let counter = |id: &[u8]| u32::from_be_bytes(id[1..5].try_into().unwrap());
    assert_eq!(counter(&new_server_id), counter(&server_id).wrapping_add(1));
    let failed = server
        .send(Message::from_frames([server_id, b"gone".to_vec()]))
        .unwrap_err();
    assert!(matches!(failed.error, sinew::Error::HostUnreachable));
    exchange(&server, &new_server_id, &client, &client_id);

    // libzmq closes: Sinew is told.
    client.send_multipart([&client_id[..], b""], 0).unwrap();
    let parts = frames(&sinew_recv_while_turning(&server, &client));
    assert_eq!(parts, [new_server_id, vec![]], "disconnect notification");
}
