//! What opening a log found and did: the report `Log::open` returns and
//! `LogError::Damaged` carries. It sits below the recovery code and the errors, so
//! neither has to depend on the other. This file must never do anything but
//! describe.

use crate::checkpoint::Checkpoint;
use std::fmt;

/// A tail cut (or, read-only, that would be cut) because it was beyond the recovery
/// point and failed a check: a torn or zero-filled write from before a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The segment file.
    pub segment: String,
    /// Where the cut starts.
    pub position: u64,
    /// The first offset that is gone.
    pub from_offset: u64,
    /// How many bytes were cut.
    pub bytes: u64,
    /// What was wrong with the first bad batch.
    pub reason: String,
}

/// Damage at or before the recovery point: bytes that had been made durable are
/// wrong or missing. Nothing from here on is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The segment file, if one is involved.
    pub segment: Option<String>,
    /// Byte position in the segment, if known.
    pub position: Option<u64>,
    /// The first offset that cannot be served.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
}

/// An index that was rebuilt from its segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuiltIndex {
    /// The segment file.
    pub segment: String,
    /// Why the old index was not used.
    pub reason: String,
}

/// What opening a log found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecoveryReport {
    /// The log directory.
    pub directory: String,
    /// Whether the clean-shutdown marker was present.
    pub clean_shutdown: bool,
    /// The checkpoint read from disk, if any.
    pub checkpoint: Option<Checkpoint>,
    /// The first offset the log holds.
    pub start_offset: u64,
    /// The offset the next append will get.
    pub end_offset: u64,
    /// Tails cut beyond the recovery point.
    pub truncations: Vec<Truncation>,
    /// Damage before the recovery point.
    pub damage: Vec<Damage>,
    /// Indexes rebuilt.
    pub rebuilt_indexes: Vec<RebuiltIndex>,
    /// Files removed because they belonged to no usable segment.
    pub removed_files: Vec<String>,
}

impl RecoveryReport {
    /// Whether the log is whole: no damage before the recovery point.
    pub fn is_whole(&self) -> bool {
        self.damage.is_empty()
    }
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}: offsets {}..{}",
            self.directory, self.start_offset, self.end_offset
        )?;
        for damage in &self.damage {
            write!(formatter, "; damage from offset {}", damage.offset)?;
            if let Some(segment) = &damage.segment {
                write!(formatter, " in {segment}")?;
            }
            if let Some(position) = damage.position {
                write!(formatter, " at byte {position}")?;
            }
            write!(formatter, ": {}", damage.reason)?;
        }
        for cut in &self.truncations {
            write!(
                formatter,
                "; cut {} bytes from offset {} in {} at byte {}: {}",
                cut.bytes, cut.from_offset, cut.segment, cut.position, cut.reason
            )?;
        }
        for rebuilt in &self.rebuilt_indexes {
            write!(
                formatter,
                "; rebuilt the index of {}: {}",
                rebuilt.segment, rebuilt.reason
            )?;
        }
        Ok(())
    }
}
