//! Fuzz target: the native door's codec, fed arbitrary multipart messages, as
//! requests (the broker's side) and as responses (a client's side).
//!
//! It must never panic; whatever decodes must be within its limits and encode back
//! to exactly the frames it came from (the encoding is canonical); whatever is
//! refused must be answerable with an error response a client can read, echoing
//! what the prefix said.
//!
//! Input: a control byte (bit 0: small limits, else the defaults), then frames,
//! each a length byte (255: a big-endian `u16` length follows) and that many bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sinew_broker::doors::native::{
    Limits, ResponseBody, decode_request_with, decode_response_with, encode_request,
    encode_response,
};

/// Splits the input into frames; a frame cut short by the input's end keeps what
/// there is.
fn frames(mut input: &[u8]) -> Vec<Bytes> {
    let mut frames = Vec::new();
    while let Some((&length, rest)) = input.split_first() {
        let (length, rest) = match (length, rest) {
            (255, [high, low, rest @ ..]) => (usize::from(u16::from_be_bytes([*high, *low])), rest),
            (255, rest) => (0, &rest[rest.len()..]),
            (length, rest) => (usize::from(length), rest),
        };
        let length = length.min(rest.len());
        frames.push(Bytes::copy_from_slice(&rest[..length]));
        input = &rest[length..];
    }
    frames
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let limits = if control & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_frames: 8,
            max_request_bytes: 256,
            max_header_bytes: 40,
        }
    };
    let frames = frames(input);

    match decode_request_with(&frames, &limits) {
        Ok(request) => {
            assert!(frames.len() <= limits.max_frames);
            assert!(frames.iter().map(Bytes::len).sum::<usize>() <= limits.max_request_bytes);
            assert_eq!(encode_request(&request), frames);
        }
        Err(error) => {
            let answer = encode_response(&error.to_response());
            let decoded = decode_response_with(&answer, &Limits::default())
                .expect("an error response decodes");
            assert_eq!(decoded.correlation_id, error.correlation_id);
            match decoded.body {
                ResponseBody::Error(response) => {
                    assert_eq!(response.code, error.code);
                    assert_eq!(response.command, error.command);
                    assert_eq!(response.details, error.details);
                }
                other => panic!("an error answered with {other:?}"),
            }
        }
    }

    if let Ok(response) = decode_response_with(&frames, &limits) {
        assert!(frames.len() <= limits.max_frames);
        assert_eq!(encode_response(&response), frames);
    }
});
