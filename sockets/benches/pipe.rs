//! Criterion micro-benchmark of the pipe across threads: one thread writes
//! messages into a `pipe_pair` (flushing after each, as a socket's send does) and
//! another reads them, both spinning instead of sleeping, at the default
//! high-water mark of 1000. The reported time is per message.
//!
//! Run with `cargo bench -p sinew --bench pipe`. This file must never be run as a
//! test with timing assertions: it only reports.

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sinew::Message;
use sinew::pipe::{Item, Read, WriteError, pipe_pair};
use std::time::{Duration, Instant};

/// The high-water mark, in messages.
const HIGH_WATER_MARK: u32 = 1000;

fn transfer(count: u64, size: usize) -> Duration {
    let (mut writer, mut reader) = pipe_pair(HIGH_WATER_MARK, HIGH_WATER_MARK);
    let payload = Bytes::from(vec![7u8; size]);
    let start = Instant::now();
    let consumer = std::thread::spawn(move || {
        let mut received = 0;
        while received < count {
            match reader.read() {
                Read::Item(item) => {
                    std::hint::black_box(item);
                    received += 1;
                }
                Read::Empty => std::hint::spin_loop(),
                Read::Closed => panic!("the writer closed early"),
            }
        }
    });
    for _ in 0..count {
        let mut item = Item::Message(Message::from(payload.clone()));
        loop {
            match writer.write(item) {
                Ok(()) => break,
                Err(WriteError::Full(back)) => {
                    item = back;
                    writer.flush();
                    std::hint::spin_loop();
                }
                Err(WriteError::Closed(_)) => panic!("the reader closed early"),
            }
        }
        writer.flush();
    }
    consumer.join().expect("the reader thread");
    start.elapsed()
}

fn across_threads(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("pipe_across_threads");
    group.throughput(Throughput::Elements(1));
    for size in [1, 1024] {
        group.bench_with_input(
            BenchmarkId::from_parameter(size),
            &size,
            |bencher, &size| {
                bencher.iter_custom(|iterations| transfer(iterations, size));
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = across_threads
}
criterion_main!(benches);
