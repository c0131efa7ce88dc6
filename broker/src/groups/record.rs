//! Committed offsets as records of the internal compacted topic that keeps them
//! durably, in the layout of Kafka's own `__consumer_offsets` (an offset commit key
//! of version 1: group, topic, partition; a value of version 3: offset, leader
//! epoch, metadata, commit timestamp), so the newest commit per key survives
//! compaction and Kafka's tools would read them.
//!
//! Decoding must never panic or allocate more than the record holds; a key of
//! another kind (Kafka's group metadata, version 2) or a value of an unknown
//! version is skipped, not an error, so a newer broker's records do not stop an
//! older one from starting.

use super::{CommittedOffset, OffsetCommitted};

/// The key version of an offset commit.
const OFFSET_KEY_VERSION: i16 = 1;
/// The value version written (with the leader epoch, without expiry).
const OFFSET_VALUE_VERSION: i16 = 3;

fn put_string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let length = i16::try_from(bytes.len()).unwrap_or(i16::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&bytes[..length as usize]);
}

impl OffsetCommitted {
    /// The record's key: one per group, topic and partition.
    pub fn key(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.group.len() + self.offset.topic.len());
        out.extend_from_slice(&OFFSET_KEY_VERSION.to_be_bytes());
        put_string(&mut out, &self.group);
        put_string(&mut out, &self.offset.topic);
        out.extend_from_slice(&self.offset.partition.to_be_bytes());
        out
    }

    /// The record's value, stamped with the commit's time (ms since the epoch).
    pub fn value(&self, commit_timestamp: i64) -> Vec<u8> {
        let metadata = self.offset.metadata.as_deref().unwrap_or("");
        let mut out = Vec::with_capacity(26 + metadata.len());
        out.extend_from_slice(&OFFSET_VALUE_VERSION.to_be_bytes());
        out.extend_from_slice(&self.offset.offset.to_be_bytes());
        out.extend_from_slice(&self.offset.leader_epoch.to_be_bytes());
        put_string(&mut out, metadata);
        out.extend_from_slice(&commit_timestamp.to_be_bytes());
        out
    }

    /// An offset commit's key: group, topic and partition (what a tombstone, a
    /// record with this key and no value, removes); `None` for other keys.
    pub fn decode_key(key: &[u8]) -> Option<(String, String, i32)> {
        let mut key = Reader(key);
        if key.i16()? != OFFSET_KEY_VERSION {
            return None;
        }
        Some((key.string()?, key.string()?, key.i32()?))
    }

    /// A stored record as a commit; `None` for other kinds of records, unknown
    /// versions, and anything malformed.
    pub fn decode(key: &[u8], value: &[u8]) -> Option<OffsetCommitted> {
        let (group, topic, partition) = OffsetCommitted::decode_key(key)?;
        let mut value = Reader(value);
        let version = value.i16()?;
        if !(1..=OFFSET_VALUE_VERSION).contains(&version) {
            return None;
        }
        let offset = value.i64()?;
        let leader_epoch = if version >= 3 { value.i32()? } else { -1 };
        let metadata = value.string()?;
        Some(OffsetCommitted {
            group,
            offset: CommittedOffset {
                topic,
                partition,
                offset,
                leader_epoch,
                metadata: Some(metadata),
            },
        })
    }
}

/// Big-endian fields read off the front of a slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, count: usize) -> Option<&[u8]> {
        if self.0.len() < count {
            return None;
        }
        let (head, rest) = self.0.split_at(count);
        self.0 = rest;
        Some(head)
    }

    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn string(&mut self) -> Option<String> {
        let length = usize::try_from(self.i16()?).ok()?;
        String::from_utf8(self.take(length)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_commit_is_laid_out_as_kafkas_offset_commit_key_and_value() {
        let committed = OffsetCommitted {
            group: "g".to_owned(),
            offset: CommittedOffset {
                topic: "t".to_owned(),
                partition: 2,
                offset: 42,
                leader_epoch: 5,
                metadata: Some("m".to_owned()),
            },
        };
        assert_eq!(
            committed.key(),
            [0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 2],
            "version 1, group, topic, partition"
        );
        assert_eq!(
            committed.value(1_700_000_000_000),
            [
                0, 3, // version 3
                0, 0, 0, 0, 0, 0, 0, 42, // offset
                0, 0, 0, 5, // leader epoch
                0, 1, b'm', // metadata
                0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commit timestamp
            ]
        );
        // Kafka's version 1 value: offset, metadata, commit and expire timestamps.
        let version_one = [0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let decoded = OffsetCommitted::decode(&committed.key(), &version_one).expect("decoded");
        assert_eq!(
            (decoded.offset.offset, decoded.offset.leader_epoch),
            (9, -1)
        );
        // A group metadata key (version 2) is not an offset.
        assert_eq!(OffsetCommitted::decode(&[0, 2, 0, 1, b'g'], &[0, 3]), None);
    }

    proptest! {
        #[test]
        fn commits_round_trip_and_any_bytes_decode_without_panicking(
            group in "[a-z]{0,20}",
            topic in "[a-z.]{1,30}",
            partition in any::<i32>(),
            offset in any::<i64>(),
            leader_epoch in any::<i32>(),
            metadata in ".{0,40}",
            garbage in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let committed = OffsetCommitted {
                group,
                offset: CommittedOffset { topic, partition, offset, leader_epoch, metadata: Some(metadata) },
            };
            let decoded = OffsetCommitted::decode(&committed.key(), &committed.value(7));
            prop_assert_eq!(decoded, Some(committed.clone()));
            let _ = OffsetCommitted::decode(&garbage, &garbage);
            let _ = OffsetCommitted::decode(&committed.key(), &garbage);
        }
    }
}
