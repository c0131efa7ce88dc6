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
use crate::session::Session;
use listener::Listener;
use std::time::Duration;

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
    },
    /// The context is gone: end once every session has finished.
    Stop,
}
