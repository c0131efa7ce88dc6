//! Fuzz target: one connection as a session runs it, from the wire to the socket.
//!
//! After a valid libzmq greeting and READY, fuzzed bytes arrive in fuzzed chunks.
//! Decoded events go into a pipe with a small high-water mark, as the session
//! moves them (an item that does not fit waits, and no more input is decoded or
//! read until it does); the socket's end reads that pipe only on some turns, and
//! applies subscriptions to a `PeerSubscriptions` with a small limit, as PUB and
//! XPUB do; the peer reads our output only on some turns. Memory bounds are
//! checked as invariants on every turn: the pipe never passes its mark, our output
//! never piles up (at most one PONG waits), and the subscriptions held never pass
//! their limit. It must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinew::SubscriptionLimit;
use sinew::pipe::{Item, Read, WriteError, pipe_pair};
use sinew::routing::subscriptions::PeerSubscriptions;
use sinew::zmtp::{Config, Connection, Event, SocketType};
use std::time::{Duration, Instant};

const MARK: u32 = 4;
/// Our output while the peer never reads: the greeting's second part, READY,
/// one PONG and one ERROR, each far below this.
const OUTPUT_BOUND: usize = 2048;

fn greeting() -> Vec<u8> {
    let mut bytes = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1];
    bytes.extend_from_slice(b"NULL");
    bytes.resize(64, 0);
    bytes
}

fn ready(socket_type: &str) -> Vec<u8> {
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend((socket_type.len() as u32).to_be_bytes());
    body.extend_from_slice(socket_type.as_bytes());
    let mut frame = vec![0x04, body.len() as u8];
    frame.extend(body);
    frame
}

/// (our type, the peer's type as it names itself)
const PAIRS: [(SocketType, &str); 4] = [
    (SocketType::Publish, "SUB"),
    (SocketType::Push, "PULL"),
    (SocketType::Pull, "PUSH"),
    (SocketType::Router, "DEALER"),
];

fuzz_target!(|data: &[u8]| {
    let [control, schedule, rest @ ..] = data else {
        return;
    };
    let (kind, peer) = PAIRS[usize::from(*control) % PAIRS.len()];
    let mut config = Config::new(kind);
    if control & 0x80 != 0 {
        config.max_message_size = Some(512);
    }
    let mut now = Instant::now();
    let mut connection = Connection::new(config, now);
    let mut handshake = greeting();
    handshake.extend(ready(peer));
    if connection.handle_input(&handshake, now).is_err() {
        return;
    }
    let (mut session_end, mut socket_end) = pipe_pair(MARK, MARK);
    let mut subscriptions = PeerSubscriptions::new();
    let limit = SubscriptionLimit { count: 8, bytes: 64 };
    subscriptions.set_limit(limit);
    let chunk = usize::from(*schedule >> 2).max(1);
    let mut stalled: Option<Item> = None;
    let mut turn = 0u32;
    let mut input = rest.chunks(chunk);
    loop {
        turn += 1;
        // The socket reads on some turns only (an idle application never does).
        if schedule & 1 != 0 && turn % 3 == 0 {
            while let Read::Item(item) = socket_end.read() {
                match item {
                    Item::Subscribe(prefix) => {
                        subscriptions.add(&prefix, socket_end.id());
                    }
                    Item::Cancel(prefix) => {
                        subscriptions.remove(&prefix, socket_end.id());
                    }
                    Item::Message(_) => {}
                }
            }
        }
        // The peer reads our output on some turns only.
        if schedule & 2 != 0 && turn % 5 == 0 {
            let pending = connection.pending_output();
            connection.handle_written(pending);
        }
        // The session: deliver what waits, then decode, then read more.
        if let Some(item) = stalled.take() {
            match session_end.write(item) {
                Ok(()) => {}
                Err(WriteError::Full(item)) => stalled = Some(item),
                Err(WriteError::Closed(_)) => return,
            }
        }
        if stalled.is_none() {
            match connection.poll_event(now) {
                Ok(Some(Event::Message(message))) => stalled = Some(Item::Message(message)),
                Ok(Some(Event::Subscribe(topic))) => stalled = Some(Item::Subscribe(topic)),
                Ok(Some(Event::Cancel(topic))) => stalled = Some(Item::Cancel(topic)),
                Ok(Some(Event::Ready(_))) => {}
                Ok(None) => match input.next() {
                    Some(piece) => {
                        if connection.handle_input(piece, now).is_err() {
                            return;
                        }
                        now += Duration::from_millis(1);
                    }
                    None => break,
                },
                Err(_) => return,
            }
        } else if schedule & 1 == 0 {
            // Stalled and nobody will ever read: input stays with the peer.
            break;
        }
        assert!(session_end.outbound_messages() <= u64::from(MARK));
        assert!(
            connection.pending_output() <= OUTPUT_BOUND,
            "output piled up: {}",
            connection.pending_output()
        );
        let (count, bytes) = subscriptions.held(socket_end.id());
        assert!(count <= limit.count && bytes <= limit.bytes);
        if connection.handle_timeout(now).is_err() {
            return;
        }
    }
});
