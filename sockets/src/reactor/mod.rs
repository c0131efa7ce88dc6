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
