//! `sinew cat`: a command-line peer for any socket type, in the spirit of zmqc and
//! kcat. Scripts depend on its interface, so it follows the documented contract
//! exactly:
//!
//! - each received message is printed on its own line, frames joined by the
//!   delimiter (or as lowercase hex with `--hex`), flushed per line;
//! - a socket that only sends exits 0 once every message is handed over and linger
//!   is done; `req` prints each reply and exits after the last; `rep` answers each
//!   request with the next input message; `--echo` sends every message back as it
//!   is and runs until `--count` or `--timeout`;
//! - exit 1 with a one-line error for bad arguments or endpoints, exit 2 when a wait
//!   for a peer lasts longer than `--timeout`.
//!
//! It must never print anything on stdout but received messages.

use bytes::Bytes;
use clap::Args;
use sinew::{Context, Error, EventMask, Message, MonitorEvent, Socket, SocketEvent, SocketType};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `sinew cat`.
#[derive(Debug, Args)]
pub struct CatArgs {
    /// pair | pub | sub | xpub | xsub | req | rep | dealer | router | push | pull
    #[arg(value_name = "TYPE")]
    socket_type: String,
    /// Bind to this endpoint (repeatable).
    #[arg(long = "bind", value_name = "EP")]
    binds: Vec<String>,
    /// Connect to this endpoint (repeatable).
    #[arg(long = "connect", value_name = "EP")]
    connects: Vec<String>,
    /// Send MSG (repeatable, in order); frames are separated by the delimiter.
    #[arg(long = "send", value_name = "MSG")]
    sends: Vec<String>,
    /// After the --send messages, send each line of standard input as one message.
    #[arg(long)]
    stdin: bool,
    /// Wait MS milliseconds after bind/connect before the first send.
    #[arg(long, value_name = "MS")]
    delay: Option<u64>,
    /// Exit 0 after receiving N messages (0: never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    count: u64,
    /// Exit 2 when any wait for a peer (to receive, or to be able to send) lasts MS.
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Send every received message back as it is (pair, rep, router, dealer).
    #[arg(long)]
    echo: bool,
    /// Frame separator for printing and for parsing --send/--stdin.
    #[arg(long, value_name = "D", default_value = "|")]
    delimiter: String,
    /// Print every frame as lowercase hex (output only).
    #[arg(long)]
    hex: bool,
    /// sub, xsub: subscribe to prefix P (repeatable); with none, nothing is received.
    #[arg(long = "subscribe", value_name = "P")]
    subscriptions: Vec<String>,
    /// The socket's routing id.
    #[arg(long, value_name = "ID")]
    identity: Option<String>,
    /// Send high-water mark, in messages.
    #[arg(long, value_name = "N")]
    sndhwm: Option<u32>,
    /// Receive high-water mark, in messages.
    #[arg(long, value_name = "N")]
    rcvhwm: Option<u32>,
    /// How long to keep sending queued messages at exit (default: until sent).
    #[arg(long, value_name = "MS")]
    linger: Option<u64>,
    /// The most bytes a received message may carry (ZMQ_MAXMSGSIZE); a peer
    /// sending more is disconnected (default: no limit).
    #[arg(long, value_name = "N")]
    max_message_size: Option<u64>,
    /// Send a PING this often (ZMQ_HEARTBEAT_IVL; default: never).
    #[arg(long = "heartbeat-ivl", value_name = "MS")]
    heartbeat_interval: Option<u64>,
    /// Close a connection silent this long after a PING (ZMQ_HEARTBEAT_TIMEOUT;
    /// default: the heartbeat interval).
    #[arg(long, value_name = "MS")]
    heartbeat_timeout: Option<u64>,
    /// How long a handshake may take (ZMQ_HANDSHAKE_IVL; default 30000, 0: no
    /// limit).
    #[arg(long = "handshake-ivl", value_name = "MS")]
    handshake_interval: Option<u64>,
    /// Print the socket's monitor events on stderr as they happen, one line each:
    /// the libzmq event name without ZMQ_EVENT_, the endpoint, any detail.
    #[arg(long)]
    monitor: bool,
    #[command(flatten)]
    security: crate::cat_security::SecurityArgs,
}

/// How a run ended badly.
enum Failure {
    /// Bad arguments or endpoints: exit 1.
    Usage(String),
    /// A wait for a peer lasted longer than --timeout: exit 2.
    TimedOut,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        match error {
            Error::TimedOut | Error::WouldBlock => Failure::TimedOut,
            other => Failure::Usage(other.to_string()),
        }
    }
}

impl From<sinew::SendError> for Failure {
    fn from(failed: sinew::SendError) -> Failure {
        Failure::from(failed.error)
    }
}

/// Runs `sinew cat`.
pub fn run(args: CatArgs) -> ExitCode {
    let timeout = args.timeout;
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("sinew cat: {message}");
            ExitCode::from(1)
        }
        Err(Failure::TimedOut) => {
            eprintln!(
                "sinew cat: timed out after {} ms waiting for a peer",
                timeout.unwrap_or(0)
            );
            let _ = std::io::stdout().flush();
            // Queued messages can never go: exit without lingering on them.
            std::process::exit(2);
        }
    }
}

fn parse_type(name: &str) -> Result<SocketType, Failure> {
    Ok(match name {
        "pair" => SocketType::Pair,
        "pub" => SocketType::Publish,
        "sub" => SocketType::Subscribe,
        "xpub" => SocketType::ExtendedPublish,
        "xsub" => SocketType::ExtendedSubscribe,
        "req" => SocketType::Request,
        "rep" => SocketType::Reply,
        "dealer" => SocketType::Dealer,
        "router" => SocketType::Router,
        "push" => SocketType::Push,
        "pull" => SocketType::Pull,
        other => {
            return Err(Failure::Usage(format!(
                "unknown socket type {other:?} (pair, pub, sub, xpub, xsub, req, rep, dealer, router, push, pull)"
            )));
        }
    })
}

fn execute(args: CatArgs) -> Result<(), Failure> {
    let kind = parse_type(&args.socket_type)?;
    if args.binds.is_empty() && args.connects.is_empty() {
        return Err(Failure::Usage(
            "give at least one --bind or --connect".to_owned(),
        ));
    }
    if args.delimiter.is_empty() {
        return Err(Failure::Usage("the delimiter cannot be empty".to_owned()));
    }
    let context = Context::new();
    let socket = context.socket(kind).map_err(|error| match error {
        Error::NotSupported => Failure::Usage(format!(
            "socket type {:?} is not built yet",
            args.socket_type
        )),
        other => Failure::from(other),
    })?;
    // The ZAP handler (for the allow flags) outlives the socket it serves.
    let zap = configure(&context, &socket, &args)?;
    let monitor = if args.monitor {
        Some(watch(&socket)?)
    } else {
        None
    };
    let result = talk(&socket, kind, &args);
    drop(socket);
    drop(zap);
    // The monitor's last event, MONITOR_STOPPED, comes once the socket is closed.
    if let Some(monitor) = monitor {
        let _ = monitor.join();
    }
    result
}

/// Prints every monitor event on stderr from a thread of its own, until
/// MONITOR_STOPPED.
fn watch(socket: &Socket) -> Result<std::thread::JoinHandle<()>, Failure> {
    let monitor = socket.monitor_events(EventMask::ALL)?;
    Ok(std::thread::spawn(move || {
        while let Ok(event) = monitor.recv() {
            eprintln!("{}", describe(&event));
            if event.event == SocketEvent::MonitorStopped {
                return;
            }
        }
    }))
}

/// One line for a monitor event: name, endpoint, detail.
fn describe(event: &MonitorEvent) -> String {
    let detail = match event.event {
        SocketEvent::HandshakeFailedProtocol => format!("protocol error 0x{:08x}", event.value),
        SocketEvent::ConnectRetried => format!("retry in {} ms", event.value),
        SocketEvent::ConnectDelayed
        | SocketEvent::BindFailed
        | SocketEvent::AcceptFailed
        | SocketEvent::CloseFailed
        | SocketEvent::HandshakeFailedNoDetail => {
            format!(
                "errno {} ({})",
                event.value,
                std::io::Error::from_raw_os_error(event.value as i32)
            )
        }
        SocketEvent::HandshakeFailedAuth => format!("status {}", event.value),
        SocketEvent::MonitorStopped | SocketEvent::HandshakeSucceeded => String::new(),
        _ => format!("fd {}", event.value),
    };
    let mut line = event.event.name().to_owned();
    for part in [event.endpoint.as_str(), detail.as_str()] {
        if !part.is_empty() {
            line.push(' ');
            line.push_str(part);
        }
    }
    line
}

fn talk(socket: &Socket, kind: SocketType, args: &CatArgs) -> Result<(), Failure> {
    for endpoint in &args.binds {
        socket
            .bind(endpoint)
            .map_err(|error| Failure::Usage(format!("cannot bind {endpoint}: {error}")))?;
    }
    for endpoint in &args.connects {
        socket
            .connect(endpoint)
            .map_err(|error| Failure::Usage(format!("cannot connect {endpoint}: {error}")))?;
    }
    subscribe(socket, kind, args)?;
    let mut cat = Cat {
        socket,
        timeout: args.timeout.map(Duration::from_millis),
        delimiter: args.delimiter.clone(),
        hex: args.hex,
        inputs: inputs(args),
    };
    if let Some(delay) = args.delay {
        std::thread::sleep(Duration::from_millis(delay));
    }
    match kind {
        SocketType::Request => cat.request(),
        SocketType::Reply if !args.echo => cat.reply(args.count),
        SocketType::Push | SocketType::Publish => cat.send_all(),
        SocketType::Pull | SocketType::Subscribe => cat.receive(args.count, false),
        _ if args.count == 0 && !args.echo && cat.has_inputs(args) => cat.send_all(),
        _ => {
            cat.send_all()?;
            cat.receive(args.count, args.echo)
        }
    }
    // Dropping the socket and context here waits for linger: every queued message
    // is handed over before the process exits.
}

fn configure(
    context: &Context,
    socket: &Socket,
    args: &CatArgs,
) -> Result<Option<sinew::ZapHandler>, Failure> {
    let linger = args.linger.map(Duration::from_millis);
    socket.set_linger(linger)?;
    if let Some(identity) = &args.identity {
        socket.set_routing_id(Some(Bytes::copy_from_slice(identity.as_bytes())))?;
    }
    if let Some(mark) = args.sndhwm {
        socket.set_send_high_water_mark(mark)?;
    }
    if let Some(size) = args.max_message_size {
        socket.set_max_message_size(Some(size))?;
    }
    if let Some(interval) = args.heartbeat_interval {
        socket.set_heartbeat_interval(Some(Duration::from_millis(interval)))?;
    }
    if let Some(timeout) = args.heartbeat_timeout {
        socket.set_heartbeat_timeout(Some(Duration::from_millis(timeout)))?;
    }
    if let Some(interval) = args.handshake_interval {
        socket.set_handshake_interval(Some(Duration::from_millis(interval)))?;
    }
    if let Some(mark) = args.rcvhwm {
        socket.set_receive_high_water_mark(mark)?;
    }
    args.security.apply(context, socket).map_err(Failure::Usage)
}

fn subscribe(socket: &Socket, kind: SocketType, args: &CatArgs) -> Result<(), Failure> {
    match kind {
        SocketType::Subscribe => {
            for prefix in &args.subscriptions {
                socket.subscribe(prefix.as_bytes())?;
            }
        }
        SocketType::ExtendedSubscribe => {
            for prefix in &args.subscriptions {
                let mut frame = vec![1u8];
                frame.extend_from_slice(prefix.as_bytes());
                socket.send(frame)?;
            }
        }
        _ if !args.subscriptions.is_empty() => {
            return Err(Failure::Usage(
                "--subscribe applies to sub and xsub only".to_owned(),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The messages to send: every --send, then (with --stdin) each input line.
fn inputs(args: &CatArgs) -> Box<dyn Iterator<Item = Message>> {
    let delimiter = args.delimiter.clone();
    let given: Vec<Message> = args
        .sends
        .iter()
        .map(|text| parse_message(text, &delimiter))
        .collect();
    if args.stdin {
        let lines = std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .map(move |line| parse_message(line.trim_end_matches('\r'), &delimiter));
        Box::new(given.into_iter().chain(lines))
    } else {
        Box::new(given.into_iter())
    }
}

/// Splits `text` into frames at each delimiter.
fn parse_message(text: &str, delimiter: &str) -> Message {
    Message::from_frames(
        text.split(delimiter)
            .map(|frame| Bytes::copy_from_slice(frame.as_bytes())),
    )
}

struct Cat<'a> {
    socket: &'a Socket,
    timeout: Option<Duration>,
    delimiter: String,
    hex: bool,
    inputs: Box<dyn Iterator<Item = Message>>,
}

impl Cat<'_> {
    fn has_inputs(&self, args: &CatArgs) -> bool {
        !args.sends.is_empty() || args.stdin
    }

    fn send(&self, message: Message) -> Result<(), Failure> {
        self.socket.send_with_timeout(message, self.timeout)?;
        Ok(())
    }

    fn recv(&self) -> Result<Message, Failure> {
        Ok(self.socket.recv_with_timeout(self.timeout)?)
    }

    fn send_all(&mut self) -> Result<(), Failure> {
        while let Some(message) = self.inputs.next() {
            self.send(message)?;
        }
        Ok(())
    }

    fn receive(&mut self, count: u64, echo: bool) -> Result<(), Failure> {
        let mut received = 0;
        loop {
            let message = self.recv()?;
            self.print(&message)?;
            if echo {
                self.send(message)?;
            }
            received += 1;
            if count != 0 && received >= count {
                return Ok(());
            }
        }
    }

    fn request(&mut self) -> Result<(), Failure> {
        let mut sent = false;
        while let Some(message) = self.inputs.next() {
            self.send(message)?;
            let reply = self.recv()?;
            self.print(&reply)?;
            sent = true;
        }
        if sent {
            Ok(())
        } else {
            Err(Failure::Usage(
                "req needs messages to send (--send or --stdin)".to_owned(),
            ))
        }
    }

    fn reply(&mut self, count: u64) -> Result<(), Failure> {
        let mut answered = 0;
        while let Some(reply) = self.inputs.next() {
            let request = self.recv()?;
            self.print(&request)?;
            self.send(reply)?;
            answered += 1;
            if count != 0 && answered >= count {
                break;
            }
        }
        Ok(())
    }

    fn print(&self, message: &Message) -> Result<(), Failure> {
        let mut line = Vec::new();
        for (index, frame) in message.iter().enumerate() {
            if index > 0 {
                line.extend_from_slice(self.delimiter.as_bytes());
            }
            if self.hex {
                for byte in frame.iter() {
                    line.extend_from_slice(format!("{byte:02x}").as_bytes());
                }
            } else {
                line.extend_from_slice(frame);
            }
        }
        line.push(b'\n');
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&line)
            .and_then(|()| stdout.flush())
            .map_err(|error| Failure::Usage(format!("cannot write to stdout: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_at_the_delimiter() {
        assert_eq!(
            parse_message("|hello", "|"),
            Message::from_frames(["", "hello"])
        );
        assert_eq!(
            parse_message("a::b", "::"),
            Message::from_frames(["a", "b"])
        );
        assert_eq!(parse_message("", "|"), Message::from_frames([""]));
    }
}
