//! The parallel pipeline (ventilator, workers, sink), as in the ZeroMQ guide.
//!
//! A ventilator PUSHes tasks to workers; each worker PULLs a task, does the work,
//! and PUSHes the result to a sink, which PULLs every result and reports. PUSH
//! round-robins tasks over the workers; PULL fair-queues the results. Run in one
//! process, the ventilator first sends empty probes until every worker has had one,
//! so that the tasks are shared by all of them.
//!
//! Run the whole topology in one process (threads, tcp on loopback):
//!
//! ```text
//! cargo run -p sinew-examples --bin pipeline
//! cargo run -p sinew-examples --bin pipeline -- --workers 8 --tasks 100000
//! ```
//!
//! Or one role per process, to see it across processes or machines:
//!
//! ```text
//! pipeline sink --bind tcp://*:5558 --tasks 1000
//! pipeline worker --connect tcp://localhost:5557 --results tcp://localhost:5558
//! pipeline ventilator --bind tcp://*:5557 --tasks 1000
//! ```
//!
//! It must stay one clear pattern: no broker, no reliability tricks.

use sinew::{Context, Message, SocketType};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn argument(arguments: &[String], name: &str) -> Option<String> {
    arguments
        .iter()
        .position(|argument| argument == name)
        .and_then(|index| arguments.get(index + 1))
        .cloned()
}

fn number(arguments: &[String], name: &str, default: u64) -> u64 {
    argument(arguments, name)
        .map(|value| {
            value
                .parse()
                .unwrap_or_else(|_| fail(&format!("{name} takes a number")))
        })
        .unwrap_or(default)
}

fn fail(message: &str) -> ! {
    eprintln!("pipeline: {message}");
    std::process::exit(1);
}

/// The work: a task is a number n; the result is the sum of squares up to n.
fn work(task: u64) -> u64 {
    (1..=task).map(|value| value * value).sum()
}

/// Sends `tasks` tasks, each a number from 1 to 1000, to whoever PULLs.
fn ventilator(context: &Context, bind: &str, tasks: u64) -> sinew::Result<()> {
    let push = context.socket(SocketType::Push)?;
    push.set_linger(None)?;
    push.bind(bind)?;
    for index in 0..tasks {
        push.send(((index % 1000) + 1).to_string())?;
    }
    eprintln!("ventilator: sent {tasks} tasks");
    Ok(())
}

/// Takes tasks from the ventilator and pushes results to the sink, until none
/// comes for `idle`. An empty task is a probe: it gets no result, and the first
/// one is reported on `ready`.
fn worker(
    context: &Context,
    tasks: &str,
    results: &str,
    idle: Duration,
    mut ready: Option<mpsc::Sender<()>>,
) -> sinew::Result<u64> {
    let pull = context.socket(SocketType::Pull)?;
    pull.set_receive_timeout(Some(idle))?;
    pull.connect(tasks)?;
    let push = context.socket(SocketType::Push)?;
    push.set_linger(None)?;
    push.connect(results)?;
    let mut done = 0;
    loop {
        let message = match pull.recv() {
            Ok(message) => message,
            Err(sinew::Error::TimedOut) => return Ok(done),
            Err(error) => return Err(error),
        };
        let frame = message.first().map(|frame| &frame[..]).unwrap_or_default();
        if frame.is_empty() {
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
            continue;
        }
        let task: u64 = std::str::from_utf8(frame)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        push.send(Message::from(work(task).to_string()))?;
        done += 1;
    }
}

/// Collects `tasks` results and reports the total and the time taken.
fn sink(pull: &sinew::Socket, tasks: u64) -> sinew::Result<u64> {
    let mut total: u64 = 0;
    let mut started = None;
    for _ in 0..tasks {
        let message = pull.recv()?;
        started.get_or_insert_with(Instant::now);
        total = total.wrapping_add(
            message
                .first()
                .and_then(|frame| std::str::from_utf8(frame).ok())
                .and_then(|text| text.parse::<u64>().ok())
                .unwrap_or(0),
        );
    }
    let elapsed = started.map(|start| start.elapsed()).unwrap_or_default();
    println!("sink: {tasks} results, checksum {total}, in {elapsed:.2?}");
    Ok(total)
}

fn main() -> sinew::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let tasks = number(&arguments, "--tasks", 10_000);
    let idle = Duration::from_millis(number(&arguments, "--idle-ms", 1000));
    let context = Context::new();
    match arguments.first().map(String::as_str) {
        Some("ventilator") => {
            let bind = argument(&arguments, "--bind").unwrap_or_else(|| fail("--bind EP"));
            ventilator(&context, &bind, tasks)
        }
        Some("worker") => {
            let tasks = argument(&arguments, "--connect").unwrap_or_else(|| fail("--connect EP"));
            let results = argument(&arguments, "--results").unwrap_or_else(|| fail("--results EP"));
            let done = worker(&context, &tasks, &results, idle, None)?;
            eprintln!("worker: did {done} tasks");
            Ok(())
        }
        Some("sink") => {
            let bind = argument(&arguments, "--bind").unwrap_or_else(|| fail("--bind EP"));
            let pull = context.socket(SocketType::Pull)?;
            pull.bind(&bind)?;
            sink(&pull, tasks).map(|_| ())
        }
        _ => run_all(&context, &arguments, tasks, idle),
    }
}

/// The whole topology in one process: sink, workers and ventilator on threads.
fn run_all(
    context: &Context,
    arguments: &[String],
    tasks: u64,
    idle: Duration,
) -> sinew::Result<()> {
    let workers = number(arguments, "--workers", 4);
    let sink_socket = context.socket(SocketType::Pull)?;
    sink_socket.bind("tcp://127.0.0.1:0")?;
    let results = sink_socket.last_endpoint().unwrap_or_default();
    // Bind the ventilator first so the workers have somewhere to connect.
    let tasks_socket = context.socket(SocketType::Push)?;
    tasks_socket.set_linger(None)?;
    tasks_socket.bind("tcp://127.0.0.1:0")?;
    let tasks_endpoint = tasks_socket.last_endpoint().unwrap_or_default();
    let (ready, readiness) = mpsc::channel();
    let handles: Vec<_> = (0..workers)
        .map(|index| {
            let context = context.clone();
            let (tasks_endpoint, results) = (tasks_endpoint.clone(), results.clone());
            let ready = ready.clone();
            std::thread::spawn(move || {
                let done = worker(&context, &tasks_endpoint, &results, idle, Some(ready))?;
                eprintln!("worker {index}: did {done} tasks");
                Ok::<u64, sinew::Error>(done)
            })
        })
        .collect();
    let sender = std::thread::spawn(move || {
        // PUSH deals only to the workers connected so far, and the first to
        // connect could take every task before the others are there (ZeroMQ's
        // slow joiner). So probes go out until each worker has had one.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut joined = 0;
        while joined < workers && Instant::now() < deadline {
            tasks_socket.send(String::new())?;
            while readiness.recv_timeout(Duration::from_millis(1)).is_ok() {
                joined += 1;
            }
        }
        for index in 0..tasks {
            tasks_socket.send(((index % 1000) + 1).to_string())?;
        }
        eprintln!("ventilator: sent {tasks} tasks");
        Ok::<(), sinew::Error>(())
    });
    let total = sink(&sink_socket, tasks)?;
    let expected: u64 = (0..tasks)
        .map(|index| work((index % 1000) + 1))
        .fold(0, u64::wrapping_add);
    sender
        .join()
        .unwrap_or_else(|_| fail("the ventilator panicked"))?;
    for handle in handles {
        handle
            .join()
            .unwrap_or_else(|_| fail("a worker panicked"))?;
    }
    if total == expected {
        println!("pipeline: every result arrived and the checksum matches");
        Ok(())
    } else {
        fail(&format!("checksum {total}, expected {expected}"))
    }
}
