//! PLAIN and CURVE between Sinew sockets with ZAP (RFC 27) as libzmq runs it:
//! the server's connections ask the handler bound at `inproc://zeromq.zap.01`
//! in the same context, whether that is Sinew's `ZapHandler` or the
//! application's own REP socket. Covered: the right password or key admitted and
//! named in `User-Id`, a wrong one refused with the handler's status code, the
//! defaults without a handler, what a request carries, the handler's metadata
//! on messages, and malformed replies and a vanished handler refused with
//! libzmq's ZAP protocol codes. Every outcome is a monitor event or a message,
//! waited for with a deadline.

use bytes::Bytes;
use sinew::curve::KeyPair;
use sinew::event::protocol_error;
use sinew::zap::{Authenticator, ZAP_ENDPOINT, ZapReply, decode_request, encode_reply};
use sinew::zmtp::Metadata;
use sinew::{
    Context, EventMask, Message, Monitor, MonitorEvent, Socket, SocketEvent, SocketType, ZapHandler,
};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

/// The first handshake outcome the monitor reports.
fn handshake_outcome(monitor: &Monitor) -> MonitorEvent {
    loop {
        let event = monitor
            .recv_with_timeout(Some(DEADLINE))
            .expect("a handshake outcome in time");
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

/// A bound server PULL, set up by `secure`, with its monitor.
fn server(context: &Context, secure: impl FnOnce(&Socket)) -> (Socket, Monitor, String) {
    let pull = context.socket(SocketType::Pull).unwrap();
    secure(&pull);
    pull.set_receive_timeout(Some(DEADLINE)).unwrap();
    let monitor = pull.monitor_events(EventMask::ALL).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    (pull, monitor, endpoint)
}

/// A connected client PUSH, set up by `secure`, that has queued "hello".
fn client(context: &Context, endpoint: &str, secure: impl FnOnce(&Socket)) -> Socket {
    let push = context.socket(SocketType::Push).unwrap();
    secure(&push);
    push.connect(endpoint).unwrap();
    push.send(Message::from("hello")).unwrap();
    push
}

fn plain_client(user: &'static str, password: &'static str) -> impl FnOnce(&Socket) {
    move |socket: &Socket| {
        socket.set_plain_username(Some(user.as_bytes())).unwrap();
        socket
            .set_plain_password(Some(password.as_bytes()))
            .unwrap();
    }
}

fn curve_server(keys: &KeyPair) -> impl FnOnce(&Socket) + '_ {
    move |socket: &Socket| {
        socket.set_curve_server(true).unwrap();
        socket.set_curve_secret_key(keys.secret().clone()).unwrap();
    }
}

fn curve_client<'a>(keys: &'a KeyPair, server: &'a KeyPair) -> impl FnOnce(&Socket) + 'a {
    move |socket: &Socket| {
        socket.set_curve_secret_key(keys.secret().clone()).unwrap();
        socket.set_curve_public_key(*keys.public()).unwrap();
        socket.set_curve_server_key(*server.public()).unwrap();
    }
}

#[test]
fn sinews_zap_handler_admits_the_right_plain_password_only_and_names_the_user() {
    for (password, admitted) in [("s3cret", true), ("wrong", false)] {
        let context = Context::new();
        let mut rules = Authenticator::new();
        rules.set_password("alice", "s3cret");
        let _handler = ZapHandler::start(&context, rules).unwrap();
        let (pull, monitor, endpoint) = server(&context, |socket| {
            socket.set_plain_server(true).unwrap();
        });
        let _push = client(&context, &endpoint, plain_client("alice", password));
        let outcome = handshake_outcome(&monitor);
        if admitted {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
            let message = pull.recv().unwrap();
            assert_eq!(message.first().unwrap().as_ref(), b"hello");
            assert_eq!(message.gets("User-Id"), Some("alice"));
        } else {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedAuth, 400)
            );
        }
    }
}

#[test]
fn a_plain_server_without_a_zap_handler_refuses_everyone() {
    let context = Context::new();
    let (_pull, monitor, endpoint) = server(&context, |socket| {
        socket.set_plain_server(true).unwrap();
    });
    let _push = client(&context, &endpoint, plain_client("alice", "s3cret"));
    let outcome = handshake_outcome(&monitor);
    assert_eq!(
        (outcome.event, outcome.value),
        (SocketEvent::HandshakeFailedNoDetail, libc_efault())
    );
}

/// libzmq reports "no ZAP handler" as EFAULT.
fn libc_efault() -> u32 {
    libc::EFAULT as u32
}

#[test]
fn sinews_zap_handler_admits_only_listed_curve_keys() {
    let (server_keys, allowed, stranger) = (
        KeyPair::generate().unwrap(),
        KeyPair::generate().unwrap(),
        KeyPair::generate().unwrap(),
    );
    for (keys, admitted) in [(&allowed, true), (&stranger, false)] {
        let context = Context::new();
        let mut rules = Authenticator::new();
        rules.allow_curve_key(*allowed.public().as_bytes());
        let _handler = ZapHandler::start(&context, rules).unwrap();
        let (pull, monitor, endpoint) = server(&context, curve_server(&server_keys));
        let _push = client(&context, &endpoint, curve_client(keys, &server_keys));
        let outcome = handshake_outcome(&monitor);
        if admitted {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
            let message = pull.recv().unwrap();
            let user = allowed.public().to_z85();
            assert_eq!(message.gets("User-Id"), Some(user.as_str()));
        } else {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedAuth, 400)
            );
        }
    }
}

#[test]
fn a_curve_server_without_a_handler_admits_any_key_and_names_no_user() {
    let (server_keys, keys) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
    let context = Context::new();
    let (pull, monitor, endpoint) = server(&context, curve_server(&server_keys));
    let _push = client(&context, &endpoint, curve_client(&keys, &server_keys));
    assert_eq!(
        handshake_outcome(&monitor).event,
        SocketEvent::HandshakeSucceeded
    );
    let message = pull.recv().unwrap();
    assert_eq!(message.first().unwrap().as_ref(), b"hello");
    assert_eq!(message.gets("User-Id"), None);
}

#[test]
fn a_curve_server_enforcing_its_domain_refuses_everyone_without_a_handler() {
    let (server_keys, keys) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
    let context = Context::new();
    let (_pull, monitor, endpoint) = server(&context, |socket| {
        curve_server(&server_keys)(socket);
        socket.set_zap_domain(b"global").unwrap();
        socket.set_zap_enforce_domain(true).unwrap();
    });
    let _push = client(&context, &endpoint, curve_client(&keys, &server_keys));
    let outcome = handshake_outcome(&monitor);
    assert_eq!(
        (outcome.event, outcome.value),
        (SocketEvent::HandshakeFailedNoDetail, libc_efault())
    );
}

#[test]
fn a_curve_server_enforcing_no_domain_asks_no_handler_as_libzmq() {
    // libzmq 4.3.5 admits this client unasked even with a handler that would
    // refuse it (curve_server.cpp asks ZAP only with a domain or without
    // ZAP_ENFORCE_DOMAIN).
    let (server_keys, keys) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
    let context = Context::new();
    let _handler = ZapHandler::start(&context, Authenticator::new()).unwrap();
    let (pull, monitor, endpoint) = server(&context, |socket| {
        curve_server(&server_keys)(socket);
        socket.set_zap_enforce_domain(true).unwrap();
    });
    let _push = client(&context, &endpoint, curve_client(&keys, &server_keys));
    assert_eq!(
        handshake_outcome(&monitor).event,
        SocketEvent::HandshakeSucceeded
    );
    assert_eq!(pull.recv().unwrap().gets("User-Id"), None);
}

/// The application's own handler: a REP at the ZAP endpoint that answers one
/// request with `respond`, on a thread; joined for the request it saw.
fn own_handler(
    context: &Context,
    respond: impl FnOnce(&Bytes) -> Option<Message> + Send + 'static,
) -> std::thread::JoinHandle<Vec<Bytes>> {
    let replier = context.socket(SocketType::Reply).unwrap();
    replier.bind(ZAP_ENDPOINT).unwrap();
    replier.set_receive_timeout(Some(DEADLINE)).unwrap();
    std::thread::spawn(move || {
        let request = replier.recv().expect("a ZAP request in time");
        let frames = request.frames().to_vec();
        // A reply stays in the pipe for the connection after the REP closes.
        if let Some(reply) = respond(&frames[1]) {
            replier.send(reply).unwrap();
        }
        frames
    })
}

fn metadata(pairs: &[(&str, &str)]) -> Metadata {
    let mut metadata = Metadata::new();
    for (name, value) in pairs {
        metadata.insert(
            Bytes::from(name.to_string()),
            Bytes::from(value.to_string()),
        );
    }
    metadata
}

#[test]
fn an_applications_own_handler_gets_rfc_27_requests_and_its_metadata_reaches_messages() {
    let context = Context::new();
    let handler = own_handler(&context, |request_id| {
        let reply = ZapReply {
            status_code: Bytes::from_static(b"200"),
            status_text: Bytes::from_static(b"OK"),
            user_id: Bytes::from_static(b"alice-7"),
            metadata: metadata(&[("Tenant", "blue")]),
        };
        Some(encode_reply(request_id, &reply))
    });
    let (pull, monitor, endpoint) = server(&context, |socket| {
        socket.set_plain_server(true).unwrap();
        socket.set_zap_domain(b"global").unwrap();
        socket
            .set_routing_id(Some(Bytes::from_static(b"server-7")))
            .unwrap();
    });
    let _push = client(&context, &endpoint, plain_client("alice", "s3cret"));
    assert_eq!(
        handshake_outcome(&monitor).event,
        SocketEvent::HandshakeSucceeded
    );
    let message = pull.recv().unwrap();
    assert_eq!(message.gets("User-Id"), Some("alice-7"));
    assert_eq!(message.gets("Tenant"), Some("blue"));
    let frames = handler.join().unwrap();
    let (request_id, request) = decode_request(&frames).expect("an RFC 27 request");
    assert_eq!(request_id.as_ref(), b"1", "libzmq's request id");
    assert_eq!(request.domain.as_ref(), b"global");
    assert_eq!(request.address.as_ref(), b"127.0.0.1");
    assert_eq!(request.identity.as_ref(), b"server-7");
    assert_eq!(request.mechanism.trimmed(), b"PLAIN");
    assert_eq!(
        request.credentials,
        vec![Bytes::from_static(b"alice"), Bytes::from_static(b"s3cret")]
    );
}

/// A message of these frames.
fn frames(parts: &[&[u8]]) -> Message {
    Message::from_frames(parts.iter().map(|part| Bytes::copy_from_slice(part)))
}

#[test]
fn a_malformed_zap_reply_refuses_the_client_with_libzmqs_protocol_code() {
    type Reply = fn(&Bytes) -> Message;
    let cases: [(&str, Reply, u32); 4] = [
        (
            "version 2.0",
            |id| frames(&[b"2.0", id, b"200", b"OK", b"", b""]),
            protocol_error::ZAP_BAD_VERSION,
        ),
        (
            "another request id",
            |_| frames(&[b"1.0", b"2", b"200", b"OK", b"", b""]),
            protocol_error::ZAP_BAD_REQUEST_ID,
        ),
        (
            "status 201",
            |id| frames(&[b"1.0", id, b"201", b"OK", b"", b""]),
            protocol_error::ZAP_INVALID_STATUS_CODE,
        ),
        (
            "five frames",
            |id| frames(&[b"1.0", id, b"200", b"OK", b""]),
            protocol_error::ZAP_MALFORMED_REPLY,
        ),
    ];
    for (name, reply, code) in cases {
        let context = Context::new();
        let _handler = own_handler(&context, move |id| Some(reply(id)));
        let (_pull, monitor, endpoint) = server(&context, |socket| {
            socket.set_plain_server(true).unwrap();
        });
        let _push = client(&context, &endpoint, plain_client("alice", "s3cret"));
        let outcome = handshake_outcome(&monitor);
        assert_eq!(
            (outcome.event, outcome.value),
            (SocketEvent::HandshakeFailedProtocol, code),
            "{name}"
        );
    }
}

#[test]
fn a_zap_handler_that_goes_away_without_replying_refuses_the_client() {
    let context = Context::new();
    let handler = own_handler(&context, |_| None);
    let (_pull, monitor, endpoint) = server(&context, |socket| {
        socket.set_plain_server(true).unwrap();
    });
    let _push = client(&context, &endpoint, plain_client("alice", "s3cret"));
    // The handler's REP is closed once it has the request, unanswered.
    handler.join().unwrap();
    let outcome = handshake_outcome(&monitor);
    assert_eq!(
        (outcome.event, outcome.value),
        (
            SocketEvent::HandshakeFailedProtocol,
            protocol_error::ZAP_UNSPECIFIED
        )
    );
}

#[test]
fn a_null_socket_with_a_zap_domain_asks_the_handler_about_each_address() {
    for (allowed, admitted) in [("127.0.0.1", true), ("10.9.8.7", false)] {
        let context = Context::new();
        let mut rules = Authenticator::new();
        rules.allow(allowed.to_owned());
        let _handler = ZapHandler::start(&context, rules).unwrap();
        let (pull, monitor, endpoint) = server(&context, |socket| {
            socket.set_zap_domain(b"global").unwrap();
        });
        let _push = client(&context, &endpoint, |_| {});
        let outcome = handshake_outcome(&monitor);
        if admitted {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
            let message = pull.recv().unwrap();
            assert_eq!(message.gets("User-Id"), Some(""), "asked, so named");
        } else {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedAuth, 400)
            );
        }
    }
}

#[test]
fn a_null_socket_with_a_zap_domain_and_no_handler_admits_unless_enforcing() {
    for enforce in [false, true] {
        let context = Context::new();
        let (pull, monitor, endpoint) = server(&context, |socket| {
            socket.set_zap_domain(b"global").unwrap();
            socket.set_zap_enforce_domain(enforce).unwrap();
        });
        let _push = client(&context, &endpoint, |_| {});
        let outcome = handshake_outcome(&monitor);
        if enforce {
            assert_eq!(
                (outcome.event, outcome.value),
                (SocketEvent::HandshakeFailedNoDetail, libc_efault())
            );
        } else {
            assert_eq!(outcome.event, SocketEvent::HandshakeSucceeded);
            assert_eq!(pull.recv().unwrap().gets("User-Id"), None);
        }
    }
}
