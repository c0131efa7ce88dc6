//! The partition store: topics and partitions on sinew-log under the data
//! directory, served by one storage thread so the loop never waits on the disk.
//!
//! The loop [`Store::submit`]s requests, each with an id of its own choosing, and
//! never blocks: a full queue is [`StoreError::Busy`]. The storage thread takes
//! whatever requests are waiting as one batch, appends them in order, hands the
//! written acknowledgements back, fsyncs each partition that must be durable once
//! for the whole batch (group commit across producers), and then hands the durable
//! acknowledgements back. Output waits in an outbox and the loop is woken through
//! the function it gave (a `mio::Waker`, say); it takes it with
//! [`Store::take_completions`] and [`Store::take_notices`]. One cleaner thread
//! applies retention and compaction to every partition.
//!
//! ```text
//! store/
//!   topic.rs        a topic's settings and its topic.json (names and the key
//!                   partitioner are `crate::kafka`'s, shared with the doors)
//!   files.rs        crash-safe replacement of small files
//!   producer_ids.rs broker-wide producer ids, allocated durably a block at a time
//!   catalog.rs      topics on disk: open (in parallel), create, delete
//!   request.rs      requests, completions, notices
//!   engine.rs       a batch of requests: appends, group commit, replies
//!   outbox.rs       the output waiting for the loop; the bound on requests in flight
//!   cleaner.rs      the cleaner thread
//! ```
//!
//! Layout: `DATA/topics/NAME/topic.json`, `DATA/topics/NAME/PARTITION/` (a
//! sinew-log directory), `DATA/producer-ids`, and `DATA/deleted/` while a deleted
//! topic's files are removed. The store must never block its caller, never read
//! the clock below the thread boundary (the storage thread reads it once per batch
//! and passes it down), and never acknowledge a record as durable before an fsync
//! covered it.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod catalog;
mod cleaner;
mod engine;
mod error;
mod files;
mod outbox;
mod producer_ids;
mod request;
mod syncer;
mod topic;

pub use crate::kafka::{
    InvalidTopicName as TopicNameError, MAX_TOPIC_NAME_BYTES as MAX_TOPIC_NAME_LENGTH,
    validate_topic_name,
};
pub use crate::kafka::{murmur2, partition_for_key};
pub use catalog::{DELETED_DIRECTORY, TOPICS_DIRECTORY};
pub use engine::StoreStats;
pub use error::StoreError;
pub use outbox::Wake;
pub use producer_ids::PRODUCER_IDS_FILE;
pub use request::{
    Acknowledged, Completion, Fetch, Fetched, OffsetPosition, PartitionDescription,
    PartitionNotice, Payload, Produce, ProduceRecord, Produced, Reply, Request, RequestId, Target,
    TopicDescription,
};
pub use topic::{Acks, MAX_PARTITIONS, TOPIC_FILE, TopicConfig, Visibility};

use catalog::Catalog;
use cleaner::{Cleaner, Nudge};
use engine::{Engine, Sink};
use outbox::{Outbox, Pending};
use producer_ids::ProducerIds;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use syncer::Syncer;

/// How the store is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// The data directory (the broker locks it; see `data_dir`).
    pub directory: PathBuf,
    /// The most requests in flight (submitted, completion not yet taken); more is
    /// `StoreError::Busy`.
    pub max_in_flight: usize,
    /// The most requests the storage thread takes as one batch.
    pub max_batch: usize,
    /// The most bytes one fetch reads.
    pub max_fetch_bytes: u64,
    /// How often the cleaner passes over every partition.
    pub cleaner_interval: Duration,
    /// Producer ids recorded per write of the counter.
    pub producer_id_block: u64,
    /// How many threads open partitions at start.
    pub open_threads: usize,
}

impl StoreSettings {
    /// Defaults for a store in `directory`.
    pub fn new(directory: impl Into<PathBuf>) -> StoreSettings {
        StoreSettings {
            directory: directory.into(),
            max_in_flight: 64 * 1024,
            max_batch: 4096,
            max_fetch_bytes: 64 << 20,
            cleaner_interval: Duration::from_secs(15),
            producer_id_block: producer_ids::DEFAULT_BLOCK,
            open_threads: std::thread::available_parallelism().map_or(4, |n| n.get() * 2),
        }
    }
}

/// The partition store: the loop's handle to the storage and cleaner threads.
#[derive(Debug)]
pub struct Store {
    requests: Option<SyncSender<Vec<(RequestId, Request)>>>,
    outbox: Arc<Outbox>,
    stats: Arc<StoreStats>,
    storage: Option<JoinHandle<Result<(), StoreError>>>,
    cleaner: Cleaner,
    max_in_flight: usize,
}

impl Store {
    /// Opens the store in `settings.directory` (every partition, in parallel) and
    /// starts its threads; `wake` is called from the storage thread when output
    /// waits for the loop. Fails, naming the partition, if any cannot be opened.
    pub fn open(
        settings: StoreSettings,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Result<Store, StoreError> {
        files::create_directory(&settings.directory).map_err(StoreError::io(format!(
            "creating {}",
            settings.directory.display()
        )))?;
        let catalog = Catalog::open(&settings.directory, settings.open_threads)?;
        let producer_ids = ProducerIds::open(&settings.directory, settings.producer_id_block)?;
        let stats = Arc::new(StoreStats::default());
        let cleaner = Cleaner::start(catalog.registry(), settings.cleaner_interval, stats.clone())
            .map_err(StoreError::io("starting the cleaner thread"))?;
        let engine = Engine::new(
            catalog,
            producer_ids,
            stats.clone(),
            settings.max_fetch_bytes,
        );
        let outbox = Arc::new(Outbox::new(Box::new(wake)));
        let max_in_flight = settings.max_in_flight.max(1);
        let (requests, received) = mpsc::sync_channel(max_in_flight);
        let thread_outbox = outbox.clone();
        let nudge = cleaner.nudger();
        let max_batch = settings.max_batch.max(1);
        let storage = std::thread::Builder::new()
            .name("sinew-storage".to_owned())
            .spawn({
                let stats = stats.clone();
                move || run(engine, received, thread_outbox, nudge, max_batch, stats)
            })
            .map_err(StoreError::io("starting the storage thread"))?;
        Ok(Store {
            requests: Some(requests),
            outbox,
            stats,
            storage: Some(storage),
            cleaner,
            max_in_flight,
        })
    }

    /// Queues one request; never blocks.
    pub fn submit(&self, id: RequestId, request: Request) -> Result<(), StoreError> {
        self.submit_batch(vec![(id, request)])
    }

    /// Queues requests that the storage thread takes in one batch (the loop may
    /// gather a turn's requests this way); never blocks. All are queued, or none.
    pub fn submit_batch(&self, requests: Vec<(RequestId, Request)>) -> Result<(), StoreError> {
        let count = requests.len();
        if count == 0 {
            return Ok(());
        }
        let Some(sender) = &self.requests else {
            return Err(StoreError::Stopped);
        };
        let before = self.outbox.in_flight.fetch_add(count, Ordering::AcqRel);
        if before.saturating_add(count) > self.max_in_flight {
            self.outbox.in_flight.fetch_sub(count, Ordering::AcqRel);
            return Err(StoreError::Busy {
                limit: self.max_in_flight,
            });
        }
        match sender.try_send(requests) {
            Ok(()) => Ok(()),
            Err(error) => {
                self.outbox.in_flight.fetch_sub(count, Ordering::AcqRel);
                Err(match error {
                    TrySendError::Full(_) => StoreError::Busy {
                        limit: self.max_in_flight,
                    },
                    TrySendError::Disconnected(_) => StoreError::Stopped,
                })
            }
        }
    }

    /// Moves every completion made so far into `out`, in order.
    pub fn take_completions(&self, out: &mut Vec<Completion>) {
        self.outbox.take_completions(out);
    }

    /// Moves the notices gathered so far into `out`, one per partition that changed.
    pub fn take_notices(&self, out: &mut Vec<PartitionNotice>) {
        self.outbox.take_notices(out);
    }

    /// Whether the storage thread has ended (after `close`, or if it failed):
    /// nothing more will complete.
    pub fn has_stopped(&self) -> bool {
        self.outbox.stopped.load(Ordering::Acquire)
    }

    /// The store's counters.
    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }

    /// Stops the cleaner, lets the storage thread finish the requests already
    /// queued, and closes every partition cleanly. Completions not taken yet can
    /// still be taken afterwards.
    pub fn close(&mut self) -> Result<(), StoreError> {
        self.cleaner.stop();
        self.requests = None;
        match self.storage.take() {
            Some(thread) => thread.join().unwrap_or(Err(StoreError::Stopped)),
            None => Ok(()),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "closing the store");
        }
    }
}

/// Marks the outbox stopped and wakes the loop when the storage thread ends,
/// however it ends.
struct StoppedOnDrop(Arc<Outbox>);

impl Drop for StoppedOnDrop {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Release);
        self.0.signal();
    }
}

/// The storage thread: a batch at a time, and the interval syncs in between.
fn run(
    mut engine: Engine,
    received: Receiver<Vec<(RequestId, Request)>>,
    outbox: Arc<Outbox>,
    nudge: Nudge,
    max_batch: usize,
    stats: Arc<StoreStats>,
) -> Result<(), StoreError> {
    let _stopped = StoppedOnDrop(outbox.clone());
    let mut syncer =
        Syncer::start(outbox.clone(), stats).map_err(StoreError::io("starting the sync thread"))?;
    let mut sink = Pending::new(outbox);
    loop {
        let first = match engine.next_deadline() {
            Some(deadline) => {
                received.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            }
            None => received.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let mut batch = match first {
            Ok(batch) => batch,
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        while batch.len() < max_batch {
            match received.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        // The one clock read of the batch.
        let now = Instant::now();
        if !batch.is_empty() {
            syncer.submit(engine.handle_batch(batch, now, &mut sink));
        }
        engine.sync_due(now, &mut sink);
        sink.flush();
        if std::mem::take(&mut sink.sealed) {
            nudge.nudge();
        }
    }
    // Every durable acknowledgement handed over goes out before the partitions
    // close (and before the outbox is marked stopped).
    syncer.finish();
    engine.close()
}
