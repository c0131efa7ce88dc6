//! `sinew-log`: an embedded, append-only, segmented log that stores record batches in
//! Kafka's RecordBatch v2 layout and survives crashes.
//!
//! A log directory holds one partition. It can be driven two ways:
//!
//! - [`Log`], the threaded handle: appends from any thread (offsets assigned by
//!   patching the base offset, outside the CRC), syncs under a [`FsyncPolicy`]
//!   with group commit, and runs an interval flusher and a background cleaner of
//!   its own; each append's [`Acknowledgement`] says whether the batch is only
//!   written or already durable, and any number of [`Reader`]s read by offset or by
//!   timestamp and can wait at the end of the log.
//! - [`Partition`], the owner-driven core underneath ("broker mode"): no threads, no
//!   clock reads, no blocking. The owner appends (nothing is synced), calls
//!   [`Partition::sync`] when it likes, passes the time in, reads batches as shared
//!   `bytes::Bytes`, and gets a [`Notice`] from every change ("new data up to X",
//!   "durable up to Y", "a segment was sealed") to route to whoever waits. One
//!   thread of the owner's can clean any number of partitions with [`clean`].
//!
//! Opening a log after a crash checks everything after the recovery point, cuts a
//! torn tail and refuses to serve damage ([`RecoveryReport`]). [`inspect`] looks into
//! a directory without changing it.
//!
//! Batches may come compressed with any of Kafka's codecs (gzip, Snappy raw or in
//! xerial framing, LZ4, Zstandard); they are stored and served as they came and
//! decompressed only where records are looked at. Retention
//! ([`LogConfig::retention_age`], [`LogConfig::retention_bytes`]) deletes whole
//! segments from the front; compaction ([`LogConfig::compaction`]) keeps the newest
//! record per key without changing offsets. Both run on the `Log`'s background
//! cleaner thread, on demand ([`Log::apply_retention`], [`Log::compact`]), or from
//! an owner's own cleaner ([`clean`]), and a crash at any point of either loses
//! nothing that should survive.
//!
//! ```
//! use sinew_log::{Log, LogConfig, MemoryDirectory, NewRecord};
//! use std::sync::Arc;
//!
//! let directory = Arc::new(MemoryDirectory::new());
//! let (log, _report) = Log::open_in(directory, LogConfig::default())?;
//! let ack = log.append(&[NewRecord::new(None, b"hello".to_vec(), 0)])?;
//! assert_eq!(ack.base_offset, 0);
//! let records = log.reader().read_records(0, 10)?;
//! assert_eq!(records[0].value.as_deref(), Some(&b"hello"[..]));
//! log.close()?;
//! # Ok::<(), sinew_log::LogError>(())
//! ```
//!
//! The byte layout and what the engine assumes about the disk are in
//! `docs/log-format.md`. This crate must never depend on anything else of Sinew's,
//! and never panic on anything a file or a producer sent.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod active;
mod append;
mod background;
pub mod batch;
mod buffers;
mod checkpoint;
mod cleaner;
mod codec;
mod commit;
mod compaction;
mod compression;
mod config;
mod crc;
mod cursor;
mod encoder;
mod error;
mod front;
mod handle;
mod index;
pub mod inspect;
mod partition;
mod produced;
mod producer;
mod reader;
mod record;
mod recovery;
mod report;
mod retention;
mod scan;
mod segment;
mod shared;
mod signal;
pub mod storage;
mod time;

pub use batch::Producer;
pub use checkpoint::Checkpoint;
pub use cleaner::{CleaningReport, clean};
pub use compaction::CompactionReport;
pub use compression::MAX_DECOMPRESSED_BYTES;
pub use config::{Compaction, Durability, FsyncPolicy, LogConfig};
pub use encoder::{BatchEncoder, encode_batch, encode_batch_with};
pub use error::{BatchError, LogError, Result};
pub use handle::{Acknowledgement, Log};
pub use partition::{Appended, Notice, Partition, Synced};
pub use produced::check_produced_batch;
pub use producer::{ProducerEntry, RETAINED_BATCHES, SequenceCheck, SequencedBatch};
pub use reader::{Batches, Reader, open_read_only, open_read_only_in};
pub use record::{AppendRecord, Header, HeaderRef, NewRecord, Record, RecordRef, decode_records};
pub use report::{Damage, RebuiltIndex, RecoveryReport, Truncation};
pub use retention::RetentionReport;
pub use storage::{Directory, FileDirectory, MemoryDirectory, Storage};
