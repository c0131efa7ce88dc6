//! CRC-32C (Castagnoli), the checksum of record batches and of the checkpoint.
//!
//! Every appended and every served batch is checksummed whole, so this is on both
//! hot paths. The `crc32c` crate runs the `crc32` instruction, which does at most
//! eight bytes a cycle. On x86-64 CPUs with VPCLMULQDQ, long inputs here go in
//! strides of 4352 bytes: three `crc32` chains over the first 2304 while the
//! carry-less multiplier folds the other 2048, 128 bytes at a time, so both units
//! work at once (64 KiB in 1.9 µs instead of 2.9 on the 2.45 GHz EPYC of
//! BENCHMARKS.md). Everything else goes to the `crc32c` crate.
//!
//! This module must return exactly what `crc32c::crc32c` returns for every input
//! (the tests compare them), and must never read outside the slice it is given:
//! its only `unsafe` is the call made once the CPU's features are checked, and the
//! unaligned loads of 32-byte arrays.

/// Inputs shorter than this go to the `crc32c` crate (folding needs at least 128
/// bytes, and pays only past a few rounds of it).
const FOLDED_FROM: usize = 512;

/// The CRC-32C of `data`, as `crc32c::crc32c` computes it.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    if data.len() >= FOLDED_FROM && fold::available() {
        // SAFETY: the CPU has every feature `fold::crc32c` is compiled for
        // (`available` just checked), which is all its safety needs.
        return unsafe { fold::crc32c(data) };
    }
    crc32c::crc32c(data)
}

#[cfg(all(target_arch = "x86_64", not(miri)))]
mod fold {
    //! The folding itself. A 128-bit block stands for its bits as a polynomial over
    //! GF(2), the message's first bit the highest power (CRC-32C is bit-reflected:
    //! the first bit is a byte's lowest). Moving a block `D` bits further on
    //! multiplies it by x^D, and modulo the CRC's polynomial its two 64-bit halves
    //! can be multiplied by x^(D+64) and x^D reduced to 32 bits, which gives at most
    //! 96 bits: a block again, XORed into the one `D` bits on. `pclmulqdq` of
    //! bit-reflected operands yields the product one bit short of where a block
    //! keeps it, so the constants are one power lower (x^(D+63), x^(D-1)).
    //!
    //! A `crc32` chain's 32-bit remainder of its bytes stands for a block right
    //! after them, so it moves on the same way. What a stride stands for is carried
    //! into the next as a 256-bit value XORed into its first 32 bytes (the first
    //! carry is the all-ones initial register), and the last few kilobytes are
    //! folded alone; the `crc32c` crate finishes the last block and the tail.

    use std::arch::x86_64::{
        __m128i, __m256i, _mm_clmulepi64_si128, _mm_crc32_u64, _mm_extract_epi64, _mm_set_epi64x,
        _mm_xor_si128, _mm256_castsi256_si128, _mm256_clmulepi64_epi128, _mm256_extracti128_si256,
        _mm256_loadu_si256, _mm256_set_epi32, _mm256_set_epi64x, _mm256_setzero_si256,
        _mm256_xor_si256, _mm256_zextsi128_si256,
    };

    /// CRC-32C's polynomial, x^32 included.
    const POLYNOMIAL: u64 = 0x1_1EDC_6F41;

    /// Rounds in a stride: each folds 128 bytes and runs each of the three `crc32`
    /// chains over `CHAIN_WORDS` words, which keeps the carry-less multiplier and
    /// the `crc32` unit about equally busy.
    const ROUNDS: usize = 16;
    const CHAIN_WORDS: usize = 6;
    /// The bytes each `crc32` chain covers in a stride.
    const CHAIN_BYTES: usize = 8 * CHAIN_WORDS * ROUNDS;
    /// The bytes folded in a stride, after the three chains' bytes.
    const FOLDED_BYTES: usize = 128 * ROUNDS;
    const STRIDE: usize = 3 * CHAIN_BYTES + FOLDED_BYTES;

    /// x^exponent modulo the polynomial, bit-reflected into 64 bits (the
    /// coefficient of x^i at bit 63 - i), as `pclmulqdq` takes it.
    const fn power(exponent: u32) -> i64 {
        let mut remainder: u64 = 1;
        let mut step = 0;
        while step < exponent {
            remainder <<= 1;
            if remainder & (1 << 32) != 0 {
                remainder ^= POLYNOMIAL;
            }
            step += 1;
        }
        remainder.reverse_bits() as i64
    }

    /// The pair of constants that moves a block `bits` on: for its first half
    /// (lower in the register, higher powers) and for its second.
    const fn distance(bits: u32) -> (i64, i64) {
        (power(bits + 63), power(bits - 1))
    }

    const BY_1024: (i64, i64) = distance(1024);
    const BY_768: (i64, i64) = distance(768);
    const BY_512: (i64, i64) = distance(512);
    const BY_256: (i64, i64) = distance(256);
    const BY_128: (i64, i64) = distance(128);
    /// Moves a stride's first 32 bytes past the three chains' parts.
    const OVER_CHAINS: (i64, i64) = distance((8 * 3 * CHAIN_BYTES) as u32);
    /// A chain's remainder stands for a block right after its bytes; these move
    /// each chain's to the start of the next stride (only a first half: the
    /// remainder is 32 bits).
    const CHAIN_MOVES: [i64; 3] = [
        distance((8 * (2 * CHAIN_BYTES + FOLDED_BYTES)) as u32).0,
        distance((8 * (CHAIN_BYTES + FOLDED_BYTES)) as u32).0,
        distance((8 * FOLDED_BYTES) as u32).0,
    ];

    pub(super) fn available() -> bool {
        std::is_x86_feature_detected!("vpclmulqdq")
            && std::is_x86_feature_detected!("pclmulqdq")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("sse4.2")
    }

    /// Both lanes of a 256-bit register get the same pair of constants.
    #[target_feature(enable = "avx2")]
    fn constants((first, second): (i64, i64)) -> __m256i {
        _mm256_set_epi64x(second, first, second, first)
    }

    #[target_feature(enable = "avx2")]
    fn load(block: &[u8; 32]) -> __m256i {
        // SAFETY: `block` is 32 readable bytes, which is what the unaligned load
        // reads.
        unsafe { _mm256_loadu_si256(block.as_ptr().cast()) }
    }

    /// Each lane of `blocks` moved on by the distance of `by`, XORed into `into`.
    #[target_feature(enable = "avx2,vpclmulqdq")]
    fn fold(blocks: __m256i, by: __m256i, into: __m256i) -> __m256i {
        let first = _mm256_clmulepi64_epi128::<0x00>(blocks, by);
        let second = _mm256_clmulepi64_epi128::<0x11>(blocks, by);
        _mm256_xor_si256(_mm256_xor_si256(first, second), into)
    }

    /// The CRC-32C of `data`, at least 128 bytes long (else the `crc32c` crate's).
    /// The part before the last few kilobytes goes in strides, the rest is
    /// folded alone.
    #[target_feature(enable = "avx2,pclmulqdq,vpclmulqdq,sse4.1,sse4.2")]
    pub(super) fn crc32c(data: &[u8]) -> u32 {
        let strides = data.len().saturating_sub(128) / STRIDE;
        let Some((striped, rest)) = data.split_at_checked(strides * STRIDE) else {
            return crc32c::crc32c(data);
        };
        // The initial register value (all ones) XORed into the first 32 bits makes
        // the rest a plain remainder with nothing added at the start or end.
        let mut carry = _mm256_set_epi32(0, 0, 0, 0, 0, 0, 0, -1);
        for stride in striped.as_chunks::<STRIDE>().0 {
            match self::stride(stride, carry) {
                Some(next) => carry = next,
                None => return crc32c::crc32c(data),
            }
        }
        folded(rest, carry).unwrap_or_else(|| crc32c::crc32c(data))
    }

    /// One stride: three `crc32` chains over its first three parts while the
    /// fourth is folded, then all four moved on to the next stride's first 32
    /// bytes. `carry` is what the bytes before stand for there. (`None` cannot
    /// happen: every length here is fixed.)
    #[target_feature(enable = "avx2,pclmulqdq,vpclmulqdq,sse4.1,sse4.2")]
    fn stride(stride: &[u8; STRIDE], carry: __m256i) -> Option<__m256i> {
        let (first, rest) = stride.split_at_checked(CHAIN_BYTES)?;
        let (second, rest) = rest.split_at_checked(CHAIN_BYTES)?;
        let (third, folded) = rest.split_at_checked(CHAIN_BYTES)?;
        let chains = rounds(first).iter().zip(rounds(second)).zip(rounds(third));
        let (start, mut later) = folded.as_chunks::<128>().0.split_first()?;
        let [a, b, c, d] = start.as_chunks::<32>().0 else {
            return None;
        };
        // The carry moves past the chains' parts onto the folded part's start.
        let mut lanes = [
            fold(carry, constants(OVER_CHAINS), load(a)),
            load(b),
            load(c),
            load(d),
        ];
        let (mut one, mut two, mut three) = (0u64, 0u64, 0u64);
        let by_1024 = constants(BY_1024);
        for ((first, second), third) in chains {
            for ((first, second), third) in first.iter().zip(second).zip(third) {
                one = _mm_crc32_u64(one, u64::from_le_bytes(*first));
                two = _mm_crc32_u64(two, u64::from_le_bytes(*second));
                three = _mm_crc32_u64(three, u64::from_le_bytes(*third));
            }
            if let Some((blocks, rest)) = later.split_first() {
                later = rest;
                for (lane, block) in lanes.iter_mut().zip(blocks.as_chunks::<32>().0) {
                    *lane = fold(*lane, by_1024, load(block));
                }
            }
        }
        let [a, b, c, d] = lanes;
        let zero = _mm256_setzero_si256();
        let lanes = fold(
            a,
            by_1024,
            fold(
                b,
                constants(BY_768),
                fold(c, constants(BY_512), fold(d, constants(BY_256), zero)),
            ),
        );
        let mut moved = _mm_set_epi64x(0, 0);
        for (remainder, by) in [one, two, three].into_iter().zip(CHAIN_MOVES) {
            moved = _mm_xor_si128(
                moved,
                _mm_clmulepi64_si128::<0x00>(
                    _mm_set_epi64x(0, remainder as i64),
                    _mm_set_epi64x(0, by),
                ),
            );
        }
        Some(_mm256_xor_si256(lanes, _mm256_zextsi128_si256(moved)))
    }

    /// A chain's part as rounds of `CHAIN_WORDS` words.
    fn rounds(part: &[u8]) -> &[[[u8; 8]; CHAIN_WORDS]] {
        part.as_chunks::<8>().0.as_chunks::<CHAIN_WORDS>().0
    }

    /// The CRC-32C of a message whose earlier bytes `carry` stands for (XORed into
    /// the first 32 bytes of `data`), `data` being at least 128 bytes long.
    #[target_feature(enable = "avx2,pclmulqdq,vpclmulqdq,sse4.1,sse4.2")]
    fn folded(data: &[u8], carry: __m256i) -> Option<u32> {
        let (blocks, tail) = data.as_chunks::<32>();
        let ([a, b, c, d], rest) = blocks.split_first_chunk::<4>()?;
        let mut lanes = [_mm256_xor_si256(load(a), carry), load(b), load(c), load(d)];
        let (groups, singles) = rest.as_chunks::<4>();
        let by_1024 = constants(BY_1024);
        for group in groups {
            for (lane, block) in lanes.iter_mut().zip(group) {
                *lane = fold(*lane, by_1024, load(block));
            }
        }
        let by_256 = constants(BY_256);
        let [a, b, c, d] = lanes;
        let mut folded = fold(
            a,
            constants(BY_768),
            fold(b, constants(BY_512), fold(c, by_256, d)),
        );
        for block in singles {
            folded = fold(folded, by_256, load(block));
        }
        let (first, second) = BY_128;
        let by_128 = _mm_set_epi64x(second, first);
        let earlier: __m128i = _mm256_castsi256_si128(folded);
        let later = _mm256_extracti128_si256::<1>(folded);
        let last = _mm_xor_si128(
            _mm_xor_si128(
                _mm_clmulepi64_si128::<0x00>(earlier, by_128),
                _mm_clmulepi64_si128::<0x11>(earlier, by_128),
            ),
            later,
        );
        // What is left: the last block, then the tail of fewer than 32 bytes. Its
        // remainder is the whole message's; the `crc32c` crate starting from a
        // register of zero (its `append` from all ones) gives it, inverted.
        let mut rest = [0u8; 48];
        let length = 16 + tail.len();
        let (block, after) = rest.split_at_mut(16);
        let (low, high) = block.split_at_mut(8);
        low.copy_from_slice(&(_mm_extract_epi64::<0>(last) as u64).to_le_bytes());
        high.copy_from_slice(&(_mm_extract_epi64::<1>(last) as u64).to_le_bytes());
        after.get_mut(..tail.len())?.copy_from_slice(tail);
        Some(crc32c::crc32c_append(u32::MAX, rest.get(..length)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(length: usize, seed: u64) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    /// Every length around the thresholds and the block sizes, so the first group,
    /// every count of leftover blocks and every tail length are each taken.
    #[test]
    fn matches_the_crc32c_crate_at_every_length_near_the_edges() {
        // Past 4352 + 128 bytes, whole strides of 4352 come first.
        let strides = (4_380..4_700).chain(8_700..8_900);
        for length in (0..1_200).chain(strides).chain(65_500..65_600) {
            let data = bytes(length, length as u64);
            assert_eq!(crc32c(&data), crc32c::crc32c(&data), "length {length}");
        }
    }

    /// The check value of the CRC-32C catalogue entry ("123456789"), and the same
    /// nine bytes repeated past the folding threshold.
    #[test]
    fn known_values() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        let long = b"123456789".repeat(1000);
        assert_eq!(crc32c(&long), crc32c::crc32c(&long));
        assert_eq!(crc32c(&[0u8; 4096]), crc32c::crc32c(&[0u8; 4096]));
        assert_eq!(crc32c(&[0xFFu8; 4096]), crc32c::crc32c(&[0xFFu8; 4096]));
    }

    proptest! {
        #[test]
        fn matches_the_crc32c_crate(data in proptest::collection::vec(any::<u8>(), 0..5000)) {
            prop_assert_eq!(crc32c(&data), crc32c::crc32c(&data));
        }

        /// A single flipped bit anywhere changes the CRC.
        #[test]
        fn one_flipped_bit_changes_it(length in 512usize..3000, position in any::<usize>(), bit in 0u8..8) {
            let mut data = bytes(length, 7);
            let before = crc32c(&data);
            let position = position % length;
            data[position] ^= 1 << bit;
            prop_assert_ne!(crc32c(&data), before);
        }
    }
}
