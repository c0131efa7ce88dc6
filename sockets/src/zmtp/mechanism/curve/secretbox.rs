//! XSalsa20-Poly1305 under a precomputed key (NaCl's `crypto_box_afternm`, which
//! is `crypto_secretbox` keyed by HSalsa20 of the X25519 secret), written here for
//! speed: every MESSAGE of a CURVE connection goes through it.
//!
//! Why not RustCrypto's, which the handshake keeps using: its Salsa20 has only a
//! portable backend, and its Poly1305 sets up its AVX2 backend on every message,
//! which costs more than a small message's whole box (see BENCHMARKS.md, "CURVE
//! throughput"). Here Salsa20 runs eight blocks at a time in AVX2 registers
//! where the processor has them (rotating with AVX-512VL's instruction where it
//! has that too), four at a time in SSE2 registers on any x86_64,
//! one at a time elsewhere and for the last blocks, and Poly1305 is the
//! 64-bit "donna" arithmetic for short texts and RustCrypto's for long ones, where
//! its set-up is paid back. Both are checked against RustCrypto's on every length
//! and against published vectors (tests at the end).
//!
//! This file must never release plaintext whose tag did not verify, compare tags
//! in a time that depends on where they differ, or keep a key after it is
//! dropped (keys are zeroed).

use crate::curve::{PublicKey, SecretKey};
use crypto_box::aead::consts::{U0, U16, U24};
use crypto_box::aead::generic_array::GenericArray;
use crypto_box::aead::{AeadCore, AeadInPlace, Error};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// "expand 32-byte k", Salsa20's constant words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
/// Salsa20's block.
const BLOCK: usize = 64;
/// Texts at least this long take RustCrypto's Poly1305 (its AVX2 set-up is paid
/// back); shorter ones the scalar one here.
const LONG_TEXT: usize = 4096;

/// A box keyed by HSalsa20 of an X25519 secret; zeroed when dropped.
pub(crate) struct SecretBox {
    key: Zeroizing<[u32; 8]>,
}

impl SecretBox {
    /// The box between `ours` and `peer` (libsodium's `crypto_box_beforenm`).
    pub(crate) fn precompute(peer: &PublicKey, ours: &SecretKey) -> SecretBox {
        // X25519: the peer's point times our clamped secret.
        let point = curve25519_dalek::montgomery::MontgomeryPoint(*peer.as_bytes());
        let secret = Zeroizing::new(*ours.as_bytes());
        let shared = Zeroizing::new(point.mul_clamped(*secret).to_bytes());
        let key = Zeroizing::new(words(&shared));
        SecretBox {
            key: Zeroizing::new(hsalsa20(&key, &[0; 16])),
        }
    }

    /// The box under a symmetric key (`crypto_secretbox`).
    #[cfg(test)]
    pub(crate) fn from_key(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            key: Zeroizing::new(words(key)),
        }
    }

    /// Seals `text` in place; returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 24], text: &mut [u8]) -> [u8; 16] {
        let stream = Keystream::new(&self.key, nonce);
        stream.apply(text);
        poly1305(&stream.poly_key, text)
    }

    /// Opens `text` in place if `tag` is its tag; else leaves it as it was.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 24],
        text: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), Error> {
        let stream = Keystream::new(&self.key, nonce);
        let expected = poly1305(&stream.poly_key, text);
        if !bool::from(expected.ct_eq(tag)) {
            return Err(Error);
        }
        stream.apply(text);
        Ok(())
    }
}

/// XSalsa20's keystream for one nonce: the subkey and block 0, whose first half
/// is the Poly1305 key and second half the stream for the text's first 32 bytes.
struct Keystream {
    subkey: Zeroizing<[u32; 8]>,
    nonce: [u8; 8],
    poly_key: Zeroizing<[u8; 32]>,
    head: Zeroizing<[u8; 32]>,
}

impl Keystream {
    fn new(key: &[u32; 8], nonce: &[u8; 24]) -> Keystream {
        let (prefix, tail) = split_nonce(nonce);
        let subkey = Zeroizing::new(hsalsa20(key, &prefix));
        let mut first = Zeroizing::new([0u8; BLOCK]);
        salsa20_block(&subkey, &tail, 0, &mut first);
        let mut poly_key = Zeroizing::new([0u8; 32]);
        let mut head = Zeroizing::new([0u8; 32]);
        for (to, from) in poly_key.iter_mut().chain(head.iter_mut()).zip(first.iter()) {
            *to = *from;
        }
        Keystream {
            subkey,
            nonce: tail,
            poly_key,
            head,
        }
    }

    /// XORs `text` with the stream (from byte 32 of block 0 on).
    fn apply(&self, text: &mut [u8]) {
        for (byte, key) in text.iter_mut().zip(self.head.iter()) {
            *byte ^= key;
        }
        if let Some(rest) = text.get_mut(32..) {
            xor_stream(&self.subkey, &self.nonce, 1, rest);
        }
    }
}

/// A 24-byte nonce's HSalsa20 input (16 bytes) and Salsa20 nonce (8 bytes).
fn split_nonce(nonce: &[u8; 24]) -> ([u8; 16], [u8; 8]) {
    let mut prefix = [0u8; 16];
    let mut tail = [0u8; 8];
    for (to, from) in prefix.iter_mut().chain(tail.iter_mut()).zip(nonce.iter()) {
        *to = *from;
    }
    (prefix, tail)
}

impl AeadCore for SecretBox {
    type NonceSize = U24;
    type TagSize = U16;
    type CiphertextOverhead = U0;
}

impl AeadInPlace for SecretBox {
    fn encrypt_in_place_detached(
        &self,
        nonce: &GenericArray<u8, U24>,
        associated_data: &[u8],
        buffer: &mut [u8],
    ) -> Result<GenericArray<u8, U16>, Error> {
        if !associated_data.is_empty() {
            return Err(Error);
        }
        let nonce: [u8; 24] = (*nonce).into();
        Ok(self.seal(&nonce, buffer).into())
    }

    fn decrypt_in_place_detached(
        &self,
        nonce: &GenericArray<u8, U24>,
        associated_data: &[u8],
        buffer: &mut [u8],
        tag: &GenericArray<u8, U16>,
    ) -> Result<(), Error> {
        if !associated_data.is_empty() {
            return Err(Error);
        }
        let nonce: [u8; 24] = (*nonce).into();
        let tag: [u8; 16] = (*tag).into();
        self.open(&nonce, buffer, &tag)
    }
}

/// Little-endian words of a 32-byte key.
fn words(bytes: &[u8; 32]) -> [u32; 8] {
    let mut words = [0u32; 8];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = <[u8; 4]>::try_from(chunk).map_or(0, u32::from_le_bytes);
    }
    words
}

/// Salsa20's sixteen input words: the constants `sigma`, the `key`, and words 6
/// to 9 (nonce and counter) `input`. A word is a `u32` for one block, or one
/// SIMD register holding that word of several blocks side by side.
#[inline(always)]
fn state<T: Copy>(sigma: [T; 4], key: [T; 8], input: [T; 4]) -> [T; 16] {
    [
        sigma[0], key[0], key[1], key[2], key[3], sigma[1], input[0], input[1], input[2], input[3],
        sigma[2], key[4], key[5], key[6], key[7], sigma[3],
    ]
}

/// Salsa20's 20 rounds (ten column rounds, each followed by a row round) on the
/// sixteen words `x`, for one block or for several side by side in SIMD
/// registers: `$step!(x[i], x[j], x[k], shift)` does `x[i] ^= (x[j] + x[k]) <<<
/// shift` on whatever the words are.
macro_rules! salsa20_rounds {
    ($step:ident, $x:ident) => {{
        for _ in 0..10 {
            salsa20_rounds!(@quarter $step, $x, 0, 4, 8, 12);
            salsa20_rounds!(@quarter $step, $x, 5, 9, 13, 1);
            salsa20_rounds!(@quarter $step, $x, 10, 14, 2, 6);
            salsa20_rounds!(@quarter $step, $x, 15, 3, 7, 11);
            salsa20_rounds!(@quarter $step, $x, 0, 1, 2, 3);
            salsa20_rounds!(@quarter $step, $x, 5, 6, 7, 4);
            salsa20_rounds!(@quarter $step, $x, 10, 11, 8, 9);
            salsa20_rounds!(@quarter $step, $x, 15, 12, 13, 14);
        }
    }};
    (@quarter $step:ident, $x:ident, $a:literal, $b:literal, $c:literal, $d:literal) => {{
        $step!($x[$b], $x[$a], $x[$d], 7);
        $step!($x[$c], $x[$b], $x[$a], 9);
        $step!($x[$d], $x[$c], $x[$b], 13);
        $step!($x[$a], $x[$d], $x[$c], 18);
    }};
}

/// `x ^= (a + b) <<< shift` on one word.
macro_rules! scalar_step {
    ($x:expr, $a:expr, $b:expr, $shift:literal) => {
        $x ^= $a.wrapping_add($b).rotate_left($shift)
    };
}

/// Salsa20's 20 rounds on one block.
#[inline(always)]
fn rounds(x: &mut [u32; 16]) {
    salsa20_rounds!(scalar_step, x);
}

/// HSalsa20: the key for a 16-byte nonce prefix (XSalsa20's first step).
fn hsalsa20(key: &[u32; 8], prefix: &[u8; 16]) -> [u32; 8] {
    let mut input = [0u32; 4];
    for (word, chunk) in input.iter_mut().zip(prefix.chunks_exact(4)) {
        *word = <[u8; 4]>::try_from(chunk).map_or(0, u32::from_le_bytes);
    }
    let mut x = state(SIGMA, *key, input);
    rounds(&mut x);
    let out = [x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9]];
    x.zeroize();
    out
}

/// Salsa20's nonce words and block counter.
fn stream_input(nonce: &[u8; 8], counter: u64) -> [u32; 4] {
    [
        u32::from_le_bytes([nonce[0], nonce[1], nonce[2], nonce[3]]),
        u32::from_le_bytes([nonce[4], nonce[5], nonce[6], nonce[7]]),
        counter as u32,
        (counter >> 32) as u32,
    ]
}

/// One Salsa20 block of keystream.
fn salsa20_block(key: &[u32; 8], nonce: &[u8; 8], counter: u64, out: &mut [u8; BLOCK]) {
    let input = state(SIGMA, *key, stream_input(nonce, counter));
    let mut x = input;
    rounds(&mut x);
    for ((bytes, word), start) in out.chunks_exact_mut(4).zip(x.iter()).zip(input.iter()) {
        bytes.copy_from_slice(&word.wrapping_add(*start).to_le_bytes());
    }
    x.zeroize();
}

/// XORs `text` with the keystream from block `counter` on.
fn xor_stream(key: &[u32; 8], nonce: &[u8; 8], mut counter: u64, mut text: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        if text.len() >= 8 * BLOCK && std::is_x86_feature_detected!("avx2") {
            while text.len() >= 8 * BLOCK {
                let (eight, rest) = text.split_at_mut(8 * BLOCK);
                avx2::xor_eight_blocks(key, nonce, counter, eight);
                counter = counter.wrapping_add(8);
                text = rest;
            }
        }
        while text.len() >= 4 * BLOCK {
            let (four, rest) = text.split_at_mut(4 * BLOCK);
            sse2::xor_four_blocks(key, nonce, counter, four);
            counter = counter.wrapping_add(4);
            text = rest;
        }
    }
    let mut block = Zeroizing::new([0u8; BLOCK]);
    for chunk in text.chunks_mut(BLOCK) {
        salsa20_block(key, nonce, counter, &mut block);
        for (byte, key) in chunk.iter_mut().zip(block.iter()) {
            *byte ^= key;
        }
        counter = counter.wrapping_add(1);
    }
}

/// Four Salsa20 blocks at once, word i of the four in one SSE2 register. This
/// module and `avx2` are allowed `unsafe` (with transport/send_queue.rs, the
/// crate's only ones): SIMD intrinsics have no safe wrapper in std.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod sse2 {
    use super::{BLOCK, SIGMA, state, stream_input};
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_loadu_si128, _mm_or_si128, _mm_set_epi32, _mm_set1_epi32,
        _mm_slli_epi32, _mm_srli_epi32, _mm_storeu_si128, _mm_unpackhi_epi32, _mm_unpackhi_epi64,
        _mm_unpacklo_epi32, _mm_unpacklo_epi64, _mm_xor_si128,
    };

    /// `x ^= (a + b) <<< shift`, in each lane.
    macro_rules! step {
        ($x:expr, $a:expr, $b:expr, $shift:literal) => {{
            let sum = _mm_add_epi32($a, $b);
            $x = _mm_xor_si128(
                $x,
                _mm_or_si128(
                    _mm_slli_epi32(sum, $shift),
                    _mm_srli_epi32(sum, 32 - $shift),
                ),
            );
        }};
    }

    /// XORs the 256 bytes of `text` with blocks `counter` to `counter + 3`.
    pub(super) fn xor_four_blocks(key: &[u32; 8], nonce: &[u8; 8], counter: u64, text: &mut [u8]) {
        debug_assert_eq!(text.len(), 4 * BLOCK);
        // SAFETY: SSE2 is part of x86_64; every load and store is unaligned
        // and within `text` (`get_mut` below checks each 16-byte range).
        unsafe {
            let splat = |word: u32| _mm_set1_epi32(word as i32);
            let [nonce_low, nonce_high, _, _] = stream_input(nonce, 0);
            // Block `counter + lane` in lane `lane`: the counter's low and high
            // words, lane 3 first as _mm_set_epi32 takes them.
            let count = |lane: u64| counter.wrapping_add(lane);
            let counter_low = _mm_set_epi32(
                count(3) as u32 as i32,
                count(2) as u32 as i32,
                count(1) as u32 as i32,
                count(0) as u32 as i32,
            );
            let counter_high = _mm_set_epi32(
                (count(3) >> 32) as u32 as i32,
                (count(2) >> 32) as u32 as i32,
                (count(1) >> 32) as u32 as i32,
                (count(0) >> 32) as u32 as i32,
            );
            let input: [__m128i; 16] = state(
                SIGMA.map(splat),
                key.map(splat),
                [
                    splat(nonce_low),
                    splat(nonce_high),
                    counter_low,
                    counter_high,
                ],
            );
            let mut v = input;
            salsa20_rounds!(step, v);
            for (word, start) in v.iter_mut().zip(input.iter()) {
                *word = _mm_add_epi32(*word, *start);
            }
            // Words 4g..4g+3 of the four blocks, transposed so that each register
            // holds 16 consecutive bytes of one block.
            for (group, words) in v.chunks_exact(4).enumerate() {
                let &[a, b, c, d] = words else {
                    continue;
                };
                let low_ab = _mm_unpacklo_epi32(a, b);
                let low_cd = _mm_unpacklo_epi32(c, d);
                let high_ab = _mm_unpackhi_epi32(a, b);
                let high_cd = _mm_unpackhi_epi32(c, d);
                let blocks = [
                    _mm_unpacklo_epi64(low_ab, low_cd),
                    _mm_unpackhi_epi64(low_ab, low_cd),
                    _mm_unpacklo_epi64(high_ab, high_cd),
                    _mm_unpackhi_epi64(high_ab, high_cd),
                ];
                for (block, keystream) in blocks.into_iter().enumerate() {
                    let at = block * BLOCK + group * 16;
                    let Some(bytes) = text.get_mut(at..at + 16) else {
                        continue;
                    };
                    let data = _mm_loadu_si128(bytes.as_ptr().cast());
                    _mm_storeu_si128(bytes.as_mut_ptr().cast(), _mm_xor_si128(data, keystream));
                }
            }
        }
    }
}

/// Eight Salsa20 blocks at once, word i of the eight in one AVX2 register, on
/// processors that have AVX2 (checked by the caller); where AVX-512VL is there
/// too, its rotate instruction replaces the two shifts and the OR of each step.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use super::{BLOCK, SIGMA, state, stream_input};
    use std::arch::x86_64::{
        __m256i, _mm_loadu_si128, _mm_storeu_si128, _mm_xor_si128, _mm256_add_epi32,
        _mm256_castsi256_si128, _mm256_extracti128_si256, _mm256_or_si256, _mm256_rol_epi32,
        _mm256_set_epi32, _mm256_set1_epi32, _mm256_slli_epi32, _mm256_srli_epi32,
        _mm256_unpackhi_epi32, _mm256_unpackhi_epi64, _mm256_unpacklo_epi32, _mm256_unpacklo_epi64,
        _mm256_xor_si256,
    };

    /// `x ^= (a + b) <<< shift`, in each lane, with AVX2's shifts.
    macro_rules! step {
        ($x:expr, $a:expr, $b:expr, $shift:literal) => {{
            let sum = _mm256_add_epi32($a, $b);
            $x = _mm256_xor_si256(
                $x,
                _mm256_or_si256(
                    _mm256_slli_epi32(sum, $shift),
                    _mm256_srli_epi32(sum, 32 - $shift),
                ),
            );
        }};
    }

    /// `x ^= (a + b) <<< shift`, in each lane, with AVX-512VL's rotate.
    macro_rules! rotate_step {
        ($x:expr, $a:expr, $b:expr, $shift:literal) => {{
            $x = _mm256_xor_si256($x, _mm256_rol_epi32::<$shift>(_mm256_add_epi32($a, $b)));
        }};
    }

    /// XORs the 512 bytes of `text` with blocks `counter` to `counter + 7`.
    pub(super) fn xor_eight_blocks(key: &[u32; 8], nonce: &[u8; 8], counter: u64, text: &mut [u8]) {
        debug_assert!(std::is_x86_feature_detected!("avx2"));
        if rotates() {
            // SAFETY: the processor has AVX2 (the caller checked), AVX-512F
            // and AVX-512VL (checked just above).
            unsafe { xor_eight_blocks_avx512(key, nonce, counter, text) }
        } else {
            // SAFETY: the caller checked that this processor has AVX2.
            unsafe { xor_eight_blocks_avx2(key, nonce, counter, text) }
        }
    }

    /// Whether the processor has AVX-512F and AVX-512VL (std caches the answer).
    fn rotates() -> bool {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl")
    }

    /// The body of both variants, `$step` being one of the step macros above.
    macro_rules! eight_blocks {
        ($step:ident, $key:ident, $nonce:ident, $counter:ident, $text:ident) => {{
            let (key, nonce, counter, text) = ($key, $nonce, $counter, $text);
            debug_assert_eq!(text.len(), 8 * BLOCK);
            // SAFETY: AVX2 is enabled on this function and present (the caller
            // checked); every load and store is unaligned and within `text`
            // (`get_mut` below checks each 16-byte range).
            unsafe {
                let splat = |word: u32| _mm256_set1_epi32(word as i32);
                let [nonce_low, nonce_high, _, _] = stream_input(nonce, 0);
                // Block `counter + lane` in lane `lane`, lane 7 first as
                // _mm256_set_epi32 takes them: blocks 0-3 in the low half.
                let count = |lane: u64| counter.wrapping_add(lane);
                let low = |lane: u64| count(lane) as u32 as i32;
                let high = |lane: u64| (count(lane) >> 32) as u32 as i32;
                let counter_low = _mm256_set_epi32(
                    low(7),
                    low(6),
                    low(5),
                    low(4),
                    low(3),
                    low(2),
                    low(1),
                    low(0),
                );
                let counter_high = _mm256_set_epi32(
                    high(7),
                    high(6),
                    high(5),
                    high(4),
                    high(3),
                    high(2),
                    high(1),
                    high(0),
                );
                let input: [__m256i; 16] = state(
                    SIGMA.map(splat),
                    key.map(splat),
                    [
                        splat(nonce_low),
                        splat(nonce_high),
                        counter_low,
                        counter_high,
                    ],
                );
                let mut v = input;
                salsa20_rounds!($step, v);
                for (word, start) in v.iter_mut().zip(input.iter()) {
                    *word = _mm256_add_epi32(*word, *start);
                }
                // Words 4g..4g+3 of the eight blocks, transposed within each 128-bit
                // half: the low halves hold blocks 0-3, the high halves blocks 4-7.
                for (group, words) in v.chunks_exact(4).enumerate() {
                    let &[a, b, c, d] = words else {
                        continue;
                    };
                    let low_ab = _mm256_unpacklo_epi32(a, b);
                    let low_cd = _mm256_unpacklo_epi32(c, d);
                    let high_ab = _mm256_unpackhi_epi32(a, b);
                    let high_cd = _mm256_unpackhi_epi32(c, d);
                    let blocks = [
                        _mm256_unpacklo_epi64(low_ab, low_cd),
                        _mm256_unpackhi_epi64(low_ab, low_cd),
                        _mm256_unpacklo_epi64(high_ab, high_cd),
                        _mm256_unpackhi_epi64(high_ab, high_cd),
                    ];
                    for (block, keystream) in blocks.into_iter().enumerate() {
                        let halves = [
                            (block, _mm256_castsi256_si128(keystream)),
                            (block + 4, _mm256_extracti128_si256(keystream, 1)),
                        ];
                        for (index, half) in halves {
                            let at = index * BLOCK + group * 16;
                            let Some(bytes) = text.get_mut(at..at + 16) else {
                                continue;
                            };
                            let data = _mm_loadu_si128(bytes.as_ptr().cast());
                            _mm_storeu_si128(bytes.as_mut_ptr().cast(), _mm_xor_si128(data, half));
                        }
                    }
                }
            }
        }};
    }

    #[target_feature(enable = "avx2")]
    fn xor_eight_blocks_avx2(key: &[u32; 8], nonce: &[u8; 8], counter: u64, text: &mut [u8]) {
        eight_blocks!(step, key, nonce, counter, text)
    }

    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    fn xor_eight_blocks_avx512(key: &[u32; 8], nonce: &[u8; 8], counter: u64, text: &mut [u8]) {
        eight_blocks!(rotate_step, key, nonce, counter, text)
    }

    #[cfg(test)]
    mod tests {
        use super::super::{BLOCK, salsa20_block};
        use super::{rotates, xor_eight_blocks_avx2, xor_eight_blocks_avx512};

        /// Each variant this processor can run XORs the scalar keystream, across
        /// the counter's word boundary too (the dispatching tests above reach
        /// only the variant the processor picks).
        #[test]
        fn each_variant_xors_the_scalar_keystream() {
            let key = [
                0x0302_0100,
                0x0706_0504,
                0xdead_beef,
                7,
                0xffff_ffff,
                1 << 31,
                42,
                0x1234_5678,
            ];
            let nonce = [9, 8, 7, 6, 5, 4, 3, 2];
            let text: Vec<u8> = (0..8 * BLOCK).map(|index| (index * 7) as u8).collect();
            let avx2 = std::is_x86_feature_detected!("avx2");
            for counter in [0, 1, u64::from(u32::MAX) - 3, u64::MAX - 3] {
                let mut expected = text.clone();
                for (index, chunk) in expected.chunks_mut(BLOCK).enumerate() {
                    let mut block = [0u8; BLOCK];
                    salsa20_block(&key, &nonce, counter.wrapping_add(index as u64), &mut block);
                    for (byte, stream) in chunk.iter_mut().zip(block) {
                        *byte ^= stream;
                    }
                }
                if avx2 {
                    let mut ours = text.clone();
                    // SAFETY: AVX2 was detected.
                    unsafe { xor_eight_blocks_avx2(&key, &nonce, counter, &mut ours) };
                    assert_eq!(ours, expected, "AVX2 at counter {counter}");
                }
                if avx2 && rotates() {
                    let mut ours = text.clone();
                    // SAFETY: AVX2, AVX-512F and AVX-512VL were detected.
                    unsafe { xor_eight_blocks_avx512(&key, &nonce, counter, &mut ours) };
                    assert_eq!(ours, expected, "AVX-512VL at counter {counter}");
                }
            }
        }
    }
}

/// Poly1305's tag of `text` under `key` (r then s).
fn poly1305(key: &[u8; 32], text: &[u8]) -> [u8; 16] {
    if text.len() >= LONG_TEXT {
        use poly1305::universal_hash::{KeyInit, UniversalHash};
        // Whole blocks go to `update` a stack batch at a time, where the AVX2
        // backend runs four blocks per step in one call; `compute_unpadded` alone
        // dispatches every 16-byte block through the backend check (1.4x slower
        // on 64 KiB, measured with poly1305 0.8 in a scratch program).
        let mut mac = poly1305::Poly1305::new(key.into());
        let whole = text.len() - text.len() % 16;
        let (blocks, last) = text.split_at(whole);
        let mut batch = [poly1305::Block::default(); 64];
        for chunk in blocks.chunks(16 * batch.len()) {
            let mut count = 0;
            for (block, bytes) in batch.iter_mut().zip(chunk.chunks_exact(16)) {
                block.copy_from_slice(bytes);
                count += 1;
            }
            mac.update(batch.get(..count).unwrap_or(&[]));
        }
        return mac.compute_unpadded(last).into();
    }
    Poly1305Donna::new(key).tag(text)
}

/// Poly1305 in 64-bit arithmetic with three limbs of 44, 44 and 42 bits.
struct Poly1305Donna {
    r: [u64; 3],
    h: [u64; 3],
    pad: [u64; 2],
}

const MASK_44: u64 = (1 << 44) - 1;
const MASK_42: u64 = (1 << 42) - 1;

fn le64(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|word| <[u8; 8]>::try_from(word).ok())
        .map_or(0, u64::from_le_bytes)
}

impl Poly1305Donna {
    fn new(key: &[u8; 32]) -> Poly1305Donna {
        let (t0, t1) = (le64(key.as_slice(), 0), le64(key.as_slice(), 8));
        Poly1305Donna {
            // r, clamped as RFC 8439 has it, in 44/44/42-bit limbs.
            r: [
                t0 & 0xffc_0fff_ffff,
                ((t0 >> 44) | (t1 << 20)) & 0xfff_ffc0_ffff,
                (t1 >> 24) & 0x00f_ffff_fc0f,
            ],
            h: [0; 3],
            pad: [le64(key.as_slice(), 16), le64(key.as_slice(), 24)],
        }
    }

    /// Adds one 16-byte block (with `high` the 2^128 bit, 0 for a padded last
    /// block) and multiplies by r.
    fn block(&mut self, block: &[u8; 16], high: u64) {
        let [r0, r1, r2] = self.r;
        let (s1, s2) = (r1 * (5 << 2), r2 * (5 << 2));
        let (t0, t1) = (le64(block.as_slice(), 0), le64(block.as_slice(), 8));
        let h0 = self.h[0] + (t0 & MASK_44);
        let h1 = self.h[1] + (((t0 >> 44) | (t1 << 20)) & MASK_44);
        let h2 = self.h[2] + (((t1 >> 24) & MASK_42) | high);
        let wide = |a: u64, b: u64| u128::from(a) * u128::from(b);
        let d0 = wide(h0, r0) + wide(h1, s2) + wide(h2, s1);
        let mut d1 = wide(h0, r1) + wide(h1, r0) + wide(h2, s2);
        let mut d2 = wide(h0, r2) + wide(h1, r1) + wide(h2, r0);
        let mut carry = (d0 >> 44) as u64;
        let mut h0 = (d0 as u64) & MASK_44;
        d1 += u128::from(carry);
        carry = (d1 >> 44) as u64;
        let h1 = (d1 as u64) & MASK_44;
        d2 += u128::from(carry);
        carry = (d2 >> 42) as u64;
        let h2 = (d2 as u64) & MASK_42;
        h0 += carry * 5;
        carry = h0 >> 44;
        h0 &= MASK_44;
        self.h = [h0, h1 + carry, h2];
    }

    fn tag(mut self, text: &[u8]) -> [u8; 16] {
        let mut chunks = text.chunks_exact(16);
        for chunk in &mut chunks {
            let mut block = [0u8; 16];
            block.copy_from_slice(chunk);
            self.block(&block, 1 << 40);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut block = [0u8; 16];
            for (to, from) in block.iter_mut().zip(rest) {
                *to = *from;
            }
            if let Some(end) = block.get_mut(rest.len()) {
                *end = 1;
            }
            self.block(&block, 0);
        }
        self.finish()
    }

    /// h mod 2^130 - 5, plus s, mod 2^128.
    fn finish(self) -> [u8; 16] {
        let [mut h0, mut h1, mut h2] = self.h;
        let mut carry = h1 >> 44;
        h1 &= MASK_44;
        h2 += carry;
        carry = h2 >> 42;
        h2 &= MASK_42;
        h0 += carry * 5;
        carry = h0 >> 44;
        h0 &= MASK_44;
        h1 += carry;
        carry = h1 >> 44;
        h1 &= MASK_44;
        h2 += carry;
        carry = h2 >> 42;
        h2 &= MASK_42;
        h0 += carry * 5;
        carry = h0 >> 44;
        h0 &= MASK_44;
        h1 += carry;
        // g = h + 5 - 2^130: taken if it does not go below zero.
        let mut g0 = h0 + 5;
        carry = g0 >> 44;
        g0 &= MASK_44;
        let mut g1 = h1 + carry;
        carry = g1 >> 44;
        g1 &= MASK_44;
        let g2 = (h2 + carry).wrapping_sub(1 << 42);
        let keep_g = (g2 >> 63).wrapping_sub(1);
        h0 = (h0 & !keep_g) | (g0 & keep_g);
        h1 = (h1 & !keep_g) | (g1 & keep_g);
        h2 = (h2 & !keep_g) | (g2 & keep_g);
        let [t0, t1] = self.pad;
        h0 += t0 & MASK_44;
        carry = h0 >> 44;
        h0 &= MASK_44;
        h1 += (((t0 >> 44) | (t1 << 20)) & MASK_44) + carry;
        carry = h1 >> 44;
        h1 &= MASK_44;
        h2 += ((t1 >> 24) & MASK_42) + carry;
        h2 &= MASK_42;
        let low = h0 | (h1 << 44);
        let high = (h1 >> 20) | (h2 << 24);
        let mut tag = [0u8; 16];
        for (to, from) in tag
            .iter_mut()
            .zip(low.to_le_bytes().into_iter().chain(high.to_le_bytes()))
        {
            *to = from;
        }
        tag
    }
}

impl Drop for Poly1305Donna {
    fn drop(&mut self) {
        self.r.zeroize();
        self.h.zeroize();
        self.pad.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::KeyPair;
    use proptest::prelude::*;

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    #[test]
    fn poly1305_matches_rfc_8439s_vector() {
        // RFC 8439, 2.5.2.
        let key: [u8; 32] = hex(
            "85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b",
        )
        .try_into()
        .unwrap();
        let tag = Poly1305Donna::new(&key).tag(b"Cryptographic Forum Research Group");
        assert_eq!(
            tag.to_vec(),
            hex("a8:06:1d:c1:30:51:36:c6:c2:2b:8b:af:0c:01:27:a9")
        );
    }

    #[test]
    fn a_box_matches_nacls_published_vector() {
        // The crypto_box test of NaCl (tests/box.c): Alice's secret key, Bob's
        // public key, the nonce, and the first bytes of the box of the 131-byte
        // message.
        let alice = SecretKey::from_bytes(
            hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
                .try_into()
                .unwrap(),
        );
        let bob = PublicKey::from_bytes(
            hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
                .try_into()
                .unwrap(),
        );
        let nonce: [u8; 24] = hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
            .try_into()
            .unwrap();
        let mut text = hex(
            "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc\
             e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31\
             0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde\
             048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864\
             5e0705",
        );
        let tag = SecretBox::precompute(&bob, &alice).seal(&nonce, &mut text);
        assert_eq!(tag.to_vec(), hex("f3ffc7703f9400e52a7dfb4b3d3305d9"));
        assert_eq!(text[..8].to_vec(), hex("8e993b9f48681273"));
    }

    fn reference(key: &[u8; 32]) -> crypto_secretbox::XSalsa20Poly1305 {
        use crypto_secretbox::aead::KeyInit;
        crypto_secretbox::XSalsa20Poly1305::new(key.into())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn seals_as_rustcrypto_does_and_opens_its_boxes(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 24]>(),
            text in proptest::collection::vec(any::<u8>(), 0..5000),
        ) {
            let ours = SecretBox::from_key(&key);
            let mut sealed = text.clone();
            let tag = ours.seal(&nonce, &mut sealed);
            let mut expected = text.clone();
            let expected_tag = reference(&key)
                .encrypt_in_place_detached((&nonce).into(), &[], &mut expected)
                .unwrap();
            prop_assert_eq!(&sealed, &expected);
            prop_assert_eq!(tag.to_vec(), expected_tag.to_vec());
            let mut opened = sealed.clone();
            prop_assert!(ours.open(&nonce, &mut opened, &tag).is_ok());
            prop_assert_eq!(&opened, &text);
        }

        #[test]
        fn a_changed_bit_or_tag_is_refused_and_leaves_the_text(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 24]>(),
            text in proptest::collection::vec(any::<u8>(), 1..600),
            flip in any::<usize>(),
        ) {
            let ours = SecretBox::from_key(&key);
            let mut sealed = text.clone();
            let tag = ours.seal(&nonce, &mut sealed);
            let bit = flip % (sealed.len() * 8 + 128);
            let mut tampered = sealed.clone();
            let mut tampered_tag = tag;
            if bit < sealed.len() * 8 {
                tampered[bit / 8] ^= 1 << (bit % 8);
            } else {
                let bit = bit - sealed.len() * 8;
                tampered_tag[bit / 8] ^= 1 << (bit % 8);
            }
            let before = tampered.clone();
            prop_assert!(ours.open(&nonce, &mut tampered, &tampered_tag).is_err());
            prop_assert_eq!(tampered, before);
        }
    }

    #[test]
    fn long_texts_and_counters_across_the_sse2_path_match() {
        let key = [0x42; 32];
        let nonce = [0x17; 24];
        for length in [
            255,
            256,
            257,
            288,
            289,
            1023,
            4095,
            4096,
            4097,
            70_000,
            1 << 20,
        ] {
            let text: Vec<u8> = (0..length).map(|index| (index * 7 + 3) as u8).collect();
            let mut ours = text.clone();
            let tag = SecretBox::from_key(&key).seal(&nonce, &mut ours);
            let mut expected = text.clone();
            let expected_tag = reference(&key)
                .encrypt_in_place_detached((&nonce).into(), &[], &mut expected)
                .unwrap();
            assert!(ours == expected, "length {length}");
            assert_eq!(tag.to_vec(), expected_tag.to_vec(), "length {length}");
        }
    }

    #[test]
    fn precompute_agrees_with_rustcryptos_salsa_box_both_ways() {
        let (alice, bob) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
        let ours = SecretBox::precompute(bob.public(), alice.secret());
        let theirs = super::super::boxes::precompute(alice.public(), bob.secret());
        let nonce = [9u8; 24];
        let mut text = b"a MESSAGE from alice to bob".to_vec();
        let tag = ours.seal(&nonce, &mut text);
        theirs
            .decrypt_in_place_detached((&nonce).into(), &[], &mut text, (&tag).into())
            .unwrap();
        assert_eq!(text, b"a MESSAGE from alice to bob");
    }
}
