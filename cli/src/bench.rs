//! `sinew bench thr` and `sinew bench lat`: Sinew measured alone, the way libzmq's
//! perf tools (local_thr/remote_thr, local_lat/remote_lat) measure libzmq, so the
//! figures compare.
//!
//! - `thr`: a PUSH sender and a PULL receiver. `msgs_per_sec` = (count - 1) / (time
//!   of the last receive - time of the first receive), at the receiver;
//!   `mb_per_sec` = msgs_per_sec x size / 10^6 (megabytes of payload).
//! - `lat`: REQ/REP round trips, each timed whole (not halved as libzmq's tool
//!   does), after 1000 untimed warm-up round trips; p50, p99, p99.9 and mean.
//! - The high-water mark is 1000 at both ends. By default the command runs both
//!   ends itself: the other end is a child process (this same binary, re-executed
//!   with `--role`) for tcp and ipc, a thread for inproc. `--role` with `--bind` or
//!   `--connect` runs one end, for measuring across machines.
//!
//! Only the measuring end (the receiver, the client) prints a result; `--json`
//! prints it as exactly one line on stdout. Progress goes to stderr, and only when
//! stderr is a terminal. This file must never print anything else on stdout, and
//! never time anything but what the definitions above say.

use bytes::Bytes;
use clap::{Args, Subcommand, ValueEnum};
use sinew::{Context, Error, Message, Socket, SocketType};
use std::io::{IsTerminal, Write};
use std::process::{Child, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Round trips made before timing starts.
const WARM_UP_ROUND_TRIPS: u64 = 1000;

/// The high-water mark at both ends, as libzmq's perf tools leave it.
const HIGH_WATER_MARK: u32 = 1000;

/// How often a waiting end checks that its child is still alive.
const CHILD_CHECK: Duration = Duration::from_millis(500);

/// `sinew bench`: measure Sinew's throughput or latency, or a NATS server's.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Throughput: PUSH to PULL, messages and megabytes per second at the receiver.
    Thr(ThroughputArgs),
    /// Latency: REQ/REP round trips, p50, p99, p99.9 and mean in microseconds.
    Lat(LatencyArgs),
    /// A NATS server (sinew-broker, nats-server) under load from this client:
    /// fanout rates, request-reply round trips, or both servers side by side.
    Nats(crate::bench_nats::NatsArgs),
    /// Durable topics: sinew-broker against the raw disk and NATS JetStream.
    Topics(crate::bench_topics::TopicsArgs),
}

/// The transports a benchmark runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// tcp:// on loopback (or the given endpoint).
    Tcp,
    /// ipc:// in the temporary directory.
    Ipc,
    /// inproc://, both ends in this process.
    Inproc,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ipc => "ipc",
            Transport::Inproc => "inproc",
        }
    }

    /// Where the default (both ends) run binds.
    fn bind_endpoint(self) -> String {
        match self {
            Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
            Transport::Ipc => format!(
                "ipc://{}",
                std::env::temp_dir()
                    .join(format!("sinew-bench-{}.ipc", std::process::id()))
                    .display()
            ),
            Transport::Inproc => format!("inproc://sinew-bench-{}", std::process::id()),
        }
    }
}

/// Options shared by `thr` and `lat`.
#[derive(Debug, Args)]
struct Common {
    /// tcp | ipc | inproc
    #[arg(long, value_enum, default_value_t = Transport::Tcp)]
    transport: Transport,
    /// Payload bytes per message (thr default 64, lat default 1).
    #[arg(long, value_name = "BYTES")]
    size: Option<usize>,
    /// Messages (thr, default 1000000) or timed round trips (lat, default 10000);
    /// with --role, give both ends the same --count and --size.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Print the result as one JSON object on one line.
    #[arg(long)]
    json: bool,
    /// Bind this end to EP (with --role).
    #[arg(long, value_name = "EP", conflicts_with = "connect")]
    bind: Option<String>,
    /// Connect this end to EP (with --role).
    #[arg(long, value_name = "EP")]
    connect: Option<String>,
}

/// Arguments of `sinew bench thr`.
#[derive(Debug, Args)]
pub struct ThroughputArgs {
    #[command(flatten)]
    common: Common,
    /// Run only one end: send (PUSH) or recv (PULL, which prints the result).
    #[arg(long, value_enum)]
    role: Option<ThroughputRole>,
}

/// Arguments of `sinew bench lat`.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    #[command(flatten)]
    common: Common,
    /// Run only one end: client (REQ, which prints the result) or server (REP).
    #[arg(long, value_enum)]
    role: Option<LatencyRole>,
}

/// One end of a throughput run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ThroughputRole {
    Send,
    Recv,
}

/// One end of a latency run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LatencyRole {
    Client,
    Server,
}

/// Runs `sinew bench`.
pub fn run(args: BenchArgs) -> ExitCode {
    let outcome = match args.command {
        BenchCommand::Thr(args) => throughput(args),
        BenchCommand::Lat(args) => latency(args),
        BenchCommand::Nats(args) => crate::bench_nats::run(args),
        BenchCommand::Topics(args) => crate::bench_topics::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sinew bench: {message}");
            ExitCode::from(1)
        }
    }
}

/// What the receiving end measured.
struct ThroughputResult {
    messages_per_second: f64,
    size: usize,
    count: u64,
}

/// What the client measured.
struct LatencyResult {
    p50: Duration,
    p99: Duration,
    p999: Duration,
    mean: Duration,
    size: usize,
    count: u64,
}

/// Where one end of a run attaches.
enum Attach {
    Bind(String),
    Connect(String),
}

impl Attach {
    fn from_common(common: &Common) -> Result<Attach, String> {
        if common.transport == Transport::Inproc {
            return Err(
                "--role runs one end in this process; inproc needs both (omit --role)".to_owned(),
            );
        }
        match (&common.bind, &common.connect) {
            (Some(endpoint), None) => Ok(Attach::Bind(endpoint.clone())),
            (None, Some(endpoint)) => Ok(Attach::Connect(endpoint.clone())),
            _ => Err("--role needs exactly one of --bind or --connect".to_owned()),
        }
    }

    fn apply(&self, socket: &Socket) -> Result<(), String> {
        match self {
            Attach::Bind(endpoint) => socket
                .bind(endpoint)
                .map_err(|error| format!("cannot bind {endpoint}: {error}")),
            Attach::Connect(endpoint) => socket
                .connect(endpoint)
                .map_err(|error| format!("cannot connect {endpoint}: {error}")),
        }
    }
}

fn throughput(args: ThroughputArgs) -> Result<(), String> {
    let common = &args.common;
    let size = common.size.unwrap_or(64);
    let count = common.count.unwrap_or(1_000_000);
    if count < 2 {
        return Err(
            "--count must be at least 2 (the rate is measured between the first and last message)"
                .to_owned(),
        );
    }
    let context = Context::new();
    let result = match args.role {
        Some(role) => {
            let attach = Attach::from_common(common)?;
            let socket = open(&context, role_type(role), &attach)?;
            match role {
                ThroughputRole::Send => return send_all(&socket, size, count),
                ThroughputRole::Recv => receive_all(&socket, size, count, None)?,
            }
        }
        None => both_ends_here(
            common,
            &context,
            (SocketType::Pull, SocketType::Push),
            ("thr", "send", size, count),
            move |socket| send_all(socket, size, count),
            |receiver, child| receive_all(receiver, size, count, child),
        )?,
    };
    print_throughput(&result, common);
    Ok(())
}

fn latency(args: LatencyArgs) -> Result<(), String> {
    let common = &args.common;
    let size = common.size.unwrap_or(1);
    let count = common.count.unwrap_or(10_000);
    if count == 0 {
        return Err("--count must be at least 1".to_owned());
    }
    let context = Context::new();
    let result = match args.role {
        Some(role) => {
            let attach = Attach::from_common(common)?;
            let kind = match role {
                LatencyRole::Client => SocketType::Request,
                LatencyRole::Server => SocketType::Reply,
            };
            let socket = open(&context, kind, &attach)?;
            match role {
                LatencyRole::Server => return serve(&socket, WARM_UP_ROUND_TRIPS + count),
                LatencyRole::Client => round_trips(&socket, size, count, None)?,
            }
        }
        None => both_ends_here(
            common,
            &context,
            (SocketType::Request, SocketType::Reply),
            ("lat", "server", size, count),
            move |socket| serve(socket, WARM_UP_ROUND_TRIPS + count),
            |client, child| round_trips(client, size, count, child),
        )?,
    };
    print_latency(&result, common);
    Ok(())
}

fn role_type(role: ThroughputRole) -> SocketType {
    match role {
        ThroughputRole::Send => SocketType::Push,
        ThroughputRole::Recv => SocketType::Pull,
    }
}

/// Runs both ends from this command: the measuring socket (`kinds.0`) binds here
/// and `measure` runs on it; the other end (`kinds.1`) is a thread running
/// `other_end` for inproc, or a child `sinew bench <command> --role <role>` for tcp
/// and ipc, whose exit is checked.
fn both_ends_here<T>(
    common: &Common,
    context: &Context,
    kinds: (SocketType, SocketType),
    (command, role, size, count): (&str, &str, usize, u64),
    other_end: impl FnOnce(&Socket) -> Result<(), String> + Send + 'static,
    measure: impl FnOnce(&Socket, Option<&mut Child>) -> Result<T, String>,
) -> Result<T, String> {
    refuse_endpoints(common)?;
    let measuring = open(
        context,
        kinds.0,
        &Attach::Bind(common.transport.bind_endpoint()),
    )?;
    let endpoint = bound_endpoint(&measuring)?;
    match common.transport {
        Transport::Inproc => {
            let other_context = context.clone();
            let other = std::thread::spawn(move || {
                let socket = open(&other_context, kinds.1, &Attach::Connect(endpoint))?;
                other_end(&socket)
            });
            let result = measure(&measuring, None)?;
            join(other)?;
            Ok(result)
        }
        Transport::Tcp | Transport::Ipc => {
            let mut child =
                spawn_other_end(command, role, &endpoint, common.transport, size, count)?;
            let result = measure(&measuring, Some(&mut child));
            finish_child(child, result.is_ok())?;
            result
        }
    }
}

fn refuse_endpoints(common: &Common) -> Result<(), String> {
    if common.bind.is_some() || common.connect.is_some() {
        return Err("--bind and --connect need --role (without it both ends run here)".to_owned());
    }
    Ok(())
}

/// A socket with the benchmark's marks, bound or connected.
fn open(context: &Context, kind: SocketType, attach: &Attach) -> Result<Socket, String> {
    let socket = context
        .socket(kind)
        .map_err(|error| format!("cannot create a socket: {error}"))?;
    let configure = |socket: &Socket| -> Result<(), Error> {
        socket.set_send_high_water_mark(HIGH_WATER_MARK)?;
        socket.set_receive_high_water_mark(HIGH_WATER_MARK)?;
        Ok(())
    };
    configure(&socket).map_err(|error| format!("cannot set the high-water marks: {error}"))?;
    attach.apply(&socket)?;
    Ok(socket)
}

fn bound_endpoint(socket: &Socket) -> Result<String, String> {
    socket
        .last_endpoint()
        .ok_or_else(|| "the socket reports no bound endpoint".to_owned())
}

fn join(thread: std::thread::JoinHandle<Result<(), String>>) -> Result<(), String> {
    thread
        .join()
        .map_err(|_| "the other end's thread panicked".to_owned())?
}

/// Starts this binary again as the other end, connecting to `endpoint`.
fn spawn_other_end(
    command: &str,
    role: &str,
    endpoint: &str,
    transport: Transport,
    size: usize,
    count: u64,
) -> Result<Child, String> {
    let program = std::env::current_exe()
        .map_err(|error| format!("cannot find this program to start the other end: {error}"))?;
    std::process::Command::new(program)
        .args(["bench", command, "--role", role, "--connect", endpoint])
        .args(["--transport", transport.name()])
        .args(["--size", &size.to_string(), "--count", &count.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start the other end: {error}"))
}

/// Waits for the child; if this end failed, the child cannot finish: kill it.
fn finish_child(mut child: Child, succeeded: bool) -> Result<(), String> {
    if !succeeded {
        let _ = child.kill();
    }
    let status = child
        .wait()
        .map_err(|error| format!("cannot wait for the other end: {error}"))?;
    if succeeded && !status.success() {
        return Err(format!("the other end failed ({status})"));
    }
    Ok(())
}

/// Receives with a deadline while a child is the other end, so a child that dies
/// does not leave this end waiting forever.
fn receive(socket: &Socket, child: &mut Option<&mut Child>) -> Result<Message, String> {
    loop {
        let timeout = child.as_ref().map(|_| CHILD_CHECK);
        match socket.recv_with_timeout(timeout) {
            Ok(message) => return Ok(message),
            Err(error) if error.is_would_block() => {
                if let Some(child) = child.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    return Err(format!("the other end exited early ({status})"));
                }
            }
            Err(error) => return Err(format!("receive failed: {error}")),
        }
    }
}

fn check_size(message: &Message, size: usize) -> Result<(), String> {
    if message.len() != 1 || message.size_bytes() != size {
        return Err(format!(
            "the peer sent a message of {} frame(s) and {} bytes; expected one frame of {size} bytes (are both ends given the same --size?)",
            message.len(),
            message.size_bytes()
        ));
    }
    Ok(())
}

fn send_all(socket: &Socket, size: usize, count: u64) -> Result<(), String> {
    // Every message shares one payload: a clone of a `Bytes` is the zero-copy way
    // to send the same bytes again, as libzmq's remote_thr sends uninitialised
    // buffers without filling them.
    let payload = Bytes::from(vec![0u8; size]);
    for _ in 0..count {
        socket
            .send(payload.clone())
            .map_err(|failed| format!("send failed: {}", failed.error))?;
    }
    // Dropping the socket waits (up to its linger) until every message is handed
    // over.
    Ok(())
}

fn receive_all(
    socket: &Socket,
    size: usize,
    count: u64,
    mut child: Option<&mut Child>,
) -> Result<ThroughputResult, String> {
    let mut progress = Progress::new("received", count);
    let first = receive(socket, &mut child)?;
    check_size(&first, size)?;
    let start = Instant::now();
    for index in 1..count {
        let message = receive(socket, &mut child)?;
        check_size(&message, size)?;
        progress.update(index + 1);
    }
    let elapsed = start.elapsed();
    progress.finish();
    Ok(ThroughputResult {
        messages_per_second: (count - 1) as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
        size,
        count,
    })
}

fn serve(socket: &Socket, round_trips: u64) -> Result<(), String> {
    for _ in 0..round_trips {
        let request = socket
            .recv()
            .map_err(|error| format!("receive failed: {error}"))?;
        socket
            .send(request)
            .map_err(|failed| format!("send failed: {}", failed.error))?;
    }
    Ok(())
}

fn round_trips(
    socket: &Socket,
    size: usize,
    count: u64,
    mut child: Option<&mut Child>,
) -> Result<LatencyResult, String> {
    let payload = Bytes::from(vec![0u8; size]);
    let mut progress = Progress::new("round trips", WARM_UP_ROUND_TRIPS + count);
    let mut samples = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for index in 0..WARM_UP_ROUND_TRIPS + count {
        let start = Instant::now();
        socket
            .send(payload.clone())
            .map_err(|failed| format!("send failed: {}", failed.error))?;
        let reply = receive(socket, &mut child)?;
        let elapsed = start.elapsed();
        check_size(&reply, size)?;
        if index >= WARM_UP_ROUND_TRIPS {
            samples.push(elapsed);
        }
        progress.update(index + 1);
    }
    progress.finish();
    samples.sort_unstable();
    let total: Duration = samples.iter().sum();
    Ok(LatencyResult {
        p50: percentile(&samples, 0.50),
        p99: percentile(&samples, 0.99),
        p999: percentile(&samples, 0.999),
        mean: total / u32::try_from(samples.len()).unwrap_or(u32::MAX).max(1),
        size,
        count,
    })
}

/// The nearest-rank percentile of sorted samples.
pub(crate) fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn microseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn print_throughput(result: &ThroughputResult, common: &Common) {
    let megabytes_per_second = result.messages_per_second * result.size as f64 / 1e6;
    let line = if common.json {
        serde_json::json!({
            "msgs_per_sec": result.messages_per_second,
            "mb_per_sec": megabytes_per_second,
            "size": result.size,
            "count": result.count,
            "transport": common.transport.name(),
        })
        .to_string()
    } else {
        format!(
            "thr {} size {} B count {}: {:.0} msg/s, {:.1} MB/s",
            common.transport.name(),
            result.size,
            result.count,
            result.messages_per_second,
            megabytes_per_second
        )
    };
    print_line(&line);
}

fn print_latency(result: &LatencyResult, common: &Common) {
    let line = if common.json {
        serde_json::json!({
            "p50_us": microseconds(result.p50),
            "p99_us": microseconds(result.p99),
            "p999_us": microseconds(result.p999),
            "mean_us": microseconds(result.mean),
            "size": result.size,
            "count": result.count,
            "transport": common.transport.name(),
        })
        .to_string()
    } else {
        format!(
            "lat {} size {} B count {}: round trip p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, mean {:.1} us",
            common.transport.name(),
            result.size,
            result.count,
            microseconds(result.p50),
            microseconds(result.p99),
            microseconds(result.p999),
            microseconds(result.mean)
        )
    };
    print_line(&line);
}

pub(crate) fn print_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// A counter on stderr, redrawn at most a few times a second, only on a terminal.
struct Progress {
    label: &'static str,
    total: u64,
    enabled: bool,
    last_drawn: Instant,
}

impl Progress {
    fn new(label: &'static str, total: u64) -> Progress {
        Progress {
            label,
            total,
            enabled: std::io::stderr().is_terminal(),
            last_drawn: Instant::now(),
        }
    }

    /// Cheap enough for the hot loop: the clock is read once every 4096 calls.
    fn update(&mut self, done: u64) {
        if !self.enabled || !done.is_multiple_of(4096) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last_drawn) >= Duration::from_millis(250) {
            self.last_drawn = now;
            eprint!("\r{} {done} of {}", self.label, self.total);
        }
    }

    fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}
