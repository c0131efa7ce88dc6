//! The binary's life: `--help` lists every setting with its default, it starts on
//! any free port, refuses clearly (one line, exit 1) a port in use (NATS or the
//! native door's), a bad config or a data directory another broker holds, and on
//! SIGTERM or SIGINT flushes what is queued to its clients and exits 0.

mod util;

use std::io::Write;
use std::process::{Command, Stdio};
use util::{TIMEOUT, TempDir, client, expect_line, sinew_broker};

fn broker() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sinew-broker"))
}

/// Runs the broker to its end (within the deadline); returns (exit code, stderr).
fn run_to_end(command: &mut Command) -> (Option<i32>, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sinew-broker starts");
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            return (
                status.code(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            );
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("sinew-broker did not exit");
        }
        std::thread::park_timeout(std::time::Duration::from_millis(5));
    }
}

#[test]
fn help_lists_every_setting_with_its_default() {
    let output = broker().arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for setting in [
        "--nats",
        "--http",
        "--listen",
        "--kafka",
        "--kafka-advertised",
        "--data-dir",
        "--config",
        "--max-payload",
        "--max-control-line",
        "--max-connections",
        "--max-pending",
        "--ping-interval-ms",
        "--max-pings-out",
        "--token",
        "--user",
        "--password",
        "--log-level",
        "--idle-spin-us",
    ] {
        assert!(help.contains(setting), "{setting} missing from:\n{help}");
    }
    for default in [
        "127.0.0.1:4222",
        "127.0.0.1:8222",
        "tcp://127.0.0.1:7420",
        "./sinew-data",
        "1048576",
        "4096",
        "[default: 50]",
    ] {
        assert!(
            help.contains(default),
            "default {default} missing from:\n{help}"
        );
    }
}

#[test]
fn a_port_in_use_is_one_clear_line_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let data = TempDir::new("port");
    let (code, stderr) = run_to_end(
        broker()
            .args(["--nats", &address, "--http", "127.0.0.1:0", "--data-dir"])
            .arg(&data.0),
    );
    assert_eq!(code, Some(1), "{stderr}");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("sinew-broker: cannot listen on") && line.contains(&address),
        "{stderr}"
    );
}

#[test]
fn a_native_endpoint_in_use_is_one_clear_line_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", taken.local_addr().unwrap());
    let data = TempDir::new("native-port");
    let (code, stderr) = run_to_end(
        broker()
            .args(["--nats", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .args([
                "--listen",
                &endpoint,
                "--kafka",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&data.0),
    );
    assert_eq!(code, Some(1), "{stderr}");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("sinew-broker: cannot listen on") && line.contains(&endpoint),
        "{stderr}"
    );
}

#[test]
fn a_bad_config_is_one_clear_line_and_exit_1() {
    let data = TempDir::new("config");
    let file = data.0.join("broker.toml");
    std::fs::write(&file, "nats = \"127.0.0.1:0\"\n[limits]\nmax_paylod = 5\n").unwrap();
    let (code, stderr) = run_to_end(broker().arg("--config").arg(&file));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("max_paylod"),
        "names the bad setting: {stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn a_second_broker_on_the_same_data_directory_is_refused() {
    let first = sinew_broker(&[]);
    let data = first_data_dir(&first);
    let (code, stderr) = run_to_end(
        broker()
            .args([
                "--nats",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&data),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("another broker is using the data directory"),
        "{stderr}"
    );
}

/// The data directory the helper gave a running broker (its command line).
fn first_data_dir(server: &util::Server) -> std::path::PathBuf {
    let command = std::fs::read(format!("/proc/{}/cmdline", server.child.id())).unwrap();
    let arguments: Vec<&[u8]> = command.split(|byte| *byte == 0).collect();
    let index = arguments
        .iter()
        .position(|argument| *argument == b"--data-dir")
        .unwrap();
    std::path::PathBuf::from(String::from_utf8_lossy(arguments[index + 1]).into_owned())
}

#[test]
fn sigterm_and_sigint_flush_clients_and_exit_0() {
    for signal in ["-TERM", "-INT"] {
        let mut server = sinew_broker(&[]);
        let mut subscriber = client(server.nats, "{\"verbose\":false}");
        subscriber
            .get_mut()
            .write_all(b"SUB bye 1\r\nPING\r\n")
            .unwrap();
        expect_line(&mut subscriber, "PONG");
        let mut publisher = client(server.nats, "{\"verbose\":false}");
        publisher
            .get_mut()
            .write_all(b"PUB bye 4\r\nlast\r\nPING\r\n")
            .unwrap();
        expect_line(&mut publisher, "PONG");
        let killed = Command::new("kill")
            .args([signal, &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        // What was queued before the signal arrives, then the connection ends.
        expect_line(&mut subscriber, "MSG bye 1 4");
        expect_line(&mut subscriber, "last");
        let deadline = std::time::Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no exit after {signal}"
            );
            std::thread::park_timeout(std::time::Duration::from_millis(5));
        };
        assert_eq!(status.code(), Some(0), "{signal}");
    }
}
