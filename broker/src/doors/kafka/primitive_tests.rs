//! Primitives round trip (property tests), and bad input is refused as a value:
//! lengths and counts beyond the bytes present, over-long varints, unknown api
//! keys, unsupported versions, tagged fields the codec does not know.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn written(flexible: bool, write: impl FnOnce(&mut Writer)) -> Bytes {
    let mut writer = Writer::new(flexible);
    write(&mut writer);
    join(&writer.into_chunks())
}

proptest! {
    #[test]
    fn integers_and_varints_round_trip(a: i8, b: i16, c: i32, d: i64, e: u32, f: i32, g: i64, uuid: [u8; 16]) {
        let bytes = written(false, |w| {
            w.i8(a); w.i16(b); w.i32(c); w.i64(d); w.unsigned_varint(u64::from(e)); w.varint(f); w.varlong(g); w.uuid(&uuid);
        });
        let mut reader = Reader::new(bytes, false);
        prop_assert_eq!(reader.i8("a").unwrap(), a);
        prop_assert_eq!(reader.i16("b").unwrap(), b);
        prop_assert_eq!(reader.i32("c").unwrap(), c);
        prop_assert_eq!(reader.i64("d").unwrap(), d);
        prop_assert_eq!(reader.unsigned_varint("e").unwrap(), e);
        prop_assert_eq!(reader.varint("f").unwrap(), f);
        prop_assert_eq!(reader.varlong("g").unwrap(), g);
        prop_assert_eq!(reader.uuid("uuid").unwrap(), uuid);
        prop_assert!(reader.finish().is_ok());
    }

    #[test]
    fn strings_bytes_and_arrays_round_trip(
        flexible: bool,
        text in proptest::option::of(".{0,40}"),
        data in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
        numbers in proptest::collection::vec(any::<i32>(), 0..20),
    ) {
        let data = data.map(Bytes::from);
        let bytes = written(flexible, |w| {
            w.nullable_string(text.as_deref());
            w.legacy_nullable_string(text.as_deref());
            w.nullable_bytes(data.as_ref());
            w.i32_array(&numbers);
            w.tagged_fields();
        });
        let mut reader = Reader::new(bytes, flexible);
        prop_assert_eq!(reader.nullable_string("s").unwrap(), text.clone());
        prop_assert_eq!(reader.legacy_nullable_string("l").unwrap(), text);
        prop_assert_eq!(reader.nullable_bytes("b").unwrap(), data);
        prop_assert_eq!(reader.array("n", 4, |r| r.i32("i")).unwrap(), numbers);
        prop_assert!(reader.tagged_fields().is_ok());
        prop_assert!(reader.finish().is_ok());
    }

    #[test]
    fn arbitrary_frames_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_request(Bytes::from(frame));
    }
}

#[test]
fn zigzag_matches_kafkas_examples() {
    // Kafka's ByteUtils: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, i32::MIN -> 0xffffffff.
    for (value, encoded) in [
        (0, vec![0]),
        (-1, vec![1]),
        (1, vec![2]),
        (-2, vec![3]),
        (300, vec![0xd8, 0x04]),
    ] {
        assert_eq!(
            &written(false, |w| w.varint(value))[..],
            &encoded[..],
            "{value}"
        );
    }
    assert_eq!(
        &written(false, |w| w.varint(i32::MIN))[..],
        &[0xff, 0xff, 0xff, 0xff, 0x0f]
    );
}

#[test]
fn a_varint_longer_than_five_bytes_is_refused() {
    let mut reader = Reader::new(
        Bytes::from_static(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        false,
    );
    assert_eq!(
        reader.unsigned_varint("v"),
        Err(DecodeError::VarintTooLong(5))
    );
    // Five bytes, but more than 32 bits.
    let mut reader = Reader::new(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x7f]), false);
    assert_eq!(
        reader.unsigned_varint("v"),
        Err(DecodeError::VarintTooLong(5))
    );
}

#[test]
fn a_count_beyond_the_bytes_present_is_refused_before_allocating() {
    // 2^31 - 1 elements announced, 4 bytes present.
    let mut reader = Reader::new(
        Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1]),
        false,
    );
    let error = reader.array("n", 4, |r| r.i32("i")).unwrap_err();
    assert_eq!(
        error,
        DecodeError::BadLength {
            what: "n",
            length: i64::from(i32::MAX),
            left: 4
        }
    );
    // Compact: 2^32 - 2 elements.
    let mut reader = Reader::new(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x0f]), true);
    assert!(matches!(
        reader.array("n", 1, |r| r.i8("i")),
        Err(DecodeError::BadLength { .. })
    ));
    // A negative count other than -1.
    let mut reader = Reader::new(Bytes::from_static(&[0xff, 0xff, 0xff, 0xfe]), false);
    assert!(matches!(
        reader.array("n", 1, |r| r.i8("i")),
        Err(DecodeError::BadLength { length: -2, .. })
    ));
}

#[test]
fn a_string_longer_than_the_bytes_left_is_refused() {
    let mut reader = Reader::new(Bytes::from_static(&[0x7f, 0xff, b'a']), false);
    assert_eq!(
        reader.string("s"),
        Err(DecodeError::BadLength {
            what: "s",
            length: 0x7fff,
            left: 1
        })
    );
    let mut reader = Reader::new(Bytes::from_static(&[0xff, 0xff]), false);
    assert_eq!(reader.string("s"), Err(DecodeError::UnexpectedNull("s")));
    let mut reader = Reader::new(Bytes::from_static(&[0x00, 0x01, 0xff]), false);
    assert_eq!(reader.string("s"), Err(DecodeError::InvalidUtf8("s")));
}

#[test]
fn unknown_tagged_fields_are_skipped_and_oversized_ones_refused() {
    // Two tagged fields (tag 0 of 2 bytes, tag 5 of 0 bytes), then an int8.
    let mut reader = Reader::new(Bytes::from_static(&[2, 0, 2, 0xaa, 0xbb, 5, 0, 9]), true);
    reader.tagged_fields().unwrap();
    assert_eq!(reader.i8("after").unwrap(), 9);
    let mut reader = Reader::new(Bytes::from_static(&[1, 0, 100, 0]), true);
    assert!(matches!(
        reader.tagged_fields(),
        Err(DecodeError::BadLength { .. })
    ));
}

fn header(api_key: i16, version: i16) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&api_key.to_be_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    frame.extend_from_slice(&99i32.to_be_bytes());
    frame.extend_from_slice(&[0xff, 0xff]); // null client id
    frame
}

#[test]
fn an_unknown_api_key_closes_the_connection() {
    let error = decode_request(Bytes::from(header(9999, 0))).unwrap_err();
    assert_eq!(
        error,
        RequestError::UnknownApiKey {
            api_key: 9999,
            api_version: 0,
            correlation_id: 99
        }
    );
    assert_eq!(error.answer(), Answer::Close);
}

#[test]
fn an_unsupported_version_closes_except_for_api_versions() {
    // Produce v2: below Kafka 4.0's floor (KIP-896).
    let error = decode_request(Bytes::from(header(0, 2))).unwrap_err();
    assert_eq!(
        error,
        RequestError::UnsupportedVersion {
            api_key: ApiKey::Produce,
            api_version: 2,
            correlation_id: 99
        }
    );
    assert_eq!(error.answer(), Answer::Close);
    // ApiVersions v127 with a body the door cannot know: answered, error 35.
    let mut frame = header(18, 127);
    frame.extend_from_slice(&[1, 2, 3]);
    let error = decode_request(Bytes::from(frame)).unwrap_err();
    assert_eq!(
        error.answer(),
        Answer::UnsupportedApiVersions { correlation_id: 99 }
    );
}

#[test]
fn a_flexible_request_header_skips_its_tagged_fields() {
    // ApiVersions v3, client id "c", one tagged field in the header, then the body.
    let mut frame = header(18, 3);
    frame.truncate(8);
    frame.extend_from_slice(&[0, 1, b'c', 1, 7, 1, 0xee, 2, b'n', 2, b'v', 0]);
    let request = decode_request(Bytes::from(frame)).unwrap();
    assert_eq!(request.header.client_id.as_deref(), Some("c"));
    assert_eq!(
        request.body,
        RequestBody::ApiVersions(ApiVersionsRequest {
            client_software_name: Some("n".into()),
            client_software_version: Some("v".into()),
        })
    );
}

#[test]
fn a_frame_too_short_for_a_header_is_refused() {
    assert_eq!(
        decode_request(Bytes::from_static(&[0, 18, 0])),
        Err(RequestError::NoHeader(3))
    );
}

#[test]
fn the_table_is_coherent() {
    for (index, range) in SUPPORTED.iter().enumerate() {
        assert_eq!(ApiKey::from_number(range.key.number()), Some(range.key));
        assert_eq!(range.key.range(), *range);
        assert!(range.min <= range.max);
        if let Some(next) = SUPPORTED.get(index + 1) {
            assert!(
                range.key.number() < next.key.number(),
                "ApiVersions lists keys in order"
            );
        }
    }
    assert_eq!(ApiKey::ApiVersions.response_header_version(4), 0);
    assert_eq!(ApiKey::Fetch.response_header_version(12), 1);
    assert_eq!(ApiKey::Fetch.request_header_version(11), 1);
}

#[test]
fn error_numbers_are_kafkas() {
    for (code, number) in [
        (ErrorCode::OffsetOutOfRange, 1),
        (ErrorCode::CorruptMessage, 2),
        (ErrorCode::UnknownTopicOrPartition, 3),
        (ErrorCode::MessageTooLarge, 10),
        (ErrorCode::OffsetMetadataTooLarge, 12),
        (ErrorCode::NotCoordinator, 16),
        (ErrorCode::InvalidTopicException, 17),
        (ErrorCode::IllegalGeneration, 22),
        (ErrorCode::UnknownMemberId, 25),
        (ErrorCode::RebalanceInProgress, 27),
        (ErrorCode::InvalidCommitOffsetSize, 28),
        (ErrorCode::UnsupportedVersion, 35),
        (ErrorCode::TopicAlreadyExists, 36),
        (ErrorCode::InvalidPartitions, 37),
        (ErrorCode::TransactionalIdAuthorizationFailed, 53),
        (ErrorCode::GroupMaxSizeReached, 81),
        (ErrorCode::FencedInstanceId, 82),
        (ErrorCode::UnstableOffsetCommit, 88),
    ] {
        assert_eq!(code.number(), number);
        assert_eq!(ErrorCode::from_number(number), Some(code));
    }
    for pair in ALL_ERROR_CODES.windows(2) {
        assert!(pair[0].number() < pair[1].number(), "{pair:?}");
    }
}

#[test]
fn a_request_of_too_many_small_elements_is_refused() {
    // DeleteTopics v4 (flexible): MAX_ELEMENTS + 1 empty names, one byte each;
    // the bytes are all there, the count is within them, the elements too many.
    let count = MAX_ELEMENTS + 1;
    let mut frame = header(20, 4);
    frame.push(0); // no tagged fields in the header
    let mut writer = Writer::new(true);
    writer.array_count(Some(count));
    frame.extend_from_slice(&join(&writer.into_chunks()));
    frame.extend(std::iter::repeat_n(1u8, count)); // compact "" is length 0 + 1
    frame.extend_from_slice(&[0, 0, 0, 0, 0]); // timeout, no tagged fields
    let error = decode_request(Bytes::from(frame)).unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::Malformed {
                error: DecodeError::TooManyElements(MAX_ELEMENTS),
                ..
            }
        ),
        "{error:?}"
    );
    // One fewer is a request.
    let mut frame = header(20, 4);
    frame.push(0);
    let mut writer = Writer::new(true);
    writer.array_count(Some(MAX_ELEMENTS));
    frame.extend_from_slice(&join(&writer.into_chunks()));
    frame.extend(std::iter::repeat_n(1u8, MAX_ELEMENTS));
    frame.extend_from_slice(&[0, 0, 0, 0, 0]);
    assert!(decode_request(Bytes::from(frame)).is_ok());
}
