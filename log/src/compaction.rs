//! Compaction: keeping only the newest record per key in the sealed segments, with
//! tombstones kept for a while and then dropped (Kafka's log cleaner).
//!
//! A pass maps keys to their newest offset over the dirty part of the log (as many
//! as the memory budget allows), then rewrites every sealed segment up to where the
//! map ends, one at a time, oldest first, into a `.cleaned` file that is swapped in
//! crash-safely (see `docs/log-format.md`, "Compaction"). Offsets never change:
//! rebuilt batches keep their base and last offsets and each record keeps its own,
//! and a segment's last batch is kept (emptied if need be) so that every segment
//! still ends where the next begins. The cleaner must never remove a record that is
//! the newest for its key (unless it is a tombstone past its horizon), never touch
//! the active segment, never hold the writer's lock while it reads or writes segment
//! data, and never leave a segment with neither its old nor its new data.

use crate::batch::BatchHeader;
use crate::config::Compaction;
use crate::encoder;
use crate::error::{LogError, Result};
use crate::index::{self, IndexRule, Indexes};
use crate::partition::Partition;
use crate::record;
use crate::segment::{
    self, Bounds, CLEANED_SUFFIX, INDEX_EXTENSION, LOG_EXTENSION, Segment, TIME_INDEX_EXTENSION,
};
use crate::shared::{Published, SegmentView};
use crate::storage::{Directory, Storage};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes read from a segment at a time.
const READ_BYTES: u64 = 1 << 20;
/// Bytes gathered before a write to a cleaned file.
const WRITE_BYTES: usize = 1 << 20;
/// What one key-map entry costs besides the key's bytes (the key's vector, the
/// offset, the table's slot), for the memory budget.
const ENTRY_OVERHEAD_BYTES: u64 = 48;

/// What one call to `Log::compact` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Passes made (each maps as many keys as the memory budget holds).
    pub passes: u64,
    /// Segments rewritten and swapped in.
    pub segments_rewritten: u64,
    /// Records removed because a newer record has the same key.
    pub records_removed: u64,
    /// Tombstones removed because their horizon had passed.
    pub tombstones_removed: u64,
    /// Batches kept as they are because their records could not be decoded.
    pub undecodable_batches: u64,
    /// Bytes of the rewritten segments before.
    pub bytes_before: u64,
    /// Bytes of the rewritten segments after.
    pub bytes_after: u64,
    /// Every record below this offset has been compacted.
    pub cleaned_to: u64,
    /// Whether the log was closing and the cleaner stopped early.
    pub interrupted: bool,
}

impl fmt::Display for CompactionReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |count: u64, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        write!(
            formatter,
            "compacted up to offset {} in {}: rewrote {} ({} -> {} bytes), removed {} and {}",
            self.cleaned_to,
            plural(self.passes, "pass", "passes"),
            plural(self.segments_rewritten, "segment", "segments"),
            self.bytes_before,
            self.bytes_after,
            plural(
                self.records_removed,
                "superseded record",
                "superseded records"
            ),
            plural(
                self.tombstones_removed,
                "expired tombstone",
                "expired tombstones"
            ),
        )?;
        if self.undecodable_batches > 0 {
            write!(
                formatter,
                "; kept {} batches that could not be decoded",
                self.undecodable_batches
            )?;
        }
        if self.interrupted {
            write!(formatter, "; interrupted")?;
        }
        Ok(())
    }
}

/// The newest offset of each key in the part of the log a pass maps.
#[derive(Debug, Default)]
struct KeyMap {
    latest: HashMap<Vec<u8>, u64>,
    used_bytes: u64,
}

impl KeyMap {
    fn insert(&mut self, key: &[u8], offset: u64) {
        if let Some(latest) = self.latest.get_mut(key) {
            *latest = offset;
        } else {
            self.latest.insert(key.to_vec(), offset);
            self.used_bytes += key.len() as u64 + ENTRY_OVERHEAD_BYTES;
        }
    }

    fn latest(&self, key: &[u8]) -> Option<u64> {
        self.latest.get(key).copied()
    }
}

fn milliseconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Whether the background cleaner should make a pass at `now_ms`: enough of the
/// sealed log is dirty, or a kept tombstone's horizon has passed.
pub(crate) fn due(inner: &Partition, now_ms: i64, min_dirty_percent: u8) -> bool {
    let expired = inner
        .lock_cleaning()
        .earliest_horizon
        .is_some_and(|horizon| now_ms >= horizon);
    let dirty = dirty_percent(inner);
    expired || (dirty > 0 && dirty >= min_dirty_percent)
}

/// The percentage of the sealed log's bytes not yet compacted.
fn dirty_percent(inner: &Partition) -> u8 {
    let first_dirty = inner.lock_cleaning().first_dirty;
    let published = inner.shared.snapshot();
    let segments = published.segments.as_ref();
    let sealed = segments.len().saturating_sub(1);
    let (mut dirty, mut total) = (0u64, 0u64);
    for index in 0..sealed {
        let size = published.limit(index);
        total += size;
        let end = segments
            .get(index + 1)
            .map_or(0, |next| next.segment.base_offset);
        if end > first_dirty {
            dirty += size;
        }
    }
    if total == 0 {
        return 0;
    }
    u8::try_from(dirty * 100 / total).unwrap_or(100)
}

/// Compacts every sealed segment, pass after pass, until everything before the
/// active segment is clean (and no kept tombstone's horizon has passed) or `stop`
/// is set.
pub(crate) fn compact(
    inner: &Partition,
    now_ms: i64,
    stop: &AtomicBool,
) -> Result<CompactionReport> {
    let settings = inner.config.compaction.clone().unwrap_or_default();
    let mut state = inner.lock_cleaning();
    let mut report = CompactionReport::default();
    loop {
        let published = inner.shared.snapshot();
        let segments = published.segments.clone();
        let Some(active) = segments.last() else {
            break;
        };
        let first_dirty = state.first_dirty.max(published.start_offset);
        state.first_dirty = first_dirty;
        let dirty = first_dirty < active.segment.base_offset;
        let expired = state
            .earliest_horizon
            .is_some_and(|horizon| now_ms >= horizon);
        if !dirty && !expired {
            break;
        }
        // With nothing dirty, a pass with an empty map only drops expired tombstones.
        let (map, map_end) = if dirty {
            match build_map(&published, first_dirty, &settings, stop)? {
                Some(mapped) => mapped,
                None => {
                    report.interrupted = true;
                    break;
                }
            }
        } else {
            (KeyMap::default(), first_dirty)
        };
        let mut earliest_horizon: Option<i64> = None;
        let mut finished = true;
        for (index, pair) in segments.windows(2).enumerate() {
            let [view, next] = pair else { continue };
            if view.segment.base_offset >= map_end {
                break;
            }
            let job = Job {
                view,
                limit: published.limit(index),
                end: next.segment.base_offset,
                map: &map,
                map_end,
                now_ms,
                tombstone_retention_ms: milliseconds(settings.tombstone_retention),
            };
            match clean_segment(inner, &job, stop, &mut report)? {
                Some(horizon) => earliest_horizon = earliest(earliest_horizon, horizon),
                None => {
                    finished = false;
                    break;
                }
            }
        }
        if !finished {
            report.interrupted = true;
            break;
        }
        state.first_dirty = map_end;
        state.earliest_horizon = earliest_horizon;
        report.passes += 1;
        if !dirty {
            break;
        }
    }
    report.cleaned_to = state.first_dirty;
    if report.segments_rewritten > 0 {
        tracing::info!(%report, "compacted the log");
    }
    Ok(report)
}

/// Calls `visit` with each batch of `segment` from the one holding `from`, until it
/// returns false (then returns false) or the segment ends (then true).
fn for_each_batch(
    segment: &Segment,
    bounds: Bounds,
    from: u64,
    mut visit: impl FnMut(&BatchHeader, &[u8]) -> Result<bool>,
) -> Result<bool> {
    let mut next = from;
    loop {
        let (bytes, headers) = segment.read(next, bounds, READ_BYTES)?;
        if headers.is_empty() {
            return Ok(true);
        }
        let mut position = 0usize;
        for header in &headers {
            let size = header.size() as usize;
            let batch = bytes.get(position..position + size).unwrap_or_default();
            position += size;
            if !visit(header, batch)? {
                return Ok(false);
            }
        }
        next = headers.last().map_or(next, BatchHeader::next_offset);
    }
}

/// Maps keys to their newest offsets from `first_dirty` on, until the memory
/// budget is used or the sealed segments end. Returns the map and the offset where
/// it stops (a batch boundary, or the start of the active segment), or `None` if
/// `stop` was set.
fn build_map(
    published: &Published,
    first_dirty: u64,
    settings: &Compaction,
    stop: &AtomicBool,
) -> Result<Option<(KeyMap, u64)>> {
    let mut map = KeyMap::default();
    let mut map_end = first_dirty;
    for (index, pair) in published.segments.windows(2).enumerate() {
        let [view, next] = pair else { continue };
        let end = next.segment.base_offset;
        if end <= first_dirty {
            continue;
        }
        let from = first_dirty.max(view.segment.base_offset);
        let mut stopped = false;
        let whole = for_each_batch(
            &view.segment,
            published.bounds(index),
            from,
            |header, bytes| {
                if stop.load(Ordering::Relaxed) {
                    stopped = true;
                    return Ok(false);
                }
                if !header.control() {
                    let result = record::for_each_record(bytes, header, |record| {
                        if let Some(key) = record.key {
                            map.insert(key, record.offset);
                        }
                        Ok(())
                    });
                    if let Err(error) = result {
                        tracing::warn!(
                            segment = %view.segment.name(), offset = header.base_offset, %error,
                            "the cleaner cannot decode a batch; it is kept as it is"
                        );
                    }
                }
                map_end = header.next_offset();
                Ok(map.used_bytes < settings.memory_bytes)
            },
        )?;
        if stopped {
            return Ok(None);
        }
        if !whole {
            return Ok(Some((map, map_end)));
        }
        map_end = end;
    }
    Ok(Some((map, map_end)))
}

/// One segment to clean against one pass's key map.
struct Job<'a> {
    view: &'a SegmentView,
    /// Bytes of data in the segment.
    limit: u64,
    /// The next segment's base offset: this segment's last batch ends just before.
    end: u64,
    map: &'a KeyMap,
    map_end: u64,
    now_ms: i64,
    tombstone_retention_ms: i64,
}

/// What happens to one batch.
enum Decision {
    Keep,
    Drop,
    Rewrite(Vec<u8>),
}

#[derive(Debug, Default)]
struct BatchCounts {
    superseded: u64,
    tombstones: u64,
    undecodable: u64,
    /// The earliest horizon of the tombstones kept.
    earliest_horizon: Option<i64>,
}

impl BatchCounts {
    fn keep_tombstone(&mut self, horizon: i64) {
        self.earliest_horizon = earliest(self.earliest_horizon, Some(horizon));
    }
}

/// The earlier of two optional times.
fn earliest(first: Option<i64>, second: Option<i64>) -> Option<i64> {
    match (first, second) {
        (Some(first), Some(second)) => Some(first.min(second)),
        (first, second) => first.or(second),
    }
}

fn decide(job: &Job<'_>, header: &BatchHeader, bytes: &[u8], counts: &mut BatchCounts) -> Decision {
    // Batches past the map are not compared; control batches (transaction markers)
    // are kept as they are.
    if header.next_offset() > job.map_end || header.control() {
        return Decision::Keep;
    }
    let records = match record::decode_records(bytes) {
        Ok(records) => records,
        Err(error) => {
            tracing::warn!(
                segment = %job.view.segment.name(), offset = header.base_offset, %error,
                "the cleaner cannot decode a batch; it is kept as it is"
            );
            counts.undecodable += 1;
            return Decision::Keep;
        }
    };
    let horizon = header.delete_horizon();
    let new_horizon = job.now_ms.saturating_add(job.tombstone_retention_ms);
    let total = records.len();
    let mut needs_horizon = false;
    let mut kept = Vec::with_capacity(total);
    for record in records {
        // Records without a key (written before the log was compacted) stay.
        if let Some(key) = &record.key {
            if job
                .map
                .latest(key)
                .is_some_and(|latest| record.offset < latest)
            {
                counts.superseded += 1;
                continue;
            }
            if record.value.is_none() {
                match horizon {
                    Some(horizon) if job.now_ms >= horizon => {
                        counts.tombstones += 1;
                        continue;
                    }
                    Some(horizon) => counts.keep_tombstone(horizon),
                    None => {
                        needs_horizon = true;
                        counts.keep_tombstone(new_horizon);
                    }
                }
            }
        }
        kept.push(record);
    }
    if kept.len() == total && !needs_horizon {
        return Decision::Keep;
    }
    // The segment's last batch stays, even empty, so the segment still ends at the
    // offset before the next one's base.
    if kept.is_empty() && header.next_offset() != job.end {
        return Decision::Drop;
    }
    match encoder::rebuild_batch(header, &kept, needs_horizon.then_some(new_horizon)) {
        Ok(rebuilt) => Decision::Rewrite(rebuilt),
        Err(error) => {
            tracing::warn!(
                segment = %job.view.segment.name(), offset = header.base_offset, %error,
                "the cleaner cannot rebuild a batch; it is kept as it is"
            );
            counts.undecodable += 1;
            Decision::Keep
        }
    }
}

/// The name of a segment file's replacement while it is written.
fn cleaned_name(base: u64, extension: &str) -> String {
    format!("{}{CLEANED_SUFFIX}", segment::file_name(base, extension))
}

/// A segment's replacement being written; its files are removed if it is dropped
/// before the swap.
struct Output<'a> {
    directory: &'a dyn Directory,
    base: u64,
    storage: Arc<dyn Storage>,
    buffer: Vec<u8>,
    flushed: u64,
    swapped: bool,
}

impl<'a> Output<'a> {
    /// Creates the replacement and copies the first `prefix` bytes of `segment`
    /// (batches the cleaner keeps as they are) into it.
    fn start(directory: &'a dyn Directory, segment: &Segment, prefix: u64) -> Result<Self> {
        let base = segment.base_offset;
        let name = cleaned_name(base, LOG_EXTENSION);
        let storage = directory
            .create(&name)
            .map_err(LogError::io(format!("creating {name}")))?;
        let mut output = Output {
            directory,
            base,
            storage,
            buffer: Vec::new(),
            flushed: 0,
            swapped: false,
        };
        output
            .storage
            .set_len(0)
            .map_err(LogError::io(format!("creating {name}")))?;
        let mut position = 0u64;
        while position < prefix {
            let length = (prefix - position).min(READ_BYTES);
            let mut chunk = vec![0u8; length as usize];
            segment
                .log
                .read_at(&mut chunk, position)
                .map_err(LogError::io(format!("reading {}", segment.name())))?;
            output.write(&chunk)?;
            position += length;
        }
        Ok(output)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= WRITE_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.storage
            .write_at(&self.buffer, self.flushed)
            .map_err(LogError::io(format!(
                "writing {}",
                cleaned_name(self.base, LOG_EXTENSION)
            )))?;
        self.flushed += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }

    /// Makes the replacement and its indexes durable under their `.cleaned` names.
    fn finish(&mut self, indexes: &Indexes) -> Result<u64> {
        self.flush()?;
        let name = cleaned_name(self.base, LOG_EXTENSION);
        self.storage
            .sync()
            .map_err(LogError::io(format!("syncing {name}")))?;
        let offsets: Vec<u8> = indexes
            .offsets
            .iter()
            .flat_map(index::encode_offset_entry)
            .collect();
        let times: Vec<u8> = indexes
            .times
            .iter()
            .flat_map(index::encode_time_entry)
            .collect();
        for (extension, bytes) in [(INDEX_EXTENSION, offsets), (TIME_INDEX_EXTENSION, times)] {
            let name = cleaned_name(self.base, extension);
            let storage = self
                .directory
                .create(&name)
                .map_err(LogError::io(format!("creating {name}")))?;
            storage
                .set_len(0)
                .and_then(|()| storage.write_at(&bytes, 0))
                .and_then(|()| storage.sync())
                .map_err(LogError::io(format!("writing {name}")))?;
        }
        Ok(self.flushed)
    }
}

impl Drop for Output<'_> {
    fn drop(&mut self) {
        if self.swapped {
            return;
        }
        for extension in [LOG_EXTENSION, INDEX_EXTENSION, TIME_INDEX_EXTENSION] {
            // Best effort: leftovers are removed on the next open.
            let _ = self.directory.remove(&cleaned_name(self.base, extension));
        }
    }
}

/// Cleans one segment; returns the earliest horizon of the tombstones it kept, or
/// `None` if `stop` was set before it was done.
fn clean_segment(
    inner: &Partition,
    job: &Job<'_>,
    stop: &AtomicBool,
    report: &mut CompactionReport,
) -> Result<Option<Option<i64>>> {
    let segment = &job.view.segment;
    let directory = inner.directory.as_ref();
    let mut rule = IndexRule::new(segment.base_offset, inner.config.index_interval_bytes);
    let mut indexes = Indexes::default();
    let mut counts = BatchCounts::default();
    let mut input_position = 0u64;
    let mut output_position = 0u64;
    let mut output: Option<Output<'_>> = None;
    let bounds = Bounds {
        limit: job.limit,
        end_offset: job.end,
        contiguous: false,
    };
    let finished = for_each_batch(segment, bounds, segment.base_offset, |header, bytes| {
        if stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let decision = decide(job, header, bytes, &mut counts);
        if output.is_none() && !matches!(decision, Decision::Keep) {
            output = Some(Output::start(directory, segment, input_position)?);
        }
        input_position += header.size();
        let (written, stored) = match &decision {
            Decision::Keep => (*header, bytes),
            Decision::Rewrite(rebuilt) => (BatchHeader::parse(rebuilt)?, rebuilt.as_slice()),
            Decision::Drop => return Ok(true),
        };
        let (offset_entry, time_entry) = rule.observe(output_position, &written);
        indexes.offsets.extend(offset_entry);
        indexes.times.extend(time_entry);
        output_position += written.size();
        if let Some(output) = &mut output {
            output.write(stored)?;
        }
        Ok(true)
    })?;
    if !finished {
        return Ok(None);
    }
    report.records_removed += counts.superseded;
    report.tombstones_removed += counts.tombstones;
    report.undecodable_batches += counts.undecodable;
    let Some(mut output) = output else {
        return Ok(Some(counts.earliest_horizon));
    };
    indexes.times.extend(rule.time_entry());
    let size = output.finish(&indexes)?;
    swap(inner, segment)?;
    output.swapped = true;
    let replacement = SegmentView {
        segment: Arc::new(Segment::new(
            segment.base_offset,
            output.storage.clone(),
            indexes,
            rule.max_timestamp(),
        )),
        sealed_size: size,
        contiguous: false,
    };
    inner.replace_segment(segment, replacement);
    report.segments_rewritten += 1;
    report.bytes_before += job.limit;
    report.bytes_after += size;
    Ok(Some(counts.earliest_horizon))
}

/// Swaps a cleaned segment in. Each step is made durable before the next, so a
/// crash leaves the old data file or the new one under the segment's name, never
/// neither, and never a data file with an index that belongs to the other one:
/// 1. remove the old indexes (a segment without indexes is rescanned on open);
/// 2. rename `.log.cleaned` over `.log` (atomic);
/// 3. rename the new indexes into place.
fn swap(inner: &Partition, old: &Segment) -> Result<()> {
    inner.begin_change()?;
    let directory = inner.directory.as_ref();
    let base = old.base_offset;
    let sync = || {
        directory
            .sync()
            .map_err(LogError::io("syncing the log directory during a swap"))
    };
    let result = (|| {
        for extension in [INDEX_EXTENSION, TIME_INDEX_EXTENSION] {
            let name = segment::file_name(base, extension);
            match directory.remove(&name) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(LogError::io(format!("removing {name}"))(error)),
            }
        }
        sync()?;
        let rename = |extension| {
            directory
                .rename(
                    &cleaned_name(base, extension),
                    &segment::file_name(base, extension),
                )
                .map_err(LogError::io(format!(
                    "swapping in the cleaned {}",
                    old.name()
                )))
        };
        rename(LOG_EXTENSION)?;
        sync()?;
        rename(INDEX_EXTENSION)?;
        rename(TIME_INDEX_EXTENSION)?;
        sync()
    })();
    // Half a swap leaves the directory in a state only a reopen sorts out.
    inner.fail_on_error(result)
}
