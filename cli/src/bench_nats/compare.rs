//! `sinew bench nats compare`: sinew-broker and nats-server measured side by side
//! by the same client (this one), on this machine, in one run.
//!
//! For every round and every row, each server is started fresh on 127.0.0.1 and
//! a free port, measured once and killed; the two take turns to go first (round
//! by round and row by row), so a slow spell on a shared machine falls on both.
//! Both run with the same limits where they matter: the same `max_pending` (the
//! bytes that may wait for one client before it is cut off as a slow consumer:
//! `--max-pending` for sinew-broker, `max_pending` in a config file for
//! nats-server), and the defaults of both for everything else (they are nats-server's
//! defaults in sinew-broker too: 1 MiB payloads, 4 KiB control lines, pings every
//! two minutes). The publisher is paced the same way against both (see the parent
//! module).
//!
//! Each figure is the median over the rounds, shown with the lowest and highest.
//! Sinew/nats-server is the ratio of the medians: above 1 for rates means Sinew is
//! faster; below 1 for latencies means Sinew is faster. Progress (every single run)
//! goes to stderr; the table to stdout.

use super::{
    DEFAULT_FLUSH_EVERY, Fanout, FanoutResult, RequestReply, RequestReplyResult, fanout,
    microseconds, request_reply,
};
use crate::child_server::ChildServer;
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a server may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Arguments of `sinew bench nats compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The sinew-broker binary [default: next to this program].
    #[arg(long, value_name = "PATH")]
    sinew_broker: Option<PathBuf>,
    /// The nats-server binary.
    #[arg(long, value_name = "PATH", default_value = "nats-server")]
    nats_server: PathBuf,
    /// Rounds: each row runs this many times against each server.
    #[arg(long, value_name = "N", default_value_t = 5)]
    rounds: usize,
    /// Bytes that may wait for one client before it is cut off, on both servers.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    max_pending: usize,
    /// Fanout pacing: a PING after every K messages (see `fanout --help`).
    #[arg(long, value_name = "K", default_value_t = DEFAULT_FLUSH_EVERY)]
    flush_every: u64,
    /// Multiplies every row's count (messages or round trips; see the table).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    scale: f64,
    /// Counts scaled by 0.02 and one round: to check the set-up, not to measure.
    #[arg(long)]
    quick: bool,
    /// sinew-broker's `--idle-spin-us` (how long its loop polls without sleeping
    /// after an event; 0: off) [default: the broker's own].
    #[arg(long, value_name = "US")]
    sinew_idle_spin_us: Option<u64>,
}

/// The two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sinew,
    NatsServer,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sinew => "sinew-broker",
            Kind::NatsServer => "nats-server",
        }
    }
}

/// One row of the table: a workload.
#[derive(Debug, Clone, Copy)]
enum Workload {
    Fanout(Fanout),
    Request(RequestReply),
}

impl Workload {
    fn label(&self) -> String {
        match self {
            Workload::Fanout(run) => {
                format!("fanout {} x {}", run.subscribers, size_label(run.size))
            }
            Workload::Request(run) => format!("request-reply {}", size_label(run.size)),
        }
    }
}

fn size_label(size: usize) -> String {
    if size >= 1024 && size.is_multiple_of(1024) {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
enum Sample {
    Fanout(FanoutResult),
    Request(RequestReplyResult),
}

/// Runs the comparison and prints the table.
pub fn run(args: &CompareArgs) -> Result<(), String> {
    let sinew_broker = match &args.sinew_broker {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|error| format!("cannot find this program: {error}"))?
            .with_file_name("sinew-broker"),
    };
    let scale = if args.quick { 0.02 } else { args.scale };
    if !(scale > 0.0 && scale.is_finite()) {
        return Err("--scale must be a positive number".to_owned());
    }
    let rounds = if args.quick { 1 } else { args.rounds.max(1) };
    let scaled = |count: u64| ((count as f64 * scale).round() as u64).max(2);
    let fan = |subscribers, size, count| {
        Workload::Fanout(Fanout {
            subscribers,
            size,
            count: scaled(count),
            flush_every: args.flush_every,
        })
    };
    // Counts chosen so that each run lasts a few seconds on a 2-core machine: a
    // single subscriber gets four times the messages of ten.
    let workloads = [
        fan(1, 16, 8_000_000),
        fan(1, 1024, 2_000_000),
        fan(10, 16, 2_000_000),
        fan(10, 1024, 500_000),
        Workload::Request(RequestReply {
            size: 16,
            count: scaled(20_000),
            warm_up: scaled(1_000),
        }),
    ];
    let scratch = Scratch::new()?;
    let config = scratch.0.join("nats-server.conf");
    std::fs::write(&config, format!("max_pending: {}\n", args.max_pending))
        .map_err(|error| format!("cannot write {}: {error}", config.display()))?;
    let launch = Launch {
        sinew_broker: &sinew_broker,
        nats_server: &args.nats_server,
        nats_config: &config,
        max_pending: args.max_pending,
        idle_spin_us: args.sinew_idle_spin_us,
        scratch: &scratch.0,
    };

    let mut samples: Vec<[Vec<Sample>; 2]> = workloads.iter().map(|_| [vec![], vec![]]).collect();
    for round in 0..rounds {
        for (row, workload) in workloads.iter().enumerate() {
            let order = if (round + row) % 2 == 0 {
                [Kind::Sinew, Kind::NatsServer]
            } else {
                [Kind::NatsServer, Kind::Sinew]
            };
            for kind in order {
                let sample = measure_once(&launch, kind, workload).map_err(|error| {
                    format!("{} against {}: {error}", workload.label(), kind.name())
                })?;
                eprintln!(
                    "round {}/{rounds}: {} on {}: {}",
                    round + 1,
                    workload.label(),
                    kind.name(),
                    describe(&sample)
                );
                if let Some(slot) = samples.get_mut(row) {
                    slot[usize::from(kind == Kind::NatsServer)].push(sample);
                }
            }
        }
    }
    print_table(&workloads, &samples, args, rounds);
    Ok(())
}

/// What starting a server needs.
struct Launch<'a> {
    sinew_broker: &'a Path,
    nats_server: &'a Path,
    nats_config: &'a Path,
    max_pending: usize,
    idle_spin_us: Option<u64>,
    scratch: &'a Path,
}

/// Starts `kind`, runs `workload` against it once, stops it.
fn measure_once(launch: &Launch<'_>, kind: Kind, workload: &Workload) -> Result<Sample, String> {
    let server = Server::start(launch, kind)?;
    let sample = match workload {
        Workload::Fanout(run) => fanout(server.address, run).map(Sample::Fanout),
        Workload::Request(run) => request_reply(server.address, run).map(Sample::Request),
    };
    server.stop()?;
    sample
}

fn describe(sample: &Sample) -> String {
    match sample {
        Sample::Fanout(result) => format!(
            "delivered {} msg/s, published {} msg/s ({:.2} s)",
            rate(result.delivered),
            rate(result.published),
            result.seconds
        ),
        Sample::Request(result) => format!(
            "p50 {:.0} us, p99 {:.0} us, p99.9 {:.0} us, mean {:.0} us",
            microseconds(result.p50),
            microseconds(result.p99),
            microseconds(result.p999),
            microseconds(result.mean)
        ),
    }
}

/// A running server, killed by `stop` or on drop.
struct Server {
    process: ChildServer,
    address: SocketAddr,
}

impl Server {
    fn start(launch: &Launch<'_>, kind: Kind) -> Result<Server, String> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let (command, marker, data) = match kind {
            Kind::Sinew => {
                let data = launch.scratch.join(format!(
                    "data-{}",
                    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                ));
                let mut command = Command::new(launch.sinew_broker);
                command
                    .args(["--nats", "127.0.0.1:0", "--http", "127.0.0.1:0"])
                    .args(["--listen", "tcp://127.0.0.1:0", "--kafka", "127.0.0.1:0"])
                    .arg("--data-dir")
                    .arg(&data)
                    .args(["--max-pending", &launch.max_pending.to_string()]);
                if let Some(spin) = launch.idle_spin_us {
                    command.args(["--idle-spin-us", &spin.to_string()]);
                }
                (command, "sinew-broker ready nats=", Some(data))
            }
            Kind::NatsServer => {
                let mut command = Command::new(launch.nats_server);
                command
                    .arg("-c")
                    .arg(launch.nats_config)
                    .args(["-a", "127.0.0.1", "-p", "-1"]);
                (command, "Listening for client connections on ", None)
            }
        };
        let (process, line) = ChildServer::start(command, marker, marker, data, START_TIMEOUT)
            .map_err(|error| format!("{}: {error}", kind.name()))?;
        let announced = line
            .split_once(marker)
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or("");
        let address = announced
            .parse()
            .map_err(|_| format!("{} announced {announced:?}", kind.name()))?;
        Ok(Server { process, address })
    }

    /// Kills the server; an error if it had already exited (it crashed).
    fn stop(self) -> Result<(), String> {
        self.process.stop()
    }
}

/// A temporary directory for the config file and data directories.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        let path = std::env::temp_dir().join(format!("sinew-bench-nats-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The median, lowest and highest of some figures.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    low: f64,
    high: f64,
}

fn spread(mut values: Vec<f64>) -> Spread {
    values.sort_by(f64::total_cmp);
    let count = values.len();
    let median = match count {
        0 => f64::NAN,
        _ if count % 2 == 1 => values[count / 2],
        _ => (values[count / 2 - 1] + values[count / 2]) / 2.0,
    };
    Spread {
        median,
        low: values.first().copied().unwrap_or(f64::NAN),
        high: values.last().copied().unwrap_or(f64::NAN),
    }
}

fn rate(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else {
        format!("{:.0} k", value / 1e3)
    }
}

fn show_rate(spread: Spread) -> String {
    format!(
        "{} ({}–{})",
        rate(spread.median),
        rate(spread.low),
        rate(spread.high)
    )
}

fn show_micros(spread: Spread) -> String {
    format!(
        "{:.0} µs ({:.0}–{:.0})",
        spread.median, spread.low, spread.high
    )
}

/// Picks one figure out of a fanout run.
type FanoutFigure = fn(&FanoutResult) -> f64;
/// Picks one figure out of a request-reply run.
type LatencyFigure = fn(&RequestReplyResult) -> Duration;

fn print_table(
    workloads: &[Workload],
    samples: &[[Vec<Sample>; 2]],
    args: &CompareArgs,
    rounds: usize,
) {
    println!(
        "Rounds: {rounds}; max_pending {} bytes on both servers; fanout paced by a PING every {} messages (at most two windows unanswered); figures are medians (lowest–highest).",
        args.max_pending, args.flush_every
    );
    if let Some(spin) = args.sinew_idle_spin_us {
        println!("sinew-broker ran with --idle-spin-us {spin}.");
    }
    println!();
    println!("| workload | figure | sinew-broker | nats-server | Sinew/nats-server |");
    println!("|---|---|---|---|---|");
    let mut rate_ratios = Vec::new();
    let mut p50_ratio = None;
    for (workload, [sinew, nats]) in workloads.iter().zip(samples) {
        let label = workload.label();
        match workload {
            Workload::Fanout(run) => {
                let figure = |samples: &[Sample], pick: fn(&FanoutResult) -> f64| {
                    spread(
                        samples
                            .iter()
                            .filter_map(|sample| match sample {
                                Sample::Fanout(result) => Some(pick(result)),
                                Sample::Request(_) => None,
                            })
                            .collect(),
                    )
                };
                let pairs: [(&str, FanoutFigure); 2] = [
                    ("delivered msg/s", |result| result.delivered),
                    ("published msg/s", |result| result.published),
                ];
                for (name, pick) in pairs {
                    let (ours, theirs) = (figure(sinew, pick), figure(nats, pick));
                    let ratio = ours.median / theirs.median;
                    if name.starts_with("delivered") {
                        rate_ratios.push((label.clone(), ratio));
                    }
                    println!(
                        "| {label} ({} msgs{}) | {name} | {} | {} | {ratio:.2}x |",
                        run.count,
                        if run.subscribers > 1 { " each" } else { "" },
                        show_rate(ours),
                        show_rate(theirs)
                    );
                }
            }
            Workload::Request(run) => {
                let figure = |samples: &[Sample], pick: fn(&RequestReplyResult) -> Duration| {
                    spread(
                        samples
                            .iter()
                            .filter_map(|sample| match sample {
                                Sample::Request(result) => Some(microseconds(pick(result))),
                                Sample::Fanout(_) => None,
                            })
                            .collect(),
                    )
                };
                let pairs: [(&str, LatencyFigure); 3] = [
                    ("round trip p50", |result| result.p50),
                    ("round trip p99", |result| result.p99),
                    ("round trip mean", |result| result.mean),
                ];
                for (name, pick) in pairs {
                    let (ours, theirs) = (figure(sinew, pick), figure(nats, pick));
                    let ratio = ours.median / theirs.median;
                    if name.ends_with("p50") {
                        p50_ratio = Some(ratio);
                    }
                    println!(
                        "| {label} ({} round trips) | {name} | {} | {} | {ratio:.2}x |",
                        run.count,
                        show_micros(ours),
                        show_micros(theirs)
                    );
                }
            }
        }
    }
    println!();
    let missed: Vec<String> = rate_ratios
        .iter()
        .filter(|(_, ratio)| ratio.is_nan() || *ratio < 1.5)
        .map(|(label, ratio)| format!("{label} {ratio:.2}x"))
        .collect();
    if missed.is_empty() {
        println!("Goal, at least 1.5x nats-server's delivered rate on every fanout row: met.");
    } else {
        println!(
            "Goal, at least 1.5x nats-server's delivered rate on every fanout row: not met ({}).",
            missed.join(", ")
        );
    }
    if let Some(ratio) = p50_ratio {
        let verdict = if ratio <= 0.5 { "met" } else { "not met" };
        println!("Goal, a round-trip p50 at most half of nats-server's: {verdict} ({ratio:.2}x).");
    }
}
