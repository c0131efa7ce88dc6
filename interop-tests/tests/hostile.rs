//! Hostile peers on a real socket: garbage, a 2^62-byte frame announcement, the
//! wrong socket type, a malformed READY, and fifty idle connections. Each is
//! disconnected or ignored while the Sinew socket keeps serving a well-behaved
//! libzmq peer, and nothing panics.

use sinew::SocketType;
use sinew_interop_tests::{Contexts, Side, TIMEOUT};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The handshake interval of the endpoint the idle connections use: far below
/// `TIMEOUT`, so only the handshake timer can close them within the deadline.
const HANDSHAKE: Duration = Duration::from_millis(200);

/// A libzmq-style greeting: signature, version 3.1, NULL, client.
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

fn address(endpoint: &str) -> String {
    endpoint.trim_start_matches("tcp://").to_owned()
}

/// Reads (and drops) what the server sends until it closes the connection; fails
/// the test if it is still open at `deadline`.
fn expect_closed_by(stream: &mut TcpStream, deadline: Instant, label: &str) {
    let mut buffer = [0u8; 4096];
    loop {
        let remaining = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("{label} still open at the deadline"));
        stream
            .set_read_timeout(Some(remaining.max(Duration::from_millis(1))))
            .expect("timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("{label} still open at the deadline")
            }
            Err(error) => panic!("{label}: {error}"),
        }
    }
}

/// Writes `bytes` and reads until the server closes the connection; returns what
/// the server sent. Fails the test if the server keeps it open past the timeout.
fn send_and_expect_close(endpoint: &str, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(address(endpoint)).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    // The server may close before taking everything: that is fine.
    let _ = stream.write_all(bytes);
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return received,
            Ok(count) => received.extend_from_slice(&buffer[..count]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return received,
            Err(error) => panic!("the server kept a hostile connection open: {error}"),
        }
    }
}

#[test]
fn hostile_peers_are_dropped_while_a_good_peer_is_served() {
    let contexts = Contexts::new();
    let pull = contexts.socket(Side::Sinew, SocketType::Pull);
    // The hostile peers below get the default handshake interval (30 s, longer
    // than `TIMEOUT`): they must be closed for what they send, not for being slow.
    let endpoint = pull.bind("tcp://127.0.0.1:*");
    // The idle ones get a second endpoint with a short one (a bind keeps the
    // options set before it).
    pull.sinew()
        .set_handshake_interval(Some(HANDSHAKE))
        .expect("handshake interval");
    let idle_endpoint = pull.bind("tcp://127.0.0.1:*");
    let good = contexts.socket(Side::Libzmq, SocketType::Push);
    good.connect(&endpoint);
    let mut round = 0u32;
    let mut check_good_peer = |label: &str| {
        good.send(&[label.as_bytes(), &round.to_be_bytes()]);
        assert_eq!(
            pull.recv(),
            vec![label.as_bytes().to_vec(), round.to_be_bytes().to_vec()],
            "the good peer is still served after {label}"
        );
        round += 1;
    };
    check_good_peer("start");

    // Fifty idle connections: they hold a slot each until the handshake timeout,
    // and the socket keeps serving meanwhile. Then the server closes each one.
    let deadline = Instant::now() + TIMEOUT;
    let mut idle: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(address(&idle_endpoint)).expect("idle connect"))
        .collect();
    check_good_peer("fifty idle connections");
    for (index, stream) in idle.iter_mut().enumerate() {
        expect_closed_by(stream, deadline, &format!("idle connection {index}"));
    }
    check_good_peer("the idle connections timed out");

    // Garbage: not even a signature.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|index| (index * 7919 % 251) as u8)
        .collect();
    send_and_expect_close(&endpoint, &garbage);
    check_good_peer("garbage");

    // A frame announcing 2^62 bytes after a valid handshake.
    let mut huge = greeting();
    huge.extend(ready("PUSH"));
    huge.extend([0x02, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
    send_and_expect_close(&endpoint, &huge);
    check_good_peer("a 2^62-byte frame");

    // The wrong socket type: PUB cannot talk to PULL. We answer with ERROR.
    let mut wrong = greeting();
    wrong.extend(ready("PUB"));
    let answer = send_and_expect_close(&endpoint, &wrong);
    let error_at = answer
        .windows(6)
        .position(|window| window == b"\x05ERROR")
        .expect("an ERROR command before closing");
    assert_eq!(answer[error_at - 2], 0x04, "ERROR is a command frame");
    check_good_peer("the wrong socket type");

    // A malformed READY: a property whose value runs past the end.
    let mut malformed = greeting();
    let mut bad_ready = ready("PUSH");
    bad_ready[21] = 0x7f;
    malformed.extend(bad_ready);
    send_and_expect_close(&endpoint, &malformed);
    check_good_peer("a malformed READY");

    // A second READY after the handshake.
    let mut twice = greeting();
    twice.extend(ready("PUSH"));
    twice.extend(ready("PUSH"));
    send_and_expect_close(&endpoint, &twice);
    check_good_peer("a second READY");

    // A ZMTP 2.0 peer, and a ZMTP 1.0 peer.
    send_and_expect_close(&endpoint, &[0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, 5]);
    send_and_expect_close(&endpoint, &[0x01, 0x00]);
    check_good_peer("old protocol versions");
}
