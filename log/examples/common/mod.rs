//! What the log's benchmark examples share: the batch of records they append. Not
//! an example itself, and never part of `cargo test`.

use sinew_log::{BatchError, NewRecord, encode_batch};

/// `count` records of `record_bytes` bytes each, keyless, one millisecond apart.
fn records(record_bytes: usize, count: usize) -> Vec<NewRecord> {
    (0..count)
        .map(|index| {
            let value: Vec<u8> = (0..record_bytes)
                .map(|byte| (byte * 31 + index * 7) as u8)
                .collect();
            NewRecord::new(None, value, 1_700_000_000_000 + index as i64)
        })
        .collect()
}

/// As many records of `record_bytes` bytes as make an encoded batch of about
/// `batch_bytes` (at least one).
pub fn batch_of(record_bytes: usize, batch_bytes: usize) -> Result<Vec<NewRecord>, BatchError> {
    let per_record = encode_batch(&records(record_bytes, 100))?.len() / 100;
    Ok(records(record_bytes, (batch_bytes / per_record).max(1)))
}
