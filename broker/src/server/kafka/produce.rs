//! Produce: each partition's record batches stored as the producer sent them,
//! compressed or not, with the acknowledgement asked for (acks 0: none and no
//! response; 1: written; -1: durable, the store's group commit).
//!
//! A partition's records may hold several batches; each is a store request of
//! its own, in order, and the partition's answer is its first batch's base offset
//! or the first error. A transactional producer, acks other than -1, 0 or 1,
//! records of the old message formats and a negative partition are refused
//! without touching the store. The door never re-partitions: the client chose.
//! Nothing here may panic on a request.

use super::work::{Outcome, Step, failure};
use crate::doors::kafka::{
    ErrorCode, ProducePartitionResponse, ProduceRequest, ProduceResponse, ProduceTopicResponse,
    ResponseBody,
};
use crate::store::{Acks, Payload, Produce, Reply, Request, Target};
use bytes::Bytes;
use std::ops::Range;

/// The bytes of a RecordBatch before its length field ends (base offset, length).
const LOG_OVERHEAD: usize = 12;
/// Where a batch's magic byte is.
const MAGIC_OFFSET: usize = 16;

/// Where one partition's answer comes from.
#[derive(Debug)]
enum Source {
    /// Refused before the store: this code and message.
    Refused(ErrorCode, &'static str),
    /// These store requests (one per batch).
    Batches(Range<usize>),
}

/// A Produce waiting for the store.
#[derive(Debug)]
pub(super) struct ProduceWork {
    /// Per topic, per partition: where its answer comes from.
    topics: Vec<(String, Vec<(i32, Source)>)>,
    silent: bool,
}

impl ProduceWork {
    pub(super) fn start(request: ProduceRequest) -> (ProduceWork, Step) {
        let acks = match request.acks {
            0 => Some(Acks::None),
            1 => Some(Acks::Written),
            -1 => Some(Acks::Durable),
            _ => None,
        };
        let transactional = request.transactional_id.is_some();
        let mut requests = Vec::new();
        let mut topics = Vec::with_capacity(request.topics.len());
        for topic in request.topics {
            let mut partitions = Vec::with_capacity(topic.partitions.len());
            for partition in topic.partitions {
                let source = match (acks, u32::try_from(partition.index), partition.records) {
                    _ if transactional => Source::Refused(
                        ErrorCode::TransactionalIdAuthorizationFailed,
                        "transactions are not supported",
                    ),
                    (None, _, _) => {
                        Source::Refused(ErrorCode::InvalidRequiredAcks, "acks must be -1, 0 or 1")
                    }
                    (_, Err(_), _) => {
                        Source::Refused(ErrorCode::UnknownTopicOrPartition, "no such partition")
                    }
                    (_, _, None) => {
                        Source::Refused(ErrorCode::CorruptMessage, "the records are null")
                    }
                    (Some(acks), Ok(index), Some(records)) => match split_batches(records) {
                        Ok(batches) => {
                            let first = requests.len();
                            for batch in batches {
                                requests.push(Request::Produce(Produce {
                                    topic: topic.name.clone(),
                                    partition: Target::Partition(index),
                                    payload: Payload::Batch(batch),
                                    producer: None,
                                    acks: Some(acks),
                                }));
                            }
                            Source::Batches(first..requests.len())
                        }
                        Err((code, message)) => Source::Refused(code, message),
                    },
                };
                partitions.push((partition.index, source));
            }
            topics.push((topic.name, partitions));
        }
        let work = ProduceWork {
            topics,
            silent: request.acks == 0,
        };
        if requests.is_empty() {
            let step = work.answer(Vec::new());
            return (work, step);
        }
        (work, Step::Store(requests))
    }

    /// The answer, once every batch has its reply (none for acks 0).
    pub(super) fn answer(&self, replies: Vec<Outcome>) -> Step {
        if self.silent {
            return Step::Silent;
        }
        let responses = self
            .topics
            .iter()
            .map(|(name, partitions)| ProduceTopicResponse {
                name: name.clone(),
                partitions: partitions
                    .iter()
                    .map(|(index, source)| partition_answer(*index, source, &replies))
                    .collect(),
            })
            .collect();
        Step::Answer(ResponseBody::Produce(ProduceResponse {
            responses,
            throttle_time_ms: 0,
        }))
    }
}

fn partition_answer(index: i32, source: &Source, replies: &[Outcome]) -> ProducePartitionResponse {
    let mut answer = ProducePartitionResponse {
        index,
        error_code: ErrorCode::None,
        base_offset: -1,
        log_append_time_ms: -1,
        log_start_offset: -1,
        error_message: None,
    };
    match source {
        Source::Refused(code, message) => {
            answer.error_code = *code;
            answer.error_message = Some((*message).to_owned());
        }
        Source::Batches(range) => {
            let batches = replies.get(range.clone()).unwrap_or_default();
            if let Some(failed) = batches.iter().find(|reply| reply.is_err()) {
                answer.error_code = failure(failed);
                answer.error_message = failed.as_ref().err().map(ToString::to_string);
            } else if let Some(Ok(Reply::Produced(produced))) = batches.first() {
                answer.base_offset = i64::try_from(produced.base_offset).unwrap_or(i64::MAX);
            } else {
                answer.error_code = ErrorCode::UnknownServerError;
            }
        }
    }
    answer
}

/// The record batches in a partition's records, each as a slice of the request
/// (never copied), or why they are refused.
fn split_batches(mut records: Bytes) -> Result<Vec<Bytes>, (ErrorCode, &'static str)> {
    let mut batches = Vec::new();
    while !records.is_empty() {
        let Some(header) = records.get(..=MAGIC_OFFSET) else {
            return Err((ErrorCode::CorruptMessage, "a record batch is truncated"));
        };
        let length = i32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        if header[MAGIC_OFFSET] != 2 {
            return Err((
                ErrorCode::UnsupportedForMessageFormat,
                "only record batches of magic 2 are accepted",
            ));
        }
        let size = usize::try_from(length)
            .ok()
            .and_then(|length| length.checked_add(LOG_OVERHEAD))
            .filter(|size| *size <= records.len())
            .ok_or((
                ErrorCode::CorruptMessage,
                "a record batch's length is wrong",
            ))?;
        batches.push(records.split_to(size));
    }
    if batches.is_empty() {
        return Err((ErrorCode::CorruptMessage, "the records are empty"));
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(length: i32, magic: u8) -> Vec<u8> {
        let mut bytes = vec![0u8; 12 + length as usize];
        bytes[8..12].copy_from_slice(&length.to_be_bytes());
        bytes[MAGIC_OFFSET] = magic;
        bytes
    }

    #[test]
    fn batches_are_split_by_their_lengths_and_bad_ones_refused() {
        let mut two = batch(60, 2);
        two.extend(batch(70, 2));
        let split = split_batches(Bytes::from(two)).unwrap();
        assert_eq!(split.iter().map(Bytes::len).collect::<Vec<_>>(), [72, 82]);
        let old = split_batches(Bytes::from(batch(60, 1))).unwrap_err();
        assert_eq!(old.0, ErrorCode::UnsupportedForMessageFormat);
        let mut cut = batch(60, 2);
        cut.truncate(40);
        assert_eq!(
            split_batches(Bytes::from(cut)).unwrap_err().0,
            ErrorCode::CorruptMessage
        );
        let mut negative = batch(60, 2);
        negative[8..12].copy_from_slice(&(-20i32).to_be_bytes());
        assert_eq!(
            split_batches(Bytes::from(negative)).unwrap_err().0,
            ErrorCode::CorruptMessage
        );
        assert_eq!(
            split_batches(Bytes::new()).unwrap_err().0,
            ErrorCode::CorruptMessage
        );
    }
}
