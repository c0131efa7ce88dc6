//! The extended request-reply broker, as in the ZeroMQ guide: clients (REQ) talk
//! to a ROUTER frontend, workers (REP) to a DEALER backend, and a proxy joins the
//! two, so clients and workers come and go without knowing each other.
//!
//! One command runs the whole topology in one process, over tcp on loopback:
//!
//! ```text
//! cargo run -p sinew-examples --bin request_reply_broker
//! cargo run -p sinew-examples --bin request_reply_broker -- --clients 8 --workers 3 --requests 100
//! ```
//!
//! Each client sends its requests and checks every reply; the program exits 0
//! when every client got every answer. It must stay one clear pattern: the broker
//! is `sinew_patterns::proxy` and nothing else.

use sinew::{Context, Error, Message, SocketType};
use sinew_examples::number_option;
use std::time::{Duration, Instant};

fn main() -> sinew::Result<()> {
    let clients = number_option("--clients", 4);
    let workers = number_option("--workers", 2);
    let requests = number_option("--requests", 25);
    let context = Context::new();

    // The broker: ROUTER frontend for clients, DEALER backend for workers.
    let frontend = context.socket(SocketType::Router)?;
    frontend.bind("tcp://127.0.0.1:0")?;
    let frontend_endpoint = frontend.last_endpoint().unwrap_or_default();
    let backend = context.socket(SocketType::Dealer)?;
    backend.bind("tcp://127.0.0.1:0")?;
    let backend_endpoint = backend.last_endpoint().unwrap_or_default();
    let broker = std::thread::spawn(move || sinew_patterns::proxy(&frontend, &backend));

    // Workers: answer each request with the request and their name.
    let worker_threads: Vec<_> = (0..workers)
        .map(|index| {
            let context = context.clone();
            let endpoint = backend_endpoint.clone();
            std::thread::spawn(move || -> sinew::Result<usize> {
                let rep = context.socket(SocketType::Reply)?;
                rep.connect(&endpoint)?;
                let mut served = 0;
                loop {
                    let request = match rep.recv() {
                        Ok(request) => request,
                        Err(Error::Terminated) => return Ok(served),
                        Err(error) => return Err(error),
                    };
                    let mut reply = request;
                    reply.push_back(format!("worker {index}"));
                    rep.send(reply)?;
                    served += 1;
                }
            })
        })
        .collect();

    // Clients: each sends its requests and checks each reply.
    let started = Instant::now();
    let client_threads: Vec<_> = (0..clients)
        .map(|index| {
            let context = context.clone();
            let endpoint = frontend_endpoint.clone();
            std::thread::spawn(move || -> sinew::Result<()> {
                let req = context.socket(SocketType::Request)?;
                req.set_receive_timeout(Some(Duration::from_secs(10)))?;
                req.connect(&endpoint)?;
                for round in 0..requests {
                    let question = format!("client {index} request {round}");
                    req.send(Message::from(question.clone()))?;
                    let reply = req.recv()?;
                    if reply.first().map(|frame| &frame[..]) != Some(question.as_bytes()) {
                        eprintln!("client {index}: wrong reply {reply:?}");
                        std::process::exit(1);
                    }
                }
                Ok(())
            })
        })
        .collect();
    for client in client_threads {
        client.join().unwrap_or_else(|_| std::process::exit(1))?;
    }
    let elapsed = started.elapsed();

    // Everyone is served: stop the broker and the workers.
    context.shutdown();
    let _ = broker.join();
    let mut served = Vec::new();
    for worker in worker_threads {
        served.push(worker.join().unwrap_or_else(|_| std::process::exit(1))?);
    }
    println!(
        "request_reply_broker: {clients} clients x {requests} requests answered in {elapsed:.2?}; workers served {served:?}"
    );
    Ok(())
}
