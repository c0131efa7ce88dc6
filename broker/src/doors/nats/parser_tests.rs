//! Byte vectors for the parser: the client protocol docs' examples, nats-server's
//! quirks, and every violation with its `-ERR` text and whether it closes.
//!
//! Tests only; nothing here may be used by the parser itself.

use bytes::{Bytes, BytesMut};

use super::*;

type Outcome = Result<ClientOperation, Violation>;

/// Every outcome `input` gives, up to the first closing violation or a need for more.
fn outcomes_with(parser: &mut Parser, input: &[u8]) -> (Vec<Outcome>, BytesMut) {
    let mut buffer = BytesMut::from(input);
    let mut outcomes = Vec::new();
    loop {
        match parser.parse(&mut buffer) {
            Ok(Some(operation)) => outcomes.push(Ok(operation)),
            Ok(None) => break,
            Err(violation) => {
                outcomes.push(Err(violation));
                if violation.close {
                    break;
                }
            }
        }
    }
    (outcomes, buffer)
}

fn outcomes(input: &[u8]) -> Vec<Outcome> {
    outcomes_with(&mut Parser::new(Limits::default()), input).0
}

fn only(input: &[u8]) -> Outcome {
    let mut all = outcomes(input);
    assert_eq!(
        all.len(),
        1,
        "{:?}: {all:?}",
        String::from_utf8_lossy(input)
    );
    all.remove(0)
}

fn refused(kind: ViolationKind) -> Outcome {
    Err(Violation::from(kind))
}

fn publish(subject: &str, reply: Option<&str>, payload: &[u8]) -> Outcome {
    Ok(ClientOperation::Publish(Publish {
        subject: Bytes::copy_from_slice(subject.as_bytes()),
        reply: reply.map(|reply| Bytes::copy_from_slice(reply.as_bytes())),
        header_size: None,
        payload: Bytes::copy_from_slice(payload),
    }))
}

fn header_publish(
    subject: &str,
    reply: Option<&str>,
    header_size: usize,
    payload: &[u8],
) -> Outcome {
    Ok(ClientOperation::Publish(Publish {
        subject: Bytes::copy_from_slice(subject.as_bytes()),
        reply: reply.map(|reply| Bytes::copy_from_slice(reply.as_bytes())),
        header_size: Some(header_size),
        payload: Bytes::copy_from_slice(payload),
    }))
}

fn subscribe(subject: &str, queue: Option<&str>, sid: &str) -> Outcome {
    Ok(ClientOperation::Subscribe(Subscribe {
        subject: Bytes::copy_from_slice(subject.as_bytes()),
        queue: queue.map(|queue| Bytes::copy_from_slice(queue.as_bytes())),
        sid: Bytes::copy_from_slice(sid.as_bytes()),
    }))
}

fn unsubscribe(sid: &str, max_messages: Option<u64>) -> Outcome {
    Ok(ClientOperation::Unsubscribe(Unsubscribe {
        sid: Bytes::copy_from_slice(sid.as_bytes()),
        max_messages,
    }))
}

const CONNECT_HEADERS: &[u8] =
    b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n";

/// `CONNECT` with headers on, then `input`: the outcomes after the `CONNECT`.
fn with_headers(input: &[u8]) -> Vec<Outcome> {
    let mut all = outcomes(&[CONNECT_HEADERS, input].concat());
    assert!(matches!(all.first(), Some(Ok(ClientOperation::Connect(_)))));
    drop(all.remove(0));
    all
}

#[test]
fn connect_from_the_protocol_docs() {
    let input = br#"CONNECT {"verbose":false,"pedantic":false,"tls_required":false,"name":"","lang":"go","version":"1.2.2","protocol":1}"#;
    let Ok(ClientOperation::Connect(connect)) = only(&[&input[..], b"\r\n"].concat()) else {
        panic!("not a CONNECT");
    };
    assert!(!connect.verbose && !connect.pedantic && connect.echo && !connect.headers);
    assert_eq!((connect.lang.as_str(), connect.protocol), ("go", 1));
}

#[test]
fn publish_from_the_protocol_docs() {
    assert_eq!(
        only(b"PUB FOO 11\r\nHello NATS!\r\n"),
        publish("FOO", None, b"Hello NATS!")
    );
    assert_eq!(
        only(b"PUB FRONT.DOOR JOKE.22 11\r\nKnock Knock\r\n"),
        publish("FRONT.DOOR", Some("JOKE.22"), b"Knock Knock")
    );
    assert_eq!(only(b"PUB NOTIFY 0\r\n\r\n"), publish("NOTIFY", None, b""));
}

#[test]
fn header_publish_from_the_protocol_docs() {
    let headers = b"NATS/1.0\r\nBar: Baz\r\n\r\n";
    assert_eq!(headers.len(), 22);
    assert_eq!(
        with_headers(b"HPUB FOO 22 33\r\nNATS/1.0\r\nBar: Baz\r\n\r\nHello NATS!\r\n"),
        [header_publish(
            "FOO",
            None,
            22,
            b"NATS/1.0\r\nBar: Baz\r\n\r\nHello NATS!"
        )]
    );
    let joke = b"NATS/1.0\r\nBREAKFAST: donut\r\nLUNCH: burger\r\n\r\nKnock Knock";
    assert_eq!(
        with_headers(&[&b"HPUB FRONT.DOOR JOKE.22 45 56\r\n"[..], joke, b"\r\n"].concat()),
        [header_publish("FRONT.DOOR", Some("JOKE.22"), 45, joke)]
    );
    assert_eq!(
        with_headers(b"HPUB NOTIFY 22 22\r\nNATS/1.0\r\nBar: Baz\r\n\r\n\r\n"),
        [header_publish("NOTIFY", None, 22, headers)]
    );
    let menu = b"NATS/1.0\r\nBREAKFAST: donut\r\nBREAKFAST: eggs\r\n\r\nYum!";
    assert_eq!(
        with_headers(&[&b"HPUB MORNING.MENU 47 51\r\n"[..], menu, b"\r\n"].concat()),
        [header_publish("MORNING.MENU", None, 47, menu)]
    );
}

#[test]
fn subscriptions_and_keepalives_from_the_protocol_docs() {
    assert_eq!(only(b"SUB FOO 1\r\n"), subscribe("FOO", None, "1"));
    assert_eq!(
        only(b"SUB BAR G1 44\r\n"),
        subscribe("BAR", Some("G1"), "44")
    );
    assert_eq!(only(b"UNSUB 1\r\n"), unsubscribe("1", None));
    assert_eq!(only(b"UNSUB 1 5\r\n"), unsubscribe("1", Some(5)));
    assert_eq!(only(b"PING\r\n"), Ok(ClientOperation::Ping));
    assert_eq!(only(b"PONG\r\n"), Ok(ClientOperation::Pong));
}

#[test]
fn names_ignore_case_and_arguments_take_any_blanks() {
    assert_eq!(only(b"sub foo 1\r\n"), subscribe("foo", None, "1"));
    assert_eq!(only(b"pInG\r\n"), Ok(ClientOperation::Ping));
    assert_eq!(only(b"UnSuB 1\r\n"), unsubscribe("1", None));
    assert_eq!(
        only(b"pub\t \tFOO \t\t R  5 \t\r\nhello\r\n"),
        publish("FOO", Some("R"), b"hello")
    );
    assert_eq!(
        only(b"SUB  \t FOO\t\tQ   9  \r\n"),
        subscribe("FOO", Some("Q"), "9")
    );
}

#[test]
fn a_bare_line_feed_ends_a_line_but_not_a_payload() {
    assert_eq!(only(b"PING\n"), Ok(ClientOperation::Ping));
    assert_eq!(only(b"SUB FOO 1\n"), subscribe("FOO", None, "1"));
    assert_eq!(
        only(b"PUB FOO 5\nhello\r\n"),
        publish("FOO", None, b"hello")
    );
    assert_eq!(
        only(b"PUB FOO 5\nhello\n"),
        refused(ViolationKind::PayloadNotTerminated)
    );
}

#[test]
fn what_follows_ping_pong_and_ok_is_ignored_to_the_line_feed() {
    assert_eq!(only(b"PINGS and more\r\n"), Ok(ClientOperation::Ping));
    assert_eq!(only(b"PONG\rx\r\n"), Ok(ClientOperation::Pong));
    let (ignored, rest) = outcomes_with(&mut Parser::new(Limits::default()), b"+OK anything\r\n");
    assert!(ignored.is_empty() && rest.is_empty());
}

#[test]
fn ok_info_and_a_clients_hmsg_are_accepted_and_ignored() {
    let input = b"+OK\r\nINFO {\"server_id\":\"x\"}\r\nHMSG anything 1 2 3\r\n\r\nPING\r\n";
    assert_eq!(outcomes(input), [Ok(ClientOperation::Ping)]);
    assert_eq!(
        only(b"HMSG FOO 1 5\r\nhello\r\n"),
        refused(ViolationKind::PayloadNotTerminated)
    );
    assert_eq!(
        only(b"INFO {\"port\":\"x\"}\r\n"),
        refused(ViolationKind::MalformedJson)
    );
}

#[test]
fn the_first_byte_of_an_argument_is_taken_as_it_is() {
    // nats-server starts the argument at the first byte after the blanks, whatever it
    // is, without looking at it: a line feed there does not end the line.
    let Ok(ClientOperation::Connect(_)) = only(b"CONNECT\n{}\r\n") else {
        panic!("CONNECT\\n{{}} is a CONNECT for nats-server");
    };
    let Ok(ClientOperation::Connect(_)) = only(b"CONNECT{\"echo\":false}\r\n") else {
        panic!("CONNECT needs no blank");
    };
    assert_eq!(only(b"CONNECT\r\n"), refused(ViolationKind::MalformedJson));
    assert_eq!(only(b"PUB \nFOO 1\r\nx\r\n"), publish("\nFOO", None, b"x"));
    assert_eq!(only(b"SUB \nFOO 1\r\n"), subscribe("FOO", None, "1"));
    assert_eq!(
        only(b"PUB \r\n"),
        refused(ViolationKind::MalformedArguments)
    );
}

#[test]
fn a_carriage_return_anywhere_drops_the_lines_last_byte() {
    // nats-server remembers any `\r` in the argument and drops one byte at the line end.
    assert_eq!(
        only(b"PUB F\rOO 11\r\nHello NATS!\r\n"),
        publish("F\rOO", None, b"Hello NATS!")
    );
    assert_eq!(
        only(b"PUB A\rB 1\n"),
        refused(ViolationKind::MalformedArguments)
    );
    assert_eq!(only(b"SUB FOO 12\rx\n"), subscribe("FOO", None, "12"));
}

#[test]
fn unknown_operations_are_refused_at_the_first_wrong_byte() {
    for input in [
        &b"FOO\r\n"[..],
        b"\r\n",
        b" PING\r\n",
        b"PUX",
        b"PUBX",
        b"PUB\r\n",
        b"HPX",
        b"MSG FOO 1 1\r\n",
        b"RS+ foo\r\n",
        b"A+ foo\r\n",
        b"LS+ foo\r\n",
        b"-ERRx\r\n",
        b"+X\r\n",
        b"CONNEXT {}\r\n",
        b"PING\r\n\r\n",
    ] {
        let all = outcomes(input);
        assert_eq!(
            all.last(),
            Some(&refused(ViolationKind::UnknownOperation)),
            "{input:?}"
        );
    }
    let (all, rest) = outcomes_with(&mut Parser::new(Limits::default()), b"PUXtail");
    assert_eq!(all, [refused(ViolationKind::UnknownOperation)]);
    assert_eq!(rest, b"Xtail"[..]);
}

#[test]
fn authorization_requires_connect_first() {
    let mut parser = Parser::new(Limits::default());
    parser.require_connect();
    let (all, _) = outcomes_with(&mut parser, b"PING\r\n");
    assert_eq!(all, [refused(ViolationKind::AuthorizationRequired)]);
    assert_eq!(
        Violation::from(ViolationKind::AuthorizationRequired).message,
        Some("Authorization Violation")
    );

    let mut parser = Parser::new(Limits::default());
    parser.require_connect();
    let (all, _) = outcomes_with(&mut parser, b"connect {\"user\":\"u\"}\r\nPING\r\n");
    assert!(matches!(
        all.as_slice(),
        [Ok(ClientOperation::Connect(_)), Ok(ClientOperation::Ping)]
    ));
    assert_eq!(parser.options().user, "u");
}

#[test]
fn control_lines_are_refused_as_soon_as_they_pass_the_limit() {
    let limits = Limits {
        max_control_line: 16,
        max_payload: 64,
    };
    // 16 bytes of argument: still waiting, and holding just them.
    let mut parser = Parser::new(limits);
    let (all, rest) = outcomes_with(&mut parser, b"SUB aaaaaaaaaaaaaa 1");
    assert!(all.is_empty());
    assert_eq!(rest.len(), 16);
    // A `\r` does not count (nats-server drops one byte for it).
    let mut buffer = rest;
    buffer.extend_from_slice(b"\r");
    assert_eq!(parser.parse(&mut buffer), Ok(None));
    buffer.extend_from_slice(b"\n");
    assert_eq!(
        parser.parse(&mut buffer),
        subscribe("aaaaaaaaaaaaaa", None, "1").map(Some)
    );
    // The 17th byte without a line end is refused at once.
    let mut parser = Parser::new(limits);
    let (all, _) = outcomes_with(&mut parser, b"SUB aaaaaaaaaaaaaa 12");
    assert_eq!(all, [refused(ViolationKind::MaximumControlLine)]);
    let violation = Violation::from(ViolationKind::MaximumControlLine);
    assert_eq!(
        (violation.message, violation.close),
        (Some("maximum control line exceeded"), true)
    );
    // The same with a line end.
    let mut parser = Parser::new(limits);
    let (all, _) = outcomes_with(&mut parser, b"CONNECT {\"name\":\"abcdefgh\"}\r\n");
    assert_eq!(all, [refused(ViolationKind::MaximumControlLine)]);
    // Blanks before the argument and after PING do not count.
    let mut parser = Parser::new(limits);
    let spaced = [
        &b"PUB"[..],
        &[b' '; 100],
        b"FOO 1\r\nx\r\nPING",
        &[b'x'; 100],
        b"\n",
    ]
    .concat();
    let (all, _) = outcomes_with(&mut parser, &spaced);
    assert_eq!(all, [publish("FOO", None, b"x"), Ok(ClientOperation::Ping)]);
}

#[test]
fn payloads_are_refused_at_their_control_line() {
    let (all, rest) = outcomes_with(
        &mut Parser::new(Limits::default()),
        b"PUB FOO 1048577\r\nmore bytes",
    );
    assert_eq!(all, [refused(ViolationKind::MaximumPayload)]);
    assert_eq!(rest, b"more bytes"[..]);
    assert!(
        outcomes(b"PUB FOO 1048576\r\n").is_empty(),
        "exactly the maximum waits"
    );
    assert_eq!(
        with_headers(b"HPUB FOO 22 1048577\r\n"),
        [refused(ViolationKind::MaximumPayload)]
    );
    let violation = Violation::from(ViolationKind::MaximumPayload);
    assert_eq!(
        (violation.message, violation.close),
        (Some("Maximum Payload Violation"), true)
    );
}

#[test]
fn bad_sizes_and_arguments_close_without_a_message() {
    for (input, kind) in [
        (&b"PUB FOO bar\r\n"[..], ViolationKind::MalformedSize),
        (b"PUB FOO -1\r\n", ViolationKind::MalformedSize),
        (b"PUB FOO 0000000001\r\n", ViolationKind::MalformedSize),
        (b"PUB FOO\r\n", ViolationKind::MalformedArguments),
        (b"PUB A B C 1\r\n", ViolationKind::MalformedArguments),
        (b"SUB FOO\r\n", ViolationKind::MalformedArguments),
        (b"UNSUB\t\r\n", ViolationKind::MalformedArguments),
        (b"UNSUB 1 2 3\r\n", ViolationKind::MalformedArguments),
    ] {
        assert_eq!(only(input), refused(kind), "{input:?}");
        assert_eq!(Violation::from(kind).message, None);
        assert!(Violation::from(kind).close);
    }
    assert_eq!(
        with_headers(b"HPUB FOO 34 33\r\n"),
        [refused(ViolationKind::HeaderSizeExceedsTotal)]
    );
    assert_eq!(
        with_headers(b"HPUB FOO x 33\r\n"),
        [refused(ViolationKind::MalformedSize)]
    );
    assert_eq!(
        with_headers(b"HPUB FOO 33\r\n"),
        [refused(ViolationKind::MalformedArguments)]
    );
}

#[test]
fn header_publish_needs_headers_in_connect() {
    let input = b"HPUB FOO 22 33\r\nNATS/1.0\r\nBar: Baz\r\n\r\nHello NATS!\r\n";
    assert_eq!(only(input), refused(ViolationKind::HeadersNotSupported));
    let all = outcomes(&[&b"CONNECT {\"headers\":false}\r\n"[..], input].concat());
    assert_eq!(
        all.last(),
        Some(&refused(ViolationKind::HeadersNotSupported))
    );
}

#[test]
fn connect_violations() {
    assert_eq!(
        only(b"CONNECT {\"verbose\":tru}\r\n"),
        refused(ViolationKind::MalformedJson)
    );
    assert_eq!(
        only(b"CONNECT {\"verbose\":1}\r\n"),
        refused(ViolationKind::MalformedJson)
    );
    assert_eq!(
        only(b"CONNECT {\"protocol\":2}\r\n"),
        refused(ViolationKind::ClientProtocol)
    );
    assert_eq!(
        only(b"CONNECT {\"no_responders\":true}\r\n"),
        refused(ViolationKind::NoRespondersRequiresHeaders)
    );
    assert_eq!(
        only(b"CONNECT {\"account\":\"A\"}\r\n"),
        refused(ViolationKind::AccountDesignation)
    );
    let texts = [
        (ViolationKind::MalformedJson, None),
        (
            ViolationKind::ClientProtocol,
            Some("invalid client protocol"),
        ),
        (
            ViolationKind::NoRespondersRequiresHeaders,
            Some("no responders requires headers support"),
        ),
        (
            ViolationKind::AccountDesignation,
            Some("Authorization Violation"),
        ),
    ];
    for (kind, message) in texts {
        assert_eq!(Violation::from(kind).message, message);
        assert!(Violation::from(kind).close);
    }
}

#[test]
fn a_second_connect_changes_only_what_it_names() {
    let mut parser = Parser::new(Limits::default());
    let input = b"CONNECT {\"name\":\"a\",\"verbose\":false}\r\nCONNECT {\"echo\":false}\r\n";
    let (all, _) = outcomes_with(&mut parser, input);
    assert_eq!(all.len(), 2);
    let options = parser.options();
    assert_eq!(options.name, "a");
    assert!(!options.verbose && !options.echo && options.pedantic);
}

#[test]
fn a_clients_err_closes_silently() {
    assert_eq!(
        only(b"-ERR 'oops'\r\n"),
        refused(ViolationKind::ClientError)
    );
    assert_eq!(only(b"-err\t'oops'\n"), refused(ViolationKind::ClientError));
}

#[test]
fn an_invalid_subscription_subject_keeps_the_connection() {
    let all = outcomes(b"SUB foo..bar 1\r\nSUB foo.> 2\r\nSUB >.foo 3\r\nPING\r\n");
    assert_eq!(
        all,
        [
            refused(ViolationKind::InvalidSubject),
            subscribe("foo.>", None, "2"),
            refused(ViolationKind::InvalidSubject),
            Ok(ClientOperation::Ping),
        ]
    );
    let violation = Violation::from(ViolationKind::InvalidSubject);
    assert_eq!(
        (violation.message, violation.close),
        (Some("Invalid Subject"), false)
    );
}

#[test]
fn a_pedantic_invalid_publish_is_reported_then_delivered() {
    // Pedantic is nats-server's default until CONNECT says otherwise.
    let all = outcomes(b"PUB foo.* 5\r\nhello\r\nPUB foo.bar 1\r\nx\r\n");
    assert_eq!(
        all,
        [
            refused(ViolationKind::InvalidPublishSubject),
            publish("foo.*", None, b"hello"),
            publish("foo.bar", None, b"x"),
        ]
    );
    let violation = Violation::from(ViolationKind::InvalidPublishSubject);
    assert_eq!(
        (violation.message, violation.close),
        (Some("Invalid Publish Subject"), false)
    );
    let relaxed = outcomes(b"CONNECT {\"pedantic\":false}\r\nPUB foo.* 1\r\nx\r\n");
    assert_eq!(relaxed.get(1), Some(&publish("foo.*", None, b"x")));
}

#[test]
fn a_payload_must_end_with_crlf_and_is_refused_at_the_first_wrong_byte() {
    let mut parser = Parser::new(Limits::default());
    let (all, rest) = outcomes_with(&mut parser, b"PUB FOO 5\r\nhel");
    assert!(all.is_empty());
    assert_eq!(rest, b"hel"[..]);
    let mut buffer = rest;
    buffer.extend_from_slice(b"loX");
    assert_eq!(
        parser.parse(&mut buffer),
        Err(Violation::from(ViolationKind::PayloadNotTerminated))
    );
    assert_eq!(
        only(b"PUB FOO 5\r\nhello\rX"),
        refused(ViolationKind::PayloadNotTerminated)
    );
    assert_eq!(
        Violation::from(ViolationKind::PayloadNotTerminated).message,
        Some("Unknown Protocol Operation")
    );
}

#[test]
fn a_closed_parser_stays_closed() {
    let mut parser = Parser::new(Limits::default());
    let mut buffer = BytesMut::from(&b"FOO\r\nPING\r\n"[..]);
    let first = parser.parse(&mut buffer);
    assert_eq!(first, Err(Violation::from(ViolationKind::UnknownOperation)));
    assert_eq!(parser.parse(&mut buffer), first);
}

#[test]
fn subjects_and_payloads_share_the_receive_buffer() {
    let mut buffer = BytesMut::from(&b"PUB FOO 5\r\nhello\r\n"[..]);
    let start = buffer.as_ptr() as usize;
    let Ok(Some(ClientOperation::Publish(publish))) =
        Parser::new(Limits::default()).parse(&mut buffer)
    else {
        panic!("not a publish");
    };
    assert_eq!(publish.subject.as_ptr() as usize, start + 4);
    assert_eq!(publish.payload.as_ptr() as usize, start + 11);
}
