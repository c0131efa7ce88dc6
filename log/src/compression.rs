//! The per-batch compression codecs, as Kafka producers send them: gzip, Snappy (raw,
//! as librdkafka writes it, or in the xerial framing the Java client writes), LZ4
//! frames and Zstandard. All are pure Rust.
//!
//! Only code that must look inside records calls this: a reader that asks for decoded
//! records, the cleaner, and the key check on a compacted log. Appends and batch
//! reads move compressed bytes as they are. Decompression must never produce more
//! than its limit, never allocate for a length it was told rather than one it has
//! produced (beyond that limit), and never panic on hostile input.

use crate::batch::Compression;
use crate::error::BatchError;
use std::io::{Read, Write};

/// The most bytes one batch's records may decompress to (a compression bomb is an
/// error, not an allocation).
pub const MAX_DECOMPRESSED_BYTES: usize = 64 << 20;

/// The largest Zstandard window accepted.
const ZSTD_MAX_WINDOW_BYTES: u64 = 16 << 20;

/// The 8-byte magic that starts xerial's Snappy framing (`SnappyOutputStream`).
const XERIAL_MAGIC: &[u8; 8] = b"\x82SNAPPY\x00";
/// The xerial header: magic, then version 1 and minimum compatible version 1.
const XERIAL_HEADER: &[u8; 16] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";
/// Uncompressed bytes per xerial block, as the Java client writes them.
const XERIAL_BLOCK: usize = 32 * 1024;

fn failed(codec: Compression, reason: impl ToString) -> BatchError {
    BatchError::Decompression {
        codec,
        reason: reason.to_string(),
    }
}

/// Decompresses the records section of a batch compressed with `codec`, refusing
/// to produce more than `limit` bytes.
pub(crate) fn decompress(
    codec: Compression,
    input: &[u8],
    limit: usize,
) -> Result<Vec<u8>, BatchError> {
    match codec {
        Compression::None => bounded(codec, input, limit),
        Compression::Gzip => read_bounded(codec, flate2::read::MultiGzDecoder::new(input), limit),
        Compression::Snappy => {
            if input.starts_with(XERIAL_MAGIC) {
                xerial(input, limit)
            } else {
                raw_snappy(input, limit, Vec::new())
            }
        }
        Compression::Lz4 => read_bounded(codec, lz4_flex::frame::FrameDecoder::new(input), limit),
        Compression::Zstd => zstd(input, limit),
    }
}

fn bounded(codec: Compression, input: &[u8], limit: usize) -> Result<Vec<u8>, BatchError> {
    if input.len() > limit {
        return Err(too_large(codec, limit));
    }
    Ok(input.to_vec())
}

fn too_large(codec: Compression, limit: usize) -> BatchError {
    failed(
        codec,
        format!("the records decompress to more than {limit} bytes"),
    )
}

/// Reads a decoder to its end, growing the output only as bytes are produced.
fn read_bounded(
    codec: Compression,
    decoder: impl Read,
    limit: usize,
) -> Result<Vec<u8>, BatchError> {
    let mut output = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut output)
        .map_err(|error| failed(codec, error))?;
    if output.len() > limit {
        return Err(too_large(codec, limit));
    }
    Ok(output)
}

/// Appends one raw Snappy block to `output`.
fn raw_snappy(input: &[u8], limit: usize, mut output: Vec<u8>) -> Result<Vec<u8>, BatchError> {
    let codec = Compression::Snappy;
    let length = snap::raw::decompress_len(input).map_err(|error| failed(codec, error))?;
    let start = output.len();
    if length > limit.saturating_sub(start) {
        return Err(too_large(codec, limit));
    }
    output.resize(start + length, 0);
    let target = output.get_mut(start..).unwrap_or_default();
    let written = snap::raw::Decoder::new()
        .decompress(input, target)
        .map_err(|error| failed(codec, error))?;
    output.truncate(start + written);
    Ok(output)
}

/// xerial's framing: the 16-byte header, then blocks of a big-endian 32-bit length
/// followed by that many bytes of raw Snappy.
fn xerial(input: &[u8], limit: usize) -> Result<Vec<u8>, BatchError> {
    let codec = Compression::Snappy;
    let mut rest = input
        .get(XERIAL_HEADER.len()..)
        .ok_or_else(|| failed(codec, "a truncated xerial header"))?;
    let mut output = Vec::new();
    while !rest.is_empty() {
        let (length, tail) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| failed(codec, "a truncated xerial block length"))?;
        let length = u32::from_be_bytes(*length) as usize;
        let block = tail
            .get(..length)
            .ok_or_else(|| failed(codec, "a xerial block runs past the end"))?;
        output = raw_snappy(block, limit, output)?;
        rest = tail.get(length..).unwrap_or_default();
    }
    Ok(output)
}

/// Every Zstandard frame in `input` (skippable frames are skipped).
fn zstd(input: &[u8], limit: usize) -> Result<Vec<u8>, BatchError> {
    use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
    use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
    let codec = Compression::Zstd;
    let mut decoder = FrameDecoder::new();
    // The decoder reserves the window a frame declares, so that is bounded too
    // (zstd's levels up to 19, the ones producers use, need at most 8 MiB).
    decoder.set_max_window_size(ZSTD_MAX_WINDOW_BYTES);
    let mut rest = input;
    let mut output = Vec::new();
    while !rest.is_empty() {
        match decoder.init(&mut rest) {
            Ok(()) => {}
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                length,
                ..
            })) => {
                rest = rest
                    .get(length as usize..)
                    .ok_or_else(|| failed(codec, "a skippable frame runs past the end"))?;
                continue;
            }
            Err(error) => return Err(failed(codec, error)),
        }
        loop {
            decoder
                .decode_blocks(&mut rest, BlockDecodingStrategy::UptoBytes(64 * 1024))
                .map_err(|error| failed(codec, error))?;
            let mut chunk = Vec::new();
            decoder
                .collect_to_writer(&mut chunk)
                .map_err(|error| failed(codec, error))?;
            if chunk.len() > limit.saturating_sub(output.len()) {
                return Err(too_large(codec, limit));
            }
            output.extend_from_slice(&chunk);
            if decoder.is_finished() {
                break;
            }
        }
        if let (Some(stored), Some(computed)) = (
            decoder.get_checksum_from_data(),
            decoder.get_calculated_checksum(),
        ) && stored != computed
        {
            return Err(failed(codec, "the content checksum does not match"));
        }
    }
    Ok(output)
}

/// Compresses a batch's records section with `codec` (Snappy in xerial framing,
/// LZ4 as a frame of independent 64 KiB blocks, as the Java client writes them).
pub(crate) fn compress(codec: Compression, input: &[u8]) -> Result<Vec<u8>, BatchError> {
    let error = |error: std::io::Error| BatchError::Compression {
        codec,
        reason: error.to_string(),
    };
    match codec {
        Compression::None => Ok(input.to_vec()),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(input).map_err(error)?;
            encoder.finish().map_err(error)
        }
        Compression::Snappy => {
            let mut output = XERIAL_HEADER.to_vec();
            let mut encoder = snap::raw::Encoder::new();
            for block in input.chunks(XERIAL_BLOCK) {
                let compressed =
                    encoder
                        .compress_vec(block)
                        .map_err(|problem| BatchError::Compression {
                            codec,
                            reason: problem.to_string(),
                        })?;
                let length =
                    u32::try_from(compressed.len()).map_err(|_| BatchError::Compression {
                        codec,
                        reason: "a block larger than 4 GiB".into(),
                    })?;
                output.extend_from_slice(&length.to_be_bytes());
                output.extend_from_slice(&compressed);
            }
            Ok(output)
        }
        Compression::Lz4 => {
            use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
            let info = FrameInfo::new()
                .block_size(BlockSize::Max64KB)
                .block_mode(BlockMode::Independent);
            let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
            encoder.write_all(input).map_err(error)?;
            encoder.finish().map_err(|problem| BatchError::Compression {
                codec,
                reason: problem.to_string(),
            })
        }
        Compression::Zstd => Ok(ruzstd::encoding::compress_to_vec(
            input,
            ruzstd::encoding::CompressionLevel::Fastest,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODECS: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn sample(length: usize) -> Vec<u8> {
        (0..length).map(|index| (index * 7 % 13) as u8).collect()
    }

    #[test]
    fn every_codec_round_trips() {
        for codec in CODECS {
            for length in [0, 1, 100, 70_000, 200_000] {
                let input = sample(length);
                let compressed = compress(codec, &input).expect("compress");
                let output = decompress(codec, &compressed, MAX_DECOMPRESSED_BYTES)
                    .unwrap_or_else(|error| panic!("{codec:?} {length}: {error}"));
                assert_eq!(output, input, "{codec:?} {length}");
            }
        }
    }

    #[test]
    fn raw_snappy_is_read_as_librdkafka_writes_it() {
        let input = sample(50_000);
        let raw = snap::raw::Encoder::new().compress_vec(&input).expect("raw");
        assert!(!raw.starts_with(XERIAL_MAGIC));
        let output = decompress(Compression::Snappy, &raw, 1 << 20).expect("raw snappy");
        assert_eq!(output, input);
    }

    #[test]
    fn output_beyond_the_limit_is_refused() {
        let input = vec![0u8; 100_000];
        for codec in CODECS {
            let compressed = compress(codec, &input).expect("compress");
            assert!(
                decompress(codec, &compressed, 99_999).is_err(),
                "{codec:?} produced more than its limit"
            );
            assert!(decompress(codec, &compressed, 100_000).is_ok(), "{codec:?}");
        }
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let mut state = 3u64;
        let mut below = |bound: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % bound.max(1)
        };
        for codec in CODECS {
            let good = compress(codec, &sample(5000)).expect("compress");
            for round in 0..300 {
                let mut bytes = good.clone();
                let flips = 1 + below(4);
                for _ in 0..flips {
                    let at = below(bytes.len() as u64) as usize;
                    bytes[at] ^= 1 << below(8);
                }
                if round % 3 == 0 {
                    bytes.truncate(below(bytes.len() as u64) as usize);
                }
                let _ = decompress(codec, &bytes, 1 << 20);
            }
        }
    }
}
