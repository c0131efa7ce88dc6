//! Reading and writing a client's TCP stream for the loop, the same way for every
//! door that speaks over plain TCP: reads into the connection's input buffer within
//! a per-turn budget, vectored writes from an `Outbox`.
//!
//! mio reports readiness by edges, so a connection's `readable` and `writable`
//! flags stay set until a read or write would block. This file must never block
//! and never interpret what it reads.

use crate::core::Outbox;
use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use rustc_hash::FxHashSet;
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};

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
/// spliced or shared payload is a slice of its own, and the line before it
/// another, so 64 let only 32 messages of 1 KiB through per system call.
const MAX_SLICES: usize = 1024;

/// Connections to read again next turn without waiting for readiness (their
/// budget ran out, or they were held back), each at most once: a connection
/// queued twice would get two budgets in one turn, and one queued on every
/// readiness edge more each turn (a busy publisher's reads then piled up
/// megabytes before anything was written).
#[derive(Debug, Default)]
pub(crate) struct ReadyQueue {
    keys: VecDeque<usize>,
    queued: FxHashSet<usize>,
}

impl ReadyQueue {
    /// Queues `key` unless it already is.
    pub(crate) fn push(&mut self, key: usize) {
        if self.queued.insert(key) {
            self.keys.push_back(key);
        }
    }

    /// This turn's connections, in order; what they queue goes to the next turn.
    pub(crate) fn take_turn(&mut self) -> VecDeque<usize> {
        self.queued.clear();
        std::mem::take(&mut self.keys)
    }

    /// Forgets a connection that went away.
    pub(crate) fn remove(&mut self, key: usize) {
        if self.queued.remove(&key) {
            self.keys.retain(|&queued| queued != key);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What a read turn found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// Bytes arrived; `more` if the budget ran out before the socket was empty,
    /// `closed` if the client closed its side after them (they are still to be
    /// handled, and answered, before the connection ends).
    Data { more: bool, closed: bool },
    /// Nothing to read now.
    Idle,
    /// The client closed its side, or the connection failed.
    Closed,
}

/// Reads up to the budget into `input`; clears `readable` when the socket is
/// empty.
pub(super) fn read(
    stream: &mut TcpStream,
    input: &mut BytesMut,
    readable: &mut bool,
) -> ReadOutcome {
    if !*readable {
        return ReadOutcome::Idle;
    }
    let mut arrived = false;
    for _ in 0..READ_BUDGET {
        if input.capacity() - input.len() < READ_SIZE / 4 {
            input.reserve(RESERVE_SIZE);
        }
        let start = input.len();
        let room = input.capacity() - start;
        input.resize(start + room.min(READ_SIZE), 0);
        let result = stream.read(input.get_mut(start..).unwrap_or(&mut []));
        match result {
            Ok(0) => {
                input.truncate(start);
                *readable = false;
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
                input.truncate(start + count);
                arrived = true;
            }
            Err(error) => {
                input.truncate(start);
                match error.kind() {
                    io::ErrorKind::WouldBlock => {
                        *readable = false;
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

/// Writes from `outbox`, reading what it splices in from `turn` (the core's
/// payloads of this turn; empty for a door that splices nothing), until it is
/// empty or the socket is full (then clears `writable`).
pub(super) fn write(
    stream: &mut TcpStream,
    outbox: &mut Outbox,
    turn: &[Bytes],
    writable: &mut bool,
) -> io::Result<()> {
    while *writable && !outbox.is_empty() {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let count = outbox.io_slices(turn, &mut slices);
        match stream.write_vectored(slices.get(..count).unwrap_or(&[])) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => outbox.advance(written),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => *writable = false,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ReadyQueue;

    #[test]
    fn a_connection_is_queued_once_per_turn() {
        let mut ready = ReadyQueue::default();
        ready.push(3);
        ready.push(5);
        ready.push(3);
        ready.remove(5);
        let turn = ready.take_turn();
        assert_eq!(turn, [3]);
        assert!(ready.is_empty());
        // Queued again while this turn's keys are served: next turn, once.
        ready.push(3);
        ready.push(3);
        assert_eq!(ready.take_turn(), [3]);
    }
}
