//! The raw disk at the broker's fsync cadence, for `sinew bench topics`: one
//! thread appends `bytes` to a new file in `writes` equal writes, with an
//! fdatasync after each (sinew-log syncs with `sync_data`, fdatasync), and is
//! timed from its first write to its last sync.
//!
//! Given the bytes the broker stored and the fsyncs it made in a run, this is
//! what the same file system does with the same bytes and the same number of
//! syncs and nothing else: no protocol, no records, no index. It must never leave
//! its file behind.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Appends `bytes` in `syncs` writes, each followed by an fdatasync.
pub fn write(directory: &Path, bytes: u64, syncs: u64) -> Result<Duration, String> {
    let syncs = syncs.max(1);
    let path = directory.join("raw-disk.bin");
    let mut file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .map_err(|error| format!("{}: {error}", path.display()))?;
    let chunk = bytes.div_ceil(syncs) as usize;
    let buffer = vec![0x5au8; chunk];
    let start = Instant::now();
    let mut left = bytes;
    let result = (|| {
        while left > 0 {
            let size = (left as usize).min(chunk);
            file.write_all(&buffer[..size])?;
            file.sync_data()?;
            left -= size as u64;
        }
        Ok::<_, std::io::Error>(())
    })();
    let elapsed = start.elapsed();
    drop(file);
    let _ = std::fs::remove_file(&path);
    result.map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(elapsed)
}
