//! `side_by_side`: Sinew, libzmq and the physical floor measured in one run, on the
//! matrix tcp, ipc, inproc x 1 B, 64 B, 1 KiB, 64 KiB, 1 MiB x throughput and
//! latency, with the Sinew/libzmq ratio per row.
//!
//! Each row runs the implementations in turn, each run starting with the next one,
//! and reports the median of the runs and their spread. For tcp and ipc the other end is this binary re-executed as a child
//! (`side_by_side child ...`), two processes per measurement as libzmq's
//! local_thr/remote_thr are; for inproc it is a thread. Built with `--features
//! zmq-rs`, it measures zmq.rs (the `zeromq` crate) too, over tcp and ipc. `--write
//! BENCHMARKS.md`
//! regenerates the report and its chart; `--json` prints one JSON object; `--quick`
//! makes tiny runs for smoke tests. This program must never be part of a timed
//! assertion: it reports figures, it does not judge them.

mod chart;
mod floor;
mod libzmq_end;
mod measure;
mod report;
mod sinew_end;
#[cfg(feature = "zmq-rs")]
mod zmqrs_end;

use clap::{Args, Parser, Subcommand};
use measure::{Counts, End, Implementation, Runs, Transport, Workload};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::thread::JoinHandle;

/// The sizes of the matrix, in bytes.
const SIZES: [usize; 5] = [1, 64, 1024, 64 * 1024, 1024 * 1024];

/// Side-by-side benchmarks of Sinew, libzmq and the raw floor.
#[derive(Debug, Parser)]
#[command(name = "side_by_side")]
struct Cli {
    #[command(subcommand)]
    child: Option<ChildCommand>,
    #[command(flatten)]
    options: Options,
}

#[derive(Debug, Args)]
struct Options {
    /// Tiny counts and one run: a smoke test, not a measurement.
    #[arg(long)]
    quick: bool,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Runs per implementation and row (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Only these transports (comma-separated: tcp,ipc,inproc).
    #[arg(long, value_delimiter = ',')]
    transports: Vec<String>,
    /// Only these sizes in bytes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Only these workloads (comma-separated: thr,lat).
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Write the report (Markdown) to this file and the chart beside it; the
    /// file's "## Profile" section and everything after it is kept.
    #[arg(long, value_name = "PATH")]
    write: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ChildCommand {
    /// The other end of one measurement (started by this program).
    #[command(hide = true)]
    Child(ChildArgs),
}

#[derive(Debug, Args)]
struct ChildArgs {
    #[arg(long)]
    implementation: String,
    #[arg(long)]
    end: String,
    #[arg(long)]
    endpoint: String,
    #[arg(long)]
    size: usize,
    #[arg(long)]
    messages: u64,
    #[arg(long)]
    round_trips: u64,
    #[arg(long)]
    warm_up: u64,
}

/// The other end of a measurement: a child process or, for inproc, a thread.
#[derive(Debug)]
pub enum OtherEnd {
    Process(std::process::Child),
    Thread(JoinHandle<Result<(), String>>),
}

impl OtherEnd {
    /// Starts this binary as the other end.
    fn start(
        implementation: &str,
        end: End,
        endpoint: &str,
        size: usize,
        counts: Counts,
    ) -> Result<OtherEnd, String> {
        let program = std::env::current_exe().map_err(|error| error.to_string())?;
        let child = std::process::Command::new(program)
            .args([
                "child",
                "--implementation",
                implementation,
                "--end",
                end.name(),
            ])
            .args(["--endpoint", endpoint, "--size", &size.to_string()])
            .args(["--messages", &counts.messages.to_string()])
            .args(["--round-trips", &counts.round_trips.to_string()])
            .args(["--warm-up", &counts.warm_up.to_string()])
            // The child holds its socket open until this end closes the child's
            // stdin: how an implementation closes is not part of the measurement.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot start the other end: {error}"))?;
        Ok(OtherEnd::Process(child))
    }

    /// Waits for the other end; if the measuring end failed, a child is killed and
    /// a thread left behind (it may be blocked on a peer that is gone).
    pub fn finish(self, succeeded: bool) -> Result<(), String> {
        match self {
            OtherEnd::Process(mut child) => {
                drop(child.stdin.take());
                if !succeeded {
                    let _ = child.kill();
                }
                let status = child.wait().map_err(|error| error.to_string())?;
                if succeeded && !status.success() {
                    return Err(format!("the other end failed ({status})"));
                }
                Ok(())
            }
            OtherEnd::Thread(thread) if succeeded => thread
                .join()
                .map_err(|_| "the other end's thread panicked".to_owned())?,
            OtherEnd::Thread(_) => Ok(()),
        }
    }

    /// The other end for `transport`: for inproc a thread running `thread` (it must
    /// share the measuring end's context), otherwise a child process.
    pub fn start_for(
        transport: Transport,
        endpoint: &str,
        start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
        thread: impl FnOnce() -> Result<(), String> + Send + 'static,
    ) -> Result<OtherEnd, String> {
        match transport {
            Transport::Inproc => Ok(OtherEnd::Thread(std::thread::spawn(thread))),
            Transport::Tcp | Transport::Ipc => start_other(endpoint),
        }
    }

    /// Ends a measurement: lets this other end finish (told whether the measurement
    /// worked), closes the measuring socket, removes the endpoint; then the
    /// measurement's error if any, else the other end's.
    pub fn conclude<T>(
        self,
        measured: Result<T, String>,
        socket: impl Sized,
        endpoint: &str,
    ) -> Result<T, String> {
        let finished = self.finish(measured.is_ok());
        drop(socket);
        Transport::clean_up(endpoint);
        let value = measured?;
        finished?;
        Ok(value)
    }
}

/// One row of the matrix, both implementations.
#[derive(Debug, Clone)]
pub struct Row {
    pub transport: Transport,
    pub size: usize,
    pub workload: Workload,
    pub sinew: Runs,
    pub libzmq: Runs,
    /// Empty unless zmq.rs was measured on this row.
    pub zmqrs: Runs,
}

impl Row {
    /// The runs of one implementation.
    pub fn runs(&self, implementation: Implementation) -> &Runs {
        match implementation {
            Implementation::Sinew => &self.sinew,
            Implementation::Libzmq => &self.libzmq,
            Implementation::ZmqRs => &self.zmqrs,
        }
    }
}

/// The raw floor of one transport.
#[derive(Debug, Clone)]
pub struct Floor {
    pub transport: Transport,
    /// Bytes per second, one per run.
    pub bandwidth: Vec<f64>,
    pub ping_pong: Runs,
}

/// Everything one run of the harness measured.
#[derive(Debug, Clone)]
pub struct Results {
    pub rows: Vec<Row>,
    pub floors: Vec<Floor>,
    pub quick: bool,
    pub runs: usize,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 1 } else { 0 });
        }
    };
    let outcome = match cli.child {
        Some(ChildCommand::Child(args)) => run_child(args),
        None => run(cli.options),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("side_by_side: {message}");
            ExitCode::from(1)
        }
    }
}

fn run_child(args: ChildArgs) -> Result<(), String> {
    let end = End::parse(&args.end).ok_or_else(|| format!("unknown end {}", args.end))?;
    let counts = Counts {
        messages: args.messages,
        round_trips: args.round_trips,
        warm_up: args.warm_up,
    };
    match args.implementation.as_str() {
        "raw" => floor::run_end(end, &args.endpoint, args.size, counts),
        name => match Implementation::parse(name) {
            Some(Implementation::Sinew) => {
                sinew_end::run_end(end, &args.endpoint, args.size, counts)
            }
            Some(Implementation::Libzmq) => {
                libzmq_end::run_end(end, &args.endpoint, args.size, counts)
            }
            #[cfg(feature = "zmq-rs")]
            Some(Implementation::ZmqRs) => {
                zmqrs_end::run_end(end, &args.endpoint, args.size, counts)
            }
            _ => Err(format!("unknown implementation {name}")),
        },
    }
}

/// Blocks until the measuring end closes this child's stdin: it has everything.
///
/// Without this a libzmq 4.3.4 PUSH that is closed (linger -1) and whose context
/// is terminated right after its last send sometimes loses the tail of its
/// messages over ipc (seen here: the receiver got about 7,500 of 10,000 1-byte
/// messages, then the connection closed and the sender exited 0).
pub fn wait_for_measuring_end() {
    use std::io::Read;
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn selected<T: Copy>(
    names: &[String],
    all: &[T],
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, String> {
    if names.is_empty() {
        return Ok(all.to_vec());
    }
    names
        .iter()
        .map(|name| parse(name).ok_or_else(|| format!("unknown value {name:?}")))
        .collect()
}

fn run(options: Options) -> Result<(), String> {
    let transports = selected(&options.transports, &Transport::ALL, Transport::parse)?;
    let workloads = selected(
        &options.workloads,
        &[Workload::Throughput, Workload::Latency],
        |name| match name {
            "thr" => Some(Workload::Throughput),
            "lat" => Some(Workload::Latency),
            _ => None,
        },
    )?;
    let sizes = if options.sizes.is_empty() {
        SIZES.to_vec()
    } else {
        options.sizes.clone()
    };
    let runs = if options.quick {
        1
    } else {
        options.runs.max(1)
    };
    let machine = report::Machine::describe();
    let mut results = Results {
        rows: Vec::new(),
        floors: Vec::new(),
        quick: options.quick,
        runs,
    };
    for &transport in &transports {
        if transport != Transport::Inproc {
            let floor = measure_floor(transport, runs, options.quick)?;
            eprintln!("{}", report::floor_line(&floor));
            results.floors.push(floor);
        }
        for &size in &sizes {
            for &workload in &workloads {
                let row = measure_row(transport, size, workload, runs, options.quick)?;
                eprintln!("{}", report::row_line(&row));
                results.rows.push(row);
            }
        }
    }
    let machine = machine.finished();
    if options.json {
        println!("{}", report::json(&results, &machine));
    } else {
        println!("{}", report::markdown_table(&results));
    }
    if let Some(path) = &options.write {
        report::write_markdown(path, &results, &machine)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn measure_floor(transport: Transport, runs: usize, quick: bool) -> Result<Floor, String> {
    let writes = if quick { 64 } else { 4096 };
    let bandwidth_counts = Counts {
        messages: writes,
        round_trips: 0,
        warm_up: 0,
    };
    let ping_pong_counts = Counts::for_size(1, transport, quick);
    let mut floor = Floor {
        transport,
        bandwidth: Vec::new(),
        ping_pong: Runs::default(),
    };
    for _ in 0..runs {
        let start = |endpoint: &str| {
            OtherEnd::start(
                "raw",
                End::Send,
                endpoint,
                floor::WRITE_SIZE,
                bandwidth_counts,
            )
        };
        floor.bandwidth.push(floor::bandwidth(transport, &start)?);
        let start =
            |endpoint: &str| OtherEnd::start("raw", End::Serve, endpoint, 1, ping_pong_counts);
        floor
            .ping_pong
            .latency
            .push(floor::ping_pong(transport, ping_pong_counts, &start)?);
    }
    Ok(floor)
}

fn measure_row(
    transport: Transport,
    size: usize,
    workload: Workload,
    runs: usize,
    quick: bool,
) -> Result<Row, String> {
    let counts = Counts::for_size(size, transport, quick);
    let mut row = Row {
        transport,
        size,
        workload,
        sinew: Runs::default(),
        libzmq: Runs::default(),
        zmqrs: Runs::default(),
    };
    let implementations = Implementation::measured_over(transport);
    for run in 0..runs {
        // Each run starts with the next implementation, so none always goes first.
        let mut order = implementations.clone();
        order.rotate_left(run % implementations.len());
        for implementation in order {
            let end = match workload {
                Workload::Throughput => End::Send,
                Workload::Latency => End::Serve,
            };
            let start = |endpoint: &str| {
                OtherEnd::start(implementation.name(), end, endpoint, size, counts)
            };
            let context = || {
                format!(
                    "{} {} {} {size} B",
                    implementation.name(),
                    workload.name(),
                    transport.name()
                )
            };
            let runs = match implementation {
                Implementation::Sinew => &mut row.sinew,
                Implementation::Libzmq => &mut row.libzmq,
                Implementation::ZmqRs => &mut row.zmqrs,
            };
            match workload {
                Workload::Throughput => runs.throughput.push(
                    throughput(implementation, transport, size, counts, &start)
                        .map_err(|error| format!("{}: {error}", context()))?,
                ),
                Workload::Latency => runs.latency.push(
                    latency(implementation, transport, size, counts, &start)
                        .map_err(|error| format!("{}: {error}", context()))?,
                ),
            }
        }
    }
    Ok(row)
}

/// One throughput run of `implementation`.
fn throughput(
    implementation: Implementation,
    transport: Transport,
    size: usize,
    counts: Counts,
    start: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<f64, String> {
    match implementation {
        Implementation::Sinew => sinew_end::throughput(transport, size, counts, start),
        Implementation::Libzmq => libzmq_end::throughput(transport, size, counts, start),
        #[cfg(feature = "zmq-rs")]
        Implementation::ZmqRs => zmqrs_end::throughput(transport, size, counts, start),
        #[cfg(not(feature = "zmq-rs"))]
        Implementation::ZmqRs => Err("built without the zmq-rs feature".to_owned()),
    }
}

/// One latency run of `implementation`.
fn latency(
    implementation: Implementation,
    transport: Transport,
    size: usize,
    counts: Counts,
    start: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<measure::Latencies, String> {
    match implementation {
        Implementation::Sinew => sinew_end::latency(transport, size, counts, start),
        Implementation::Libzmq => libzmq_end::latency(transport, size, counts, start),
        #[cfg(feature = "zmq-rs")]
        Implementation::ZmqRs => zmqrs_end::latency(transport, size, counts, start),
        #[cfg(not(feature = "zmq-rs"))]
        Implementation::ZmqRs => Err("built without the zmq-rs feature".to_owned()),
    }
}
