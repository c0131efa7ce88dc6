//! Measures append throughput of 100-byte (or `--size`) records into a fresh log in
//! a temporary directory: records per second and MB/s, under an fsync policy, with
//! `--batch` records per append and `--threads` appending threads (group commit).
//! A quick measurement, not a test; the results go to BENCHMARKS.md.
//!
//! cargo run --release -p sinew-log --example append_throughput -- \
//!     --fsync always|never [--records N] [--size BYTES] [--batch RECORDS] [--threads T]

use sinew_log::{FsyncPolicy, Log, LogConfig, NewRecord};
use std::sync::Arc;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut fsync = FsyncPolicy::Always;
    let mut records: u64 = 20_000;
    let mut size: usize = 100;
    let mut batch: u64 = 1;
    let mut threads: u64 = 1;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let value = arguments.next().ok_or("every option takes a value")?;
        match argument.as_str() {
            "--fsync" => {
                fsync = match value.as_str() {
                    "always" => FsyncPolicy::Always,
                    "never" => FsyncPolicy::Never,
                    _ => return Err("--fsync always|never".into()),
                }
            }
            "--records" => records = value.parse()?,
            "--size" => size = value.parse()?,
            "--batch" => batch = value.parse()?,
            "--threads" => threads = value.parse()?,
            _ => return Err(format!("unknown option {argument}").into()),
        }
    }
    let directory = std::env::temp_dir().join(format!("sinew-log-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    let config = LogConfig {
        fsync,
        ..LogConfig::default()
    };
    let (log, _) = Log::open(&directory, config)?;
    let log = Arc::new(log);
    let per_thread = records / threads / batch;
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let log = log.clone();
            std::thread::spawn(move || -> Result<(), sinew_log::LogError> {
                let value = vec![b'x'; size];
                let batch: Vec<NewRecord> = (0..batch)
                    .map(|_| NewRecord::new(None, value.clone(), 0))
                    .collect();
                for _ in 0..per_thread {
                    log.append(&batch)?;
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked")??;
    }
    log.sync()?;
    let elapsed = started.elapsed().as_secs_f64();
    let appended = per_thread * threads * batch;
    let bytes = std::fs::metadata(directory.join("00000000000000000000.log"))?.len();
    println!(
        "{fsync:?} size={size} batch={batch} threads={threads}: {appended} records in {elapsed:.3} s = {:.0} records/s, {:.1} MB/s of log ({:.0} appends/s)",
        appended as f64 / elapsed,
        bytes as f64 / elapsed / 1e6,
        (appended / batch) as f64 / elapsed,
    );
    drop(log);
    let _ = std::fs::remove_dir_all(&directory);
    Ok(())
}
