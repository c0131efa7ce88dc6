//! I/O thread mailboxes: how sockets and pipes tell an I/O thread that something
//! happened.
//!
//! An `IoMailbox` is a lock-free queue of commands for an I/O thread plus its mio
//! waker, which is written only when the thread is asleep in its poll. Commands
//! flow only on state changes, never once per message. This file must never block
//! a sender.

use crate::pipe::{Activate, PipeEvent, PipeId};
use crossbeam_queue::SegQueue;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};

/// An I/O thread's inbox: commands plus the waker that interrupts its poll.
pub struct IoMailbox<Command> {
    commands: SegQueue<Command>,
    waker: mio::Waker,
    sleeping: AtomicBool,
}

impl<Command> IoMailbox<Command> {
    /// A mailbox whose waker interrupts `poll`'s `Poll`.
    pub fn new(waker: mio::Waker) -> IoMailbox<Command> {
        IoMailbox {
            commands: SegQueue::new(),
            waker,
            sleeping: AtomicBool::new(false),
        }
    }

    /// Delivers a command; writes the waker only if the thread is asleep.
    pub fn send(&self, command: Command) {
        self.commands.push(command);
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::Relaxed)
            && self.sleeping.swap(false, Ordering::SeqCst)
            && let Err(error) = self.waker.wake()
        {
            tracing::error!(%error, "could not wake an I/O thread");
        }
    }

    /// Takes the next command.
    pub fn receive(&self) -> Option<Command> {
        self.commands.pop()
    }

    /// Called by the I/O thread before it sleeps: returns false if commands are
    /// already waiting (then it must not sleep).
    pub fn prepare_to_sleep(&self) -> bool {
        self.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.commands.is_empty() {
            true
        } else {
            self.sleeping.store(false, Ordering::SeqCst);
            false
        }
    }

    /// Called by the I/O thread when it wakes.
    pub fn awake(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
    }
}

impl<Command> fmt::Debug for IoMailbox<Command> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IoMailbox")
            .field("commands", &self.commands.len())
            .finish_non_exhaustive()
    }
}

/// Wakes one session on an I/O thread when its pipe changes.
pub struct SessionActivator<Command> {
    mailbox: Arc<IoMailbox<Command>>,
    make: fn(usize) -> Command,
    token: usize,
}

impl<Command> SessionActivator<Command> {
    /// An activator that sends `make(token)` to `mailbox`.
    pub fn new(mailbox: Arc<IoMailbox<Command>>, make: fn(usize) -> Command, token: usize) -> Self {
        SessionActivator {
            mailbox,
            make,
            token,
        }
    }
}

impl<Command> fmt::Debug for SessionActivator<Command> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SessionActivator")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl<Command: Send + 'static> Activate for SessionActivator<Command> {
    fn activate(&self, _pipe: PipeId, _event: PipeEvent) {
        self.mailbox.send((self.make)(self.token));
    }
}
