//! The storage thread's work, without the thread: a batch of requests in, with the
//! time; completions and notices out, through a [`Sink`]. Appends run in order;
//! written acknowledgements and "new data" notices go out at once, so a producer
//! that did not ask for durability never waits for an fsync; the partitions that
//! must be durable, and the acknowledgements waiting for that, are returned as a
//! `SyncJob` (group commit across producers), which the sync thread runs while the
//! next batch is appended.
//!
//! It must never send a durable acknowledgement itself (only a `SyncJob` does,
//! after its fsync), never read the clock (the thread passes `now` in), and never
//! panic on a request.

use super::catalog::Catalog;
use super::error::StoreError;
use super::producer_ids::{EpochRefusal, ProducerIds};
use super::request::{
    Acknowledged, Completion, Fetch, Fetched, OffsetPosition, PartitionDescription,
    PartitionNotice, Payload, Produce, Produced, Reply, Request, RequestId, Target,
    TopicDescription,
};
use super::syncer::{SyncJob, Waiting};
use super::topic::{Acks, Visibility};
use crate::kafka::partition_for_key;
use sinew_log::{Notice, Partition};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Where the engine's output goes.
pub(crate) trait Sink {
    /// One request's completion.
    fn complete(&mut self, completion: Completion);
    /// What changed in one partition.
    fn notice(&mut self, notice: PartitionNotice);
    /// Hands over everything so far (wakes the loop).
    fn flush(&mut self);
    /// A segment was sealed: the cleaner may have work.
    fn sealed(&mut self) {}
}

/// Counters the store keeps, for tests and monitoring.
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Batches of requests handled.
    pub batches: AtomicU64,
    /// Requests handled.
    pub requests: AtomicU64,
    /// Partition fsyncs the store asked for.
    pub syncs: AtomicU64,
    /// Cleaner passes over every partition.
    pub cleaner_passes: AtomicU64,
}

/// A partition, by topic and index.
pub(crate) type Key = (Arc<str>, u32);

/// The storage thread's state.
pub(crate) struct Engine {
    catalog: Catalog,
    producer_ids: ProducerIds,
    stats: Arc<StoreStats>,
    max_fetch_bytes: u64,
    /// Partitions of topics with `Visibility::Written` holding unsynced records,
    /// and when each must be synced.
    unsynced: HashMap<Key, (Arc<Partition>, Instant)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Engine")
            .field("catalog", &self.catalog)
            .field("unsynced", &self.unsynced.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub(crate) fn new(
        catalog: Catalog,
        producer_ids: ProducerIds,
        stats: Arc<StoreStats>,
        max_fetch_bytes: u64,
    ) -> Engine {
        Engine {
            catalog,
            producer_ids,
            stats,
            max_fetch_bytes,
            unsynced: HashMap::new(),
        }
    }

    /// Handles one batch of requests at time `now`: appends, answers and notices
    /// go out through `sink`; the fsyncs the batch needs, and the durable
    /// acknowledgements waiting for them, come back as a job (`SyncJob::run`).
    pub(crate) fn handle_batch(
        &mut self,
        requests: impl IntoIterator<Item = (RequestId, Request)>,
        now: Instant,
        sink: &mut dyn Sink,
    ) -> SyncJob {
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        let mut to_sync: BTreeMap<Key, (Arc<Partition>, Visibility)> = BTreeMap::new();
        let mut waiting = Vec::new();
        for (id, request) in requests {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let Request::Produce(produce) = request else {
                let result = self.handle(request);
                sink.complete(Completion { id, result });
                continue;
            };
            match self.produce(produce, now, sink) {
                Ok((key, log, produced, acks, visibility)) => {
                    if !produced.duplicate {
                        match visibility {
                            Visibility::Durable => {
                                to_sync.insert(key.clone(), (log.clone(), visibility));
                            }
                            Visibility::Written { flush_interval } => {
                                let deadline = now.checked_add(flush_interval).unwrap_or(now);
                                self.unsynced
                                    .entry(key.clone())
                                    .or_insert((log.clone(), deadline));
                            }
                        }
                    }
                    if acks == Acks::Durable {
                        // The job's fsync covers what an interval sync would.
                        self.unsynced.remove(&key);
                        to_sync.insert(key.clone(), (log, visibility));
                        waiting.push(Waiting { id, key, produced });
                    } else {
                        sink.complete(Completion {
                            id,
                            result: Ok(Reply::Produced(produced)),
                        });
                    }
                }
                Err(error) => sink.complete(Completion {
                    id,
                    result: Err(error),
                }),
            }
        }
        sink.flush();
        SyncJob {
            partitions: to_sync,
            waiting,
        }
    }

    /// Syncs the partitions of flush-by-interval topics whose interval is up.
    pub(crate) fn sync_due(&mut self, now: Instant, sink: &mut dyn Sink) {
        let due: Vec<(Key, Arc<Partition>)> = self
            .unsynced
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(key, (log, _))| (key.clone(), log.clone()))
            .collect();
        if due.is_empty() {
            return;
        }
        for (key, log) in due {
            let _ = self.sync(&key, &log, sink);
        }
        sink.flush();
    }

    /// When the next interval sync is due, if any partition waits for one.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.unsynced.values().map(|(_, deadline)| *deadline).min()
    }

    /// Closes every partition cleanly.
    pub(crate) fn close(&mut self) -> Result<(), StoreError> {
        self.unsynced.clear();
        self.catalog.close()
    }

    /// One fsync of a partition, and its notice; the reason if it failed.
    fn sync(&mut self, key: &Key, log: &Partition, sink: &mut dyn Sink) -> Result<(), String> {
        self.unsynced.remove(key);
        self.stats.syncs.fetch_add(1, Ordering::Relaxed);
        match log.sync() {
            Ok(synced) => {
                self.notify(key, log, synced.notice, sink);
                Ok(())
            }
            Err(error) => {
                tracing::error!(topic = %key.0, partition = key.1, %error, "an fsync failed");
                Err(error.to_string())
            }
        }
    }

    fn notify(&self, key: &Key, log: &Partition, notice: Notice, sink: &mut dyn Sink) {
        if notice.sealed {
            sink.sealed();
        }
        if notice.new_data.is_none() && notice.durable.is_none() {
            return;
        }
        let visible_end = self
            .catalog
            .topic(&key.0)
            .ok()
            .map(|topic| topic.visible_end(log));
        sink.notice(PartitionNotice {
            topic: key.0.clone(),
            partition: key.1,
            new_data: notice.new_data,
            durable: notice.durable,
            visible_end,
        });
    }

    #[allow(clippy::type_complexity)]
    fn produce(
        &mut self,
        produce: Produce,
        now: Instant,
        sink: &mut dyn Sink,
    ) -> Result<(Key, Arc<Partition>, Produced, Acks, Visibility), StoreError> {
        // An epoch older than the id's current one is fenced on every partition,
        // also those the newer epoch has not written to yet (the log alone would
        // only know the epochs it has seen).
        if let Some((producer_id, epoch)) = producer_of(&produce)
            && let Some(current_epoch) = self.producer_ids.current_epoch(producer_id)
            && epoch < current_epoch
        {
            return Err(StoreError::ProducerFenced {
                producer_id,
                epoch,
                current_epoch,
            });
        }
        let topic = self.catalog.topic_mut(&produce.topic)?;
        let index = match (&produce.partition, &produce.payload) {
            (Target::Partition(index), _) => *index,
            (Target::Key(key), _) => partition_for_key(key, topic.config.partitions).unwrap_or(0),
            (Target::FirstKey, Payload::Records(records)) => {
                match records.first().and_then(|record| record.key.as_deref()) {
                    Some(key) => partition_for_key(key, topic.config.partitions).unwrap_or(0),
                    None => topic.next_round_robin(),
                }
            }
            (Target::FirstKey, Payload::Batch(_)) => {
                return Err(StoreError::InvalidRequest(
                    "a produced record batch needs a partition or a key".to_owned(),
                ));
            }
        };
        let log = topic.partition(index)?.clone();
        let acks = produce.acks.unwrap_or(topic.config.acks);
        let visibility = topic.config.visibility;
        let key: Key = (topic.name.clone(), index);
        let appended = match &produce.payload {
            Payload::Records(records) => log.append(records, produce.producer, now),
            Payload::Batch(batch) => log.append_batch(batch, now),
        }
        .map_err(|error| {
            StoreError::from_log(error, &produce.topic, index, topic.visible_end(&log))
        })?;
        self.notify(&key, &log, appended.notice, sink);
        let produced = Produced {
            partition: index,
            base_offset: appended.base_offset,
            last_offset: appended.last_offset,
            acknowledged: Acknowledged::Written,
            duplicate: appended.duplicate,
            durable_offset: log.durable_offset(),
        };
        Ok((key, log, produced, acks, visibility))
    }

    /// Every request but a produce.
    fn handle(&mut self, request: Request) -> Result<Reply, StoreError> {
        match request {
            Request::CreateTopic(config) => {
                let topic = self.catalog.create(config)?;
                Ok(Reply::TopicCreated(topic.config.clone()))
            }
            Request::CreatePartitions { topic, total } => {
                let topic = self.catalog.add_partitions(&topic, total)?;
                Ok(Reply::TopicCreated(topic.config.clone()))
            }
            Request::DeleteTopic { topic } => {
                self.unsynced.retain(|key, _| *key.0 != *topic);
                self.catalog.delete(&topic)?;
                Ok(Reply::TopicDeleted)
            }
            Request::ListTopics => Ok(Reply::Topics(self.catalog.names())),
            Request::DescribeTopic { topic } => self.describe(&topic).map(Reply::Topic),
            Request::DescribeTopics { topics } => {
                let names = topics.unwrap_or_else(|| self.catalog.names());
                let descriptions = names
                    .into_iter()
                    .map(|name| {
                        let description = self.describe(&name).ok();
                        (name, description)
                    })
                    .collect();
                Ok(Reply::Descriptions(descriptions))
            }
            Request::Fetch(fetch) => self.fetch(fetch),
            Request::ListOffsets {
                topic,
                partition,
                position,
            } => {
                let topic = self.catalog.topic(&topic)?;
                let log = topic.partition(partition)?;
                let visible_end = topic.visible_end(log);
                let offset = match position {
                    OffsetPosition::Earliest => Some(log.start_offset()),
                    OffsetPosition::Latest => Some(visible_end),
                    OffsetPosition::Timestamp(timestamp) => log
                        .offset_for_timestamp(timestamp)
                        .map_err(|error| {
                            StoreError::from_log(error, &topic.config.name, partition, visible_end)
                        })?
                        .filter(|offset| *offset < visible_end),
                };
                Ok(Reply::Offset(offset))
            }
            Request::DeleteRecords {
                topic,
                partition,
                before,
            } => {
                let topic = self.catalog.topic(&topic)?;
                let log = topic.partition(partition)?;
                let visible_end = topic.visible_end(log);
                if before > visible_end {
                    return Err(StoreError::OffsetOutOfRange {
                        topic: topic.config.name.clone(),
                        partition,
                        requested: before,
                        earliest: log.start_offset(),
                        latest: visible_end,
                    });
                }
                log.delete_records_before(before)
                    .map(Reply::LogStart)
                    .map_err(|error| {
                        StoreError::from_log(error, &topic.config.name, partition, visible_end)
                    })
            }
            Request::InitProducerId { existing: None } => Ok(Reply::ProducerId {
                id: self.producer_ids.allocate()?,
                epoch: 0,
            }),
            Request::InitProducerId {
                existing: Some((id, epoch)),
            } => match self.producer_ids.raise_epoch(id, epoch)? {
                Ok((id, epoch)) => Ok(Reply::ProducerId { id, epoch }),
                Err(EpochRefusal::UnknownProducer) => Err(StoreError::UnknownProducer(id)),
                Err(EpochRefusal::Fenced { current }) => Err(StoreError::ProducerFenced {
                    producer_id: id,
                    epoch,
                    current_epoch: current,
                }),
                Err(EpochRefusal::NotGiven { current }) => Err(StoreError::InvalidRequest(
                    format!("producer {id} is at epoch {current}; epoch {epoch} was never given"),
                )),
            },
            Request::Produce(_) => Err(StoreError::InvalidRequest(
                "a produce request reached the wrong handler".to_owned(),
            )),
        }
    }

    fn describe(&self, name: &str) -> Result<TopicDescription, StoreError> {
        let topic = self.catalog.topic(name)?;
        let partitions = topic
            .partitions
            .iter()
            .enumerate()
            .map(|(index, log)| PartitionDescription {
                partition: index as u32,
                start_offset: log.start_offset(),
                end_offset: log.end_offset(),
                durable_offset: log.durable_offset(),
                visible_end: topic.visible_end(log),
                size_bytes: log.size_bytes(),
            })
            .collect();
        Ok(TopicDescription {
            config: topic.config.clone(),
            partitions,
        })
    }

    fn fetch(&self, fetch: Fetch) -> Result<Reply, StoreError> {
        let topic = self.catalog.topic(&fetch.topic)?;
        let log = topic.partition(fetch.partition)?;
        let visible_end = topic.visible_end(log);
        let max_bytes = fetch.max_bytes.min(self.max_fetch_bytes);
        let batches = match topic.config.visibility {
            Visibility::Durable => log.read_durable(fetch.offset, max_bytes),
            Visibility::Written { .. } => log.read(fetch.offset, max_bytes),
        }
        .map_err(|error| StoreError::from_log(error, &fetch.topic, fetch.partition, visible_end))?;
        let records = fetch
            .decode
            .then(|| batches.records().map_err(|failure| failure.to_string()));
        Ok(Reply::Fetched(Fetched {
            batches,
            records,
            start_offset: log.start_offset(),
            visible_end,
            end_offset: log.end_offset(),
            durable_offset: log.durable_offset(),
        }))
    }
}

/// The idempotent producer id and epoch a produce request carries: the request's
/// for records, the batch header's for a stored batch (producer id at byte 43,
/// epoch at 51 of a RecordBatch v2).
fn producer_of(produce: &Produce) -> Option<(i64, i16)> {
    match &produce.payload {
        Payload::Records(_) => produce
            .producer
            .map(|producer| (producer.id, producer.epoch)),
        Payload::Batch(batch) => {
            let id = i64::from_be_bytes(batch.get(43..51)?.try_into().ok()?);
            let epoch = i16::from_be_bytes(batch.get(51..53)?.try_into().ok()?);
            (id >= 0).then_some((id, epoch))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::request::ProduceRecord;
    use crate::store::topic::TopicConfig;
    use bytes::Bytes;

    /// Records each completion with the number of fsyncs done when it was made.
    struct Recorder {
        stats: Arc<StoreStats>,
        completions: Vec<(RequestId, Acknowledged, u64)>,
        flushes: usize,
    }

    impl Sink for Recorder {
        fn complete(&mut self, completion: Completion) {
            let Ok(Reply::Produced(produced)) = completion.result else {
                panic!("{:?}", completion.result);
            };
            let syncs = self.stats.syncs.load(Ordering::Relaxed);
            self.completions
                .push((completion.id, produced.acknowledged, syncs));
        }
        fn notice(&mut self, _: PartitionNotice) {}
        fn flush(&mut self) {
            self.flushes += 1;
        }
    }

    fn produce(acks: Acks) -> Request {
        Request::Produce(Produce {
            topic: "t".to_owned(),
            partition: Target::Partition(0),
            payload: Payload::Records(vec![ProduceRecord::new(None, Bytes::from_static(b"v"), 0)]),
            producer: None,
            acks: Some(acks),
        })
    }

    #[test]
    fn written_acks_go_out_before_the_fsync_and_durable_ones_after_it() {
        let root = std::env::temp_dir().join(format!("sinew-engine-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut catalog = Catalog::open(&root, 2).unwrap();
        catalog.create(TopicConfig::new("t", 1)).unwrap();
        let stats = Arc::new(StoreStats::default());
        let ids = ProducerIds::open(&root, 10).unwrap();
        let mut engine = Engine::new(catalog, ids, stats.clone(), 1 << 20);
        let mut recorder = Recorder {
            stats,
            completions: Vec::new(),
            flushes: 0,
        };
        let batch = vec![
            (1, produce(Acks::Durable)),
            (2, produce(Acks::Written)),
            (3, produce(Acks::None)),
            (4, produce(Acks::Durable)),
        ];
        let job = engine.handle_batch(batch, Instant::now(), &mut recorder);
        // Written acknowledgements are out before any fsync; the durable ones
        // wait for the job (the sync thread's).
        assert_eq!(recorder.completions.len(), 2);
        job.run(&engine.stats, &mut recorder);
        assert_eq!(
            recorder.completions,
            [
                (2, Acknowledged::Written, 0),
                (3, Acknowledged::Written, 0),
                (1, Acknowledged::Durable, 1),
                (4, Acknowledged::Durable, 1),
            ]
        );
        assert_eq!(recorder.flushes, 2, "one hand-over per phase");
        engine.close().unwrap();
        std::fs::remove_dir_all(&root).unwrap();
    }
}
