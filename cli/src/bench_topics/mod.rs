//! `sinew bench topics compare`: durable topics on sinew-broker against the raw
//! disk and NATS JetStream, in one run on one machine. (`sinew bench topics
//! kafka`, the Kafka door driven by confluent-kafka, is in `kafka.rs`.)
//!
//! Both systems' producers keep the same bytes of values unacknowledged (sinew's
//! in PRODUCE requests of many records, JetStream's as single messages, each as
//! its clients do). For each record size and number of producers, in each round:
//! sinew-broker is
//! started fresh, its producers send durably (every acknowledgement means
//! fsynced) to a one-partition topic, and a consumer then reads the partition from
//! the start, in stored batches and in decoded records; the raw disk writes the
//! bytes the broker stored with the number of fsyncs the broker reported making
//! (its `/metrics`); nats-server is started fresh with JetStream on file storage
//! twice, once with `sync_interval: always` and once with its default, and its
//! publishers wait for every PubAck; after the default one a pull consumer reads
//! the stream from the start. The servers take turns going first, round by round.
//!
//! Every run must deliver everything it was asked to, or the bench stops with an
//! error: no figure is ever printed for a run that did not complete.

mod disk;
mod jetstream;
mod kafka;
mod native;
mod servers;

use clap::{Args, Subcommand};
use servers::{JetStreamSync, Server};
use sinew_broker::doors::native::FetchMode;
use std::path::PathBuf;
use std::time::Duration;

/// Bytes of record values per native PRODUCE request, unless asked otherwise.
const BATCH_BYTES: usize = 64 * 1024;
/// Bytes of record values a producer keeps unacknowledged, unless asked otherwise.
const IN_FLIGHT_BYTES: usize = 1024 * 1024;

/// `sinew bench topics`: durable topics, measured.
#[derive(Debug, Args)]
pub struct TopicsArgs {
    #[command(subcommand)]
    command: TopicsCommand,
}

#[derive(Debug, Subcommand)]
enum TopicsCommand {
    /// sinew-broker's durable produce and consumption against the raw disk and
    /// NATS JetStream (file storage), all started here; prints Markdown tables.
    Compare(CompareArgs),
    /// sinew-broker's Kafka door driven by confluent-kafka (a Python driver)
    /// against its native door and the raw disk, all started here; prints
    /// Markdown tables.
    Kafka(kafka::KafkaArgs),
}

/// Arguments of `sinew bench topics compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The nats-server binary (with JetStream).
    #[arg(long, value_name = "PATH")]
    nats_server: PathBuf,
    /// The sinew-broker binary; defaults to the one next to this program.
    #[arg(long, value_name = "PATH")]
    sinew_broker: Option<PathBuf>,
    /// Rounds of every workload; figures are the medians.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Record sizes in bytes.
    #[arg(long, value_delimiter = ',', default_value = "100,1024")]
    sizes: Vec<usize>,
    /// Numbers of producers.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    producers: Vec<usize>,
    /// Megabytes (MiB) of record values per run, split among the producers
    /// (JetStream's default sync gets the same records).
    #[arg(long, default_value_t = 64)]
    megabytes: u64,
    /// Records per run with JetStream's `sync_interval: always` (each is fsynced,
    /// so it is kept small).
    #[arg(long, default_value_t = 4000)]
    always_records: u64,
    /// How sinew producers send records: Kafka batches built by the producer, or
    /// records the broker encodes.
    #[arg(long, value_enum, default_value = "batch")]
    format: native::Format,
    /// Bytes of record values per PRODUCE request.
    #[arg(long, default_value_t = BATCH_BYTES)]
    batch_bytes: usize,
    /// Bytes of record values each producer keeps unacknowledged, the same for
    /// both: sinew producers keep this many bytes of PRODUCE requests in flight,
    /// JetStream publishers this many bytes of messages.
    #[arg(long, default_value_t = IN_FLIGHT_BYTES)]
    in_flight_bytes: usize,
    /// Where the servers' data and the raw disk's file go (one file system for all).
    #[arg(long, value_name = "DIR")]
    scratch: Option<PathBuf>,
}

pub fn run(args: &TopicsArgs) -> Result<(), String> {
    match &args.command {
        TopicsCommand::Compare(compare) => run_compare(compare),
        TopicsCommand::Kafka(kafka) => kafka::run(kafka),
    }
}

/// The figures of one workload over the rounds.
#[derive(Debug, Default)]
struct Samples {
    /// Records per second, durable.
    sinew: Vec<f64>,
    /// Stored bytes per second, durable.
    sinew_bandwidth: Vec<f64>,
    /// The same bytes per second on the raw disk with the same fsyncs.
    disk_bandwidth: Vec<f64>,
    /// Bytes the broker stored per fsync.
    bytes_per_fsync: Vec<f64>,
    always: Vec<f64>,
    default: Vec<f64>,
    consume_batches: Vec<f64>,
    consume_records: Vec<f64>,
    pull: Vec<f64>,
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn run_compare(args: &CompareArgs) -> Result<(), String> {
    let sinew_broker = broker_binary(args.sinew_broker.as_ref())?;
    let scratch = scratch_directory(args.scratch.as_ref())?;
    let workloads: Vec<(usize, usize)> = args
        .sizes
        .iter()
        .flat_map(|&size| {
            args.producers
                .iter()
                .map(move |&producers| (size, producers))
        })
        .collect();
    let mut samples: Vec<Samples> = workloads.iter().map(|_| Samples::default()).collect();
    let mut serial = 0u64;
    let mut next_dir = || {
        serial += 1;
        scratch.join(format!("run-{serial}"))
    };
    let result = (|| {
        for round in 0..args.rounds {
            for (&(size, producers), samples) in workloads.iter().zip(&mut samples) {
                eprintln!(
                    "round {} of {}: {size} B x {producers} producers",
                    round + 1,
                    args.rounds
                );
                let sinew_first = round % 2 == 0;
                for turn in 0..2 {
                    if (turn == 0) == sinew_first {
                        measure_sinew(args, &sinew_broker, next_dir(), size, producers, samples)?;
                    } else {
                        measure_jetstream(args, next_dir(), size, producers, samples)?;
                    }
                }
            }
        }
        Ok::<_, String>(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    print_tables(args, &workloads, &samples);
    Ok(())
}

/// The sinew-broker binary: the one asked for, or the one next to this program.
fn broker_binary(asked: Option<&PathBuf>) -> Result<PathBuf, String> {
    match asked {
        Some(path) => Ok(path.clone()),
        None => Ok(std::env::current_exe()
            .map_err(|error| error.to_string())?
            .with_file_name("sinew-broker")),
    }
}

/// A new directory of this run's own under `asked` (or the system's temporary
/// directory); the caller removes it.
fn scratch_directory(asked: Option<&PathBuf>) -> Result<PathBuf, String> {
    let scratch = asked
        .cloned()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("sinew-bench-topics-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|error| format!("cannot create {}: {error}", scratch.display()))?;
    Ok(scratch)
}

fn records_for(args: &CompareArgs, size: usize, producers: usize) -> u64 {
    let total = (args.megabytes << 20) / size.max(1) as u64;
    (total / producers.max(1) as u64).max(1)
}

fn measure_sinew(
    args: &CompareArgs,
    binary: &std::path::Path,
    data: PathBuf,
    size: usize,
    producers: usize,
    samples: &mut Samples,
) -> Result<(), String> {
    let disk_directory = data.with_extension("disk");
    let server = Server::sinew(binary, data)?;
    native::create_topic(&server.endpoint)?;
    let records = records_for(args, size, producers);
    let batch = (args.batch_bytes / size.max(1)).max(1);
    let window = (args.in_flight_bytes / (batch * size).max(1)).max(1);
    let produced = native::produce(
        &server.endpoint,
        producers,
        records,
        size,
        batch,
        window,
        args.format,
    )?;
    let fsyncs = server.counter("store_fsyncs")?;
    let batches = native::consume(&server.endpoint, produced.records, FetchMode::Batches)?;
    let decoded = native::consume(&server.endpoint, produced.records, FetchMode::Records)?;
    server.stop()?;
    std::fs::create_dir_all(&disk_directory)
        .map_err(|error| format!("cannot create {}: {error}", disk_directory.display()))?;
    let disk = disk::write(&disk_directory, batches.bytes, fsyncs);
    let _ = std::fs::remove_dir_all(&disk_directory);
    let disk = disk?;
    samples
        .sinew
        .push(per_second(produced.records, produced.elapsed));
    samples
        .sinew_bandwidth
        .push(per_second(batches.bytes, produced.elapsed));
    samples.disk_bandwidth.push(per_second(batches.bytes, disk));
    samples
        .bytes_per_fsync
        .push(batches.bytes as f64 / fsyncs.max(1) as f64);
    samples
        .consume_batches
        .push(per_second(batches.records, batches.elapsed));
    samples
        .consume_records
        .push(per_second(decoded.records, decoded.elapsed));
    Ok(())
}

fn measure_jetstream(
    args: &CompareArgs,
    data: PathBuf,
    size: usize,
    producers: usize,
    samples: &mut Samples,
) -> Result<(), String> {
    let records = records_for(args, size, producers);
    let window = (args.in_flight_bytes / size.max(1)).max(1) as u64;
    let server = Server::nats(&args.nats_server, data.clone(), JetStreamSync::Default)?;
    jetstream::create_stream(&server.endpoint)?;
    let elapsed = jetstream::publish(&server.endpoint, producers, records, size, window)?;
    let total = records * producers as u64;
    samples.default.push(per_second(total, elapsed));
    let pulled = jetstream::pull(&server.endpoint, total)?;
    samples.pull.push(per_second(total, pulled));
    server.stop()?;

    let always_records = (args.always_records / producers.max(1) as u64).max(1);
    let server = Server::nats(
        &args.nats_server,
        data.with_extension("always"),
        JetStreamSync::Always,
    )?;
    jetstream::create_stream(&server.endpoint)?;
    let elapsed = jetstream::publish(&server.endpoint, producers, always_records, size, window)?;
    samples
        .always
        .push(per_second(always_records * producers as u64, elapsed));
    server.stop()
}

/// The median, lowest and highest.
fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let count = sorted.len();
    let median = match count {
        0 => f64::NAN,
        _ if count % 2 == 1 => sorted[count / 2],
        _ => (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0,
    };
    (
        median,
        sorted.first().copied().unwrap_or(f64::NAN),
        sorted.last().copied().unwrap_or(f64::NAN),
    )
}

fn amount(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.1} k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

fn show(values: &[f64], unit: &str) -> String {
    let (median, low, high) = spread(values);
    format!(
        "{}{unit} ({}–{})",
        amount(median),
        amount(low),
        amount(high)
    )
}

fn ratio(ours: &[f64], theirs: &[f64]) -> f64 {
    spread(ours).0 / spread(theirs).0
}

fn verdict(value: f64, goal: f64) -> &'static str {
    if value >= goal { "met" } else { "not met" }
}

fn print_tables(args: &CompareArgs, workloads: &[(usize, usize)], samples: &[Samples]) {
    println!(
        "Rounds: {}; {} MiB of values per durable run, one partition or stream; {} B of values per PRODUCE, format {:?}; {} B of values unacknowledged per producer, for both; {} records per `sync_interval: always` run. Figures are medians (lowest–highest).",
        args.rounds,
        args.megabytes,
        args.batch_bytes,
        args.format,
        args.in_flight_bytes,
        args.always_records
    );
    println!();
    println!(
        "| workload | sinew-broker durable, rec/s | stored B/s | raw disk, same bytes and fsyncs, B/s | bytes per fsync | JetStream always, rec/s | JetStream default, rec/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (&(size, producers), sample) in workloads.iter().zip(samples) {
        println!(
            "| {size} B x {producers} | {} | {} | {} | {} | {} | {} |",
            show(&sample.sinew, ""),
            show(&sample.sinew_bandwidth, "B"),
            show(&sample.disk_bandwidth, "B"),
            amount(spread(&sample.bytes_per_fsync).0),
            show(&sample.always, ""),
            show(&sample.default, ""),
        );
    }
    println!();
    println!(
        "| workload | sinew/raw disk (goal 0.8) | sinew/JetStream always (goal 20) | sinew/JetStream default (goal 3) |"
    );
    println!("|---|---|---|---|");
    for (&(size, producers), sample) in workloads.iter().zip(samples) {
        let disk = ratio(&sample.sinew_bandwidth, &sample.disk_bandwidth);
        let always = ratio(&sample.sinew, &sample.always);
        let default = ratio(&sample.sinew, &sample.default);
        println!(
            "| {size} B x {producers} | {disk:.2} {} | {always:.1} {} | {default:.2} {} |",
            verdict(disk, 0.8),
            verdict(always, 20.0),
            verdict(default, 3.0)
        );
    }
    println!();
    println!(
        "| consumed from the start | sinew batches, rec/s | sinew records, rec/s | JetStream pull, rec/s | sinew batches/pull (goal 3) | sinew records/pull |"
    );
    println!("|---|---|---|---|---|---|");
    for (&(size, producers), sample) in workloads.iter().zip(samples) {
        let batches = ratio(&sample.consume_batches, &sample.pull);
        let records = ratio(&sample.consume_records, &sample.pull);
        println!(
            "| {size} B, written by {producers} | {} | {} | {} | {batches:.2} {} | {records:.2} |",
            show(&sample.consume_batches, ""),
            show(&sample.consume_records, ""),
            show(&sample.pull, ""),
            verdict(batches, 3.0)
        );
    }
}
