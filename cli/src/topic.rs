//! `sinew topic create|list|describe|delete`: durable topic administration on a
//! broker's native door, on `sinew_broker::client::native::Admin`, and the
//! `--broker` option that `sinew produce` and `sinew consume` share.
//!
//! stdout carries only what was asked for (`list` and `describe` lines); errors
//! go to stderr as one line, with exit status 1. It must never print progress on
//! stdout: scripts read it.

use clap::{Args, Subcommand, ValueEnum};
use sinew_broker::client::native::{Acks, Admin, DEFAULT_ENDPOINT, TopicSettings, Visibility};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// Where the broker is, and how long a request may wait (every broker command).
#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// The broker's native endpoint (tcp://HOST:PORT or ipc://PATH).
    #[arg(long, value_name = "ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    pub broker: String,
    /// How long to wait for the broker's answers, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub timeout: u64,
}

impl BrokerArgs {
    /// The timeout as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout)
    }
}

/// An acknowledgement level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AcksArg {
    /// No acknowledgement.
    None,
    /// Written to the log (not yet fsynced).
    Written,
    /// Fsynced.
    Durable,
}

impl AcksArg {
    /// The protocol's level.
    pub fn acks(self) -> Acks {
        match self {
            AcksArg::None => Acks::None,
            AcksArg::Written => Acks::Written,
            AcksArg::Durable => Acks::Durable,
        }
    }
}

/// Which records consumers see, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VisibilityArg {
    /// Fsynced records only.
    Durable,
    /// Every written record.
    Written,
}

/// `sinew topic`'s subcommands.
#[derive(Debug, Args)]
pub struct TopicCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create a topic.
    Create(CreateArgs),
    /// Print every topic: "NAME partitions=N compacted=BOOL", one per line.
    List(ListArgs),
    /// Print a topic's settings, then "partition P start=S end=E durable=D
    /// size=BYTES" per partition.
    Describe(NameArgs),
    /// Delete a topic and its records.
    Delete(NameArgs),
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The topic's name (Kafka's rules: letters, digits, '.', '_', '-').
    name: String,
    /// Number of partitions.
    #[arg(long, value_name = "N")]
    partitions: u32,
    /// Delete segments older than MS milliseconds (default: keep them).
    #[arg(long, value_name = "MS")]
    retention_ms: Option<u64>,
    /// Per partition, delete the oldest segments past B bytes (default: keep them).
    #[arg(long, value_name = "B")]
    retention_bytes: Option<u64>,
    /// Keep only the newest record of each key (records then need keys).
    #[arg(long)]
    compact: bool,
    /// The least acknowledgement every produce gets.
    #[arg(long, value_enum, default_value_t = AcksArg::None)]
    ack_policy: AcksArg,
    /// Which records consumers see.
    #[arg(long, value_enum, default_value_t = VisibilityArg::Durable)]
    visibility: VisibilityArg,
    /// Fsync at least every MS milliseconds (0: after every batch of requests).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    flush_interval_ms: u32,
    #[command(flatten)]
    broker: BrokerArgs,
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    broker: BrokerArgs,
}

#[derive(Debug, Args)]
struct NameArgs {
    /// The topic's name.
    name: String,
    #[command(flatten)]
    broker: BrokerArgs,
}

/// Runs `sinew topic`.
pub fn run(command: TopicCommand) -> ExitCode {
    let result = match command.action {
        Action::Create(args) => create(&args),
        Action::List(args) => list(&args),
        Action::Describe(args) => describe(&args),
        Action::Delete(args) => delete(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sinew topic: {message}");
            ExitCode::FAILURE
        }
    }
}

/// An admin connection with the command's timeout.
pub fn admin(broker: &BrokerArgs) -> Result<Admin, String> {
    let mut admin = Admin::connect(&broker.broker).map_err(|error| error.to_string())?;
    admin.set_timeout(broker.timeout());
    Ok(admin)
}

fn create(args: &CreateArgs) -> Result<(), String> {
    let settings = TopicSettings {
        partitions: args.partitions,
        compact: args.compact,
        ack_policy: args.ack_policy.acks(),
        visibility: match args.visibility {
            VisibilityArg::Durable => Visibility::Durable,
            VisibilityArg::Written => Visibility::Written,
        },
        retention_ms: args.retention_ms,
        retention_bytes: args.retention_bytes,
        flush_interval_ms: args.flush_interval_ms,
    };
    admin(&args.broker)?
        .create_topic(&args.name, settings)
        .map_err(|error| error.to_string())
}

fn list(args: &ListArgs) -> Result<(), String> {
    let topics = admin(&args.broker)?
        .list_topics()
        .map_err(|error| error.to_string())?;
    let mut out = std::io::stdout().lock();
    for topic in topics {
        writeln!(
            out,
            "{} partitions={} compacted={}",
            topic.name, topic.partitions, topic.compact
        )
        .map_err(|error| format!("cannot write output: {error}"))?;
    }
    Ok(())
}

fn describe(args: &NameArgs) -> Result<(), String> {
    let description = admin(&args.broker)?
        .describe_topic(&args.name)
        .map_err(|error| error.to_string())?;
    let config = description.config;
    let level = |acks: Acks| match acks {
        Acks::None => "none",
        Acks::Written => "written",
        Acks::Durable => "durable",
    };
    let visibility = match config.visibility {
        Visibility::Durable => "durable",
        Visibility::Written => "written",
    };
    let or_unlimited =
        |value: Option<u64>| value.map_or("-1".to_owned(), |value| value.to_string());
    let mut out = std::io::stdout().lock();
    let mut write = || -> std::io::Result<()> {
        writeln!(
            out,
            "topic {} partitions={} compacted={} ack-policy={} visibility={} retention-ms={} \
             retention-bytes={} flush-interval-ms={}",
            args.name,
            config.partitions,
            config.compact,
            level(config.ack_policy),
            visibility,
            or_unlimited(config.retention_ms),
            or_unlimited(config.retention_bytes),
            config.flush_interval_ms
        )?;
        for partition in &description.partitions {
            writeln!(
                out,
                "partition {} start={} end={} durable={} size={}",
                partition.partition,
                partition.start_offset,
                partition.end_offset,
                partition.durable_offset,
                partition.size_bytes
            )?;
        }
        Ok(())
    };
    write().map_err(|error| format!("cannot write output: {error}"))
}

fn delete(args: &NameArgs) -> Result<(), String> {
    admin(&args.broker)?
        .delete_topic(&args.name)
        .map_err(|error| error.to_string())
}
