//! The zmq.rs side of the matrix (the `zeromq` crate, pure Rust on tokio), built
//! only with the `zmq-rs` feature: the same workloads as `sinew_end.rs` over tcp and
//! ipc (zmq.rs has no inproc), each run on a multi-threaded tokio runtime as an
//! application using it would.
//!
//! zmq.rs has no high-water-mark option, so its queues keep their own defaults. The
//! sender sends clones of one `Bytes` payload, as Sinew's does. This file must never
//! wait without a deadline on the measuring end: a dead peer is an error.

use crate::OtherEnd;
use crate::measure::{Counts, End, Latencies, Transport};
use bytes::Bytes;
use std::time::{Duration, Instant};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// The longest the measuring end waits for any one message.
const TIMEOUT: Duration = Duration::from_secs(20);

/// How long a child keeps retrying its first send while the connection comes up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start a tokio runtime: {error}"))
}

fn bind_endpoint(transport: Transport) -> Result<String, String> {
    match transport {
        Transport::Tcp => Ok("tcp://127.0.0.1:0".to_owned()),
        Transport::Ipc => Ok(transport.bind_endpoint()),
        Transport::Inproc => Err("zmq.rs has no inproc transport".to_owned()),
    }
}

async fn receive(socket: &mut impl SocketRecv, size: usize) -> Result<(), String> {
    let message = tokio::time::timeout(TIMEOUT, socket.recv())
        .await
        .map_err(|_| "zmq.rs receive timed out".to_owned())?
        .map_err(|error| format!("zmq.rs receive: {error}"))?;
    let received: usize = message.iter().map(Bytes::len).sum();
    if message.len() != 1 || received != size {
        return Err(format!("zmq.rs received {received} bytes, expected {size}"));
    }
    Ok(())
}

/// Sends one message, retrying while the socket has no peer yet (zmq.rs refuses
/// to queue for a peer that has not connected).
async fn send_when_connected(socket: &mut impl SocketSend, payload: &Bytes) -> Result<(), String> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    loop {
        match socket.send(ZmqMessage::from(payload.clone())).await {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(error) => return Err(format!("zmq.rs send: {error}")),
        }
    }
}

/// Messages per second at a PULL receiver.
pub fn throughput(
    transport: Transport,
    size: usize,
    counts: Counts,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<f64, String> {
    let endpoint = bind_endpoint(transport)?;
    runtime()?.block_on(async {
        let mut receiver = zeromq::PullSocket::new();
        let endpoint = receiver
            .bind(&endpoint)
            .await
            .map_err(|error| format!("zmq.rs bind {endpoint}: {error}"))?
            .to_string();
        let other = start_other(&endpoint)?;
        let count = counts.messages;
        let mut measure = async || -> Result<f64, String> {
            receive(&mut receiver, size).await?;
            let start = Instant::now();
            for _ in 1..count {
                receive(&mut receiver, size).await?;
            }
            Ok((count - 1) as f64 / start.elapsed().as_secs_f64())
        };
        let measured = measure().await;
        other.conclude(measured, receiver, &endpoint)
    })
}

/// Round trips from a REQ client.
pub fn latency(
    transport: Transport,
    size: usize,
    counts: Counts,
    start_other: &dyn Fn(&str) -> Result<OtherEnd, String>,
) -> Result<Latencies, String> {
    let endpoint = bind_endpoint(transport)?;
    runtime()?.block_on(async {
        let mut client = zeromq::ReqSocket::new();
        let endpoint = client
            .bind(&endpoint)
            .await
            .map_err(|error| format!("zmq.rs bind {endpoint}: {error}"))?
            .to_string();
        let other = start_other(&endpoint)?;
        let payload = Bytes::from(vec![0u8; size]);
        let total = counts.warm_up + counts.round_trips;
        let mut measure = async || -> Result<Latencies, String> {
            let mut samples = Vec::with_capacity(usize::try_from(counts.round_trips).unwrap_or(0));
            for index in 0..total {
                let start = Instant::now();
                send_when_connected(&mut client, &payload).await?;
                receive(&mut client, size).await?;
                if index >= counts.warm_up {
                    samples.push(start.elapsed());
                }
            }
            Ok(Latencies::from_samples(samples))
        };
        let measured = measure().await;
        other.conclude(measured, client, &endpoint)
    })
}

/// Runs the other end in a child process: connects to `endpoint` and sends or
/// serves, then holds the socket until the measuring end is done.
pub fn run_end(end: End, endpoint: &str, size: usize, counts: Counts) -> Result<(), String> {
    let runtime = runtime()?;
    let result: Result<Box<dyn std::any::Any>, String> = runtime.block_on(async {
        match end {
            End::Send => {
                let mut socket = zeromq::PushSocket::new();
                socket
                    .connect(endpoint)
                    .await
                    .map_err(|error| format!("zmq.rs connect {endpoint}: {error}"))?;
                let payload = Bytes::from(vec![0u8; size]);
                for _ in 0..counts.messages {
                    send_when_connected(&mut socket, &payload).await?;
                }
                Ok(Box::new(socket) as Box<dyn std::any::Any>)
            }
            End::Serve => {
                let mut socket = zeromq::RepSocket::new();
                socket
                    .connect(endpoint)
                    .await
                    .map_err(|error| format!("zmq.rs connect {endpoint}: {error}"))?;
                for _ in 0..counts.warm_up + counts.round_trips {
                    let request = socket
                        .recv()
                        .await
                        .map_err(|error| format!("zmq.rs receive: {error}"))?;
                    socket
                        .send(request)
                        .await
                        .map_err(|error| format!("zmq.rs send: {error}"))?;
                }
                Ok(Box::new(socket) as Box<dyn std::any::Any>)
            }
        }
    });
    // The socket (and the runtime that drives it) stay alive until the measuring
    // end has everything.
    let socket = result?;
    crate::wait_for_measuring_end();
    drop(socket);
    drop(runtime);
    Ok(())
}
