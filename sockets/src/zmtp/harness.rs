//! A test harness that runs two connections against each other on a virtual clock.
//!
//! Bytes move between the two in chunks of a chosen size, so tests can exercise
//! every split of the stream; time moves only when a test advances it, so a
//! heartbeat timeout takes microseconds. Test-only: it must never be compiled into
//! the library.
#![cfg(test)]

use super::{Config, Connection, Event, ProtocolError};
use std::io::IoSlice;
use std::time::{Duration, Instant};

/// Bytes written as hex digits, spaces allowed (how tests spell RFC byte vectors).
/// A malformed vector is a bug in the test, reported by name.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes: Option<Vec<u8>> = digits
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((high.to_digit(16)? << 4 | low.to_digit(16)?) as u8),
            _ => None,
        })
        .collect();
    match bytes {
        Some(bytes) => bytes,
        None => panic!("not a hex byte vector: {text:?}"),
    }
}

/// Which of the two connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

/// Two connections wired back to back.
#[derive(Debug)]
pub(crate) struct Pair {
    pub left: Connection,
    pub right: Connection,
    pub now: Instant,
    pub left_events: Vec<Event>,
    pub right_events: Vec<Event>,
    /// The most bytes moved in one step (to exercise splits).
    pub chunk: usize,
}

impl Pair {
    pub fn new(left: Config, right: Config) -> Pair {
        let now = Instant::now();
        Pair {
            left: Connection::new(left, now),
            right: Connection::new(right, now),
            now,
            left_events: Vec::new(),
            right_events: Vec::new(),
            chunk: usize::MAX,
        }
    }

    /// Moves bytes both ways and drains events until nothing moves.
    pub fn pump(&mut self) -> Result<(), (Side, ProtocolError)> {
        loop {
            let moved_right = transfer(&mut self.left, &mut self.right, self.now, self.chunk)
                .map_err(|error| (Side::Right, error))?;
            drain(&mut self.right, &mut self.right_events, self.now)
                .map_err(|error| (Side::Right, error))?;
            let moved_left = transfer(&mut self.right, &mut self.left, self.now, self.chunk)
                .map_err(|error| (Side::Left, error))?;
            drain(&mut self.left, &mut self.left_events, self.now)
                .map_err(|error| (Side::Left, error))?;
            if moved_right == 0 && moved_left == 0 {
                return Ok(());
            }
        }
    }

    /// Advances the virtual clock, runs both sides' timers, and pumps.
    pub fn advance(&mut self, by: Duration) -> Result<(), (Side, ProtocolError)> {
        self.now += by;
        self.left
            .handle_timeout(self.now)
            .map_err(|error| (Side::Left, error))?;
        self.right
            .handle_timeout(self.now)
            .map_err(|error| (Side::Right, error))?;
        self.pump()
    }
}

/// Every byte `connection` has queued for its peer.
pub(crate) fn take_output(connection: &mut Connection) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let mut slices = [IoSlice::new(&[]); 16];
        let count = connection.io_slices(&mut slices);
        if count == 0 {
            return bytes;
        }
        let before = bytes.len();
        for slice in &slices[..count] {
            bytes.extend_from_slice(slice);
        }
        connection.handle_written(bytes.len() - before);
    }
}

/// Moves up to `chunk` bytes at a time from `from` to `to`; returns how many moved.
fn transfer(
    from: &mut Connection,
    to: &mut Connection,
    now: Instant,
    chunk: usize,
) -> Result<usize, ProtocolError> {
    let bytes = take_output(from);
    for piece in bytes.chunks(chunk.max(1)) {
        to.handle_input(piece, now)?;
    }
    Ok(bytes.len())
}

fn drain(
    connection: &mut Connection,
    events: &mut Vec<Event>,
    now: Instant,
) -> Result<(), ProtocolError> {
    while let Some(event) = connection.poll_event(now)? {
        events.push(event);
    }
    Ok(())
}
