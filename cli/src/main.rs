//! The `sinew` command: a command-line peer for any socket type (`sinew cat`), a
//! window into a log directory (`sinew log`), and later benchmarks and broker
//! client commands.
//!
//! Each subcommand lives in its own module; this file only parses the command line
//! and dispatches. It must never print anything but what a subcommand asks for:
//! scripts read its output.

mod log;

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
    /// Look inside a log directory, or append to it.
    Log(log::LogCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Log(command) => log::run(command),
    }
}
