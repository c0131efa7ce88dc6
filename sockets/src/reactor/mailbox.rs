//! Mailboxes: how I/O threads and pipes tell a socket, or an I/O thread, that
//! something happened.
//!
//! A `SocketMailbox` is a lock-free queue of commands plus the threads parked on it
//! (a blocked send, receive or poll). An `IoMailbox` is a lock-free queue of commands
//! for an I/O thread plus its mio waker, which is written only when the thread is
//! asleep in its poll. Commands flow only on state changes (a pipe attached, a pipe
//! became readable), never once per message. This file must never block a sender.

use crate::pipe::{Activate, PipeEnd, PipeEvent, PipeId};
use crate::zmtp::PeerInfo;
use crossbeam_queue::SegQueue;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex};
use std::thread::Thread;

/// Something a socket must learn about.
#[derive(Debug)]
pub enum SocketCommand {
    /// A new pipe to a peer; `peer` is `None` until the handshake completes.
    Attach {
        /// The socket's end.
        pipe: PipeEnd,
        /// The peer, when already known.
        peer: Option<PeerInfo>,
    },
    /// The handshake on an existing pipe completed (again, after a reconnect).
    PeerReady {
        /// Which pipe.
        pipe: PipeId,
        /// Who is at the other end.
        peer: PeerInfo,
    },
    /// The connection behind a pipe ended; the pipe stays and will reconnect.
    PeerLost {
        /// Which pipe.
        pipe: PipeId,
    },
    /// A pipe's state changed.
    Pipe {
        /// Which pipe.
        pipe: PipeId,
        /// What changed.
        event: PipeEvent,
    },
}

/// Something parked on a mailbox, to be woken when a command arrives.
#[derive(Debug, Clone)]
pub enum Waiter {
    /// A thread blocked in send, receive or poll.
    Thread(Thread),
}

impl Waiter {
    fn wake(&self) {
        match self {
            Waiter::Thread(thread) => thread.unpark(),
        }
    }
}

/// A socket's inbox.
#[derive(Default)]
pub struct SocketMailbox {
    commands: SegQueue<SocketCommand>,
    waiters: Mutex<Vec<Waiter>>,
    waiting: AtomicUsize,
}

impl SocketMailbox {
    /// An empty mailbox.
    pub fn new() -> SocketMailbox {
        SocketMailbox::default()
    }

    /// Delivers a command and wakes whoever waits.
    pub fn send(&self, command: SocketCommand) {
        self.commands.push(command);
        self.notify();
    }

    /// Takes the next command.
    pub fn receive(&self) -> Option<SocketCommand> {
        self.commands.pop()
    }

    /// Whether commands are waiting.
    pub fn has_commands(&self) -> bool {
        !self.commands.is_empty()
    }

    /// Wakes whoever waits, without a command (context shutdown).
    pub fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::Relaxed) == 0 {
            return;
        }
        let waiters = match self.waiters.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        for waiter in &waiters {
            waiter.wake();
        }
    }

    /// Parks `waiter` here until `unregister`; check for commands after this.
    pub fn register(&self, waiter: Waiter) {
        let mut waiters = match self.waiters.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        waiters.push(waiter);
        self.waiting.store(waiters.len(), Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Removes every waiter registered by the current thread, and any task.
    pub fn unregister(&self) {
        let current = std::thread::current().id();
        let mut waiters = match self.waiters.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        waiters.retain(|waiter| match waiter {
            Waiter::Thread(thread) => thread.id() != current,
        });
        self.waiting.store(waiters.len(), Ordering::SeqCst);
    }
}

impl fmt::Debug for SocketMailbox {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SocketMailbox")
            .field("commands", &self.commands.len())
            .finish_non_exhaustive()
    }
}

impl Activate for SocketMailbox {
    fn activate(&self, pipe: PipeId, event: PipeEvent) {
        self.send(SocketCommand::Pipe { pipe, event });
    }
}

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
        if self.sleeping.load(Ordering::Relaxed) && self.sleeping.swap(false, Ordering::SeqCst) {
            if let Err(error) = self.waker.wake() {
                tracing::error!(%error, "could not wake an I/O thread");
            }
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
