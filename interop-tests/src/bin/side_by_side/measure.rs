//! What the harness measures and how it sums up runs: the matrix's axes, one run's
//! figure, and the median and spread over runs.
//!
//! The definitions match `sinew bench` and libzmq's perf tools: throughput is
//! (count - 1) / (last receive - first receive) at the receiver; a latency is one
//! whole round trip, after the warm-up round trips. This file must never time
//! anything itself: it only defines and summarises.

use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A transport of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Ipc,
    Inproc,
}

impl Transport {
    pub const ALL: [Transport; 3] = [Transport::Tcp, Transport::Ipc, Transport::Inproc];

    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ipc => "ipc",
            Transport::Inproc => "inproc",
        }
    }

    /// Removes what binding `endpoint` left on disk (an ipc socket file).
    pub fn clean_up(endpoint: &str) {
        if let Some(path) = endpoint.strip_prefix("ipc://") {
            let _ = std::fs::remove_file(path);
        }
    }

    pub fn parse(name: &str) -> Option<Transport> {
        Transport::ALL
            .into_iter()
            .find(|transport| transport.name() == name)
    }

    /// An endpoint to bind, unique to this process and call; tcp uses a wildcard
    /// port, so the bound endpoint must be asked for after binding.
    pub fn bind_endpoint(self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let unique = format!(
            "sinew-side-by-side-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        match self {
            Transport::Tcp => "tcp://127.0.0.1:*".to_owned(),
            Transport::Ipc => format!(
                "ipc://{}",
                std::env::temp_dir().join(format!("{unique}.ipc")).display()
            ),
            Transport::Inproc => format!("inproc://{unique}"),
        }
    }
}

/// The implementation being measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    Sinew,
    Libzmq,
    /// zmq.rs (the `zeromq` crate), only with the `zmq-rs` feature.
    ZmqRs,
}

impl Implementation {
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Sinew => "sinew",
            Implementation::Libzmq => "libzmq",
            Implementation::ZmqRs => "zmq.rs",
        }
    }

    pub fn parse(name: &str) -> Option<Implementation> {
        [
            Implementation::Sinew,
            Implementation::Libzmq,
            Implementation::ZmqRs,
        ]
        .into_iter()
        .find(|implementation| implementation.name() == name)
    }

    /// Whether this build measures zmq.rs.
    pub const WITH_ZMQ_RS: bool = cfg!(feature = "zmq-rs");

    /// The implementations measured over `transport`, in the order of the first run.
    pub fn measured_over(transport: Transport) -> Vec<Implementation> {
        let mut implementations = vec![Implementation::Sinew, Implementation::Libzmq];
        if Implementation::WITH_ZMQ_RS && transport != Transport::Inproc {
            implementations.push(Implementation::ZmqRs);
        }
        implementations
    }
}

/// Throughput (PUSH to PULL) or latency (REQ/REP round trips).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Throughput,
    Latency,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Throughput => "thr",
            Workload::Latency => "lat",
        }
    }
}

/// The end a child process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// PUSH: sends `count` messages.
    Send,
    /// REP: answers warm-up + `count` requests.
    Serve,
}

impl End {
    pub fn name(self) -> &'static str {
        match self {
            End::Send => "send",
            End::Serve => "serve",
        }
    }

    pub fn parse(name: &str) -> Option<End> {
        [End::Send, End::Serve]
            .into_iter()
            .find(|end| end.name() == name)
    }
}

/// How many messages or round trips one run makes.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub messages: u64,
    pub round_trips: u64,
    pub warm_up: u64,
}

impl Counts {
    /// Enough work for a run of roughly a second at today's speeds; `quick` divides
    /// it for smoke tests. Over inproc no payload is copied, so large messages cost
    /// what small ones do and need as many, far more than the 2000 the two marks
    /// can queue before the receiver starts.
    pub fn for_size(size: usize, transport: Transport, quick: bool) -> Counts {
        let (mut messages, round_trips) = match size {
            0..=64 => (2_000_000, 10_000),
            65..=1024 => (500_000, 10_000),
            1025..=65536 => (20_000, 5_000),
            _ => (1_500, 500),
        };
        if transport == Transport::Inproc {
            messages = messages.max(300_000);
        }
        if quick {
            Counts {
                messages: (messages / 200).max(50),
                round_trips: (round_trips / 50).max(20),
                warm_up: 50,
            }
        } else {
            Counts {
                messages,
                round_trips,
                warm_up: 1000,
            }
        }
    }
}

/// Round-trip figures of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latencies {
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub mean: Duration,
}

impl Latencies {
    /// Sums up round-trip samples (sorted here).
    pub fn from_samples(mut samples: Vec<Duration>) -> Latencies {
        samples.sort_unstable();
        let total: Duration = samples.iter().sum();
        Latencies {
            p50: percentile(&samples, 0.50),
            p99: percentile(&samples, 0.99),
            p999: percentile(&samples, 0.999),
            mean: total / u32::try_from(samples.len()).unwrap_or(u32::MAX).max(1),
        }
    }
}

/// The nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// The median of several runs and how far apart the runs were.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub median: f64,
    /// (max - min) / median over the runs: 0 for one run.
    pub spread: f64,
    pub runs: usize,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = match sorted.len() {
            0 => 0.0,
            length if length % 2 == 1 => sorted[length / 2],
            length => (sorted[length / 2 - 1] + sorted[length / 2]) / 2.0,
        };
        let spread = match (sorted.first(), sorted.last()) {
            (Some(low), Some(high)) if median > 0.0 => (high - low) / median,
            _ => 0.0,
        };
        Summary {
            median,
            spread,
            runs: values.len(),
        }
    }

    pub fn json(&self) -> Value {
        json!({"median": self.median, "spread": self.spread, "runs": self.runs})
    }
}

/// Several runs of one implementation on one row of the matrix.
#[derive(Debug, Clone, Default)]
pub struct Runs {
    /// Messages per second (throughput rows).
    pub throughput: Vec<f64>,
    /// One set of latencies per run (latency rows).
    pub latency: Vec<Latencies>,
}

impl Runs {
    pub fn messages_per_second(&self) -> Summary {
        Summary::of(&self.throughput)
    }

    /// Median over runs of one latency figure, in microseconds.
    pub fn microseconds(&self, pick: impl Fn(&Latencies) -> Duration) -> Summary {
        let values: Vec<f64> = self
            .latency
            .iter()
            .map(|latencies| pick(latencies).as_secs_f64() * 1e6)
            .collect();
        Summary::of(&values)
    }
}

/// Messages per second: `receive` is called `count` times and the clock starts
/// after the first message, so connecting is not measured.
pub fn receive_rate(
    count: u64,
    mut receive: impl FnMut() -> Result<(), String>,
) -> Result<f64, String> {
    receive()?;
    let start = Instant::now();
    for _ in 1..count {
        receive()?;
    }
    Ok((count - 1) as f64 / start.elapsed().as_secs_f64())
}

/// Round-trip times: `round_trip` runs the warm-up and then the measured ones.
pub fn round_trip_times(
    counts: Counts,
    mut round_trip: impl FnMut() -> Result<(), String>,
) -> Result<Latencies, String> {
    let mut samples = Vec::with_capacity(usize::try_from(counts.round_trips).unwrap_or(0));
    for index in 0..counts.warm_up + counts.round_trips {
        let start = Instant::now();
        round_trip()?;
        if index >= counts.warm_up {
            samples.push(start.elapsed());
        }
    }
    Ok(Latencies::from_samples(samples))
}
