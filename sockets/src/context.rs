//! `Context`: the I/O threads, the inproc registry, and termination.
//!
//! As in libzmq, a context owns one or more I/O threads (default 1) that run every
//! tcp and ipc connection of its sockets. `shutdown` makes every blocked call on its
//! sockets return `Terminated`. When the last handle to the context goes (sockets
//! hold one), the I/O threads finish flushing closed sockets for up to their linger
//! time and are joined, as `zmq_ctx_term` does. This file must never block except
//! in that final join.

pub use crate::command::SocketId;
use crate::command::{SocketLink, SocketMailbox, ZapDirectory};
use crate::error::Result;
use crate::pipe::PipeEnd;
use crate::reactor::IoCommand;
use crate::reactor::io_thread::IoThread;
use crate::reactor::mailbox::IoMailbox;
use crate::transport::inproc::Registry;
use crate::zmtp::PeerInfo;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;

#[derive(Debug)]
struct IoThreadHandle {
    mailbox: Arc<IoMailbox<IoCommand>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    io_threads: Vec<IoThreadHandle>,
    next_io_thread: AtomicUsize,
    terminated: AtomicBool,
    next_socket: AtomicU64,
    sockets: Mutex<HashMap<SocketId, Weak<SocketMailbox>>>,
    inproc: Arc<Mutex<Registry>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        for handle in &self.io_threads {
            handle.mailbox.send(IoCommand::Stop);
        }
        let current = std::thread::current().id();
        for handle in &mut self.io_threads {
            let Some(thread) = handle.thread.take() else {
                continue;
            };
            // The last handle can be dropped on an I/O thread itself (a
            // monitor's PAIR socket holds one, and the I/O thread stops the
            // monitor of a closed socket): that thread cannot wait for itself.
            // It has the Stop command and ends on its own once its sessions
            // are done.
            if thread.thread().id() == current {
                continue;
            }
            if thread.join().is_err() {
                tracing::error!("an I/O thread panicked");
            }
        }
    }
}

/// The container for sockets: I/O threads, inproc names, termination.
#[derive(Clone)]
pub struct Context {
    shared: Arc<Shared>,
}

impl fmt::Debug for Context {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Context")
            .field("io_threads", &self.shared.io_threads.len())
            .field("terminated", &self.is_terminated())
            .finish()
    }
}

impl Default for Context {
    fn default() -> Context {
        Context::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Context {
    /// A context with one I/O thread (libzmq's ZMQ_IO_THREADS default).
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread, as `std::thread::spawn` does.
    pub fn new() -> Context {
        match Context::with_io_threads(1) {
            Ok(context) => context,
            Err(error) => panic!("could not start an I/O thread: {error}"),
        }
    }

    /// A context with `count` I/O threads (at least one).
    pub fn with_io_threads(count: usize) -> Result<Context> {
        let mut io_threads = Vec::with_capacity(count.max(1));
        for index in 0..count.max(1) {
            let (thread, mailbox) = IoThread::spawn(index)?;
            io_threads.push(IoThreadHandle {
                mailbox,
                thread: Some(thread),
            });
        }
        Ok(Context {
            shared: Arc::new(Shared {
                io_threads,
                next_io_thread: AtomicUsize::new(0),
                terminated: AtomicBool::new(false),
                next_socket: AtomicU64::new(1),
                sockets: Mutex::new(HashMap::new()),
                inproc: Arc::new(Mutex::new(Registry::default())),
            }),
        })
    }

    /// Makes every blocked call on this context's sockets, and every later one,
    /// return `Error::Terminated` (`zmq_ctx_shutdown`).
    pub fn shutdown(&self) {
        self.shared.terminated.store(true, Ordering::SeqCst);
        let sockets: Vec<Arc<SocketMailbox>> = lock(&self.shared.sockets)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for mailbox in sockets {
            mailbox.notify();
        }
    }

    /// Whether `shutdown` was called.
    pub fn is_terminated(&self) -> bool {
        self.shared.terminated.load(Ordering::Relaxed)
    }

    /// How many I/O threads run this context's connections.
    pub fn io_threads(&self) -> usize {
        self.shared.io_threads.len()
    }

    pub(crate) fn register_socket(&self, mailbox: &Arc<SocketMailbox>) -> SocketId {
        let id = self.shared.next_socket.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.sockets).insert(id, Arc::downgrade(mailbox));
        id
    }

    pub(crate) fn unregister_socket(&self, id: SocketId) {
        lock(&self.shared.sockets).remove(&id);
    }

    pub(crate) fn choose_io_thread(&self) -> usize {
        self.shared.next_io_thread.fetch_add(1, Ordering::Relaxed) % self.shared.io_threads.len()
    }

    pub(crate) fn send_to_io_thread(&self, index: usize, command: IoCommand) {
        if let Some(handle) = self.shared.io_threads.get(index) {
            handle.mailbox.send(command);
        }
    }

    pub(crate) fn inproc_bind(
        &self,
        name: &str,
        link: Arc<SocketLink>,
    ) -> Result<Vec<(PipeEnd, PeerInfo)>> {
        lock(&self.shared.inproc).bind(name, link)
    }

    pub(crate) fn inproc_connect(
        &self,
        name: &str,
        link: Arc<SocketLink>,
    ) -> Result<(PipeEnd, Option<PeerInfo>)> {
        lock(&self.shared.inproc).connect(name, link)
    }

    pub(crate) fn inproc_unbind(&self, endpoint: &str, socket: SocketId) {
        if let Some(name) = endpoint.strip_prefix("inproc://") {
            lock(&self.shared.inproc).unbind(name, socket);
        }
    }

    /// Where this context's sockets' connections find the ZAP handler.
    pub(crate) fn zap_directory(&self) -> Weak<dyn ZapDirectory> {
        let registry: Arc<dyn ZapDirectory> = self.shared.inproc.clone();
        Arc::downgrade(&registry)
    }

    pub(crate) fn inproc_unbind_socket(&self, socket: SocketId) {
        lock(&self.shared.inproc).remove_socket(socket);
    }
}
