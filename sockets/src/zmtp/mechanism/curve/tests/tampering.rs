//! Tampering with CURVE's traffic: every flipped byte of a handshake command or a
//! MESSAGE is refused, a replayed or reordered MESSAGE is refused, and random input
//! gives errors, never panics. Test-only.

use super::*;
use proptest::prelude::*;

#[test]
fn a_flipped_byte_in_any_handshake_command_fails_the_handshake() {
    for step in [Step::Hello, Step::Welcome, Step::Initiate, Step::Ready] {
        let length = stopped_at(step).1.len();
        for position in 0..length {
            let (mut receiver, body) = stopped_at(step);
            let mut out = Encoder::new();
            let result = receiver.handle_command(&flipped(&body, position), &mut out);
            assert!(
                result.is_err(),
                "{step:?} byte {position} flipped: {result:?}"
            );
            assert!(
                out.is_empty(),
                "{step:?} byte {position}: nothing answers it"
            );
        }
    }
}

#[test]
fn a_flipped_byte_in_a_message_fails_it() {
    let mut run = run();
    let message = seal(&mut run.client, true, false, b"a frame to tamper with");
    for position in 0..message.body.len() {
        let tampered = Frame {
            body: flipped(&message.body, position),
            ..message.clone()
        };
        let result = run.server.decode_frame(tampered);
        assert!(result.is_err(), "byte {position} flipped: {result:?}");
    }
    assert_eq!(
        run.server.decode_frame(message).unwrap().body,
        "a frame to tamper with",
        "the untouched message still opens"
    );
}

#[test]
fn a_replayed_or_reordered_message_is_refused() {
    let mut run = run();
    let first = seal(&mut run.client, false, false, b"one");
    let second = seal(&mut run.client, false, false, b"two");
    run.server.decode_frame(first.clone()).unwrap();
    run.server.decode_frame(second.clone()).unwrap();
    assert_eq!(
        run.server.decode_frame(second),
        Err(ProtocolError::CurveNonceNotIncreasing {
            command: "MESSAGE",
            nonce: 4,
            last: 4
        })
    );
    assert_eq!(
        run.server.decode_frame(first),
        Err(ProtocolError::CurveNonceNotIncreasing {
            command: "MESSAGE",
            nonce: 3,
            last: 4
        })
    );
    // A message from the server cannot be reflected back to it either, whatever
    // its nonce: the direction is part of the nonce.
    for _ in 0..4 {
        seal(&mut run.server, false, false, b"to the client");
    }
    let reflected = seal(&mut run.server, false, false, b"echo");
    assert_eq!(short_nonce_of(&reflected.body, 8), 6);
    assert_eq!(
        run.server.decode_frame(reflected),
        Err(ProtocolError::CurveBadBox {
            what: "MESSAGE box"
        })
    );
}

#[test]
fn nothing_passes_before_the_handshake_is_done() {
    let (mut client, _) = stopped_at(Step::Ready);
    let mut out = Encoder::new();
    client.encode_frame(false, false, &Bytes::from_static(b"secret"), &mut out);
    assert!(out.is_empty(), "no box yet, so nothing goes out");
    let frame = Frame {
        more: false,
        command: false,
        body: Bytes::from_static(b"plain"),
    };
    assert_eq!(
        client.decode_frame(frame),
        Err(ProtocolError::MessageBeforeReady)
    );
}
proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_input_never_panics_either_side(
        name in prop::sample::select(vec![
            &b""[..], b"\x05HELLO", b"\x07WELCOME", b"\x08INITIATE", b"\x05READY",
            b"\x05ERROR", b"\x07MESSAGE",
        ]),
        rest in prop::collection::vec(any::<u8>(), 0..320),
        exact in prop::bool::ANY,
    ) {
        let mut body = name.to_vec();
        body.extend_from_slice(&rest);
        if exact {
            // Commands of exactly the sizes the handshake checks for.
            let size = match name {
                b"\x05HELLO" => 200,
                b"\x07WELCOME" => 168,
                b"\x08INITIATE" => 257,
                _ => body.len(),
            };
            body.resize(size, 0);
            if name == b"\x05HELLO" {
                body[6] = 1;
                body[7] = 0;
            }
        }
        let body = Bytes::from(body);
        for step in [Step::Hello, Step::Welcome, Step::Initiate, Step::Ready] {
            let (mut receiver, _) = stopped_at(step);
            let mut out = Encoder::new();
            prop_assert!(receiver.handle_command(&body, &mut out).is_err());
        }
        let mut run = run();
        for command in [false, true] {
            let frame = Frame { more: false, command, body: body.clone() };
            prop_assert!(run.server.decode_frame(frame.clone()).is_err());
            prop_assert!(run.client.decode_frame(frame).is_err());
        }
    }
}
