//! The Sinew side of the matrix: PUSH/PULL throughput and REQ/REP round trips with
//! the `sinew` crate's public API, exactly as `sinew bench` runs them.
//!
//! The measuring end (PULL, REQ) binds in this process; the other end is a child
//! process (tcp, ipc) or a thread sharing the context (inproc). The sender sends
//! clones of one `Bytes` payload, the zero-copy way the API offers. This file must
//! never wait without a deadline on the measuring end: a dead peer is an error.

use crate::OtherEnd;
use crate::measure::{Counts, End, Latencies, Transport, receive_rate, round_trip_times};
use bytes::Bytes;
use sinew::{Context, Socket, SocketType};
use std::time::Duration;

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

/// The other end: connects to `endpoint`, then sends or serves; returns the
/// socket, still open.
fn connect_and_run(
    context: &Context,
    end: End,
    endpoint: &str,
    size: usize,
    counts: Counts,
) -> Result<Socket, String> {
    let kind = match end {
        End::Send => SocketType::Push,
        End::Serve => SocketType::Reply,
    };
    let socket = open(context, kind)?;
    socket
        .connect(endpoint)
        .map_err(|error| error.to_string())?;
    match end {
        End::Send => send_all(&socket, size, counts.messages)?,
        End::Serve => serve(&socket, counts.warm_up + counts.round_trips)?,
    }
    Ok(socket)
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
    let other = {
        let (context, connect_to) = (context.clone(), endpoint.clone());
        OtherEnd::start_for(transport, &endpoint, start_other, move || {
            connect_and_run(&context, End::Send, &connect_to, size, counts).map(drop)
        })?
    };
    let measured = receive_rate(count, || receive(&receiver, size));
    other.conclude(measured, receiver, &endpoint)
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
    let other = {
        let (context, connect_to) = (context.clone(), endpoint.clone());
        OtherEnd::start_for(transport, &endpoint, start_other, move || {
            connect_and_run(&context, End::Serve, &connect_to, size, counts).map(drop)
        })?
    };
    let payload = Bytes::from(vec![0u8; size]);
    let measured = round_trip_times(counts, || {
        client
            .send(payload.clone())
            .map_err(|failed| format!("sinew send: {}", failed.error))?;
        receive(&client, size)
    });
    other.conclude(measured, client, &endpoint)
}

/// Runs the other end in a child process: connects to `endpoint` and sends or
/// serves.
pub fn run_end(end: End, endpoint: &str, size: usize, counts: Counts) -> Result<(), String> {
    let context = Context::new();
    let socket = connect_and_run(&context, end, endpoint, size, counts)?;
    crate::wait_for_measuring_end();
    drop(socket);
    Ok(())
    // Dropping the socket waits (up to its linger) until everything is handed over.
}
