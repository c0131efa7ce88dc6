//! One cleaner thread for every partition: at each interval (or sooner, when the
//! storage thread says a segment was sealed) it runs `sinew_log::clean` (retention,
//! then compaction when due) over each open partition, at a time it reads once per
//! pass and passes down.
//!
//! It must never hold up the storage thread (it takes a snapshot of the partition
//! list and works on sealed segments only), never stop the broker over one
//! partition's failure (it is logged and the pass goes on), and it must stop
//! promptly when asked: between partitions, and inside a compaction between batches.

use super::catalog::{Member, Registry};
use super::engine::StoreStats;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// The cleaner thread, and how to nudge and stop it.
#[derive(Debug)]
pub(crate) struct Cleaner {
    nudge: SyncSender<()>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A handle the storage thread keeps to ask for a pass after a roll.
#[derive(Debug, Clone)]
pub(crate) struct Nudge(SyncSender<()>);

impl Nudge {
    /// Asks for a pass soon; never blocks (a pass already asked for is enough).
    pub(crate) fn nudge(&self) {
        match self.0.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }
}

impl Cleaner {
    /// Starts the thread, cleaning every partition in `registry` each `interval`.
    pub(crate) fn start(
        registry: Registry,
        interval: Duration,
        stats: Arc<StoreStats>,
    ) -> std::io::Result<Cleaner> {
        let (nudge, nudged) = mpsc::sync_channel(1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sinew-cleaner".to_owned())
            .spawn(move || {
                while let Ok(()) | Err(RecvTimeoutError::Timeout) = nudged.recv_timeout(interval) {
                    if stopping.load(Ordering::Acquire) {
                        break;
                    }
                    let members = registry
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone();
                    clean_all(&members, SystemTime::now(), &stopping);
                    stats.cleaner_passes.fetch_add(1, Ordering::Relaxed);
                }
            })?;
        Ok(Cleaner {
            nudge,
            stop,
            thread: Some(thread),
        })
    }

    /// A handle to ask for a pass.
    pub(crate) fn nudger(&self) -> Nudge {
        Nudge(self.nudge.clone())
    }

    /// Stops the thread (interrupting a compaction) and waits for it.
    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.nudge.try_send(());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the cleaner thread panicked");
        }
    }
}

impl Drop for Cleaner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One pass over `members` at time `now`; stops early when `stop` is set.
pub(crate) fn clean_all(members: &[Member], now: SystemTime, stop: &AtomicBool) {
    for member in members {
        if stop.load(Ordering::Acquire) {
            return;
        }
        if member.log.has_failed() {
            continue;
        }
        match sinew_log::clean(&member.log, now, stop) {
            Ok(report) => {
                let deleted = report.retention.deleted_segments.len();
                if deleted > 0 || report.compaction.is_some() {
                    tracing::debug!(topic = %member.topic, partition = member.partition, ?report, "cleaned");
                }
            }
            Err(error) => {
                tracing::warn!(topic = %member.topic, partition = member.partition, %error, "cleaning failed");
            }
        }
    }
}
