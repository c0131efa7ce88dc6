//! Damaged log directories: a flipped byte inside the CRC and in each field outside
//! it (base offset, batch length, leader epoch, magic, the crc field), a truncated
//! batch, indexes that are truncated, garbage, 10 GiB long or point outside their
//! segment, a zero-filled tail, a missing segment, a segment named past the offsets
//! a batch can hold. Each is detected on open, on read or by `verify`, with a report
//! that names the segment, the position and the offset; never a panic, never a
//! wrong record.

mod common;

use common::{
    Random, TempDirectory, assert_expected_prefix, read_all, record_for, small_config, value_for,
};
use sinew_log::{FsyncPolicy, Log, LogConfig, LogError, Reader, Record, inspect, open_read_only};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

const RECORDS: u64 = 40;

/// A log of `RECORDS` records over several segments, closed cleanly or not.
fn build(temporary: &TempDirectory, clean: bool) -> Vec<PathBuf> {
    let policy = if clean {
        FsyncPolicy::Always
    } else {
        FsyncPolicy::Never
    };
    build_with(temporary, policy, clean)
}

fn build_with(temporary: &TempDirectory, fsync: FsyncPolicy, close: bool) -> Vec<PathBuf> {
    let config = LogConfig {
        fsync,
        ..small_config()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    for offset in 0..RECORDS {
        log.append(&[record_for(offset)]).expect("append");
    }
    if close {
        log.close().expect("close");
    }
    segments(&temporary.log())
}

fn base_of(segment: &Path) -> u64 {
    segment
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .parse()
        .expect("base offset")
}

/// The segment data files, oldest first.
fn segments(directory: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(directory)
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "log"))
        .collect();
    paths.sort();
    paths
}

fn with_extension(path: &Path, extension: &str) -> PathBuf {
    path.with_extension(extension)
}

fn flip_byte(path: &Path, position: u64) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[position as usize] ^= 0x40;
    std::fs::write(path, bytes).expect("write");
}

fn cut(path: &Path, length: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(length)
        .expect("cut");
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").len()
}

/// Opening for writing refuses; verify reports; a read-only view serves exactly the
/// records before the damage.
fn assert_damaged(temporary: &TempDirectory, first_bad_offset: u64, words: &str) {
    match Log::open(temporary.log(), small_config()) {
        Err(LogError::Damaged(report)) => {
            assert_eq!(report.damage[0].offset, first_bad_offset, "{report}");
            assert!(report.to_string().contains(words), "{report}");
        }
        Err(other) => panic!("expected damage, got {other}"),
        Ok(_) => panic!("a damaged log opened for writing"),
    }
    let verification = inspect::verify(temporary.log()).expect("verify");
    assert!(!verification.is_ok(), "verify missed it");
    let (reader, report) = open_read_only(temporary.log()).expect("read-only");
    assert!(!report.is_whole());
    let records = read_all(&reader);
    assert_eq!(records.len() as u64, first_bad_offset, "{report}");
    assert_expected_prefix(&records, "before the damage");
    assert!(matches!(
        reader.read(first_bad_offset + 1, 100),
        Err(LogError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn a_flipped_byte_before_the_recovery_point_is_damage() {
    // Every append was fsynced, then the process died: open checks the active
    // segment in full and finds damage below the recovery point.
    let temporary = TempDirectory::new("flip");
    let segments = build_with(&temporary, FsyncPolicy::Always, false);
    let active = segments.last().expect("active");
    // Inside the value of the active segment's first batch.
    flip_byte(active, 80);
    assert_damaged(&temporary, base_of(active), "CRC mismatch");
}

#[test]
fn a_flipped_byte_in_a_sealed_segment_is_never_served() {
    // Open does not rescan sealed segments of a cleanly closed log, but every read
    // checks the CRC and verify checks everything.
    let temporary = TempDirectory::new("flip-sealed");
    let segments = build(&temporary, true);
    let damaged_offset = base_of(&segments[1]);
    flip_byte(&segments[1], 80);
    let verification = inspect::verify(temporary.log()).expect("verify");
    assert!(
        verification.to_string().contains("CRC mismatch"),
        "{verification}"
    );
    let (log, _) = Log::open(temporary.log(), small_config()).expect("open");
    let reader = log.reader();
    assert!(matches!(
        reader.read(damaged_offset, 1 << 20),
        Err(LogError::Corrupt { .. })
    ));
    assert_expected_prefix(
        &reader
            .read_records(0, damaged_offset as usize)
            .expect("read"),
        "before the damage",
    );
    let after = reader.read_records(RECORDS - 1, 1).expect("read");
    assert_eq!(after[0].offset, RECORDS - 1);
}

#[test]
fn a_flipped_byte_is_caught_when_read_from_an_open_log() {
    let temporary = TempDirectory::new("flip-live");
    let (log, _) = Log::open(temporary.log(), small_config()).expect("open");
    for offset in 0..RECORDS {
        log.append(&[record_for(offset)]).expect("append");
    }
    let first = &segments(&temporary.log())[0];
    flip_byte(first, 70);
    let reader = log.reader();
    match reader.read(0, 1 << 20) {
        Err(LogError::Corrupt {
            segment, position, ..
        }) => {
            assert_eq!(segment, "00000000000000000000.log");
            assert_eq!(position, 0);
        }
        other => panic!("expected a corrupt-data error, got {other:?}"),
    }
    // Later segments are still served, and the writer goes on.
    let last = reader.read_records(RECORDS - 1, 1).expect("read");
    assert_eq!(last[0].offset, RECORDS - 1);
    log.append(&[record_for(RECORDS)]).expect("append");
}

#[test]
fn a_torn_tail_beyond_the_recovery_point_is_cut_and_reported() {
    let temporary = TempDirectory::new("torn");
    let segments = build(&temporary, false);
    let active = segments.last().expect("active");
    let size = file_size(active);
    flip_byte(active, size - 3);
    let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
    assert_eq!(report.truncations.len(), 1, "{report}");
    let cut = &report.truncations[0];
    assert_eq!(cut.from_offset, RECORDS - 1);
    assert!(cut.reason.contains("CRC"), "{report}");
    let records = read_all(&log.reader());
    assert_eq!(records.len() as u64, RECORDS - 1);
    assert_expected_prefix(&records, "after the cut");
    let ack = log.append(&[record_for(RECORDS - 1)]).expect("append");
    assert_eq!(ack.base_offset, RECORDS - 1);
    log.close().expect("close");
    assert!(inspect::verify(temporary.log()).expect("verify").is_ok());
}

#[test]
fn a_truncated_batch_is_cut_after_a_crash_and_damage_after_a_clean_close() {
    for clean in [false, true] {
        let temporary = TempDirectory::new("truncated");
        let segments = build(&temporary, clean);
        let active = segments.last().expect("active");
        cut(active, file_size(active) - 10);
        if clean {
            assert_damaged(&temporary, RECORDS - 1, "runs past the end");
        } else {
            let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
            assert_eq!(report.truncations[0].from_offset, RECORDS - 1, "{report}");
            assert_eq!(read_all(&log.reader()).len() as u64, RECORDS - 1);
        }
    }
}

#[test]
fn a_zero_filled_tail_is_cut() {
    for clean in [false, true] {
        let temporary = TempDirectory::new("zeros");
        let segments = build(&temporary, clean);
        let active = segments.last().expect("active");
        let size = file_size(active);
        cut(active, size + 4096);
        let verification = inspect::verify(temporary.log()).expect("verify");
        assert!(verification.to_string().contains("zeros"), "{verification}");
        let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
        assert_eq!(report.truncations.len(), 1, "{report}");
        assert_eq!(report.truncations[0].bytes, 4096);
        assert_eq!(report.truncations[0].from_offset, RECORDS);
        assert_eq!(file_size(active), size);
        assert_expected_prefix(&read_all(&log.reader()), "zero tail");
    }
}

/// Sets the last two time-index entries' offsets past the segment's (still
/// increasing), so a timestamp lookup that trusts them starts past the segment.
fn time_entries_past_the_segment(time_index: &Path) {
    let mut bytes = std::fs::read(time_index).expect("read");
    let entries = bytes.len() / 12;
    assert!(entries >= 2, "the test needs two time entries or more");
    let next_base = RECORDS; // past the first segment, whatever its end
    for (entry, offset) in [(entries - 2, next_base), (entries - 1, next_base + 1)] {
        bytes[entry * 12 + 8..entry * 12 + 12].copy_from_slice(&(offset as u32).to_be_bytes());
    }
    std::fs::write(time_index, bytes).expect("write");
}

#[test]
fn broken_indexes_are_detected_and_rebuilt() {
    type Breakage = fn(&Path);
    let breakages: [(&str, &str, Breakage); 9] = [
        ("a partial entry", "index", |index| {
            cut(index, file_size(index) - 3)
        }),
        ("short", "index", |index| cut(index, 8)),
        ("past the end", "index", |index| {
            let mut bytes = std::fs::read(index).expect("read");
            let length = bytes.len();
            bytes[length - 4..].copy_from_slice(&100_000u32.to_be_bytes());
            std::fs::write(index, bytes).expect("write");
        }),
        ("missing", "index", |index| {
            std::fs::remove_file(index).expect("remove")
        }),
        ("garbage", "index", |index| {
            let mut random = Random(7);
            let bytes: Vec<u8> = (0..file_size(index)).map(|_| random.next() as u8).collect();
            std::fs::write(index, bytes).expect("write");
        }),
        // Sparse: 10 GiB long, no space used. Reading it whole would need 10 GiB.
        ("10 GiB long", "index", |index| cut(index, 10 << 30)),
        ("10 GiB long", "timeindex", |index| cut(index, 10 << 30)),
        ("a partial entry", "timeindex", |index| {
            cut(index, file_size(index) - 5)
        }),
        (
            "offsets past the segment",
            "timeindex",
            time_entries_past_the_segment,
        ),
    ];
    for (label, extension, breakage) in breakages {
        let label = format!("{extension}: {label}");
        let temporary = TempDirectory::new("index");
        let segments = build(&temporary, true);
        let index = with_extension(&segments[0], extension);
        assert!(
            file_size(&index) >= 16,
            "the test needs two entries or more"
        );
        breakage(&index);
        let verification = inspect::verify(temporary.log()).expect("verify");
        assert!(!verification.is_ok(), "{label}: verify missed it");
        let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
        assert_eq!(report.rebuilt_indexes.len(), 1, "{label}: {report}");
        assert!(report.is_whole());
        assert!(file_size(&index) < 1 << 20, "{label}: not rewritten");
        let reader = log.reader();
        assert_expected_prefix(&read_all(&reader), &label);
        for offset in 0..RECORDS {
            let record = reader.read_records(offset, 1).expect("read");
            assert_eq!(record[0].offset, offset, "{label}");
            let by_time = reader
                .offset_for_timestamp(record[0].timestamp)
                .expect("look up by time");
            assert_eq!(by_time, Some(offset), "{label}: by timestamp");
        }
        log.close().expect("close");
        let verification = inspect::verify(temporary.log()).expect("verify");
        assert!(verification.is_ok(), "{label}: {verification}");
    }
}

#[test]
fn a_missing_segment_is_damage() {
    // In the middle: a gap in the offsets.
    let temporary = TempDirectory::new("missing-middle");
    let segments = build(&temporary, true);
    assert!(segments.len() >= 3);
    let missing = &segments[1];
    let base = base_of(missing);
    for extension in ["log", "index", "timeindex"] {
        std::fs::remove_file(with_extension(missing, extension)).expect("remove");
    }
    assert_damaged(&temporary, base, "missing");

    // At the end: the log is shorter than its recovery point.
    let temporary = TempDirectory::new("missing-last");
    let segments = build(&temporary, true);
    let last = segments.last().expect("last");
    let base = base_of(last);
    for extension in ["log", "index", "timeindex"] {
        std::fs::remove_file(with_extension(last, extension)).expect("remove");
    }
    assert_damaged(&temporary, base, "made durable");

    // Only the data file: its index files give it away.
    let temporary = TempDirectory::new("missing-data");
    let segments = build(&temporary, true);
    let first = &segments[0];
    std::fs::remove_file(first).expect("remove");
    assert_damaged(&temporary, 0, "missing");
}

#[test]
fn garbage_after_the_last_batch_of_a_sealed_segment_is_cut_and_the_log_goes_on() {
    // Whether or not the shutdown was clean, the next segment starts where the good
    // batches end, so the bad bytes hold no records.
    for clean in [false, true] {
        let temporary = TempDirectory::new("sealed-garbage");
        let segments = build_with(&temporary, FsyncPolicy::Always, clean);
        let sealed = &segments[segments.len() - 2];
        let size = file_size(sealed);
        cut(sealed, size + 1000);
        let (log, report) = Log::open(temporary.log(), small_config()).expect("open");
        assert!(report.is_whole(), "{report}");
        assert_eq!(report.truncations.len(), 1, "{report}");
        assert_eq!(report.truncations[0].bytes, 1000);
        assert_eq!(file_size(sealed), size);
        let records = read_all(&log.reader());
        assert_eq!(records.len() as u64, RECORDS);
        assert_expected_prefix(&records, "after cutting the garbage");
    }
}

// Damage outside the CRC. The CRC covers a batch from its attributes on, so the
// base offset, the batch length, the partition leader epoch, the magic byte and the
// CRC field itself are checked some other way: offsets against their neighbours,
// the segment's range and the index; the length by where the CRC ends; the epoch
// for plausibility. Whatever is flipped, no reader may return a record under an
// offset it was not appended at, and the damage must be reported.

/// Where the damaged segment is and how the log was left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    /// The active segment after a crash, beyond the recovery point: cut on open.
    ActiveTorn,
    /// The active segment after a crash with every append fsynced: damage.
    ActiveDurable,
    /// A sealed segment of a cleanly closed log, which open does not rescan.
    SealedClean,
    /// A sealed segment after a crash that also lost the checkpoint, so open scans
    /// every segment in full.
    SealedUnchecked,
}

/// Fields outside the CRC: a name, the byte in the batch and the bits flipped.
const OUTSIDE_CRC: [(&str, usize, u8); 7] = [
    ("base offset, lowest bit", 7, 0x01),
    ("base offset, bit 6", 7, 0x40),
    ("base offset, top byte", 0, 0x40),
    ("batch length", 11, 0x01),
    ("partition leader epoch", 13, 0x40),
    ("magic", 16, 0x04),
    ("crc field", 19, 0x10),
];

/// Each batch of a segment file: its position, base offset and size.
fn batches_of(path: &Path) -> Vec<(u64, u64, u64)> {
    let bytes = std::fs::read(path).expect("read");
    let mut batches = Vec::new();
    let mut position = 0usize;
    while position + 12 <= bytes.len() {
        let base = u64::from_be_bytes(bytes[position..position + 8].try_into().expect("8"));
        let length = i32::from_be_bytes(bytes[position + 8..position + 12].try_into().expect("4"));
        let size = length as usize + 12;
        batches.push((position as u64, base, size as u64));
        position += size;
    }
    batches
}

/// A log left as `setting` says, with at least three segments and at least three
/// batches (one record each) in the segment that will be damaged. Returns that
/// segment and how many records were appended.
fn build_for(setting: Setting, temporary: &TempDirectory) -> (PathBuf, u64) {
    let fsync = if setting == Setting::ActiveDurable {
        FsyncPolicy::Always
    } else {
        FsyncPolicy::Never
    };
    let config = LogConfig {
        fsync,
        ..small_config()
    };
    let (log, _) = Log::open(temporary.log(), config).expect("open");
    let mut offset = 0;
    loop {
        log.append(&[record_for(offset)]).expect("append");
        offset += 1;
        let segments = segments(&temporary.log());
        if offset >= RECORDS
            && segments.len() >= 3
            && batches_of(segments.last().expect("active")).len() >= 3
        {
            break;
        }
    }
    match setting {
        Setting::SealedClean => log.close().expect("close"),
        Setting::SealedUnchecked => {
            drop(log);
            std::fs::remove_file(temporary.log().join("recovery-point")).expect("remove");
        }
        Setting::ActiveTorn | Setting::ActiveDurable => drop(log),
    }
    let segments = segments(&temporary.log());
    let target = match setting {
        Setting::ActiveTorn | Setting::ActiveDurable => segments.last().expect("active").clone(),
        Setting::SealedClean | Setting::SealedUnchecked => segments[1].clone(),
    };
    (target, offset)
}

fn copy_directory(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("list") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
    }
}

/// Where the damage is: the offset of the damaged batch, and how many records were
/// appended (every offset served must be below).
#[derive(Debug, Clone, Copy)]
struct Damaged {
    offset: u64,
    appended: u64,
}

/// Reads every offset the way callers can (one batch, many, records) and checks each
/// record returned is the one appended at its offset, and that the damaged offset is
/// never returned. Returns whether a read ran into the damage (a `Corrupt` error).
fn read_every_way(reader: &Reader, damaged: Damaged, context: &str) -> bool {
    let mut caught = false;
    let (start, end) = (reader.start_offset(), reader.end_offset());
    let check = |records: Vec<Record>, from: u64| {
        for record in records {
            assert_ne!(
                record.offset, damaged.offset,
                "{context}: the damaged offset was served"
            );
            assert!(
                record.offset < damaged.appended && record.offset + 1 >= from,
                "{context}: offset {} served reading from {from} ({} appended)",
                record.offset,
                damaged.appended
            );
            assert_eq!(
                record.value.as_deref(),
                Some(value_for(record.offset).as_slice()),
                "{context}: a wrong record at offset {}",
                record.offset
            );
        }
    };
    for offset in start..end {
        for max_bytes in [1, 1 << 20] {
            match reader
                .read(offset, max_bytes)
                .map(|batches| batches.records())
            {
                Ok(Ok(records)) => check(records, offset),
                Ok(Err(LogError::InvalidBatch(_))) | Err(LogError::Corrupt { .. }) => caught = true,
                Ok(Err(other)) | Err(other) => panic!("{context}: reading {offset}: {other}"),
            }
        }
        match reader.read_records(offset, 3) {
            Ok(records) => check(records, offset + 1),
            Err(LogError::InvalidBatch(_)) | Err(LogError::Corrupt { .. }) => caught = true,
            Err(other) => panic!("{context}: reading records from {offset}: {other}"),
        }
    }
    caught
}

/// Checks one damaged directory: `verify` reports it, and both a read-only view and
/// a writer report the damage and never serve a wrong record.
fn assert_outside_crc_damage_handled(
    setting: Setting,
    directory: &Path,
    damaged: Damaged,
    context: &str,
) {
    let verification = inspect::verify(directory).expect("verify");
    assert!(!verification.is_ok(), "{context}: verify missed it");
    let reported = |report: &sinew_log::RecoveryReport| {
        let from = report
            .damage
            .iter()
            .map(|damage| damage.offset)
            .chain(report.truncations.iter().map(|cut| cut.from_offset))
            .min();
        if let Some(from) = from {
            assert!(
                from <= damaged.offset,
                "{context}: reported from {from}: {report}"
            );
            if matches!(setting, Setting::ActiveTorn | Setting::ActiveDurable) {
                assert_eq!(from, damaged.offset, "{context}: {report}");
            }
        }
        from.is_some()
    };
    let (reader, report) = open_read_only(directory).expect("read-only");
    let caught = read_every_way(&reader, damaged, &format!("{context}, read-only"));
    assert!(
        reported(&report) || caught,
        "{context}: read-only: nothing reported: {report}"
    );
    match Log::open(directory, small_config()) {
        Ok((log, report)) => {
            assert_ne!(
                setting,
                Setting::ActiveDurable,
                "{context}: opened: {report}"
            );
            let caught = read_every_way(&log.reader(), damaged, &format!("{context}, writer"));
            assert!(
                reported(&report) || caught,
                "{context}: writer: nothing reported: {report}"
            );
        }
        Err(LogError::Damaged(report)) => {
            assert!(reported(&report), "{context}: {report}");
        }
        Err(other) => panic!("{context}: open failed: {other}"),
    }
}

fn outside_crc_cases(setting: Setting) {
    let template = TempDirectory::new("outside-crc");
    let (target, appended) = build_for(setting, &template);
    let file_name = target.file_name().expect("name").to_owned();
    let batches = batches_of(&target);
    // A batch without an index entry is found only by walking from the one before.
    let indexed = std::fs::read(target.with_extension("index")).expect("index");
    let indexed: Vec<u64> = indexed
        .chunks(8)
        .map(|entry| u64::from(u32::from_be_bytes(entry[4..].try_into().expect("4"))))
        .collect();
    let unindexed = batches[1..batches.len() - 1]
        .iter()
        .find(|(position, _, _)| !indexed.contains(position))
        .copied();
    let mut chosen = vec![("second batch", batches[1])];
    chosen.extend(unindexed.map(|batch| ("batch without an index entry", batch)));
    chosen.push(("last batch", batches[batches.len() - 1]));
    for (which, (position, offset, _)) in chosen {
        let damaged = Damaged { offset, appended };
        for (field, byte, bits) in OUTSIDE_CRC {
            let context = format!("{setting:?}, {field} of the {which} (offset {offset})");
            let case = TempDirectory::new("outside-crc-case");
            copy_directory(&template.log(), &case.log());
            let segment = case.log().join(&file_name);
            let mut bytes = std::fs::read(&segment).expect("read");
            bytes[position as usize + byte] ^= bits;
            std::fs::write(&segment, bytes).expect("write");
            assert_outside_crc_damage_handled(setting, &case.log(), damaged, &context);
        }
    }
}

#[test]
fn damage_outside_the_crc_of_the_active_segment_after_a_crash_is_cut() {
    outside_crc_cases(Setting::ActiveTorn);
}

#[test]
fn damage_outside_the_crc_of_the_active_segment_below_the_recovery_point_is_damage() {
    outside_crc_cases(Setting::ActiveDurable);
}

#[test]
fn damage_outside_the_crc_of_a_sealed_segment_is_never_served() {
    outside_crc_cases(Setting::SealedClean);
}

#[test]
fn damage_outside_the_crc_of_a_sealed_segment_found_by_a_full_scan_is_cut() {
    outside_crc_cases(Setting::SealedUnchecked);
}

#[test]
fn a_segment_named_near_the_top_of_the_offsets_is_refused_without_a_panic() {
    // Offsets in a batch stop at 2^63 - 1, but a file name can say more; an index
    // entry added to such a base must not overflow.
    let temporary = TempDirectory::new("top-offset");
    let segments = build(&temporary, true);
    let base = u64::MAX - 2;
    let renamed = temporary.log().join(format!("{base:020}.log"));
    std::fs::rename(&segments[0], &renamed).expect("rename");
    for extension in ["index", "timeindex"] {
        std::fs::rename(
            with_extension(&segments[0], extension),
            renamed.with_extension(extension),
        )
        .expect("rename");
    }
    for path in &segments[1..] {
        std::fs::remove_file(path).expect("remove");
        for extension in ["index", "timeindex"] {
            std::fs::remove_file(with_extension(path, extension)).expect("remove");
        }
    }
    std::fs::remove_file(temporary.log().join("recovery-point")).expect("remove");
    assert!(!inspect::verify(temporary.log()).expect("verify").is_ok());
    let (reader, report) = open_read_only(temporary.log()).expect("read-only");
    assert!(
        !report.truncations.is_empty() || !report.is_whole(),
        "{report}"
    );
    assert!(read_all(&reader).is_empty());
    match Log::open(temporary.log(), small_config()) {
        Ok((log, report)) => {
            assert!(!report.truncations.is_empty(), "{report}");
            assert!(read_all(&log.reader()).is_empty());
        }
        Err(LogError::Damaged(_)) => {}
        Err(other) => panic!("open failed: {other}"),
    }
}
