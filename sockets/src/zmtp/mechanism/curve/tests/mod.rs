//! The CURVE mechanisms driven against each other in memory, command by command
//! (`tampering.rs`: flipped bytes, replays and random input; `zap.rs`: ZAP's
//! verdicts), and two connections speaking CURVE (`connection.rs`).
//! Test-only: it must never be compiled into the library.

mod connection;
mod tampering;
mod zap;

use super::*;
use crate::curve::KeyPair;
use crate::zmtp::ProtocolError;
use crate::zmtp::buffer::{ReadRoom, ReceiveBuffer};
use crate::zmtp::command::Metadata;
use crate::zmtp::encoder::Encoder;
use crate::zmtp::frame::{Decoder, Frame};
use crate::zmtp::greeting::MechanismName;
use crate::zmtp::mechanism::{Mechanism, Progress, USER_ID_PROPERTY};
use bytes::Bytes;

/// Every frame an encoder holds, decoded.
pub(super) fn frames(out: &mut Encoder) -> Vec<Frame> {
    let mut input = ReceiveBuffer::new();
    while !out.is_empty() {
        let chunk = out.first_chunk().to_vec();
        out.advance(chunk.len());
        input.extend_from_slice(&chunk).unwrap();
    }
    let mut decoder = Decoder::new(None);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(&mut input).unwrap() {
        frames.push(frame);
    }
    frames
}

/// The one command frame's body an encoder holds.
pub(super) fn command(out: &mut Encoder) -> Bytes {
    let frames = frames(out);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert!(frames[0].command && !frames[0].more);
    frames[0].body.clone()
}

pub(super) fn metadata(socket_type: &str) -> Metadata {
    let mut metadata = Metadata::new();
    metadata.insert(
        "Socket-Type",
        Bytes::copy_from_slice(socket_type.as_bytes()),
    );
    metadata
}

/// A client and a server, and the commands they exchanged.
pub(super) struct Run {
    pub client: CurveClient,
    pub server: CurveServer,
    pub client_keys: KeyPair,
    pub hello: Bytes,
    pub welcome: Bytes,
    pub initiate: Bytes,
    pub ready: Bytes,
}

/// Runs a handshake up to (not including) the server's answer to INITIATE.
pub(super) fn run_to_initiate(zap: bool) -> Run {
    let server_keys = KeyPair::generate().unwrap();
    let client_keys = KeyPair::generate().unwrap();
    let mut client = CurveClient::new(
        client_keys.clone(),
        *server_keys.public(),
        metadata("DEALER"),
    );
    let mut server = CurveServer::new(server_keys, zap, metadata("ROUTER"));
    let mut out = Encoder::new();
    client.handle_start(&mut out).unwrap();
    server.handle_start(&mut out).unwrap();
    let hello = command(&mut out);
    assert_eq!(
        server.handle_command(&hello, &mut out),
        Ok(Progress::Continue)
    );
    let welcome = command(&mut out);
    assert_eq!(
        client.handle_command(&welcome, &mut out),
        Ok(Progress::Continue)
    );
    let initiate = command(&mut out);
    Run {
        client,
        server,
        client_keys,
        hello,
        welcome,
        initiate,
        ready: Bytes::new(),
    }
}

/// Runs a whole handshake without ZAP.
pub(super) fn run() -> Run {
    let mut run = run_to_initiate(false);
    let mut out = Encoder::new();
    let Ok(Progress::Ready(peer)) = run.server.handle_command(&run.initiate, &mut out) else {
        panic!("the server did not accept INITIATE");
    };
    assert_eq!(peer.get("Socket-Type").unwrap(), "DEALER");
    run.ready = command(&mut out);
    let Ok(Progress::Ready(peer)) = run.client.handle_command(&run.ready, &mut out) else {
        panic!("the client did not accept READY");
    };
    assert_eq!(peer.get("Socket-Type").unwrap(), "ROUTER");
    assert_eq!(peer.get(USER_ID_PROPERTY), None, "no ZAP, no User-Id");
    run
}

/// Sends one frame through `from` and returns the MESSAGE as it travels.
pub(super) fn seal(from: &mut dyn Mechanism, more: bool, command: bool, body: &[u8]) -> Frame {
    let mut out = Encoder::new();
    from.encode_frame(more, command, &Bytes::copy_from_slice(body), &mut out);
    let mut frames = frames(&mut out);
    assert_eq!(frames.len(), 1);
    frames.remove(0)
}

pub(super) fn short_nonce_of(body: &[u8], offset: usize) -> u64 {
    u64::from_be_bytes(body[offset..offset + 8].try_into().unwrap())
}
#[test]
fn commands_have_libzmqs_sizes_layout_and_nonces() {
    let mut run = run();
    assert_eq!(run.hello.len(), 200);
    assert_eq!(&run.hello[..8], b"\x05HELLO\x01\x00");
    assert_eq!(
        &run.hello[8..80],
        &[0; 72][..],
        "anti-amplification padding"
    );
    assert_eq!(short_nonce_of(&run.hello, 112), 1, "HELLO takes nonce 1");
    assert_eq!(run.welcome.len(), 168);
    assert_eq!(&run.welcome[..8], b"\x07WELCOME");
    // DEALER's metadata: 1 + 11 + 4 + 6 bytes.
    assert_eq!(run.initiate.len(), 257 + 22);
    assert_eq!(&run.initiate[..9], b"\x08INITIATE");
    assert_eq!(
        short_nonce_of(&run.initiate, 105),
        2,
        "INITIATE takes nonce 2"
    );
    assert_eq!(&run.ready[..6], b"\x05READY");
    assert_eq!(run.ready.len(), 30 + 22);
    assert_eq!(short_nonce_of(&run.ready, 6), 1, "READY takes nonce 1");
    let message = seal(&mut run.client, false, false, b"hi");
    assert!(!message.command && !message.more, "an ordinary data frame");
    assert_eq!(message.body.len(), 8 + 8 + 16 + 1 + 2);
    assert_eq!(&message.body[..8], b"\x07MESSAGE");
    assert_eq!(short_nonce_of(&message.body, 8), 3);
    let message = seal(&mut run.server, false, false, b"hi");
    assert_eq!(short_nonce_of(&message.body, 8), 2);
    assert_eq!(run.server.name(), MechanismName::CURVE);
    assert!(run.server.as_server() && !run.client.as_server());
}

#[test]
fn frames_keep_more_and_command_through_the_box_both_ways() {
    let mut run = run();
    for (more, command) in [(true, false), (false, true), (false, false), (true, true)] {
        let body = format!("{more} {command}");
        let sent = seal(&mut run.client, more, command, body.as_bytes());
        let got = run.server.decode_frame(sent).unwrap();
        assert_eq!(
            (got.more, got.command, &got.body[..]),
            (more, command, body.as_bytes())
        );
        let sent = seal(&mut run.server, more, command, body.as_bytes());
        let got = run.client.decode_frame(sent).unwrap();
        assert_eq!(
            (got.more, got.command, &got.body[..]),
            (more, command, body.as_bytes())
        );
    }
    let empty = seal(&mut run.client, false, false, b"");
    assert_eq!(run.server.decode_frame(empty).unwrap().body, Bytes::new());
}

#[test]
fn a_client_with_the_wrong_server_key_is_refused_at_hello() {
    let server_keys = KeyPair::generate().unwrap();
    let someone_else = KeyPair::generate().unwrap();
    let mut client = CurveClient::new(
        KeyPair::generate().unwrap(),
        *someone_else.public(),
        metadata("DEALER"),
    );
    let mut server = CurveServer::new(server_keys, false, metadata("ROUTER"));
    let mut out = Encoder::new();
    client.handle_start(&mut out).unwrap();
    let hello = command(&mut out);
    assert_eq!(
        server.handle_command(&hello, &mut out),
        Err(ProtocolError::CurveWrongServerKey)
    );
    assert!(out.is_empty(), "no WELCOME, no ERROR: libzmq just closes");
}
/// Which command a handshake is stopped in front of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Hello,
    Welcome,
    Initiate,
    Ready,
}

/// A fresh handshake (no ZAP) stopped where `step` is about to be received: the
/// side that receives it, and the command.
pub(super) fn stopped_at(step: Step) -> (Box<dyn Mechanism>, Bytes) {
    let server_keys = KeyPair::generate().unwrap();
    let mut client = CurveClient::new(
        KeyPair::generate().unwrap(),
        *server_keys.public(),
        metadata("DEALER"),
    );
    let mut server = CurveServer::new(server_keys, false, metadata("ROUTER"));
    let mut out = Encoder::new();
    client.handle_start(&mut out).unwrap();
    let hello = command(&mut out);
    if step == Step::Hello {
        return (Box::new(server), hello);
    }
    server.handle_command(&hello, &mut out).unwrap();
    let welcome = command(&mut out);
    if step == Step::Welcome {
        return (Box::new(client), welcome);
    }
    client.handle_command(&welcome, &mut out).unwrap();
    let initiate = command(&mut out);
    if step == Step::Initiate {
        return (Box::new(server), initiate);
    }
    server.handle_command(&initiate, &mut out).unwrap();
    (Box::new(client), command(&mut out))
}

/// `body` with byte `position` changed.
pub(super) fn flipped(body: &Bytes, position: usize) -> Bytes {
    let mut bytes = body.to_vec();
    bytes[position] ^= 0x20;
    bytes.into()
}

#[test]
fn an_unexpected_command_names_what_was_expected() {
    let (mut server, _) = stopped_at(Step::Hello);
    let mut out = Encoder::new();
    assert_eq!(
        server.handle_command(&Bytes::from_static(b"\x05READY"), &mut out),
        Err(ProtocolError::UnexpectedCommand {
            mechanism: "CURVE",
            command: "READY".to_owned(),
            expected: "HELLO",
        })
    );
    let (mut client, _) = stopped_at(Step::Welcome);
    assert_eq!(
        client.handle_command(&Bytes::from_static(b"\x05ERROR\x03bad"), &mut out),
        Err(ProtocolError::PeerError {
            reason: "bad".to_owned()
        })
    );
}
