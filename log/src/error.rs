//! The log's typed errors: what went wrong with a batch (`BatchError`) and with the
//! log as a whole (`LogError`).
//!
//! Each variant is something a caller can act on. Messages say what was wrong, with
//! the offset, segment or position involved; they must never hide an I/O error.

use crate::codec::Compression;
use crate::report::RecoveryReport;
use std::io;

/// Why a batch's bytes are not a valid RecordBatch v2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Fewer bytes than the field being read needs.
    #[error("truncated batch: needed {needed} bytes, {available} available")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The batch length field is impossible.
    #[error("impossible batch length {0}")]
    BadLength(i32),
    /// The declared length does not match the bytes given.
    #[error("the batch declares {declared} bytes but {actual} were given")]
    LengthMismatch {
        /// Size from the length field.
        declared: u64,
        /// Size of the input.
        actual: u64,
    },
    /// Not magic 2.
    #[error("magic byte {0}: only RecordBatch v2 (magic 2) is stored")]
    BadMagic(i8),
    /// A partition leader epoch below -1, which no leader or producer writes.
    #[error("impossible partition leader epoch {0}")]
    BadLeaderEpoch(i32),
    /// The CRC-32C does not match the bytes.
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc {
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the bytes.
        computed: u32,
    },
    /// A negative or overflowing offset field.
    #[error("negative or overflowing offset fields")]
    BadOffset,
    /// The record count is impossible or disagrees with the last offset delta.
    #[error("impossible record count {0}")]
    BadRecordCount(i32),
    /// The compression bits name no codec.
    #[error("unknown compression codec {0}")]
    UnknownCompression(u8),
    /// The records could not be decompressed (or would decompress to more than the
    /// limit).
    #[error("records compressed with {codec:?} cannot be decompressed: {reason}")]
    Decompression {
        /// The batch's codec.
        codec: Compression,
        /// What the decoder reported.
        reason: String,
    },
    /// The records could not be compressed.
    #[error("records cannot be compressed with {codec:?}: {reason}")]
    Compression {
        /// The codec asked for.
        codec: Compression,
        /// What the encoder reported.
        reason: String,
    },
    /// A record inside the batch is malformed.
    #[error("malformed record: {0}")]
    BadRecord(&'static str),
    /// Producer fields no idempotent producer sends.
    #[error(
        "impossible producer fields: id {id}, epoch {epoch}, base sequence {base_sequence} (none may be negative)"
    )]
    BadProducer {
        /// The producer id.
        id: i64,
        /// The producer epoch.
        epoch: i16,
        /// The base sequence.
        base_sequence: i32,
    },
    /// A key, value or header does not fit a 31-bit length.
    #[error("a record field is larger than a batch can hold")]
    RecordTooLarge,
}

/// What can go wrong with a log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The operating system refused an operation.
    #[error("{context}: {source}")]
    Io {
        /// What the log was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A batch given to `append_batch` is not valid; the log is unchanged.
    #[error("invalid batch: {0}")]
    InvalidBatch(#[from] BatchError),
    /// A batch (or a record, which travels in a batch) is larger than the limit.
    #[error("batch of {size_bytes} bytes is larger than the limit of {limit_bytes} bytes")]
    BatchTooLarge {
        /// Size of the encoded batch.
        size_bytes: u64,
        /// The configured maximum.
        limit_bytes: u64,
    },
    /// The offset is not in the log (before its start, perhaps because retention
    /// deleted it, or past its end).
    #[error(
        "offset {requested} is out of range: the log holds offsets {start}..{end} (the earliest available is {start})"
    )]
    OffsetOutOfRange {
        /// The offset asked for.
        requested: u64,
        /// The earliest offset held.
        start: u64,
        /// The offset the next record will get.
        end: u64,
    },
    /// Stored bytes failed a check when read; they were not returned.
    #[error("corrupt data in {segment} at byte {position}: {reason}")]
    Corrupt {
        /// The segment file.
        segment: String,
        /// Byte position in the file.
        position: u64,
        /// What was wrong.
        reason: String,
    },
    /// Data the log had made durable is damaged or missing; the log refuses to
    /// open for writing. `sinew log verify` shows the details.
    #[error("the log is damaged before its recovery point: {0}")]
    Damaged(Box<RecoveryReport>),
    /// A compacted log keeps only the newest record per key, so it refuses records
    /// without one; nothing of the batch was appended.
    #[error("the log is compacted and record {position} of the batch has no key")]
    KeyRequired {
        /// The record's position in the batch, from 0.
        position: usize,
    },
    /// An idempotent producer's batch does not start with the next sequence number
    /// (Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER); nothing was appended.
    #[error(
        "producer {producer_id} sent sequence {found} where {expected} was expected; nothing was appended"
    )]
    OutOfOrderSequence {
        /// The producer id.
        producer_id: i64,
        /// The sequence number its next batch must start with.
        expected: i32,
        /// The batch's base sequence.
        found: i32,
    },
    /// An idempotent producer's batch carries an epoch older than the producer's
    /// current one (Kafka's INVALID_PRODUCER_EPOCH): a newer instance fenced it.
    #[error("producer {producer_id} epoch {epoch} is fenced by epoch {current_epoch}")]
    ProducerFenced {
        /// The producer id.
        producer_id: i64,
        /// The batch's epoch.
        epoch: i16,
        /// The producer's current epoch.
        current_epoch: i16,
    },
    /// Another writer holds the directory's lock.
    #[error("{0} is locked by another writer")]
    Locked(String),
    /// An earlier write or sync failed, so the log no longer knows what the disk
    /// holds; reopen it to recover.
    #[error("the log stopped accepting appends after an I/O error; reopen it")]
    Failed,
    /// The log was opened read-only.
    #[error("the log is open read-only")]
    ReadOnly,
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The directory holds files the log does not understand where a segment or
    /// checkpoint should be.
    #[error("unexpected file in the log directory: {0}")]
    UnexpectedFile(String),
}

impl LogError {
    /// Wraps an I/O error with what the log was doing.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> LogError {
        let context = context.into();
        move |source| LogError::Io { context, source }
    }

    /// `io` for hot paths: the context is only formatted if there is an error.
    pub(crate) fn io_with(context: impl FnOnce() -> String) -> impl FnOnce(io::Error) -> LogError {
        move |source| LogError::Io {
            context: context(),
            source,
        }
    }
}

/// The log's result type.
pub type Result<T, E = LogError> = std::result::Result<T, E>;
