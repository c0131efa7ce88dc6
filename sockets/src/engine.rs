//! `Engine`: the only place that holds both a byte stream and a ZMTP connection.
//!
//! It moves bytes between the two: reads into the connection's buffer, writes the
//! connection's output with vectored writes. It remembers readiness, since mio
//! reports edges: `readable` stays true until a read would block, `writable` until a
//! write would block. It knows nothing of pipes or sockets; the session decides what
//! to read and when. This file must never block.

use crate::transport::Stream;
use crate::zmtp::{self, Connection, ProtocolError};
use std::io::{self, IoSlice};
use std::time::Instant;

/// The most slices handed to one vectored write.
const MAX_SLICES: usize = 64;

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

/// A byte stream joined to a ZMTP connection.
#[derive(Debug)]
pub(crate) struct Engine {
    pub stream: Stream,
    pub connection: Connection,
    /// The stream may have bytes to read.
    pub readable: bool,
    /// The stream may take bytes.
    pub writable: bool,
    /// The peer closed its side: what was read is still to be decoded.
    pub peer_closed: bool,
}

impl Engine {
    /// An engine over a connected stream; the greeting's first bytes are queued.
    pub(crate) fn new(stream: Stream, config: zmtp::Config, now: Instant) -> Engine {
        Engine {
            stream,
            connection: Connection::new(config, now),
            readable: true,
            writable: true,
            peer_closed: false,
        }
    }

    /// Reads once if the stream may be readable; true if bytes arrived. At the end
    /// of the stream it sets `peer_closed` (the caller decodes what is buffered
    /// before closing, so no message the peer sent is lost).
    pub(crate) fn read_once(&mut self, now: Instant) -> Result<bool, EngineError> {
        if !self.readable || self.peer_closed {
            return Ok(false);
        }
        loop {
            let buffer = self.connection.read_buffer()?;
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
                    self.connection.handle_read(count, now)?;
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

    /// Writes pending output until it is all written or the stream is full; true
    /// if any byte was written.
    pub(crate) fn write(&mut self) -> Result<bool, EngineError> {
        let mut written_any = false;
        while self.writable && self.connection.pending_output() > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = self.connection.io_slices(&mut slices);
            let written = self
                .stream
                .write_vectored(slices.get(..count).unwrap_or(&[]));
            match written {
                Ok(0) => return Err(EngineError::Closed),
                Ok(count) => {
                    self.connection.handle_written(count);
                    written_any = true;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(EngineError::Io(error)),
            }
        }
        Ok(written_any)
    }
}
