//! One DEALER connection to the broker's native door: fresh correlation ids,
//! requests encoded and responses decoded by the door's own codec
//! (`crate::doors::native`), every wait bounded by a deadline.
//!
//! It never matches responses to requests (its owners do, by correlation id),
//! never retries, and never panics on what the broker sends: an answer that does
//! not decode is an [`Error::Protocol`].

use std::time::{Duration, Instant};

use sinew::{Context, Message, Socket, SocketType};

use super::error::{Error, Result};
use crate::doors::native::{Request, RequestBody, Response, decode_response, encode_request};

/// `instant` plus `duration`, or about a century later when that is past what an
/// `Instant` holds (`Duration::MAX` means "no limit", never a panic).
pub(crate) fn after(instant: Instant, duration: Duration) -> Instant {
    instant
        .checked_add(duration)
        .or_else(|| instant.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(instant)
}

/// The broker's default native endpoint.
pub const DEFAULT_ENDPOINT: &str = "tcp://127.0.0.1:7420";

/// A DEALER connected to a broker's native door.
#[derive(Debug)]
pub struct Connection {
    dealer: Socket,
    endpoint: String,
    next_correlation_id: u64,
    // Dropped after the socket (fields drop in order).
    _context: Context,
}

impl Connection {
    /// Connects to `endpoint` (`tcp://HOST:PORT`, `ipc://PATH`). Like any ZeroMQ
    /// connect it succeeds before the broker is there; requests wait for it, and
    /// the socket reconnects by itself when the broker comes back.
    pub fn connect(endpoint: &str) -> Result<Connection> {
        Connection::connect_in(&Context::new(), endpoint)
    }

    /// Connects with a socket of `context`: the way to reach a broker embedded in
    /// the same program on an `inproc://` endpoint of that context.
    pub fn connect_in(context: &Context, endpoint: &str) -> Result<Connection> {
        let context = context.clone();
        let dealer = context
            .socket(SocketType::Dealer)
            .map_err(|error| Error::socket("cannot make a DEALER", &error))?;
        // What is still queued when the client goes is not waited for: callers
        // flush first when they care.
        dealer
            .set_linger(Some(Duration::ZERO))
            .map_err(|error| Error::socket("cannot set linger", &error))?;
        dealer
            .connect(endpoint)
            .map_err(|error| Error::socket(&format!("cannot connect to {endpoint}"), &error))?;
        Ok(Connection {
            dealer,
            endpoint: endpoint.to_owned(),
            next_correlation_id: 1,
            _context: context,
        })
    }

    /// The endpoint this connection was given.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `body` with a fresh correlation id (1 and up), waiting at most until
    /// `deadline` for the socket to take it; returns the id.
    pub fn send(&mut self, body: RequestBody, deadline: Instant) -> Result<u64> {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let frames = encode_request(&Request {
            correlation_id,
            body,
        });
        let left = deadline.saturating_duration_since(Instant::now());
        match self
            .dealer
            .send_with_timeout(Message::from_frames(frames), Some(left))
        {
            Ok(()) => Ok(correlation_id),
            Err(failed)
                if matches!(
                    failed.error,
                    sinew::Error::TimedOut | sinew::Error::WouldBlock
                ) =>
            {
                Err(Error::TimedOut(format!(
                    "the connection to {} did not take a request in time",
                    self.endpoint
                )))
            }
            Err(failed) => Err(Error::socket("cannot send", &failed.error)),
        }
    }

    /// The next response, waiting at most until `deadline`; `None` when it passes.
    pub fn receive(&mut self, deadline: Instant) -> Result<Option<Response>> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.dealer.recv_with_timeout(Some(left)) {
            Ok(message) => decode_response(message.frames())
                .map(Some)
                .map_err(|error| Error::from_protocol(&error)),
            Err(sinew::Error::TimedOut | sinew::Error::WouldBlock) => Ok(None),
            Err(error) => Err(Error::socket("cannot receive", &error)),
        }
    }

    /// Sends `body` and waits until `deadline` for its answer, dropping any other
    /// response (an owner that pipelines uses [`send`](Self::send) and
    /// [`receive`](Self::receive) instead). An error response is an [`Error`].
    pub fn call(
        &mut self,
        body: RequestBody,
        deadline: Instant,
    ) -> Result<crate::doors::native::ResponseBody> {
        let command = body.command();
        let correlation_id = self.send(body, deadline)?;
        loop {
            match self.receive(deadline)? {
                Some(response) if response.correlation_id == correlation_id => {
                    return match response.body {
                        crate::doors::native::ResponseBody::Error(error) => {
                            Err(Error::from_response(error))
                        }
                        body => Ok(body),
                    };
                }
                Some(_) => continue,
                None => {
                    return Err(Error::TimedOut(format!(
                        "no answer to {} from {}",
                        command.name(),
                        self.endpoint
                    )));
                }
            }
        }
    }
}
