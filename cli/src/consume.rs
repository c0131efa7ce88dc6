//! `sinew consume`: a topic's records printed in kcat's format language, through
//! `sinew_broker::client::native::Consumer`: from earliest, latest, an offset or
//! a timestamp, one partition or all, up to a count or the end.
//!
//! stdout carries only the formatted records; errors go to stderr as one line,
//! with exit status 1. It must never print a record twice or out of its
//! partition's order.

use clap::Args;
use sinew_broker::client::native::{Consumer, ConsumerConfig, ConsumerRecord, Position};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use crate::topic::BrokerArgs;

/// Arguments of `sinew consume`.
#[derive(Debug, Args)]
#[command(
    after_help = "FMT, as kcat's -f: %t topic, %p partition, %o offset, %k key, \
%s value, %T timestamp (ms), %h headers (name=value,...), %% a percent sign; \\n, \\t, \
\\r and \\\\ are escapes. A null key or value prints nothing. Exit status: 0 when \
--count records were printed or, with --exit-at-end, the end was reached; 1 on any \
error."
)]
pub struct ConsumeArgs {
    /// The topic.
    topic: String,
    /// Read only partition N (default: every partition).
    #[arg(long, value_name = "N")]
    partition: Option<u32>,
    /// Where to start: earliest (or beginning), latest (or end), an OFFSET, or
    /// @TIMESTAMP_MS (the first record at or after it).
    #[arg(long, value_name = "WHERE", default_value = "earliest")]
    from: String,
    /// Exit after N records.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Exit once every partition read is at its end.
    #[arg(long)]
    exit_at_end: bool,
    /// How to print each record (see below).
    #[arg(long, value_name = "FMT", default_value = "%s\\n")]
    format: String,
    #[command(flatten)]
    broker: BrokerArgs,
}

/// Runs `sinew consume`.
pub fn run(args: ConsumeArgs) -> ExitCode {
    match consume(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sinew consume: {message}");
            ExitCode::FAILURE
        }
    }
}

fn consume(args: &ConsumeArgs) -> Result<(), String> {
    let format = Format::parse(&args.format)?;
    let start = position(&args.from)?;
    let config = ConsumerConfig {
        // At the end, the answer that says so comes at once.
        max_wait: if args.exit_at_end {
            Duration::ZERO
        } else {
            ConsumerConfig::default().max_wait
        },
        request_timeout: args.broker.timeout(),
        ..ConsumerConfig::default()
    };
    let mut consumer =
        Consumer::connect(&args.broker.broker, config).map_err(|error| error.to_string())?;
    let partitions: Vec<u32> = args.partition.into_iter().collect();
    let assigned = consumer
        .assign(&args.topic, &partitions)
        .map_err(|error| error.to_string())?;
    for partition in assigned {
        consumer
            .seek(partition, start)
            .map_err(|error| error.to_string())?;
    }
    let mut printed = 0u64;
    let mut out = std::io::stdout().lock();
    loop {
        if args.count.is_some_and(|count| printed >= count) {
            return Ok(());
        }
        let records = consumer
            .poll(Duration::from_secs(1))
            .map_err(|error| error.to_string())?;
        for record in &records {
            if args.count.is_some_and(|count| printed >= count) {
                break;
            }
            let written = format.write(&mut out, record);
            if let Err(error) = written {
                return output_closed(&error);
            }
            printed += 1;
        }
        if let Err(error) = out.flush() {
            return output_closed(&error);
        }
        if args.exit_at_end && consumer.at_end() {
            return Ok(());
        }
    }
}

/// A reader that went away (`| head`) ends the command quietly, as for `sinew
/// log`; any other write error is a failure.
fn output_closed(error: &std::io::Error) -> Result<(), String> {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("cannot write output: {error}"))
    }
}

/// `--from`'s value as a position.
fn position(from: &str) -> Result<Position, String> {
    match from {
        "earliest" | "beginning" => Ok(Position::Earliest),
        "latest" | "end" => Ok(Position::Latest),
        _ => {
            if let Some(timestamp) = from.strip_prefix('@') {
                return timestamp
                    .parse::<i64>()
                    .ok()
                    .filter(|timestamp| *timestamp >= 0)
                    .map(Position::Timestamp)
                    .ok_or_else(|| format!("--from {from:?}: @ wants milliseconds, 0 or more"));
            }
            from.parse::<u64>().map(Position::Offset).map_err(|_| {
                format!("--from {from:?}: expected earliest, latest, an offset or @TIMESTAMP_MS")
            })
        }
    }
}

/// One piece of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(Vec<u8>),
    Topic,
    Partition,
    Offset,
    Key,
    Value,
    Timestamp,
    Headers,
}

/// A parsed kcat-style format.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Format(Vec<Piece>);

impl Format {
    fn parse(format: &str) -> Result<Format, String> {
        let mut pieces = Vec::new();
        let mut text = Vec::new();
        let mut chars = format.chars();
        while let Some(character) = chars.next() {
            match character {
                '%' => {
                    let piece = match chars.next() {
                        Some('t') => Piece::Topic,
                        Some('p') => Piece::Partition,
                        Some('o') => Piece::Offset,
                        Some('k') => Piece::Key,
                        Some('s') => Piece::Value,
                        Some('T') => Piece::Timestamp,
                        Some('h') => Piece::Headers,
                        Some('%') => {
                            text.push(b'%');
                            continue;
                        }
                        Some(other) => {
                            return Err(format!("--format: unknown %{other}"));
                        }
                        None => return Err("--format ends with a lone %".to_owned()),
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(piece);
                }
                '\\' => match chars.next() {
                    Some('n') => text.push(b'\n'),
                    Some('t') => text.push(b'\t'),
                    Some('r') => text.push(b'\r'),
                    Some('\\') => text.push(b'\\'),
                    Some(other) => {
                        text.push(b'\\');
                        let mut buffer = [0u8; 4];
                        text.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
                    }
                    None => text.push(b'\\'),
                },
                other => {
                    let mut buffer = [0u8; 4];
                    text.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Format(pieces))
    }

    fn write(&self, out: &mut impl Write, record: &ConsumerRecord) -> std::io::Result<()> {
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.write_all(text)?,
                Piece::Topic => out.write_all(record.topic.as_str().as_bytes())?,
                Piece::Partition => write!(out, "{}", record.partition)?,
                Piece::Offset => write!(out, "{}", record.offset)?,
                Piece::Key => out.write_all(record.key.as_deref().unwrap_or_default())?,
                Piece::Value => out.write_all(record.value.as_deref().unwrap_or_default())?,
                Piece::Timestamp => write!(out, "{}", record.timestamp)?,
                Piece::Headers => {
                    for (index, header) in record.headers.iter().enumerate() {
                        if index > 0 {
                            out.write_all(b",")?;
                        }
                        out.write_all(header.name().as_bytes())?;
                        out.write_all(b"=")?;
                        out.write_all(header.value().map(|value| &value[..]).unwrap_or_default())?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_kcats_conversions_and_escapes() {
        let format = Format::parse("%t/%p@%o %k=%s %T [%h] 100%%\\n\\t\\x").expect("parses");
        assert_eq!(
            format.0,
            [
                Piece::Topic,
                Piece::Text(b"/".to_vec()),
                Piece::Partition,
                Piece::Text(b"@".to_vec()),
                Piece::Offset,
                Piece::Text(b" ".to_vec()),
                Piece::Key,
                Piece::Text(b"=".to_vec()),
                Piece::Value,
                Piece::Text(b" ".to_vec()),
                Piece::Timestamp,
                Piece::Text(b" [".to_vec()),
                Piece::Headers,
                Piece::Text(b"] 100%\n\t\\x".to_vec()),
            ]
        );
        assert!(Format::parse("%q").is_err());
        assert!(Format::parse("trailing %").is_err());
    }

    #[test]
    fn positions_parse_from_words_offsets_and_timestamps() {
        assert_eq!(position("earliest"), Ok(Position::Earliest));
        assert_eq!(position("beginning"), Ok(Position::Earliest));
        assert_eq!(position("latest"), Ok(Position::Latest));
        assert_eq!(position("end"), Ok(Position::Latest));
        assert_eq!(position("42"), Ok(Position::Offset(42)));
        assert_eq!(
            position("@1700000000000"),
            Ok(Position::Timestamp(1_700_000_000_000))
        );
        assert!(position("@-5").is_err());
        assert!(position("-5").is_err());
        assert!(position("soon").is_err());
    }
}
