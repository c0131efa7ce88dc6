//! Bad requests, one rule at a time: each gets the error code `protocol.md`
//! documents, with the correlation id and command echoed when the prefix could be
//! read, and the documented details.

use bytes::{BufMut, Bytes, BytesMut};

use super::*;

const CORRELATION: u64 = 0x0102_0304_0506_0708;

fn fetch_frames() -> Vec<Bytes> {
    encode_request(&Request {
        correlation_id: CORRELATION,
        body: RequestBody::Fetch(Fetch {
            topic: TopicName::new("orders").unwrap(),
            partition: 0,
            start: Position::Earliest,
            mode: FetchMode::Batches,
            max_bytes: 1 << 20,
            max_records: 0,
            max_wait_ms: 0,
            min_bytes: 0,
        }),
    })
}

fn records_produce_frames(records: usize) -> Vec<Bytes> {
    let record = ProduceRecord {
        timestamp: -1,
        key: None,
        value: Some(Bytes::from_static(b"v")),
        headers: Vec::new(),
    };
    encode_request(&Request {
        correlation_id: CORRELATION,
        body: RequestBody::Produce(Produce {
            topic: TopicName::new("orders").unwrap(),
            partition: PartitionChoice::Index(0),
            acks: Acks::Written,
            payload: ProducePayload::Records {
                producer: None,
                records: vec![record; records],
            },
        }),
    })
}

/// Frame 0 with byte `at` set to `value`.
fn with_header_byte(mut frames: Vec<Bytes>, at: usize, value: u8) -> Vec<Bytes> {
    let mut header = frames[0].to_vec();
    header[at] = value;
    frames[0] = Bytes::from(header);
    frames
}

fn error(frames: &[Bytes]) -> ProtocolError {
    decode_request(frames).expect_err("the request must be refused")
}

/// Checks the code and that the prefix was echoed.
fn refused(frames: &[Bytes], code: ErrorCode) -> ProtocolError {
    let error = error(frames);
    assert_eq!(error.code, code, "{error}");
    assert_eq!(error.correlation_id, CORRELATION, "{error}");
    error
}

#[test]
fn no_frames_is_malformed() {
    let error = error(&[]);
    assert_eq!(
        (error.code, error.correlation_id, error.command),
        (ErrorCode::Malformed, 0, 0)
    );
}

#[test]
fn a_truncated_prefix_is_malformed_and_unaddressed() {
    let frames = fetch_frames();
    for length in [0, 1, 2, 8, 15] {
        let error = error(&[frames[0].slice(..length), frames[1].clone()]);
        assert_eq!(error.code, ErrorCode::Malformed, "{length}: {error}");
        assert_eq!((error.correlation_id, error.command), (0, 0));
    }
}

#[test]
fn a_truncated_or_padded_header_is_malformed() {
    let mut frames = fetch_frames();
    frames[0] = frames[0].slice(..40);
    let error = refused(&frames, ErrorCode::Malformed);
    assert_eq!(error.command, Command::Fetch.code());
    assert!(error.message.contains("must be 48"), "{}", error.message);
    let mut frames = fetch_frames();
    let mut padded = frames[0].to_vec();
    padded.push(0);
    frames[0] = Bytes::from(padded);
    refused(&frames, ErrorCode::Malformed);
}

#[test]
fn wrong_magic_is_malformed_and_unaddressed() {
    for (at, value) in [(0, b'Z'), (1, 0)] {
        let error = error(&with_header_byte(fetch_frames(), at, value));
        assert_eq!(error.code, ErrorCode::Malformed);
        assert_eq!((error.correlation_id, error.command), (0, 0));
        assert!(error.message.contains("magic"), "{}", error.message);
    }
}

#[test]
fn another_version_is_unsupported_with_the_range_spoken() {
    for version in [0, 2, 255] {
        let error = refused(
            &with_header_byte(fetch_frames(), 2, version),
            ErrorCode::UnsupportedVersion,
        );
        assert_eq!(error.details, [1, 1]);
        assert_eq!(error.command, Command::Fetch.code());
    }
}

#[test]
fn response_flags_or_an_error_code_in_a_request_are_malformed() {
    refused(
        &with_header_byte(fetch_frames(), 3, FLAG_RESPONSE),
        ErrorCode::Malformed,
    );
    refused(
        &with_header_byte(fetch_frames(), 3, 0x80),
        ErrorCode::Malformed,
    );
    refused(
        &with_header_byte(fetch_frames(), 7, 1),
        ErrorCode::Malformed,
    );
}

#[test]
fn an_unknown_command_is_refused_and_echoed() {
    for code in [0x0000u16, 0x0005, 0x0014, 0x0099, 0xffff] {
        let mut frames = fetch_frames();
        let mut header = frames[0].to_vec();
        header[4..6].copy_from_slice(&code.to_be_bytes());
        frames[0] = Bytes::from(header);
        let error = refused(&frames, ErrorCode::UnknownCommand);
        assert_eq!(error.command, code);
        // The answer echoes the unknown code, and a client can read it.
        let answer = decode_response(&encode_response(&error.to_response())).unwrap();
        match answer.body {
            ResponseBody::Error(response) => {
                assert_eq!(
                    (response.command, response.code),
                    (code, ErrorCode::UnknownCommand)
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn too_many_frames_are_oversized() {
    let limits = Limits {
        max_frames: 8,
        ..Limits::default()
    };
    // 2 records: header, topic, table and 6 = 9 frames.
    let frames = records_produce_frames(2);
    assert_eq!(frames.len(), 9);
    let error = decode_request_with(&frames, &limits).unwrap_err();
    assert_eq!((error.code, error.details), (ErrorCode::Oversized, [8, 9]));
    assert_eq!(error.correlation_id, CORRELATION);
    assert!(decode_request_with(&records_produce_frames(1), &limits).is_ok());
    // The default: 16384 frames, so 5460 records fit and 5461 do not.
    assert!(decode_request(&records_produce_frames(5460)).is_ok());
    let error = refused(&records_produce_frames(5461), ErrorCode::Oversized);
    assert_eq!(error.details, [16384, 16386]);
}

#[test]
fn an_oversized_request_or_header_is_refused_with_the_limit() {
    let limits = Limits {
        max_request_bytes: 100,
        ..Limits::default()
    };
    let mut frames = fetch_frames();
    frames.push(Bytes::from(vec![0u8; 100]));
    let error = decode_request_with(&frames, &limits).unwrap_err();
    assert_eq!(
        (error.code, error.details),
        (ErrorCode::Oversized, [100, 154])
    );
    // Over the limit is refused before the extra frame is noticed.
    let mut header = fetch_frames()[0].to_vec();
    header.resize(300, 0);
    let error = refused(&[Bytes::from(header)], ErrorCode::Oversized);
    assert_eq!(error.details, [256, 300]);
}

#[test]
fn missing_and_extra_frames_are_malformed() {
    let frames = fetch_frames();
    let error = refused(&frames[..1], ErrorCode::Malformed);
    assert!(error.message.contains("topic"), "{}", error.message);
    let mut extra = fetch_frames();
    extra.push(Bytes::new());
    refused(&extra, ErrorCode::Malformed);
    let mut short = records_produce_frames(2);
    short.pop();
    refused(&short, ErrorCode::Malformed);
}

#[test]
fn reserved_bytes_must_be_zero() {
    // FETCH bytes 22-23 are reserved.
    refused(
        &with_header_byte(fetch_frames(), 22, 1),
        ErrorCode::Malformed,
    );
    // PRODUCE record flags bits 2-7 and the entry's 7 reserved bytes.
    let mut frames = records_produce_frames(1);
    let mut table = frames[2].to_vec();
    table[8] |= 0x04;
    frames[2] = Bytes::from(table);
    refused(&frames, ErrorCode::Malformed);
    let mut frames = records_produce_frames(1);
    let mut table = frames[2].to_vec();
    table[15] = 1;
    frames[2] = Bytes::from(table);
    refused(&frames, ErrorCode::Malformed);
}

#[test]
fn invalid_topic_names_get_their_code_and_kafkas_words() {
    for name in [&b""[..], b".", b"..", b"a b", &[b'x'; 250]] {
        let mut frames = fetch_frames();
        frames[1] = Bytes::copy_from_slice(name);
        let error = refused(&frames, ErrorCode::InvalidTopicName);
        assert!(error.message.starts_with("Topic name"), "{}", error.message);
    }
}

#[test]
fn field_values_outside_their_range_are_invalid_arguments() {
    // FETCH: partition 2^31, start kind 4, mode 2, offset 2^63, max bytes 0.
    let mut frames = fetch_frames();
    let mut header = frames[0].to_vec();
    header[16..20].copy_from_slice(&0x8000_0000u32.to_be_bytes());
    frames[0] = Bytes::from(header);
    refused(&frames, ErrorCode::InvalidArgument);
    refused(
        &with_header_byte(fetch_frames(), 20, 4),
        ErrorCode::InvalidArgument,
    );
    refused(
        &with_header_byte(fetch_frames(), 21, 2),
        ErrorCode::InvalidArgument,
    );
    let mut frames = with_header_byte(fetch_frames(), 20, 0);
    let mut header = frames[0].to_vec();
    header[24] = 0x80;
    frames[0] = Bytes::from(header);
    refused(&frames, ErrorCode::InvalidArgument);
    let mut frames = fetch_frames();
    let mut header = frames[0].to_vec();
    header[32..36].copy_from_slice(&[0; 4]);
    frames[0] = Bytes::from(header);
    refused(&frames, ErrorCode::InvalidArgument);
    // Earliest with a value is malformed (the value must be 0).
    refused(
        &with_header_byte(fetch_frames(), 31, 1),
        ErrorCode::Malformed,
    );
    // PRODUCE: acks 3, format 2, producer fields partly -1.
    refused(
        &with_header_byte(records_produce_frames(1), 20, 3),
        ErrorCode::InvalidArgument,
    );
    refused(
        &with_header_byte(records_produce_frames(1), 21, 2),
        ErrorCode::InvalidArgument,
    );
    refused(
        &with_header_byte(records_produce_frames(1), 31, 7),
        ErrorCode::InvalidArgument,
    );
}

#[test]
fn a_batch_with_producer_fields_in_the_header_is_refused() {
    let mut batch = vec![0u8; 61];
    batch[8..12].copy_from_slice(&49i32.to_be_bytes());
    batch[16] = 2;
    let mut frames = records_produce_frames(1);
    frames.truncate(2);
    frames.push(Bytes::from(batch));
    let mut header = BytesMut::from(&frames[0][..]);
    header[21] = 0; // format: batch
    frames[0] = header.clone().freeze();
    assert!(decode_request(&frames).is_ok());
    header[24..32].copy_from_slice(&7i64.to_be_bytes());
    header[32..34].copy_from_slice(&0i16.to_be_bytes());
    header[36..40].copy_from_slice(&0i32.to_be_bytes());
    frames[0] = header.freeze();
    refused(&frames, ErrorCode::InvalidArgument);
}

#[test]
fn bad_batch_framing_is_an_invalid_batch() {
    let good = {
        let mut batch = vec![0u8; 70];
        batch[8..12].copy_from_slice(&58i32.to_be_bytes());
        batch[16] = 2;
        batch
    };
    let mut short = good.clone();
    short.truncate(60);
    let mut wrong_length = good.clone();
    wrong_length[11] = 59;
    let mut wrong_magic = good.clone();
    wrong_magic[16] = 1;
    for (batch, ok) in [
        (good, true),
        (short, false),
        (wrong_length, false),
        (wrong_magic, false),
    ] {
        let mut frames = records_produce_frames(1);
        frames.truncate(2);
        frames.push(Bytes::from(batch));
        frames[0] = with_header_byte(frames.clone(), 21, 0)[0].clone();
        match decode_request(&frames) {
            Ok(_) => assert!(ok),
            Err(error) => {
                assert!(!ok, "{error}");
                assert_eq!(error.code, ErrorCode::InvalidBatch, "{error}");
            }
        }
    }
}

#[test]
fn record_tables_and_headers_frames_are_checked() {
    // A table that is not a multiple of 16 bytes, or empty.
    let mut frames = records_produce_frames(1);
    frames[2] = frames[2].slice(..15);
    refused(&frames, ErrorCode::Malformed);
    let mut frames = records_produce_frames(1);
    frames[2] = Bytes::new();
    frames.truncate(3);
    refused(&frames, ErrorCode::Malformed);
    // A key flagged null whose frame is not empty (the test record's key is null).
    let mut frames = records_produce_frames(1);
    frames[3] = Bytes::from_static(b"k");
    refused(&frames, ErrorCode::Malformed);
    // A negative timestamp other than -1.
    let mut frames = records_produce_frames(1);
    let mut table = frames[2].to_vec();
    table[..8].copy_from_slice(&(-2i64).to_be_bytes());
    frames[2] = Bytes::from(table);
    refused(&frames, ErrorCode::InvalidArgument);
    // Headers: a length past the end, a name that is not UTF-8, a value length -2.
    for headers in [
        &b"\x00\x05ab"[..],
        b"\x00\x01\xff\x00\x00\x00\x00",
        b"\x00\x01a\xff\xff\xff\xfe",
        b"\x00\x01a\x00\x00\x00\x05ab",
        b"\x00",
    ] {
        let mut frames = records_produce_frames(1);
        frames[5] = Bytes::copy_from_slice(headers);
        refused(&frames, ErrorCode::Malformed);
    }
    let mut frames = records_produce_frames(1);
    let mut headers = BytesMut::new();
    headers.put_u16(1);
    headers.put_slice(b"a");
    headers.put_i32(-1);
    frames[5] = headers.freeze();
    assert!(decode_request(&frames).is_ok());
}

#[test]
fn error_responses_keep_to_the_message_limit() {
    let long = "é".repeat(600);
    let response = Response {
        correlation_id: CORRELATION,
        body: ResponseBody::Error(ErrorResponse {
            command: Command::Produce.code(),
            code: ErrorCode::Timeout,
            details: [0, 0],
            message: Some(long),
        }),
    };
    let frames = encode_response(&response);
    assert_eq!(frames[0].len(), ERROR_HEADER_SIZE);
    assert_eq!(frames[1].len(), MAX_ERROR_MESSAGE_BYTES);
    let decoded = decode_response(&frames).unwrap();
    let ResponseBody::Error(error) = decoded.body else {
        panic!("an error response")
    };
    assert_eq!(error.message.unwrap().chars().count(), 512);
    let mut too_long = frames.clone();
    too_long[1] = Bytes::from(vec![b'x'; MAX_ERROR_MESSAGE_BYTES + 1]);
    assert_eq!(
        decode_response(&too_long).unwrap_err().code,
        ErrorCode::Malformed
    );
}

#[test]
fn a_request_sent_back_as_a_response_is_refused() {
    let frames = fetch_frames();
    let error = decode_response(&frames).unwrap_err();
    assert_eq!(error.code, ErrorCode::Malformed);
}
