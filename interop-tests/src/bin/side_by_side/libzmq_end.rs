//! The libzmq side of the matrix (the `zmq` crate, libzmq 4.3.4 built from vendored
//! source): the same workloads as `sinew_end.rs`, written the way libzmq's own
//! perf tools are.
//!
//! The sender creates each message with zmq_msg_init_size and leaves it unfilled,
//! as remote_thr does; the receiver reuses one message, as local_thr does; the REQ
//! client sends back the reply it received, as remote_lat does. This file must
//! never wait without a deadline on the measuring end: a dead peer is an error.

use crate::OtherEnd;
use crate::measure::{Counts, End, Latencies, Transport, receive_rate, round_trip_times};

/// The high-water mark at both ends.
const HIGH_WATER_MARK: i32 = 1000;

/// The longest the measuring end waits for any one message, in milliseconds.
const TIMEOUT_MILLISECONDS: i32 = 20_000;

fn open(context: &zmq::Context, kind: zmq::SocketType) -> Result<zmq::Socket, String> {
    let socket = context.socket(kind).map_err(|error| error.to_string())?;
    socket
        .set_sndhwm(HIGH_WATER_MARK)
        .and_then(|()| socket.set_rcvhwm(HIGH_WATER_MARK))
        .map_err(|error| error.to_string())?;
    Ok(socket)
}

fn bind(socket: &zmq::Socket, transport: Transport) -> Result<String, String> {
    let endpoint = transport.bind_endpoint();
    socket
        .bind(&endpoint)
        .map_err(|error| format!("libzmq bind {endpoint}: {error}"))?;
    socket
        .set_rcvtimeo(TIMEOUT_MILLISECONDS)
        .map_err(|error| error.to_string())?;
    match socket.get_last_endpoint() {
        Ok(Ok(endpoint)) => Ok(endpoint),
        _ => Err("libzmq reports no bound endpoint".to_owned()),
    }
}

/// A message of `size` bytes that libzmq allocates and nobody fills, as remote_thr
/// sends them.
#[allow(deprecated)]
fn unfilled(size: usize) -> zmq::Message {
    // SAFETY: zmq_msg_init_size leaves the bytes uninitialised and nothing in this
    // process reads them: libzmq only copies them to the peer, as in remote_thr.
    unsafe { zmq::Message::with_capacity_unallocated(size) }
}

fn receive(socket: &zmq::Socket, message: &mut zmq::Message, size: usize) -> Result<(), String> {
    socket
        .recv(message, 0)
        .map_err(|error| format!("libzmq receive: {error}"))?;
    if message.len() != size {
        return Err(format!(
            "libzmq received {} bytes, expected {size}",
            message.len()
        ));
    }
    Ok(())
}

fn send_all(socket: &zmq::Socket, size: usize, count: u64) -> Result<(), String> {
    for _ in 0..count {
        socket
            .send(unfilled(size), 0)
            .map_err(|error| format!("libzmq send: {error}"))?;
    }
    Ok(())
}

fn serve(socket: &zmq::Socket, round_trips: u64) -> Result<(), String> {
    for _ in 0..round_trips {
        let mut request = zmq::Message::new();
        socket
            .recv(&mut request, 0)
            .map_err(|error| format!("libzmq receive: {error}"))?;
        socket
            .send(request, 0)
            .map_err(|error| format!("libzmq send: {error}"))?;
    }
    Ok(())
}

/// The other end: connects to `endpoint`, then sends or serves; returns the
/// socket, still open.
fn connect_and_run(
    context: &zmq::Context,
    end: End,
    endpoint: &str,
    size: usize,
    counts: Counts,
) -> Result<zmq::Socket, String> {
    let kind = match end {
        End::Send => zmq::PUSH,
        End::Serve => zmq::REP,
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
    let context = zmq::Context::new();
    let receiver = open(&context, zmq::PULL)?;
    let endpoint = bind(&receiver, transport)?;
    let count = counts.messages;
    let other = {
        let (context, connect_to) = (context.clone(), endpoint.clone());
        OtherEnd::start_for(transport, &endpoint, start_other, move || {
            connect_and_run(&context, End::Send, &connect_to, size, counts).map(drop)
        })?
    };
    let mut message = zmq::Message::new();
    let measured = receive_rate(count, || receive(&receiver, &mut message, size));
    other.conclude(measured, receiver, &endpoint)
}

/// Round trips from a REQ client.
pub fn latency(
    transport: Transport,
    size: usize,
    counts: Counts,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<Latencies, String> {
    let context = zmq::Context::new();
    let client = open(&context, zmq::REQ)?;
    let endpoint = bind(&client, transport)?;
    let other = {
        let (context, connect_to) = (context.clone(), endpoint.clone());
        OtherEnd::start_for(transport, &endpoint, start_other, move || {
            connect_and_run(&context, End::Serve, &connect_to, size, counts).map(drop)
        })?
    };
    // Each request is the reply that came back: one message, no allocation.
    let mut message = unfilled(size);
    let measured = round_trip_times(counts, || {
        client
            .send(std::mem::replace(&mut message, zmq::Message::new()), 0)
            .map_err(|error| format!("libzmq send: {error}"))?;
        receive(&client, &mut message, size)
    });
    other.conclude(measured, client, &endpoint)
}

/// Runs the other end in a child process: connects to `endpoint` and sends or
/// serves.
pub fn run_end(end: End, endpoint: &str, size: usize, counts: Counts) -> Result<(), String> {
    let context = zmq::Context::new();
    let socket = connect_and_run(&context, end, endpoint, size, counts)?;
    crate::wait_for_measuring_end();
    drop(socket);
    Ok(())
    // Closing the socket and context waits (libzmq's linger is forever) until
    // everything is handed over.
}
