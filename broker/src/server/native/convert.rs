//! The native door's translations: a decoded protocol request into the store's
//! request, and the store's replies and errors into protocol responses.
//!
//! Plain functions over values: this file must never touch a socket, the store or
//! a clock (the caller passes the time used to stamp records), and never panic on
//! what a client sent.

use crate::doors::native::{self as wire, MAX_FRAMES};
use crate::store::{self, StoreError};
use bytes::Bytes;
use sinew_log::{LogError, Producer};
use std::time::Duration;

/// A protocol error answer, made here.
pub fn error(
    command: u16,
    code: wire::ErrorCode,
    details: [u64; 2],
    message: String,
) -> wire::ResponseBody {
    wire::ResponseBody::Error(wire::ErrorResponse {
        command,
        code,
        details,
        message: Some(message),
    })
}

/// The protocol error for a store error.
pub fn store_error(command: u16, failure: &StoreError) -> wire::ResponseBody {
    use wire::ErrorCode as Code;
    let (code, details) = match failure {
        StoreError::UnknownTopic(_) => (Code::UnknownTopic, [0, 0]),
        StoreError::UnknownProducer(_) => (Code::UnknownProducer, [0, 0]),
        StoreError::UnknownPartition {
            partition,
            partitions,
            ..
        } => (
            Code::UnknownPartition,
            [u64::from(*partitions), u64::from(*partition)],
        ),
        StoreError::TopicExists(_) => (Code::TopicExists, [0, 0]),
        StoreError::InvalidTopicName { .. } => (Code::InvalidTopicName, [0, 0]),
        StoreError::InvalidConfig { .. }
        | StoreError::InvalidRequest(_)
        | StoreError::InvalidPartitions { .. } => (Code::InvalidArgument, [0, 0]),
        StoreError::OffsetOutOfRange {
            earliest, latest, ..
        } => (Code::OffsetOutOfRange, [*earliest, *latest]),
        StoreError::OutOfOrderSequence {
            expected, found, ..
        } => (Code::OutOfOrderSequence, [*expected as u64, *found as u64]),
        StoreError::ProducerFenced {
            epoch,
            current_epoch,
            ..
        } => (Code::ProducerFenced, [*current_epoch as u64, *epoch as u64]),
        StoreError::Log { source, .. } => (log_error_code(source), [0, 0]),
        StoreError::Busy { limit } => (Code::TooManyPending, [*limit as u64, 0]),
        StoreError::SyncFailed { .. }
        | StoreError::Damaged { .. }
        | StoreError::Io { .. }
        | StoreError::Metadata { .. }
        | StoreError::Stopped => (Code::StorageFailed, [0, 0]),
    };
    error(command, code, details, failure.to_string())
}

fn log_error_code(failure: &LogError) -> wire::ErrorCode {
    match failure {
        LogError::InvalidBatch(sinew_log::BatchError::Crc { .. }) => wire::ErrorCode::BadCrc,
        LogError::InvalidBatch(_) => wire::ErrorCode::InvalidBatch,
        LogError::BatchTooLarge { .. } => wire::ErrorCode::Oversized,
        LogError::KeyRequired { .. } => wire::ErrorCode::InvalidRecord,
        LogError::OffsetOutOfRange { .. } => wire::ErrorCode::OffsetOutOfRange,
        LogError::OutOfOrderSequence { .. } => wire::ErrorCode::OutOfOrderSequence,
        LogError::ProducerFenced { .. } => wire::ErrorCode::ProducerFenced,
        _ => wire::ErrorCode::StorageFailed,
    }
}

/// A PRODUCE as the store's request; `now_ms` stamps records sent with -1.
pub fn produce(request: wire::Produce, now_ms: i64) -> store::Request {
    let (payload, producer) = match request.payload {
        wire::ProducePayload::Batch(batch) => (store::Payload::Batch(batch), None),
        wire::ProducePayload::Records { producer, records } => {
            let records = records
                .into_iter()
                .map(|record| store::ProduceRecord {
                    key: record.key,
                    value: record.value,
                    timestamp: if record.timestamp < 0 {
                        now_ms
                    } else {
                        record.timestamp
                    },
                    headers: record
                        .headers
                        .iter()
                        .map(|header| (header.name().to_owned(), header.value().cloned()))
                        .collect(),
                })
                .collect::<Vec<_>>();
            let producer = producer.map(|identity| Producer {
                id: identity.id,
                epoch: identity.epoch,
                base_sequence: identity.base_sequence,
            });
            (store::Payload::Records(records), producer)
        }
    };
    let partition = match request.partition {
        wire::PartitionChoice::Index(index) => store::Target::Partition(index),
        wire::PartitionChoice::ByKey(key) => store::Target::Key(key),
    };
    store::Request::Produce(store::Produce {
        topic: request.topic.as_str().to_owned(),
        partition,
        payload,
        producer,
        acks: Some(match request.acks {
            wire::Acks::None => store::Acks::None,
            wire::Acks::Written => store::Acks::Written,
            wire::Acks::Durable => store::Acks::Durable,
        }),
    })
}

/// A produce reply as the protocol's.
pub fn produced(produced: &store::Produced) -> wire::ResponseBody {
    wire::ResponseBody::Produce(wire::ProduceResult {
        partition: produced.partition,
        acknowledged: match produced.acknowledged {
            store::Acknowledged::Written => wire::Acknowledged::Written,
            store::Acknowledged::Durable => wire::Acknowledged::Durable,
        },
        duplicate: produced.duplicate,
        base_offset: produced.base_offset,
        last_offset: produced.last_offset,
    })
}

/// The store's read for a FETCH from `offset`: records mode has the storage
/// thread decode the batches too.
pub fn fetch(fetch: &wire::Fetch, offset: u64) -> store::Fetch {
    store::Fetch {
        topic: fetch.topic.as_str().to_owned(),
        partition: fetch.partition,
        offset,
        max_bytes: u64::from(fetch.max_bytes.max(1)),
        decode: fetch.mode == wire::FetchMode::Records,
    }
}

/// A protocol position as the store's (`Offset` has none: it needs no lookup).
pub fn position(position: wire::Position) -> Option<store::OffsetPosition> {
    match position {
        wire::Position::Offset(_) => None,
        wire::Position::Earliest => Some(store::OffsetPosition::Earliest),
        wire::Position::Latest => Some(store::OffsetPosition::Latest),
        wire::Position::Timestamp(timestamp) => Some(store::OffsetPosition::Timestamp(timestamp)),
    }
}

/// The most batches one FETCH answer carries: its header and one frame per batch
/// keep to the protocol's frame limit.
const MAX_FETCH_BATCHES: usize = MAX_FRAMES - 1;

/// The most records one records-mode FETCH answer carries: its header, the record
/// table and three frames per record keep to the protocol's frame limit.
const MAX_FETCH_RECORDS: usize = (MAX_FRAMES - 2) / 3;

/// The store's read of a partition, as a FETCH answer from `offset`.
pub fn fetched(fetch: &wire::Fetch, offset: u64, fetched: store::Fetched) -> wire::ResponseBody {
    let (data, next_offset) = match fetch.mode {
        wire::FetchMode::Batches => {
            // The header and one frame per batch, within the frame limit: the
            // client reads the rest with its next FETCH.
            let mut next = offset;
            let batches: Vec<Bytes> = fetched
                .batches
                .shared()
                .take(MAX_FETCH_BATCHES)
                .map(|(header, bytes)| {
                    next = header.next_offset();
                    bytes
                })
                .collect();
            (wire::FetchData::Batches(batches), next.max(offset))
        }
        wire::FetchMode::Records => {
            let limit = match fetch.max_records {
                0 => MAX_FETCH_RECORDS,
                count => (count as usize).min(MAX_FETCH_RECORDS),
            };
            // Decoded on the storage thread (`fetch` asks for it in records mode):
            // the loop must not spend milliseconds decoding a large answer.
            let decoded = match fetched.records {
                Some(Ok(decoded)) => decoded,
                Some(Err(failure)) => return undecodable(&failure),
                None => return undecodable("the store was not asked to decode"),
            };
            let records: Vec<wire::FetchedRecord> = decoded
                .into_iter()
                .filter(|record| record.offset >= offset)
                .take(limit)
                .map(|record| wire::FetchedRecord {
                    offset: record.offset,
                    timestamp: record.timestamp,
                    key: record.key.map(Bytes::from),
                    value: record.value.map(Bytes::from),
                    headers: record
                        .headers
                        .into_iter()
                        .filter_map(|header| {
                            wire::RecordHeader::new(
                                Bytes::from(header.key.into_bytes()),
                                header.value.map(Bytes::from),
                            )
                            .ok()
                        })
                        .collect(),
                })
                .collect();
            let next = records.last().map_or(offset, |record| record.offset + 1);
            (wire::FetchData::Records(records), next)
        }
    };
    wire::ResponseBody::Fetch(wire::FetchResult {
        partition: fetch.partition,
        next_offset,
        end_offset: fetched.end_offset,
        durable_offset: fetched.durable_offset,
        log_start_offset: fetched.start_offset,
        data,
    })
}

/// A stored batch that does not decode is answered, not skipped silently (the
/// client would ask for the same offset forever).
fn undecodable(failure: &str) -> wire::ResponseBody {
    error(
        wire::Command::Fetch.code(),
        wire::ErrorCode::StorageFailed,
        [0, 0],
        format!("a stored batch does not decode: {failure}"),
    )
}

/// A protocol topic configuration as the store's.
pub fn topic_config(name: &wire::TopicName, config: &wire::TopicConfig) -> store::TopicConfig {
    let mut topic = store::TopicConfig::new(name.as_str(), config.partitions);
    topic.compaction = config.compact;
    topic.acks = match config.ack_policy {
        wire::Acks::None => store::Acks::None,
        wire::Acks::Written => store::Acks::Written,
        wire::Acks::Durable => store::Acks::Durable,
    };
    topic.visibility = match config.visibility {
        wire::Visibility::Durable => store::Visibility::Durable,
        wire::Visibility::Written => store::Visibility::Written {
            flush_interval: Duration::from_millis(u64::from(config.flush_interval_ms.max(1))),
        },
    };
    topic.retention_age = config.retention_ms.map(Duration::from_millis);
    topic.retention_bytes = config.retention_bytes;
    topic
}

/// The store's topic configuration as the protocol's.
pub fn wire_config(config: &store::TopicConfig) -> wire::TopicConfig {
    let (visibility, flush_interval_ms) = match config.visibility {
        store::Visibility::Durable => (wire::Visibility::Durable, 0),
        store::Visibility::Written { flush_interval } => (
            wire::Visibility::Written,
            u32::try_from(flush_interval.as_millis()).unwrap_or(u32::MAX),
        ),
    };
    wire::TopicConfig {
        partitions: config.partitions,
        compact: config.compaction,
        ack_policy: match config.acks {
            store::Acks::None => wire::Acks::None,
            store::Acks::Written => wire::Acks::Written,
            store::Acks::Durable => wire::Acks::Durable,
        },
        visibility,
        retention_ms: config
            .retention_age
            .map(|age| u64::try_from(age.as_millis()).unwrap_or(u64::MAX)),
        retention_bytes: config.retention_bytes,
        flush_interval_ms,
    }
}

/// A store topic description as DESCRIBE_TOPIC's answer.
pub fn described(description: &store::TopicDescription) -> wire::ResponseBody {
    wire::ResponseBody::DescribeTopic(wire::TopicDescription {
        config: wire_config(&description.config),
        partitions: description
            .partitions
            .iter()
            .map(|partition| wire::PartitionDescription {
                partition: partition.partition,
                start_offset: partition.start_offset,
                end_offset: partition.end_offset,
                durable_offset: partition.durable_offset,
                size_bytes: partition.size_bytes,
            })
            .collect(),
    })
}

/// A store topic description as one LIST_TOPICS entry.
pub fn summary(description: &store::TopicDescription) -> Option<wire::TopicSummary> {
    Some(wire::TopicSummary {
        name: wire::TopicName::new(description.config.name.clone().into_bytes()).ok()?,
        partitions: description.config.partitions,
        compact: description.config.compaction,
    })
}
