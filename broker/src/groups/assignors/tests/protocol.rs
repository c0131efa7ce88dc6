//! The consumer protocol against bytes from kafka-python 3.0.12's own encoder
//! (`ConsumerProtocolSubscription` / `ConsumerProtocolAssignment` and its
//! assignors' `metadata`), hand-built vectors from Kafka's schemas (a version 3
//! subscription as librdkafka 2.x writes one, a future version with fields
//! added at the end), and random bytes.

use super::*;
use bytes::Bytes;

fn hex(text: &str) -> Bytes {
    let digits: Vec<u8> = text
        .as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect();
    Bytes::from(digits)
}

/// kafka-python: topics orders and payments, owning orders 0, 2 and payments 1
/// in generation 5 on rack-a; user data `00000005` below version 2, null from 2.
const SUBSCRIPTIONS: [&str; 4] = [
    "00000000000200066f726465727300087061796d656e74730000000400000005",
    "00010000000200066f726465727300087061796d656e747300000004000000050000000200066f726465727300000002000000000000000200087061796d656e74730000000100000001",
    "00020000000200066f726465727300087061796d656e7473ffffffff0000000200066f726465727300000002000000000000000200087061796d656e74730000000100000001\
     00000005",
    "00030000000200066f726465727300087061796d656e7473ffffffff0000000200066f726465727300000002000000000000000200087061796d656e74730000000100000001\
     0000000500067261636b2d61",
];

fn expected_subscription(version: i16) -> ConsumerSubscription {
    ConsumerSubscription {
        version,
        topics: vec!["orders".to_owned(), "payments".to_owned()],
        user_data: (version < 2).then(|| Bytes::from_static(&[0, 0, 0, 5])),
        owned_partitions: match version {
            0 => Vec::new(),
            _ => partitions(&[("orders", &[0, 2]), ("payments", &[1])]),
        },
        generation: if version >= 2 { 5 } else { -1 },
        rack: (version >= 3).then(|| "rack-a".to_owned()),
    }
}

#[test]
fn subscriptions_of_every_version_read_and_write_as_kafka_python_does() {
    for (version, text) in (0i16..).zip(SUBSCRIPTIONS) {
        let bytes = hex(text);
        let decoded = ConsumerSubscription::decode(bytes.clone()).unwrap();
        assert_eq!(decoded, expected_subscription(version), "version {version}");
        assert_eq!(decoded.encode().unwrap(), bytes, "version {version}");
        // The generation sits in the user data below version 2, as Kafka's
        // cooperative-sticky clients before version 2 put it.
        assert_eq!(decoded.cooperative_generation(), 5);
    }
}

#[test]
fn kafka_python_assignors_metadata_reads() {
    // RangePartitionAssignor.metadata({"t0", "t1"}): version 0, empty user data.
    let range = ConsumerSubscription::decode(hex("000000000002000274310002743000000000")).unwrap();
    assert_eq!(range.topics, ["t1", "t0"]);
    assert_eq!(range.user_data, Some(Bytes::new()));
    assert_eq!(range.cooperative_generation(), -1);
    // CooperativeStickyAssignor().metadata({"t1", "t0"}) before any assignment:
    // version 1, sorted topics, nothing owned.
    let sticky =
        ConsumerSubscription::decode(hex("00010000000200027430000274310000000000000000")).unwrap();
    assert_eq!(sticky.version, 1);
    assert_eq!(sticky.topics, ["t0", "t1"]);
    assert!(sticky.owned_partitions.is_empty());
    let member = MemberSubscription::from_consumer("m-1", Some("i-1"), &sticky);
    assert_eq!(member.generation, -1);
    assert_eq!(member.instance_id.as_deref(), Some("i-1"));
}

#[test]
fn empty_version_3_subscription_with_nulls() {
    // kafka-python: no topics, empty user data, nothing owned, generation -1, null rack.
    let bytes = hex("0003000000000000000000000000ffffffffffff");
    let decoded = ConsumerSubscription::decode(bytes.clone()).unwrap();
    let expected = ConsumerSubscription {
        version: 3,
        user_data: Some(Bytes::new()),
        generation: -1,
        ..ConsumerSubscription::default()
    };
    assert_eq!(decoded, expected);
    assert_eq!(decoded.encode().unwrap(), bytes);
}

#[test]
fn hand_built_version_3_and_a_future_version_with_trailing_fields() {
    // As librdkafka 2.x writes one: v3, topic "t", null user data, owning t-0 in
    // generation 7, rack "az1".
    let v3 = "0003 00000001 000174 ffffffff 00000001 000174 00000001 00000000 00000007 0003617a31";
    let decoded = ConsumerSubscription::decode(hex(&v3.replace(' ', ""))).unwrap();
    assert_eq!(decoded.topics, ["t"]);
    assert_eq!(decoded.user_data, None);
    assert_eq!(decoded.owned_partitions, partitions(&[("t", &[0])]));
    assert_eq!(
        (decoded.generation, decoded.rack.as_deref()),
        (7, Some("az1"))
    );
    assert_eq!(decoded.cooperative_generation(), 7);
    // Version 9 with two more bytes after the rack: read as version 3, the
    // rest ignored; written back as version 3.
    let v9 = v3.replacen("0003", "0009", 1) + "beef";
    let future = ConsumerSubscription::decode(hex(&v9.replace(' ', ""))).unwrap();
    assert_eq!(
        future,
        ConsumerSubscription {
            version: 9,
            ..decoded.clone()
        }
    );
    assert_eq!(future.encode().unwrap(), decoded.encode().unwrap());
    // A version 0 subscription with trailing bytes is read too.
    let v0 =
        ConsumerSubscription::decode(hex("0000 00000000 ffffffff 0102".replace(' ', "").as_str()));
    assert_eq!(v0.unwrap().topics, Vec::<String>::new());
}

#[test]
fn assignments_of_every_version_read_and_write_as_kafka_python_does() {
    // kafka-python: orders 0-2 and payments none, null user data, versions 0-3.
    let body = "0000000200066f72646572730000000300000000000000010000000200087061796d656e747300000000ffffffff";
    for version in 0i16..=3 {
        let bytes = hex(&format!("{version:04x}{body}"));
        let decoded = ConsumerAssignment::decode(bytes.clone()).unwrap();
        let expected = ConsumerAssignment {
            version,
            assigned_partitions: partitions(&[("orders", &[0, 1, 2]), ("payments", &[])]),
            user_data: None,
        };
        assert_eq!(decoded, expected);
        assert_eq!(decoded.encode().unwrap(), bytes);
    }
    // Version 0, nothing assigned, user data "hi".
    let bytes = hex("000000000000000000026869");
    let decoded = ConsumerAssignment::decode(bytes.clone()).unwrap();
    assert_eq!(decoded.user_data, Some(Bytes::from_static(b"hi")));
    assert_eq!(decoded.encode().unwrap(), bytes);
}

#[test]
fn malformed_messages_are_refused() {
    use ConsumerProtocolError::*;
    let decode = |text: &str| ConsumerSubscription::decode(hex(&text.replace(' ', "")));
    assert_eq!(decode(""), Err(Truncated("version")));
    assert_eq!(decode("ffff 00000000"), Err(UnsupportedVersion(-1)));
    assert_eq!(
        decode("0000 00000001 0005 6162"),
        Err(BadLength {
            what: "topics",
            length: 5,
            left: 2
        })
    );
    assert_eq!(
        decode("0000 ffffffff ffffffff"),
        Err(BadLength {
            what: "topics",
            length: -1,
            left: 4
        })
    );
    assert_eq!(
        decode("0000 7fffffff 0000"),
        Err(BadLength {
            what: "topics",
            length: i64::from(i32::MAX),
            left: 2
        })
    );
    assert_eq!(
        decode("0000 00000001 ffff ffffffff"),
        Err(BadLength {
            what: "topics",
            length: -1,
            left: 4
        })
    );
    assert_eq!(
        decode("0000 00000001 0002 c328 ffffffff"),
        Err(InvalidUtf8("topics"))
    );
    assert_eq!(
        decode("0001 00000000 ffffffff"),
        Err(Truncated("owned_partitions"))
    );
    assert_eq!(
        decode("0002 00000000 ffffffff 00000000"),
        Err(Truncated("generation_id"))
    );
    let assignment = ConsumerAssignment::decode(hex("0000000000010001740000000200000000"));
    assert_eq!(
        assignment,
        Err(BadLength {
            what: "assigned_partitions",
            length: 2,
            left: 4
        })
    );
    let negative = ConsumerSubscription {
        version: -2,
        ..ConsumerSubscription::default()
    };
    assert_eq!(negative.encode(), Err(UnsupportedVersion(-2)));
    let long = ConsumerSubscription {
        topics: vec!["x".repeat(40_000)],
        ..ConsumerSubscription::default()
    };
    assert_eq!(long.encode(), Err(TooLong("topics")));
}

#[test]
fn a_message_of_too_many_names_is_refused() {
    // MAX_ELEMENTS + 1 empty topic names: two bytes each.
    let count = MAX_ELEMENTS + 1;
    let mut bytes = vec![0, 0];
    bytes.extend_from_slice(&u32::try_from(count).unwrap().to_be_bytes());
    bytes.resize(bytes.len() + 2 * count, 0);
    let decoded = ConsumerSubscription::decode(Bytes::from(bytes));
    assert_eq!(
        decoded,
        Err(ConsumerProtocolError::TooManyElements(MAX_ELEMENTS))
    );
}

fn topic_partitions() -> impl Strategy<Value = Vec<TopicPartitions>> {
    let entry = ("[a-z.]{0,8}", proptest::collection::vec(any::<i32>(), 0..5));
    proptest::collection::vec(entry, 0..4).prop_map(|entries| {
        entries
            .into_iter()
            .map(|(topic, partitions)| TopicPartitions { topic, partitions })
            .collect()
    })
}

fn user_data() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8).prop_map(Bytes::from))
}

proptest! {
    #[test]
    fn subscriptions_round_trip(
        version in 0i16..=3,
        topics in proptest::collection::vec("[a-zA-Z0-9._-]{0,12}", 0..5),
        user_data in user_data(),
        owned in topic_partitions(),
        generation in any::<i32>(),
        rack in proptest::option::of("[a-z0-9]{0,6}"),
    ) {
        let subscription = ConsumerSubscription {
            version,
            topics,
            user_data,
            owned_partitions: if version >= 1 { owned } else { Vec::new() },
            generation: if version >= 2 { generation } else { -1 },
            rack: if version >= 3 { rack } else { None },
        };
        let bytes = subscription.encode().unwrap();
        prop_assert_eq!(ConsumerSubscription::decode(bytes.clone()).unwrap(), subscription.clone());
        // Every strict prefix is refused, never misread or a panic.
        for end in 0..bytes.len() {
            prop_assert!(ConsumerSubscription::decode(bytes.slice(..end)).is_err());
        }
    }

    #[test]
    fn assignments_round_trip(version in 0i16..=3, assigned in topic_partitions(), user_data in user_data()) {
        let assignment = ConsumerAssignment { version, assigned_partitions: assigned, user_data };
        let bytes = assignment.encode().unwrap();
        prop_assert_eq!(ConsumerAssignment::decode(bytes.clone()).unwrap(), assignment);
        for end in 0..bytes.len() {
            prop_assert!(ConsumerAssignment::decode(bytes.slice(..end)).is_err());
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = ConsumerSubscription::decode(Bytes::from(bytes.clone()));
        let _ = ConsumerAssignment::decode(Bytes::from(bytes));
    }
}
