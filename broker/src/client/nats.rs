//! A small blocking client of the NATS client protocol, over `std::net` only.
//!
//! One [`Client`] is one TCP connection: it reads the server's `INFO`, sends
//! `CONNECT` (verbose and pedantic off, headers and no-responders on) and waits for
//! the `PONG` that answers its first `PING`, so a refused connection (a wrong token)
//! fails in [`Client::connect`]. After that it publishes (`PUB`, or `HPUB` with
//! headers), subscribes, unsubscribes, waits for the next message (`MSG`, `HMSG`),
//! sends requests on a fresh `_INBOX.` subject, and flushes with a `PING`/`PONG`
//! round trip. A server `PING` is answered with `PONG` whenever the client reads.
//!
//! Everything the server sends is parsed with checked arithmetic and bounds: it can
//! make a call return an [`Error`], never panic, and never make the client reserve
//! memory for bytes that have not arrived. There is no reconnection and no TLS.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The port a `nats://` URL without one means.
pub const DEFAULT_PORT: u16 = 4222;
/// The longest control line accepted from the server (an `INFO` can be long).
const MAX_CONTROL_LINE: usize = 64 * 1024;
/// The largest message accepted from the server, whatever its `INFO` said.
const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;
/// How much is read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// What went wrong talking to a NATS server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not `nats://[user[:password]@]host[:port]` or `host[:port]`.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Connecting, reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The wait ended before what it waited for arrived.
    #[error("timed out")]
    TimedOut,
    /// The server refused the credentials (`-ERR 'Authorization Violation'`).
    #[error("authorization failed: {0}")]
    Authorization(String),
    /// The server reported an error (`-ERR`), quotes removed.
    #[error("server error: {0}")]
    Server(String),
    /// A request found no subscriber to answer it (a status 503 reply).
    #[error("no responders for {subject:?}")]
    NoResponders {
        /// The request's subject.
        subject: String,
    },
    /// The payload (with its headers) is larger than the server's `max_payload`.
    #[error("payload of {size} bytes exceeds the server's maximum of {maximum}")]
    MaxPayload {
        /// The size that was refused.
        size: usize,
        /// The server's `max_payload`.
        maximum: usize,
    },
    /// A subject, reply subject or queue group is empty or contains whitespace.
    #[error("invalid subject {0:?}")]
    InvalidSubject(String),
    /// A header name or value cannot be encoded.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// The server does not support something this call needs (headers, or it
    /// requires TLS).
    #[error("not supported by the server: {0}")]
    Unsupported(&'static str),
    /// The server broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// The result of client calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Identifies one subscription on one connection (the protocol's `sid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub u64);

impl fmt::Display for SubscriptionId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

/// What the server said about itself in `INFO`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server's unique id.
    pub server_id: String,
    /// The server's name.
    pub server_name: String,
    /// The server's version.
    pub version: String,
    /// The largest payload (headers included) the server accepts.
    pub max_payload: usize,
    /// Whether the server understands `HPUB` and sends `HMSG`.
    pub headers: bool,
    /// Whether the server wants credentials.
    pub auth_required: bool,
    /// Whether the server requires TLS.
    pub tls_required: bool,
}

impl ServerInfo {
    fn parse(json: &[u8]) -> Result<ServerInfo> {
        let value: serde_json::Value = serde_json::from_slice(json)
            .map_err(|error| Error::Protocol(format!("INFO is not JSON: {error}")))?;
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        let flag = |key: &str| value.get(key).and_then(|v| v.as_bool()).unwrap_or(false);
        let max_payload = value
            .get("max_payload")
            .and_then(|v| v.as_u64())
            .and_then(|size| usize::try_from(size).ok())
            .unwrap_or(1024 * 1024);
        Ok(ServerInfo {
            server_id: text("server_id").to_owned(),
            server_name: text("server_name").to_owned(),
            version: text("version").to_owned(),
            max_payload,
            headers: flag("headers"),
            auth_required: flag("auth_required"),
            tls_required: flag("tls_required"),
        })
    }
}

/// Message headers: an optional status line, then names and values in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// The status code of the first line (`NATS/1.0 503`), set by the server only.
    pub status: Option<u16>,
    /// The words after the status code, if any.
    pub description: Option<String>,
    /// Names and values in the order they came; a name may repeat.
    pub entries: Vec<(String, String)>,
}

impl Headers {
    /// No headers.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Adds a header; names are case-sensitive, as in nats-server.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// The first value of the header `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn encode(&self) -> Result<Vec<u8>> {
        let mut out = b"NATS/1.0\r\n".to_vec();
        for (name, value) in &self.entries {
            let bad_name = name.is_empty()
                || name.bytes().any(|byte| {
                    byte == b':' || byte.is_ascii_whitespace() || byte.is_ascii_control()
                });
            if bad_name || value.bytes().any(|byte| byte == b'\r' || byte == b'\n') {
                return Err(Error::InvalidHeader(format!("{name}: {value}")));
            }
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }

    fn parse(block: &[u8]) -> Result<Headers> {
        let text = std::str::from_utf8(block)
            .map_err(|_| Error::Protocol("headers are not UTF-8".to_owned()))?;
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or_default();
        let status_line = first
            .strip_prefix("NATS/1.0")
            .ok_or_else(|| Error::Protocol(format!("bad header line {first:?}")))?
            .trim();
        let mut headers = Headers::new();
        if !status_line.is_empty() {
            let (code, description) = status_line.split_once(' ').unwrap_or((status_line, ""));
            let code = code
                .parse()
                .map_err(|_| Error::Protocol(format!("bad header status {status_line:?}")))?;
            headers.status = Some(code);
            let description = description.trim();
            if !description.is_empty() {
                headers.description = Some(description.to_owned());
            }
        }
        for line in lines.filter(|line| !line.is_empty()) {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| Error::Protocol(format!("bad header {line:?}")))?;
            headers.append(name.trim(), value.trim());
        }
        Ok(headers)
    }
}

/// A message delivered to one of this client's subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The subject it was published on.
    pub subject: String,
    /// The subscription it was delivered to.
    pub subscription: SubscriptionId,
    /// Where the publisher wants an answer, if anywhere.
    pub reply: Option<String>,
    /// Its headers, if it came as `HMSG`.
    pub headers: Option<Headers>,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The connection's name, as the server's monitoring shows it.
    pub name: String,
    /// Whether this connection receives its own publishes (`echo` in `CONNECT`).
    pub echo: bool,
    /// How long connecting (up to the first `PONG`) and each write may take.
    pub timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions {
            name: "sinew".to_owned(),
            echo: true,
            timeout: Duration::from_secs(5),
        }
    }
}

/// One operation read from the server.
#[derive(Debug, PartialEq, Eq)]
enum Operation {
    Info(ServerInfo),
    Message(Message),
    Ping,
    Pong,
    Ok,
    Error(String),
}

/// A blocking connection to a NATS server.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    /// Bytes read but not yet parsed start at `start`.
    buffer: Vec<u8>,
    start: usize,
    info: ServerInfo,
    next_subscription: u64,
    /// Messages read while waiting for something else (a `PONG`, a reply).
    pending: VecDeque<Message>,
    pings_sent: u64,
    pongs_received: u64,
}

impl Client {
    /// Connects to `url` with default options.
    pub fn connect(url: &str) -> Result<Client> {
        Client::connect_with(url, &ConnectOptions::default())
    }

    /// Connects to `url` (`nats://[token@|user:password@]host[:port]`).
    pub fn connect_with(url: &str, options: &ConnectOptions) -> Result<Client> {
        let address = ServerAddress::parse(url)?;
        let deadline = Instant::now() + options.timeout;
        let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address");
        let mut connected = None;
        for socket_address in (address.host.as_str(), address.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&socket_address, options.timeout) {
                Ok(stream) => {
                    connected = Some(stream);
                    break;
                }
                Err(error) => last_error = error,
            }
        }
        let stream = connected.ok_or(last_error)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(options.timeout))?;
        let mut client = Client {
            stream,
            buffer: Vec::new(),
            start: 0,
            info: ServerInfo::default(),
            next_subscription: 1,
            pending: VecDeque::new(),
            pings_sent: 0,
            pongs_received: 0,
        };
        match client.read_operation(Some(deadline))? {
            Operation::Info(info) => client.info = info,
            other => return Err(Error::Protocol(format!("expected INFO, got {other:?}"))),
        }
        if client.info.tls_required {
            return Err(Error::Unsupported("the server requires TLS"));
        }
        let mut connect = serde_json::json!({
            "verbose": false,
            "pedantic": false,
            "tls_required": false,
            "name": options.name,
            "lang": "rust",
            "version": env!("CARGO_PKG_VERSION"),
            "protocol": 1,
            "echo": options.echo,
            "headers": client.info.headers,
            "no_responders": client.info.headers,
        });
        let credentials = match (address.user, address.password) {
            (Some(user), Some(password)) => vec![("user", user), ("pass", password)],
            (Some(token), None) => vec![("auth_token", token)],
            _ => Vec::new(),
        };
        if let Some(fields) = connect.as_object_mut() {
            for (key, value) in credentials {
                fields.insert(key.to_owned(), value.into());
            }
        }
        client.write(format!("CONNECT {connect}\r\n").as_bytes())?;
        client.flush_until(Some(deadline))?;
        Ok(client)
    }

    /// What the server said about itself (the latest `INFO`).
    pub fn server_info(&self) -> &ServerInfo {
        &self.info
    }

    /// Publishes `payload` on `subject`.
    pub fn publish(&mut self, subject: &str, payload: &[u8]) -> Result<()> {
        self.publish_with(subject, None, None, payload)
    }

    /// Publishes `payload` on `subject`, with an optional reply subject and optional
    /// headers (sent as `HPUB`).
    pub fn publish_with(
        &mut self,
        subject: &str,
        reply: Option<&str>,
        headers: Option<&Headers>,
        payload: &[u8],
    ) -> Result<()> {
        check_token(subject)?;
        if let Some(reply) = reply {
            check_token(reply)?;
        }
        let reply = reply.map(|reply| format!(" {reply}")).unwrap_or_default();
        let header_block = match headers {
            Some(_) if !self.info.headers => return Err(Error::Unsupported("headers")),
            Some(headers) => Some(headers.encode()?),
            None => None,
        };
        let header_size = header_block.as_ref().map_or(0, Vec::len);
        let size = header_size + payload.len();
        if size > self.info.max_payload {
            return Err(Error::MaxPayload {
                size,
                maximum: self.info.max_payload,
            });
        }
        let mut out = match &header_block {
            Some(block) => {
                let mut out =
                    format!("HPUB {subject}{reply} {header_size} {size}\r\n").into_bytes();
                out.extend_from_slice(block);
                out
            }
            None => format!("PUB {subject}{reply} {size}\r\n").into_bytes(),
        };
        out.extend_from_slice(payload);
        out.extend_from_slice(b"\r\n");
        self.write(&out)
    }

    /// Subscribes to `subject` (wildcards allowed), in queue group `queue` if given.
    pub fn subscribe(&mut self, subject: &str, queue: Option<&str>) -> Result<SubscriptionId> {
        check_token(subject)?;
        let queue = match queue {
            Some(queue) => {
                check_token(queue)?;
                format!(" {queue}")
            }
            None => String::new(),
        };
        let id = SubscriptionId(self.next_subscription);
        self.next_subscription += 1;
        self.write(format!("SUB {subject}{queue} {id}\r\n").as_bytes())?;
        Ok(id)
    }

    /// Ends a subscription now, or (with `maximum`) once that many messages in all
    /// have been delivered to it.
    pub fn unsubscribe(
        &mut self,
        subscription: SubscriptionId,
        maximum: Option<u64>,
    ) -> Result<()> {
        match maximum {
            Some(maximum) => self.write(format!("UNSUB {subscription} {maximum}\r\n").as_bytes()),
            None => {
                self.pending
                    .retain(|message| message.subscription != subscription);
                self.write(format!("UNSUB {subscription}\r\n").as_bytes())
            }
        }
    }

    /// Waits up to `timeout` for the next message on any subscription
    /// (`Duration::MAX` waits for ever).
    pub fn next_message(&mut self, timeout: Duration) -> Result<Message> {
        if let Some(message) = self.pending.pop_front() {
            return Ok(message);
        }
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if let Some(message) = self.read_until(deadline)? {
                return Ok(message);
            }
        }
    }

    /// Sends a request and waits up to `timeout` for the first reply.
    pub fn request(&mut self, subject: &str, payload: &[u8], timeout: Duration) -> Result<Message> {
        self.request_with(subject, None, payload, timeout)
    }

    /// Sends a request with optional headers and waits up to `timeout` for the first
    /// reply. A 503 status reply is [`Error::NoResponders`].
    pub fn request_with(
        &mut self,
        subject: &str,
        headers: Option<&Headers>,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Message> {
        let deadline = Instant::now().checked_add(timeout);
        let inbox = new_inbox();
        let subscription = self.subscribe(&inbox, None)?;
        self.unsubscribe(subscription, Some(1))?;
        self.publish_with(subject, Some(&inbox), headers, payload)?;
        let reply = loop {
            match self.read_until(deadline) {
                Ok(Some(message)) if message.subscription == subscription => break message,
                Ok(Some(other)) => self.pending.push_back(other),
                Ok(None) => {}
                Err(error) => {
                    // Best effort: the subscription may already be gone.
                    let _ = self.unsubscribe(subscription, None);
                    return Err(error);
                }
            }
        };
        let status = reply.headers.as_ref().and_then(|headers| headers.status);
        if status == Some(503) && reply.payload.is_empty() {
            return Err(Error::NoResponders {
                subject: subject.to_owned(),
            });
        }
        Ok(reply)
    }

    /// Waits up to `timeout` until the server has processed everything sent so far
    /// (a `PING`/`PONG` round trip).
    pub fn flush(&mut self, timeout: Duration) -> Result<()> {
        self.flush_until(Instant::now().checked_add(timeout))
    }

    fn flush_until(&mut self, deadline: Option<Instant>) -> Result<()> {
        self.write(b"PING\r\n")?;
        self.pings_sent += 1;
        let target = self.pings_sent;
        while self.pongs_received < target {
            if let Some(message) = self.read_until(deadline)? {
                self.pending.push_back(message);
            }
        }
        Ok(())
    }

    /// Handles one operation from the server; returns it if it is a message.
    fn read_until(&mut self, deadline: Option<Instant>) -> Result<Option<Message>> {
        match self.read_operation(deadline)? {
            Operation::Message(message) => return Ok(Some(message)),
            Operation::Ping => self.write(b"PONG\r\n")?,
            Operation::Pong => self.pongs_received += 1,
            Operation::Info(info) => self.info = info,
            Operation::Ok => {}
            Operation::Error(text) if text.starts_with("Authorization Violation") => {
                return Err(Error::Authorization(text));
            }
            Operation::Error(text) => return Err(Error::Server(text)),
        }
        Ok(None)
    }

    /// Reads until one whole operation is buffered, and takes it.
    fn read_operation(&mut self, deadline: Option<Instant>) -> Result<Operation> {
        loop {
            let unread = self.buffer.get(self.start..).unwrap_or_default();
            if let Some((operation, used)) = parse(unread)? {
                self.start += used;
                if self.start == self.buffer.len() {
                    self.buffer.clear();
                    self.start = 0;
                }
                return Ok(operation);
            }
            if self.start > 0 {
                self.buffer.drain(..self.start);
                self.start = 0;
            }
            let timeout = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::TimedOut);
                    }
                    Some(left)
                }
                None => None,
            };
            self.stream.set_read_timeout(timeout)?;
            let filled = self.buffer.len();
            self.buffer.resize(filled + READ_CHUNK, 0);
            let read = self
                .stream
                .read(self.buffer.get_mut(filled..).unwrap_or_default());
            self.buffer.truncate(filled + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => return Err(Error::Closed),
                Ok(_) => {}
                Err(error) if is_timeout(&error) => return Err(Error::TimedOut),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).map_err(|error| {
            if is_timeout(&error) {
                Error::TimedOut
            } else {
                Error::Io(error)
            }
        })
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A subject, reply subject or queue group must be one non-empty word.
fn check_token(token: &str) -> Result<()> {
    if token.is_empty() || token.bytes().any(|byte| byte.is_ascii_whitespace()) {
        return Err(Error::InvalidSubject(token.to_owned()));
    }
    Ok(())
}

/// Parses one operation from the front of `input`: `None` until it is all there.
fn parse(input: &[u8]) -> Result<Option<(Operation, usize)>> {
    let Some(end) = input.iter().position(|&byte| byte == b'\n') else {
        if input.len() > MAX_CONTROL_LINE {
            return Err(Error::Protocol("control line too long".to_owned()));
        }
        return Ok(None);
    };
    let line = input.get(..end).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line)
        .map_err(|_| Error::Protocol("control line is not UTF-8".to_owned()))?;
    let after_line = end + 1;
    let (verb, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
    let rest = rest.trim();
    let operation = match verb.to_ascii_uppercase().as_str() {
        "PING" => Operation::Ping,
        "PONG" => Operation::Pong,
        "+OK" => Operation::Ok,
        "-ERR" => Operation::Error(rest.trim_matches('\'').to_owned()),
        "INFO" => Operation::Info(ServerInfo::parse(rest.as_bytes())?),
        "MSG" | "HMSG" => {
            let with_headers = verb.eq_ignore_ascii_case("HMSG");
            let arguments: Vec<&str> = rest.split_ascii_whitespace().collect();
            let (subject, id, reply, header_size, total_size) =
                match (with_headers, arguments.as_slice()) {
                    (false, &[subject, id, size]) => (subject, id, None, "0", size),
                    (false, &[subject, id, reply, size]) => (subject, id, Some(reply), "0", size),
                    (true, &[subject, id, header, total]) => (subject, id, None, header, total),
                    (true, &[subject, id, reply, header, total]) => {
                        (subject, id, Some(reply), header, total)
                    }
                    _ => return Err(Error::Protocol(format!("bad {verb} line {line:?}"))),
                };
            let number = |text: &str| -> Result<usize> {
                text.parse()
                    .map_err(|_| Error::Protocol(format!("bad size in {line:?}")))
            };
            let (header_size, total_size) = (number(header_size)?, number(total_size)?);
            if header_size > total_size || total_size > MAX_MESSAGE_SIZE {
                return Err(Error::Protocol(format!("bad sizes in {line:?}")));
            }
            let id = id
                .parse()
                .map_err(|_| Error::Protocol(format!("bad subscription id in {line:?}")))?;
            let body_end = after_line + total_size;
            let Some(body) = input.get(after_line..body_end) else {
                return Ok(None);
            };
            match input.get(body_end..body_end + 2) {
                None => return Ok(None),
                Some(b"\r\n") => {}
                Some(_) => return Err(Error::Protocol(format!("no CRLF after {line:?}"))),
            }
            let (header_block, payload) = body.split_at(header_size);
            let headers = if with_headers {
                Some(Headers::parse(header_block)?)
            } else {
                None
            };
            let message = Message {
                subject: subject.to_owned(),
                subscription: SubscriptionId(id),
                reply: reply.map(str::to_owned),
                headers,
                payload: payload.to_vec(),
            };
            return Ok(Some((Operation::Message(message), body_end + 2)));
        }
        _ => return Err(Error::Protocol(format!("unknown operation {line:?}"))),
    };
    Ok(Some((operation, after_line)))
}

/// Where to connect, and with which credentials.
#[derive(Debug, PartialEq, Eq)]
struct ServerAddress {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
}

impl ServerAddress {
    fn parse(url: &str) -> Result<ServerAddress> {
        let invalid = |reason| Error::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let rest = match url.split_once("://") {
            Some(("nats", rest)) => rest,
            Some(_) => return Err(invalid("the scheme must be nats://")),
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, host_port) = match rest.rsplit_once('@') {
            Some((credentials, host_port)) => (Some(credentials), host_port),
            None => (None, rest),
        };
        let (user, password) = match credentials.map(|text| text.split_once(':')) {
            None => (None, None),
            Some(Some((user, password))) => (Some(user.to_owned()), Some(password.to_owned())),
            Some(None) => (credentials.map(str::to_owned), None),
        };
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid("unclosed '['"))?;
            (host, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = match port {
            Some(port) => port.parse().map_err(|_| invalid("bad port"))?,
            None => DEFAULT_PORT,
        };
        Ok(ServerAddress {
            host: host.to_owned(),
            port,
            user,
            password,
        })
    }
}

/// A fresh inbox subject: `_INBOX.` and 22 random letters and digits.
pub fn new_inbox() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut inbox = String::from("_INBOX.");
    for round in 0u64..3 {
        let mut hasher = state.build_hasher();
        hasher.write_u64(count);
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.write_u64(round);
        let mut bits = hasher.finish();
        let digits = if round == 2 { 2 } else { 10 };
        for _ in 0..digits {
            let index = usize::try_from(bits % 62).unwrap_or_default();
            inbox.push(char::from(*ALPHABET.get(index).unwrap_or(&b'0')));
            bits /= 62;
        }
    }
    inbox
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(mut input: &[u8]) -> Vec<Operation> {
        let mut out = Vec::new();
        while let Some((operation, used)) = parse(input).unwrap() {
            out.push(operation);
            input = &input[used..];
        }
        assert!(input.is_empty(), "left over: {input:?}");
        out
    }

    #[test]
    fn parses_messages_with_and_without_reply_and_headers() {
        let wire = b"MSG a.b 1 5\r\nhello\r\nMSG a.b 2 _INBOX.x 0\r\n\r\n\
            HMSG _INBOX.y 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\n\
            HMSG c 4 r 24 26\r\nNATS/1.0\r\nK: v\r\nK: w\r\n\r\nhi\r\nPING\r\n";
        let operations = parse_all(wire);
        assert_eq!(operations.len(), 5);
        let Operation::Message(first) = &operations[0] else {
            panic!()
        };
        assert_eq!(
            (first.subject.as_str(), first.payload.as_slice()),
            ("a.b", &b"hello"[..])
        );
        let Operation::Message(second) = &operations[1] else {
            panic!()
        };
        assert_eq!(second.reply.as_deref(), Some("_INBOX.x"));
        let Operation::Message(third) = &operations[2] else {
            panic!()
        };
        assert_eq!(third.headers.as_ref().unwrap().status, Some(503));
        let Operation::Message(fourth) = &operations[3] else {
            panic!()
        };
        let headers = fourth.headers.as_ref().unwrap();
        assert_eq!(headers.entries.len(), 2);
        assert_eq!(headers.get("K"), Some("v"));
        assert_eq!(fourth.payload, b"hi");
        assert_eq!(operations[4], Operation::Ping);
    }

    #[test]
    fn every_split_waits_for_the_rest() {
        let wire = b"HMSG c 4 r 24 26\r\nNATS/1.0\r\nK: v\r\nK: w\r\n\r\nhi\r\n";
        for cut in 0..wire.len() {
            assert!(parse(&wire[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        assert!(parse(wire).unwrap().is_some());
    }

    #[test]
    fn rejects_what_a_server_must_not_send() {
        for wire in [
            &b"MSG a 1 x\r\n"[..],
            b"MSG a 1\r\n",
            b"HMSG a 1 9 3\r\nabc\r\n",
            b"MSG a 1 3\r\nabcXY",
            b"MSG a 1 99999999999\r\n",
            b"BOGUS\r\n",
            b"INFO {\r\n",
        ] {
            assert!(parse(wire).is_err(), "{wire:?}");
        }
        assert!(parse(&vec![b'x'; MAX_CONTROL_LINE + 1]).is_err());
    }

    #[test]
    fn errors_lose_their_quotes() {
        let operations = parse_all(b"-ERR 'Invalid Subject'\r\n+OK\r\n");
        assert_eq!(
            operations,
            [
                Operation::Error("Invalid Subject".to_owned()),
                Operation::Ok
            ]
        );
    }

    #[test]
    fn headers_round_trip() {
        let mut headers = Headers::new();
        headers.append("Trace", "a b");
        headers.append("Trace", "c");
        let block = headers.encode().unwrap();
        assert_eq!(block, b"NATS/1.0\r\nTrace: a b\r\nTrace: c\r\n\r\n");
        assert_eq!(Headers::parse(&block).unwrap(), headers);
        let mut bad = Headers::new();
        bad.append("A:B", "c");
        assert!(bad.encode().is_err());
    }

    #[test]
    fn urls() {
        let address = ServerAddress::parse("nats://secret@127.0.0.1:4333").unwrap();
        assert_eq!(address.host, "127.0.0.1");
        assert_eq!(address.port, 4333);
        assert_eq!(address.user.as_deref(), Some("secret"));
        let address = ServerAddress::parse("nats://u:p@[::1]").unwrap();
        assert_eq!((address.host.as_str(), address.port), ("::1", DEFAULT_PORT));
        assert_eq!(address.password.as_deref(), Some("p"));
        assert_eq!(
            ServerAddress::parse("localhost").unwrap().port,
            DEFAULT_PORT
        );
        assert!(ServerAddress::parse("http://x").is_err());
        assert!(ServerAddress::parse("nats://x:port").is_err());
    }

    #[test]
    fn inboxes_are_unique() {
        let first = new_inbox();
        assert_eq!(first.len(), "_INBOX.".len() + 22);
        assert_ne!(first, new_inbox());
    }

    /// A scripted server on a loopback port: it greets, checks CONNECT, answers the
    /// first PING, then runs `script`.
    fn scripted_server(
        info: &str,
        script: impl FnOnce(&mut std::io::BufReader<TcpStream>, &mut TcpStream) + Send + 'static,
    ) -> (String, std::thread::JoinHandle<()>) {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("nats://{}", listener.local_addr().unwrap());
        let info = format!("INFO {info}\r\n");
        let server = std::thread::spawn(move || {
            let (mut writer, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(writer.try_clone().unwrap());
            writer.write_all(info.as_bytes()).unwrap();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            for field in [
                r#""verbose":false"#,
                r#""lang":"rust""#,
                r#""no_responders":true"#,
            ] {
                assert!(
                    line.starts_with("CONNECT {") && line.contains(field),
                    "{line}"
                );
            }
            line.clear();
            reader.read_line(&mut line).unwrap();
            assert_eq!(line, "PING\r\n");
            writer.write_all(b"PONG\r\n").unwrap();
            script(&mut reader, &mut writer);
        });
        (url, server)
    }

    fn read_line(reader: &mut impl std::io::BufRead) -> String {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        line
    }

    #[test]
    fn answers_pings_checks_sizes_and_reports_server_errors() {
        let info = r#"{"server_id":"x","max_payload":8,"headers":true}"#;
        let (url, server) = scripted_server(info, |reader, writer| {
            writer.write_all(b"PING\r\nMSG a 1 2\r\nhi\r\n").unwrap();
            assert_eq!(read_line(reader), "PONG\r\n");
            writer.write_all(b"-ERR 'Invalid Subject'\r\n").unwrap();
            // Closing after the error is what nats-server does for most of them.
        });
        let mut client = Client::connect(&url).unwrap();
        assert_eq!(client.server_info().max_payload, 8);
        assert!(matches!(
            client.publish("a", b"123456789"),
            Err(Error::MaxPayload {
                size: 9,
                maximum: 8
            })
        ));
        assert!(matches!(
            client.publish("a b", b""),
            Err(Error::InvalidSubject(_))
        ));
        let message = client.next_message(Duration::from_secs(5)).unwrap();
        assert_eq!(
            (message.subject.as_str(), message.payload.as_slice()),
            ("a", &b"hi"[..])
        );
        assert!(matches!(
            client.next_message(Duration::from_secs(5)),
            Err(Error::Server(text)) if text == "Invalid Subject"
        ));
        server.join().unwrap();
        assert!(matches!(
            client.next_message(Duration::from_secs(5)),
            Err(Error::Closed)
        ));
    }

    #[test]
    fn a_503_reply_is_no_responders_and_silence_times_out() {
        let (url, server) = scripted_server(r#"{"headers":true}"#, |reader, writer| {
            let subscribe = read_line(reader);
            let fields: Vec<&str> = subscribe.split_whitespace().collect();
            let (inbox, id) = (fields[1], fields[2]);
            assert!(inbox.starts_with("_INBOX."), "{subscribe}");
            assert_eq!(read_line(reader), format!("UNSUB {id} 1\r\n"));
            assert_eq!(read_line(reader), format!("PUB service {inbox} 2\r\n"));
            assert_eq!(read_line(reader), "hi\r\n");
            let status = "NATS/1.0 503\r\n\r\n";
            let size = status.len();
            let reply = format!("HMSG {inbox} {id} {size} {size}\r\n{status}\r\n");
            writer.write_all(reply.as_bytes()).unwrap();
            // Hold the connection open until the client is done.
            let _ = read_line(reader);
        });
        let mut client = Client::connect(&url).unwrap();
        let outcome = client.request("service", b"hi", Duration::from_secs(5));
        assert!(
            matches!(&outcome, Err(Error::NoResponders { subject }) if subject == "service"),
            "{outcome:?}"
        );
        let waited = client.next_message(Duration::from_millis(20));
        assert!(matches!(waited, Err(Error::TimedOut)), "{waited:?}");
        drop(client);
        server.join().unwrap();
    }
}
