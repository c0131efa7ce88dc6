//! The NATS door end to end, against the real binary, with the real nats-server
//! beside it: bad input from raw sockets gets exactly what nats-server answers
//! (its -ERR, a close, or both; compared byte for byte in the same test), a slow
//! consumer is cut off while a fast one gets everything, credentials are checked,
//! and the broker keeps serving everyone else throughout.

mod util;

use std::io::{Read, Write};
use util::{TIMEOUT, answer, client, expect_line, http_get, nats_server, read_line, sinew_broker};

/// Bad (or odd) input, each sent on a fresh connection, then `PING`.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut long_line = b"PUB ".to_vec();
    long_line.extend(std::iter::repeat_n(b'a', 1 << 20));
    vec![
        ("garbage", b"FOO BAR\r\n".to_vec()),
        ("a control line of 1 MiB", long_line),
        ("PUB with a wrong size", b"PUB a 3\r\nhello\r\n".to_vec()),
        ("a payload over the maximum", b"PUB a 2000000\r\n".to_vec()),
        (
            "CONNECT with broken JSON",
            b"CONNECT {\"verbose\":\r\n".to_vec(),
        ),
        ("a non-numeric PUB size", b"PUB a x\r\nhi\r\n".to_vec()),
        ("SUB to an invalid subject", b"SUB a..b 1\r\n".to_vec()),
        (
            "a pedantic PUB to a wildcard",
            b"CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB a.* 2\r\nhi\r\n".to_vec(),
        ),
        (
            "no_responders without headers",
            b"CONNECT {\"no_responders\":true}\r\n".to_vec(),
        ),
        (
            "verbose SUB and UNSUB",
            b"CONNECT {\"verbose\":true}\r\nSUB foo 1\r\nUNSUB 1\r\n".to_vec(),
        ),
        (
            "a request nobody answers",
            b"CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n\
              SUB _INBOX.r 7\r\nPUB nobody.home _INBOX.r 2\r\nhi\r\n"
                .to_vec(),
        ),
        (
            "HPUB without headers",
            b"HPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\n".to_vec(),
        ),
        (
            "lower-case operations",
            b"sub foo 1\r\npub foo 2\r\nhi\r\n".to_vec(),
        ),
        (
            "a non-pedantic PUB to a wildcard subject, and to an empty token",
            b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB foo.x 1\r\n\
              SUB foo.* 2\r\nPUB foo.* 2\r\nhi\r\nPUB foo..x 2\r\nno\r\n"
                .to_vec(),
        ),
    ]
}

#[test]
fn bad_input_gets_what_nats_server_answers() {
    let sinew = sinew_broker(&[]);
    let reference = nats_server(&[]);
    let mut good = client(sinew.nats, "{\"verbose\":false}");
    good.get_mut().write_all(b"SUB still.here 1\r\n").unwrap();
    for (name, input) in cases() {
        let ours = answer(sinew.nats, &input);
        let theirs = answer(reference.nats, &input);
        assert_eq!(ours, theirs, "{name}: Sinew (left) and nats-server (right)");
        // Everyone else is still served.
        good.get_mut()
            .write_all(b"PUB still.here 2\r\nok\r\n")
            .unwrap();
        expect_line(&mut good, "MSG still.here 1 2");
        expect_line(&mut good, "ok");
    }
}

#[test]
fn wrong_credentials_are_refused_as_nats_server_refuses_them() {
    let sinew = sinew_broker(&["--token", "s3cret"]);
    let reference = nats_server(&["--auth", "s3cret"]);
    for connect in [
        &b"CONNECT {\"auth_token\":\"wrong\"}\r\n"[..],
        b"CONNECT {}\r\n",
        b"SUB foo 1\r\n",
    ] {
        assert_eq!(
            answer(sinew.nats, connect),
            answer(reference.nats, connect),
            "{}",
            String::from_utf8_lossy(connect)
        );
    }
    let mut right = client(sinew.nats, "{\"auth_token\":\"s3cret\",\"verbose\":false}");
    right.get_mut().write_all(b"PING\r\n").unwrap();
    expect_line(&mut right, "PONG");
    let users = sinew_broker(&["--user", "alice", "--password", "pw"]);
    let refused = answer(
        users.nats,
        b"CONNECT {\"user\":\"alice\",\"pass\":\"no\"}\r\n",
    );
    assert_eq!(refused, "-ERR 'Authorization Violation'\r\n");
    let mut alice = client(
        users.nats,
        "{\"user\":\"alice\",\"pass\":\"pw\",\"verbose\":false}",
    );
    alice.get_mut().write_all(b"PING\r\n").unwrap();
    expect_line(&mut alice, "PONG");
}

#[test]
fn a_slow_consumer_is_cut_off_while_a_fast_one_gets_everything() {
    const MESSAGES: usize = 20_000;
    const SIZE: usize = 1024;
    let sinew = sinew_broker(&["--max-pending", "4194304"]);
    let http = sinew.http.unwrap();
    // The slow subscriber never reads, with a small receive buffer.
    let slow = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    slow.set_recv_buffer_size(4096).unwrap();
    slow.connect(&sinew.nats.into()).unwrap();
    let mut slow: std::net::TcpStream = slow.into();
    slow.write_all(b"CONNECT {\"verbose\":false}\r\nSUB load 1\r\nPING\r\n")
        .unwrap();
    let mut fast = client(sinew.nats, "{\"verbose\":false}");
    fast.get_mut().write_all(b"SUB load 1\r\nPING\r\n").unwrap();
    expect_line(&mut fast, "PONG");
    // The slow one's subscription is in place once its PONG has been written;
    // its INFO and PONG fit in its receive buffer, so wait for them there.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    slow.set_read_timeout(Some(TIMEOUT)).unwrap();
    while !head.ends_with(b"PONG\r\n") {
        assert_eq!(
            slow.read(&mut byte).unwrap(),
            1,
            "the slow client was closed early"
        );
        head.push(byte[0]);
    }
    let publisher = std::thread::spawn(move || {
        let payload = vec![b'x'; SIZE];
        let operations = (0..MESSAGES).map(|_| {
            let mut operation = format!("PUB load {SIZE}\r\n").into_bytes();
            operation.extend_from_slice(&payload);
            operation.extend_from_slice(b"\r\n");
            operation
        });
        publish_all(sinew.nats, "{\"verbose\":false}", operations);
        sinew
    });
    for index in 0..MESSAGES {
        let line = read_line(&mut fast);
        assert_eq!(line, format!("MSG load 1 {SIZE}"), "message {index}");
        let payload = read_line(&mut fast);
        assert_eq!(payload.len(), SIZE);
    }
    let sinew = publisher.join().unwrap();
    let varz: serde_json::Value = serde_json::from_str(&http_get(http, "/varz")).unwrap();
    assert_eq!(varz["slow_consumers"], 1, "{varz}");
    assert!(
        varz["mem"].as_u64().unwrap() < 256 << 20,
        "memory stayed bounded: {varz}"
    );
    // The slow client was closed: its reads end.
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    drop(sinew);
}

/// Connects a publisher and sends every operation in writes of about 256 KiB,
/// then waits for the PONG that says the broker handled them all.
fn publish_all(
    address: std::net::SocketAddr,
    connect: &str,
    operations: impl Iterator<Item = Vec<u8>>,
) {
    let mut publisher = client(address, connect);
    let mut batch = Vec::new();
    for operation in operations {
        batch.extend_from_slice(&operation);
        if batch.len() > 256 * 1024 {
            publisher.get_mut().write_all(&batch).unwrap();
            batch.clear();
        }
    }
    publisher.get_mut().write_all(&batch).unwrap();
    publisher.get_mut().write_all(b"PING\r\n").unwrap();
    expect_line(&mut publisher, "PONG");
}

/// Message `index`'s payload: its size and bytes differ from message to message
/// (and include line ends), so a byte out of place shows.
fn payload(index: usize) -> Vec<u8> {
    let size = 600 + (index * 7919) % 20_000;
    (0..size)
        .map(|at| ((index * 31 + at) % 251) as u8)
        .collect()
}

/// Reads exactly `size` bytes and the line end after them.
fn read_payload(reader: &mut std::io::BufReader<std::net::TcpStream>, size: usize) -> Vec<u8> {
    let mut payload = vec![0u8; size + 2];
    reader
        .read_exact(&mut payload)
        .expect("a payload before the timeout");
    assert_eq!(&payload[size..], b"\r\n");
    payload.truncate(size);
    payload
}

#[test]
fn a_subscriber_that_reads_late_gets_every_byte_in_order() {
    // Payloads of 600 B to 20 KiB, fanned out to a subscriber that reads at
    // once (with headers) and one that reads only after everything was
    // published (without): the late one's socket fills, so what waits for it
    // is written over many turns, partly and after its turn's payloads are
    // gone.
    const MESSAGES: usize = 2_000;
    const HEADERS: &[u8] = b"NATS/1.0\r\nIndex: 1\r\n\r\n";
    let sinew = sinew_broker(&[]);
    let mut late = client(sinew.nats, "{\"verbose\":false}");
    late.get_mut().write_all(b"SUB load 1\r\nPING\r\n").unwrap();
    expect_line(&mut late, "PONG");
    let mut eager = client(sinew.nats, "{\"verbose\":false,\"headers\":true}");
    eager
        .get_mut()
        .write_all(b"SUB load 2\r\nPING\r\n")
        .unwrap();
    expect_line(&mut eager, "PONG");
    let address = sinew.nats;
    let publisher = std::thread::spawn(move || {
        let operations = (0..MESSAGES).map(|index| {
            let payload = payload(index);
            let total = HEADERS.len() + payload.len();
            let mut operation = format!("HPUB load {} {total}\r\n", HEADERS.len()).into_bytes();
            operation.extend_from_slice(HEADERS);
            operation.extend_from_slice(&payload);
            operation.extend_from_slice(b"\r\n");
            operation
        });
        publish_all(address, "{\"verbose\":false,\"headers\":true}", operations);
    });
    for index in 0..MESSAGES {
        let expected = payload(index);
        let total = HEADERS.len() + expected.len();
        let line = read_line(&mut eager);
        assert_eq!(line, format!("HMSG load 2 {} {total}", HEADERS.len()));
        let received = read_payload(&mut eager, total);
        assert_eq!(&received[..HEADERS.len()], HEADERS, "message {index}");
        assert!(received[HEADERS.len()..] == expected[..], "message {index}");
    }
    // Everything was routed once the publisher's PONG came back.
    publisher.join().unwrap();
    for index in 0..MESSAGES {
        let expected = payload(index);
        let line = read_line(&mut late);
        assert_eq!(
            line,
            format!("MSG load 1 {}", expected.len()),
            "message {index}"
        );
        let received = read_payload(&mut late, expected.len());
        assert!(received == expected, "message {index}");
    }
    late.get_mut().write_all(b"PING\r\n").unwrap();
    expect_line(&mut late, "PONG");
}

#[test]
fn monitoring_reports_what_happened() {
    let sinew = sinew_broker(&[]);
    let http = sinew.http.unwrap();
    assert!(http_get(http, "/healthz").contains("ok"));
    let mut subscriber = client(sinew.nats, "{\"verbose\":false,\"name\":\"watcher\"}");
    subscriber
        .get_mut()
        .write_all(b"SUB m.> 1\r\nPING\r\n")
        .unwrap();
    expect_line(&mut subscriber, "PONG");
    let mut publisher = client(sinew.nats, "{\"verbose\":false}");
    publisher
        .get_mut()
        .write_all(b"PUB m.a 3\r\nabc\r\nPING\r\n")
        .unwrap();
    expect_line(&mut publisher, "PONG");
    expect_line(&mut subscriber, "MSG m.a 1 3");
    expect_line(&mut subscriber, "abc");
    let varz: serde_json::Value = serde_json::from_str(&http_get(http, "/varz")).unwrap();
    assert_eq!(varz["connections"], 2);
    assert_eq!(varz["in_msgs"], 1);
    assert_eq!(varz["out_msgs"], 1);
    assert_eq!(varz["in_bytes"], 3);
    assert_eq!(varz["subscriptions"], 1);
    let connz: serde_json::Value = serde_json::from_str(&http_get(http, "/connz")).unwrap();
    assert_eq!(connz["num_connections"], 2);
    assert!(
        connz["connections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|connection| {
                connection["name"] == "watcher" && connection["subscriptions"] == 1
            })
    );
    let subsz: serde_json::Value = serde_json::from_str(&http_get(http, "/subsz")).unwrap();
    assert_eq!(subsz["num_subscriptions"], 1);
    let metrics = http_get(http, "/metrics");
    assert!(metrics.contains("sinew_in_msgs_total 1"), "{metrics}");
    assert!(metrics.contains("sinew_clients 2"), "{metrics}");
}

#[test]
fn too_many_connections_are_refused() {
    let sinew = sinew_broker(&["--max-connections", "1"]);
    let _first = client(sinew.nats, "{\"verbose\":false}");
    assert_eq!(
        answer(sinew.nats, b""),
        "-ERR 'maximum connections exceeded'\r\n"
    );
}

#[test]
fn a_client_that_never_answers_pings_is_closed_as_stale_as_nats_server_does() {
    let sinew = sinew_broker(&["--ping-interval-ms", "100", "--max-pings-out", "2"]);
    let config = util::TempDir::new("ping");
    let file = config.0.join("nats.conf");
    std::fs::write(&file, "ping_interval: \"100ms\"\nping_max: 2\n").unwrap();
    let reference = nats_server(&["-c", file.to_str().unwrap()]);
    for server in [sinew.nats, reference.nats] {
        let (mut stream, _) = util::raw(server);
        stream
            .write_all(b"CONNECT {\"verbose\":false}\r\n")
            .unwrap();
        let mut received = Vec::new();
        let _ = stream.read_to_end(&mut received);
        assert_eq!(
            String::from_utf8_lossy(&received),
            "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n",
            "{server}"
        );
    }
}
