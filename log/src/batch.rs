//! The record batch: Kafka's RecordBatch v2 header (magic 2), its CRC-32C, and the
//! fields the log patches when it assigns offsets.
//!
//! The layout is documented byte by byte in `docs/log-format.md`. This module must
//! never trust a length or a count it read: every batch is checked (length, magic,
//! CRC) before anything inside it is used, and it must never change a byte covered
//! by the CRC.

use crate::cursor::{Cursor, CursorError};
use crate::error::BatchError;

/// Bytes before the batch-length field's coverage starts: base offset and length.
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed header, from the base offset to the record count inclusive.
pub const HEADER_SIZE: usize = 61;
/// The only batch format this log stores.
pub const MAGIC: i8 = 2;
/// The partition leader epoch of a batch written without one (Kafka's
/// `NO_PARTITION_LEADER_EPOCH`); epochs are otherwise at least 0.
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

/// Attribute bits 0-2: the compression codec.
pub(crate) const COMPRESSION_MASK: i16 = 0x07;
/// Attribute bit 6: the base timestamp holds the delete horizon (KIP-534).
pub(crate) const DELETE_HORIZON_FLAG: i16 = 0x40;

/// Size of the base offset, the batch's first field.
pub(crate) const BASE_OFFSET_SIZE: usize = 8;
const LENGTH_POSITION: usize = BASE_OFFSET_SIZE;
const LEADER_EPOCH_POSITION: usize = 12;
const MAGIC_POSITION: usize = 16;
const CRC_POSITION: usize = 17;
/// The CRC covers everything from the attributes to the end of the batch.
const CRC_START: usize = 21;

pub use crate::codec::Compression;

impl Compression {
    fn from_attributes(attributes: i16) -> Result<Self, BatchError> {
        match attributes & 0x07 {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(BatchError::UnknownCompression(other as u8)),
        }
    }
}

/// The idempotent producer's fields of a batch (Kafka's producerId, producerEpoch
/// and baseSequence): who wrote it, in which epoch, and the sequence number of its
/// first record (the others follow, one per record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Producer {
    /// The producer id (0 or more).
    pub id: i64,
    /// The producer epoch (0 or more): a newer one fences the older.
    pub epoch: i16,
    /// Sequence number of the batch's first record (0 or more).
    pub base_sequence: i32,
}

impl Producer {
    /// Refuses fields no idempotent producer sends: a negative id, epoch or
    /// sequence.
    pub fn check(&self) -> Result<(), BatchError> {
        if self.id < 0 || self.epoch < 0 || self.base_sequence < 0 {
            return Err(BatchError::BadProducer {
                id: self.id,
                epoch: self.epoch,
                base_sequence: self.base_sequence,
            });
        }
        Ok(())
    }

    /// The sequence number of the last of `record_count` records (sequences wrap
    /// from `i32::MAX` to 0, as Kafka's do).
    pub fn last_sequence(&self, record_count: u32) -> i32 {
        let span = i64::from(record_count.max(1)) - 1;
        let last = (i64::from(self.base_sequence) + span) % (i64::from(i32::MAX) + 1);
        i32::try_from(last).unwrap_or(i32::MAX)
    }
}

/// The fixed header of one record batch, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record.
    pub base_offset: u64,
    /// Bytes after the length field (the whole batch is this plus 12).
    pub batch_length: u32,
    /// The partition leader epoch (not covered by the CRC).
    pub partition_leader_epoch: i32,
    /// The stored CRC-32C.
    pub crc: u32,
    /// Compression, timestamp type, transactional and control bits.
    pub attributes: i16,
    /// Offset of the last record minus the base offset.
    pub last_offset_delta: u32,
    /// Timestamp of the first record (milliseconds since the Unix epoch).
    pub base_timestamp: i64,
    /// Largest timestamp in the batch.
    pub max_timestamp: i64,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// How many records the batch holds.
    pub record_count: u32,
}

impl BatchHeader {
    /// Parses the fixed header. Checks the length, the magic and that the partition
    /// leader epoch is possible (-1 or more), not the CRC.
    pub fn parse(bytes: &[u8]) -> Result<Self, BatchError> {
        let mut cursor = Cursor::new(bytes);
        let truncated = |_: CursorError| BatchError::Truncated {
            needed: HEADER_SIZE,
            available: bytes.len(),
        };
        let base_offset = cursor.i64().map_err(truncated)?;
        let batch_length = cursor.i32().map_err(truncated)?;
        let minimum = (HEADER_SIZE - LOG_OVERHEAD) as i32;
        if batch_length < minimum {
            return Err(BatchError::BadLength(batch_length));
        }
        let partition_leader_epoch = cursor.i32().map_err(truncated)?;
        let magic = cursor.i8().map_err(truncated)?;
        if magic != MAGIC {
            return Err(BatchError::BadMagic(magic));
        }
        // Outside the CRC and read by nothing here, but served as stored: a value no
        // Kafka leader or producer writes is damage. (This catches every flipped
        // bit of -1 but the top one, which makes it i32::MAX.)
        if partition_leader_epoch < NO_PARTITION_LEADER_EPOCH {
            return Err(BatchError::BadLeaderEpoch(partition_leader_epoch));
        }
        let crc = cursor.u32().map_err(truncated)?;
        let attributes = cursor.i16().map_err(truncated)?;
        let last_offset_delta = cursor.i32().map_err(truncated)?;
        let base_timestamp = cursor.i64().map_err(truncated)?;
        let max_timestamp = cursor.i64().map_err(truncated)?;
        let producer_id = cursor.i64().map_err(truncated)?;
        let producer_epoch = cursor.i16().map_err(truncated)?;
        let base_sequence = cursor.i32().map_err(truncated)?;
        let record_count = cursor.i32().map_err(truncated)?;
        let base_offset = u64::try_from(base_offset).map_err(|_| BatchError::BadOffset)?;
        let last_offset_delta =
            u32::try_from(last_offset_delta).map_err(|_| BatchError::BadOffset)?;
        if base_offset
            .checked_add(u64::from(last_offset_delta))
            .is_none()
        {
            return Err(BatchError::BadOffset);
        }
        let record_count =
            u32::try_from(record_count).map_err(|_| BatchError::BadRecordCount(record_count))?;
        Ok(BatchHeader {
            base_offset,
            batch_length: batch_length as u32,
            partition_leader_epoch,
            crc,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            record_count,
        })
    }

    /// Size of the whole batch in bytes, header included.
    pub fn size(&self) -> u64 {
        u64::from(self.batch_length) + LOG_OVERHEAD as u64
    }

    /// Offset of the last record.
    pub fn last_offset(&self) -> u64 {
        self.base_offset + u64::from(self.last_offset_delta)
    }

    /// The offset after the last record.
    pub fn next_offset(&self) -> u64 {
        self.last_offset() + 1
    }

    /// The compression codec named in the attributes.
    pub fn compression(&self) -> Result<Compression, BatchError> {
        Compression::from_attributes(self.attributes)
    }

    /// The idempotent producer's fields, if the batch has a producer id.
    pub fn producer(&self) -> Option<Producer> {
        (self.producer_id >= 0).then_some(Producer {
            id: self.producer_id,
            epoch: self.producer_epoch,
            base_sequence: self.base_sequence,
        })
    }

    /// Whether timestamps are the log's append time rather than the producer's.
    pub fn log_append_time(&self) -> bool {
        self.attributes & 0x08 != 0
    }

    /// Whether the batch belongs to a transaction.
    pub fn transactional(&self) -> bool {
        self.attributes & 0x10 != 0
    }

    /// Whether the batch is a control batch (transaction markers).
    pub fn control(&self) -> bool {
        self.attributes & 0x20 != 0
    }

    /// When the cleaner may drop this batch's tombstones, if it has set that time
    /// (KIP-534: the base timestamp then holds it, in milliseconds since the epoch).
    pub fn delete_horizon(&self) -> Option<i64> {
        (self.attributes & DELETE_HORIZON_FLAG != 0).then_some(self.base_timestamp)
    }
}

/// Computes the CRC-32C a batch should carry (over attributes to the end).
pub fn compute_crc(batch: &[u8]) -> Result<u32, BatchError> {
    let covered = batch.get(CRC_START..).ok_or(BatchError::Truncated {
        needed: HEADER_SIZE,
        available: batch.len(),
    })?;
    Ok(crate::crc::crc32c(covered))
}

/// Checks one complete batch: header, exact length, magic and CRC.
///
/// `batch` must hold exactly one batch.
pub fn check(batch: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = BatchHeader::parse(batch)?;
    let expected = header.size();
    if batch.len() as u64 != expected {
        return Err(BatchError::LengthMismatch {
            declared: expected,
            actual: batch.len() as u64,
        });
    }
    let computed = compute_crc(batch)?;
    if computed != header.crc {
        return Err(BatchError::Crc {
            stored: header.crc,
            computed,
        });
    }
    header.compression()?;
    Ok(header)
}

/// Writes the base offset into a batch (or into the batch's first
/// `BASE_OFFSET_SIZE` bytes). The field is outside the CRC, so the stored checksum
/// stays valid.
pub fn set_base_offset(batch: &mut [u8], base_offset: u64) -> Result<(), BatchError> {
    let field = batch
        .get_mut(..LENGTH_POSITION)
        .ok_or(BatchError::Truncated {
            needed: HEADER_SIZE,
            available: 0,
        })?;
    let base_offset = i64::try_from(base_offset).map_err(|_| BatchError::BadOffset)?;
    field.copy_from_slice(&base_offset.to_be_bytes());
    Ok(())
}

/// Writes the partition leader epoch into a batch (outside the CRC).
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> Result<(), BatchError> {
    let field =
        batch
            .get_mut(LEADER_EPOCH_POSITION..MAGIC_POSITION)
            .ok_or(BatchError::Truncated {
                needed: HEADER_SIZE,
                available: 0,
            })?;
    field.copy_from_slice(&epoch.to_be_bytes());
    Ok(())
}

/// Fills in the batch length and the CRC of a batch whose other fields are written.
pub(crate) fn seal(batch: &mut [u8]) -> Result<(), BatchError> {
    let length = batch
        .len()
        .checked_sub(LOG_OVERHEAD)
        .and_then(|length| i32::try_from(length).ok())
        .ok_or(BatchError::BadLength(-1))?;
    if let Some(field) = batch.get_mut(LENGTH_POSITION..LEADER_EPOCH_POSITION) {
        field.copy_from_slice(&length.to_be_bytes());
    }
    let crc = compute_crc(batch)?;
    if let Some(field) = batch.get_mut(CRC_POSITION..CRC_START) {
        field.copy_from_slice(&crc.to_be_bytes());
    }
    Ok(())
}

/// The base offset and length of a batch from its first 12 bytes, for walking a
/// segment before the whole header has been read.
pub(crate) fn peek_size(prefix: &[u8]) -> Result<(i64, i32), CursorError> {
    let mut cursor = Cursor::new(prefix);
    Ok((cursor.i64()?, cursor.i32()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::encode_batch;
    use crate::record::NewRecord;

    fn sample() -> Vec<u8> {
        let records = [NewRecord::new(
            Some(b"k".to_vec()),
            b"value".to_vec(),
            1_000,
        )];
        encode_batch(&records).expect("encodes")
    }

    #[test]
    fn patching_the_base_offset_keeps_the_crc() {
        let mut batch = sample();
        set_base_offset(&mut batch, 1234).expect("patch");
        set_partition_leader_epoch(&mut batch, 7).expect("patch");
        let header = check(&batch).expect("valid");
        assert_eq!(header.base_offset, 1234);
        assert_eq!(header.partition_leader_epoch, 7);
    }

    #[test]
    fn every_flipped_bit_in_the_crc_range_is_caught() {
        let batch = sample();
        for position in CRC_START..batch.len() {
            for bit in 0..8 {
                let mut damaged = batch.clone();
                damaged[position] ^= 1 << bit;
                assert!(
                    check(&damaged).is_err(),
                    "flip at {position} bit {bit} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn short_and_mislabelled_batches_are_refused() {
        let batch = sample();
        for length in 0..batch.len() {
            assert!(check(&batch[..length]).is_err());
        }
        let mut wrong_magic = batch.clone();
        wrong_magic[MAGIC_POSITION] = 1;
        assert_eq!(check(&wrong_magic), Err(BatchError::BadMagic(1)));
        let mut zeros = batch.clone();
        zeros.fill(0);
        assert_eq!(check(&zeros), Err(BatchError::BadLength(0)));
    }

    #[test]
    fn a_leader_epoch_below_minus_one_is_refused() {
        let mut batch = sample();
        for epoch in [-1, 0, 7, i32::MAX] {
            set_partition_leader_epoch(&mut batch, epoch).expect("patch");
            assert_eq!(
                check(&batch).map(|header| header.partition_leader_epoch),
                Ok(epoch)
            );
        }
        for epoch in [-2, i32::MIN, -1 ^ 0x0040_0000] {
            set_partition_leader_epoch(&mut batch, epoch).expect("patch");
            assert_eq!(check(&batch), Err(BatchError::BadLeaderEpoch(epoch)));
        }
    }
}
