//! The physical floor, measured in the same run as the sockets: raw TCP and
//! Unix-socket bandwidth with large blocking writes, and a raw 1-byte blocking
//! ping-pong round trip (TCP_NODELAY on), with the standard library only.
//!
//! The reading (measuring) end listens in this process; the writing or echoing end
//! is a child process, as for the sockets. This file must never add framing or
//! buffering of its own: it is the floor the sockets are compared against.

use crate::OtherEnd;
use crate::measure::{Counts, End, Latencies, Transport};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

/// The size of each write (and of the reader's buffer) for bandwidth.
pub const WRITE_SIZE: usize = 1 << 20;

/// How long the listener waits for its child to connect and for any read.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A connected byte stream of either kind.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn reader(&mut self) -> &mut dyn Read {
        match self {
            Stream::Tcp(stream) => stream,
            Stream::Unix(stream) => stream,
        }
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Stream::Tcp(stream) => stream,
            Stream::Unix(stream) => stream,
        }
    }

    fn connect(endpoint: &str) -> Result<Stream, String> {
        if let Some(address) = endpoint.strip_prefix("tcp://") {
            let stream = TcpStream::connect(address).map_err(|error| error.to_string())?;
            stream
                .set_nodelay(true)
                .map_err(|error| error.to_string())?;
            Ok(Stream::Tcp(stream))
        } else if let Some(path) = endpoint.strip_prefix("ipc://") {
            Ok(Stream::Unix(
                UnixStream::connect(path).map_err(|error| error.to_string())?,
            ))
        } else {
            Err(format!("raw streams need tcp:// or ipc://, not {endpoint}"))
        }
    }
}

/// Listens on `transport`, starts the other end with the endpoint, accepts it.
fn accept(
    transport: Transport,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<(Stream, OtherEnd, String), String> {
    let (stream, other, endpoint) = match transport {
        Transport::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
            let address = listener.local_addr().map_err(|error| error.to_string())?;
            let endpoint = format!("tcp://{address}");
            let other = start_other(&endpoint)?;
            let (stream, _) = listener.accept().map_err(|error| error.to_string())?;
            stream
                .set_nodelay(true)
                .map_err(|error| error.to_string())?;
            (Stream::Tcp(stream), other, endpoint)
        }
        Transport::Ipc => {
            let endpoint = transport.bind_endpoint();
            let path = endpoint.trim_start_matches("ipc://");
            let listener = UnixListener::bind(path).map_err(|error| error.to_string())?;
            let other = start_other(&endpoint)?;
            let (stream, _) = listener.accept().map_err(|error| error.to_string())?;
            (Stream::Unix(stream), other, endpoint)
        }
        Transport::Inproc => return Err("there is no raw floor for inproc".to_owned()),
    };
    let timeout = Some(TIMEOUT);
    let set = match &stream {
        Stream::Tcp(stream) => stream.set_read_timeout(timeout),
        Stream::Unix(stream) => stream.set_read_timeout(timeout),
    };
    set.map_err(|error| error.to_string())?;
    Ok((stream, other, endpoint))
}

/// Bytes per second from the first read to the last, as a receiver sees them.
pub fn bandwidth(
    transport: Transport,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<f64, String> {
    let (mut stream, other, endpoint) = accept(transport, start_other)?;
    let measured = (|| -> Result<_, String> {
        let mut buffer = vec![0u8; WRITE_SIZE];
        let reader = stream.reader();
        let first = reader
            .read(&mut buffer)
            .map_err(|error| error.to_string())?;
        if first == 0 {
            return Err("the writer sent nothing".to_owned());
        }
        let start = Instant::now();
        let mut last = start;
        let mut bytes = 0u64;
        loop {
            let read = reader
                .read(&mut buffer)
                .map_err(|error| error.to_string())?;
            if read == 0 {
                break;
            }
            bytes += read as u64;
            last = Instant::now();
        }
        Ok(bytes as f64 / last.duration_since(start).as_secs_f64())
    })();
    let finished = other.finish(measured.is_ok());
    Transport::clean_up(&endpoint);
    let rate = measured?;
    finished?;
    Ok(rate)
}

/// 1-byte blocking round trips.
pub fn ping_pong(
    transport: Transport,
    counts: Counts,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<Latencies, String> {
    let (mut stream, other, endpoint) = accept(transport, start_other)?;
    let measured = (|| -> Result<_, String> {
        let mut samples = Vec::with_capacity(usize::try_from(counts.round_trips).unwrap_or(0));
        let mut byte = [0u8; 1];
        for index in 0..counts.warm_up + counts.round_trips {
            let start = Instant::now();
            stream
                .writer()
                .write_all(&byte)
                .map_err(|error| error.to_string())?;
            stream
                .reader()
                .read_exact(&mut byte)
                .map_err(|error| error.to_string())?;
            if index >= counts.warm_up {
                samples.push(start.elapsed());
            }
        }
        Ok(Latencies::from_samples(samples))
    })();
    drop(stream);
    let finished = other.finish(measured.is_ok());
    Transport::clean_up(&endpoint);
    let latencies = measured?;
    finished?;
    Ok(latencies)
}

/// Runs the raw other end in a child: writes `count` writes of `size` bytes, or
/// echoes bytes until the stream closes.
pub fn run_end(end: End, endpoint: &str, size: usize, counts: Counts) -> Result<(), String> {
    let mut stream = Stream::connect(endpoint)?;
    match end {
        End::Send => {
            let buffer = vec![0u8; size];
            for _ in 0..counts.messages {
                stream
                    .writer()
                    .write_all(&buffer)
                    .map_err(|error| error.to_string())?;
            }
            Ok(())
        }
        End::Serve => {
            let mut byte = [0u8; 1];
            loop {
                match stream.reader().read(&mut byte) {
                    Ok(0) => return Ok(()),
                    Ok(_) => stream
                        .writer()
                        .write_all(&byte)
                        .map_err(|error| error.to_string())?,
                    Err(error) => return Err(error.to_string()),
                }
            }
        }
    }
}
