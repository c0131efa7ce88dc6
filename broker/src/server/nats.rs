//! One NATS client's connection in the loop: its stream, its input buffer and
//! its readiness.
//!
//! mio reports readiness by edges, so `readable` and `writable` stay set until a
//! read or write would block (`stream.rs` reads and writes). This file must never
//! block and never interpret the protocol (the core does).

use super::stream::{self, ReadOutcome};
use crate::core::{ClientId, Outbox};
use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use std::io;
use std::time::Instant;

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
        if self.close_by.is_some() {
            return ReadOutcome::Idle;
        }
        stream::read(&mut self.stream, &mut self.input, &mut self.readable)
    }

    /// Writes from `outbox` (with the turn's payloads it splices in) until it
    /// is empty or the socket is full.
    pub(super) fn write(&mut self, outbox: &mut Outbox, turn: &[Bytes]) -> io::Result<()> {
        stream::write(&mut self.stream, outbox, turn, &mut self.writable)
    }
}
