//! Measures the log against the raw disk in one run, so the ratios mean something
//! on whatever machine it runs on. A benchmark, not a test: it prints figures for
//! BENCHMARKS.md and must never be part of `cargo test`.
//!
//! For 100-byte and 1 KiB records in batches of about `--batch-bytes`:
//! - appends with an fsync per batch and with no fsync: plain file writes of the
//!   same size with the same fsync cadence, the same writes into space reserved
//!   ahead as the log reserves it (`fallocate` with `KEEP_SIZE`, 8 MiB at a time),
//!   then `Log::append` (the log encodes the records) and `Log::append_batch` (a
//!   producer's encoded batch, checked and stored), in MB/s of bytes on disk and
//!   records/s, with the appending threads' CPU time per record and each log
//!   figure's share of the two raw ones;
//! - with `--producers N`, the no-fsync runs again from N threads sharing the
//!   batches (one `Log` appended to from every thread, as a broker's connections
//!   would; raw writes from as many threads at positions each reserves);
//! - runs of each kind take turns, after a first round that is not counted; each
//!   figure is the median of the rounds, with the slowest and fastest run's MB/s in
//!   brackets (on a shared virtual machine a slow spell can last a round or two,
//!   which is why the command in BENCHMARKS.md asks for 9 rounds);
//! - reads from the start of a log written without fsync, with the page cache
//!   dropped (`/proc/sys/vm/drop_caches`, which needs root; the program says whether
//!   it worked) and then from the page cache: `Reader::read` (CRC-checked batches, as
//!   a broker serves them) against plain 1 MiB file reads, and decoding every record.
//!
//! cargo run --release -p sinew-log --example log_vs_disk -- \
//!     [--megabytes 512] [--fsync-batches 1000] [--batch-bytes 65536] [--rounds 9]
//!     [--dir PATH] [--record-bytes N (one size only)] [--reads yes|no]
//!     [--producers N (default 0: none)]

mod common;

use rustix::fs::FallocateFlags;
use sinew_log::{FsyncPolicy, Log, LogConfig, NewRecord, encode_batch, open_read_only};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error>;

#[derive(Debug, Clone)]
struct Settings {
    megabytes: u64,
    fsync_batches: u64,
    batch_bytes: usize,
    rounds: usize,
    directory: PathBuf,
    reads: bool,
    sizes: Vec<usize>,
    producers: u64,
}

fn parse() -> Result<Settings, Failure> {
    let mut settings = Settings {
        megabytes: 512,
        fsync_batches: 1000,
        batch_bytes: 64 * 1024,
        rounds: 9,
        directory: std::env::temp_dir().join(format!("sinew-log-bench-{}", std::process::id())),
        reads: true,
        sizes: vec![100, 1024],
        producers: 0,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let value = arguments.next().ok_or("every option takes a value")?;
        match argument.as_str() {
            "--megabytes" => settings.megabytes = value.parse()?,
            "--fsync-batches" => settings.fsync_batches = value.parse()?,
            "--batch-bytes" => settings.batch_bytes = value.parse()?,
            "--rounds" => settings.rounds = value.parse()?,
            "--dir" => settings.directory = PathBuf::from(value),
            "--reads" => settings.reads = value == "yes",
            "--record-bytes" => settings.sizes = vec![value.parse()?],
            "--producers" => settings.producers = value.parse()?,
            _ => return Err(format!("unknown option {argument}").into()),
        }
    }
    Ok(settings)
}

/// CPU time of the calling thread (Linux: `/proc/thread-self/schedstat`).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Writes back every dirty page, so one run's writeback does not slow the next.
fn sync_all() -> bool {
    std::process::Command::new("sync")
        .status()
        .is_ok_and(|status| status.success())
}

/// Before a run: writes back what the last run left dirty, so its writeback does
/// not slow this one. The caller deletes the last run's file only after this, and
/// starts at once: the memory it frees is what this run's page cache takes next.
/// (On a virtual machine whose free memory is handed back to the host after a
/// moment, memory that sat free costs the first write to it a fault on the host,
/// which made whichever run came after a long wait look slower.)
fn settle() {
    sync_all();
}

/// Drops the page cache; false if that is not allowed here.
fn drop_caches() -> bool {
    sync_all()
        && OpenOptions::new()
            .write(true)
            .open("/proc/sys/vm/drop_caches")
            .and_then(|mut file| file.write_all(b"3\n"))
            .is_ok()
}

#[derive(Debug, Clone, Copy)]
struct Measure {
    bytes: u64,
    records: u64,
    wall: Duration,
    cpu: Duration,
    /// The fastest and slowest runs' wall times, when this is a median of several.
    range: (Duration, Duration),
}

impl Measure {
    fn new(bytes: u64, records: u64, wall: Duration, cpu: Duration) -> Self {
        Measure {
            bytes,
            records,
            wall,
            cpu,
            range: (wall, wall),
        }
    }

    /// Megabytes per second at a wall time of `wall`.
    fn rate(&self, wall: Duration) -> f64 {
        self.bytes as f64 / wall.as_secs_f64() / 1e6
    }

    fn megabytes_per_second(&self) -> f64 {
        self.rate(self.wall)
    }

    fn records_per_second(&self) -> f64 {
        self.records as f64 / self.wall.as_secs_f64()
    }

    fn cpu_per_record(&self) -> Duration {
        self.cpu / u32::try_from(self.records.max(1)).unwrap_or(u32::MAX)
    }
}

/// Runs each kind of run (see `KINDS`) `rounds` times, turning the order every
/// round so that no kind always follows the same other one, and returns each
/// kind's median. A first round is not counted: it brings into use the memory the
/// page cache will cycle through (see `settle`).
fn rounds(
    rounds: usize,
    mut run: impl FnMut(usize) -> Result<Measure, Failure>,
) -> Result<[Measure; KINDS], Failure> {
    let mut measures: [Vec<Measure>; KINDS] = Default::default();
    for kind in 0..KINDS {
        run(kind)?;
    }
    for round in 0..rounds {
        for step in 0..KINDS {
            let kind = (round + step) % KINDS;
            measures[kind].push(run(kind)?);
        }
    }
    Ok(measures.map(median))
}

/// The kinds of run: plain raw writes, raw writes into reserved space,
/// `Log::append`, `Log::append_batch`.
const KINDS: usize = 4;

/// The median measure by wall time, with the range of all of them.
fn median(mut measures: Vec<Measure>) -> Measure {
    measures.sort_by_key(|measure| measure.wall);
    let mut median = measures[measures.len() / 2];
    median.range = (measures[0].wall, measures[measures.len() - 1].wall);
    median
}

/// The median of three reads after one that is not counted.
fn warm(mut read: impl FnMut() -> Result<Measure, Failure>) -> Result<Measure, Failure> {
    read()?;
    Ok(median((0..3).map(|_| read()).collect::<Result<_, _>>()?))
}

/// Plain writes of `batch_bytes` bytes, `batches` times, each fsynced or not, from
/// `threads` threads (each reserves the next position, then writes there).
fn raw_writes(
    path: &Path,
    batch_bytes: usize,
    batches: u64,
    fsync: bool,
    threads: u64,
    reserve: bool,
) -> Result<Measure, Failure> {
    settle();
    let _ = std::fs::remove_file(path);
    let file = File::create(path)?;
    let buffer: Vec<u8> = (0..batch_bytes).map(|byte| byte as u8).collect();
    let next = AtomicU64::new(0);
    let reserved = std::sync::Mutex::new(0u64);
    let started = Instant::now();
    let cpu = in_threads(threads, batches, |share| {
        for _ in 0..share {
            let position = next.fetch_add(batch_bytes as u64, Ordering::Relaxed);
            let end = position + batch_bytes as u64;
            if reserve {
                // As the log does: 8 MiB at a time ahead of the end, size unchanged.
                let mut reserved = reserved.lock().map_err(|_| "poisoned")?;
                if end > *reserved {
                    *reserved = end + (8 << 20);
                    rustix::fs::fallocate(&file, FallocateFlags::KEEP_SIZE, 0, *reserved)?;
                }
            }
            file.write_all_at(&buffer, position)?;
            if fsync {
                file.sync_data()?;
            }
        }
        Ok(())
    })?;
    let measure = Measure::new(batch_bytes as u64 * batches, 0, started.elapsed(), cpu);
    drop(file);
    Ok(measure)
}

/// Runs `work` on `threads` threads that share `batches` between them; returns
/// their CPU time added up.
fn in_threads(
    threads: u64,
    batches: u64,
    work: impl Fn(u64) -> Result<(), Failure> + Sync,
) -> Result<Duration, Failure> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let share = batches / threads + u64::from(thread < batches % threads);
                let work = &work;
                scope.spawn(move || -> Result<Duration, String> {
                    let cpu = thread_cpu();
                    work(share).map_err(|error| error.to_string())?;
                    Ok(thread_cpu() - cpu)
                })
            })
            .collect();
        let mut total = Duration::ZERO;
        for handle in handles {
            total += handle.join().map_err(|_| "a thread panicked")??;
        }
        Ok(total)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppendPath {
    /// `Log::append`: the log encodes the records.
    Encode,
    /// `Log::append_batch`: an encoded batch is checked and stored.
    Batch,
}

fn log_appends(
    directory: &Path,
    batch: &[NewRecord],
    batches: u64,
    fsync: bool,
    path: AppendPath,
    threads: u64,
) -> Result<Measure, Failure> {
    settle();
    let _ = std::fs::remove_dir_all(directory);
    let config = LogConfig {
        segment_bytes: u64::from(u32::MAX),
        fsync: if fsync {
            FsyncPolicy::Always
        } else {
            FsyncPolicy::Never
        },
        cleaner_interval: None,
        ..LogConfig::default()
    };
    let (log, _) = Log::open(directory, config)?;
    let encoded = encode_batch(batch)?;
    let started = Instant::now();
    let cpu = in_threads(threads, batches, |share| {
        for _ in 0..share {
            match path {
                AppendPath::Encode => log.append(batch)?,
                AppendPath::Batch => log.append_batch(&encoded)?,
            };
        }
        Ok(())
    })?;
    let measure = Measure::new(
        encoded.len() as u64 * batches,
        batch.len() as u64 * batches,
        started.elapsed(),
        cpu,
    );
    log.close()?;
    Ok(measure)
}

fn read_raw(path: &Path) -> Result<Measure, Failure> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let cpu = thread_cpu();
    let started = Instant::now();
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        bytes += read as u64;
    }
    Ok(Measure::new(
        bytes,
        0,
        started.elapsed(),
        thread_cpu() - cpu,
    ))
}

/// Reads every batch from the start (checked, as served); with `decode`, decodes
/// every record too.
fn read_log(directory: &Path, decode: bool) -> Result<Measure, Failure> {
    let (reader, _) = open_read_only(directory)?;
    let cpu = thread_cpu();
    let started = Instant::now();
    let (mut bytes, mut records) = (0u64, 0u64);
    let mut next = reader.start_offset();
    loop {
        let batches = reader.read(next, 1 << 20)?;
        let Some(after) = batches.next_offset() else {
            break;
        };
        bytes += batches.bytes().len() as u64;
        if decode {
            records += batches.records()?.len() as u64;
        } else {
            records += batches
                .headers()
                .iter()
                .map(|header| u64::from(header.record_count))
                .sum::<u64>();
        }
        next = after;
    }
    Ok(Measure::new(
        bytes,
        records,
        started.elapsed(),
        thread_cpu() - cpu,
    ))
}

/// Prints one measure (for a median, with the slowest and fastest runs' MB/s), and
/// what share it is of each reference (the raw writes, plain and into reserved
/// space).
fn line(label: &str, measure: &Measure, references: &[&Measure]) {
    let ratios: String = references
        .iter()
        .map(|reference| {
            format!(
                "  {:5.1}%",
                100.0 * measure.megabytes_per_second() / reference.megabytes_per_second()
            )
        })
        .collect();
    let records = if measure.records > 0 {
        format!(
            "  {:>10.0} records/s  {:>6.0} ns CPU/record",
            measure.records_per_second(),
            measure.cpu_per_record().as_nanos()
        )
    } else {
        String::new()
    };
    let (fastest, slowest) = measure.range;
    let range = if fastest == slowest {
        " ".repeat(12)
    } else {
        format!(
            " [{:>4.0}-{:<4.0}]",
            measure.rate(slowest),
            measure.rate(fastest)
        )
    };
    println!(
        "  {label:<30} {:>7.1} MB/s{range}{records}{ratios}",
        measure.megabytes_per_second()
    );
}

fn main() -> Result<(), Failure> {
    let settings = parse()?;
    std::fs::create_dir_all(&settings.directory)?;
    let raw_path = settings.directory.join("raw.bin");
    let log_directory = settings.directory.join("log");
    println!(
        "sinew-log vs raw disk in {}: {} MiB per no-fsync run, {} batches per fsync run, batches of about {} bytes, median of {} rounds\n(percentages: of plain raw writes, then of raw writes into reserved space)",
        settings.directory.display(),
        settings.megabytes,
        settings.fsync_batches,
        settings.batch_bytes,
        settings.rounds
    );
    let mut cold_read_done = false;
    for record_bytes in settings.sizes.clone() {
        let batch = common::batch_of(record_bytes, settings.batch_bytes)?;
        let count = batch.len();
        let batch_size = encode_batch(&batch)?.len();
        for fsync in [true, false] {
            let batches = if fsync {
                settings.fsync_batches
            } else {
                (settings.megabytes << 20) / batch_size as u64
            };
            println!(
                "\n{record_bytes}-byte records, {count} per batch ({batch_size} bytes), {batches} batches, {}:",
                if fsync { "fsync per batch" } else { "no fsync" }
            );
            let run = |kind: usize, threads: u64| -> Result<Measure, Failure> {
                match kind {
                    0 | 1 => raw_writes(&raw_path, batch_size, batches, fsync, threads, kind == 1),
                    2 => log_appends(
                        &log_directory,
                        &batch,
                        batches,
                        fsync,
                        AppendPath::Encode,
                        threads,
                    ),
                    _ => log_appends(
                        &log_directory,
                        &batch,
                        batches,
                        fsync,
                        AppendPath::Batch,
                        threads,
                    ),
                }
            };
            let [raw, reserved, encode, stored] = rounds(settings.rounds, |kind| run(kind, 1))?;
            line("raw file writes", &raw, &[]);
            line("raw writes, space reserved", &reserved, &[]);
            line("Log::append (encodes)", &encode, &[&raw, &reserved]);
            line("Log::append_batch (checks)", &stored, &[&raw, &reserved]);
            let producers = settings.producers;
            if !fsync && producers > 0 {
                let [raw, reserved, encode, stored] =
                    rounds(settings.rounds, |kind| run(kind, producers))?;
                line(&format!("raw file writes, {producers} threads"), &raw, &[]);
                line(
                    &format!("raw, reserved, {producers} threads"),
                    &reserved,
                    &[],
                );
                line(
                    &format!("Log::append, {producers} producers"),
                    &encode,
                    &[&raw, &reserved],
                );
                line(
                    &format!("Log::append_batch, {producers} producers"),
                    &stored,
                    &[&raw, &reserved],
                );
            }
            if !fsync && settings.reads && !cold_read_done {
                cold_read_done = true;
                // The last log written is as large as the raw file.
                println!(
                    "\nreads from the start of that log ({} MiB):",
                    settings.megabytes
                );
                let dropped = drop_caches();
                let raw_cold = read_raw(&raw_path)?;
                let dropped_again = drop_caches();
                let log_cold = read_log(&log_directory, false)?;
                if dropped && dropped_again {
                    line("raw file, cold cache", &raw_cold, &[]);
                    line("Reader::read, cold cache", &log_cold, &[&raw_cold]);
                } else {
                    println!("  (the page cache could not be dropped here: no cold figures)");
                }
                // A first read of each is not counted: it brings the file back
                // into the page cache, and into use the memory the others reuse.
                let raw_warm = warm(|| read_raw(&raw_path))?;
                let log_warm = warm(|| read_log(&log_directory, false))?;
                let decoded = warm(|| read_log(&log_directory, true))?;
                line("raw file, page cache", &raw_warm, &[]);
                line("Reader::read, page cache", &log_warm, &[&raw_warm]);
                line("read + decode every record", &decoded, &[]);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&settings.directory);
    Ok(())
}
