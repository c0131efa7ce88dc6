//! Idempotent producers' state (Kafka's producer state manager, without
//! transactions): per producer id, its epoch and the sequence numbers and offsets
//! of its last few batches, so that a retried batch is answered with the offsets it
//! got the first time instead of being appended twice, a gap in the sequence is
//! refused, and an older epoch is fenced. It is rebuilt on open from the batch
//! headers (`replay`) and kept up to date by every append.
//!
//! It only decides and remembers; it never reads the disk or the clock. The rules
//! must stay Kafka's (`ProducerAppendInfo.checkSequence`), since clients retry by
//! them: an unknown producer may start at any sequence, a new epoch at 0, and within
//! an epoch each batch starts right after the last (wrapping after `i32::MAX`).

use crate::batch::Producer;
use std::collections::{HashMap, VecDeque};

/// How many batches are remembered per producer: a Kafka producer has at most five
/// requests in flight, so a retry is always of one of its last five batches.
pub const RETAINED_BATCHES: usize = 5;

/// One batch an idempotent producer appended: its sequence numbers and offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequencedBatch {
    /// The sequence number of its first record.
    pub first_sequence: i32,
    /// The sequence number of its last record.
    pub last_sequence: i32,
    /// The offset its first record got.
    pub base_offset: u64,
    /// The offset its last record got.
    pub last_offset: u64,
}

/// What the log knows of one producer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerEntry {
    /// The newest epoch seen.
    pub epoch: i16,
    /// Its last batches in that epoch, oldest first (at most `RETAINED_BATCHES`).
    pub batches: VecDeque<SequencedBatch>,
    /// The largest timestamp of its newest batch (milliseconds since the Unix
    /// epoch), which its expiry counts from.
    pub last_timestamp: i64,
}

impl ProducerEntry {
    /// The last batch appended in the current epoch.
    pub fn last(&self) -> Option<&SequencedBatch> {
        self.batches.back()
    }
}

/// What the log does with a producer's batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// New and in sequence (or from a producer the log does not know): append it.
    Append,
    /// The same batch was appended before: answer with its original offsets.
    Duplicate(SequencedBatch),
    /// Not the next sequence number (Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER).
    OutOfOrder {
        /// The sequence number the producer's next batch must start with.
        expected: i32,
    },
    /// An epoch older than the producer's current one (Kafka's
    /// INVALID_PRODUCER_EPOCH): a newer instance of the producer fenced this one.
    Fenced {
        /// The producer's current epoch.
        current_epoch: i16,
    },
}

/// Every producer id the log has seen, and what it knows of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProducerState {
    entries: HashMap<i64, ProducerEntry>,
}

/// The sequence number after `sequence`.
fn next_sequence(sequence: i32) -> i32 {
    if sequence == i32::MAX {
        0
    } else {
        sequence + 1
    }
}

impl ProducerState {
    /// What the log knows of producer `id`.
    pub(crate) fn entry(&self, id: i64) -> Option<&ProducerEntry> {
        self.entries.get(&id)
    }

    /// How many producers are known.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Decides what to do with a batch of `record_count` records from `producer`.
    pub(crate) fn check(&self, producer: Producer, record_count: u32) -> SequenceCheck {
        let Some(entry) = self.entries.get(&producer.id) else {
            return SequenceCheck::Append;
        };
        if producer.epoch < entry.epoch {
            return SequenceCheck::Fenced {
                current_epoch: entry.epoch,
            };
        }
        if producer.epoch > entry.epoch {
            return if producer.base_sequence == 0 {
                SequenceCheck::Append
            } else {
                SequenceCheck::OutOfOrder { expected: 0 }
            };
        }
        let last_sequence = producer.last_sequence(record_count);
        if let Some(original) = entry.batches.iter().find(|batch| {
            batch.first_sequence == producer.base_sequence && batch.last_sequence == last_sequence
        }) {
            return SequenceCheck::Duplicate(*original);
        }
        match entry.last() {
            Some(last) if next_sequence(last.last_sequence) != producer.base_sequence => {
                SequenceCheck::OutOfOrder {
                    expected: next_sequence(last.last_sequence),
                }
            }
            _ => SequenceCheck::Append,
        }
    }

    /// Remembers a batch that was appended (or found on open) at `base_offset` to
    /// `last_offset`. A newer epoch starts the producer's batches afresh; a batch of
    /// an older one (which only a damaged log could hold) is ignored.
    pub(crate) fn record(
        &mut self,
        producer: Producer,
        record_count: u32,
        (base_offset, last_offset): (u64, u64),
        max_timestamp: i64,
    ) {
        let entry = self
            .entries
            .entry(producer.id)
            .or_insert_with(|| ProducerEntry {
                epoch: producer.epoch,
                batches: VecDeque::with_capacity(RETAINED_BATCHES),
                last_timestamp: max_timestamp,
            });
        if producer.epoch < entry.epoch {
            return;
        }
        entry.last_timestamp = max_timestamp;
        if producer.epoch > entry.epoch {
            entry.epoch = producer.epoch;
            entry.batches.clear();
        }
        if entry.batches.len() == RETAINED_BATCHES {
            entry.batches.pop_front();
        }
        entry.batches.push_back(SequencedBatch {
            first_sequence: producer.base_sequence,
            last_sequence: producer.last_sequence(record_count),
            base_offset,
            last_offset,
        });
    }

    /// Forgets producers whose newest batch's timestamp is at least `max_age_ms`
    /// before `now_ms` (Kafka's producer expiry); returns how many.
    pub(crate) fn expire(&mut self, now_ms: i64, max_age_ms: i64) -> usize {
        let before = self.entries.len();
        self.entries
            .retain(|_, entry| now_ms.saturating_sub(entry.last_timestamp) < max_age_ms);
        before - self.entries.len()
    }

    /// Forgets producers whose last batch is wholly before the log start offset (as
    /// Kafka does after retention or DeleteRecords: such a producer may then start
    /// again at any sequence).
    pub(crate) fn forget_before(&mut self, start_offset: u64) {
        self.entries.retain(|_, entry| {
            entry
                .last()
                .is_some_and(|last| last.last_offset >= start_offset)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn producer(id: i64, epoch: i16, base_sequence: i32) -> Producer {
        Producer {
            id,
            epoch,
            base_sequence,
        }
    }

    #[test]
    fn kafkas_sequence_rules() {
        let mut state = ProducerState::default();
        // Unknown: any start is accepted.
        assert_eq!(state.check(producer(1, 0, 17), 3), SequenceCheck::Append);
        state.record(producer(1, 0, 17), 3, (100, 102), 0);
        // The same batch again: its original offsets.
        assert_eq!(
            state.check(producer(1, 0, 17), 3),
            SequenceCheck::Duplicate(SequencedBatch {
                first_sequence: 17,
                last_sequence: 19,
                base_offset: 100,
                last_offset: 102,
            })
        );
        // The next batch must start at 20.
        assert_eq!(
            state.check(producer(1, 0, 21), 1),
            SequenceCheck::OutOfOrder { expected: 20 }
        );
        assert_eq!(state.check(producer(1, 0, 20), 1), SequenceCheck::Append);
        // An older epoch is fenced; a newer one starts at 0.
        state.record(producer(1, 2, 0), 1, (103, 103), 0);
        assert_eq!(
            state.check(producer(1, 1, 20), 1),
            SequenceCheck::Fenced { current_epoch: 2 }
        );
        assert_eq!(
            state.check(producer(1, 3, 5), 1),
            SequenceCheck::OutOfOrder { expected: 0 }
        );
        assert_eq!(state.check(producer(1, 3, 0), 1), SequenceCheck::Append);
        // The epoch's batches started afresh: the old epoch's batch is no duplicate.
        assert_eq!(state.entry(1).map(|entry| entry.batches.len()), Some(1));
    }

    #[test]
    fn only_the_last_five_batches_are_remembered_and_sequences_wrap() {
        let mut state = ProducerState::default();
        let mut sequence = i32::MAX - 3;
        for offset in 0..7u64 {
            state.record(producer(9, 0, sequence), 2, (offset * 2, offset * 2 + 1), 0);
            sequence = next_sequence(next_sequence(sequence));
        }
        let entry = state.entry(9).expect("known");
        assert_eq!(entry.batches.len(), RETAINED_BATCHES);
        assert_eq!(
            entry.batches.front().map(|batch| batch.base_offset),
            Some(4)
        );
        // The first two batches are forgotten: no longer duplicates, and out of order.
        assert_eq!(
            state.check(producer(9, 0, i32::MAX - 3), 2),
            SequenceCheck::OutOfOrder { expected: sequence }
        );
        assert_eq!(
            state.check(producer(9, 0, sequence), 1),
            SequenceCheck::Append
        );
    }

    #[test]
    fn producers_whose_batches_are_all_deleted_are_forgotten() {
        let mut state = ProducerState::default();
        state.record(producer(1, 0, 0), 1, (0, 0), 0);
        state.record(producer(2, 0, 0), 1, (1, 1), 0);
        state.record(producer(2, 0, 1), 1, (5, 5), 0);
        state.forget_before(2);
        assert_eq!(state.entry(1), None);
        // A producer still in the log keeps its batches, so a retry of one below
        // the start is still answered with its offsets.
        assert_eq!(state.entry(2).map(|entry| entry.batches.len()), Some(2));
        assert_eq!(state.len(), 1);
    }
}
