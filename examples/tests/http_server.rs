//! The HTTP server example answers real HTTP clients: Python's http.client (two
//! requests on one kept-alive connection) and urllib (`Connection: close`, and a
//! 20 kB POST body that reaches the server over several reads), curl when it is
//! installed, and raw TCP clients that split a request across writes or send
//! nonsense. The server is told how many responses to give and must exit 0 after
//! them, within a deadline; every check has a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

const PYTHON_CLIENTS: &str = r#"
import http.client, sys, urllib.request
url = sys.argv[1]
host, port = url[len("http://"):].rstrip("/").split(":")
connection = http.client.HTTPConnection(host, int(port), timeout=10)
connection.request("GET", "/one")
first = connection.getresponse().read().decode().strip()
socket = connection.sock
connection.request("GET", "/two")
second = connection.getresponse().read().decode().strip()
print(first)
print(second)
print("same connection" if connection.sock is socket else "new connection")
connection.close()
print(urllib.request.urlopen(url + "python", timeout=10).read().decode().strip())
post = urllib.request.Request(url + "form", data=b"x" * 20000, method="POST")
print(urllib.request.urlopen(post, timeout=10).read().decode().replace("\n", " ").strip())
"#;

fn curl_is_installed() -> bool {
    Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs a command to its end within the timeout; returns its standard output.
fn output_of(command: &mut Command) -> String {
    let output = command.output().expect("run the client");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("text")
}

/// Connects a raw TCP client, sends `parts` one write each, and reads the
/// response to EOF (the server closes).
fn raw_exchange(address: &str, parts: &[&[u8]]) -> String {
    let mut client = TcpStream::connect(address).unwrap();
    client.set_nodelay(true).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    for part in parts {
        client.write_all(part).unwrap();
        client.flush().unwrap();
    }
    let mut response = String::new();
    client
        .read_to_string(&mut response)
        .expect("the response and EOF");
    response
}

#[test]
fn http_server_answers_python_curl_and_raw_clients() {
    let curl = curl_is_installed();
    if !curl {
        eprintln!("curl is not installed: its part of this test does not run");
    }
    let responses = 6 + if curl { 2 } else { 0 };
    let mut server = Command::new(env!("CARGO_BIN_EXE_http_server"))
        .args(["--port", "0", "--requests", &responses.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example");
    // A watchdog kills the server if it outlives the deadline.
    let pid = server.id().to_string();
    let (finished, watched) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if watched.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            return true;
        }
        false
    });

    let mut first_line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line
        .trim()
        .strip_prefix("serving ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_owned();
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    let python = output_of(Command::new("python3").args(["-c", PYTHON_CLIENTS, &url]));
    let lines: Vec<&str> = python.lines().collect();
    assert_eq!(
        lines,
        [
            "Hello from a Sinew STREAM socket: GET /one",
            "Hello from a Sinew STREAM socket: GET /two",
            "same connection",
            "Hello from a Sinew STREAM socket: GET /python",
            "Hello from a Sinew STREAM socket: POST /form You sent 20000 bytes.",
        ],
        "{python}"
    );

    if curl {
        let both = output_of(Command::new("curl").args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            &format!("{url}curl-a"),
            &format!("{url}curl-b"),
        ]));
        assert_eq!(
            both,
            "Hello from a Sinew STREAM socket: GET /curl-a\nHello from a Sinew STREAM socket: GET /curl-b\n"
        );
    }

    let split = raw_exchange(
        &address,
        &[
            b"GET /sp",
            b"lit HTTP/1.1\r\nHost: x\r",
            b"\nConnection: clo",
            b"se\r\n\r",
            b"\n",
        ],
    );
    assert!(split.starts_with("HTTP/1.1 200 OK\r\n"), "{split}");
    assert!(split.contains("Connection: close\r\n"), "{split}");
    assert!(
        split.ends_with("\r\n\r\nHello from a Sinew STREAM socket: GET /split\n"),
        "{split}"
    );

    let refused = raw_exchange(&address, &[b"NONSENSE\r\n\r\n"]);
    assert!(
        refused.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{refused}"
    );

    let output = server.wait_with_output().expect("wait for the server");
    let _ = finished.send(());
    assert!(
        !watchdog.join().unwrap(),
        "the server did not finish in time"
    );
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the server failed: {errors}");
    assert!(
        errors.contains(&format!("served {responses} responses")),
        "{errors}"
    );
}
