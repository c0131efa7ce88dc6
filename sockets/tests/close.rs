//! What closing promises: `disconnect()` and `unbind()` flush what was queued to
//! the peers they drop, within the linger time, and a socket never waits at close
//! for peers that were sent nothing (idle, or never done with their handshake).
//!
//! Each test makes the loss or the wait it guards against certain: messages are
//! still queued when the endpoint goes (the receiver holds its input at a
//! high-water mark of 2, so most of 200 × 64 KiB cannot have left the sender), and
//! the close waits with no linger limit, so a session that waits for an idle peer
//! never finishes within the deadline.

mod util;

use sinew::{Context, Message, Socket, SocketType};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use util::TIMEOUT;

const COUNT: u32 = 200;
const SIZE: usize = 64 * 1024;

fn numbered(index: u32) -> Message {
    let mut body = vec![0u8; SIZE];
    body[..4].copy_from_slice(&index.to_be_bytes());
    Message::from(body)
}

/// A PULL that takes in at most two messages while nobody reads it.
fn slow_pull(context: &Context) -> Socket {
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_high_water_mark(2).unwrap();
    pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
    pull
}

fn receive_all_in_order(pull: &Socket) {
    for expected in 0..COUNT {
        let message = pull
            .recv()
            .unwrap_or_else(|error| panic!("message {expected} of {COUNT} was lost: {error}"));
        let frame = &message.frames()[0];
        assert_eq!(frame.len(), SIZE);
        assert_eq!(frame[..4], expected.to_be_bytes());
    }
}

fn stream_endpoints(name: &str) -> Vec<String> {
    util::endpoints(name)
        .into_iter()
        .filter(|endpoint| !endpoint.starts_with("inproc://"))
        .collect()
}

#[test]
fn disconnect_flushes_what_was_queued() {
    for endpoint in stream_endpoints("disconnect-flush") {
        let context = Context::new();
        let pull = slow_pull(&context);
        pull.bind(&endpoint).unwrap();
        let endpoint = pull.last_endpoint().unwrap();
        let push = context.socket(SocketType::Push).unwrap();
        push.set_linger(Some(TIMEOUT)).unwrap();
        push.connect(&endpoint).unwrap();
        for index in 0..COUNT {
            push.send(numbered(index)).unwrap();
        }
        push.disconnect(&endpoint).unwrap();
        receive_all_in_order(&pull);
    }
}

#[test]
fn unbind_flushes_what_was_queued_to_accepted_peers() {
    for endpoint in stream_endpoints("unbind-flush") {
        let context = Context::new();
        let push = context.socket(SocketType::Push).unwrap();
        push.set_linger(Some(TIMEOUT)).unwrap();
        push.set_send_timeout(Some(TIMEOUT)).unwrap();
        push.bind(&endpoint).unwrap();
        let endpoint = push.last_endpoint().unwrap();
        let pull = slow_pull(&context);
        pull.connect(&endpoint).unwrap();
        // The first send waits for the peer: every message goes to it.
        for index in 0..COUNT {
            push.send(numbered(index)).unwrap();
        }
        push.unbind(&endpoint).unwrap();
        receive_all_in_order(&pull);
    }
}

/// Closes the socket and its context on another thread; true if that finished
/// before the deadline.
/// The time it took is printed (not asserted) for the record.
fn closes_in_time(context: Context, socket: Socket) -> bool {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        drop(socket);
        drop(context);
        let _ = done.send(started.elapsed());
    });
    match finished.recv_timeout(TIMEOUT) {
        Ok(elapsed) => {
            eprintln!("closed in {elapsed:?}");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn close_never_waits_for_idle_peers() {
    const PEERS: usize = 500;
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    // No linger limit: a close that waited for these peers would never end.
    pull.set_linger(None).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let address = pull
        .last_endpoint()
        .unwrap()
        .trim_start_matches("tcp://")
        .to_owned();
    let peers: Vec<TcpStream> = (0..PEERS)
        .map(|_| {
            let mut peer = TcpStream::connect(&address).unwrap();
            peer.set_read_timeout(Some(TIMEOUT)).unwrap();
            // The first 11 bytes of our greeting: the connection was accepted.
            let mut greeting = [0u8; 11];
            peer.read_exact(&mut greeting).unwrap();
            assert_eq!(greeting[0], 0xff);
            peer
        })
        .collect();
    assert!(
        closes_in_time(context, pull),
        "the socket waited at close for {PEERS} peers that were sent nothing"
    );
    drop(peers);
}

/// A raw ZMTP 3.1 greeting and READY for a NULL client of type `socket_type`.
fn raw_handshake(socket_type: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1];
    bytes.extend_from_slice(b"NULL");
    bytes.resize(64, 0);
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend((socket_type.len() as u32).to_be_bytes());
    body.extend_from_slice(socket_type.as_bytes());
    bytes.extend([0x04, body.len() as u8]);
    bytes.extend(body);
    bytes
}

#[test]
fn close_never_waits_for_a_peer_that_took_everything() {
    let context = Context::new();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_linger(None).unwrap();
    push.bind("tcp://127.0.0.1:0").unwrap();
    let address = push
        .last_endpoint()
        .unwrap()
        .trim_start_matches("tcp://")
        .to_owned();
    // A raw PULL that reads the message and then neither reads nor closes.
    let mut peer = TcpStream::connect(&address).unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    peer.write_all(&raw_handshake("PULL")).unwrap();
    push.send("taken").unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !received.ends_with(b"\x00\x05taken") {
        let count = peer.read(&mut buffer).unwrap();
        assert!(count > 0, "closed before the message arrived");
        received.extend_from_slice(&buffer[..count]);
    }
    assert!(
        closes_in_time(context, push),
        "the socket waited at close for a peer that had taken everything"
    );
    drop(peer);
}
