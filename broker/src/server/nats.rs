//! One NATS client's connection in the loop: its stream, its input buffer and
//! its readiness.
//!
//! mio reports readiness by edges, so `readable` and `writable` stay set until a
//! read or write would block. Reads are budgeted per turn; writes drain the
//! core's outbox with vectored writes. This file must never block and never
//! interpret the protocol (the core does).

use crate::core::{ClientId, Outbox};
use bytes::BytesMut;
use mio::net::TcpStream;
use std::io::{self, IoSlice, Read, Write};
use std::time::Instant;

/// Bytes read per system call.
const READ_SIZE: usize = 64 * 1024;
/// Room reserved at a time for reads. Payloads are shared slices of the read
/// buffer, so a buffer stays allocated while any of its payloads waits to be
/// written; reserving room for several reads at once makes that one allocation
/// per several reads, not one per read (a profile showed a quarter of the loop's
/// time in allocating and freeing 64 KiB buffers at 1 KiB payloads).
const RESERVE_SIZE: usize = 512 * 1024;
/// Reads per turn before other connections get theirs.
const READ_BUDGET: usize = 4;
/// The most slices handed to one vectored write (Linux takes up to 1024): each
/// shared payload is a slice of its own, so 64 let only 32 messages of 1 KiB
/// through per system call.
const MAX_SLICES: usize = 512;

/// What a read turn found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadOutcome {
    /// Bytes arrived; `more` if the budget ran out before the socket was empty,
    /// `closed` if the client closed its side after them (they are still to be
    /// handled, and answered, before the connection ends).
    Data { more: bool, closed: bool },
    /// Nothing to read now.
    Idle,
    /// The client closed its side, or the connection failed.
    Closed,
}

/// A NATS client's connection.
#[derive(Debug)]
pub(super) struct Client {
    pub id: ClientId,
    pub stream: TcpStream,
    /// Bytes received and not yet consumed by the core.
    pub input: BytesMut,
    pub readable: bool,
    pub writable: bool,
    /// Closing: it ends once its outbox is written, or at this time.
    pub close_by: Option<Instant>,
}

impl Client {
    pub(super) fn new(id: ClientId, stream: TcpStream) -> Client {
        Client {
            id,
            stream,
            input: BytesMut::new(),
            readable: true,
            writable: true,
            close_by: None,
        }
    }

    /// Reads up to the budget into `input`.
    pub(super) fn read(&mut self) -> ReadOutcome {
        if !self.readable || self.close_by.is_some() {
            return ReadOutcome::Idle;
        }
        let mut arrived = false;
        for _ in 0..READ_BUDGET {
            if self.input.capacity() - self.input.len() < READ_SIZE / 4 {
                self.input.reserve(RESERVE_SIZE);
            }
            let start = self.input.len();
            let room = self.input.capacity() - start;
            self.input.resize(start + room.min(READ_SIZE), 0);
            let result = self
                .stream
                .read(self.input.get_mut(start..).unwrap_or(&mut []));
            match result {
                Ok(0) => {
                    self.input.truncate(start);
                    self.readable = false;
                    return if arrived {
                        ReadOutcome::Data {
                            more: false,
                            closed: true,
                        }
                    } else {
                        ReadOutcome::Closed
                    };
                }
                Ok(count) => {
                    self.input.truncate(start + count);
                    arrived = true;
                }
                Err(error) => {
                    self.input.truncate(start);
                    match error.kind() {
                        io::ErrorKind::WouldBlock => {
                            self.readable = false;
                            return if arrived {
                                ReadOutcome::Data {
                                    more: false,
                                    closed: false,
                                }
                            } else {
                                ReadOutcome::Idle
                            };
                        }
                        io::ErrorKind::Interrupted => {}
                        _ => return ReadOutcome::Closed,
                    }
                }
            }
        }
        ReadOutcome::Data {
            more: true,
            closed: false,
        }
    }

    /// Writes from `outbox` until it is empty or the socket is full.
    pub(super) fn write(&mut self, outbox: &mut Outbox) -> io::Result<()> {
        while self.writable && !outbox.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = outbox.io_slices(&mut slices);
            match self
                .stream
                .write_vectored(slices.get(..count).unwrap_or(&[]))
            {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => outbox.advance(written),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}
