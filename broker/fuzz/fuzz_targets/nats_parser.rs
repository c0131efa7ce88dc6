//! Fuzz target: the NATS door's client parser, fed arbitrary bytes in arbitrary chunks.
//!
//! It must return operations or violations, never panic, never hold more than its
//! limits while waiting, hand out only operations its limits and checks allow, and
//! decode the same input the same way however it is cut.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sinew_broker::doors::nats::{
    ClientOperation, Limits, Parser, Violation, is_valid_subscription_subject,
};

type Outcome = Result<ClientOperation, Violation>;

/// Feeds `input` in chunks of `chunk` bytes (all at once for 0), checking the memory
/// bound after every need-for-more, up to the first closing violation.
fn run(limits: Limits, require_connect: bool, input: &[u8], chunk: usize) -> Vec<Outcome> {
    let mut parser = Parser::new(limits);
    if require_connect {
        parser.require_connect();
    }
    let held = limits.max_control_line.max(limits.max_payload) + 1;
    let mut buffer = BytesMut::new();
    let mut outcomes = Vec::new();
    for piece in input.chunks(if chunk == 0 { input.len().max(1) } else { chunk }) {
        buffer.extend_from_slice(piece);
        loop {
            match parser.parse(&mut buffer) {
                Ok(Some(operation)) => {
                    check(&operation, limits);
                    outcomes.push(Ok(operation));
                }
                Ok(None) => {
                    assert!(buffer.len() <= held, "{} bytes held", buffer.len());
                    assert!(buffer.len() <= limits.max_held_bytes());
                    break;
                }
                Err(violation) => {
                    outcomes.push(Err(violation));
                    if violation.close {
                        assert_eq!(parser.parse(&mut buffer), Err(violation));
                        return outcomes;
                    }
                }
            }
        }
    }
    outcomes
}

/// What every operation handed out must satisfy.
fn check(operation: &ClientOperation, limits: Limits) {
    match operation {
        ClientOperation::Publish(publish) => {
            assert!(publish.payload.len() <= limits.max_payload);
            assert!(publish.header_size.is_none_or(|size| size <= publish.payload.len()));
            assert!(!publish.subject.is_empty());
        }
        ClientOperation::Subscribe(subscribe) => {
            assert!(is_valid_subscription_subject(&subscribe.subject));
            assert!(!subscribe.sid.is_empty());
        }
        ClientOperation::Unsubscribe(unsubscribe) => {
            assert!(!unsubscribe.sid.is_empty());
            assert!(unsubscribe.max_messages.is_none_or(|max| max > 0));
        }
        ClientOperation::Connect(connect) => {
            assert!((0..=1).contains(&connect.protocol));
            assert!(!connect.no_responders || connect.headers);
        }
        ClientOperation::Ping | ClientOperation::Pong => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    // Low bits: the chunk size; high bits: small or default limits, CONNECT first.
    let chunk = usize::from(control & 0x3f);
    let limits = if control & 0x40 == 0 {
        Limits {
            max_control_line: 64,
            max_payload: 128,
        }
    } else {
        Limits::default()
    };
    let require_connect = control & 0x80 != 0;
    let pieces = run(limits, require_connect, input, chunk);
    let whole = run(limits, require_connect, input, 0);
    assert_eq!(pieces, whole);
});
