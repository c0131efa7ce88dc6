//! The store against real process death: a child process (this binary again, with
//! `SINEW_STORE_KILL_CHILD` set to the data directory) keeps eight durable produce
//! requests in flight across two partitions, and prints each acknowledgement as
//! "ack PARTITION BASE_OFFSET VALUE...". The parent kills it with SIGKILL at a
//! random moment (sometimes while it is still opening), reopens the store, and
//! checks that every record ever acknowledged is at its acknowledged offset.
//!
//! `harness = false`: `main` below is a tiny runner, so the child's entry point is
//! a plain function and not a test that passes by doing nothing.

mod store_client;
mod util;

use bytes::Bytes;
use sinew_broker::store::{
    Acknowledged, Acks, Payload, Produce, ProduceRecord, Reply, Request, StoreError, StoreSettings,
    Target, TopicConfig,
};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Instant;
use store_client::{Client, TIMEOUT};

const CHILD_VARIABLE: &str = "SINEW_STORE_KILL_CHILD";
const RUN_VARIABLE: &str = "SINEW_STORE_KILL_RUN";
const NAME: &str = "acknowledged_records_survive_sigkill_of_the_store";
const KILLS: u64 = 12;
const TOPIC: &str = "crash";
const IN_FLIGHT: usize = 8;

fn main() -> ExitCode {
    if let Some(directory) = std::env::var_os(CHILD_VARIABLE) {
        child(directory.into());
        return ExitCode::SUCCESS;
    }
    let mut arguments = std::env::args().skip(1);
    let mut filters = Vec::new();
    let mut list = false;
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--list" => list = true,
            "--test-threads" | "--color" | "--format" | "--logfile" | "--skip" => {
                arguments.next();
            }
            option if option.starts_with('-') => {}
            filter => filters.push(filter.to_owned()),
        }
    }
    if list {
        println!("{NAME}: test");
        return ExitCode::SUCCESS;
    }
    if !filters.is_empty() && !filters.iter().any(|filter| NAME.contains(filter.as_str())) {
        println!(
            "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out\n"
        );
        return ExitCode::SUCCESS;
    }
    println!("\nrunning 1 test");
    let started = Instant::now();
    let passed = std::panic::catch_unwind(acknowledged_records_survive_sigkill).is_ok();
    println!("test {NAME} ... {}", if passed { "ok" } else { "FAILED" });
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        if passed { "ok" } else { "FAILED" },
        u8::from(passed),
        u8::from(!passed),
        started.elapsed().as_secs_f64()
    );
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}

fn settings(directory: &std::path::Path) -> StoreSettings {
    StoreSettings::new(directory)
}

/// The child: produce durably forever, printing each acknowledgement.
fn child(directory: std::path::PathBuf) {
    let run: u64 = std::env::var(RUN_VARIABLE)
        .ok()
        .and_then(|run| run.parse().ok())
        .unwrap_or(0);
    let mut client = Client::open(settings(&directory)).expect("child: open");
    match client.call(Request::CreateTopic(TopicConfig {
        segment_bytes: Some(4096),
        ..TopicConfig::new(TOPIC, 2)
    })) {
        Ok(_) | Err(StoreError::TopicExists(_)) => {}
        Err(error) => panic!("child: create: {error}"),
    }
    let mut sent: HashMap<u64, Vec<String>> = HashMap::new();
    let mut next = 0u64;
    let stdout = std::io::stdout();
    loop {
        while sent.len() < IN_FLIGHT {
            let count = 1 + (next % 3) as usize;
            let values: Vec<String> = (0..count)
                .map(|index| format!("r{run}-n{next}-{index}"))
                .collect();
            let produce = Produce {
                topic: TOPIC.to_owned(),
                partition: Target::Partition((next % 2) as u32),
                payload: Payload::Records(
                    values
                        .iter()
                        .map(|value| {
                            ProduceRecord::new(None, Bytes::from(value.clone().into_bytes()), 0)
                        })
                        .collect(),
                ),
                producer: None,
                acks: Some(Acks::Durable),
            };
            let id = client.submit_batch(vec![Request::Produce(produce)])[0];
            sent.insert(id, values);
            next += 1;
        }
        let (id, result) = client.wait_any();
        let values = sent.remove(&id).expect("child: a request of its own");
        let Ok(Reply::Produced(produced)) = result else {
            panic!("child: produce: {result:?}");
        };
        assert_eq!(produced.acknowledged, Acknowledged::Durable);
        let mut out = stdout.lock();
        writeln!(
            out,
            "ack {} {} {}",
            produced.partition,
            produced.base_offset,
            values.join(" ")
        )
        .expect("child: print");
        out.flush().expect("child: flush");
    }
}

fn acknowledged_records_survive_sigkill() {
    let temporary = util::TempDir::new("store-kill");
    let directory = temporary.0.join("data");
    // Every acknowledged record: (partition, offset) -> value.
    let mut acknowledged: HashMap<(u32, u64), String> = HashMap::new();
    let mut random = 0x5eed_u64;
    for run in 0..KILLS {
        random = random
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Every fourth run is killed at once, perhaps while it opens or recovers.
        let wanted = if run % 4 == 3 {
            0
        } else {
            5 + (random >> 33) % 120
        };
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .env(CHILD_VARIABLE, &directory)
            .env(RUN_VARIABLE, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().expect("the child's stdout");
        let (lines, received) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut acks = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        while (acks.len() as u64) < wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => acks.push(line),
                Err(error) => panic!("run {run}: only {} acknowledgements: {error}", acks.len()),
            }
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait for the child");
        assert!(
            !status.success(),
            "run {run}: the child ended by itself: {status}"
        );
        reader.join().expect("the reader thread");
        // Lines printed before the kill are acknowledgements too.
        acks.extend(received.try_iter());
        for line in &acks {
            let mut fields = line.split(' ');
            assert_eq!(fields.next(), Some("ack"), "{line}");
            let partition: u32 = fields
                .next()
                .and_then(|field| field.parse().ok())
                .expect("partition");
            let base: u64 = fields
                .next()
                .and_then(|field| field.parse().ok())
                .expect("offset");
            for (index, value) in fields.enumerate() {
                let previous =
                    acknowledged.insert((partition, base + index as u64), value.to_owned());
                assert!(
                    previous.is_none(),
                    "run {run}: offset {} of partition {partition} acknowledged twice",
                    base + index as u64
                );
            }
        }

        let mut client = Client::open(settings(&directory))
            .unwrap_or_else(|error| panic!("run {run}: reopening after SIGKILL: {error}"));
        let topics = match client.call(Request::ListTopics) {
            Ok(Reply::Topics(topics)) => topics,
            other => panic!("{other:?}"),
        };
        if acknowledged.is_empty() && topics.is_empty() {
            client.close();
            continue;
        }
        let mut stored = HashMap::new();
        for partition in 0..2 {
            for (offset, value) in client.read_all(TOPIC, partition, 0) {
                stored.insert(
                    (partition, offset),
                    String::from_utf8(value).expect("utf-8"),
                );
            }
        }
        for (place, value) in &acknowledged {
            assert_eq!(
                stored.get(place),
                Some(value),
                "run {run}: acknowledged record at {place:?} lost or changed"
            );
        }
        client.close();
    }
    assert!(
        acknowledged.len() > 100,
        "too few acknowledgements to mean much: {}",
        acknowledged.len()
    );
}
