//! The background cleaner: a thread that applies retention and compaction at an
//! interval and after every roll, so neither ever runs on an append.
//!
//! It works on sealed segments only and takes the writer's lock just to publish a
//! change, never while it reads or writes segment data. It must stop promptly when
//! the log closes (a compaction pass checks between batches), and an error it meets
//! is logged, never a panic.

use crate::compaction;
use crate::retention;
use crate::writer::{Inner, now_milliseconds};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How the writer wakes the cleaner, and how the log stops it.
#[derive(Debug)]
pub(crate) struct Signal {
    state: Mutex<State>,
    changed: Condvar,
    /// Set when the log closes; a compaction pass polls it.
    pub(crate) stop: AtomicBool,
}

#[derive(Debug)]
struct State {
    wake: bool,
    stop: bool,
}

impl Signal {
    pub(crate) fn new() -> Self {
        Signal {
            // The first round runs at once, so retention applies as the log opens.
            state: Mutex::new(State {
                wake: true,
                stop: false,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks for a round now (after a roll).
    pub(crate) fn wake(&self) {
        self.lock().wake = true;
        self.changed.notify_all();
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.lock().stop = true;
        self.changed.notify_all();
    }

    /// Waits for a wake-up or the interval; false once the log is closing.
    fn wait(&self, interval: Duration) -> bool {
        let guard = self.lock();
        let (mut guard, _) = self
            .changed
            .wait_timeout_while(guard, interval, |state| !state.wake && !state.stop)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.wake = false;
        !guard.stop
    }
}

/// The cleaner thread of one log.
#[derive(Debug)]
pub(crate) struct Cleaner {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Cleaner {
    pub(crate) fn start(inner: Arc<Inner>, interval: Duration) -> io::Result<Cleaner> {
        let signal = inner.cleaner_signal.clone();
        let thread = std::thread::Builder::new()
            .name("sinew-log-cleaner".into())
            .spawn(move || run(&inner, interval))?;
        Ok(Cleaner {
            signal,
            thread: Some(thread),
        })
    }

    /// Stops the thread (interrupting a pass between batches) and waits for it.
    pub(crate) fn stop(mut self) {
        self.signal.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(inner: &Inner, interval: Duration) {
    let signal = inner.cleaner_signal.clone();
    while signal.wait(interval) {
        if inner.has_failed() {
            return;
        }
        let config = &inner.config;
        if (config.retention_age.is_some() || config.retention_bytes.is_some())
            && let Err(error) = retention::apply(inner, now_milliseconds())
        {
            tracing::error!(%error, "retention failed");
            continue;
        }
        if let Some(compaction) = &config.compaction {
            let now = now_milliseconds();
            if compaction::due(inner, now, compaction.min_dirty_percent)
                && let Err(error) = compaction::compact(inner, now, &signal.stop)
            {
                tracing::error!(%error, "compaction failed");
            }
        }
    }
}
