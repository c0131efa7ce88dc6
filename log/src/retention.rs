//! Retention: deleting whole segments from the front of the log, when they are
//! wholly before the log start offset, when their newest record is older than the
//! retention age, or while the log would still hold at least the retention size
//! without them.
//!
//! Retention never deletes the active segment, never deletes a segment while an
//! older one stays (the log is always a suffix of what was appended), and never
//! removes a file before the new start offset is durable in the checkpoint: a crash
//! at any point leaves the old log or the shorter one, and leftover files before the
//! start offset are removed on the next open.

use crate::config::LogConfig;
use crate::error::{LogError, Result};
use crate::partition::Partition;
use crate::segment::{self, INDEX_EXTENSION, LOG_EXTENSION, Segment, TIME_INDEX_EXTENSION};
use crate::shared::Published;
use std::fmt;
use std::io;
use std::sync::Arc;

/// What one application of retention deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// The data files of the deleted segments, oldest first.
    pub deleted_segments: Vec<String>,
    /// Bytes of segment data deleted.
    pub deleted_bytes: u64,
    /// The log start offset afterwards.
    pub start_offset: u64,
}

impl fmt::Display for RetentionReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "deleted {} segments ({} bytes); the log starts at offset {}",
            self.deleted_segments.len(),
            self.deleted_bytes,
            self.start_offset
        )
    }
}

/// How many segments, from the oldest, retention deletes at time `now_ms`
/// (milliseconds since the Unix epoch): those wholly before the log start offset
/// (moved by `Partition::delete_records_before`), whatever the settings, then those
/// the settings no longer keep. Never the last (active) one.
pub(crate) fn plan(published: &Published, config: &LogConfig, now_ms: i64) -> usize {
    let segments = published.segments.as_ref();
    let sealed = segments.len().saturating_sub(1);
    let mut remaining: u64 = (0..segments.len())
        .map(|index| published.limit(index))
        .sum();
    let age_ms = config
        .retention_age
        .map(|age| i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
    let mut count = 0;
    for (index, view) in segments.iter().enumerate().take(sealed) {
        let size = published.limit(index);
        let below_start = segments
            .get(index + 1)
            .is_some_and(|next| next.segment.base_offset <= published.start_offset);
        // A segment with no timestamp holds no record.
        let too_old = age_ms.is_some_and(|age| {
            view.segment
                .max_timestamp()
                .is_none_or(|newest| now_ms.saturating_sub(newest) > age)
        });
        let too_big = config
            .retention_bytes
            .is_some_and(|limit| remaining - size >= limit);
        if !(below_start || too_old || too_big) {
            break;
        }
        remaining -= size;
        count += 1;
    }
    count
}

/// Deletes the segments retention no longer keeps.
pub(crate) fn apply(inner: &Partition, now_ms: i64) -> Result<RetentionReport> {
    let _cleaning = inner.lock_cleaning();
    let published = inner.shared.snapshot();
    let count = plan(&published, &inner.config, now_ms);
    let mut report = RetentionReport {
        start_offset: published.start_offset,
        ..RetentionReport::default()
    };
    let Some(first_kept) = published.segments.get(count) else {
        return Ok(report);
    };
    if count == 0 {
        return Ok(report);
    }
    let doomed: Vec<Arc<Segment>> = published
        .segments
        .iter()
        .take(count)
        .map(|view| view.segment.clone())
        .collect();
    // The start may already be inside the first segment kept.
    let new_start = first_kept.segment.base_offset.max(published.start_offset);
    // The new start is durable and published before any file goes.
    inner.retire(&doomed, new_start)?;
    report.start_offset = new_start;
    for (index, segment) in doomed.iter().enumerate() {
        report.deleted_bytes += published.limit(index);
        report.deleted_segments.push(segment.name());
        for extension in [LOG_EXTENSION, INDEX_EXTENSION, TIME_INDEX_EXTENSION] {
            let name = segment::file_name(segment.base_offset, extension);
            match inner.directory.remove(&name) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(LogError::io(format!("deleting {name}"))(error)),
            }
        }
    }
    inner
        .directory
        .sync()
        .map_err(LogError::io("syncing the log directory after retention"))?;
    tracing::info!(
        segments = report.deleted_segments.len(),
        bytes = report.deleted_bytes,
        start_offset = new_start,
        "retention deleted segments"
    );
    Ok(report)
}
