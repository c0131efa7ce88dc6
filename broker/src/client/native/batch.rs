//! The producer's buffers: one queue per partition holding the batch still being
//! filled and the sealed batches behind it, in sequence order, each sent or
//! waiting to be (again).
//!
//! Pure bookkeeping: it never touches the socket or the clock (times are passed
//! in), and never reorders a partition's batches, since an idempotent producer's
//! sequences must reach the broker in order.

use std::collections::VecDeque;
use std::time::Instant;

use crate::doors::native::{ProduceRecord, TopicName};

/// Bytes a record is counted as beyond its key, value and headers: its table
/// entry and the three frames' ZMTP headers, roughly.
const RECORD_OVERHEAD: usize = 16 + 3 * 9;

/// The records of one PRODUCE request to one partition.
#[derive(Debug)]
pub(crate) struct Batch {
    pub topic: TopicName,
    pub partition: u32,
    pub records: Vec<ProduceRecord>,
    /// The ids `Producer::send` gave each record, in record order.
    pub ids: Vec<u64>,
    pub bytes: usize,
    pub opened: Instant,
    /// Set when sealed, for an idempotent producer; kept across retries.
    pub base_sequence: Option<i32>,
    /// Retriable failures of this batch itself so far.
    pub failures: u32,
    /// The correlation id and answer deadline of the request carrying it now.
    pub in_flight: Option<(u64, Instant)>,
}

impl Batch {
    pub fn new(topic: TopicName, partition: u32, now: Instant) -> Batch {
        Batch {
            topic,
            partition,
            records: Vec::new(),
            ids: Vec::new(),
            bytes: 0,
            opened: now,
            base_sequence: None,
            failures: 0,
            in_flight: None,
        }
    }

    pub fn push(&mut self, id: u64, record: ProduceRecord) {
        self.bytes += record_size(&record);
        self.records.push(record);
        self.ids.push(id);
    }
}

/// What a record is counted as in a batch's byte size.
pub(crate) fn record_size(record: &ProduceRecord) -> usize {
    let headers: usize = record
        .headers
        .iter()
        .map(|header| 6 + header.name().len() + header.value().map_or(0, |value| value.len()))
        .sum();
    RECORD_OVERHEAD
        + record.key.as_ref().map_or(0, |key| key.len())
        + record.value.as_ref().map_or(0, |value| value.len())
        + headers
}

/// One partition's batches: the one being filled, then the sealed ones in order.
/// Sent batches are always a prefix of `sealed`.
#[derive(Debug, Default)]
pub(crate) struct PartitionQueue {
    pub open: Option<Batch>,
    pub sealed: VecDeque<Batch>,
    /// The sequence the next sealed batch starts at (idempotent producers).
    pub next_sequence: i32,
}

impl PartitionQueue {
    /// Seals the open batch, giving it the next sequence when `idempotent`.
    pub fn seal(&mut self, idempotent: bool) {
        let Some(mut batch) = self.open.take() else {
            return;
        };
        if batch.records.is_empty() {
            return;
        }
        if idempotent {
            batch.base_sequence = Some(self.next_sequence);
            let count = i32::try_from(batch.records.len()).unwrap_or(i32::MAX);
            self.next_sequence = next_sequence(self.next_sequence, count);
        }
        self.sealed.push_back(batch);
    }

    /// The position of the batch sent with `correlation_id`.
    pub fn position_of(&self, correlation_id: u64) -> Option<usize> {
        self.sealed
            .iter()
            .position(|batch| batch.in_flight.map(|(id, _)| id) == Some(correlation_id))
    }

    /// Marks the batch at `index` and every later one as waiting to be sent
    /// again; returns the correlation ids that no longer count.
    pub fn resend_from(&mut self, index: usize) -> Vec<u64> {
        self.sealed
            .iter_mut()
            .skip(index)
            .filter_map(|batch| batch.in_flight.take().map(|(id, _)| id))
            .collect()
    }

    /// Whether nothing is buffered or in flight.
    pub fn is_empty(&self) -> bool {
        self.open.is_none() && self.sealed.is_empty()
    }
}

/// Kafka's sequence arithmetic: counts records, wrapping from 2^31-1 to 0.
pub(crate) fn next_sequence(sequence: i32, count: i32) -> i32 {
    let next = i64::from(sequence) + i64::from(count);
    i32::try_from(next % (i64::from(i32::MAX) + 1)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_wrap_from_the_largest_to_zero() {
        assert_eq!(next_sequence(0, 3), 3);
        assert_eq!(next_sequence(i32::MAX, 1), 0);
        assert_eq!(next_sequence(i32::MAX - 1, 3), 1);
    }
}
