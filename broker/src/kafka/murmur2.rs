//! Kafka's key partitioner: `murmur2` exactly as `org.apache.kafka.common.utils.Utils`
//! computes it, and `toPositive(murmur2(key)) % partitions`, the partition Kafka's
//! Java client (`BuiltInPartitioner.partitionForKey`) and kafka-python's default
//! partitioner choose for a keyed record.
//!
//! A key must land on the same partition whichever client wrote it; this module must
//! never differ from Kafka's arithmetic by one bit.

/// Kafka's `Utils.murmur2`: MurmurHash2, 32 bits, seed `0x9747b28c`, the bytes read
/// four at a time little-endian, as a Java `int`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java's `int length`: the low 32 bits.
    let mut h = SEED ^ (data.len() as u32);
    let (chunks, tail) = data.as_chunks::<4>();
    for &chunk in chunks {
        let mut k = u32::from_le_bytes(chunk);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    if !tail.is_empty() {
        for (index, &byte) in tail.iter().enumerate().rev() {
            h ^= u32::from(byte) << (8 * index);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: the sign bit cleared (not `abs`).
pub const fn to_positive(number: i32) -> i32 {
    number & 0x7fff_ffff
}

/// The partition of `key` among `partitions` (`None` for 0 partitions).
pub fn partition_for_key(key: &[u8], partitions: u32) -> Option<u32> {
    let hash = to_positive(murmur2(key)) as u32;
    hash.checked_rem(partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `UtilsTest.testMurmur2` in apache/kafka (clients/src/test/java/org/apache/
    /// kafka/common/utils/UtilsTest.java), case for case.
    #[test]
    fn matches_kafkas_utils_test() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107), // new byte[] {'a', 'b', 'c'}
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key), expected, "{}", key.escape_ascii());
        }
        // And those Akka checked against Kafka's implementation.
        let cases: [(&[u8], i32); 5] = [
            (b"1", -1_993_445_489),
            (b"12", 126_087_238),
            (b"123", -267_702_483),
            (b"1234", -1_614_185_708),
            (b"12345", -1_188_365_604),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key), expected, "{}", key.escape_ascii());
        }
    }

    #[test]
    fn to_positive_masks_the_sign_bit() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(-973_932_308), 1_173_551_340);
        assert_eq!(to_positive(42), 42);
    }

    #[test]
    fn partitions_as_the_java_client() {
        // (-790332482 & 0x7fffffff) = 1357151166; % 50 = 16.
        assert_eq!(partition_for_key(b"foobar", 50), Some(16));
        // 1173551340 % 7 = 3; 479470107 % 12 = 3.
        assert_eq!(partition_for_key(b"21", 7), Some(3));
        assert_eq!(partition_for_key(b"abc", 12), Some(3));
        assert_eq!(partition_for_key(b"abc", 1), Some(0));
        assert_eq!(partition_for_key(b"abc", 0), None);
    }
}
