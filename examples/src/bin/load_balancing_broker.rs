//! The load-balancing broker, as in the ZeroMQ guide: workers (REQ) announce
//! they are ready, the broker (ROUTER to ROUTER) queues the ready ones and hands
//! each client request to the least recently used, so no worker gets a second job
//! before it finished the first.
//!
//! One command runs the whole topology in one process, over tcp on loopback:
//!
//! ```text
//! cargo run -p sinew-examples --bin load_balancing_broker
//! cargo run -p sinew-examples --bin load_balancing_broker -- --clients 20 --workers 4
//! ```
//!
//! Each client sends one request and waits for "OK"; the broker exits once every
//! client was served, and the program exits 0. Envelopes are explicit here: a
//! backend message is [worker, "", client, "", body].

use sinew::{Context, Error, Message, PollEvents, PollItem, SocketType, poll};
use sinew_examples::number_option;
use std::collections::VecDeque;
use std::time::Duration;

fn main() -> sinew::Result<()> {
    let clients = number_option("--clients", 10);
    let workers = number_option("--workers", 3);
    let context = Context::new();
    let frontend = context.socket(SocketType::Router)?;
    frontend.bind("tcp://127.0.0.1:0")?;
    let frontend_endpoint = frontend.last_endpoint().unwrap_or_default();
    let backend = context.socket(SocketType::Router)?;
    backend.bind("tcp://127.0.0.1:0")?;
    let backend_endpoint = backend.last_endpoint().unwrap_or_default();

    // Workers: say READY, then answer each job with OK.
    let worker_threads: Vec<_> = (0..workers)
        .map(|index| {
            let context = context.clone();
            let endpoint = backend_endpoint.clone();
            std::thread::spawn(move || -> sinew::Result<usize> {
                let req = context.socket(SocketType::Request)?;
                req.set_routing_id(Some(format!("worker-{index}").into()))?;
                req.connect(&endpoint)?;
                req.send("READY")?;
                let mut jobs = 0;
                loop {
                    let mut job = match req.recv() {
                        Ok(job) => job,
                        Err(Error::Terminated) => return Ok(jobs),
                        Err(error) => return Err(error),
                    };
                    // [client, "", request]: answer with [client, "", "OK"].
                    job.pop_back();
                    job.push_back("OK");
                    req.send(job)?;
                    jobs += 1;
                }
            })
        })
        .collect();

    // Clients: one request each.
    let client_threads: Vec<_> = (0..clients)
        .map(|index| {
            let context = context.clone();
            let endpoint = frontend_endpoint.clone();
            std::thread::spawn(move || -> sinew::Result<()> {
                let req = context.socket(SocketType::Request)?;
                req.set_routing_id(Some(format!("client-{index}").into()))?;
                req.set_receive_timeout(Some(Duration::from_secs(10)))?;
                req.connect(&endpoint)?;
                req.send("HELLO")?;
                let reply = req.recv()?;
                println!(
                    "client-{index}: {}",
                    String::from_utf8_lossy(&reply.frames()[0])
                );
                Ok(())
            })
        })
        .collect();

    // The broker: poll the backend always, the frontend only when a worker is free.
    let mut ready: VecDeque<bytes::Bytes> = VecDeque::new();
    let mut served = 0;
    while served < clients {
        let mut items = [
            PollItem::new(&backend, PollEvents::READABLE),
            PollItem::new(&frontend, PollEvents::READABLE),
        ];
        let watched = if ready.is_empty() { 1 } else { 2 };
        poll(&mut items[..watched], Some(Duration::from_secs(10)))?;
        if items[0].is_readable() {
            // [worker, "", READY] or [worker, "", client, "", reply].
            let mut message = backend.recv()?;
            let Some(worker) = message.pop_front() else {
                continue;
            };
            ready.push_back(worker);
            message.pop_front(); // the delimiter
            if message.first().map(|frame| &frame[..]) != Some(b"READY") {
                frontend.send(message)?;
                served += 1;
            }
        }
        if watched == 2 && items[1].is_readable() {
            // [client, "", request] to [worker, "", client, "", request].
            let request = frontend.recv()?;
            if let Some(worker) = ready.pop_front() {
                let mut job = Message::from_frames([worker, bytes::Bytes::new()]);
                job.append(request);
                backend.send(job)?;
            }
        }
    }
    for client in client_threads {
        client.join().unwrap_or_else(|_| std::process::exit(1))?;
    }
    context.shutdown();
    let mut jobs = Vec::new();
    for worker in worker_threads {
        jobs.push(worker.join().unwrap_or_else(|_| std::process::exit(1))?);
    }
    println!("load_balancing_broker: {clients} clients served; jobs per worker {jobs:?}");
    Ok(())
}
