//! Group commit, pipelined: the fsyncs a batch of produce requests needs run on a
//! thread of their own (`sinew-sync`), while the storage thread goes on appending
//! the next batch. Work handed over while an fsync runs is merged into one job, so
//! each dirty partition is fsynced once per round however many batches and
//! producers wrote to it meanwhile.
//!
//! A `SyncJob` is the partitions to fsync and the durable acknowledgements waiting
//! for them; `SyncJob::run` does the fsyncs and then sends those acknowledgements
//! (and the partitions' "now durable" notices) through a `Sink`, as the storage
//! thread would have. It must never send a durable acknowledgement for a record
//! that the fsync it ran did not cover (it checks each record's offset against the
//! durable offset after the fsync), and the storage thread must never wait for it
//! except when the store closes.

use super::engine::{Key, Sink, StoreStats};
use super::error::StoreError;
use super::outbox::{Outbox, Pending};
use super::request::{Acknowledged, Completion, PartitionNotice, Produced, Reply, RequestId};
use super::topic::Visibility;
use sinew_log::Partition;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

/// A produce request whose acknowledgement waits for its partition's fsync.
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) id: RequestId,
    pub(crate) key: Key,
    pub(crate) produced: Produced,
}

/// Partitions to fsync, and the acknowledgements that wait for them.
#[derive(Debug, Default)]
pub(crate) struct SyncJob {
    pub(crate) partitions: BTreeMap<Key, (Arc<Partition>, Visibility)>,
    pub(crate) waiting: Vec<Waiting>,
}

impl SyncJob {
    /// Whether there is nothing to do.
    pub(crate) fn is_empty(&self) -> bool {
        self.partitions.is_empty() && self.waiting.is_empty()
    }

    /// Adds a later job's work to this one.
    fn merge(&mut self, later: SyncJob) {
        self.partitions.extend(later.partitions);
        self.waiting.extend(later.waiting);
    }

    /// Fsyncs each partition once, then answers every waiting request: durable if
    /// the fsync covered its records, else the reason.
    pub(crate) fn run(self, stats: &StoreStats, sink: &mut dyn Sink) {
        let mut failed: HashMap<Key, String> = HashMap::new();
        let mut durable: HashMap<Key, u64> = HashMap::new();
        for (key, (log, visibility)) in self.partitions {
            stats.syncs.fetch_add(1, Ordering::Relaxed);
            match log.sync() {
                Ok(synced) => {
                    durable.insert(key.clone(), synced.durable_offset);
                    if let Some(offset) = synced.notice.durable {
                        let visible_end = match visibility {
                            Visibility::Durable => offset,
                            Visibility::Written { .. } => log.end_offset(),
                        };
                        sink.notice(PartitionNotice {
                            topic: key.0.clone(),
                            partition: key.1,
                            new_data: None,
                            durable: Some(offset),
                            visible_end: Some(visible_end),
                        });
                    }
                }
                Err(error) => {
                    tracing::error!(topic = %key.0, partition = key.1, %error, "an fsync failed");
                    failed.insert(key, error.to_string());
                }
            }
        }
        for Waiting {
            id,
            key,
            mut produced,
        } in self.waiting
        {
            let failure = |reason: String| StoreError::SyncFailed {
                topic: key.0.to_string(),
                partition: key.1,
                reason,
            };
            let result = match (failed.get(&key), durable.get(&key)) {
                (Some(reason), _) => Err(failure(reason.clone())),
                (None, Some(&offset)) if offset > produced.last_offset => {
                    produced.acknowledged = Acknowledged::Durable;
                    produced.durable_offset = offset;
                    Ok(Reply::Produced(produced))
                }
                _ => Err(failure(format!(
                    "the records up to offset {} are not covered by an fsync",
                    produced.last_offset
                ))),
            };
            sink.complete(Completion { id, result });
        }
        sink.flush();
    }
}

/// What the storage thread and the sync thread share.
#[derive(Debug, Default)]
struct Shared {
    job: SyncJob,
    closing: bool,
}

/// The sync thread, and the job it takes next.
#[derive(Debug)]
pub(crate) struct Syncer {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the thread; its output goes to `outbox`.
    pub(crate) fn start(outbox: Arc<Outbox>, stats: Arc<StoreStats>) -> std::io::Result<Syncer> {
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sinew-sync".to_owned())
            .spawn(move || {
                let mut sink = Pending::new(outbox);
                let (lock, ready) = &*theirs;
                loop {
                    let job = {
                        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
                        while state.job.is_empty() && !state.closing {
                            state = ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                        }
                        if state.job.is_empty() {
                            break;
                        }
                        std::mem::take(&mut state.job)
                    };
                    job.run(&stats, &mut sink);
                }
            })?;
        Ok(Syncer {
            shared,
            thread: Some(thread),
        })
    }

    /// Hands `job` over (merged with any job not started yet); never waits for
    /// an fsync.
    pub(crate) fn submit(&self, job: SyncJob) {
        if job.is_empty() {
            return;
        }
        let (lock, ready) = &*self.shared;
        lock.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .job
            .merge(job);
        ready.notify_one();
    }

    /// Lets the thread finish every job handed over, and waits for it.
    pub(crate) fn finish(&mut self) {
        let (lock, ready) = &*self.shared;
        lock.lock().unwrap_or_else(PoisonError::into_inner).closing = true;
        ready.notify_one();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the sync thread panicked");
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.finish();
    }
}
