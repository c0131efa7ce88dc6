//! The `sinew` command: a command-line peer for any socket type (`sinew cat`), a
//! window into a log directory (`sinew log`), benchmarks (`sinew bench`), NATS
//! client commands (`sinew pub`, `sub`, `request`, `reply`), durable topics on
//! a broker's native door (`sinew topic`, `produce`, `consume`), Kafka
//! consumer groups over Kafka's protocol (`sinew group`), and CURVE key pairs
//! (`sinew keygen`).
//!
//! Each subcommand lives in its own module; this file only parses the command line
//! and dispatches. It must never print anything but what a subcommand asks for:
//! scripts read its output.

mod bench;
mod bench_nats;
mod bench_topics;
mod cat;
mod cat_security;
mod child_server;
mod consume;
mod group;
mod keygen;
mod log;
mod nats;
mod produce;
mod topic;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Sinew's command-line tool.
#[derive(Debug, Parser)]
#[command(name = "sinew", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A command-line peer for any socket type.
    Cat(Box<cat::CatArgs>),
    /// Look inside a log directory, or append to it.
    Log(log::LogCommand),
    /// Measure throughput (`thr`), round-trip latency (`lat`), or a NATS server
    /// (`nats`).
    Bench(bench::BenchArgs),
    /// Publish a message on a NATS subject.
    Pub(nats::PublishArgs),
    /// Subscribe to a NATS subject and print each message.
    Sub(nats::SubscribeArgs),
    /// Send a NATS request and print the reply.
    Request(nats::RequestArgs),
    /// Answer each NATS request on a subject with a fixed message.
    Reply(nats::ReplyArgs),
    /// Create, list, describe or delete durable topics on a broker.
    Topic(topic::TopicCommand),
    /// Append records read from stdin, one per line, to a topic on a broker.
    Produce(produce::ProduceArgs),
    /// Print a topic's records in kcat's format.
    Consume(consume::ConsumeArgs),
    /// List, describe and reset the offsets of Kafka consumer groups.
    Group(group::GroupCommand),
    /// Print a fresh CURVE key pair: `public <Z85>` and `secret <Z85>`.
    Keygen(keygen::KeygenArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = error.print();
                return ExitCode::SUCCESS;
            }
            // Scripts get one line and exit status 1 for bad arguments.
            let rendered = error.to_string();
            let line = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("sinew: {}", line.trim_start_matches("error: "));
            return ExitCode::from(1);
        }
    };
    match cli.command {
        Command::Cat(args) => cat::run(*args),
        Command::Log(command) => log::run(command),
        Command::Bench(args) => bench::run(args),
        Command::Pub(args) => nats::publish(args),
        Command::Sub(args) => nats::subscribe(args),
        Command::Request(args) => nats::request(args),
        Command::Reply(args) => nats::reply(args),
        Command::Topic(command) => topic::run(command),
        Command::Produce(args) => produce::run(args),
        Command::Consume(args) => consume::run(args),
        Command::Group(command) => group::run(command),
        Command::Keygen(args) => keygen::run(args),
    }
}
