//! CURVE against libzmq: `sinew keygen`'s key pairs, checked by this crate and by
//! pyzmq's `zmq.curve_public`, and sinew's sans-IO CURVE connection driven over a
//! real TCP socket against libzmq 4.3.5 (bundled by pyzmq) in both roles (the
//! sockets' own CURVE is tested in interop-tests/tests/security.rs and
//! cat_security.rs). Refusals are waited for on libzmq's monitor, never as a
//! silence.
//!
//! pyzmq is installed by the README's test command (`interop-tests/requirements.txt`).
//! A missing interpreter or module fails these tests; they are never skipped.

use sinew::Message;
use sinew::curve::{KeyPair, PublicKey, SecretKey};
use sinew::zmtp::{Config, Connection, Event, ProtocolError, Security, SocketType};
use std::io::{BufRead, BufReader, ErrorKind, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A libzmq PAIR socket in either CURVE role: it receives a multipart message,
/// echoes it with a 1 MiB frame added, receives one message and reports its size.
/// "refusing" is a server whose ZAP handler (pyzmq's ThreadAuthenticator) knows no
/// client key; "refused" a client given the wrong server key.
const LIBZMQ_PEER: &str = r#"
import sys, tempfile, zmq, zmq.auth.thread
from zmq.utils.monitor import recv_monitor_message
role, public, secret, server_key, port = sys.argv[1:6]
context = zmq.Context()
if role == "refusing":
    # A ZAP handler that knows no client key: every client gets a 400.
    authenticator = zmq.auth.thread.ThreadAuthenticator(context)
    authenticator.start()
    authenticator.configure_curve(domain="*", location=tempfile.mkdtemp())
socket = context.socket(zmq.PAIR)
socket.linger = 1000
socket.rcvtimeo = 10000
socket.curve_secretkey = secret.encode()
socket.curve_publickey = public.encode()
monitor = socket.get_monitor_socket() if role.startswith("refus") else None
if role in ("server", "refusing"):
    socket.curve_server = True
    print(socket.bind_to_random_port("tcp://127.0.0.1"), flush=True)
else:
    socket.curve_serverkey = server_key.encode()
    socket.connect("tcp://127.0.0.1:" + port)
if role in ("refused", "refusing"):
    # The connection's end, as this side's monitor reports it: a refusal, or
    # (for the client) the server closing on it; never a completed handshake.
    ends = (zmq.EVENT_HANDSHAKE_FAILED_AUTH, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
            zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_DISCONNECTED)
    while True:
        event = recv_monitor_message(monitor)["event"]
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            sys.exit("a peer that should be refused got through")
        if event in ends:
            break
    print("ok", flush=True)
    if role == "refusing":
        authenticator.stop()
    sys.exit(0)
parts = socket.recv_multipart()
socket.send_multipart(parts + [b"z" * (1 << 20)])
large = socket.recv()
socket.send(b"got %d" % len(large))
print("ok", flush=True)
"#;

/// Starts `LIBZMQ_PEER` in `role` ("server", "client", "refusing" or "refused")
/// with our
/// key pair `ours`, the server's key and the port to connect to (clients).
fn libzmq(role: &str, ours: &KeyPair, server_key: &PublicKey, port: u16) -> Child {
    Command::new("python3")
        .args(["-c", LIBZMQ_PEER, role])
        .arg(ours.public().to_string())
        .arg(ours.secret().to_z85().as_str())
        .arg(server_key.to_string())
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (install it and `pip install -r interop-tests/requirements.txt`)")
}

/// The port a libzmq server printed.
fn read_port(child: &mut Child) -> u16 {
    let mut port = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut port)
        .unwrap();
    port.trim()
        .parse()
        .expect("libzmq's server printed its port")
}

fn finish(child: Child) {
    let output = child.wait_with_output().expect("python3 finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "libzmq's side failed:\n{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("ok"),
        "libzmq's side did not finish:\n{stderr}"
    );
}

/// One sinew connection over a blocking TCP stream.
struct Link {
    stream: TcpStream,
    connection: Connection,
    events: Vec<Event>,
}

impl Link {
    fn new(stream: TcpStream, security: Security) -> Link {
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let mut config = Config::new(SocketType::Pair);
        config.security = security;
        Link {
            stream,
            connection: Connection::new(config, Instant::now()),
            events: Vec::new(),
        }
    }

    fn flush(&mut self) {
        loop {
            let mut slices = [IoSlice::new(&[]); 16];
            let count = self.connection.io_slices(&mut slices);
            if count == 0 {
                return;
            }
            let written = self.stream.write_vectored(&slices[..count]).unwrap();
            self.connection.handle_written(written);
        }
    }

    /// Writes what is pending, reads what arrived, and collects the events;
    /// false once libzmq has closed the connection.
    fn step(&mut self) -> Result<bool, ProtocolError> {
        self.flush();
        let now = Instant::now();
        let buffer = self.connection.read_buffer()?;
        match self.stream.read(buffer) {
            Ok(0) => return Ok(false),
            Ok(count) => self.connection.handle_read(count, now)?,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) => panic!("read failed: {error}"),
        }
        while let Some(event) = self.connection.poll_event(now)? {
            self.events.push(event);
        }
        self.flush();
        Ok(true)
    }

    fn next_event(&mut self) -> Result<Event, ProtocolError> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.events.is_empty() {
            assert!(Instant::now() < deadline, "libzmq went quiet");
            assert!(self.step()?, "libzmq closed the connection");
        }
        Ok(self.events.remove(0))
    }

    fn next_message(&mut self) -> Message {
        match self.next_event().unwrap() {
            Event::Message(message) => message,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The exchange `LIBZMQ_PEER` expects, from sinew's side.
fn exchange(link: &mut Link) {
    let Event::Ready(peer) = link.next_event().unwrap() else {
        panic!("the handshake did not complete");
    };
    assert_eq!(peer.socket_type, SocketType::Pair);
    let multipart = Message::from_frames(["hello", "", "libzmq"]);
    link.connection.send_message(&multipart).unwrap();
    let echo = link.next_message();
    assert_eq!(echo.len(), 4);
    assert_eq!(&echo.frames()[..3], multipart.frames());
    assert_eq!(echo.frames()[3], vec![b'z'; 1 << 20]);
    link.connection
        .send_message(&Message::from(vec![7u8; 1 << 20]))
        .unwrap();
    assert_eq!(link.next_message(), Message::from("got 1048576"));
}

#[test]
fn a_sinew_client_and_a_libzmq_server_speak_curve() {
    let server = KeyPair::generate().unwrap();
    let client = KeyPair::generate().unwrap();
    let mut child = libzmq("server", &server, server.public(), 0);
    let port = read_port(&mut child);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut link = Link::new(stream, Security::curve_client(client, *server.public()));
    exchange(&mut link);
    finish(child);
}

#[test]
fn a_libzmq_client_and_a_sinew_server_speak_curve() {
    let server = KeyPair::generate().unwrap();
    let client = KeyPair::generate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = libzmq("client", &client, server.public(), port);
    let (stream, _) = listener.accept().unwrap();
    let mut link = Link::new(stream, Security::curve_server(server, false));
    exchange(&mut link);
    finish(child);
}

#[test]
fn a_libzmq_server_closes_on_a_sinew_client_with_the_wrong_server_key() {
    let server = KeyPair::generate().unwrap();
    let someone_else = KeyPair::generate().unwrap();
    let mut child = libzmq("refusing", &server, server.public(), 0);
    let port = read_port(&mut child);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let security = Security::curve_client(KeyPair::generate().unwrap(), *someone_else.public());
    let mut link = Link::new(stream, security);
    let deadline = Instant::now() + Duration::from_secs(10);
    // libzmq cannot open HELLO and closes without a word (curve_server.cpp).
    while link.step().unwrap() {
        assert!(Instant::now() < deadline, "libzmq kept the connection open");
    }
    assert!(link.events.is_empty() && !link.connection.is_ready());
    finish(child);
}

#[test]
fn a_libzmq_servers_zap_denial_reaches_a_sinew_client_as_an_authentication_failure() {
    let server = KeyPair::generate().unwrap();
    let mut child = libzmq("refusing", &server, server.public(), 0);
    let port = read_port(&mut child);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let security = Security::curve_client(KeyPair::generate().unwrap(), *server.public());
    let mut link = Link::new(stream, security);
    let refused = link.next_event();
    assert!(
        matches!(&refused, Err(ProtocolError::AuthenticationFailed { status_code, .. }) if status_code == "400"),
        "{refused:?}"
    );
    finish(child);
}

#[test]
fn a_libzmq_client_with_the_wrong_server_key_is_refused() {
    let server = KeyPair::generate().unwrap();
    let someone_else = KeyPair::generate().unwrap();
    let client = KeyPair::generate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = libzmq("refused", &client, someone_else.public(), port);
    let (stream, _) = listener.accept().unwrap();
    drop(listener);
    let mut link = Link::new(stream, Security::curve_server(server, false));
    assert_eq!(link.next_event(), Err(ProtocolError::CurveWrongServerKey));
    drop(link);
    finish(child);
}

/// `sinew keygen`'s two lines.
fn keygen() -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sinew"))
        .arg("keygen")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let [public, secret] = lines[..] else {
        panic!("not two lines: {text:?}");
    };
    let public = public.strip_prefix("public ").expect("`public <Z85>`");
    let secret = secret.strip_prefix("secret ").expect("`secret <Z85>`");
    assert_eq!((public.len(), secret.len()), (40, 40), "{text:?}");
    (public.to_owned(), secret.to_owned())
}

#[test]
fn keygen_prints_a_key_pair_that_belongs_together() {
    let (public, secret) = keygen();
    let derived = SecretKey::from_z85(&secret).unwrap().public_key();
    assert_eq!(derived, PublicKey::from_z85(&public).unwrap());
    assert_ne!(
        keygen(),
        (public.clone(), secret.clone()),
        "fresh each time"
    );
    let output = Command::new("python3")
        .args([
            "-c",
            "import sys, zmq; print(zmq.curve_public(sys.argv[1].encode()).decode())",
        ])
        .arg(&secret)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), public);
}
