//! Two connections speaking CURVE through the test harness: the greeting, the
//! handshake, multipart and large messages both ways, commands inside boxes, and
//! what a connection does with a wrong key or a replay. Test-only.

use super::*;
use crate::message::Message;
use crate::zmtp::harness::{Pair, Side, take_output};
use crate::zmtp::{Config, Connection, Event, Heartbeat, Security, SocketType};
use std::time::{Duration, Instant};

/// A client config and a server config for a CURVE pair of `client` and `server`
/// socket types.
fn configs(client: SocketType, server: SocketType) -> (Config, Config) {
    let server_keys = KeyPair::generate().unwrap();
    let mut client = Config::new(client);
    client.security = Security::curve_client(KeyPair::generate().unwrap(), *server_keys.public());
    let mut server = Config::new(server);
    server.security = Security::curve_server(server_keys, false);
    (client, server)
}

fn messages(events: &[Event]) -> Vec<&Message> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Message(message) => Some(message),
            _ => None,
        })
        .collect()
}

#[test]
fn the_servers_greeting_announces_curve_as_server() {
    let (client, server) = configs(SocketType::Dealer, SocketType::Router);
    let now = Instant::now();
    let mut client = Connection::new(client, now);
    let mut server = Connection::new(server, now);
    let first = take_output(&mut client);
    server.handle_input(&first, now).unwrap();
    let second = take_output(&mut server);
    let rest = &second[11..];
    assert_eq!(&rest[1..6], b"CURVE");
    assert_eq!(rest[21], 1, "the server's as-server bit is set");
    client.handle_input(&second, now).unwrap();
    let rest = take_output(&mut client);
    assert_eq!(rest[21], 0, "the client's as-server bit is clear");
    assert_eq!(&rest[53..61], b"\x04\xc8\x05HELLO", "then HELLO, 200 bytes");
}

#[test]
fn multipart_and_one_mebibyte_messages_cross_both_ways() {
    let (client, server) = configs(SocketType::Dealer, SocketType::Router);
    let mut pair = Pair::new(client, server);
    pair.chunk = 1000;
    pair.pump().unwrap();
    assert!(pair.left.is_ready() && pair.right.is_ready());
    let [Event::Ready(peer)] = &pair.right_events[..] else {
        panic!("{:?}", pair.right_events);
    };
    assert_eq!(peer.socket_type, SocketType::Dealer);
    pair.chunk = 64 * 1024;
    let multipart = Message::from_frames(["one", "", "three"]);
    let large = Message::from(vec![0x5a; 1 << 20]);
    pair.left.send_message(&multipart).unwrap();
    pair.left.send_message(&large).unwrap();
    pair.right.send_message(&large).unwrap();
    pair.right.send_message(&multipart).unwrap();
    pair.pump().unwrap();
    assert_eq!(messages(&pair.right_events), [&multipart, &large]);
    assert_eq!(messages(&pair.left_events), [&large, &multipart]);
}

#[test]
fn subscriptions_and_heartbeats_travel_inside_boxes() {
    let (mut client, server) = configs(SocketType::Subscribe, SocketType::Publish);
    client.heartbeat = Heartbeat {
        interval: Some(Duration::from_secs(1)),
        timeout: Some(Duration::from_secs(3)),
        ttl: None,
    };
    let mut pair = Pair::new(client, server);
    pair.pump().unwrap();
    pair.left.send_subscribe(b"weather").unwrap();
    pair.pump().unwrap();
    assert!(
        pair.right_events
            .contains(&Event::Subscribe(Bytes::from_static(b"weather")))
    );
    // PINGs go out and PONGs come back, boxed, so the timeout never fires.
    for _ in 0..10 {
        pair.advance(Duration::from_secs(1)).unwrap();
    }
    pair.right
        .send_message(&Message::from("weather: sunny"))
        .unwrap();
    pair.pump().unwrap();
    assert_eq!(
        messages(&pair.left_events),
        [&Message::from("weather: sunny")]
    );
}

#[test]
fn a_wrong_server_key_fails_the_servers_side() {
    let (mut client, server) = configs(SocketType::Push, SocketType::Pull);
    client.security = Security::curve_client(
        KeyPair::generate().unwrap(),
        *KeyPair::generate().unwrap().public(),
    );
    let mut pair = Pair::new(client, server);
    assert_eq!(
        pair.pump(),
        Err((Side::Right, ProtocolError::CurveWrongServerKey))
    );
}

#[test]
fn a_replayed_message_fails_the_connection() {
    let (client, server) = configs(SocketType::Push, SocketType::Pull);
    let mut pair = Pair::new(client, server);
    pair.pump().unwrap();
    pair.left.send_message(&Message::from("pay 10")).unwrap();
    let bytes = take_output(&mut pair.left);
    let now = pair.now;
    pair.right.handle_input(&bytes, now).unwrap();
    assert_eq!(
        pair.right.poll_event(now),
        Ok(Some(Event::Message(Message::from("pay 10"))))
    );
    pair.right.handle_input(&bytes, now).unwrap();
    assert_eq!(
        pair.right.poll_event(now),
        Err(ProtocolError::CurveNonceNotIncreasing {
            command: "MESSAGE",
            nonce: 3,
            last: 3
        })
    );
}

#[test]
fn a_null_peer_is_refused_by_a_curve_one() {
    let (client, _) = configs(SocketType::Push, SocketType::Pull);
    let mut pair = Pair::new(client, Config::new(SocketType::Pull));
    let (_, error) = pair.pump().unwrap_err();
    assert!(
        matches!(error, ProtocolError::MechanismMismatch { .. }),
        "{error}"
    );
}
