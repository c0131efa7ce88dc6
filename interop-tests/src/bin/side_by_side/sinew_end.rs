//! The Sinew side of the matrix: PUSH/PULL throughput and REQ/REP round trips with
//! the `sinew` crate's public API, exactly as `sinew bench` runs them.
//!
//! The measuring end (PULL, REQ) binds in this process; the other end is a child
//! process (tcp, ipc) or a thread sharing the context (inproc). The sender sends
//! clones of one `Bytes` payload, the zero-copy way the API offers. This file must
//! never wait without a deadline on the measuring end: a dead peer is an error.

use crate::OtherEnd;
use crate::measure::{Counts, End, Latencies, Transport};
use bytes::Bytes;
use sinew::{Context, Socket, SocketType};
use std::time::{Duration, Instant};

/// The high-water mark at both ends.
const HIGH_WATER_MARK: u32 = 1000;

/// The longest the measuring end waits for any one message.
const TIMEOUT: Duration = Duration::from_secs(20);

fn open(context: &Context, kind: SocketType) -> Result<Socket, String> {
    let socket = context.socket(kind).map_err(|error| error.to_string())?;
    socket
        .set_send_high_water_mark(HIGH_WATER_MARK)
        .and_then(|()| socket.set_receive_high_water_mark(HIGH_WATER_MARK))
        .map_err(|error| error.to_string())?;
    Ok(socket)
}

fn bind(socket: &Socket, transport: Transport) -> Result<String, String> {
    let endpoint = transport.bind_endpoint();
    socket
        .bind(&endpoint)
        .map_err(|error| format!("bind {endpoint}: {error}"))?;
    socket
        .set_receive_timeout(Some(TIMEOUT))
        .map_err(|error| error.to_string())?;
    socket
        .last_endpoint()
        .ok_or_else(|| "no bound endpoint".to_owned())
}

fn receive(socket: &Socket, size: usize) -> Result<(), String> {
    let message = socket
        .recv()
        .map_err(|error| format!("sinew receive: {error}"))?;
    if message.size_bytes() != size {
        return Err(format!(
            "sinew received {} bytes, expected {size}",
            message.size_bytes()
        ));
    }
    Ok(())
}

fn send_all(socket: &Socket, size: usize, count: u64) -> Result<(), String> {
    let payload = Bytes::from(vec![0u8; size]);
    for _ in 0..count {
        socket
            .send(payload.clone())
            .map_err(|failed| format!("sinew send: {}", failed.error))?;
    }
    Ok(())
}

fn serve(socket: &Socket, round_trips: u64) -> Result<(), String> {
    for _ in 0..round_trips {
        let request = socket
            .recv()
            .map_err(|error| format!("sinew receive: {error}"))?;
        socket
            .send(request)
            .map_err(|failed| format!("sinew send: {}", failed.error))?;
    }
    Ok(())
}

/// Messages per second at a PULL receiver.
pub fn throughput(
    transport: Transport,
    size: usize,
    counts: Counts,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<f64, String> {
    let context = Context::new();
    let receiver = open(&context, SocketType::Pull)?;
    let endpoint = bind(&receiver, transport)?;
    let count = counts.messages;
    let other = match transport {
        Transport::Inproc => {
            let (context, endpoint) = (context.clone(), endpoint.clone());
            OtherEnd::Thread(std::thread::spawn(move || {
                let sender = open(&context, SocketType::Push)?;
                sender
                    .connect(&endpoint)
                    .map_err(|error| error.to_string())?;
                send_all(&sender, size, count)
            }))
        }
        Transport::Tcp | Transport::Ipc => start_other(&endpoint)?,
    };
    let measured = (|| -> Result<_, String> {
        receive(&receiver, size)?;
        let start = Instant::now();
        for _ in 1..count {
            receive(&receiver, size)?;
        }
        Ok((count - 1) as f64 / start.elapsed().as_secs_f64())
    })();
    let finished = other.finish(measured.is_ok());
    drop(receiver);
    Transport::clean_up(&endpoint);
    let rate = measured?;
    finished?;
    Ok(rate)
}

/// Round trips from a REQ client.
pub fn latency(
    transport: Transport,
    size: usize,
    counts: Counts,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<Latencies, String> {
    let context = Context::new();
    let client = open(&context, SocketType::Request)?;
    let endpoint = bind(&client, transport)?;
    let total = counts.warm_up + counts.round_trips;
    let other = match transport {
        Transport::Inproc => {
            let (context, endpoint) = (context.clone(), endpoint.clone());
            OtherEnd::Thread(std::thread::spawn(move || {
                let server = open(&context, SocketType::Reply)?;
                server
                    .connect(&endpoint)
                    .map_err(|error| error.to_string())?;
                serve(&server, total)
            }))
        }
        Transport::Tcp | Transport::Ipc => start_other(&endpoint)?,
    };
    let payload = Bytes::from(vec![0u8; size]);
    let measured = (|| -> Result<_, String> {
        let mut samples = Vec::with_capacity(usize::try_from(counts.round_trips).unwrap_or(0));
        for index in 0..total {
            let start = Instant::now();
            client
                .send(payload.clone())
                .map_err(|failed| format!("sinew send: {}", failed.error))?;
            receive(&client, size)?;
            if index >= counts.warm_up {
                samples.push(start.elapsed());
            }
        }
        Ok(Latencies::from_samples(samples))
    })();
    let finished = other.finish(measured.is_ok());
    drop(client);
    Transport::clean_up(&endpoint);
    let latencies = measured?;
    finished?;
    Ok(latencies)
}

/// Runs the other end in a child process: connects to `endpoint` and sends or
/// serves.
pub fn run_end(end: End, endpoint: &str, size: usize, counts: Counts) -> Result<(), String> {
    let context = Context::new();
    let kind = match end {
        End::Send => SocketType::Push,
        End::Serve => SocketType::Reply,
    };
    let socket = open(&context, kind)?;
    socket
        .connect(endpoint)
        .map_err(|error| error.to_string())?;
    match end {
        End::Send => send_all(&socket, size, counts.messages)?,
        End::Serve => serve(&socket, counts.warm_up + counts.round_trips)?,
    }
    crate::wait_for_measuring_end();
    Ok(())
    // Dropping the socket waits (up to its linger) until everything is handed over.
}
