//! `sinew bench topics kafka`: sinew-broker's Kafka door driven by a real Kafka
//! client (confluent-kafka, librdkafka, through the Python driver
//! `interop-tests/kafka/bench.py`) against its native door and the raw disk, in
//! one run on one machine.
//!
//! For each record size, in each round: a fresh broker, where the driver creates
//! a topic of one partition and one confluent-kafka producer with acks=all sends
//! the records and waits for every delivery report; the broker's fsync count
//! (`/metrics`) and the stored bytes (the partition read back through the native
//! door, which also checks every record is there) are taken, then the driver
//! consumes the partition from the start. The raw disk then writes the stored
//! bytes with that many fdatasyncs. A second fresh broker gets the same records
//! from one native producer (`compare`'s batch and in-flight bytes) and is read
//! back through the native door. The two brokers take turns going first, round
//! by round.
//!
//! Every run must deliver everything it was asked to, or the bench stops with an
//! error: no figure is ever printed for a run that did not complete. This file
//! must never leave a driver process running (a driver past its deadline is
//! killed).

use super::servers::Server;
use super::{
    BATCH_BYTES, IN_FLIGHT_BYTES, amount, broker_binary, disk, native, per_second, ratio,
    scratch_directory, show, spread,
};
use clap::Args;
use sinew_broker::doors::native::FetchMode;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one driver command may take before it is killed (its own steps time
/// out sooner).
const DRIVER_TIMEOUT: Duration = Duration::from_secs(900);

/// How often a running driver is checked on (outside any timed part).
const DRIVER_CHECK: Duration = Duration::from_millis(20);

/// Arguments of `sinew bench topics kafka`.
#[derive(Debug, Args)]
pub struct KafkaArgs {
    /// The sinew-broker binary; defaults to the one next to this program.
    #[arg(long, value_name = "PATH")]
    sinew_broker: Option<PathBuf>,
    /// Rounds of every workload; figures are the medians.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Record sizes in bytes.
    #[arg(long, value_delimiter = ',', default_value = "100,1024")]
    sizes: Vec<usize>,
    /// Megabytes (MiB) of record values per run, from one producer.
    #[arg(long, default_value_t = 64)]
    megabytes: u64,
    /// The Python that runs the driver (with confluent-kafka installed).
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// The confluent-kafka driver, from the current directory when relative.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "interop-tests/kafka/bench.py"
    )]
    driver: PathBuf,
    /// Where the servers' data and the raw disk's file go (one file system for all).
    #[arg(long, value_name = "DIR")]
    scratch: Option<PathBuf>,
}

/// The figures of one record size over the rounds.
#[derive(Debug, Default)]
struct Samples {
    /// Records per second through the Kafka door, acks=all.
    kafka: Vec<f64>,
    /// The Kafka run's stored bytes per second.
    kafka_bandwidth: Vec<f64>,
    /// The share of the Kafka producer's elapsed time its driver spent on a core.
    kafka_producer_cpu: Vec<f64>,
    /// Records per second through the native door, durable.
    native: Vec<f64>,
    /// The Kafka run's bytes per second on the raw disk with its fsyncs.
    disk_bandwidth: Vec<f64>,
    /// Bytes the broker stored per fsync in the Kafka run.
    bytes_per_fsync: Vec<f64>,
    /// Records per second consumed by confluent-kafka.
    kafka_consume: Vec<f64>,
    /// The share of the Kafka consumer's elapsed time its driver spent on a core.
    kafka_consumer_cpu: Vec<f64>,
    /// Records per second consumed through the native door, stored batches.
    native_consume: Vec<f64>,
}

/// What one driver command reported.
#[derive(Debug)]
struct Report {
    records: u64,
    elapsed: Duration,
    /// Seconds the driver spent on a core over `elapsed`.
    cpu: f64,
}

pub fn run(args: &KafkaArgs) -> Result<(), String> {
    let sinew_broker = broker_binary(args.sinew_broker.as_ref())?;
    let driver = if args.driver.is_absolute() {
        args.driver.clone()
    } else {
        std::env::current_dir()
            .map_err(|error| format!("no current directory: {error}"))?
            .join(&args.driver)
    };
    if !driver.is_file() {
        return Err(format!(
            "no driver at {} (run from the repository's root, or pass --driver)",
            driver.display()
        ));
    }
    let scratch = scratch_directory(args.scratch.as_ref())?;
    let mut samples: Vec<Samples> = args.sizes.iter().map(|_| Samples::default()).collect();
    let mut serial = 0u64;
    let mut next_dir = || {
        serial += 1;
        scratch.join(format!("run-{serial}"))
    };
    let result = (|| {
        for round in 0..args.rounds {
            for (&size, samples) in args.sizes.iter().zip(&mut samples) {
                eprintln!("round {} of {}: {size} B", round + 1, args.rounds);
                let kafka_first = round % 2 == 0;
                for turn in 0..2 {
                    if (turn == 0) == kafka_first {
                        measure_kafka(args, &sinew_broker, &driver, next_dir(), size, samples)?;
                    } else {
                        measure_native(args, &sinew_broker, next_dir(), size, samples)?;
                    }
                }
            }
        }
        Ok::<_, String>(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    print_tables(args, &samples);
    Ok(())
}

/// Records per run: the values of `--megabytes` in records of `size`.
fn records_for(args: &KafkaArgs, size: usize) -> u64 {
    ((args.megabytes << 20) / size.max(1) as u64).max(1)
}

fn measure_kafka(
    args: &KafkaArgs,
    binary: &Path,
    driver: &Path,
    data: PathBuf,
    size: usize,
    samples: &mut Samples,
) -> Result<(), String> {
    let disk_directory = data.with_extension("disk");
    let server = Server::sinew(binary, data)?;
    let bootstrap = server
        .kafka
        .clone()
        .ok_or("sinew-broker has no Kafka door")?;
    let records = records_for(args, size);
    let produced = run_driver(
        args,
        driver,
        &[
            "produce",
            &bootstrap,
            native::TOPIC,
            &records.to_string(),
            &size.to_string(),
        ],
    )?;
    if produced.records != records {
        return Err(format!(
            "confluent-kafka: {} of {records} records acknowledged",
            produced.records
        ));
    }
    let fsyncs = server.counter("store_fsyncs")?;
    let stored = native::consume(&server.endpoint, records, FetchMode::Batches)?;
    let consumed = run_driver(
        args,
        driver,
        &["consume", &bootstrap, native::TOPIC, &records.to_string()],
    )?;
    if consumed.records != records {
        return Err(format!(
            "confluent-kafka: consumed {} of {records} records",
            consumed.records
        ));
    }
    server.stop()?;
    std::fs::create_dir_all(&disk_directory)
        .map_err(|error| format!("cannot create {}: {error}", disk_directory.display()))?;
    let disk = disk::write(&disk_directory, stored.bytes, fsyncs);
    let _ = std::fs::remove_dir_all(&disk_directory);
    let disk = disk?;
    samples.kafka.push(per_second(records, produced.elapsed));
    samples
        .kafka_bandwidth
        .push(per_second(stored.bytes, produced.elapsed));
    samples
        .kafka_producer_cpu
        .push(produced.cpu / produced.elapsed.as_secs_f64().max(1e-9));
    samples.disk_bandwidth.push(per_second(stored.bytes, disk));
    samples
        .bytes_per_fsync
        .push(stored.bytes as f64 / fsyncs.max(1) as f64);
    samples
        .kafka_consume
        .push(per_second(records, consumed.elapsed));
    samples
        .kafka_consumer_cpu
        .push(consumed.cpu / consumed.elapsed.as_secs_f64().max(1e-9));
    Ok(())
}

fn measure_native(
    args: &KafkaArgs,
    binary: &Path,
    data: PathBuf,
    size: usize,
    samples: &mut Samples,
) -> Result<(), String> {
    let server = Server::sinew(binary, data)?;
    native::create_topic(&server.endpoint)?;
    let records = records_for(args, size);
    let batch = (BATCH_BYTES / size.max(1)).max(1);
    let window = (IN_FLIGHT_BYTES / (batch * size).max(1)).max(1);
    let produced = native::produce(
        &server.endpoint,
        1,
        records,
        size,
        batch,
        window,
        native::Format::Batch,
    )?;
    let consumed = native::consume(&server.endpoint, produced.records, FetchMode::Batches)?;
    server.stop()?;
    samples
        .native
        .push(per_second(produced.records, produced.elapsed));
    samples
        .native_consume
        .push(per_second(consumed.records, consumed.elapsed));
    Ok(())
}

/// Runs the driver with `arguments` and reads its one JSON line. Its stderr
/// (librdkafka's log) is passed on; a driver that fails, prints no report or
/// outlives `DRIVER_TIMEOUT` is an error.
fn run_driver(args: &KafkaArgs, driver: &Path, arguments: &[&str]) -> Result<Report, String> {
    let mut child = Command::new(&args.python)
        .arg(driver)
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", args.python.display()))?;
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read_all(
        child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let stderr = read_all(
        child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + DRIVER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "the driver ({}) took over {} s and was killed",
                    arguments.join(" "),
                    DRIVER_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(DRIVER_CHECK),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("waiting for the driver: {error}"));
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    for line in stderr.lines() {
        eprintln!("  driver: {line}");
    }
    let status = status?;
    if !status.success() {
        return Err(format!(
            "the driver ({}) failed ({status})",
            arguments.join(" ")
        ));
    }
    parse_report(&stdout)
}

/// The driver's JSON line: `records`, `elapsed` and `cpu` (seconds).
fn parse_report(stdout: &str) -> Result<Report, String> {
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .ok_or_else(|| format!("the driver printed no report: {stdout:?}"))?;
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|error| format!("the driver's report: {error}"))?;
    let records = value["records"]
        .as_u64()
        .ok_or_else(|| format!("the driver's report has no records: {line}"))?;
    let seconds = value["elapsed"]
        .as_f64()
        .ok_or_else(|| format!("the driver's report has no elapsed: {line}"))?;
    let elapsed = Duration::try_from_secs_f64(seconds)
        .map_err(|error| format!("the driver's elapsed {seconds}: {error}"))?;
    let cpu = value["cpu"].as_f64().unwrap_or(f64::NAN);
    Ok(Report {
        records,
        elapsed,
        cpu,
    })
}

fn share(values: &[f64]) -> String {
    format!("{:.0} %", spread(values).0 * 100.0)
}

fn print_tables(args: &KafkaArgs, samples: &[Samples]) {
    println!(
        "Rounds: {}; {} MiB of values per run, one producer, one partition. confluent-kafka: acks=all, no idempotence, linger.ms 5, batch.size 1 MiB, no compression; fetches of 4 MiB, fetch.queue.backoff.ms 10. Native door: {} B of values per PRODUCE, {} B unacknowledged, acks durable; FETCH of 4 MiB, stored batches. Figures are medians (lowest–highest).",
        args.rounds, args.megabytes, BATCH_BYTES, IN_FLIGHT_BYTES
    );
    println!();
    println!(
        "| record size | Kafka door (confluent-kafka), rec/s | stored B/s | native door, rec/s | raw disk, same bytes and fsyncs, B/s | bytes per fsync | Kafka/native | Kafka/raw disk | driver on a core |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (&size, sample) in args.sizes.iter().zip(samples) {
        println!(
            "| {size} B | {} | {} | {} | {} | {} | {:.2} | {:.2} | {} |",
            show(&sample.kafka, ""),
            show(&sample.kafka_bandwidth, "B"),
            show(&sample.native, ""),
            show(&sample.disk_bandwidth, "B"),
            amount(spread(&sample.bytes_per_fsync).0),
            ratio(&sample.kafka, &sample.native),
            ratio(&sample.kafka_bandwidth, &sample.disk_bandwidth),
            share(&sample.kafka_producer_cpu),
        );
    }
    println!();
    println!(
        "| consumed from the start | confluent-kafka, rec/s | native door batches, rec/s | confluent-kafka/native | driver on a core |"
    );
    println!("|---|---|---|---|---|");
    for (&size, sample) in args.sizes.iter().zip(samples) {
        println!(
            "| {size} B | {} | {} | {:.2} | {} |",
            show(&sample.kafka_consume, ""),
            show(&sample.native_consume, ""),
            ratio(&sample.kafka_consume, &sample.native_consume),
            share(&sample.kafka_consumer_cpu),
        );
    }
}
