//! Criterion micro-benchmarks of the frame codec: encoding a batch of messages
//! into the packing buffer (and draining it, as if the kernel took everything),
//! and decoding a receive buffer full of frames. Each iteration handles
//! `BATCH` messages, so ns per message is the reported time divided by `BATCH`;
//! the `bytes` groups report GB/s of payload and the `messages` groups messages
//! per second.
//!
//! Run with `cargo bench -p sinew --bench frame`. This file must never be run as a
//! test with timing assertions: it only reports.

use bytes::Bytes;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sinew::zmtp::buffer::{ReadRoom, ReceiveBuffer};
use sinew::zmtp::encoder::Encoder;
use sinew::zmtp::frame::Decoder;
use std::hint::black_box;
use std::time::Duration;

/// Messages per iteration.
const BATCH: usize = 1000;

/// Payload sizes, as in the side-by-side matrix (1 MiB left out: a batch of a
/// thousand would be a gigabyte).
const SIZES: [usize; 4] = [1, 64, 1024, 65536];

fn encode_batch(encoder: &mut Encoder, body: &Bytes) {
    for _ in 0..BATCH {
        encoder.frame(false, false, body);
        // The engine drains whenever a write succeeds; draining as often keeps
        // the packing buffer at its steady-state size.
        if encoder.pending() >= 64 * 1024 {
            let pending = encoder.pending();
            encoder.advance(pending);
        }
    }
    let pending = encoder.pending();
    encoder.advance(pending);
}

/// `BATCH` encoded single-frame messages of `size` bytes, as one byte stream.
fn encoded_stream(size: usize) -> Vec<u8> {
    let mut encoder = Encoder::new();
    let body = Bytes::from(vec![7u8; size]);
    let mut stream = Vec::new();
    for _ in 0..BATCH {
        encoder.frame(false, false, &body);
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        let filled = encoder.io_slices(&mut slices);
        for slice in &slices[..filled] {
            stream.extend_from_slice(slice);
        }
        let pending = encoder.pending();
        encoder.advance(pending);
    }
    stream
}

/// Decodes every frame; hands the buffer back so that freeing its memory is not
/// timed.
fn decode_all(decoder: &mut Decoder, mut buffer: ReceiveBuffer) -> (usize, ReceiveBuffer) {
    let mut decoded = 0;
    while let Ok(Some(frame)) = decoder.decode(&mut buffer) {
        decoded += black_box(frame).body.len();
    }
    (decoded, buffer)
}

fn encode(criterion: &mut Criterion) {
    for (name, per_message) in [
        ("frame_encode_bytes", false),
        ("frame_encode_messages", true),
    ] {
        let mut group = criterion.benchmark_group(name);
        for size in SIZES {
            group.throughput(if per_message {
                Throughput::Elements(BATCH as u64)
            } else {
                Throughput::Bytes((BATCH * size) as u64)
            });
            let body = Bytes::from(vec![7u8; size]);
            let mut encoder = Encoder::new();
            group.bench_with_input(BenchmarkId::from_parameter(size), &body, |bencher, body| {
                bencher.iter(|| encode_batch(&mut encoder, black_box(body)));
            });
        }
        group.finish();
    }
}

fn decode(criterion: &mut Criterion) {
    for (name, per_message) in [
        ("frame_decode_bytes", false),
        ("frame_decode_messages", true),
    ] {
        let mut group = criterion.benchmark_group(name);
        for size in SIZES {
            group.throughput(if per_message {
                Throughput::Elements(BATCH as u64)
            } else {
                Throughput::Bytes((BATCH * size) as u64)
            });
            let stream = encoded_stream(size);
            let mut decoder = Decoder::new(None);
            group.bench_with_input(
                BenchmarkId::from_parameter(size),
                &stream,
                |bencher, stream| {
                    bencher.iter_batched(
                        || {
                            let mut buffer = ReceiveBuffer::new();
                            buffer
                                .extend_from_slice(stream)
                                .expect("allocate the receive buffer");
                            buffer
                        },
                        |buffer| {
                            let (decoded, buffer) = decode_all(&mut decoder, buffer);
                            assert_eq!(decoded, BATCH * size);
                            buffer
                        },
                        BatchSize::LargeInput,
                    );
                },
            );
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = encode, decode
}
criterion_main!(benches);
