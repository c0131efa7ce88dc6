//! Properties of the NATS door's codec, through its public API: valid sessions decode
//! to what was encoded however the bytes are split; any input decodes the same whole or
//! in pieces; the parser never panics and never waits holding more than its limits;
//! what the server encodes, the parser reads back as nats-server would.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sinew_broker::doors::nats::{
    ClientOperation, Connect, Info, Limits, Parser, Publish, Subscribe, Unsubscribe, Violation,
    ViolationKind, encode_err, encode_info, encode_ok, encode_ping, encode_pong,
};

type Outcome = Result<ClientOperation, Violation>;

/// Feeds `input` cut at `cuts`, collecting outcomes up to the first closing violation,
/// and checks after every `Ok(None)` that the buffer holds no more than the limits.
fn run(limits: Limits, input: &[u8], cuts: &[usize]) -> Vec<Outcome> {
    let mut parser = Parser::new(limits);
    let mut buffer = BytesMut::new();
    let mut outcomes = Vec::new();
    let mut edges: Vec<usize> = cuts.iter().map(|cut| cut % (input.len() + 1)).collect();
    edges.push(input.len());
    edges.sort_unstable();
    let mut start = 0;
    for end in edges {
        buffer.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            match parser.parse(&mut buffer) {
                Ok(Some(operation)) => outcomes.push(Ok(operation)),
                Ok(None) => {
                    let held = limits.max_control_line.max(limits.max_payload) + 1;
                    assert!(buffer.len() <= held, "{} bytes held", buffer.len());
                    assert!(buffer.len() <= limits.max_held_bytes());
                    break;
                }
                Err(violation) => {
                    outcomes.push(Err(violation));
                    if violation.close {
                        return outcomes;
                    }
                }
            }
        }
    }
    outcomes
}

/// A client operation to encode, with what the parser should make of it.
#[derive(Clone, Debug)]
enum Operation {
    Publish(Publish),
    Subscribe(Subscribe),
    Unsubscribe(Unsubscribe),
    Ping,
    Pong,
}

/// How the encoder spells things nats-server reads alike.
#[derive(Clone, Debug)]
struct Spelling {
    lower_case: bool,
    blanks: Vec<&'static [u8]>,
    bare_line_feed: bool,
}

fn name(name: &str, spelling: &Spelling) -> Vec<u8> {
    if spelling.lower_case {
        name.to_ascii_lowercase().into_bytes()
    } else {
        name.as_bytes().to_vec()
    }
}

/// Writes a control line: the name, then each argument after some blanks.
fn control_line(op: &str, arguments: &[&[u8]], spelling: &Spelling, out: &mut Vec<u8>) {
    out.extend(name(op, spelling));
    for (index, argument) in arguments.iter().enumerate() {
        out.extend_from_slice(spelling.blanks[index % spelling.blanks.len()]);
        out.extend_from_slice(argument);
    }
    out.extend_from_slice(if spelling.bare_line_feed {
        b"\n"
    } else {
        b"\r\n"
    });
}

fn encode(operation: &Operation, spelling: &Spelling, out: &mut Vec<u8>) {
    match operation {
        Operation::Publish(publish) => {
            let size = publish.payload.len().to_string();
            let mut arguments: Vec<&[u8]> = vec![&publish.subject];
            arguments.extend(publish.reply.as_deref());
            let header = publish.header_size.map(|size| size.to_string());
            let op = match &header {
                Some(header) => {
                    arguments.push(header.as_bytes());
                    "HPUB"
                }
                None => "PUB",
            };
            arguments.push(size.as_bytes());
            control_line(op, &arguments, spelling, out);
            out.extend_from_slice(&publish.payload);
            out.extend_from_slice(b"\r\n");
        }
        Operation::Subscribe(subscribe) => {
            let mut arguments: Vec<&[u8]> = vec![&subscribe.subject];
            arguments.extend(subscribe.queue.as_deref());
            arguments.push(&subscribe.sid);
            control_line("SUB", &arguments, spelling, out);
        }
        Operation::Unsubscribe(unsubscribe) => {
            let max = unsubscribe.max_messages.map(|max| max.to_string());
            let mut arguments: Vec<&[u8]> = vec![&unsubscribe.sid];
            arguments.extend(max.as_ref().map(String::as_bytes));
            control_line("UNSUB", &arguments, spelling, out);
        }
        Operation::Ping => control_line("PING", &[], spelling, out),
        Operation::Pong => control_line("PONG", &[], spelling, out),
    }
}

fn expected(operation: &Operation) -> ClientOperation {
    match operation.clone() {
        Operation::Publish(publish) => ClientOperation::Publish(publish),
        Operation::Subscribe(subscribe) => ClientOperation::Subscribe(subscribe),
        Operation::Unsubscribe(unsubscribe) => ClientOperation::Unsubscribe(unsubscribe),
        Operation::Ping => ClientOperation::Ping,
        Operation::Pong => ClientOperation::Pong,
    }
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_$-]{1,5}"
}

fn subject() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(token(), 1..4).prop_map(|tokens| Bytes::from(tokens.join(".")))
}

fn subscription_subject() -> impl Strategy<Value = Bytes> {
    (subject(), 0..3u8).prop_map(|(subject, wildcard)| match wildcard {
        0 => subject,
        1 => Bytes::from([&subject[..], b".*"].concat()),
        _ => Bytes::from([&subject[..], b".>"].concat()),
    })
}

fn operation() -> impl Strategy<Value = Operation> {
    let payload = prop::collection::vec(any::<u8>(), 0..40);
    let headers =
        "[A-Za-z]{1,6}: [ -~]{0,8}".prop_map(|line| format!("NATS/1.0\r\n{line}\r\n\r\n"));
    prop_oneof![
        (subject(), prop::option::of(subject()), payload.clone()).prop_map(
            |(subject, reply, payload)| Operation::Publish(Publish {
                subject,
                reply,
                header_size: None,
                payload: Bytes::from(payload),
            })
        ),
        (subject(), prop::option::of(subject()), headers, payload).prop_map(
            |(subject, reply, headers, body)| Operation::Publish(Publish {
                subject,
                reply,
                header_size: Some(headers.len()),
                payload: Bytes::from([headers.as_bytes(), &body].concat()),
            })
        ),
        (
            subscription_subject(),
            prop::option::of(token()),
            "[0-9a-z]{1,6}"
        )
            .prop_map(|(subject, queue, sid)| Operation::Subscribe(Subscribe {
                subject,
                queue: queue.map(Bytes::from),
                sid: Bytes::from(sid),
            })),
        ("[0-9a-z]{1,6}", prop::option::of(1..1_000_000u64)).prop_map(|(sid, max_messages)| {
            Operation::Unsubscribe(Unsubscribe {
                sid: Bytes::from(sid),
                max_messages,
            })
        }),
        Just(Operation::Ping),
        Just(Operation::Pong),
    ]
}

fn spelling() -> impl Strategy<Value = Spelling> {
    let blank = prop::sample::select(vec![&b" "[..], b"\t", b"  ", b" \t ", b"\t\t"]);
    (
        any::<bool>(),
        prop::collection::vec(blank, 1..4),
        any::<bool>(),
    )
        .prop_map(|(lower_case, blanks, bare_line_feed)| Spelling {
            lower_case,
            blanks,
            bare_line_feed,
        })
}

/// A `CONNECT` with headers on and pedantic off, and a random name.
fn connect() -> impl Strategy<Value = (Vec<u8>, Connect)> {
    ("[ -~]{0,12}", any::<bool>(), any::<bool>()).prop_map(|(name, verbose, echo)| {
        let json = serde_json::json!({
            "verbose": verbose, "pedantic": false, "echo": echo, "headers": true,
            "no_responders": true, "name": name, "lang": "rust", "version": "0.1.0", "protocol": 1,
        });
        let line = format!("CONNECT {json}\r\n").into_bytes();
        let connect = Connect {
            verbose,
            pedantic: false,
            echo,
            headers: true,
            no_responders: true,
            name,
            lang: "rust".into(),
            version: "0.1.0".into(),
            protocol: 1,
            ..Connect::default()
        };
        (line, connect)
    })
}

/// Pieces of input: valid operations, nats-server's keywords and separators, and noise.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let words = [
        &b"PUB "[..],
        b"HPUB ",
        b"SUB ",
        b"UNSUB ",
        b"PING",
        b"PONG",
        b"+OK",
        b"-ERR ",
        b"INFO {}",
        b"HMSG ",
        b"CONNECT {\"headers\":true}\r\n",
        b"CONNECT {\"pedantic\":false}\r\n",
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"\t",
        b"foo.bar",
        b"foo.*",
        b"1",
        b"5",
        b"22 33",
        b"NATS/1.0\r\n\r\n",
    ];
    prop_oneof![
        (operation(), spelling()).prop_map(|(operation, spelling)| {
            let mut out = Vec::new();
            encode(&operation, &spelling, &mut out);
            out
        }),
        prop::sample::select(words.to_vec()).prop_map(<[u8]>::to_vec),
        prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn small_limits() -> impl Strategy<Value = Limits> {
    (1..48usize, 0..48usize).prop_map(|(max_control_line, max_payload)| Limits {
        max_control_line,
        max_payload,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_sessions_decode_to_what_was_encoded(
        (connect_line, connect) in connect(),
        operations in prop::collection::vec((operation(), spelling()), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut input = connect_line;
        for (operation, spelling) in &operations {
            encode(operation, spelling, &mut input);
        }
        let outcomes = run(Limits::default(), &input, &cuts);
        let mut wanted = vec![Ok(ClientOperation::Connect(Box::new(connect)))];
        wanted.extend(operations.iter().map(|(operation, _)| Ok(expected(operation))));
        prop_assert_eq!(outcomes, wanted);
    }

    #[test]
    fn any_input_decodes_the_same_whole_or_in_pieces(
        limits in small_limits(),
        fragments in prop::collection::vec(fragment(), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let input = fragments.concat();
        let whole = run(limits, &input, &[]);
        let pieces = run(limits, &input, &cuts);
        prop_assert_eq!(whole, pieces);
    }

    #[test]
    fn random_bytes_never_panic_nor_hold_more_than_the_limits(
        limits in small_limits(),
        input in prop::collection::vec(any::<u8>(), 0..256),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let outcomes = run(limits, &input, &cuts);
        // Nothing follows a closing violation.
        let closes = outcomes.iter().position(|outcome| matches!(outcome, Err(v) if v.close));
        prop_assert!(closes.is_none_or(|index| index + 1 == outcomes.len()));
    }

    #[test]
    fn the_control_line_limit_is_exact_and_independent_of_splits(
        max_control_line in 1..32usize,
        length in 1..40usize,
        carriage_return in prop::option::of(1..40usize),
    ) {
        // `PUB ` then `length` bytes (one of them maybe a `\r`) then `\n`: nats-server
        // measures the argument without its last byte when it holds a `\r`.
        let mut argument = vec![b'a'; length];
        let carriage_return = carriage_return.filter(|&at| at < length);
        if let Some(at) = carriage_return {
            argument[at] = b'\r';
        }
        let measured = length - usize::from(carriage_return.is_some());
        let input = [&b"PUB "[..], &argument, b"\n"].concat();
        let limits = Limits { max_control_line, max_payload: 0 };
        let whole = run(limits, &input, &[]);
        let kind = if measured > max_control_line {
            ViolationKind::MaximumControlLine
        } else {
            ViolationKind::MalformedArguments
        };
        prop_assert_eq!(&whole, &vec![Err(Violation::from(kind))]);
        for cut in 0..input.len() {
            prop_assert_eq!(&run(limits, &input, &[cut]), &whole, "cut at {}", cut);
        }
    }

    #[test]
    fn every_info_we_write_passes_nats_servers_decoder(
        server_name in "\\PC{0,12}",
        nonce in "[ -~]{0,12}",
        connect_urls in prop::collection::vec("[ -~<>&]{0,12}", 0..3),
        client_id in any::<u64>(),
        port in any::<u16>(),
        auth_required in any::<bool>(),
    ) {
        let info = Info {
            server_id: "ID".into(),
            server_name,
            version: "2.11.0".into(),
            port,
            client_id,
            nonce,
            connect_urls,
            auth_required,
            ..Info::default()
        };
        let mut out = BytesMut::new();
        encode_info(&info, &mut out).unwrap();
        out.extend_from_slice(b"PING\r\n");
        // A client's INFO is read and dropped when nats-server's decoder takes it.
        prop_assert_eq!(run(Limits::default(), &out, &[]), vec![Ok(ClientOperation::Ping)]);
    }
}

#[test]
fn what_the_server_writes_reads_back_as_nats_server_reads_it() {
    let mut out = BytesMut::new();
    encode_ping(&mut out);
    encode_pong(&mut out);
    encode_ok(&mut out);
    encode_err("Stale Connection", &mut out);
    let outcomes = run(Limits::default(), &out, &[]);
    assert_eq!(
        outcomes,
        [
            Ok(ClientOperation::Ping),
            Ok(ClientOperation::Pong),
            // +OK is dropped; -ERR from a client closes without a word.
            Err(Violation::from(ViolationKind::ClientError)),
        ]
    );
}

#[test]
fn documented_sessions_decode_the_same_at_every_split() {
    let session = [
        &b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n"[..],
        b"SUB FOO 1\r\nSUB BAR G1 44\r\n",
        b"PUB FOO 11\r\nHello NATS!\r\n",
        b"PUB FRONT.DOOR JOKE.22 11\r\nKnock Knock\r\n",
        b"HPUB FOO 22 33\r\nNATS/1.0\r\nBar: Baz\r\n\r\nHello NATS!\r\n",
        b"PUB NOTIFY 0\r\n\r\n",
        b"UNSUB 1 5\r\nUNSUB 1\r\nPING\r\nPONG\r\n",
    ]
    .concat();
    let whole = run(Limits::default(), &session, &[]);
    assert_eq!(whole.len(), 11);
    assert!(whole.iter().all(Result::is_ok));
    for cut in 0..=session.len() {
        assert_eq!(
            run(Limits::default(), &session, &[cut]),
            whole,
            "cut at {cut}"
        );
    }
    let every_byte: Vec<usize> = (0..session.len()).collect();
    assert_eq!(run(Limits::default(), &session, &every_byte), whole);
}
