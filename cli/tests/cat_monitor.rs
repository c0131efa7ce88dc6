//! `sinew cat --monitor` prints each monitor event on stderr as it happens, one
//! line each: the libzmq event name without ZMQ_EVENT_, the endpoint, any
//! detail. The test reads the LISTENING line to learn the port, connects a
//! Sinew PUSH, and checks the lines that follow.

use sinew::{Context, SocketType};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn cat_monitor_prints_each_event_as_it_happens() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sinew"))
        .args(["cat", "pull", "--bind", "tcp://127.0.0.1:0", "--count", "1"])
        .args(["--timeout", "10000", "--monitor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sinew runs");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening = lines.next().expect("a first line").unwrap();
    let fields: Vec<&str> = listening.split(' ').collect();
    assert_eq!(fields[0], "LISTENING", "{listening}");
    assert!(fields[1].starts_with("tcp://127.0.0.1:"), "{listening}");
    assert_eq!(fields[2], "fd", "{listening}");
    let endpoint = fields[1].to_owned();

    let context = Context::new();
    let push = context.socket(SocketType::Push).unwrap();
    push.connect(&endpoint).unwrap();
    push.send("hello").unwrap();

    let rest: Vec<String> = lines.map(|line| line.unwrap()).collect();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "hello");
    let names: Vec<&str> = rest
        .iter()
        .map(|line| line.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "CLOSED",
            "MONITOR_STOPPED"
        ],
        "{rest:#?}"
    );
    assert!(
        rest[0].starts_with(&format!("ACCEPTED {endpoint} fd ")),
        "{}",
        rest[0]
    );
    assert_eq!(rest[3], "MONITOR_STOPPED");
}
