//! `sinew produce`: records from stdin, one per line, appended to a topic through
//! `sinew_broker::client::native::Producer`, in kcat's habits (`--key-delimiter`
//! splits the key from the value, `--partition` picks one, otherwise a key picks
//! Kafka's partition).
//!
//! With `--report`, stdout gets "PARTITION OFFSET LINE" for each record once it is
//! acknowledged (offset -1 with `--acks none`, which returns none), in the order
//! acknowledgements come; nothing else is ever printed there. Exit 0 only when
//! every record was acknowledged; 1 otherwise, with a line on stderr per failure.

use clap::Args;
use sinew_broker::client::native::{Delivery, Producer, ProducerConfig, ProducerRecord};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use crate::topic::{AcksArg, BrokerArgs};

/// Arguments of `sinew produce`.
#[derive(Debug, Args)]
#[command(
    after_help = "Reads stdin to its end, one record per line (the line end is not \
part of the record). With --report, prints \"PARTITION OFFSET LINE\" per record once \
it is acknowledged (offset -1 with --acks none). Exit status: 0 when every record is \
acknowledged, 1 otherwise."
)]
pub struct ProduceArgs {
    /// The topic.
    topic: String,
    /// Split each line at the first C: the key before it, the value after (a line
    /// without C is a value without a key).
    #[arg(long, value_name = "C")]
    key_delimiter: Option<String>,
    /// Send every record to partition N (default: by key, or one partition per
    /// batch for records without a key).
    #[arg(long, value_name = "N")]
    partition: Option<u32>,
    /// How far each record must get before it is acknowledged.
    #[arg(long, value_enum, default_value_t = AcksArg::Durable)]
    acks: AcksArg,
    /// Print "PARTITION OFFSET LINE" for each record once it is acknowledged.
    #[arg(long)]
    report: bool,
    /// Send a batch this long after its first record, full or not.
    #[arg(long, value_name = "MS", default_value_t = 5)]
    linger_ms: u64,
    #[command(flatten)]
    broker: BrokerArgs,
}

/// Runs `sinew produce`.
pub fn run(args: ProduceArgs) -> ExitCode {
    match produce(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failed) => {
            eprintln!("sinew produce: {failed} record(s) not acknowledged");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("sinew produce: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Keeps each line until its record is reported, and counts failures.
struct Reporter {
    report: bool,
    lines: HashMap<u64, Vec<u8>>,
    failed: usize,
}

impl Reporter {
    fn take(&mut self, deliveries: Vec<Delivery>) -> Result<(), String> {
        let mut out = std::io::stdout().lock();
        for delivery in deliveries {
            let line = self.lines.remove(&delivery.id).unwrap_or_default();
            match delivery.result {
                Ok(acknowledgement) if self.report => {
                    let offset = acknowledgement
                        .offset
                        .map_or("-1".to_owned(), |offset| offset.to_string());
                    write!(out, "{} {offset} ", delivery.partition)
                        .and_then(|()| out.write_all(&line))
                        .and_then(|()| out.write_all(b"\n"))
                        .map_err(|error| format!("cannot write output: {error}"))?;
                }
                Ok(_) => {}
                Err(error) => {
                    self.failed += 1;
                    eprintln!(
                        "sinew produce: record {:?} not stored: {error}",
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
        out.flush()
            .map_err(|error| format!("cannot write output: {error}"))
    }
}

/// Produces every line; returns how many records failed.
fn produce(args: &ProduceArgs) -> Result<usize, String> {
    if args.key_delimiter.as_deref() == Some("") {
        return Err("--key-delimiter must not be empty".to_owned());
    }
    let config = ProducerConfig {
        acks: args.acks.acks(),
        linger: Duration::from_millis(args.linger_ms),
        request_timeout: args.broker.timeout(),
        setup_timeout: args.broker.timeout(),
        ..ProducerConfig::default()
    };
    let linger = config.linger.max(Duration::from_millis(1));
    let mut producer =
        Producer::connect(&args.broker.broker, config).map_err(|error| error.to_string())?;
    let mut reporter = Reporter {
        report: args.report,
        lines: HashMap::new(),
        failed: 0,
    };
    // A thread reads stdin, so that a batch lingering while stdin is quiet is
    // still sent, and acknowledgements still reported.
    let (sender, lines) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(1024);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().split(b'\n') {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    loop {
        let next = if producer.pending_records() == 0 {
            lines
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        } else {
            lines.recv_timeout(linger)
        };
        match next {
            Ok(line) => {
                let line = line.map_err(|error| format!("cannot read stdin: {error}"))?;
                let record = record(args, &line);
                let id = producer.send(record).map_err(|error| error.to_string())?;
                reporter.lines.insert(id, line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let deliveries = producer.deliveries().map_err(|error| error.to_string())?;
        reporter.take(deliveries)?;
    }
    let flushed = producer.flush(args.broker.timeout());
    match flushed {
        Ok(deliveries) => reporter.take(deliveries)?,
        Err(error) => {
            let pending = producer.pending_records();
            reporter.take(producer.deliveries().unwrap_or_default())?;
            return Err(format!("{error} ({pending} record(s) pending)"));
        }
    }
    Ok(reporter.failed)
}

/// The record for one line.
fn record(args: &ProduceArgs, line: &[u8]) -> ProducerRecord {
    let split = args
        .key_delimiter
        .as_deref()
        .and_then(|delimiter| find(line, delimiter.as_bytes()).map(|at| (at, delimiter.len())));
    let mut record = match split {
        Some((at, length)) => {
            let (key, rest) = line.split_at(at);
            let value = rest.get(length..).unwrap_or_default();
            ProducerRecord::new(args.topic.clone(), value.to_vec()).key(key.to_vec())
        }
        None => ProducerRecord::new(args.topic.clone(), line.to_vec()),
    };
    record.partition = args.partition;
    record
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ProduceArgs,
    }

    fn args(extra: &[&str]) -> ProduceArgs {
        let mut line = vec!["produce", "orders"];
        line.extend_from_slice(extra);
        Wrapper::try_parse_from(line).expect("parses").args
    }

    #[test]
    fn a_key_delimiter_splits_at_its_first_occurrence() {
        let split = args(&["--key-delimiter", "::"]);
        let keyed = record(&split, b"user-1::a::b");
        assert_eq!(keyed.key.as_deref(), Some(&b"user-1"[..]));
        assert_eq!(keyed.value.as_deref(), Some(&b"a::b"[..]));
        let unkeyed = record(&split, b"no delimiter");
        assert_eq!(unkeyed.key, None);
        assert_eq!(unkeyed.value.as_deref(), Some(&b"no delimiter"[..]));
        let empty_key = record(&split, b"::value");
        assert_eq!(empty_key.key.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn without_a_delimiter_the_line_is_the_value_and_partition_is_kept() {
        let plain = args(&["--partition", "2"]);
        let plain = record(&plain, b"a:b");
        assert_eq!(plain.key, None);
        assert_eq!(plain.value.as_deref(), Some(&b"a:b"[..]));
        assert_eq!(plain.partition, Some(2));
        assert_eq!(plain.topic, "orders");
    }
}
