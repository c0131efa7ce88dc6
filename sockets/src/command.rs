//! What every layer of a context shares about a socket: its id, its link (type,
//! options and mailbox) and the commands that reach it.
//!
//! This module sits at the bottom of the crate's runtime layers: transports, the
//! engine, sessions, I/O threads and the socket core all name these types, and it
//! names none of them. A `SocketMailbox` is a lock-free queue of commands plus the
//! threads parked on it (a blocked send, receive or poll). Commands flow only on
//! state changes (a pipe attached, a pipe became readable), never once per
//! message. This file must never block a sender.

use crate::event::EventSlot;
use crate::options::Options;
use crate::pipe::{Activate, PipeEnd, PipeEvent, PipeId};
use crate::readiness::Signal;
use crate::zmtp::{PeerInfo, SocketType};
use crossbeam_queue::SegQueue;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;
use std::thread::Thread;

/// A socket's identity within its context.
pub type SocketId = u64;

/// What sessions, listeners and inproc peers know of a socket.
#[derive(Debug)]
pub(crate) struct SocketLink {
    /// The socket's identity within its context.
    pub id: SocketId,
    /// The socket's type.
    pub kind: SocketType,
    /// Where to deliver pipes and peers.
    pub mailbox: Arc<SocketMailbox>,
    /// The options as they were when the bind or connect was made.
    pub options: Options,
    /// The socket's monitor (shared: a monitor started later sees this
    /// connection's events too).
    pub events: Arc<EventSlot>,
    /// Where the context's ZAP handler is found (weak: the context's registry
    /// holds links).
    pub zap: std::sync::Weak<dyn ZapDirectory>,
}

/// How a connection of a context reaches the context's ZAP handler (RFC 27).
pub(crate) trait ZapDirectory: Send + Sync + fmt::Debug {
    /// A pipe to the REP or ROUTER socket bound at `inproc://zeromq.zap.01`,
    /// attached to it now, or `None` if no such socket is bound.
    fn connect_zap(&self) -> Option<PipeEnd>;
}

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
    /// A thread blocked in send, receive or poll; it stays until it unregisters.
    Thread(Thread),
    /// A future's task; woken once, then forgotten (it registers again when
    /// polled again).
    Task(Waker),
}

impl Waiter {
    fn wake(self) {
        match self {
            Waiter::Thread(thread) => thread.unpark(),
            Waiter::Task(waker) => waker.wake(),
        }
    }
}

/// A socket's inbox.
#[derive(Default)]
pub struct SocketMailbox {
    commands: SegQueue<SocketCommand>,
    waiters: Mutex<Vec<Waiter>>,
    /// How many waiters are registered: notify takes the lock only if some are.
    waiting: AtomicUsize,
    /// The readiness descriptor, once someone asked for it.
    signal: OnceLock<Arc<Signal>>,
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

    /// Wakes whoever waits, and raises the readiness descriptor, without a
    /// command (context shutdown).
    pub fn notify(&self) {
        fence(Ordering::SeqCst);
        if let Some(signal) = self.signal.get() {
            signal.raise();
        }
        if self.waiting.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut woken = Vec::new();
        {
            let mut waiters = lock(&self.waiters);
            waiters.retain(|waiter| match waiter {
                Waiter::Thread(thread) => {
                    woken.push(Waiter::Thread(thread.clone()));
                    true
                }
                Waiter::Task(waker) => {
                    woken.push(Waiter::Task(waker.clone()));
                    false
                }
            });
            self.waiting.store(waiters.len(), Ordering::SeqCst);
        }
        for waiter in woken {
            waiter.wake();
        }
    }

    /// Parks `waiter` here (a thread until `unregister`, a task until it is
    /// woken); check for commands after this.
    pub fn register(&self, waiter: Waiter) {
        let mut waiters = lock(&self.waiters);
        if let Waiter::Task(waker) = &waiter
            && waiters
                .iter()
                .any(|old| matches!(old, Waiter::Task(old) if old.will_wake(waker)))
        {
            return;
        }
        waiters.push(waiter);
        self.waiting.store(waiters.len(), Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Removes every waiter registered by the current thread.
    pub fn unregister(&self) {
        let current = std::thread::current().id();
        let mut waiters = lock(&self.waiters);
        waiters.retain(|waiter| match waiter {
            Waiter::Thread(thread) => thread.id() != current,
            Waiter::Task(_) => true,
        });
        self.waiting.store(waiters.len(), Ordering::SeqCst);
    }

    /// The readiness descriptor's signal, made on first use.
    pub fn signal(&self) -> std::io::Result<Arc<Signal>> {
        if let Some(signal) = self.signal.get() {
            return Ok(Arc::clone(signal));
        }
        let made = Arc::new(Signal::new()?);
        // Raised at birth: whoever asked must look at least once.
        made.raise();
        let _ = self.signal.set(made);
        self.signal
            .get()
            .map(Arc::clone)
            .ok_or_else(|| std::io::Error::other("the readiness signal was not kept"))
    }

    /// Lowers the readiness descriptor, if there is one, before a look at the
    /// socket's state.
    pub fn lower_signal(&self) {
        if let Some(signal) = self.signal.get() {
            signal.lower();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
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
