//! The background cleaner: a thread that applies retention and compaction at an
//! interval and after every roll, so neither ever runs on an append.
//!
//! It works on sealed segments only and takes the writer's lock just to publish a
//! change, never while it reads or writes segment data. It must stop promptly when
//! the log closes (a compaction pass checks between batches), and an error it meets
//! is logged, never a panic.

use crate::compaction;
use crate::retention;
use crate::signal::Signal;
use crate::writer::{Inner, now_milliseconds};
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

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
