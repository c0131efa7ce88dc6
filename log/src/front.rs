//! The front of a `Partition`: moving the log start offset (Kafka's DeleteRecords,
//! and retention retiring whole segments) and swapping in the segments compaction
//! cleaned. Retention and compaction work through these; the partition's append and
//! sync path does not need them.
//!
//! The start must never be published before it is durable in the checkpoint, never
//! pass what a crash could lose, and never move backwards; a segment list must only
//! ever lose a prefix (retention) or have one sealed segment replaced (compaction).

use crate::error::{LogError, Result};
use crate::partition::{Partition, lock};
use crate::segment::Segment;
use crate::shared::SegmentView;
use std::sync::Arc;

impl Partition {
    /// Prepares for a change to the directory outside appends (a cleaned segment's
    /// swap): the clean-shutdown marker goes first, durably.
    pub(crate) fn begin_change(&self) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let result = self.remove_marker(&mut writer);
        self.fail_on_error(result)
    }

    /// Retention: moves the log start to `new_start` (the base of the segment after
    /// `doomed`, which must be the oldest segments), durably in the checkpoint, and
    /// publishes the shorter segment list. The caller deletes the files afterwards.
    pub(crate) fn retire(&self, doomed: &[Arc<Segment>], new_start: u64) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let current = writer.segments.clone();
        let is_prefix = doomed.len() < current.len()
            && doomed
                .iter()
                .zip(current.iter())
                .all(|(doomed, view)| Arc::ptr_eq(doomed, &view.segment));
        if !is_prefix {
            return Err(LogError::Config(
                "retention raced with another change to the segments",
            ));
        }
        let new_start = new_start.max(writer.start_offset);
        let result = self
            .remove_marker(&mut writer)
            .and_then(|()| self.record_start(new_start));
        self.fail_on_error(result)?;
        let views = Arc::new(current.get(doomed.len()..).unwrap_or_default().to_vec());
        writer.start_offset = new_start;
        writer.producers.forget_before(new_start);
        writer.segments = views.clone();
        self.shared.update(|published| {
            published.segments = views;
            published.start_offset = new_start;
        });
        Ok(())
    }

    /// Moves the log start offset up to `offset`, which may be inside a segment
    /// (Kafka's DeleteRecords): reads below it are refused from then on
    /// (`LogError::OffsetOutOfRange`, naming the earliest and latest offsets), and
    /// whole segments below it are deleted by the next retention pass (`clean`,
    /// `Log::apply_retention`) or open. Returns the log start offset afterwards (an
    /// offset at or below the current start changes nothing).
    ///
    /// Durable before it returns: everything below `offset` is synced first if it
    /// was not, then the new start is written into the checkpoint file and that
    /// file synced (see `checkpoint.rs` for why its two checksummed slots make a
    /// torn write harmless). A crash leaves the old start or the new one. An offset
    /// past the end of the log is `LogError::OffsetOutOfRange`.
    pub fn delete_records_before(&self, offset: u64) -> Result<u64> {
        let published = self.shared.snapshot();
        if offset > published.end_offset {
            return Err(LogError::OffsetOutOfRange {
                requested: offset,
                start: published.start_offset,
                end: published.end_offset,
            });
        }
        if offset <= published.start_offset {
            return Ok(published.start_offset);
        }
        // The start must never pass what a crash could lose.
        if offset > published.durable_offset {
            self.sync()?;
        }
        let mut writer = self.lock_writer()?;
        if offset <= writer.start_offset {
            return Ok(writer.start_offset);
        }
        let result = self
            .remove_marker(&mut writer)
            .and_then(|()| self.record_start(offset));
        self.fail_on_error(result)?;
        writer.start_offset = offset;
        writer.producers.forget_before(offset);
        self.shared
            .update(|published| published.start_offset = offset);
        tracing::info!(start_offset = offset, "moved the log start offset");
        Ok(offset)
    }

    /// Writes `start` as the log start offset in the checkpoint, synced.
    fn record_start(&self, start: u64) -> Result<()> {
        let mut checkpoint = lock(&self.checkpoint);
        checkpoint
            .advance(0, start)
            .and_then(|()| checkpoint.sync())
            .map_err(LogError::io("recording the new log start offset"))
    }

    /// Compaction: publishes a cleaned segment in place of `old`.
    pub(crate) fn replace_segment(&self, old: &Arc<Segment>, new: SegmentView) {
        let mut writer = lock(&self.writer);
        let mut views = writer.segments.as_ref().clone();
        let Some(slot) = views
            .iter_mut()
            .find(|view| Arc::ptr_eq(&view.segment, old))
        else {
            tracing::error!(segment = %old.name(), "a cleaned segment is no longer in the log");
            return;
        };
        *slot = new;
        let views = Arc::new(views);
        writer.segments = views.clone();
        self.shared.update(|published| published.segments = views);
    }
}
