//! The reactor: I/O threads on mio, their mailboxes, listeners and timers.
//!
//! An I/O thread owns listeners and sessions and runs them when mio reports
//! readiness, when a pipe activates a session through the thread's mailbox, or when
//! a deadline passes. Sockets never run here; they only send commands. Nothing in
//! this module may block except the thread's own poll.

pub mod io_thread;
pub mod listener;
pub mod mailbox;
pub mod timers;

use crate::command::SocketId;
use crate::event::EventSlot;
use crate::session::Session;
use listener::Listener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Stops a closed socket's monitor once every I/O thread that ran its
/// connections has taken the close.
#[derive(Debug)]
pub(crate) struct MonitorCountdown {
    remaining: AtomicUsize,
    events: Arc<EventSlot>,
}

impl MonitorCountdown {
    /// A countdown over `threads` I/O threads (at least one).
    pub(crate) fn new(threads: usize, events: Arc<EventSlot>) -> MonitorCountdown {
        debug_assert!(threads > 0, "with no I/O thread, stop the monitor at once");
        MonitorCountdown {
            remaining: AtomicUsize::new(threads),
            events,
        }
    }

    /// One I/O thread took the close; the last one stops the monitor.
    pub(crate) fn count_down(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.events.stop();
        }
    }
}

/// What a socket asks of an I/O thread.
#[derive(Debug)]
pub(crate) enum IoCommand {
    /// Start accepting on a bound listener.
    Listen(Box<Listener>),
    /// Start a connecting session.
    Connect(Box<Session>),
    /// A session's pipe changed (the token names the session).
    Activate(usize),
    /// Close a listener (and what it accepted) or a connecting session; the
    /// sessions flush what was queued for up to `linger`.
    CloseEndpoint {
        /// The socket that bound or connected.
        socket: SocketId,
        /// The endpoint as bound, or as given to connect.
        endpoint: String,
        /// How long to keep flushing (`None`: until done).
        linger: Option<Duration>,
    },
    /// The socket closed: flush its sessions for up to `linger`, then end them.
    CloseSocket {
        /// The socket.
        socket: SocketId,
        /// How long to keep flushing (`None`: until done).
        linger: Option<Duration>,
        /// Counts the I/O threads still to take this command; the last stops
        /// the socket's monitor, so MONITOR_STOPPED follows every event the I/O
        /// threads raised before the close, as in libzmq.
        monitor: Arc<MonitorCountdown>,
    },
    /// The context is gone: end once every session has finished.
    Stop,
}
