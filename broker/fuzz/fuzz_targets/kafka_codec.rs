//! Fuzz target: the Kafka door's codec, fed arbitrary bytes as a connection's
//! read buffer: frames are split off (with a small size limit, so the limit's
//! refusal is reached too) and each frame decoded as a request.
//!
//! It must never panic and never allocate beyond the input; a refused size must
//! be over the limit or negative; a decoded Produce's records must be slices of
//! the frame; a decoded request, encoded again, must decode to itself; and an
//! ApiVersions answer must encode. Each frame is also read as a response of an
//! API and version its first byte picks (a client's side): whatever decodes
//! must encode to a response that decodes to the same.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sinew_broker::doors::kafka::{
    Answer, ApiVersionsResponse, FrameError, RequestBody, ResponseBody, SUPPORTED,
    decode_request, decode_response, encode_request, encode_response,
    encode_unsupported_api_versions, join, split_frame,
};

/// Small enough that fuzzed size prefixes often exceed it.
const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut buffer = BytesMut::from(data);
    loop {
        let frame = match split_frame(&mut buffer, LIMIT) {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(FrameError::TooLarge { size, limit }) => {
                assert!(size > limit);
                break;
            }
            Err(FrameError::NegativeSize(size)) => {
                assert!(size < 0);
                break;
            }
        };
        if let Some(&pick) = frame.first() {
            let range = SUPPORTED[usize::from(pick) % SUPPORTED.len()];
            let span = (range.max - range.min + 1) as u8;
            let version = range.min + i16::from(pick / 23 % span.max(1));
            if let Ok((correlation_id, body)) = decode_response(range.key, version, frame.slice(1..)) {
                let encoded = join(&encode_response(correlation_id, version, &body));
                let again = decode_response(range.key, version, encoded.slice(4..))
                    .expect("a decoded response re-encodes");
                assert_eq!(again, (correlation_id, body));
            }
        }
        match decode_request(frame.clone()) {
            Ok(request) => {
                if let RequestBody::Produce(produce) = &request.body {
                    let range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len() + 1;
                    for records in produce.topics.iter().flat_map(|t| &t.partitions).filter_map(|p| p.records.as_ref()) {
                        assert!(range.contains(&(records.as_ptr() as usize)) || records.is_empty());
                        assert!(records.len() <= frame.len());
                    }
                }
                let encoded = join(&encode_request(&request.header, &request.body));
                let again = decode_request(encoded.slice(4..)).expect("a decoded request re-encodes");
                assert_eq!(again, request);
                if let RequestBody::ApiVersions(_) = request.body {
                    let body = ResponseBody::ApiVersions(ApiVersionsResponse::supported());
                    let chunks = encode_response(request.header.correlation_id, request.header.api_version, &body);
                    assert!(!chunks.is_empty());
                }
            }
            Err(error) => {
                if let Answer::UnsupportedApiVersions { correlation_id } = error.answer() {
                    assert!(!encode_unsupported_api_versions(correlation_id).is_empty());
                }
            }
        }
    }
});
