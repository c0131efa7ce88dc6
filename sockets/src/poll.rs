//! `poll`: wait until any of several sockets can receive or send, like `zmq_poll`.
//!
//! Readiness is each socket's own answer (`is_readable`, `is_writable`), which also
//! arms the wake-ups of idle pipes; waiting parks the calling thread on every
//! socket's mailbox at once. This file must never spin: it parks between checks.

use crate::command::Waiter;
use crate::error::{Error, Result};
pub use crate::readiness::PollEvents;
use crate::socket::Socket;
use std::time::{Duration, Instant};

/// One socket to poll, and what was found.
#[derive(Debug)]
pub struct PollItem<'a> {
    socket: &'a Socket,
    interest: PollEvents,
    ready: PollEvents,
}

impl<'a> PollItem<'a> {
    /// Polls `socket` for `interest`.
    pub fn new(socket: &'a Socket, interest: PollEvents) -> PollItem<'a> {
        PollItem {
            socket,
            interest,
            ready: PollEvents::default(),
        }
    }

    /// What the last poll found.
    pub fn ready(&self) -> PollEvents {
        self.ready
    }

    /// Whether the last poll found the socket readable.
    pub fn is_readable(&self) -> bool {
        self.ready.readable
    }

    /// Whether the last poll found the socket writable.
    pub fn is_writable(&self) -> bool {
        self.ready.writable
    }
}

/// Waits until at least one item is ready or `timeout` passes (`None`: forever);
/// returns how many items are ready.
pub fn poll(items: &mut [PollItem<'_>], timeout: Option<Duration>) -> Result<usize> {
    // A timeout too long to represent waits forever.
    let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
    loop {
        let mut count = 0;
        for item in items.iter_mut() {
            let mut core = item.socket.core();
            if core.context().is_terminated() {
                return Err(Error::Terminated);
            }
            item.ready = PollEvents {
                readable: item.interest.readable && core.is_readable(),
                writable: item.interest.writable && core.is_writable(),
            };
            if !item.ready.is_empty() {
                count += 1;
            }
        }
        if count > 0 || timeout == Some(Duration::ZERO) {
            return Ok(count);
        }
        let now = Instant::now();
        if deadline.is_some_and(|deadline| now >= deadline) {
            return Ok(0);
        }
        let mailboxes: Vec<_> = items
            .iter()
            .map(|item| std::sync::Arc::clone(item.socket.core().mailbox()))
            .collect();
        for mailbox in &mailboxes {
            mailbox.register(Waiter::Thread(std::thread::current()));
        }
        if !mailboxes.iter().any(|mailbox| mailbox.has_commands()) {
            match deadline {
                Some(deadline) => {
                    std::thread::park_timeout(deadline.saturating_duration_since(now))
                }
                None => std::thread::park(),
            }
        }
        for mailbox in &mailboxes {
            mailbox.unregister();
        }
    }
}
