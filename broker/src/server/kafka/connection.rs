//! One Kafka client's connection: its stream, the bytes read and not yet framed,
//! and its responses, which go out in the order of its requests (Kafka clients
//! pipeline requests and match responses by order as much as by correlation id).
//!
//! Each request that will be answered takes a slot; a slot filled while an
//! earlier one still waits (a long-polling Fetch, say) holds its response until
//! the earlier ones are filled. Ready responses move to the outbox, which the
//! loop writes with vectored writes. This file must never block, never decode a
//! request and never reorder responses.

use crate::core::Outbox;
use crate::doors::kafka::{FrameError, MAX_REQUEST_BYTES, split_frame};
use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// A slot's place in its connection's order of responses.
pub(super) type Slot = u64;

/// A Kafka client's connection.
#[derive(Debug)]
pub(super) struct Connection {
    pub stream: TcpStream,
    pub address: SocketAddr,
    /// The client's host as Kafka shows it in groups (`/address`), made once.
    pub host: String,
    /// Tells this connection from an earlier one with the same slab key.
    pub serial: u64,
    /// Bytes received and not yet split into requests.
    pub input: BytesMut,
    pub readable: bool,
    pub writable: bool,
    /// The client closed its side or sent what must close the connection: no
    /// more requests are read; it ends once its answers are written.
    pub closing: bool,
    /// Responses by slot from `first_slot` on; `None` until filled.
    slots: VecDeque<Option<Vec<Bytes>>>,
    first_slot: Slot,
    /// Ready responses, in order, waiting to be written.
    pub outbox: Outbox,
    /// A request whose effects later requests must see (a Metadata that may
    /// create topics) holds them back until it is answered: its slot.
    pub barrier: Option<Slot>,
}

impl Connection {
    pub(super) fn new(stream: TcpStream, address: SocketAddr, serial: u64) -> Connection {
        Connection {
            stream,
            address,
            host: format!("/{}", address.ip()),
            serial,
            input: BytesMut::new(),
            readable: true,
            writable: true,
            closing: false,
            slots: VecDeque::new(),
            first_slot: 0,
            outbox: Outbox::new(),
            barrier: None,
        }
    }

    /// The next whole request in the input, if one has arrived.
    pub(super) fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        split_frame(&mut self.input, MAX_REQUEST_BYTES)
    }

    /// A place for the next request's response.
    pub(super) fn open_slot(&mut self) -> Slot {
        self.slots.push_back(None);
        self.first_slot + self.slots.len() as Slot - 1
    }

    /// Requests taken and not yet answered, and answers not yet in the outbox.
    pub(super) fn waiting(&self) -> usize {
        self.slots.len()
    }

    /// Fills `slot` with a response (chunks from `encode_response`) and moves
    /// every ready response at the front to the outbox. A slot already filled or
    /// unknown is ignored (it cannot happen: each slot is filled once).
    pub(super) fn fill(&mut self, slot: Slot, response: Vec<Bytes>) {
        let Some(index) = slot.checked_sub(self.first_slot) else {
            debug_assert!(false, "slot {slot} was filled before");
            return;
        };
        let Some(place) = self.slots.get_mut(index as usize) else {
            debug_assert!(false, "slot {slot} was never opened");
            return;
        };
        debug_assert!(place.is_none(), "slot {slot} filled twice");
        *place = Some(response);
        if self.barrier == Some(slot) {
            self.barrier = None;
        }
        while let Some(Some(_)) = self.slots.front() {
            if let Some(Some(chunks)) = self.slots.pop_front() {
                for chunk in &chunks {
                    self.outbox.payload(chunk);
                }
            }
            self.first_slot += 1;
        }
    }

    /// Whether every request taken was answered and every answer written.
    pub(super) fn is_flushed(&self) -> bool {
        self.slots.is_empty() && self.outbox.is_empty()
    }
}
