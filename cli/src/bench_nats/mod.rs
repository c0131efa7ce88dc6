//! `sinew bench nats`: a load generator for any server of the NATS client protocol
//! (sinew-broker and nats-server alike), so both are measured by the same client.
//!
//! It speaks the raw protocol over blocking `std::net` sockets, one thread per
//! connection, with no async runtime; nothing is allocated per message. Modes:
//!
//! - `fanout`: N subscribers on one subject, then one publisher sends `--count`
//!   messages of `--size` bytes as many `PUB` frames per write (about 64 KiB). The
//!   publisher sends a PING after every `--flush-every` messages and does not
//!   write past the next one until the PONG of the one before has come back, so at
//!   most two windows of messages are unanswered by the server (pacing, the same
//!   for every server). Each subscriber counts whole MSG frames (`frames`).
//!   `published` = count / (the last PONG's arrival - the first write);
//!   `delivered` = count x N / (the last message's arrival at the last
//!   subscriber - the first write).
//! - `request`: one replier answers each request on its reply subject; one
//!   requester sends one request at a time on a fresh inbox subject (as NATS
//!   clients do) and times each round trip whole, after `--warm-up` untimed ones;
//!   p50, p99, p99.9 and mean.
//! - `compare`: starts sinew-broker and nats-server in turn and runs the modes
//!   against each (`compare`).
//!
//! A server's -ERR, a closed connection (a slow consumer cut off), a miscount or
//! ten seconds without a byte ends the run with an error: a benchmark must never
//! report a figure for a run that did not deliver everything.

mod compare;
mod frames;

use self::frames::{Frame, Frames};
use crate::bench::{percentile, print_line};
use clap::{Args, Subcommand};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any read may wait for the server, and setup for a subscriber.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How many bytes of `PUB` frames the publisher writes at once (at least one frame).
const BATCH_BYTES: usize = 64 * 1024;

/// How much one read may take from the socket.
const READ_BYTES: usize = 256 * 1024;

/// `sinew bench nats`: measure a NATS server with this client.
#[derive(Debug, Args)]
pub struct NatsArgs {
    #[command(subcommand)]
    command: NatsCommand,
}

#[derive(Debug, Subcommand)]
enum NatsCommand {
    /// One publisher, N subscribers on one subject: messages per second published
    /// and delivered.
    Fanout(FanoutArgs),
    /// Request-reply round trips with one replier: p50, p99, p99.9 and mean.
    Request(RequestArgs),
    /// sinew-broker and nats-server side by side: both started here, in turn, and
    /// measured by this client; prints a Markdown table.
    Compare(compare::CompareArgs),
}

/// The server option of `fanout` and `request`.
#[derive(Debug, Args)]
struct ServerArgs {
    /// The server: nats://HOST:PORT (or HOST:PORT).
    #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
    server: String,
    /// Print the result as one JSON object on one line.
    #[arg(long)]
    json: bool,
}

/// Arguments of `sinew bench nats fanout`.
#[derive(Debug, Args)]
pub struct FanoutArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Subscribers on the subject.
    #[arg(long, value_name = "N", default_value_t = 1)]
    subscribers: usize,
    /// Payload bytes per message.
    #[arg(long, value_name = "BYTES", default_value_t = 16)]
    size: usize,
    /// Messages published.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    count: u64,
    /// Pacing: a PING after every K messages, and at most two windows of K
    /// unanswered (0: one PING at the end only).
    #[arg(long, value_name = "K", default_value_t = DEFAULT_FLUSH_EVERY)]
    flush_every: u64,
}

/// Arguments of `sinew bench nats request`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Payload bytes of each request and each reply.
    #[arg(long, value_name = "BYTES", default_value_t = 16)]
    size: usize,
    /// Timed round trips.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    count: u64,
    /// Untimed round trips first.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    warm_up: u64,
}

/// The pacing window of `fanout` unless told otherwise.
pub const DEFAULT_FLUSH_EVERY: u64 = 10_000;

/// Runs `sinew bench nats`.
pub fn run(args: NatsArgs) -> Result<(), String> {
    match args.command {
        NatsCommand::Fanout(args) => {
            let address = resolve(&args.server.server)?;
            let result = fanout(
                address,
                &Fanout {
                    subscribers: args.subscribers,
                    size: args.size,
                    count: args.count,
                    flush_every: args.flush_every,
                },
            )?;
            print_line(&result.render(args.server.json));
            Ok(())
        }
        NatsCommand::Request(args) => {
            let address = resolve(&args.server.server)?;
            let result = request_reply(
                address,
                &RequestReply {
                    size: args.size,
                    count: args.count,
                    warm_up: args.warm_up,
                },
            )?;
            print_line(&result.render(args.server.json));
            Ok(())
        }
        NatsCommand::Compare(args) => compare::run(&args),
    }
}

/// Where a `nats://HOST:PORT` URL points.
fn resolve(url: &str) -> Result<SocketAddr, String> {
    let rest = url.strip_prefix("nats://").unwrap_or(url);
    if rest.contains('@') {
        return Err("the benchmark connects without credentials".to_owned());
    }
    let with_port = if rest
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit()))
    {
        rest.to_owned()
    } else {
        format!("{rest}:4222")
    };
    with_port
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {url}: {error}"))?
        .next()
        .ok_or_else(|| format!("{url} resolves to no address"))
}

/// One client connection: a socket, a read buffer and a frame reader.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    frames: Frames,
}

impl Connection {
    /// Connects, reads INFO, sends CONNECT and waits for the PONG of a PING.
    fn open(address: SocketAddr, name: &str) -> Result<Connection, String> {
        let stream = TcpStream::connect_timeout(&address, TIMEOUT)
            .map_err(|error| format!("cannot connect to {address}: {error}"))?;
        stream
            .set_nodelay(true)
            .and_then(|()| stream.set_read_timeout(Some(TIMEOUT)))
            .map_err(|error| format!("cannot set up the socket: {error}"))?;
        let mut connection = Connection {
            stream,
            buffer: vec![0; READ_BYTES],
            frames: Frames::new(),
        };
        connection.wait_for(|frame| frame == Frame::Info)?;
        let connect = format!(
            "CONNECT {{\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"name\":\"{name}\",\"lang\":\"rust\",\"version\":\"{}\",\"protocol\":1,\"echo\":true,\"headers\":false,\"no_responders\":false}}\r\nPING\r\n",
            env!("CARGO_PKG_VERSION")
        );
        connection.send(connect.as_bytes())?;
        connection.wait_for(|frame| frame == Frame::Pong)?;
        Ok(connection)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|error| format!("write failed: {error}"))
    }

    /// One read: each whole frame goes to `on`, except the server's PINGs, which
    /// are answered here.
    fn read(&mut self, mut on: impl FnMut(Frame<'_>)) -> Result<(), String> {
        let count = loop {
            match self.stream.read(&mut self.buffer) {
                Ok(0) => return Err("the server closed the connection".to_owned()),
                Ok(count) => break count,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(format!(
                        "nothing from the server for {} s",
                        TIMEOUT.as_secs()
                    ));
                }
                Err(error) => return Err(format!("read failed: {error}")),
            }
        };
        let mut pinged = false;
        let data = self.buffer.get(..count).unwrap_or(&[]);
        self.frames.feed(data, |frame| match frame {
            Frame::Ping => pinged = true,
            other => on(other),
        })?;
        if pinged {
            self.send(b"PONG\r\n")?;
        }
        Ok(())
    }

    /// Reads until `wanted` says yes to a frame (the frames before it and after it
    /// in the same read are dropped: for setup only).
    fn wait_for(&mut self, mut wanted: impl FnMut(Frame<'_>) -> bool) -> Result<(), String> {
        let mut found = false;
        while !found {
            self.read(|frame| found |= wanted(frame))?;
        }
        Ok(())
    }

    /// Subscribes and waits until the server has the subscription (PING/PONG).
    fn subscribe(&mut self, subject: &str, sid: u32) -> Result<(), String> {
        self.send(format!("SUB {subject} {sid}\r\nPING\r\n").as_bytes())?;
        self.wait_for(|frame| frame == Frame::Pong)
    }
}

/// A subject no other run shares.
fn unique_subject(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}.{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn join<T>(thread: JoinHandle<Result<T, String>>, who: &str) -> Result<T, String> {
    thread
        .join()
        .map_err(|_| format!("the {who} thread panicked"))?
}

/// What a fanout run does.
#[derive(Debug, Clone, Copy)]
pub struct Fanout {
    /// Subscribers on the subject.
    pub subscribers: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages published.
    pub count: u64,
    /// PING after every this many messages (0: only at the end).
    pub flush_every: u64,
}

/// What a fanout run measured.
#[derive(Debug, Clone, Copy)]
pub struct FanoutResult {
    /// Messages per second the server took from the publisher.
    pub published: f64,
    /// Messages per second received, summed over the subscribers.
    pub delivered: f64,
    /// From the first write to the last message at the last subscriber.
    pub seconds: f64,
    /// The run's shape.
    pub run: Fanout,
}

impl FanoutResult {
    fn render(&self, json: bool) -> String {
        if json {
            serde_json::json!({
                "published_msgs_per_sec": self.published,
                "delivered_msgs_per_sec": self.delivered,
                "seconds": self.seconds,
                "subscribers": self.run.subscribers,
                "size": self.run.size,
                "count": self.run.count,
                "flush_every": self.run.flush_every,
            })
            .to_string()
        } else {
            format!(
                "fanout {} x {} B count {}: published {:.0} msg/s, delivered {:.0} msg/s ({:.2} s)",
                self.run.subscribers,
                self.run.size,
                self.run.count,
                self.published,
                self.delivered,
                self.seconds
            )
        }
    }
}

/// One publisher and `run.subscribers` subscribers on one subject.
pub fn fanout(address: SocketAddr, run: &Fanout) -> Result<FanoutResult, String> {
    if run.subscribers == 0 || run.count == 0 {
        return Err("fanout needs at least one subscriber and one message".to_owned());
    }
    let subject = unique_subject("bench.fanout");
    let (ready_sender, ready) = mpsc::channel::<Result<(), String>>();
    let mut subscribers = Vec::with_capacity(run.subscribers);
    for index in 0..run.subscribers {
        let subject = subject.clone();
        let ready_sender = ready_sender.clone();
        let (count, size) = (run.count, run.size);
        subscribers.push(std::thread::spawn(move || {
            let setup = Connection::open(address, &format!("sinew-bench-subscriber-{index}"))
                .and_then(|mut connection| {
                    connection.subscribe(&subject, 1)?;
                    Ok(connection)
                });
            match setup {
                Ok(connection) => {
                    let _ = ready_sender.send(Ok(()));
                    receive_all(connection, count, size)
                }
                Err(error) => {
                    let _ = ready_sender.send(Err(error.clone()));
                    Err(error)
                }
            }
        }));
    }
    drop(ready_sender);
    for _ in 0..run.subscribers {
        match ready.recv_timeout(TIMEOUT * 2) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(format!("a subscriber could not start: {error}")),
            Err(_) => return Err("the subscribers did not start in time".to_owned()),
        }
    }
    let run_copy = *run;
    let publisher = std::thread::spawn(move || publish_all(address, &subject, &run_copy));
    let published = join(publisher, "publisher");
    let mut last = None::<Instant>;
    let mut failure = published.as_ref().err().cloned();
    for (index, subscriber) in subscribers.into_iter().enumerate() {
        match join(subscriber, "subscriber") {
            Ok(at) => last = Some(last.map_or(at, |last| last.max(at))),
            Err(error) => {
                failure.get_or_insert(format!("subscriber {index}: {error}"));
            }
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    let (start, accepted) = published?;
    let last = last.ok_or("no subscriber finished")?;
    let seconds = |end: Instant| {
        end.saturating_duration_since(start)
            .as_secs_f64()
            .max(f64::MIN_POSITIVE)
    };
    let total = run.count as f64;
    Ok(FanoutResult {
        published: total / seconds(accepted),
        delivered: total * run.subscribers as f64 / seconds(last),
        seconds: seconds(last),
        run: *run,
    })
}

/// Publishes every message in large writes, paced by PING/PONG; returns when the
/// first write started and when the server had answered the last PING.
fn publish_all(
    address: SocketAddr,
    subject: &str,
    run: &Fanout,
) -> Result<(Instant, Instant), String> {
    let mut connection = Connection::open(address, "sinew-bench-publisher")?;
    let mut frame = format!("PUB {subject} {}\r\n", run.size).into_bytes();
    frame.resize(frame.len() + run.size, b'x');
    frame.extend_from_slice(b"\r\n");
    let per_batch = (BATCH_BYTES / frame.len()).max(1);
    let batch = frame.repeat(per_batch);
    let window = if run.flush_every == 0 {
        run.count
    } else {
        run.flush_every
    };
    let (mut sent, mut pings, mut pongs) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    while sent < run.count {
        let until_ping = window - sent % window;
        let messages = (per_batch as u64).min(run.count - sent).min(until_ping);
        let bytes = usize::try_from(messages).unwrap_or(per_batch) * frame.len();
        connection.send(batch.get(..bytes).unwrap_or(&batch))?;
        sent += messages;
        if sent % window == 0 || sent == run.count {
            connection.send(b"PING\r\n")?;
            pings += 1;
            // At most the window just sent and the one before it unanswered.
            while pings - pongs > 1 {
                connection.read(|frame| pongs += u64::from(frame == Frame::Pong))?;
            }
        }
    }
    while pongs < pings {
        connection.read(|frame| pongs += u64::from(frame == Frame::Pong))?;
    }
    Ok((start, Instant::now()))
}

/// Counts messages until `count` whole ones arrived; returns when the last did.
fn receive_all(mut connection: Connection, count: u64, size: usize) -> Result<Instant, String> {
    let mut received = 0u64;
    let mut wrong_size = None;
    while received < count {
        connection
            .read(|frame| {
                if let Frame::Message { size: got, .. } = frame {
                    received += 1;
                    if got != size {
                        wrong_size = Some(got);
                    }
                }
            })
            .map_err(|error| format!("{error} after {received} of {count} messages"))?;
        if let Some(got) = wrong_size {
            return Err(format!("a message of {got} bytes; expected {size}"));
        }
    }
    let at = Instant::now();
    if received > count {
        return Err(format!("{received} messages; only {count} were published"));
    }
    Ok(at)
}

/// What a request-reply run does.
#[derive(Debug, Clone, Copy)]
pub struct RequestReply {
    /// Payload bytes of each request and reply.
    pub size: usize,
    /// Timed round trips.
    pub count: u64,
    /// Untimed round trips first.
    pub warm_up: u64,
}

/// What a request-reply run measured.
#[derive(Debug, Clone, Copy)]
pub struct RequestReplyResult {
    /// Median round trip.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Mean.
    pub mean: Duration,
    /// The run's shape.
    pub run: RequestReply,
}

fn microseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

impl RequestReplyResult {
    fn render(&self, json: bool) -> String {
        if json {
            serde_json::json!({
                "p50_us": microseconds(self.p50),
                "p99_us": microseconds(self.p99),
                "p999_us": microseconds(self.p999),
                "mean_us": microseconds(self.mean),
                "size": self.run.size,
                "count": self.run.count,
            })
            .to_string()
        } else {
            format!(
                "request {} B count {}: round trip p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, mean {:.1} us",
                self.run.size,
                self.run.count,
                microseconds(self.p50),
                microseconds(self.p99),
                microseconds(self.p999),
                microseconds(self.mean)
            )
        }
    }
}

/// One replier thread and one requester (this thread), one request at a time.
pub fn request_reply(
    address: SocketAddr,
    run: &RequestReply,
) -> Result<RequestReplyResult, String> {
    if run.count == 0 {
        return Err("request needs at least one round trip".to_owned());
    }
    let subject = unique_subject("bench.request");
    let total = run.warm_up + run.count;
    let (ready_sender, ready) = mpsc::channel::<()>();
    let replier = {
        let subject = subject.clone();
        let size = run.size;
        std::thread::spawn(move || {
            let mut connection = Connection::open(address, "sinew-bench-replier")?;
            connection.subscribe(&subject, 1)?;
            let _ = ready_sender.send(());
            answer_all(connection, size, total)
        })
    };
    if ready.recv_timeout(TIMEOUT * 2).is_err() {
        return Err(join(replier, "replier")
            .err()
            .unwrap_or_else(|| "the replier did not start".to_owned()));
    }
    let measured = round_trips(address, &subject, run);
    let answered = join(replier, "replier");
    let mut samples = measured?;
    answered?;
    samples.sort_unstable();
    let sum: Duration = samples.iter().sum();
    Ok(RequestReplyResult {
        p50: percentile(&samples, 0.50),
        p99: percentile(&samples, 0.99),
        p999: percentile(&samples, 0.999),
        mean: sum / u32::try_from(samples.len()).unwrap_or(u32::MAX).max(1),
        run: *run,
    })
}

/// Answers `total` requests, each on its reply subject with `size` bytes.
fn answer_all(mut connection: Connection, size: usize, total: u64) -> Result<(), String> {
    let mut tail = format!(" {size}\r\n").into_bytes();
    tail.resize(tail.len() + size, b'r');
    tail.extend_from_slice(b"\r\n");
    let mut out = Vec::with_capacity(64 * 1024);
    let mut answered = 0u64;
    let mut problem = None;
    while answered < total {
        connection.read(|frame| {
            if let Frame::Message { reply, size: got } = frame {
                if reply.is_empty() || got != size {
                    problem.get_or_insert(format!(
                        "a request of {got} bytes with reply subject {:?}",
                        String::from_utf8_lossy(reply)
                    ));
                    return;
                }
                out.extend_from_slice(b"PUB ");
                out.extend_from_slice(reply);
                out.extend_from_slice(&tail);
                answered += 1;
            }
        })?;
        if let Some(problem) = problem {
            return Err(problem);
        }
        if !out.is_empty() {
            connection.send(&out)?;
            out.clear();
        }
    }
    Ok(())
}

/// Sends the requests one at a time; returns the timed round trips.
fn round_trips(
    address: SocketAddr,
    subject: &str,
    run: &RequestReply,
) -> Result<Vec<Duration>, String> {
    let mut connection = Connection::open(address, "sinew-bench-requester")?;
    // One wildcard inbox subscription, a new reply subject per request, as NATS
    // clients make requests.
    let inbox = unique_subject("_INBOX.bench");
    connection.subscribe(&format!("{inbox}.*"), 1)?;
    let payload = vec![b'q'; run.size];
    let mut request = Vec::with_capacity(subject.len() + inbox.len() + run.size + 64);
    let mut samples = Vec::with_capacity(usize::try_from(run.count).unwrap_or(0));
    for index in 0..run.warm_up + run.count {
        request.clear();
        write!(request, "PUB {subject} {inbox}.{index} {}\r\n", run.size)
            .map_err(|error| format!("cannot build a request: {error}"))?;
        request.extend_from_slice(&payload);
        request.extend_from_slice(b"\r\n");
        let start = Instant::now();
        connection.send(&request)?;
        let mut replies = 0u32;
        while replies == 0 {
            connection.read(|frame| {
                if let Frame::Message { .. } = frame {
                    replies += 1;
                }
            })?;
        }
        let elapsed = start.elapsed();
        if replies > 1 {
            return Err(format!("{replies} replies to one request"));
        }
        if index >= run.warm_up {
            samples.push(elapsed);
        }
    }
    Ok(samples)
}
