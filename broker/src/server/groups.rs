//! The broker's consumer groups as every door shares them: one coordinator
//! (`crate::groups`), the tokens its deferred answers carry, and the durable side
//! of committed offsets, the compacted internal topic `__consumer_offsets`
//! (Kafka's name and record layout; one partition, 7 days' retention, created on
//! first use so topic listings stay as they were until a group commits).
//!
//! - [`Groups`]: the coordinator, whether its offsets are loaded, and the
//!   answers it gave for tokens, which each door takes for its own requests.
//! - [`OffsetsWrite`]: commits or tombstones to write, creating the topic when it
//!   is missing, as a small state machine over store replies.
//! - [`Loader`]: replays the topic into the coordinator when the server starts;
//!   until it is done, doors refuse group requests as loading (Kafka's
//!   COORDINATOR_LOAD_IN_PROGRESS, which clients retry).
//!
//! The loop thread owns all of it (one [`SharedGroups`], never held across a
//! call into another door). Nothing here reads the clock or blocks; the
//! loader only submits to the store.

use crate::groups::{Answer, CommittedOffset, Coordinator, OffsetCommitted, Token};
use crate::store::{
    Acks, Completion, Fetch, Payload, Produce, ProduceRecord, Reply, Request, RequestId, Store,
    StoreError, Target, TopicConfig,
};
use bytes::Bytes;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The internal topic that keeps committed offsets (Kafka's name and layout).
pub(crate) const OFFSETS_TOPIC: &str = "__consumer_offsets";
/// How long a commit is kept after it was written (Kafka's
/// `offsets.retention.minutes`: 7 days); compaction keeps the newest per key.
const OFFSETS_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most bytes one read of the offsets topic takes while loading.
const LOAD_READ_BYTES: u64 = 1 << 20;

/// The coordinator and its state, shared by the doors.
#[derive(Debug)]
pub(crate) struct Groups {
    pub coordinator: Coordinator,
    /// The committed offsets were replayed: group requests may be served.
    pub loaded: bool,
    next_token: Token,
    /// Answers for tokens, each taken by the door that waits for it.
    pub answers: Vec<Answer>,
}

/// The groups, as the loop's doors hold them. Only the loop thread touches
/// them (a mutex, not a `RefCell`, only because the server is built on one
/// thread and run on another): the lock is never contended.
pub(crate) type SharedGroups = Arc<Mutex<Groups>>;

/// The groups, locked (a panic while they were held does not stop the others).
pub(crate) fn lock(groups: &SharedGroups) -> MutexGuard<'_, Groups> {
    groups
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Groups {
    pub(crate) fn new(coordinator: Coordinator) -> Groups {
        Groups {
            coordinator,
            loaded: false,
            next_token: 0,
            answers: Vec::new(),
        }
    }

    /// A token no request of any door has had.
    pub(crate) fn token(&mut self) -> Token {
        self.next_token += 1;
        self.next_token
    }

    /// Takes the answers whose tokens `mine` claims, leaving the others.
    pub(crate) fn take_answers(&mut self, mine: impl Fn(Token) -> bool) -> Vec<Answer> {
        let (taken, left) = std::mem::take(&mut self.answers)
            .into_iter()
            .partition(|answer| mine(answer.token()));
        self.answers = left;
        taken
    }
}

/// The offsets topic's settings: one partition, compacted, kept 7 days.
pub(crate) fn offsets_topic() -> TopicConfig {
    TopicConfig {
        compaction: true,
        retention_age: Some(OFFSETS_RETENTION),
        ..TopicConfig::new(OFFSETS_TOPIC, 1)
    }
}

/// Commits as the offsets topic's records, stamped `wall_ms`.
pub(crate) fn commit_records(committed: &[OffsetCommitted], wall_ms: i64) -> Vec<ProduceRecord> {
    committed
        .iter()
        .map(|commit| ProduceRecord {
            key: Some(Bytes::from(commit.key())),
            value: Some(Bytes::from(commit.value(wall_ms))),
            timestamp: wall_ms,
            headers: Vec::new(),
        })
        .collect()
}

/// Tombstones for a deleted group's committed partitions.
pub(crate) fn tombstones(
    group: &str,
    partitions: &[(String, i32)],
    wall_ms: i64,
) -> Vec<ProduceRecord> {
    partitions
        .iter()
        .map(|(topic, partition)| {
            let key = OffsetCommitted {
                group: group.to_owned(),
                offset: CommittedOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    offset: -1,
                    leader_epoch: -1,
                    metadata: None,
                },
            }
            .key();
            ProduceRecord {
                key: Some(Bytes::from(key)),
                value: None,
                timestamp: wall_ms,
                headers: Vec::new(),
            }
        })
        .collect()
}

/// Records being written to the offsets topic, durably.
#[derive(Debug)]
pub(crate) struct OffsetsWrite {
    records: Vec<ProduceRecord>,
    /// The topic was missing and is being created.
    creating: bool,
}

/// What an [`OffsetsWrite`] does next.
#[derive(Debug)]
pub(crate) enum WriteStep {
    /// Send this store request and come back with its reply.
    Store(Request),
    /// Written (durable), or why not.
    Done(Result<(), StoreError>),
}

impl OffsetsWrite {
    /// A write of `records` (not empty) and its first store request.
    pub(crate) fn start(records: Vec<ProduceRecord>) -> (OffsetsWrite, Request) {
        debug_assert!(
            !records.is_empty(),
            "an empty write has nothing to wait for"
        );
        let write = OffsetsWrite {
            records,
            creating: false,
        };
        let request = write.produce();
        (write, request)
    }

    fn produce(&self) -> Request {
        Request::Produce(Produce {
            topic: OFFSETS_TOPIC.to_owned(),
            partition: Target::Partition(0),
            payload: Payload::Records(self.records.clone()),
            producer: None,
            acks: Some(Acks::Durable),
        })
    }

    /// The reply to the last request: the next one, or the end.
    pub(crate) fn on_reply(&mut self, reply: Result<Reply, StoreError>) -> WriteStep {
        if std::mem::take(&mut self.creating) {
            // Created (or created by another request first): write again.
            return WriteStep::Store(self.produce());
        }
        match reply {
            Ok(Reply::Produced(_)) => WriteStep::Done(Ok(())),
            Err(StoreError::UnknownTopic(_)) => {
                self.creating = true;
                WriteStep::Store(Request::CreateTopic(offsets_topic()))
            }
            Err(error) => {
                tracing::warn!(%error, "committed offsets were not written");
                WriteStep::Done(Err(error))
            }
            Ok(other) => {
                tracing::warn!(reply = ?other, "the store gave an unexpected reply");
                WriteStep::Done(Err(StoreError::InvalidRequest(
                    "the store gave an unexpected reply".to_owned(),
                )))
            }
        }
    }
}

/// Replays the offsets topic into the coordinator when the server starts.
#[derive(Debug)]
pub(crate) struct Loader {
    /// The next offset to read.
    next: u64,
    /// The read in flight.
    pending: Option<RequestId>,
    next_id: RequestId,
}

impl Loader {
    /// Starts the replay with store request ids from `first_id` up.
    pub(crate) fn start(store: &Store, first_id: RequestId, groups: &SharedGroups) -> Loader {
        let mut loader = Loader {
            next: 0,
            pending: None,
            next_id: first_id,
        };
        loader.read(store, groups);
        loader
    }

    fn read(&mut self, store: &Store, groups: &SharedGroups) {
        let id = self.next_id;
        self.next_id += 1;
        let request = Request::Fetch(Fetch {
            topic: OFFSETS_TOPIC.to_owned(),
            partition: 0,
            offset: self.next,
            max_bytes: LOAD_READ_BYTES,
            decode: true,
        });
        match store.submit(id, request) {
            Ok(()) => self.pending = Some(id),
            Err(error) => {
                tracing::error!(%error, "committed offsets could not be read; groups start without them");
                lock(groups).loaded = true;
            }
        }
    }

    /// A completion of the loader's; `false` if it is not one.
    pub(crate) fn on_completion(
        &mut self,
        completion: Completion,
        store: &Store,
        groups: &SharedGroups,
    ) -> bool {
        if self.pending != Some(completion.id) {
            return false;
        }
        self.pending = None;
        let more = {
            let mut groups = lock(groups);
            let more = replay(completion.result, &mut self.next, &mut groups.coordinator);
            groups.loaded = !more;
            more
        };
        if more {
            self.read(store, groups);
        }
        true
    }
}

/// Applies one read of the offsets topic; whether there is more to read.
fn replay(
    result: Result<Reply, StoreError>,
    next: &mut u64,
    coordinator: &mut Coordinator,
) -> bool {
    let fetched = match result {
        Ok(Reply::Fetched(fetched)) => fetched,
        Err(StoreError::UnknownTopic(_)) => return false,
        other => {
            tracing::error!(reply = ?other, "committed offsets could not be read; groups start without them");
            return false;
        }
    };
    let records = match fetched.records {
        Some(Ok(records)) => records,
        Some(Err(error)) => {
            tracing::error!(%error, "committed offsets do not decode; groups start without them");
            return false;
        }
        None => Vec::new(),
    };
    let before = *next;
    for record in records.iter().filter(|record| record.offset >= before) {
        *next = record.offset + 1;
        let Some(key) = record.key.as_deref() else {
            continue;
        };
        match record.value.as_deref() {
            Some(value) => {
                if let Some(commit) = OffsetCommitted::decode(key, value) {
                    coordinator.restore(&commit);
                }
            }
            None => {
                if let Some((group, topic, partition)) = OffsetCommitted::decode_key(key) {
                    coordinator.forget(&group, &topic, partition);
                }
            }
        }
    }
    if let Some(after) = fetched.batches.next_offset() {
        *next = (*next).max(after);
    }
    *next > before && *next < fetched.visible_end
}
