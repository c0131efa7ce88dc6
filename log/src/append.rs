//! The append path of a `Partition`: records are encoded into a batch on the
//! calling thread (into a buffer kept per thread, so a steady stream of appends
//! allocates nothing per batch), a producer's batch is checked, sizes and keys are
//! held to the log's settings, and the batch goes to the partition's writer.
//!
//! It must never let a batch through that the log would fail to read back, and
//! never hold the partition's writer lock while it encodes or checks.

use crate::batch::{BatchHeader, Compression, Producer};
use crate::encoder::BatchEncoder;
use crate::error::{BatchError, LogError, Result};
use crate::partition::{Appended, Partition};
use crate::produced;
use crate::record::{AppendRecord, payload_size};
use std::cell::RefCell;
use std::time::Instant;

thread_local! {
    /// The encoder `Partition::append` uses, one per appending thread.
    static ENCODER: RefCell<BatchEncoder> = const { RefCell::new(BatchEncoder::new()) };
}

/// A thread's encoding buffer is let go after a batch larger than this, so a rare
/// huge batch does not stay allocated for the thread's life.
const KEPT_ENCODING_BYTES: usize = 4 << 20;

impl Partition {
    /// Appends records as one batch, timestamps as given, their bytes borrowed
    /// (copied once, into the batch); `producer`'s id, epoch and base sequence go
    /// into the batch's header. `now` is the time by which the segment age is
    /// judged. A compacted log refuses records without a key. Nothing is synced:
    /// `sync` when the batch must be durable.
    pub fn append<R: AppendRecord>(
        &self,
        records: &[R],
        producer: Option<Producer>,
        now: Instant,
    ) -> Result<Appended> {
        if self.config.compaction.is_some()
            && let Some(position) = records.iter().position(|record| record.key().is_none())
        {
            return Err(LogError::KeyRequired { position });
        }
        let appended = ENCODER.try_with(|encoder| {
            let mut encoder = encoder.try_borrow_mut().ok()?;
            let result = self.encode_and_append(records, producer, now, &mut encoder);
            if encoder.buffer_size() > KEPT_ENCODING_BYTES {
                *encoder = BatchEncoder::new();
            }
            Some(result)
        });
        match appended {
            Ok(Some(result)) => result,
            // The thread is ending, or this is a nested call: an encoder of its own.
            _ => self.encode_and_append(records, producer, now, &mut BatchEncoder::new()),
        }
    }

    fn encode_and_append<R: AppendRecord>(
        &self,
        records: &[R],
        producer: Option<Producer>,
        now: Instant,
        encoder: &mut BatchEncoder,
    ) -> Result<Appended> {
        let batch = encoder
            .encode_records(records, Compression::None, producer)
            .map_err(|error| match error {
                BatchError::RecordTooLarge => LogError::BatchTooLarge {
                    size_bytes: records.iter().map(payload_size).sum(),
                    limit_bytes: self.config.max_batch_bytes,
                },
                other => LogError::InvalidBatch(other),
            })?;
        self.check_size(batch.len())?;
        // Built here, so the CRC is right: only the header needs reading back.
        let header = BatchHeader::parse(batch)?;
        self.append_checked(batch, &header, now)
    }

    /// Appends an encoded RecordBatch v2 as it is, after checking it (length,
    /// magic, CRC, record count, and the records themselves when uncompressed). Only
    /// the base offset is rewritten, outside the CRC. Compressed records are not
    /// looked at, except on a compacted log, which must refuse records without a
    /// key (as a Kafka broker does, it decompresses them to check). Nothing is
    /// synced.
    pub fn append_batch(&self, batch: &[u8], now: Instant) -> Result<Appended> {
        self.check_size(batch.len())?;
        let header = produced::check_produced_batch(batch, self.config.compaction.is_some())?;
        self.append_checked(batch, &header, now)
    }

    fn check_size(&self, size: usize) -> Result<()> {
        let limit = self.config.max_batch_bytes;
        if size as u64 > limit {
            return Err(LogError::BatchTooLarge {
                size_bytes: size as u64,
                limit_bytes: limit,
            });
        }
        Ok(())
    }
}
