//! Sinew's sockets with CURVE and PLAIN options against libzmq 4.3.5 (pyzmq,
//! `interop-tests/python/security_peer.py`) over TCP: CURVE in both roles with
//! a multipart and a 1 MiB message, a wrong server key refused by libzmq (its
//! monitor reports the cryptographic failure), a Sinew CURVE server enforcing a
//! ZAP domain with no handler refusing a libzmq client (Sinew's monitor reports
//! the refusal), and a Sinew PLAIN client admitted, or refused, by a libzmq ZAP
//! handler. Every outcome is an event with a deadline, never a silence.

use sinew::curve::KeyPair;
use sinew::{Context, EventMask, Message, SocketEvent, SocketType};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

/// A security_peer.py process and its output lines.
struct Peer {
    child: Child,
    lines: Receiver<String>,
}

impl Peer {
    fn start(arguments: &[&str]) -> Peer {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/security_peer.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (pip install -r interop-tests/requirements.txt)");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Peer { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(DEADLINE)
            .expect("the libzmq peer said something in time")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keys() -> KeyPair {
    KeyPair::generate().unwrap()
}

#[test]
fn a_libzmq_curve_client_delivers_to_a_sinew_curve_server() {
    let (server, client) = (keys(), keys());
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_curve_server(true).unwrap();
    pull.set_curve_secret_key(server.secret().clone()).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let port = endpoint.rsplit(':').next().unwrap().to_owned();
    let (public, secret) = (client.public().to_z85(), client.secret().to_z85());
    let peer = Peer::start(&[
        "curve-push",
        &public,
        &secret,
        &server.public().to_z85(),
        &port,
    ]);
    let first = pull.recv_with_timeout(Some(DEADLINE)).unwrap();
    let frames: Vec<&[u8]> = first.frames().iter().map(|frame| frame.as_ref()).collect();
    assert_eq!(frames, [&b"one"[..], b"", b"three"]);
    let large = pull.recv_with_timeout(Some(DEADLINE)).unwrap();
    assert_eq!(large.frames()[0].len(), 1 << 20);
    assert!(large.frames()[0].iter().all(|byte| *byte == b'x'));
    assert_eq!(peer.line(), "sent");
}

#[test]
fn a_sinew_curve_client_delivers_to_a_libzmq_curve_server() {
    let (server, client) = (keys(), keys());
    let (public, secret) = (server.public().to_z85(), server.secret().to_z85());
    let peer = Peer::start(&["curve-pull", &public, &secret, "2"]);
    let port = peer.line();
    let context = Context::new();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_curve_secret_key(client.secret().clone()).unwrap();
    push.set_curve_public_key(*client.public()).unwrap();
    push.set_curve_server_key(*server.public()).unwrap();
    push.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    push.send(Message::from_frames([&b"one"[..], b"", b"three"]))
        .unwrap();
    push.send(Message::from_frames([vec![b'x'; 1 << 20]]))
        .unwrap();
    assert_eq!(peer.line(), "got 3 3,0,5");
    assert_eq!(peer.line(), "got 1 1048576");
    assert_eq!(peer.line(), "done");
}

#[test]
fn libzmq_refuses_a_sinew_client_holding_the_wrong_server_key() {
    let (server, client, stranger) = (keys(), keys(), keys());
    let (public, secret) = (server.public().to_z85(), server.secret().to_z85());
    let peer = Peer::start(&["curve-pull-watch", &public, &secret]);
    let port = peer.line();
    let context = Context::new();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_curve_secret_key(client.secret().clone()).unwrap();
    push.set_curve_server_key(*stranger.public()).unwrap();
    push.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    // ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: the HELLO does not open.
    assert_eq!(
        peer.line(),
        format!("event HANDSHAKE_FAILED_PROTOCOL {}", 0x1100_0001)
    );
}

#[test]
fn an_enforced_zap_domain_without_a_handler_refuses_a_libzmq_client() {
    let (server, client) = (keys(), keys());
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_curve_server(true).unwrap();
    pull.set_curve_secret_key(server.secret().clone()).unwrap();
    pull.set_zap_enforce_domain(true).unwrap();
    let monitor = pull.monitor_events(EventMask::ALL).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let port = endpoint.rsplit(':').next().unwrap().to_owned();
    let (public, secret) = (client.public().to_z85(), client.secret().to_z85());
    let _peer = Peer::start(&[
        "curve-push",
        &public,
        &secret,
        &server.public().to_z85(),
        &port,
    ]);
    loop {
        let event = monitor.recv_with_timeout(Some(DEADLINE)).unwrap();
        assert_ne!(event.event, SocketEvent::HandshakeSucceeded, "admitted");
        if event.event == SocketEvent::HandshakeFailedAuth {
            break;
        }
    }
}

#[test]
fn a_libzmq_zap_handler_admits_the_right_plain_password_only() {
    for (password, expected) in [
        ("s3cret", "got 1".to_owned()),
        ("wrong", "event HANDSHAKE_FAILED_AUTH 400".to_owned()),
    ] {
        let peer = Peer::start(&["plain-pull", "alice", "s3cret"]);
        let port = peer.line();
        let context = Context::new();
        let push = context.socket(SocketType::Push).unwrap();
        push.set_plain_username(Some(b"alice")).unwrap();
        push.set_plain_password(Some(password.as_bytes())).unwrap();
        push.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
        push.send(Message::from_frames([&b"hello"[..]])).unwrap();
        assert_eq!(peer.line(), expected, "password {password:?}");
    }
}
