//! `Signal`: how the threaded `Log` wakes its cleaner thread after a roll, and how
//! it stops it. This file must never block but in `wait`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How the log wakes its cleaner thread, and how it stops it.
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

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.lock().stop = true;
        self.changed.notify_all();
    }

    /// Waits for a wake-up or the interval; false once the log is closing.
    pub(crate) fn wait(&self, interval: Duration) -> bool {
        let guard = self.lock();
        let (mut guard, _) = self
            .changed
            .wait_timeout_while(guard, interval, |state| !state.wake && !state.stop)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.wake = false;
        !guard.stop
    }
}
