//! Fuzz target: a producer's batch, as `Log::append_batch` and `decode_records`
//! take it.
//!
//! The first byte chooses whether the batch's length and CRC are fixed up first
//! (so the fuzzer reaches the record decoder and the codecs) and whether the log is
//! compacted. Every input must give a typed error or records, never a panic; a
//! refused batch must leave the log as it was; an accepted one reads back, unless
//! its compressed bytes (stored as sent) do not decompress.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinew_log::batch::Compression;
use sinew_log::{Compaction, FsyncPolicy, Log, LogConfig, MemoryDirectory, batch, decode_records};
use std::sync::Arc;
use std::time::Duration;

/// Byte ranges of the header fields the fix-up rewrites (Kafka's RecordBatch v2).
const LENGTH: std::ops::Range<usize> = 8..12;
const CRC: std::ops::Range<usize> = 17..21;

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let mut batch = bytes.to_vec();
    if control & 1 == 1 && batch.len() >= 61 {
        let length = u32::try_from(batch.len() - 12).unwrap_or(u32::MAX);
        batch[LENGTH].copy_from_slice(&length.to_be_bytes());
        batch[16] = 2; // magic
        if let Ok(crc) = batch::compute_crc(&batch) {
            batch[CRC].copy_from_slice(&crc.to_be_bytes());
        }
    }
    let decoded = batch::check(&batch).and_then(|_| decode_records(&batch));
    let compacted = control & 2 == 2;
    let config = LogConfig {
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        compaction: compacted.then(|| Compaction {
            tombstone_retention: Duration::from_secs(1),
            ..Compaction::default()
        }),
        ..LogConfig::default()
    };
    let Ok((log, _)) = Log::open_in(Arc::new(MemoryDirectory::new()), config) else {
        return;
    };
    match log.append_batch(&batch) {
        Ok(acknowledgement) => {
            match log
                .reader()
                .read_records(acknowledgement.base_offset, usize::MAX)
            {
                Ok(records) => {
                    let count = acknowledgement.last_offset - acknowledgement.base_offset + 1;
                    assert!(records.len() as u64 <= count);
                    if let Ok(decoded) = decoded {
                        assert_eq!(decoded.len(), records.len());
                    }
                }
                // Compressed records are not decoded on append (only a compacted
                // log looks at them), so a producer's bad compressed bytes are
                // stored as sent and refused, with an error, by whoever decodes them.
                Err(error) => {
                    let header = batch::check(&batch).expect("an accepted batch is whole");
                    assert!(
                        !compacted && header.compression().ok() != Some(Compression::None),
                        "an uncompressed or checked batch fails to read back: {error}"
                    );
                }
            }
        }
        Err(_) => assert_eq!(log.end_offset(), 0, "a refused batch leaves nothing"),
    }
});
