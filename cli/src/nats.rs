//! `sinew pub`, `sub`, `request` and `reply`: NATS client commands, in the habits of
//! the `nats` CLI, on `sinew_broker::client::nats`. They talk to any server of the
//! NATS client protocol (nats-server today, Sinew's broker later).
//!
//! The contract scripts rely on:
//!
//! - stdout carries only what was received, in the format of [`FORMAT`]; progress
//!   goes to stderr, and `sub` and `reply` write their "Subscribing on" line there
//!   only once the server has the subscription (after a PING/PONG round trip), so a
//!   script can wait for it before publishing;
//! - exit 0 when done, 1 for bad arguments or a failed connection, 2 when a wait
//!   lasts longer than `--timeout`, 3 when a request finds no responders.
//!
//! It must never print anything on stdout but received messages.

use clap::Args;
use sinew_broker::client::nats::{Client, ConnectOptions, Error, Headers, Message};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// How `sub` and `reply` print each message (shared by their help texts).
const FORMAT: &str = "\
Output (stdout), one block per message, as the `nats` CLI prints it:
  [#N] Received on \"SUBJECT\"                      (or: ... with reply \"REPLY\")
  Name: value                                     (one line per header, if any,
                                                   then an empty line)
  PAYLOAD
  (an empty line)
With --raw, only each payload, one per line.
Stderr gets one line, 'Subscribing on \"SUBJECT\"', once the server has the
subscription. Exit status: 0 when --count messages arrived, 1 for bad arguments or
a failed connection, 2 when --timeout passes waiting for a message.";

/// The server option every command takes.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server to connect to: nats://[TOKEN@|USER:PASSWORD@]HOST[:PORT].
    #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
    server: String,
}

/// Arguments of `sinew pub`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints nothing; exits 0 once the server has every message \
(a PING/PONG round trip after the last), 1 on any error."
)]
pub struct PublishArgs {
    /// The subject to publish on.
    subject: String,
    /// The payload.
    message: String,
    /// Publish the message N times.
    #[arg(long, value_name = "N", default_value_t = 1)]
    count: u64,
    /// Ask for answers on subject R.
    #[arg(long, value_name = "R")]
    reply: Option<String>,
    /// Add header NAME:VALUE (repeatable; sent with HPUB).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    #[command(flatten)]
    server: ServerArgs,
}

/// Arguments of `sinew sub`.
#[derive(Debug, Args)]
#[command(after_help = FORMAT)]
pub struct SubscribeArgs {
    /// The subject to subscribe to (`*` matches one token, `>` the rest).
    subject: String,
    /// Join queue group Q: each message goes to one member of the group.
    #[arg(long, value_name = "Q")]
    queue: Option<String>,
    /// Exit 0 after N messages (0: never); the server is told to stop at N.
    #[arg(long, value_name = "N", default_value_t = 0)]
    count: u64,
    /// Exit 2 when a wait for the next message lasts MS milliseconds.
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Print only each payload, one per line.
    #[arg(long)]
    raw: bool,
    #[command(flatten)]
    server: ServerArgs,
}

/// Arguments of `sinew request`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints the reply's payload and a newline on stdout. Exit \
status: 0 on a reply, 1 for bad arguments or a failed connection, 2 when no reply \
came within --timeout, 3 when the server says no one subscribes to SUBJECT."
)]
pub struct RequestArgs {
    /// The subject to send the request on.
    subject: String,
    /// The request's payload.
    message: String,
    /// How long to wait for the reply, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    timeout: u64,
    /// Add header NAME:VALUE (repeatable; sent with HPUB).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    #[command(flatten)]
    server: ServerArgs,
}

/// Arguments of `sinew reply`.
#[derive(Debug, Args)]
#[command(after_help = FORMAT)]
pub struct ReplyArgs {
    /// The subject to answer requests on.
    subject: String,
    /// The payload of every answer.
    message: String,
    /// Join queue group Q, so that one replier of the group answers each request.
    #[arg(long, value_name = "Q")]
    queue: Option<String>,
    /// Exit 0 after answering N requests (0: never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    count: u64,
    /// Exit 2 when a wait for the next request lasts MS milliseconds.
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Print only each request's payload, one per line.
    #[arg(long)]
    raw: bool,
    #[command(flatten)]
    server: ServerArgs,
}

/// How a command ended badly.
enum Failure {
    /// Bad arguments, a failed connection, any other error: exit 1.
    Usage(String),
    /// A wait lasted longer than allowed: exit 2.
    TimedOut(String),
    /// A request found no responders: exit 3.
    NoResponders(String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        match error {
            Error::TimedOut => Failure::TimedOut("timed out".to_owned()),
            Error::NoResponders { subject } => {
                Failure::NoResponders(format!("no responders on {subject:?}"))
            }
            other => Failure::Usage(other.to_string()),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Failure {
        Failure::Usage(format!("cannot write output: {error}"))
    }
}

fn finish(command: &str, result: Result<(), Failure>) -> ExitCode {
    let (message, code) = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => (message, 1),
        Err(Failure::TimedOut(message)) => (message, 2),
        Err(Failure::NoResponders(message)) => (message, 3),
    };
    eprintln!("sinew {command}: {message}");
    ExitCode::from(code)
}

fn connect(server: &ServerArgs, name: &str) -> Result<Client, Failure> {
    let options = ConnectOptions {
        name: format!("sinew {name}"),
        ..ConnectOptions::default()
    };
    Client::connect_with(&server.server, &options)
        .map_err(|error| Failure::Usage(format!("cannot connect to {}: {error}", server.server)))
}

fn parse_headers(pairs: &[String]) -> Result<Option<Headers>, Failure> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut headers = Headers::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once(':')
            .ok_or_else(|| Failure::Usage(format!("header {pair:?} is not NAME:VALUE")))?;
        headers.append(name.trim(), value.trim());
    }
    Ok(Some(headers))
}

/// A timeout in milliseconds; none waits for ever.
fn wait(milliseconds: Option<u64>) -> Duration {
    milliseconds.map_or(Duration::MAX, Duration::from_millis)
}

/// How long `pub` and `reply` wait for the server to take what they sent.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `sinew pub`.
pub fn publish(args: PublishArgs) -> ExitCode {
    finish("pub", run_publish(&args))
}

fn run_publish(args: &PublishArgs) -> Result<(), Failure> {
    let headers = parse_headers(&args.headers)?;
    let mut client = connect(&args.server, "pub")?;
    for _ in 0..args.count {
        client.publish_with(
            &args.subject,
            args.reply.as_deref(),
            headers.as_ref(),
            args.message.as_bytes(),
        )?;
    }
    client.flush(FLUSH_TIMEOUT)?;
    Ok(())
}

/// Runs `sinew sub`.
pub fn subscribe(args: SubscribeArgs) -> ExitCode {
    finish("sub", run_subscribe(&args))
}

fn run_subscribe(args: &SubscribeArgs) -> Result<(), Failure> {
    let mut client = connect(&args.server, "sub")?;
    let listening = Listening {
        subject: &args.subject,
        queue: args.queue.as_deref(),
        count: args.count,
        timeout: args.timeout,
        raw: args.raw,
    };
    listening.run(&mut client, |_, _, _| Ok(()))
}

/// What `sub` and `reply` share: the subscription, the count, the printing.
struct Listening<'a> {
    subject: &'a str,
    queue: Option<&'a str>,
    count: u64,
    timeout: Option<u64>,
    raw: bool,
}

impl Listening<'_> {
    /// Subscribes, then prints each message and hands it to `each` (with its
    /// number), until the count is reached.
    fn run(
        &self,
        client: &mut Client,
        mut each: impl FnMut(&mut Client, &Message, u64) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        listen(client, self.subject, self.queue, self.count)?;
        let mut printer = Printer {
            raw: self.raw,
            number: 0,
        };
        while self.count == 0 || printer.number < self.count {
            let message = next(client, self.timeout)?;
            printer.print(&message)?;
            each(client, &message, printer.number)?;
        }
        Ok(())
    }
}

/// Runs `sinew request`.
pub fn request(args: RequestArgs) -> ExitCode {
    finish("request", run_request(&args))
}

fn run_request(args: &RequestArgs) -> Result<(), Failure> {
    let headers = parse_headers(&args.headers)?;
    let mut client = connect(&args.server, "request")?;
    let timeout = Duration::from_millis(args.timeout);
    let reply = client
        .request_with(
            &args.subject,
            headers.as_ref(),
            args.message.as_bytes(),
            timeout,
        )
        .map_err(|error| match error {
            Error::TimedOut => Failure::TimedOut(format!(
                "no reply on {:?} within {} ms",
                args.subject, args.timeout
            )),
            other => Failure::from(other),
        })?;
    let mut out = std::io::stdout().lock();
    out.write_all(&reply.payload)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Runs `sinew reply`.
pub fn reply(args: ReplyArgs) -> ExitCode {
    finish("reply", run_reply(&args))
}

fn run_reply(args: &ReplyArgs) -> Result<(), Failure> {
    let mut client = connect(&args.server, "reply")?;
    let listening = Listening {
        subject: &args.subject,
        queue: args.queue.as_deref(),
        count: args.count,
        timeout: args.timeout,
        raw: args.raw,
    };
    listening.run(&mut client, |client, message, number| {
        match &message.reply {
            Some(reply) => client.publish(reply, args.message.as_bytes())?,
            None => eprintln!("sinew reply: message #{number} has no reply subject"),
        }
        Ok(())
    })?;
    // The last answer must reach the server before the connection closes.
    client.flush(FLUSH_TIMEOUT)?;
    Ok(())
}

/// Subscribes, waits until the server has the subscription, and says so on stderr.
fn listen(
    client: &mut Client,
    subject: &str,
    queue: Option<&str>,
    count: u64,
) -> Result<(), Failure> {
    let subscription = client.subscribe(subject, queue)?;
    if count > 0 {
        client.unsubscribe(subscription, Some(count))?;
    }
    client.flush(FLUSH_TIMEOUT)?;
    match queue {
        Some(queue) => eprintln!("Subscribing on {subject:?} in group {queue:?}"),
        None => eprintln!("Subscribing on {subject:?}"),
    }
    Ok(())
}

fn next(client: &mut Client, timeout: Option<u64>) -> Result<Message, Failure> {
    client
        .next_message(wait(timeout))
        .map_err(|error| match error {
            Error::TimedOut => Failure::TimedOut(format!(
                "timed out after {} ms waiting for a message",
                timeout.unwrap_or(0)
            )),
            other => Failure::from(other),
        })
}

/// Prints received messages in the `nats` CLI's layout, numbered from 1.
struct Printer {
    raw: bool,
    number: u64,
}

impl Printer {
    fn print(&mut self, message: &Message) -> std::io::Result<()> {
        self.number += 1;
        let mut out = std::io::stdout().lock();
        if self.raw {
            out.write_all(&message.payload)?;
            out.write_all(b"\n")?;
            return out.flush();
        }
        match &message.reply {
            Some(reply) => writeln!(
                out,
                "[#{}] Received on {:?} with reply {:?}",
                self.number, message.subject, reply
            )?,
            None => writeln!(out, "[#{}] Received on {:?}", self.number, message.subject)?,
        }
        if let Some(headers) = message.headers.as_ref().filter(|h| !h.entries.is_empty()) {
            for (name, value) in &headers.entries {
                writeln!(out, "{name}: {value}")?;
            }
            writeln!(out)?;
        }
        out.write_all(&message.payload)?;
        out.write_all(b"\n")?;
        if !message.payload.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}
