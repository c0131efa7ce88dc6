//! Readiness: `PollEvents` (ZMQ_POLLIN, ZMQ_POLLOUT), and `SocketFd`, a file
//! descriptor that other event loops can watch for a socket, as libzmq's ZMQ_FD.
//!
//! The descriptor becomes readable when the socket's readiness may have changed
//! (a command reached its mailbox: a pipe attached, a pipe became readable or
//! writable again, the context shut down). It is edge-triggered in the way
//! ZMQ_FD is: it says "look again", not "a message waits". The owner then calls
//! `Socket::events` (ZMQ_EVENTS), which lowers the signal before it looks, and
//! sends or receives until `WouldBlock`; after a send or a receive, check
//! `events` again before waiting on the descriptor, since the operation itself
//! may have changed readiness without a new signal.
//!
//! It is one end of a Unix socket pair: raising writes one byte (only when not
//! already raised), lowering reads whatever is there. This file must never block
//! and never write more than one byte per lowering.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};

/// Which readiness to wait for (ZMQ_POLLIN, ZMQ_POLLOUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PollEvents {
    /// A receive would succeed.
    pub readable: bool,
    /// A send would succeed.
    pub writable: bool,
}

impl PollEvents {
    /// ZMQ_POLLIN.
    pub const READABLE: PollEvents = PollEvents {
        readable: true,
        writable: false,
    };
    /// ZMQ_POLLOUT.
    pub const WRITABLE: PollEvents = PollEvents {
        readable: false,
        writable: true,
    };
    /// ZMQ_POLLIN | ZMQ_POLLOUT.
    pub const BOTH: PollEvents = PollEvents {
        readable: true,
        writable: true,
    };

    pub(crate) fn is_empty(self) -> bool {
        !self.readable && !self.writable
    }
}

/// The signal behind a `SocketFd`.
#[derive(Debug)]
pub(crate) struct Signal {
    reader: UnixStream,
    writer: UnixStream,
    raised: AtomicBool,
}

impl Signal {
    /// A lowered signal.
    pub(crate) fn new() -> io::Result<Signal> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(Signal {
            reader,
            writer,
            raised: AtomicBool::new(false),
        })
    }

    /// Makes the descriptor readable, unless it already is.
    pub(crate) fn raise(&self) {
        if !self.raised.swap(true, Ordering::AcqRel) {
            // A full buffer means the descriptor is readable already.
            let _ = (&self.writer).write(&[1]);
        }
    }

    /// Makes the descriptor unreadable until the next `raise`. Call it before
    /// looking at the state the signal is about, so that a change made after
    /// the look raises it again.
    pub(crate) fn lower(&self) {
        // Drain first, then lower the flag: lowered first, a raise could write
        // its byte before the drain and have it swallowed, leaving the flag up
        // and the descriptor silent for good. This way a raise that lands in
        // between finds the flag still up and writes nothing, and the state it
        // announces is already visible to the look that follows.
        let mut discard = [0u8; 64];
        loop {
            match (&self.reader).read(&mut discard) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.raised.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }
}

/// A socket's readiness descriptor (ZMQ_FD): watch it for readability with
/// epoll, mio (`SourceFd`), tokio's `AsyncFd` or a GUI loop, then call
/// `Socket::events`. It stays valid while this value lives, even after the
/// socket is closed.
#[derive(Debug, Clone)]
pub struct SocketFd {
    signal: Arc<Signal>,
}

impl SocketFd {
    pub(crate) fn new(signal: Arc<Signal>) -> SocketFd {
        SocketFd { signal }
    }
}

impl AsFd for SocketFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.signal.reader.as_fd()
    }
}

impl AsRawFd for SocketFd {
    fn as_raw_fd(&self) -> RawFd {
        self.signal.reader.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes waiting on the descriptor (consumed).
    fn waiting(signal: &Signal) -> usize {
        let mut buffer = [0u8; 16];
        match (&signal.reader).read(&mut buffer) {
            Ok(count) => count,
            Err(error) => {
                assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
                0
            }
        }
    }

    #[test]
    fn raising_twice_writes_once_and_lowering_clears() {
        let signal = Signal::new().unwrap();
        assert_eq!(waiting(&signal), 0);
        signal.raise();
        signal.raise();
        assert_eq!(waiting(&signal), 1, "a raised signal is written once");
        signal.raise();
        assert_eq!(waiting(&signal), 0, "still raised: not written again");
        signal.lower();
        signal.raise();
        signal.lower();
        assert_eq!(waiting(&signal), 0, "lowering reads what a raise wrote");
        signal.raise();
        assert_eq!(
            waiting(&signal),
            1,
            "after a lowering, a raise writes again"
        );
    }
}
