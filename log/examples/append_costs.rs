//! Times, one at a time, the CPU work `Log::append` and `Log::append_batch` do on
//! a batch before it reaches the disk, so the shares of an append's cost can be
//! seen: encoding the records, checking the batch (length, magic, CRC), checking
//! every record as a producer's batch is checked, and one copy of the batch. A
//! benchmark, not a test: it prints microseconds per batch and must never be part
//! of `cargo test`.
//!
//! cargo run --release -p sinew-log --example append_costs -- \
//!     [--record-bytes 100] [--batch-bytes 65536] [--milliseconds 500]

mod common;

use sinew_log::batch::{self, Compression};
use sinew_log::{BatchEncoder, check_produced_batch, encode_batch};
use std::hint::black_box;
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error>;

/// Runs `work` for about `budget` in rounds of 100 and returns the median round's
/// time per call.
fn time(budget: Duration, mut work: impl FnMut()) -> Duration {
    let started = Instant::now();
    let mut rounds = Vec::new();
    while started.elapsed() < budget || rounds.len() < 5 {
        let round = Instant::now();
        for _ in 0..100 {
            work();
        }
        rounds.push(round.elapsed() / 100);
    }
    rounds.sort();
    rounds[rounds.len() / 2]
}

fn main() -> Result<(), Failure> {
    let (mut record_bytes, mut batch_bytes, mut milliseconds) = (100usize, 65536usize, 500u64);
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let value = arguments.next().ok_or("every option takes a value")?;
        match argument.as_str() {
            "--record-bytes" => record_bytes = value.parse()?,
            "--batch-bytes" => batch_bytes = value.parse()?,
            "--milliseconds" => milliseconds = value.parse()?,
            _ => return Err(format!("unknown option {argument}").into()),
        }
    }
    let budget = Duration::from_millis(milliseconds);
    let batch_records = common::batch_of(record_bytes, batch_bytes)?;
    let count = batch_records.len();
    let encoded = encode_batch(&batch_records)?;
    println!(
        "{count} records of {record_bytes} bytes, {} bytes per batch; median time per batch:",
        encoded.len()
    );
    let mut encoder = BatchEncoder::new();
    let costs = [
        (
            "encode the records (Log::append)",
            time(budget, || {
                let batch = encoder.encode(black_box(&batch_records), Compression::None);
                black_box(batch.ok());
            }),
        ),
        (
            "check length, magic, CRC",
            time(budget, || {
                black_box(batch::check(black_box(&encoded)).ok());
            }),
        ),
        (
            "check the batch and every record",
            time(budget, || {
                black_box(check_produced_batch(black_box(&encoded), false).ok());
            }),
        ),
        (
            "copy the batch",
            time(budget, || {
                black_box(black_box(&encoded).to_vec());
            }),
        ),
    ];
    for (label, cost) in costs {
        let nanoseconds = cost.as_nanos() as f64;
        println!(
            "  {label:<36} {:>8.2} µs  {:>6.1} ns/record  {:>6.2} GB/s",
            nanoseconds / 1000.0,
            nanoseconds / count as f64,
            encoded.len() as f64 / nanoseconds
        );
    }
    Ok(())
}
