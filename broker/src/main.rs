//! `sinew-broker`: one binary, on embedded defaults with no arguments.
//!
//! It reads the settings (defaults, then `--config FILE`, then flags), sets up
//! logging, starts a `sinew_broker::Broker` (which locks the data directory
//! against a second broker and binds every door) and serves until SIGINT or
//! SIGTERM, then flushes what is queued to every client and exits 0. Any reason
//! it cannot start is one line on stderr and exit code 1. This file must never
//! hold broker logic: it only starts the broker and stops it on a signal.

use clap::Parser;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use sinew_broker::Broker;
use sinew_broker::config::{
    Config, DEFAULT_DATA_DIR, DEFAULT_HTTP, DEFAULT_IDLE_SPIN, DEFAULT_KAFKA, DEFAULT_LISTEN,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONTROL_LINE, DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_PENDING,
    DEFAULT_MAX_PINGS_OUT, DEFAULT_NATIVE_PENDING_BYTES, DEFAULT_NATS, Overrides, User,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// The broker's settings; each flag overrides the config file, which overrides
/// the default shown.
#[derive(Debug, Parser)]
#[command(
    name = "sinew-broker",
    version,
    about = "Sinew's broker: NATS clients connect to it unchanged; durable topics behind its native door"
)]
struct Args {
    /// A TOML file of settings (the same names as these flags, grouped as in
    /// the README).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the NATS door listens (port 0: any free port).
    #[arg(long, value_name = "ADDR", help = format!("Where the NATS door listens [default: {DEFAULT_NATS}]"))]
    nats: Option<SocketAddr>,
    /// Where monitoring is served over HTTP.
    #[arg(long, value_name = "ADDR", help = format!("Where monitoring is served over HTTP [default: {DEFAULT_HTTP}]"))]
    http: Option<SocketAddr>,
    /// Where the native door listens: a ZeroMQ endpoint (tcp, ipc or inproc;
    /// port 0: any free port).
    #[arg(long, value_name = "ENDPOINT", help = format!("Where the native door listens: tcp://, ipc:// or inproc:// (port 0: any free port) [default: {DEFAULT_LISTEN}]"))]
    listen: Option<String>,
    /// Where the Kafka door listens (port 0: any free port).
    #[arg(long, value_name = "ADDR", help = format!("Where the Kafka door listens (port 0: any free port) [default: {DEFAULT_KAFKA}]"))]
    kafka: Option<SocketAddr>,
    /// The host:port Kafka clients are told to connect to.
    #[arg(
        long,
        value_name = "HOST:PORT",
        help = "The host:port Kafka clients are told to connect to (Metadata, FindCoordinator) [default: the Kafka door's bound address]"
    )]
    kafka_advertised: Option<String>,
    /// The data directory (locked against a second broker).
    #[arg(long, value_name = "DIR", help = format!("The data directory, locked against a second broker [default: {DEFAULT_DATA_DIR}]"))]
    data_dir: Option<PathBuf>,
    /// The largest payload a client may publish, in bytes.
    #[arg(long, value_name = "BYTES", help = format!("The largest payload a client may publish [default: {DEFAULT_MAX_PAYLOAD}]"))]
    max_payload: Option<usize>,
    /// The longest protocol line a client may send, in bytes.
    #[arg(long, value_name = "BYTES", help = format!("The longest protocol line a client may send [default: {DEFAULT_MAX_CONTROL_LINE}]"))]
    max_control_line: Option<usize>,
    /// The most clients connected at once.
    #[arg(long, value_name = "N", help = format!("The most clients connected at once [default: {DEFAULT_MAX_CONNECTIONS}]"))]
    max_connections: Option<usize>,
    /// The most bytes waiting for one client before it is closed as a slow
    /// consumer.
    #[arg(long, value_name = "BYTES", help = format!("The most bytes waiting for one client before it is closed as a slow consumer [default: {DEFAULT_MAX_PENDING}]"))]
    max_pending: Option<usize>,
    /// The most request bytes all native-door clients together may have waiting
    /// for the store.
    #[arg(long, value_name = "BYTES", help = format!("The most request bytes all native-door clients together may have waiting for the store; more get TOO_MANY_PENDING [default: {DEFAULT_NATIVE_PENDING_BYTES}]"))]
    native_pending_bytes: Option<usize>,
    /// How often idle clients are pinged, in milliseconds.
    #[arg(
        long,
        value_name = "MS",
        help = "How often idle clients are pinged, in milliseconds [default: 120000]"
    )]
    ping_interval_ms: Option<u64>,
    /// Unanswered pings before a client is closed as stale.
    #[arg(long, value_name = "N", help = format!("Unanswered pings before a client is closed as stale [default: {DEFAULT_MAX_PINGS_OUT}]"))]
    max_pings_out: Option<u32>,
    /// A token every client must present [default: none].
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// A user clients may connect as (with --password) [default: none].
    #[arg(long, value_name = "NAME", requires = "password")]
    user: Option<String>,
    /// The password of --user.
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    password: Option<String>,
    /// Microseconds the loop keeps polling without sleeping after its last event
    /// (0: off).
    #[arg(long, value_name = "US", help = format!("Microseconds the loop keeps polling, without sleeping, after its last event: faster replies for at most that much CPU per burst (0: off) [default: {}]", DEFAULT_IDLE_SPIN.as_micros()))]
    idle_spin_us: Option<u64>,
    /// Log level: error, warn, info, debug or trace [default: info].
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<tracing::Level>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let level = args.log_level.unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let user = match (args.user, args.password) {
        (Some(user), Some(password)) => Some(User { user, password }),
        _ => None,
    };
    let overrides = Overrides {
        nats: args.nats,
        http: args.http,
        listen: args.listen,
        kafka: args.kafka,
        kafka_advertised: args.kafka_advertised,
        data_dir: args.data_dir,
        max_payload: args.max_payload,
        max_control_line: args.max_control_line,
        max_connections: args.max_connections,
        max_pending: args.max_pending,
        native_pending_bytes: args.native_pending_bytes,
        ping_interval_ms: args.ping_interval_ms,
        max_pings_out: args.max_pings_out,
        token: args.token,
        user,
        idle_spin_us: args.idle_spin_us,
    };
    let config = match Config::load(args.config.as_deref(), overrides) {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    let broker = match Broker::start(&config) {
        Ok(broker) => broker,
        Err(error) => return fail(&error),
    };
    // The signals are caught before the ready line, so a signal sent after it
    // always stops the broker cleanly.
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(error) => return fail(&format!("cannot handle signals: {error}")),
    };
    let stopper = broker.stopper();
    let watcher = std::thread::Builder::new()
        .name("sinew-signals".to_owned())
        .spawn(move || {
            for _ in signals.forever() {
                stopper.stop();
            }
        });
    if let Err(error) = watcher {
        return fail(&format!("cannot handle signals: {error}"));
    }
    let shown = |address: Option<SocketAddr>| address.map_or("off".to_owned(), |a| a.to_string());
    tracing::info!(
        nats = %shown(broker.nats_address()),
        kafka = %shown(broker.kafka_address()),
        http = %shown(broker.http_address()),
        native = %broker.native_endpoint(),
        data = %config.data_dir.display(),
        "sinew-broker ready"
    );
    match broker.wait() {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("sinew-broker: {error}");
    ExitCode::from(1)
}
