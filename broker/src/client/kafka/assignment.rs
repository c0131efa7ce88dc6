//! Kafka's `ConsumerProtocolAssignment`: what a consumer group's leader gave one
//! member, as DescribeGroups carries it for a group of protocol type
//! `consumer` (int16 version, then topics and their partitions, then user data).
//!
//! Every version (0 to 3) starts the same way; bytes a newer version adds after
//! the user data are ignored, as Kafka's own reader ignores them. Read with the
//! door's `Reader`: it must never panic on a member's bytes, and never allocate
//! beyond what they could need.

use bytes::Bytes;

use crate::doors::kafka::{DecodeError, Reader};

/// One topic's partitions in an assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignedTopic {
    /// The topic.
    pub topic: String,
    /// Its partitions assigned to the member.
    pub partitions: Vec<i32>,
}

/// A member's assignment in a `consumer` group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerAssignment {
    /// The assignment's version (0 to 3 today).
    pub version: i16,
    /// The topics and partitions assigned.
    pub topics: Vec<AssignedTopic>,
    /// The assignor's user data (null in most clients).
    pub user_data: Option<Bytes>,
}

impl ConsumerAssignment {
    /// Reads an assignment. Empty bytes (a member not yet assigned, or a group
    /// rebalancing) are no assignment; user data missing at the very end is
    /// null, and trailing bytes are ignored.
    pub fn decode(bytes: Bytes) -> Result<ConsumerAssignment, DecodeError> {
        if bytes.is_empty() {
            return Ok(ConsumerAssignment::default());
        }
        let mut reader = Reader::new(bytes, false);
        let version = reader.i16("the assignment version")?;
        // A topic is at least a name's length and a partition count.
        let topics = reader.array("the assigned topics", 6, |reader| {
            let topic = reader.string("an assigned topic")?;
            let partitions = reader.array("the assigned partitions", 4, |reader| {
                reader.i32("an assigned partition")
            })?;
            Ok(AssignedTopic { topic, partitions })
        })?;
        let user_data = if reader.remaining() == 0 {
            None
        } else {
            reader.nullable_bytes("the user data")?
        };
        Ok(ConsumerAssignment {
            version,
            topics,
            user_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kafka-python 3.0.12's `ConsumerProtocolAssignment(0, [("orders", [0, 2]),
    /// ("audit", [1])], USER_DATA).encode()`, without the user data.
    const TOPICS: &str = "00000000000200066f72646572730000000200000000000000020005617564697400000001\
                          00000001";
    /// The user data b"" and None.
    const EMPTY: &str = "00000000";
    const NULL: &str = "ffffffff";

    fn unhex(parts: &[&str]) -> Vec<u8> {
        let text: String = parts.concat();
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
            .collect()
    }

    fn decode(bytes: Vec<u8>) -> Result<ConsumerAssignment, DecodeError> {
        ConsumerAssignment::decode(bytes.into())
    }

    #[test]
    fn kafka_pythons_assignments_read_with_their_topics_and_partitions() {
        let topics = vec![
            AssignedTopic {
                topic: "orders".into(),
                partitions: vec![0, 2],
            },
            AssignedTopic {
                topic: "audit".into(),
                partitions: vec![1],
            },
        ];
        assert_eq!(
            decode(unhex(&[TOPICS, EMPTY])).unwrap(),
            ConsumerAssignment {
                version: 0,
                topics: topics.clone(),
                user_data: Some(Bytes::new()),
            }
        );
        assert_eq!(
            decode(unhex(&[TOPICS, NULL])).unwrap(),
            ConsumerAssignment {
                version: 0,
                topics,
                user_data: None,
            }
        );
    }

    #[test]
    fn missing_user_data_is_null_and_trailing_bytes_are_ignored() {
        assert_eq!(decode(unhex(&[TOPICS])).unwrap().user_data, None);
        let longer = decode(unhex(&[TOPICS, EMPTY, "0102030405"])).unwrap();
        assert_eq!(longer, decode(unhex(&[TOPICS, EMPTY])).unwrap());
        assert_eq!(decode(Vec::new()).unwrap(), ConsumerAssignment::default());
    }

    #[test]
    fn a_cut_or_lying_assignment_is_an_error_not_a_panic() {
        let whole = unhex(&[TOPICS, "000000027777"]);
        // Cut inside the topics or the user data it is an error; cut right
        // after the topics it is a whole assignment without user data.
        let topics_end = unhex(&[TOPICS]).len();
        for length in 1..whole.len() {
            let result = decode(whole[..length].to_vec());
            assert_eq!(
                result.is_ok(),
                length == topics_end,
                "cut at {length}: {result:?}"
            );
        }
        assert!(decode(unhex(&["0000", "7fffffff"])).is_err());
        assert!(decode(unhex(&[TOPICS, "7fffffff"])).is_err());
    }
}
