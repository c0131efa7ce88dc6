//! The harness's output: progress lines, the Markdown table, the JSON object, and
//! BENCHMARKS.md with the machine, the command, the date, the chart and the gap to
//! each of issue 21's goals.
//!
//! Only figures measured in this run are written. When BENCHMARKS.md is
//! regenerated, its "## Profile" section (written by hand from callgrind runs) and
//! everything after it are kept as they are. This file must never measure.

use crate::measure::{Implementation, Runs, Summary, Transport, Workload};
use crate::{Floor, Results, Row};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// Where the kept, hand-written part of BENCHMARKS.md starts.
const PROFILE_HEADING: &str = "## Profile";

/// The chart's file name, beside the report.
const CHART_FILE: &str = "benchmarks-throughput.svg";

/// The machine and the circumstances of a run.
#[derive(Debug, Clone)]
pub struct Machine {
    pub processors: usize,
    pub model: String,
    pub kernel: String,
    pub load_before: String,
    pub load_after: String,
    pub date: String,
    pub rustc: String,
    pub libzmq: String,
    /// zmq.rs, when this build measures it.
    pub zmqrs: Option<String>,
    pub command: String,
}

impl Machine {
    /// Describes the machine now, at the start of the run.
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let (major, minor, patch) = zmq::version();
        let arguments: Vec<String> = std::env::args().skip(1).collect();
        Machine {
            processors: std::thread::available_parallelism().map_or(0, |count| count.get()),
            model,
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            load_before: load_average(),
            load_after: String::new(),
            date: command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            rustc: command_output("rustc", &["--version"]),
            libzmq: format!("{major}.{minor}.{patch} (the zmq crate's vendored source)"),
            zmqrs: Implementation::WITH_ZMQ_RS.then(|| {
                "the zeromq crate as locked in Cargo.lock, on a multi-threaded tokio runtime; \
                 no high-water-mark option, no inproc"
                    .to_owned()
            }),
            command: format!(
                "cargo run --release -p sinew-interop-tests{} --bin side_by_side -- {}",
                if Implementation::WITH_ZMQ_RS {
                    " --features zmq-rs"
                } else {
                    ""
                },
                arguments.join(" ")
            )
            .trim_end()
            .to_owned(),
        }
    }

    /// Records the load at the end of the run.
    pub fn finished(mut self) -> Machine {
        self.load_after = load_average();
        self
    }

    fn json(&self) -> Value {
        json!({
            "processors": self.processors,
            "model": self.model,
            "kernel": self.kernel,
            "load_before": self.load_before,
            "load_after": self.load_after,
            "date": self.date,
            "rustc": self.rustc,
            "libzmq": self.libzmq,
            "zmqrs": self.zmqrs,
            "command": self.command,
        })
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn load_average() -> String {
    read_trimmed("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn command_output(program: &str, arguments: &[&str]) -> String {
    std::process::Command::new(program)
        .args(arguments)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub fn size_label(size: usize) -> String {
    match size {
        size if size >= 1 << 20 && size % (1 << 20) == 0 => format!("{} MiB", size >> 20),
        size if size >= 1 << 10 && size % (1 << 10) == 0 => format!("{} KiB", size >> 10),
        size => format!("{size} B"),
    }
}

fn messages_label(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2} M msg/s", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} k msg/s", rate / 1e3)
    } else {
        format!("{rate:.0} msg/s")
    }
}

fn megabytes_label(megabytes: f64) -> String {
    if megabytes >= 1000.0 {
        format!("{:.2} GB/s", megabytes / 1000.0)
    } else if megabytes >= 10.0 {
        format!("{megabytes:.0} MB/s")
    } else {
        format!("{megabytes:.2} MB/s")
    }
}

fn percent(spread: f64) -> String {
    format!("{:.0}%", spread * 100.0)
}

/// Megabytes of payload per second for a message rate.
pub fn megabytes(rate: f64, size: usize) -> f64 {
    rate * size as f64 / 1e6
}

fn throughput_cell(runs: &Runs, size: usize) -> String {
    let rate = runs.messages_per_second().median;
    format!(
        "{}, {}",
        messages_label(rate),
        megabytes_label(megabytes(rate, size))
    )
}

fn latency_cell(runs: &Runs) -> String {
    format!(
        "p50 {:.0} / p99 {:.0} / p99.9 {:.0} us",
        runs.microseconds(|latencies| latencies.p50).median,
        runs.microseconds(|latencies| latencies.p99).median,
        runs.microseconds(|latencies| latencies.p999).median
    )
}

/// The figure a row is judged by, and its spread: messages per second, or p50.
fn headline(row: &Row, implementation: Implementation) -> Summary {
    let runs = row.runs(implementation);
    match row.workload {
        Workload::Throughput => runs.messages_per_second(),
        Workload::Latency => runs.microseconds(|latencies| latencies.p50),
    }
}

fn ratio(row: &Row) -> f64 {
    let libzmq = headline(row, Implementation::Libzmq).median;
    if libzmq > 0.0 {
        headline(row, Implementation::Sinew).median / libzmq
    } else {
        0.0
    }
}

/// One implementation's figures on a row, or "-" where it was not measured.
fn cell(row: &Row, implementation: Implementation) -> String {
    let runs = row.runs(implementation);
    match row.workload {
        Workload::Throughput if !runs.throughput.is_empty() => throughput_cell(runs, row.size),
        Workload::Latency if !runs.latency.is_empty() => latency_cell(runs),
        _ => "-".to_owned(),
    }
}

/// Whether any row measured zmq.rs.
fn has_zmqrs(results: &Results) -> bool {
    results
        .rows
        .iter()
        .any(|row| !row.zmqrs.throughput.is_empty() || !row.zmqrs.latency.is_empty())
}

/// One line on stderr as each row finishes.
pub fn row_line(row: &Row) -> String {
    let zmqrs = cell(row, Implementation::ZmqRs);
    format!(
        "{} {} {}: sinew {} | libzmq {} |{} ratio {:.2}",
        row.workload.name(),
        row.transport.name(),
        size_label(row.size),
        cell(row, Implementation::Sinew),
        cell(row, Implementation::Libzmq),
        if zmqrs == "-" {
            String::new()
        } else {
            format!(" zmq.rs {zmqrs} |")
        },
        ratio(row)
    )
}

fn floor_cells(floor: &Floor) -> (String, String, String) {
    let bandwidth = Summary::of(&floor.bandwidth);
    let p50 = floor.ping_pong.microseconds(|latencies| latencies.p50);
    let p99 = floor.ping_pong.microseconds(|latencies| latencies.p99);
    (
        megabytes_label(bandwidth.median / 1e6),
        format!("p50 {:.0} / p99 {:.0} us", p50.median, p99.median),
        format!("{} / {}", percent(bandwidth.spread), percent(p50.spread)),
    )
}

/// One line on stderr when a floor is measured.
pub fn floor_line(floor: &Floor) -> String {
    let (bandwidth, ping_pong, _) = floor_cells(floor);
    format!(
        "raw {}: bandwidth {bandwidth}, 1-byte ping-pong {ping_pong}",
        raw_name(floor.transport)
    )
}

fn raw_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Tcp => "TCP",
        Transport::Ipc => "Unix socket",
        Transport::Inproc => "inproc",
    }
}

/// The main table and the floor table, in Markdown.
pub fn markdown_table(results: &Results) -> String {
    let with_zmqrs = has_zmqrs(results);
    let mut text = String::new();
    if with_zmqrs {
        text.push_str("| transport | size | workload | Sinew | libzmq | zmq.rs | Sinew/libzmq | Sinew/zmq.rs | Sinew/raw | spread Sinew / libzmq / zmq.rs |\n");
        text.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    } else {
        text.push_str(
            "| transport | size | workload | Sinew | libzmq | Sinew/libzmq | Sinew/raw | spread Sinew / libzmq |\n",
        );
        text.push_str("|---|---|---|---|---|---|---|---|\n");
    }
    for row in &results.rows {
        let workload = match row.workload {
            Workload::Throughput => "PUSH/PULL thr",
            Workload::Latency => "REQ/REP lat",
        };
        let spread = |implementation| {
            if cell(row, implementation) == "-" {
                "-".to_owned()
            } else {
                percent(headline(row, implementation).spread)
            }
        };
        let (zmqrs, zmqrs_ratio, zmqrs_spread) = if with_zmqrs {
            (
                format!(" {} |", cell(row, Implementation::ZmqRs)),
                format!(
                    " {} |",
                    zmqrs_ratio(row).map_or("-".to_owned(), |ratio| format!("{ratio:.2}x"))
                ),
                format!(" / {}", spread(Implementation::ZmqRs)),
            )
        } else {
            (String::new(), String::new(), String::new())
        };
        let _ = writeln!(
            text,
            "| {} | {} | {workload} | {} | {} |{zmqrs} {:.2}x |{zmqrs_ratio} {} | {} / {}{zmqrs_spread} |",
            row.transport.name(),
            size_label(row.size),
            cell(row, Implementation::Sinew),
            cell(row, Implementation::Libzmq),
            ratio(row),
            raw_ratio_cell(results, row),
            spread(Implementation::Sinew),
            spread(Implementation::Libzmq),
        );
    }
    if !results.floors.is_empty() {
        text.push_str("\n| raw floor | bandwidth (1 MiB blocking writes) | 1-byte blocking ping-pong | spread bandwidth / p50 |\n");
        text.push_str("|---|---|---|---|\n");
        for floor in &results.floors {
            let (bandwidth, ping_pong, spread) = floor_cells(floor);
            let _ = writeln!(
                text,
                "| {} | {bandwidth} | {ping_pong} | {spread} |",
                raw_name(floor.transport)
            );
        }
    }
    text
}

/// Everything, as one JSON object.
pub fn json(results: &Results, machine: &Machine) -> Value {
    let runs_json = |runs: &Runs, workload: Workload, size: usize| match workload {
        Workload::Throughput => {
            let rate = runs.messages_per_second();
            json!({
                "msgs_per_sec": rate.json(),
                "mb_per_sec": megabytes(rate.median, size),
                "runs": runs.throughput,
            })
        }
        Workload::Latency => json!({
            "p50_us": runs.microseconds(|latencies| latencies.p50).json(),
            "p99_us": runs.microseconds(|latencies| latencies.p99).json(),
            "p999_us": runs.microseconds(|latencies| latencies.p999).json(),
            "mean_us": runs.microseconds(|latencies| latencies.mean).json(),
        }),
    };
    let rows: Vec<Value> = results
        .rows
        .iter()
        .map(|row| {
            json!({
                "transport": row.transport.name(),
                "size": row.size,
                "workload": row.workload.name(),
                "sinew": runs_json(&row.sinew, row.workload, row.size),
                "libzmq": runs_json(&row.libzmq, row.workload, row.size),
                "zmqrs": if cell(row, Implementation::ZmqRs) == "-" {
                    Value::Null
                } else {
                    runs_json(&row.zmqrs, row.workload, row.size)
                },
                "ratio": ratio(row),
            })
        })
        .collect();
    let floors: Vec<Value> = results
        .floors
        .iter()
        .map(|floor| {
            json!({
                "transport": floor.transport.name(),
                "bandwidth_mb_per_sec": Summary::of(&floor.bandwidth.iter().map(|rate| rate / 1e6).collect::<Vec<_>>()).json(),
                "ping_pong": runs_json(&floor.ping_pong, Workload::Latency, 1),
            })
        })
        .collect();
    json!({
        "machine": machine.json(),
        "quick": results.quick,
        "runs": results.runs,
        "rows": rows,
        "floors": floors,
        "targets": targets(results).iter().map(Target::json).collect::<Vec<_>>(),
    })
}

/// One of issue 21's goals, judged on this run's figures.
#[derive(Debug)]
struct Target {
    workload: String,
    goal: String,
    sinew: String,
    reference: String,
    /// How many times better Sinew must get to meet it (at most 1: met).
    needed: Option<f64>,
}

impl Target {
    fn verdict(&self) -> String {
        match self.needed {
            None => "not measured".to_owned(),
            Some(needed) if needed <= 1.0 => "met".to_owned(),
            // Two decimals would show a miss by under half a percent as "1.00x".
            Some(needed) if needed < 1.01 => format!("not met: needs {needed:.3}x"),
            Some(needed) => format!("not met: needs {needed:.2}x"),
        }
    }

    fn json(&self) -> Value {
        json!({
            "workload": self.workload,
            "goal": self.goal,
            "sinew": self.sinew,
            "reference": self.reference,
            "needed_factor": self.needed,
            "met": self.needed.map(|needed| needed <= 1.0),
        })
    }
}

fn raw_bandwidth(results: &Results, transport: Transport) -> Option<f64> {
    results
        .floors
        .iter()
        .find(|floor| floor.transport == transport)
        .map(|floor| Summary::of(&floor.bandwidth).median / 1e6)
}

fn raw_p50(results: &Results, transport: Transport) -> Option<f64> {
    results
        .floors
        .iter()
        .find(|floor| floor.transport == transport)
        .map(|floor| {
            floor
                .ping_pong
                .microseconds(|latencies| latencies.p50)
                .median
        })
}

/// The best rate another implementation reached on a throughput row: libzmq's,
/// or zmq.rs's where it was measured and is higher.
fn best_other_rate(row: &Row) -> f64 {
    let libzmq = row.libzmq.messages_per_second().median;
    if row.zmqrs.throughput.is_empty() {
        libzmq
    } else {
        libzmq.max(row.zmqrs.messages_per_second().median)
    }
}

/// A row's ratio to zmq.rs (as `ratio` is to libzmq), if zmq.rs was measured.
fn zmqrs_ratio(row: &Row) -> Option<f64> {
    let zmqrs = headline(row, Implementation::ZmqRs).median;
    (cell(row, Implementation::ZmqRs) != "-" && zmqrs > 0.0)
        .then(|| headline(row, Implementation::Sinew).median / zmqrs)
}

/// Sinew against the raw floor of the same transport: its share of the raw
/// bandwidth on a throughput row, its p50 over the raw ping-pong's on a latency
/// row.
fn raw_ratio_cell(results: &Results, row: &Row) -> String {
    match row.workload {
        Workload::Throughput => raw_bandwidth(results, row.transport)
            .filter(|raw| *raw > 0.0)
            .map_or("-".to_owned(), |raw| {
                let share =
                    100.0 * megabytes(row.sinew.messages_per_second().median, row.size) / raw;
                if share < 10.0 {
                    format!("{share:.1}%")
                } else {
                    format!("{share:.0}%")
                }
            }),
        // The raw ping-pong moves one byte: only the 1-byte round trip compares.
        Workload::Latency if row.size != 1 => "-".to_owned(),
        Workload::Latency => raw_p50(results, row.transport)
            .filter(|raw| *raw > 0.0)
            .map_or("-".to_owned(), |raw| {
                let p50 = row.sinew.microseconds(|latencies| latencies.p50).median;
                format!("{:.2}x", p50 / raw)
            }),
    }
}

/// Issue 21's goals, judged on this run: every throughput row at least 1.2x the
/// best of libzmq and zmq.rs; the bandwidth rows (64 KiB and 1 MiB over tcp and
/// ipc) at least 80% of the raw floor; every round trip's p99 below libzmq's,
/// the 1-byte round trips' p50 at most 1.2x the raw ping-pong, and the 1 MiB
/// round trips' p50 no slower than libzmq's.
fn targets(results: &Results) -> Vec<Target> {
    let mut targets = Vec::new();
    for row in results
        .rows
        .iter()
        .filter(|row| row.workload == Workload::Throughput)
    {
        let sinew = row.sinew.messages_per_second().median;
        let libzmq = row.libzmq.messages_per_second().median;
        let zmqrs = if row.zmqrs.throughput.is_empty() {
            String::new()
        } else {
            format!(
                "; zmq.rs {}",
                messages_label(row.zmqrs.messages_per_second().median)
            )
        };
        let name = format!(
            "PUSH/PULL {} {}",
            row.transport.name(),
            size_label(row.size)
        );
        targets.push(Target {
            workload: name.clone(),
            goal: "at least 1.2x the best of libzmq and zmq.rs".to_owned(),
            sinew: messages_label(sinew),
            reference: format!("libzmq {}{zmqrs}", messages_label(libzmq)),
            needed: (sinew > 0.0).then(|| 1.2 * best_other_rate(row) / sinew),
        });
        if row.transport != Transport::Inproc && row.size >= 64 * 1024 {
            let sinew = megabytes(sinew, row.size);
            let raw = raw_bandwidth(results, row.transport);
            targets.push(Target {
                workload: name,
                goal: format!("at least 80% of raw {}", raw_name(row.transport)),
                sinew: megabytes_label(sinew),
                reference: format!(
                    "raw {} {}",
                    raw_name(row.transport),
                    raw.map_or("not measured".to_owned(), megabytes_label)
                ),
                needed: raw.filter(|_| sinew > 0.0).map(|raw| 0.8 * raw / sinew),
            });
        }
    }
    for row in results
        .rows
        .iter()
        .filter(|row| row.workload == Workload::Latency)
    {
        let figure = |runs: &Runs, pick: fn(&crate::measure::Latencies) -> std::time::Duration| {
            runs.microseconds(pick).median
        };
        let p50 = figure(&row.sinew, |latencies| latencies.p50);
        let p99 = figure(&row.sinew, |latencies| latencies.p99);
        let libzmq_p50 = figure(&row.libzmq, |latencies| latencies.p50);
        let libzmq_p99 = figure(&row.libzmq, |latencies| latencies.p99);
        // p99 must be strictly below libzmq's.
        let mut needed = if p99 < libzmq_p99 {
            p99 / libzmq_p99
        } else {
            (p99 / libzmq_p99).max(1.0 + 1e-9)
        };
        let mut goals = vec!["p99 below libzmq's".to_owned()];
        let raw = raw_p50(results, row.transport);
        if row.size == 1 && row.transport != Transport::Inproc {
            goals.push("p50 at most 1.2x the raw ping-pong".to_owned());
            needed = needed.max(raw.map_or(f64::INFINITY, |raw| p50 / (1.2 * raw)));
        }
        if row.size == 1 << 20 && row.transport != Transport::Inproc {
            goals.push("p50 no slower than libzmq's".to_owned());
            needed = needed.max(p50 / libzmq_p50);
        }
        let zmqrs = if row.zmqrs.latency.is_empty() {
            String::new()
        } else {
            format!(
                "; zmq.rs p50 {:.0} / p99 {:.0} us",
                figure(&row.zmqrs, |latencies| latencies.p50),
                figure(&row.zmqrs, |latencies| latencies.p99)
            )
        };
        targets.push(Target {
            workload: format!(
                "REQ/REP round trip {} {}",
                row.transport.name(),
                size_label(row.size)
            ),
            goal: goals.join(", "),
            sinew: format!("p50 {p50:.0} us, p99 {p99:.0} us"),
            reference: format!(
                "libzmq p50 {libzmq_p50:.0} / p99 {libzmq_p99:.0} us{zmqrs}{}",
                raw.map_or(String::new(), |raw| format!("; raw p50 {raw:.0} us"))
            ),
            needed: (p50 > 0.0 && libzmq_p99 > 0.0 && libzmq_p50 > 0.0).then_some(needed),
        });
    }
    targets
}

fn targets_table(results: &Results) -> String {
    let mut text = String::from(
        "| workload | target | Sinew (this run) | reference (this run) | verdict |\n|---|---|---|---|---|\n",
    );
    for target in targets(results) {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} |",
            target.workload,
            target.goal,
            target.sinew,
            target.reference,
            target.verdict()
        );
    }
    text
}

/// Writes BENCHMARKS.md (keeping its profile section) and the chart beside it.
pub fn write_markdown(path: &Path, results: &Results, machine: &Machine) -> Result<(), String> {
    let chart_path = path.with_file_name(CHART_FILE);
    let svg = crate::chart::draw(results)?;
    std::fs::write(&chart_path, svg)
        .map_err(|error| format!("cannot write {}: {error}", chart_path.display()))?;
    let kept = std::fs::read_to_string(path)
        .ok()
        .and_then(|old| {
            old.find(PROFILE_HEADING)
                .map(|start| old[start..].to_owned())
        })
        .unwrap_or_else(|| format!("{PROFILE_HEADING}\n\nNot written yet.\n"));
    let mut text = String::new();
    let _ = write!(
        text,
        "# Benchmarks\n\n\
         Sinew, libzmq and the physical floor, measured side by side in one run by\n\
         `interop-tests/src/bin/side_by_side/`. Everything above the profile section is\n\
         generated: rerun the command below to refresh it (the profile section is kept).\n\n\
         ## The run\n\n\
         - command: `{command}`\n\
         - date: {date}\n\
         - machine: {processors} processors ({model}), Linux {kernel}; load average {load_before} before and {load_after} after the run (other engineers' builds share this machine)\n\
         - toolchain: {rustc}; release profile (thin LTO, one codegen unit)\n\
         - libzmq: {libzmq}\n\
         - zmq.rs: {zmqrs}\n\
         - runs: {runs} per implementation and row, the implementations taking turns to go first; each figure is the median, and \"spread\" is (max - min) / median over the runs{quick}\n\n",
        command = machine.command,
        date = machine.date,
        processors = machine.processors,
        model = machine.model,
        kernel = machine.kernel,
        load_before = machine.load_before,
        load_after = machine.load_after,
        rustc = machine.rustc,
        libzmq = machine.libzmq,
        zmqrs = machine
            .zmqrs
            .as_deref()
            .unwrap_or("not measured (build with --features zmq-rs)"),
        runs = results.runs,
        quick = if results.quick {
            " (a --quick run: smoke-test counts, not a measurement)"
        } else {
            ""
        },
    );
    text.push_str(
        "How each figure is defined (as `sinew bench` and libzmq's perf tools define them):\n\n\
         - throughput: a PUSH sender and a PULL receiver; messages per second = (count - 1) / (time of the last receive - time of the first receive), at the receiver; MB/s = that x size / 10^6 (megabytes of payload). Sinew sends clones of one `Bytes` payload (its zero-copy idiom); libzmq sends messages made with zmq_msg_init_size and left unfilled, as remote_thr does.\n\
         - latency: REQ/REP, each round trip timed whole (not halved as libzmq's tool does), after the warm-up round trips (1000).\n\
         - high-water mark 1000 at both ends; for tcp and ipc the other end is a second process (this binary re-executed), for inproc a thread in the same context.\n\
         - Sinew/libzmq and Sinew/zmq.rs: for throughput, Sinew's rate over the other's (above 1: Sinew is faster); for latency, Sinew's p50 over the other's (below 1: Sinew is faster).\n\
         - Sinew/raw: for throughput, Sinew's payload bandwidth as a share of the raw floor's bandwidth on the same transport; for the 1-byte round trip, Sinew's p50 over the raw 1-byte ping-pong's p50 (inproc has no floor).\n\
         - raw floor: blocking `std` sockets, 1 MiB writes for bandwidth (measured from the reader's first read to its last), and a 1-byte write/read ping-pong with TCP_NODELAY.\n\n\
         ## Results\n\n",
    );
    text.push_str(&markdown_table(results));
    let _ = write!(
        text,
        "\n![Throughput against message size: Sinew, libzmq and the raw floor]({CHART_FILE})\n\n\
         ## Issue 21's goals, judged on this run\n\n\
         \"needs Nx\" is how many times better Sinew's figure must get to meet the goal. zmq.rs is part of \"the best of\" only when this build measures it (`--features zmq-rs`); it has no inproc.\n\n"
    );
    text.push_str(&targets_table(results));
    text.push('\n');
    text.push_str(&kept);
    std::fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))
}
