//! Sinew's sockets with CURVE and PLAIN options against libzmq 4.3.5 (pyzmq,
//! `interop-tests/python/security_peer.py`) over TCP: CURVE in both roles with
//! a multipart and a 1 MiB message, a wrong server key refused by libzmq (its
//! monitor reports the cryptographic failure), a Sinew CURVE server enforcing a
//! ZAP domain with no handler refusing a libzmq client (Sinew's monitor reports
//! the refusal), and a Sinew PLAIN client admitted, or refused, by a libzmq ZAP
//! handler; and libzmq PLAIN and CURVE clients admitted, or refused, by Sinew's
//! own ZAP handler (`ZapHandler`). Every outcome is an event with a deadline,
//! never a silence.

use sinew::curve::KeyPair;
use sinew::zap::Authenticator;
use sinew::{
    Context, EventMask, Message, Monitor, MonitorEvent, SocketEvent, SocketType, ZapHandler,
};
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
    pull.set_zap_domain(b"global").unwrap();
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
    // As libzmq: no handler to ask, so the client is refused without detail
    // (EFAULT), never admitted.
    loop {
        let event = monitor.recv_with_timeout(Some(DEADLINE)).unwrap();
        assert_ne!(event.event, SocketEvent::HandshakeSucceeded, "admitted");
        if event.event == SocketEvent::HandshakeFailedNoDetail {
            assert_eq!(event.value, libc::EFAULT as u32);
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
        let monitor = push.monitor_events(EventMask::ALL).unwrap();
        push.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
        push.send(Message::from_frames([&b"hello"[..]])).unwrap();
        assert_eq!(peer.line(), expected, "password {password:?}");
        // libzmq's refusal is its misspelt ERROR "400", which Sinew reads as
        // libzmq's own client does: an authentication failure.
        let outcome = handshake_outcome(&monitor);
        if password == "s3cret" {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
        } else {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedAuth, 400)
            );
        }
    }
}

/// The first handshake outcome a Sinew monitor reports.
fn handshake_outcome(monitor: &Monitor) -> MonitorEvent {
    loop {
        let event = monitor.recv_with_timeout(Some(DEADLINE)).unwrap();
        if matches!(
            event.event,
            SocketEvent::HandshakeSucceeded
                | SocketEvent::HandshakeFailedAuth
                | SocketEvent::HandshakeFailedProtocol
                | SocketEvent::HandshakeFailedNoDetail
        ) {
            return event;
        }
    }
}

/// A Sinew server PULL bound on TCP, set up by `secure`, with its monitor and
/// port.
fn sinew_server(
    context: &Context,
    secure: impl FnOnce(&sinew::Socket),
) -> (sinew::Socket, Monitor, String) {
    let pull = context.socket(SocketType::Pull).unwrap();
    secure(&pull);
    let monitor = pull.monitor_events(EventMask::ALL).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let port = endpoint.rsplit(':').next().unwrap().to_owned();
    (pull, monitor, port)
}

#[test]
fn sinews_zap_handler_admits_a_libzmq_plain_client_with_the_right_password_only() {
    for (password, admitted) in [("s3cret", true), ("wrong", false)] {
        let context = Context::new();
        let mut rules = Authenticator::new();
        rules.set_password("alice", "s3cret");
        let _handler = ZapHandler::start(&context, rules).unwrap();
        let (pull, monitor, port) = sinew_server(&context, |socket| {
            socket.set_plain_server(true).unwrap();
        });
        let peer = Peer::start(&["plain-push", "alice", password, &port]);
        let outcome = handshake_outcome(&monitor);
        if admitted {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
            assert_eq!(peer.line(), "event HANDSHAKE_SUCCEEDED 0");
            let message = pull.recv_with_timeout(Some(DEADLINE)).unwrap();
            assert_eq!(message.frames()[0].as_ref(), b"hello");
            assert_eq!(message.gets("User-Id"), Some("alice"));
        } else {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedAuth, 400)
            );
            // Sinew sends RFC 23's ERROR "400"; libzmq 4.3's PLAIN client
            // knows only its own misspelt ERROR (0x5E "RROR") and reports an
            // unexpected command. Refused either way.
            assert_eq!(
                peer.line(),
                format!("event HANDSHAKE_FAILED_PROTOCOL {}", 0x1000_0001)
            );
        }
    }
}

#[test]
fn sinews_zap_handler_admits_only_the_listed_libzmq_curve_client() {
    let (server, allowed, stranger) = (keys(), keys(), keys());
    for (client, admitted) in [(&allowed, true), (&stranger, false)] {
        let context = Context::new();
        let mut rules = Authenticator::new();
        rules.allow_curve_key(*allowed.public().as_bytes());
        let _handler = ZapHandler::start(&context, rules).unwrap();
        let (pull, monitor, port) = sinew_server(&context, |socket| {
            socket.set_curve_server(true).unwrap();
            socket
                .set_curve_secret_key(server.secret().clone())
                .unwrap();
        });
        let (public, secret) = (client.public().to_z85(), client.secret().to_z85());
        let peer = Peer::start(&[
            "curve-push-watch",
            &public,
            &secret,
            &server.public().to_z85(),
            &port,
        ]);
        let outcome = handshake_outcome(&monitor);
        if admitted {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
            assert_eq!(peer.line(), "event HANDSHAKE_SUCCEEDED 0");
            let message = pull.recv_with_timeout(Some(DEADLINE)).unwrap();
            assert_eq!(message.frames()[0].as_ref(), b"hello");
            assert_eq!(message.gets("User-Id"), Some(public.as_str()));
        } else {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedAuth, 400)
            );
            assert_eq!(peer.line(), "event HANDSHAKE_FAILED_AUTH 400");
        }
    }
}

/// What the proxy does to one frame the client sends after its handshake.
#[derive(Debug, Clone, Copy)]
enum Meddle {
    /// Flips a bit of the frame's last byte (inside the box's ciphertext).
    Tamper,
    /// Sends the frame twice: the second carries a nonce already used.
    Replay,
}

/// A TCP proxy for one connection to `target`, passing the greeting and the
/// handshake's commands as they are and doing `meddle` to the client's frame
/// number `victim` (0: the first after HELLO and INITIATE); its port.
fn meddling_proxy(target: &str, meddle: Meddle, victim: usize) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let target = target.trim_start_matches("tcp://").to_owned();
    std::thread::spawn(move || {
        // One connection only: the listener closes, so the client cannot come
        // back through it.
        let (mut client, _) = listener.accept().unwrap();
        drop(listener);
        let mut server = TcpStream::connect(&target).unwrap();
        let (mut back_from, mut back_to) =
            (server.try_clone().unwrap(), client.try_clone().unwrap());
        std::thread::spawn(move || std::io::copy(&mut back_from, &mut back_to));
        let mut greeting = [0u8; 64];
        client.read_exact(&mut greeting).unwrap();
        server.write_all(&greeting).unwrap();
        let mut frames = 0usize;
        loop {
            let mut flags = [0u8; 1];
            if client.read_exact(&mut flags).is_err() {
                return;
            }
            let size = if flags[0] & 0x02 != 0 {
                let mut size = [0u8; 8];
                client.read_exact(&mut size).unwrap();
                u64::from_be_bytes(size) as usize
            } else {
                let mut size = [0u8; 1];
                client.read_exact(&mut size).unwrap();
                usize::from(size[0])
            };
            let mut body = vec![0u8; size];
            if client.read_exact(&mut body).is_err() {
                return;
            }
            let header: Vec<u8> = if flags[0] & 0x02 != 0 {
                [&flags[..], &(size as u64).to_be_bytes()].concat()
            } else {
                vec![flags[0], size as u8]
            };
            let mut copies = 1;
            // HELLO and INITIATE are frames 0 and 1; MESSAGEs follow.
            if frames == victim + 2 {
                match meddle {
                    Meddle::Tamper => *body.last_mut().unwrap() ^= 0x01,
                    Meddle::Replay => copies = 2,
                }
            }
            for _ in 0..copies {
                if server.write_all(&header).is_err() || server.write_all(&body).is_err() {
                    return;
                }
            }
            frames += 1;
        }
    });
    port
}

#[test]
fn a_tampered_or_replayed_message_from_libzmq_drops_its_connection_and_the_server_serves_on() {
    for (meddle, code, expected) in [
        (Meddle::Tamper, 0x1100_0001, vec!["0"]),
        (Meddle::Replay, 0x1000_0002, vec!["0", "1"]),
    ] {
        let (server, client) = (keys(), keys());
        let context = Context::new();
        let (pull, monitor, port) = sinew_server(&context, |socket| {
            socket.set_curve_server(true).unwrap();
            socket
                .set_curve_secret_key(server.secret().clone())
                .unwrap();
        });
        let proxy = meddling_proxy(&format!("127.0.0.1:{port}"), meddle, 1);
        let (public, secret) = (client.public().to_z85(), client.secret().to_z85());
        let server_key = server.public().to_z85();
        let _peer = Peer::start(&[
            "curve-push-count",
            &public,
            &secret,
            &server_key,
            &proxy,
            "5",
        ]);
        assert_eq!(
            handshake_outcome(&monitor).event,
            SocketEvent::HandshakeSucceeded
        );
        // As libzmq's CURVE reports a MESSAGE that does not decode, then the
        // connection ends.
        let failure = handshake_outcome(&monitor);
        assert_eq!(
            (failure.event, failure.value),
            (SocketEvent::HandshakeFailedProtocol, code),
            "{meddle:?}"
        );
        loop {
            let event = monitor.recv_with_timeout(Some(DEADLINE)).unwrap();
            if event.event == SocketEvent::Disconnected {
                break;
            }
        }
        // Everything before the meddled frame was delivered before the
        // connection ended, and nothing from it or after.
        let mut delivered = Vec::new();
        while let Ok(message) = pull.try_recv() {
            delivered.push(String::from_utf8(message.frames()[0].to_vec()).unwrap());
        }
        assert_eq!(delivered, expected, "{meddle:?}");
        // The socket serves the next client.
        let (public, secret) = (client.public().to_z85(), client.secret().to_z85());
        let next = Peer::start(&["curve-push-watch", &public, &secret, &server_key, &port]);
        assert_eq!(next.line(), "event HANDSHAKE_SUCCEEDED 0");
        let message = pull.recv_with_timeout(Some(DEADLINE)).unwrap();
        assert_eq!(message.frames()[0].as_ref(), b"hello");
    }
}

#[test]
fn sinews_zap_handler_refuses_a_libzmq_null_client_from_a_denied_address() {
    for (denied, admitted) in [("10.9.8.7", true), ("127.0.0.1", false)] {
        let context = Context::new();
        let mut rules = Authenticator::new();
        rules.deny(denied.to_owned());
        let _handler = ZapHandler::start(&context, rules).unwrap();
        // NULL asks ZAP only on a socket with a ZAP domain, as in libzmq.
        let (pull, monitor, port) = sinew_server(&context, |socket| {
            socket.set_zap_domain(b"global").unwrap();
        });
        let peer = Peer::start(&["null-push-watch", &port]);
        let outcome = handshake_outcome(&monitor);
        if admitted {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
            assert_eq!(peer.line(), "event HANDSHAKE_SUCCEEDED 0");
            let message = pull.recv_with_timeout(Some(DEADLINE)).unwrap();
            assert_eq!(message.frames()[0].as_ref(), b"hello");
        } else {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedAuth, 400)
            );
            assert_eq!(peer.line(), "event HANDSHAKE_FAILED_AUTH 400");
        }
    }
}
