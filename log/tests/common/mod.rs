//! Helpers shared by the log's integration tests: a temporary directory that removes
//! itself, a seeded generator, and the deterministic record values the crash tests
//! check against. Test code only; it must never leave files behind on success.

#![allow(dead_code)]

use sinew_log::{LogConfig, NewRecord, Reader, Record};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// A directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDirectory {
    path: PathBuf,
}

impl TempDirectory {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("sinew-log-{label}-{}-{unique}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDirectory { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The log directory inside (not yet created).
    pub fn log(&self) -> PathBuf {
        self.path.join("log")
    }
}

impl Drop for TempDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// SplitMix64: a seeded generator so a failure can be replayed.
#[derive(Debug, Clone)]
pub struct Random(pub u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next() % bound }
    }
}

/// The value the crash tests store at `offset`: its size varies with the offset so
/// batches straddle sectors and index intervals.
pub fn value_for(offset: u64) -> Vec<u8> {
    let length = 20 + (offset * 37 % 300) as usize;
    let mut value = format!("record-{offset}-").into_bytes();
    while value.len() < length {
        value.push(b'a' + (value.len() as u64 * 7 + offset) as u8 % 26);
    }
    value
}

/// The record the crash tests append at `offset`.
pub fn record_for(offset: u64) -> NewRecord {
    NewRecord::new(
        Some(format!("key-{}", offset % 7).into_bytes()),
        value_for(offset),
        1_000_000 + offset as i64,
    )
}

/// Small segments and a dense index, so short tests roll and index often.
pub fn small_config() -> LogConfig {
    LogConfig {
        segment_bytes: 2048,
        index_interval_bytes: 256,
        ..LogConfig::default()
    }
}

/// Every record from the start to the end of the log.
pub fn read_all(reader: &Reader) -> Vec<Record> {
    let start = reader.start_offset();
    reader
        .read_records(start, usize::MAX)
        .expect("reading the whole log")
}

/// Checks that `records` are offsets 0.. with the crash tests' values.
pub fn assert_expected_prefix(records: &[Record], context: &str) {
    for (index, record) in records.iter().enumerate() {
        assert_eq!(
            record.offset, index as u64,
            "{context}: offsets out of order"
        );
        assert_eq!(
            record.value.as_deref(),
            Some(value_for(record.offset).as_slice()),
            "{context}: wrong value at offset {}",
            record.offset
        );
    }
}

/// Serializes, within one test binary, spawning a child process and holding a log
/// open in this process. A child is forked before its exec closes our descriptors,
/// so a fork made while another test thread holds a log's writer lock carries that
/// `flock` into the child until the exec, and the log's own child would find it
/// taken. Hold the guard while spawning and for as long as a log is open here.
pub fn fork_guard() -> MutexGuard<'static, ()> {
    static GUARD: Mutex<()> = Mutex::new(());
    GUARD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
