//! Tests of PLAIN: both roles run against each other in memory (each command
//! framed by the encoder and read back by the frame decoder, as on the wire),
//! libzmq's bytes, every refusal, and whole connections for the greeting. Test
//! code only: it must never be compiled into the library.

use super::*;
use crate::zmtp::buffer::{ReadRoom, ReceiveBuffer};
use crate::zmtp::encoder::Encoder;
use crate::zmtp::frame::Decoder;
use crate::zmtp::harness::{Pair, Side, take_output};
use crate::zmtp::mechanism::{
    Mechanism, Null, Progress, Security, USER_ID_PROPERTY, ZapReply, ZapRequest,
};
use crate::zmtp::{Config, Connection, MechanismName, SocketType};
use proptest::prelude::*;
use std::io::IoSlice;
use std::time::Instant;

/// Every command frame body `out` has queued, read back by the frame decoder.
fn frames(out: &mut Encoder) -> Vec<Bytes> {
    let mut bytes = Vec::new();
    loop {
        let mut slices = [IoSlice::new(&[]); 8];
        let count = out.io_slices(&mut slices);
        if count == 0 {
            break;
        }
        let before = bytes.len();
        for slice in &slices[..count] {
            bytes.extend_from_slice(slice);
        }
        out.advance(bytes.len() - before);
    }
    let mut input = ReceiveBuffer::new();
    input.extend_from_slice(&bytes).unwrap();
    let mut decoder = Decoder::new(None);
    let mut bodies = Vec::new();
    while let Some(frame) = decoder.decode(&mut input).unwrap() {
        assert!(frame.command && !frame.more, "{frame:?}");
        bodies.push(frame.body);
    }
    assert!(input.is_empty(), "a partial frame was left");
    bodies
}

/// The one command `out` has queued.
fn only_frame(out: &mut Encoder) -> Bytes {
    let mut bodies = frames(out);
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    bodies.remove(0)
}

fn socket_type(name: &'static str) -> Metadata {
    let mut metadata = Metadata::new();
    metadata.insert(&b"Socket-Type"[..], name.as_bytes());
    metadata
}

fn client(username: &'static str, password: &'static str) -> Box<dyn Mechanism> {
    Plain::Client {
        username: Bytes::from_static(username.as_bytes()),
        password: Bytes::from_static(password.as_bytes()),
    }
    .mechanism(socket_type("DEALER"))
}

fn server(zap_handler: bool) -> Box<dyn Mechanism> {
    Plain::Server {
        zap_handler,
        zap_domain: Bytes::from_static(b"global"),
    }
    .mechanism(socket_type("ROUTER"))
}

fn reply(status_code: &'static str, status_text: &'static str, user_id: &'static str) -> ZapReply {
    ZapReply {
        status_code: Bytes::from_static(status_code.as_bytes()),
        status_text: Bytes::from_static(status_text.as_bytes()),
        user_id: Bytes::from_static(user_id.as_bytes()),
        metadata: Metadata::new(),
    }
}

/// Runs the handshake up to the ZAP request: the client's HELLO into the server.
fn hello(client: &mut dyn Mechanism, server: &mut dyn Mechanism) -> (Encoder, Encoder, ZapRequest) {
    let (mut to_server, mut to_client) = (Encoder::new(), Encoder::new());
    client.handle_start(&mut to_server).unwrap();
    server.handle_start(&mut to_client).unwrap();
    assert_eq!(to_client.pending(), 0, "the client speaks first");
    let hello = only_frame(&mut to_server);
    let Progress::Authenticate(request) = server.handle_command(&hello, &mut to_client).unwrap()
    else {
        panic!("HELLO did not ask ZAP");
    };
    assert_eq!(to_client.pending(), 0, "nothing before the ZAP reply");
    (to_server, to_client, request)
}

/// Runs a whole handshake with the given ZAP reply; returns what each side
/// reported ready (the client's view of the server, the server's of the client).
fn handshake(reply: ZapReply) -> (Metadata, Metadata) {
    let (mut client, mut server) = (client("admin", "secret"), server(true));
    let (mut to_server, mut to_client, _) = hello(client.as_mut(), server.as_mut());
    assert_eq!(
        server.handle_zap_reply(reply, &mut to_client).unwrap(),
        Progress::Continue
    );
    let welcome = only_frame(&mut to_client);
    assert_eq!(
        client.handle_command(&welcome, &mut to_server).unwrap(),
        Progress::Continue
    );
    let initiate = only_frame(&mut to_server);
    let Progress::Ready(of_client) = server.handle_command(&initiate, &mut to_client).unwrap()
    else {
        panic!("INITIATE did not finish the server's handshake");
    };
    let ready = only_frame(&mut to_client);
    let Progress::Ready(of_server) = client.handle_command(&ready, &mut to_server).unwrap() else {
        panic!("READY did not finish the client's handshake");
    };
    assert_eq!(to_server.pending() + to_client.pending(), 0);
    (of_server, of_client)
}

#[test]
fn commands_are_libzmqs_bytes() {
    let (mut client, mut server) = (client("admin", "secret"), server(true));
    let mut to_server = Encoder::new();
    client.handle_start(&mut to_server).unwrap();
    assert_eq!(
        to_server.first_chunk(),
        b"\x04\x13\x05HELLO\x05admin\x06secret",
        "a command frame: name length, HELLO, then each credential after its length"
    );
    let (_, mut to_client, _) = hello(client.as_mut(), server.as_mut());
    server
        .handle_zap_reply(reply("200", "OK", "admin"), &mut to_client)
        .unwrap();
    assert_eq!(to_client.first_chunk(), b"\x04\x08\x07WELCOME");
    let welcome = only_frame(&mut to_client);
    let mut to_server = Encoder::new();
    client.handle_command(&welcome, &mut to_server).unwrap();
    assert_eq!(
        only_frame(&mut to_server),
        &b"\x08INITIATE\x0bSocket-Type\x00\x00\x00\x06DEALER"[..]
    );
}

#[test]
fn right_credentials_are_admitted_after_a_zap_200_with_the_user_id() {
    let (mut client, mut server) = (client("admin", "secret"), server(true));
    let (_, _, request) = hello(client.as_mut(), server.as_mut());
    assert_eq!(
        request,
        ZapRequest {
            domain: Bytes::from_static(b"global"),
            address: Bytes::new(),
            identity: Bytes::new(),
            mechanism: MechanismName::PLAIN,
            credentials: vec![Bytes::from_static(b"admin"), Bytes::from_static(b"secret")],
        },
        "address and identity are the owner's to fill in"
    );
    let mut zap = reply("200", "OK", "admin");
    zap.metadata.insert(&b"Department"[..], &b"ops"[..]);
    let (of_server, of_client) = handshake(zap);
    assert_eq!(of_server.get("Socket-Type").unwrap(), "ROUTER");
    assert_eq!(
        of_server.get(USER_ID_PROPERTY),
        None,
        "the client is told nothing"
    );
    assert_eq!(of_client.get("Socket-Type").unwrap(), "DEALER");
    assert_eq!(of_client.get(USER_ID_PROPERTY).unwrap(), "admin");
    assert_eq!(of_client.get("Department").unwrap(), "ops");
}

#[test]
fn user_id_is_present_when_empty_and_the_client_cannot_set_it() {
    let (_, of_client) = handshake(reply("200", "OK", ""));
    assert_eq!(
        of_client.get(USER_ID_PROPERTY).unwrap(),
        "",
        "as libzmq's set_user_id"
    );
    // A client claiming a user id in INITIATE, and a handler naming a socket type.
    let (mut client, mut server) = (client("admin", "secret"), server(true));
    let (_, mut to_client, _) = hello(client.as_mut(), server.as_mut());
    let mut zap = reply("200", "OK", "admin");
    zap.metadata.insert(&b"Socket-Type"[..], &b"PUB"[..]);
    zap.metadata.insert(&b"Role"[..], &b"handler"[..]);
    server.handle_zap_reply(zap, &mut to_client).unwrap();
    let initiate = Bytes::from_static(
        b"\x08INITIATE\x07User-Id\x00\x00\x00\x04root\x0bSocket-Type\x00\x00\x00\x03REQ\
          \x04Role\x00\x00\x00\x04peer\x05Extra\x00\x00\x00\x01x",
    );
    let Progress::Ready(of_client) = server.handle_command(&initiate, &mut to_client).unwrap()
    else {
        panic!("not ready");
    };
    assert_eq!(of_client.get(USER_ID_PROPERTY).unwrap(), "admin");
    assert_eq!(
        of_client.get("Socket-Type").unwrap(),
        "REQ",
        "the peer's own"
    );
    assert_eq!(
        of_client.get("Role").unwrap(),
        "handler",
        "the handler's wins"
    );
    assert_eq!(of_client.get("Extra").unwrap(), "x");
    assert_eq!(of_client.len(), 4, "one of each name: {of_client:?}");
}

#[test]
fn a_wrong_password_is_refused_with_error_400_on_the_clients_side() {
    let (mut client, mut server) = (client("admin", "wrong"), server(true));
    let (mut to_server, mut to_client, request) = hello(client.as_mut(), server.as_mut());
    assert_eq!(request.credentials[1], "wrong");
    assert_eq!(
        server.handle_zap_reply(reply("400", "No access", ""), &mut to_client),
        Err(ProtocolError::AuthenticationFailed {
            status_code: "400".to_owned(),
            status_text: "No access".to_owned(),
        })
    );
    let error = only_frame(&mut to_client);
    assert_eq!(
        error,
        &b"\x05ERROR\x03400"[..],
        "libzmq sends the status code alone"
    );
    assert_eq!(
        client.handle_command(&error, &mut to_server),
        Err(ProtocolError::AuthenticationFailed {
            status_code: "400".to_owned(),
            status_text: "refused by the server's ZAP handler".to_owned(),
        })
    );
    assert_eq!(to_server.pending(), 0, "no INITIATE");
}

#[test]
fn zap_500_sends_error_500_and_300_sends_nothing() {
    let (mut client, mut server) = (client("admin", "secret"), server(true));
    let (_, mut to_client, _) = hello(client.as_mut(), server.as_mut());
    let refused = server.handle_zap_reply(reply("500", "Internal error", ""), &mut to_client);
    assert!(
        matches!(refused, Err(ProtocolError::AuthenticationFailed { ref status_code, .. }) if status_code == "500")
    );
    assert_eq!(only_frame(&mut to_client), &b"\x05ERROR\x03500"[..]);
    let (mut client, mut server) = (self::client("admin", "secret"), self::server(true));
    let (_, mut to_client, _) = hello(client.as_mut(), server.as_mut());
    let refused = server.handle_zap_reply(reply("300", "Try later", ""), &mut to_client);
    assert!(matches!(
        refused,
        Err(ProtocolError::AuthenticationFailed { .. })
    ));
    assert_eq!(
        to_client.pending(),
        0,
        "a temporary failure drops the client silently"
    );
}

#[test]
fn without_a_zap_handler_every_client_is_refused_without_error() {
    let (mut client, mut server) = (client("admin", "secret"), server(false));
    let (mut to_server, mut to_client) = (Encoder::new(), Encoder::new());
    client.handle_start(&mut to_server).unwrap();
    let hello = only_frame(&mut to_server);
    assert_eq!(
        server.handle_command(&hello, &mut to_client),
        Err(ProtocolError::NoZapHandler)
    );
    assert_eq!(to_client.pending(), 0);
    // A malformed HELLO is still reported as such.
    let mut server = self::server(false);
    assert!(matches!(
        server.handle_command(&Bytes::from_static(b"\x05HELLO\x05a"), &mut to_client),
        Err(ProtocolError::MalformedCommand {
            command: "HELLO",
            ..
        })
    ));
}

#[test]
fn malformed_hello_fails_cleanly() {
    for (body, reason) in [
        (&b"\x05HELLO"[..], "no user name"),
        (b"\x05HELLO\x05adm", "the user name runs past the end"),
        (b"\x05HELLO\x05admin", "no password"),
        (
            b"\x05HELLO\x05admin\x06sec",
            "the password runs past the end",
        ),
        (b"\x05HELLO\x05admin\x06secretX", "bytes after the password"),
        (b"\x05HELLO\x00\x00\x00", "bytes after the password"),
        (b"\x05HELLO\xff", "the user name runs past the end"),
    ] {
        let mut server = server(true);
        assert_eq!(
            server.handle_command(&Bytes::from_static(body), &mut Encoder::new()),
            Err(ProtocolError::MalformedCommand {
                command: "HELLO",
                reason
            }),
            "{body:?}"
        );
    }
    let mut server = server(true);
    let Ok(Progress::Authenticate(request)) = server.handle_command(
        &Bytes::from_static(b"\x05HELLO\x00\x00"),
        &mut Encoder::new(),
    ) else {
        panic!("empty credentials are credentials");
    };
    assert_eq!(request.credentials, [Bytes::new(), Bytes::new()]);
    for body in [&b""[..], b"\x00", b"\x09HELLO"] {
        assert!(matches!(
            server.handle_command(&Bytes::from_static(body), &mut Encoder::new()),
            Err(ProtocolError::MalformedCommand { .. })
        ));
    }
}

#[test]
fn commands_out_of_order_are_refused() {
    let unexpected = |result: Result<Progress, ProtocolError>, command: &str| match result {
        Err(ProtocolError::UnexpectedCommand {
            mechanism: "PLAIN",
            command: ref got,
            ..
        }) => assert_eq!(got, command),
        other => panic!("{command}: {other:?}"),
    };
    let mut out = Encoder::new();
    let initiate = Bytes::from_static(b"\x08INITIATE");
    unexpected(server(true).handle_command(&initiate, &mut out), "INITIATE");
    unexpected(
        server(true).handle_command(&Bytes::from_static(b"\x05READY"), &mut out),
        "READY",
    );
    // A second HELLO while the ZAP handler decides.
    let (mut client, mut server) = (client("a", "b"), server(true));
    let (_, _, _) = hello(client.as_mut(), server.as_mut());
    let hello_again = Bytes::from_static(b"\x05HELLO\x01a\x01b");
    unexpected(server.handle_command(&hello_again, &mut out), "HELLO");
    // The client: READY before WELCOME, WELCOME with data, WELCOME twice.
    let mut client = self::client("a", "b");
    client.handle_start(&mut out).unwrap();
    unexpected(
        client.handle_command(&Bytes::from_static(b"\x05READY"), &mut out),
        "READY",
    );
    let mut client = self::client("a", "b");
    assert!(matches!(
        client.handle_command(&Bytes::from_static(b"\x07WELCOMEx"), &mut out),
        Err(ProtocolError::MalformedCommand {
            command: "WELCOME",
            ..
        })
    ));
    let mut client = self::client("a", "b");
    let welcome = Bytes::from_static(b"\x07WELCOME");
    client.handle_command(&welcome, &mut out).unwrap();
    unexpected(client.handle_command(&welcome, &mut out), "WELCOME");
    unexpected(
        self::client("a", "b").handle_command(&hello_again, &mut out),
        "HELLO",
    );
}

#[test]
fn an_error_from_either_side_ends_the_handshake_with_its_reason() {
    let mut client = client("a", "b");
    let error = Bytes::from_static(b"\x05ERROR\x1cInvalid username or password");
    assert_eq!(
        client.handle_command(&error, &mut Encoder::new()),
        Err(ProtocolError::PeerError {
            reason: "Invalid username or password".to_owned()
        })
    );
    let mut server = server(true);
    assert_eq!(
        server.handle_command(&Bytes::from_static(b"\x05ERROR\x02no"), &mut Encoder::new()),
        Err(ProtocolError::PeerError {
            reason: "no".to_owned()
        })
    );
    assert!(matches!(
        self::client("a", "b")
            .handle_command(&Bytes::from_static(b"\x05ERROR"), &mut Encoder::new()),
        Err(ProtocolError::MalformedCommand {
            command: "ERROR",
            ..
        })
    ));
}

#[test]
fn a_zap_reply_is_taken_only_when_asked_for() {
    let mut out = Encoder::new();
    let mut server = server(true);
    assert_eq!(
        server.handle_zap_reply(ZapReply::allow(), &mut out),
        Err(ProtocolError::UnexpectedZapReply)
    );
    let (mut client, mut server) = (client("a", "b"), self::server(true));
    let (_, mut to_client, _) = hello(client.as_mut(), server.as_mut());
    server
        .handle_zap_reply(ZapReply::allow(), &mut to_client)
        .unwrap();
    assert_eq!(
        server.handle_zap_reply(ZapReply::allow(), &mut to_client),
        Err(ProtocolError::UnexpectedZapReply)
    );
    assert_eq!(
        self::client("a", "b").handle_zap_reply(ZapReply::allow(), &mut out),
        Err(ProtocolError::UnexpectedZapReply)
    );
    assert_eq!(
        Null::new(Metadata::new()).handle_zap_reply(ZapReply::allow(), &mut out),
        Err(ProtocolError::UnexpectedZapReply)
    );
    assert_eq!(out.pending(), 0);
}

#[test]
fn credentials_longer_than_255_bytes_are_cut() {
    let long = Bytes::from(vec![b'u'; 300]);
    let mut client = Plain::Client {
        username: long.clone(),
        password: long,
    }
    .mechanism(Metadata::new());
    let mut server = server(true);
    let (_, _, request) = hello(client.as_mut(), server.as_mut());
    assert_eq!(request.credentials[0].len(), MAX_CREDENTIAL_LENGTH);
    assert_eq!(request.credentials[1].len(), MAX_CREDENTIAL_LENGTH);
}

#[test]
fn settings_name_the_mechanism_and_role_and_hide_the_password() {
    let security = Security::Plain(Plain::Client {
        username: Bytes::from_static(b"admin"),
        password: Bytes::from_static(b"hunter2"),
    });
    assert_eq!(security.name(), MechanismName::PLAIN);
    let mechanism = security.mechanism(Metadata::new());
    assert!(!mechanism.as_server());
    assert_eq!(mechanism.name(), MechanismName::PLAIN);
    for shown in [format!("{security:?}"), format!("{mechanism:?}")] {
        assert!(
            shown.contains("admin") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
    assert!(server(false).as_server());
}

#[test]
fn a_plain_server_announces_itself_as_server_in_its_greeting() {
    let now = Instant::now();
    let mut config = Config::new(SocketType::Router);
    config.security = Security::Plain(Plain::Server {
        zap_handler: true,
        zap_domain: Bytes::new(),
    });
    let mut ours = Connection::new(config, now);
    take_output(&mut ours);
    ours.handle_input(&[0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3], now)
        .unwrap();
    let rest = take_output(&mut ours);
    assert_eq!(&rest[1..21], MechanismName::PLAIN.as_bytes());
    assert_eq!(rest[21], 1, "as-server");
}

fn plain_config(socket_type: SocketType, security: Plain) -> Config {
    let mut config = Config::new(socket_type);
    config.security = Security::Plain(security);
    config
}

#[test]
fn a_connection_without_a_zap_handler_refuses_the_client_and_sends_no_error() {
    let client = plain_config(
        SocketType::Dealer,
        Plain::Client {
            username: Bytes::from_static(b"admin"),
            password: Bytes::from_static(b"secret"),
        },
    );
    let server = plain_config(
        SocketType::Router,
        Plain::Server {
            zap_handler: false,
            zap_domain: Bytes::new(),
        },
    );
    let mut pair = Pair::new(client, server);
    assert_eq!(pair.pump(), Err((Side::Right, ProtocolError::NoZapHandler)));
    assert!(
        take_output(&mut pair.right).is_empty(),
        "no ERROR, as libzmq"
    );
    assert_eq!(pair.left.error(), None);
    assert!(!pair.left.is_ready());
}

#[test]
fn a_plain_client_and_a_null_server_do_not_meet() {
    let client = plain_config(
        SocketType::Dealer,
        Plain::Client {
            username: Bytes::new(),
            password: Bytes::new(),
        },
    );
    let mut pair = Pair::new(client, Config::new(SocketType::Router));
    assert!(matches!(
        pair.pump(),
        Err((_, ProtocolError::MechanismMismatch { .. }))
    ));
}

/// A command body: random bytes, or a PLAIN command name with random data.
fn body_strategy() -> impl Strategy<Value = Bytes> {
    let names = prop::sample::select(vec![
        &b"\x05HELLO"[..],
        b"\x07WELCOME",
        b"\x08INITIATE",
        b"\x05READY",
        b"\x05ERROR",
    ]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from),
        (names, prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(name, data)| {
            let mut body = name.to_vec();
            body.extend(data);
            Bytes::from(body)
        }),
    ]
}

/// A ZAP reply with any status code, text, user id and properties.
fn reply_strategy() -> impl Strategy<Value = ZapReply> {
    let code = prop::sample::select(vec!["200", "300", "400", "500", "201", ""]);
    (code, any::<Vec<u8>>(), any::<Vec<u8>>(), any::<Vec<u8>>()).prop_map(
        |(code, text, user_id, property)| {
            let mut metadata = Metadata::new();
            metadata.insert(&b"X"[..], property);
            ZapReply {
                status_code: Bytes::from_static(code.as_bytes()),
                status_text: text.into(),
                user_id: user_id.into(),
                metadata,
            }
        },
    )
}

#[derive(Debug, Clone)]
enum Input {
    Command(Bytes),
    Zap(ZapReply),
}

fn inputs_strategy() -> impl Strategy<Value = Vec<Input>> {
    prop::collection::vec(
        prop_oneof![
            3 => body_strategy().prop_map(Input::Command),
            1 => reply_strategy().prop_map(Input::Zap),
        ],
        0..10,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_commands_and_replies_never_panic_either_role(
        inputs in inputs_strategy(),
        valid_hello in any::<bool>(),
        zap_handler in any::<bool>(),
    ) {
        let mut roles = [client("admin", "secret"), server(zap_handler)];
        for role in &mut roles {
            let mut out = Encoder::new();
            role.handle_start(&mut out).unwrap();
            if valid_hello && role.as_server() {
                let _ = role.handle_command(&Bytes::from_static(b"\x05HELLO\x01a\x01b"), &mut out);
                let _ = role.handle_zap_reply(ZapReply::allow(), &mut out);
            }
            for input in &inputs {
                let _ = match input {
                    Input::Command(body) => role.handle_command(body, &mut out),
                    Input::Zap(reply) => role.handle_zap_reply(reply.clone(), &mut out),
                };
            }
            // Whatever was queued is well-formed frames.
            frames(&mut out);
        }
    }

    #[test]
    fn any_credentials_reach_the_zap_handler_unchanged(
        username in prop::collection::vec(any::<u8>(), 0..=255),
        password in prop::collection::vec(any::<u8>(), 0..=255),
    ) {
        let mut client = Plain::Client {
            username: username.clone().into(),
            password: password.clone().into(),
        }
        .mechanism(Metadata::new());
        let mut server = server(true);
        let (_, _, request) = hello(client.as_mut(), server.as_mut());
        prop_assert_eq!(request.credentials, vec![Bytes::from(username), Bytes::from(password)]);
    }

    #[test]
    fn random_bytes_after_a_plain_greeting_never_panic_a_connection(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        as_server in any::<bool>(),
    ) {
        let now = Instant::now();
        let security = if as_server {
            Plain::Server { zap_handler: true, zap_domain: Bytes::new() }
        } else {
            Plain::Client { username: Bytes::new(), password: Bytes::new() }
        };
        let mut ours = Connection::new(plain_config(SocketType::Dealer, security), now);
        let mut input = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1];
        input.extend_from_slice(MechanismName::PLAIN.as_bytes());
        input.push(u8::from(!as_server));
        input.resize(64, 0);
        input.extend(bytes);
        if ours.handle_input(&input, now).is_ok() {
            while let Ok(Some(_)) = ours.poll_event(now) {}
        }
    }
}

fn alice_and_a_zap_asking_server() -> Pair {
    let client = plain_config(
        SocketType::Dealer,
        Plain::Client {
            username: Bytes::from_static(b"alice"),
            password: Bytes::from_static(b"s3cret"),
        },
    );
    let server = plain_config(
        SocketType::Router,
        Plain::Server {
            zap_handler: true,
            zap_domain: Bytes::from_static(b"global"),
        },
    );
    Pair::new(client, server)
}

#[test]
fn a_connection_hands_out_its_zap_request_once_and_reads_nothing_until_the_verdict() {
    let mut pair = alice_and_a_zap_asking_server();
    pair.pump().unwrap();
    let request = pair.right.take_zap_request().expect("a ZAP request");
    assert_eq!(request.mechanism, MechanismName::PLAIN);
    assert_eq!(request.domain.as_ref(), b"global");
    assert_eq!(
        request.credentials,
        vec![Bytes::from_static(b"alice"), Bytes::from_static(b"s3cret")]
    );
    assert_eq!(pair.right.take_zap_request(), None, "only once");
    assert!(
        pair.right.read_buffer().unwrap().is_empty(),
        "no input is taken while the handler decides"
    );
    assert!(!pair.right.is_ready() && !pair.left.is_ready());

    let mut reply = ZapReply::allow();
    reply.user_id = Bytes::from_static(b"alice-7");
    pair.right.handle_zap_reply(reply, pair.now).unwrap();
    pair.pump().unwrap();
    assert!(pair.left.is_ready() && pair.right.is_ready());
    let peer = pair.right.peer().expect("the client");
    assert_eq!(
        peer.metadata.get(USER_ID_PROPERTY).map(|id| id.as_ref()),
        Some(&b"alice-7"[..])
    );
    assert!(!pair.right.read_buffer().unwrap().is_empty());
}

#[test]
fn a_connection_told_no_handler_is_bound_refuses_a_plain_client_without_error() {
    let mut pair = alice_and_a_zap_asking_server();
    pair.pump().unwrap();
    assert!(pair.right.take_zap_request().is_some());
    assert_eq!(
        pair.right.handle_zap_unavailable(pair.now),
        Err(ProtocolError::NoZapHandler)
    );
    assert!(
        take_output(&mut pair.right).is_empty(),
        "no ERROR, as libzmq"
    );
    assert_eq!(
        pair.right.handle_zap_reply(ZapReply::allow(), pair.now),
        Err(ProtocolError::NoZapHandler),
        "a failed connection stays failed"
    );
}

#[test]
fn a_zap_reply_nobody_asked_for_fails_the_connection() {
    let mut pair = alice_and_a_zap_asking_server();
    assert_eq!(
        pair.right.handle_zap_reply(ZapReply::allow(), pair.now),
        Err(ProtocolError::UnexpectedZapReply)
    );
}

#[test]
fn libzmqs_misspelt_plain_error_is_read_as_error_while_waiting_for_the_server() {
    // Captured from libzmq 4.3.5's PLAIN server refusing a password: its
    // "\x05ERROR" literal is read by C as the escape \x05E, then "RROR".
    let libzmq_error = Bytes::from_static(&[0x5e, b'R', b'R', b'O', b'R', 3, b'4', b'0', b'0']);
    let (mut client, mut server) = (client("admin", "wrong"), server(true));
    let (mut to_server, _, _) = hello(client.as_mut(), server.as_mut());
    assert_eq!(
        client.handle_command(&libzmq_error, &mut to_server),
        Err(ProtocolError::AuthenticationFailed {
            status_code: "400".to_owned(),
            status_text: "refused by the server's ZAP handler".to_owned(),
        })
    );
    // A truncated one is nothing libzmq sent: it fails as unreadable.
    let mut client = self::client("admin", "wrong");
    let mut out = Encoder::new();
    client.handle_start(&mut out).unwrap();
    let truncated = libzmq_error.slice(..7);
    assert!(!matches!(
        client.handle_command(&truncated, &mut out),
        Err(ProtocolError::PeerError { .. }) | Ok(_)
    ));
}
