//! The threads of the threaded `Log` handle, and nothing else in the crate starts
//! any: the interval flusher (syncs through group commit at the fsync interval) and
//! the cleaner (runs `cleaner::clean` at its interval and after every roll, reading
//! the wall clock for it).
//!
//! A thread must stop promptly when the log closes (a compaction pass checks
//! between batches), must log an error it meets rather than panic, and must never
//! hold a lock of the partition's while it waits.

use crate::cleaner;
use crate::commit::GroupCommit;
use crate::partition::{Partition, lock};
use crate::signal::Signal;
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// The background thread of the interval policy.
#[derive(Debug)]
pub(crate) struct Flusher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(crate) fn start(
        partition: Arc<Partition>,
        commit: Arc<GroupCommit>,
        interval: Duration,
    ) -> io::Result<Flusher> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sinew-log-flusher".into())
            .spawn(move || {
                let (stopped, wake) = &*signal;
                loop {
                    let guard = lock(stopped);
                    let (guard, _) = wake
                        .wait_timeout_while(guard, interval, |stopped| !*stopped)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if *guard {
                        return;
                    }
                    drop(guard);
                    let end = partition.end_offset();
                    if let Err(error) = commit.make_durable(&partition, end) {
                        tracing::error!(%error, "the interval sync failed");
                        return;
                    }
                }
            })?;
        Ok(Flusher {
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn stop(mut self) {
        let (stopped, wake) = &*self.stop;
        *lock(stopped) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The background cleaner thread of one log.
#[derive(Debug)]
pub(crate) struct Cleaner {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Cleaner {
    pub(crate) fn start(
        partition: Arc<Partition>,
        signal: Arc<Signal>,
        interval: Duration,
    ) -> io::Result<Cleaner> {
        let thread_signal = signal.clone();
        let thread = std::thread::Builder::new()
            .name("sinew-log-cleaner".into())
            .spawn(move || run(&partition, &thread_signal, interval))?;
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

fn run(partition: &Partition, signal: &Signal, interval: Duration) {
    while signal.wait(interval) {
        if partition.has_failed() {
            return;
        }
        if let Err(error) = cleaner::clean(partition, SystemTime::now(), &signal.stop) {
            tracing::error!(%error, "cleaning failed");
        }
    }
}
