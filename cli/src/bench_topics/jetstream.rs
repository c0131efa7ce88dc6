//! The NATS JetStream side of `sinew bench topics`: a stream on file storage,
//! publishers that wait for JetStream's acknowledgements, and a pull consumer,
//! over the raw NATS client protocol on blocking `std::net` sockets.
//!
//! Each publisher keeps up to `window` messages unacknowledged (as nats.go's
//! asynchronous publish does), every acknowledgement is checked to be a PubAck
//! and not an error; the pull consumer (acknowledgement policy none, the cheapest
//! JetStream offers) keeps two batch requests outstanding and counts what it gets.
//! Nothing here sleeps as a signal: the publisher parks until its reader unparks
//! it, with a deadline; a run that is not acknowledged or read in full is an error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// How long any answer may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The stream every run writes, and its one subject.
const STREAM: &str = "BENCH";
const SUBJECT: &str = "bench";

/// How many bytes of PUB frames a publisher writes at once (at least one frame).
const WRITE_BYTES: usize = 64 * 1024;

/// Messages per pull request.
const PULL_BATCH: u64 = 1000;

/// What a NATS server sent.
enum Incoming<'a> {
    /// A message (the payload after any headers) or a status-only message.
    Message {
        payload: &'a [u8],
        status: &'a str,
    },
    Ping,
    Other,
}

/// One NATS connection's reading half, with the buffers it reuses.
struct Reader {
    stream: BufReader<TcpStream>,
    line: String,
    payload: Vec<u8>,
}

impl Reader {
    fn next(&mut self) -> Result<Incoming<'_>, String> {
        self.line.clear();
        match self.stream.read_line(&mut self.line) {
            Ok(0) => return Err("the server closed the connection".to_owned()),
            Ok(_) => {}
            Err(error) => return Err(format!("read: {error}")),
        }
        let line = self.line.trim_end();
        let words: Vec<&str> = line.split(' ').collect();
        match words.first().copied() {
            Some("MSG") | Some("HMSG") => {
                let headers = words.first() == Some(&"HMSG");
                let (header_size, total) = match (headers, words.len()) {
                    (false, 4 | 5) => (0, words.last().and_then(|size| size.parse().ok())),
                    (true, 5 | 6) => (
                        words[words.len() - 2].parse().unwrap_or(usize::MAX),
                        words.last().and_then(|size| size.parse().ok()),
                    ),
                    _ => (0, None),
                };
                let Some(total) = total.filter(|&total| total >= header_size) else {
                    return Err(format!("a bad message line: {line}"));
                };
                self.payload.resize(total + 2, 0);
                self.stream
                    .read_exact(&mut self.payload)
                    .map_err(|error| format!("read: {error}"))?;
                let status = if headers {
                    let head = std::str::from_utf8(&self.payload[..header_size]).unwrap_or("");
                    head.lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("NATS/1.0")
                } else {
                    ""
                };
                Ok(Incoming::Message {
                    payload: &self.payload[header_size..total],
                    status: status.trim(),
                })
            }
            Some("PING") => Ok(Incoming::Ping),
            Some("-ERR") => Err(format!("the server said {line}")),
            _ => Ok(Incoming::Other),
        }
    }
}

/// Connects, sends CONNECT and `setup`, and waits for the PONG after them.
fn connect(address: &str, setup: &str) -> Result<(Reader, TcpStream), String> {
    let stream = TcpStream::connect(address).map_err(|error| format!("{address}: {error}"))?;
    stream
        .set_nodelay(true)
        .map_err(|error| error.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|error| error.to_string())?;
    let mut writer = stream.try_clone().map_err(|error| error.to_string())?;
    let mut reader = Reader {
        stream: BufReader::with_capacity(256 * 1024, stream),
        line: String::new(),
        payload: Vec::new(),
    };
    let connect =
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}";
    write!(writer, "{connect}\r\n{setup}PING\r\n").map_err(|error| error.to_string())?;
    loop {
        reader.line.clear();
        reader
            .stream
            .read_line(&mut reader.line)
            .map_err(|error| format!("connect: {error}"))?;
        match reader.line.trim_end() {
            "PONG" => return Ok((reader, writer)),
            "" => return Err("the server closed the connection".to_owned()),
            line if line.starts_with("-ERR") => return Err(format!("the server said {line}")),
            _ => {}
        }
    }
}

/// Sends one JetStream API request and returns its JSON answer.
fn api(address: &str, subject: &str, body: &str) -> Result<serde_json::Value, String> {
    let (mut reader, mut writer) = connect(address, "SUB _INBOX.api 1\r\n")?;
    write!(
        writer,
        "PUB {subject} _INBOX.api {}\r\n{body}\r\n",
        body.len()
    )
    .map_err(|error| error.to_string())?;
    loop {
        if let Incoming::Message { payload, status } = reader.next()? {
            if !status.is_empty() {
                return Err(format!("{subject}: status {status}"));
            }
            let value: serde_json::Value =
                serde_json::from_slice(payload).map_err(|error| format!("{subject}: {error}"))?;
            if let Some(error) = value.get("error") {
                return Err(format!("{subject}: {error}"));
            }
            return Ok(value);
        }
    }
}

/// Creates the bench stream on file storage.
pub fn create_stream(address: &str) -> Result<(), String> {
    let config = format!(
        "{{\"name\":\"{STREAM}\",\"subjects\":[\"{SUBJECT}\"],\"storage\":\"file\",\"retention\":\"limits\",\"num_replicas\":1}}"
    );
    api(address, &format!("$JS.API.STREAM.CREATE.{STREAM}"), &config).map(drop)
}

/// `publishers` connections each publish `records` messages of `size` bytes and
/// wait for every acknowledgement; the time from the first publish to the last
/// acknowledgement.
pub fn publish(
    address: &str,
    publishers: usize,
    records: u64,
    size: usize,
    window: u64,
) -> Result<Duration, String> {
    let barrier = Arc::new(Barrier::new(publishers));
    let threads: Vec<_> = (0..publishers)
        .map(|index| {
            let address = address.to_owned();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let inbox = format!("_INBOX.ack.{index}");
                let setup = format!("SUB {inbox} 1\r\n");
                let (reader, writer) = connect(&address, &setup)?;
                barrier.wait();
                publisher(reader, writer, &inbox, records, size, window)
            })
        })
        .collect();
    let mut first = None::<Instant>;
    let mut last = None::<Instant>;
    for thread in threads {
        let (start, end) = thread.join().map_err(|_| "a publisher panicked")??;
        first = Some(first.map_or(start, |first| first.min(start)));
        last = Some(last.map_or(end, |last| last.max(end)));
    }
    match (first, last) {
        (Some(first), Some(last)) => Ok(last - first),
        _ => Err("no publishers".to_owned()),
    }
}

fn publisher(
    mut reader: Reader,
    mut writer: TcpStream,
    inbox: &str,
    records: u64,
    size: usize,
    window: u64,
) -> Result<(Instant, Instant), String> {
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writing = std::thread::current();
    let counter = Arc::clone(&acknowledged);
    let acks = std::thread::spawn(move || {
        let mut count = 0u64;
        while count < records {
            match reader.next() {
                Ok(Incoming::Message { payload, status }) => {
                    if !status.is_empty() || !payload.starts_with(b"{\"stream\"") {
                        let text = String::from_utf8_lossy(payload).into_owned();
                        writing.unpark();
                        return Err(format!("not a PubAck: status {status:?} {text}"));
                    }
                    count += 1;
                    counter.store(count, Ordering::Release);
                    writing.unpark();
                }
                Ok(Incoming::Ping | Incoming::Other) => {}
                Err(error) => {
                    writing.unpark();
                    return Err(error);
                }
            }
        }
        Ok(Instant::now())
    });
    let mut frame = format!("PUB {SUBJECT} {inbox} {size}\r\n").into_bytes();
    frame.resize(frame.len() + size, b'x');
    frame.extend_from_slice(b"\r\n");
    let per_write = (WRITE_BYTES / frame.len()).max(1) as u64;
    let mut buffer = Vec::with_capacity(frame.len() * per_write as usize);
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < records {
        let unanswered = sent - acknowledged.load(Ordering::Acquire);
        if unanswered >= window {
            if acks.is_finished() {
                break;
            }
            std::thread::park_timeout(TIMEOUT);
            continue;
        }
        let count = (window - unanswered).min(per_write).min(records - sent);
        buffer.clear();
        for _ in 0..count {
            buffer.extend_from_slice(&frame);
        }
        writer
            .write_all(&buffer)
            .map_err(|error| format!("publish: {error}"))?;
        sent += count;
    }
    let end = acks
        .join()
        .map_err(|_| "the acknowledgement reader panicked")??;
    Ok((start, end))
}

/// Reads `records` messages from the start of the stream with a pull consumer.
pub fn pull(address: &str, records: u64) -> Result<Duration, String> {
    let config = format!(
        "{{\"stream_name\":\"{STREAM}\",\"config\":{{\"ack_policy\":\"none\",\"deliver_policy\":\"all\"}}}}"
    );
    let created = api(
        address,
        &format!("$JS.API.CONSUMER.CREATE.{STREAM}"),
        &config,
    )?;
    let name = created
        .get("name")
        .and_then(|name| name.as_str())
        .ok_or("the consumer was created without a name")?
        .to_owned();
    let (mut reader, mut writer) = connect(address, "SUB _INBOX.pull 2\r\n")?;
    let body = format!(
        "{{\"batch\":{PULL_BATCH},\"expires\":{}}}",
        TIMEOUT.as_nanos()
    );
    let request = format!(
        "PUB $JS.API.CONSUMER.MSG.NEXT.{STREAM}.{name} _INBOX.pull {}\r\n{body}\r\n",
        body.len()
    );
    let start = Instant::now();
    let mut requested = 0u64;
    for _ in 0..2 {
        if requested < records {
            writer
                .write_all(request.as_bytes())
                .map_err(|error| error.to_string())?;
            requested += PULL_BATCH;
        }
    }
    let mut received = 0u64;
    while received < records {
        match reader.next()? {
            Incoming::Message { status: "", .. } => {
                received += 1;
                if received.is_multiple_of(PULL_BATCH) && requested < records {
                    writer
                        .write_all(request.as_bytes())
                        .map_err(|error| error.to_string())?;
                    requested += PULL_BATCH;
                }
            }
            Incoming::Message { status, .. } => {
                return Err(format!(
                    "pull: status {status} after {received} of {records}"
                ));
            }
            Incoming::Ping => writer
                .write_all(b"PONG\r\n")
                .map_err(|error| error.to_string())?,
            Incoming::Other => {}
        }
    }
    Ok(start.elapsed())
}
