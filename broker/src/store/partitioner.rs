//! The partition a keyed record goes to, chosen as Kafka's Java client (and
//! kafka-python, and librdkafka's `murmur2_random`) choose it: the key's murmur2
//! hash, made positive by clearing its sign bit, modulo the partition count. A
//! client that picks partitions itself and one that leaves it to the broker then
//! agree, so records with one key stay in one partition whoever produced them.
//!
//! Pure functions: this file must never allocate, panic (a partition count of 0
//! gives `None`) or depend on anything but the bytes given.

/// Kafka's `Utils.murmur2`: MurmurHash2, 32 bits, seed `0x9747b28c`, words read
/// little-endian.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java's `seed ^ length` on an int: a length past 2^31 wraps the same way.
    let mut hash = SEED ^ (data.len() as u32);
    let mut words = data.chunks_exact(4);
    for word in &mut words {
        let Ok(word) = <[u8; 4]>::try_from(word) else {
            continue;
        };
        let mut k = u32::from_le_bytes(word);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        hash = hash.wrapping_mul(M);
        hash ^= k;
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (index, byte) in tail.iter().enumerate().rev() {
            hash ^= u32::from(*byte) << (8 * index);
        }
        hash = hash.wrapping_mul(M);
    }
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(M);
    hash ^= hash >> 15;
    hash as i32
}

/// The partition of `partitions` that Kafka's default partitioner gives `key`:
/// `toPositive(murmur2(key)) % partitions`; `None` when there are no partitions.
pub fn partition_for_key(key: &[u8], partitions: u32) -> Option<u32> {
    if partitions == 0 {
        return None;
    }
    let positive = (murmur2(key) as u32) & 0x7fff_ffff;
    Some(positive % partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's own vectors (`UtilsTest.testMurmur2`), and those Akka checked
    /// against Kafka's implementation.
    #[test]
    fn kafkas_test_vectors() {
        let cases: [(&[u8], i32); 11] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
            (b"1", -1_993_445_489),
            (b"12", 126_087_238),
            (b"123", -267_702_483),
            (b"1234", -1_614_185_708),
            (b"12345", -1_188_365_604),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key), expected, "{:?}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn partitions_follow_the_positive_hash() {
        // toPositive(-973932308) = 1173551340; 1173551340 % 7 = 1173551340 - 7 * 167650191.
        assert_eq!(partition_for_key(b"21", 7), Some(1_173_551_340 % 7));
        assert_eq!(partition_for_key(b"abc", 1), Some(0));
        assert_eq!(partition_for_key(b"abc", 0), None);
        assert_eq!(
            partition_for_key(b"", 10),
            Some(((murmur2(b"") as u32) & 0x7fff_ffff) % 10)
        );
    }
}
