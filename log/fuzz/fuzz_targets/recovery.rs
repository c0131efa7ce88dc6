//! Fuzz target: opening a damaged log, as the writer and as a read-only reader.
//!
//! A small log (three segments, indexes, checkpoint, clean-shutdown marker) is
//! written to the in-memory directory, then the input damages its files: each step
//! names a file, a position and an action (overwrite bytes, cut, zero-fill, remove).
//! Opening must recover or refuse with a typed error, never panic; whatever it then
//! serves must come in offset order inside the range it reports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinew_log::{
    Directory, FsyncPolicy, Log, LogConfig, MemoryDirectory, NewRecord, Reader,
    open_read_only_in,
};
use std::sync::Arc;

fn healthy() -> Option<Arc<MemoryDirectory>> {
    let directory = Arc::new(MemoryDirectory::new());
    let config = LogConfig {
        segment_bytes: 300,
        index_interval_bytes: 1,
        fsync: FsyncPolicy::Never,
        cleaner_interval: None,
        ..LogConfig::default()
    };
    let (log, _) = Log::open_in(directory.clone(), config).ok()?;
    for index in 0..12u8 {
        let record = NewRecord::new(Some(vec![b'k', index]), vec![index; 40], i64::from(index));
        log.append(&[record]).ok()?;
    }
    log.close().ok()?;
    Some(directory)
}

/// Reads every record from the start; checks order and range.
fn read_everything(reader: &Reader) {
    let (start, end) = (reader.start_offset(), reader.end_offset());
    let mut next = start;
    while next < end {
        let Ok(records) = reader.read_records(next, 64) else {
            return;
        };
        let Some(last) = records.last() else {
            return;
        };
        for pair in records.windows(2) {
            assert!(pair[0].offset < pair[1].offset, "records out of order");
        }
        assert!(records[0].offset >= start && last.offset < end, "outside the log");
        next = last.offset + 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(directory) = healthy() else {
        return;
    };
    let mut names = directory.list().unwrap_or_default();
    names.sort();
    if names.is_empty() {
        return;
    }
    let mut steps = data;
    while let [selector, action, high, low, rest @ ..] = steps {
        let name = &names[usize::from(*selector) % names.len()];
        let mut bytes = directory.contents(name).unwrap_or_default();
        let position = (usize::from(*high) << 8 | usize::from(*low)) % (bytes.len() + 1);
        let length = usize::from(action >> 2).min(rest.len());
        match action & 3 {
            0 => {
                let end = (position + length).min(bytes.len());
                bytes[position..end].copy_from_slice(&rest[..end - position]);
            }
            1 => bytes.truncate(position),
            2 => {
                let end = (position + length).min(bytes.len());
                bytes[position..end].fill(0);
            }
            _ => {
                let _ = directory.remove(name);
                steps = rest;
                continue;
            }
        }
        directory.replace_contents(name, bytes);
        steps = &rest[length.min(rest.len())..];
    }
    if let Ok((reader, _)) = open_read_only_in(directory.as_ref()) {
        read_everything(&reader);
    }
    if let Ok((log, _)) = Log::open_in(directory.clone(), LogConfig::default()) {
        read_everything(&log.reader());
        let record = NewRecord::new(Some(b"after".to_vec()), b"damage".to_vec(), 99);
        let _ = log.append(&[record]);
        read_everything(&log.reader());
    }
});
