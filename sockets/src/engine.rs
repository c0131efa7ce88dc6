//! `Engine`: the only place that holds both a byte stream and a ZMTP connection
//! (or, for ZMQ_STREAM, the raw codec that stands in for one).
//!
//! It moves bytes between the two: reads into the connection's buffer when asked
//! for input the connection has not decoded yet, and writes the connection's
//! output with vectored writes. A raw engine has no handshake, no timers and no
//! subscriptions; the session drives both kinds alike. It remembers readiness, since mio reports edges:
//! `readable` stays true until a read would block, `writable` until a write would
//! block. Its API is small: input as decoded events, output as pipe items, a flush,
//! a deadline, and the stream's registration with an I/O thread. It knows nothing
//! of pipes' ends or sockets; the session decides how much to read per turn and
//! when to stop taking output. This file must never block.

use crate::pipe::Item;
use crate::raw::RawCodec;
use crate::transport::Stream;
use crate::zmtp::{self, Connection, Event, ProtocolError};
use std::io::{self, IoSlice};
use std::time::Instant;

/// The most slices handed to one vectored write.
const MAX_SLICES: usize = 64;
/// Output stops being accepted while this much waits to be written.
const OUTPUT_BATCH: usize = 64 * 1024;

/// Why an engine stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EngineError {
    /// The peer closed the connection.
    #[error("the peer closed the connection")]
    Closed,
    /// The operating system reported an error.
    #[error("{0}")]
    Io(io::Error),
    /// The peer broke the protocol (or a ZMTP timer expired).
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
}

/// What asking an engine for input gave.
#[derive(Debug)]
pub(crate) enum Input {
    /// The next event the peer sent.
    Event(Event),
    /// Bytes arrived and nothing is decoded from them yet: ask again.
    Arrived,
    /// Nothing more for now; `more` if the read budget ran out while the stream
    /// may still have bytes.
    Stopped {
        /// Reading is left to do.
        more: bool,
    },
}

/// What an engine speaks over its stream.
// The session boxes its engine already; boxing the ZMTP connection too would add
// a pointer hop to every call on the hot path to save a raw engine 500 bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Codec {
    /// ZMTP 3.x, for every socket type but STREAM.
    Zmtp(Connection),
    /// Raw bytes, for STREAM.
    Raw(RawCodec),
}

impl Codec {
    fn read_buffer(&mut self) -> Result<&mut [u8], ProtocolError> {
        match self {
            Codec::Zmtp(connection) => connection.read_buffer(),
            Codec::Raw(raw) => Ok(raw.read_buffer()),
        }
    }

    fn handle_read(&mut self, count: usize, now: Instant) -> Result<(), ProtocolError> {
        match self {
            Codec::Zmtp(connection) => connection.handle_read(count, now),
            Codec::Raw(raw) => {
                raw.handle_read(count);
                Ok(())
            }
        }
    }

    fn pending_output(&self) -> usize {
        match self {
            Codec::Zmtp(connection) => connection.pending_output(),
            Codec::Raw(raw) => raw.pending_output(),
        }
    }

    fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        match self {
            Codec::Zmtp(connection) => connection.io_slices(slices),
            Codec::Raw(raw) => raw.io_slices(slices),
        }
    }

    fn handle_written(&mut self, count: usize) {
        match self {
            Codec::Zmtp(connection) => connection.handle_written(count),
            Codec::Raw(raw) => raw.handle_written(count),
        }
    }
}

/// A byte stream joined to a ZMTP connection or a raw codec.
#[derive(Debug)]
pub(crate) struct Engine {
    stream: Stream,
    codec: Codec,
    /// The stream may have bytes to read.
    readable: bool,
    /// The stream may take bytes.
    writable: bool,
    /// The peer closed its side: what was read is still to be decoded.
    peer_closed: bool,
}

impl Engine {
    /// An engine over a connected stream; the greeting's first bytes are queued.
    pub(crate) fn new(stream: Stream, config: zmtp::Config, now: Instant) -> Engine {
        Engine {
            stream,
            codec: Codec::Zmtp(Connection::new(config, now)),
            readable: true,
            writable: true,
            peer_closed: false,
        }
    }

    /// A raw engine (ZMQ_STREAM) over a connected stream: no greeting, and its
    /// peer is ready at once.
    pub(crate) fn raw(stream: Stream) -> Engine {
        Engine {
            stream,
            codec: Codec::Raw(RawCodec::new()),
            readable: true,
            writable: true,
            peer_closed: false,
        }
    }

    /// Registers the stream with an I/O thread's poll under `token`.
    pub(crate) fn register(&mut self, registry: &mio::Registry, token: usize) {
        self.stream.register_with(registry, token);
    }

    /// Removes the stream from the I/O thread's poll.
    pub(crate) fn deregister(&mut self, registry: &mio::Registry) {
        let _ = registry.deregister(&mut self.stream);
    }

    /// Records readiness reported by mio.
    pub(crate) fn set_ready(&mut self, readable: bool, writable: bool) {
        self.readable |= readable;
        self.writable |= writable;
    }

    /// When the connection's next timer (handshake, heartbeat) is due.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match &self.codec {
            Codec::Zmtp(connection) => connection.poll_timeout(),
            Codec::Raw(_) => None,
        }
    }

    /// Runs the connection's timers.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Result<(), EngineError> {
        match &mut self.codec {
            Codec::Zmtp(connection) => Ok(connection.handle_timeout(now)?),
            Codec::Raw(_) => Ok(()),
        }
    }

    /// The next decoded event; if none is decoded, reads once (taking one from
    /// `budget`) unless the budget is spent. After the peer closed, what it sent
    /// is decoded first and then `Closed` is returned, so no message is lost.
    pub(crate) fn next_input(
        &mut self,
        now: Instant,
        budget: &mut usize,
    ) -> Result<Input, EngineError> {
        let event = match &mut self.codec {
            Codec::Zmtp(connection) => connection.poll_event(now)?,
            Codec::Raw(raw) => raw.poll_event(),
        };
        if let Some(event) = event {
            return Ok(Input::Event(event));
        }
        if self.peer_closed {
            return Err(EngineError::Closed);
        }
        if *budget == 0 {
            return Ok(Input::Stopped {
                more: self.readable,
            });
        }
        *budget -= 1;
        if self.read_once(now)? {
            Ok(Input::Arrived)
        } else {
            Ok(Input::Stopped { more: false })
        }
    }

    /// The ZAP request the connection's server mechanism made, once (a raw
    /// engine makes none).
    pub(crate) fn take_zap_request(&mut self) -> Option<zmtp::mechanism::ZapRequest> {
        match &mut self.codec {
            Codec::Zmtp(connection) => connection.take_zap_request(),
            Codec::Raw(_) => None,
        }
    }

    /// Hands the connection the ZAP handler's verdict: its reply, or `None` when
    /// no handler is bound; `Err` ends the connection.
    pub(crate) fn handle_zap_verdict(
        &mut self,
        verdict: Result<Option<zmtp::mechanism::ZapReply>, ProtocolError>,
        now: Instant,
    ) -> Result<(), EngineError> {
        let Codec::Zmtp(connection) = &mut self.codec else {
            return Ok(());
        };
        match verdict {
            Ok(Some(reply)) => connection.handle_zap_reply(reply, now)?,
            Ok(None) => connection.handle_zap_unavailable(now)?,
            Err(error) => return Err(EngineError::Protocol(connection.fail_zap(error))),
        }
        Ok(())
    }

    /// Whether `send` takes an item now: the handshake is done and less than a
    /// batch waits to be written.
    pub(crate) fn accepts_output(&self) -> bool {
        let ready = match &self.codec {
            Codec::Zmtp(connection) => connection.is_ready(),
            Codec::Raw(_) => true,
        };
        ready && self.codec.pending_output() < OUTPUT_BATCH
    }

    /// Encodes an item for the peer; false if the connection cannot take it. A
    /// raw engine writes a message's frames as they are, and has no
    /// subscriptions to send (such items are dropped).
    pub(crate) fn send(&mut self, item: &Item) -> bool {
        let connection = match &mut self.codec {
            Codec::Zmtp(connection) => connection,
            Codec::Raw(raw) => {
                if let Item::Message(message) = item {
                    raw.send_message(message);
                }
                return true;
            }
        };
        let sent = match item {
            Item::Message(message) => connection.send_message(message),
            Item::Subscribe(topic) => connection.send_subscribe(topic),
            Item::Cancel(topic) => connection.send_cancel(topic),
        };
        sent.is_ok()
    }

    /// Whether everything encoded has been handed to the stream.
    pub(crate) fn is_flushed(&self) -> bool {
        self.codec.pending_output() == 0
    }

    /// Writes pending output until it is all written or the stream is full; true
    /// if any byte was written.
    pub(crate) fn flush(&mut self) -> Result<bool, EngineError> {
        let mut written_any = false;
        while self.writable && self.codec.pending_output() > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = self.codec.io_slices(&mut slices);
            let written = self
                .stream
                .write_vectored(slices.get(..count).unwrap_or(&[]));
            match written {
                Ok(0) => return Err(EngineError::Closed),
                Ok(count) => {
                    self.codec.handle_written(count);
                    written_any = true;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(EngineError::Io(error)),
            }
        }
        Ok(written_any)
    }

    /// The stream's descriptor, for socket events.
    pub(crate) fn raw_fd(&self) -> i32 {
        self.stream.raw_fd()
    }

    /// The peer's numeric IP address, for TCP.
    pub(crate) fn peer_ip(&self) -> Option<String> {
        self.stream.peer_ip()
    }

    /// The stream, for a session that drains it after the last write.
    pub(crate) fn into_stream(self) -> Stream {
        self.stream
    }

    /// Reads once if the stream may be readable; true if bytes arrived. At the end
    /// of the stream it sets `peer_closed`.
    fn read_once(&mut self, now: Instant) -> Result<bool, EngineError> {
        if !self.readable || self.peer_closed {
            return Ok(false);
        }
        loop {
            let buffer = self.codec.read_buffer()?;
            if buffer.is_empty() {
                return Ok(false);
            }
            match self.stream.read(buffer) {
                Ok(0) => {
                    self.peer_closed = true;
                    self.readable = false;
                    return Ok(true);
                }
                Ok(count) => {
                    self.codec.handle_read(count, now)?;
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Ok(false);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(EngineError::Io(error)),
            }
        }
    }
}
