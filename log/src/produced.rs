//! The checks a producer's batch passes before the log stores it: the batch itself
//! (length, magic, CRC), a record count that matches its offsets, and, for
//! uncompressed records, every record's fields, in one tight pass over the bytes
//! that copies and allocates nothing.
//!
//! This is the append path's hot loop. It must accept exactly the batches the
//! general record walker (`record::for_each_record`) accepts when offset deltas run
//! 0, 1, 2... (a property test holds the two together), and it must never read
//! past a slice or trust a length before the bytes are there.

use crate::batch::{self, BatchHeader, Compression, HEADER_SIZE};
use crate::error::{BatchError, LogError, Result};
use crate::record;

const TRUNCATED_RECORD: &str = "a record is truncated or malformed";
const TRUNCATED_FIELD: &str = "a key, value or header is truncated";
const OFFSETS: &str = "record offsets do not increase within the batch";

/// Checks a batch as a producer sent it, as [`crate::Log::append_batch`] does before
/// storing it: length, magic and CRC; a record count that matches the last offset
/// delta; every record when the batch is uncompressed. Compressed records are only
/// decompressed and looked at when `keys_required` (a compacted log refuses records
/// without a key, as a Kafka broker does).
///
/// A broker may run this on its own threads before handing the batch to the log;
/// the log runs it again.
pub fn check_produced_batch(batch: &[u8], keys_required: bool) -> Result<BatchHeader> {
    let header = batch::check(batch)?;
    if header.record_count == 0
        || header.last_offset_delta.checked_add(1) != Some(header.record_count)
    {
        let count = i32::try_from(header.record_count).unwrap_or(-1);
        return Err(BatchError::BadRecordCount(count).into());
    }
    let keyless = match header.compression()? {
        Compression::None => {
            let records = batch.get(HEADER_SIZE..).unwrap_or_default();
            first_keyless(records, header.record_count).map_err(BatchError::BadRecord)?
        }
        _ if keys_required => walk_for_keyless(batch, &header)?,
        _ => None,
    };
    match keyless {
        Some(position) if keys_required => Err(LogError::KeyRequired { position }),
        _ => Ok(header),
    }
}

/// The general walk (any codec): every record checked, and the position of the
/// first without a key.
fn walk_for_keyless(batch: &[u8], header: &BatchHeader) -> Result<Option<usize>, BatchError> {
    let mut keyless = None;
    let mut position = 0usize;
    record::for_each_record(batch, header, |record| {
        if record.key.is_none() && keyless.is_none() {
            keyless = Some(position);
        }
        position += 1;
        Ok(())
    })?;
    Ok(keyless)
}

/// Checks the `count` uncompressed records that make up `records` exactly, with
/// offset deltas 0 to `count - 1`; returns the position of the first record
/// without a key, if any.
fn first_keyless(records: &[u8], count: u32) -> Result<Option<usize>, &'static str> {
    let mut position = 0usize;
    let mut keyless = None;
    for index in 0..count {
        let (length, start) = varint(records, position).ok_or(TRUNCATED_RECORD)?;
        let length = usize::try_from(length).map_err(|_| "negative length")?;
        let end = start.checked_add(length).ok_or(TRUNCATED_RECORD)?;
        let record = records.get(start..end).ok_or(TRUNCATED_RECORD)?;
        if !check_record(record, index)? && keyless.is_none() {
            keyless = Some(index as usize);
        }
        position = end;
    }
    if position != records.len() {
        return Err("bytes left after the last record");
    }
    Ok(keyless)
}

/// Checks one record's fields (attributes, timestamp delta, offset delta `index`,
/// key, value, headers) and that they fill it exactly; true if it has a key.
#[inline(always)]
fn check_record(record: &[u8], index: u32) -> Result<bool, &'static str> {
    // The attributes byte is unused; the timestamp delta may be any varlong.
    if record.is_empty() {
        return Err(TRUNCATED_RECORD);
    }
    let position = skip_varlong(record, 1).ok_or(TRUNCATED_RECORD)?;
    let (delta, position) = varint(record, position).ok_or(TRUNCATED_RECORD)?;
    if delta < 0 {
        return Err("negative offset delta");
    }
    if delta as u32 != index {
        return Err(OFFSETS);
    }
    let (key, position) = nullable(record, position).ok_or(TRUNCATED_FIELD)?;
    let (_, position) = nullable(record, position).ok_or(TRUNCATED_FIELD)?;
    // Most records have no headers: a count of 0 in their last byte. Looking there
    // does not wait for the value's length to be read first.
    if record.last() == Some(&0) && position + 1 == record.len() {
        return Ok(key.is_some());
    }
    let (headers, mut position) = varint(record, position).ok_or(TRUNCATED_RECORD)?;
    if headers < 0 {
        return Err("negative header count");
    }
    for _ in 0..headers {
        let (name, after) = nullable(record, position).ok_or(TRUNCATED_FIELD)?;
        let name = name
            .and_then(|(start, end)| record.get(start..end))
            .ok_or("a header name is null")?;
        if std::str::from_utf8(name).is_err() {
            return Err("a header name is not UTF-8");
        }
        let (_, after) = nullable(record, after).ok_or(TRUNCATED_FIELD)?;
        position = after;
    }
    if position != record.len() {
        return Err("a record is longer than its fields");
    }
    Ok(key.is_some())
}

/// A nullable byte field at `position`: its range (`None` for null) and the
/// position after it.
#[inline(always)]
fn nullable(bytes: &[u8], position: usize) -> Option<(Option<(usize, usize)>, usize)> {
    let (length, start) = varint(bytes, position)?;
    if length < 0 {
        return Some((None, start));
    }
    let end = start.checked_add(length as usize)?;
    if end > bytes.len() {
        return None;
    }
    Some((Some((start, end)), end))
}

/// A zig-zag varint (at most 5 bytes, fitting 32 bits) at `position`, and the
/// position after it.
#[inline(always)]
fn varint(bytes: &[u8], position: usize) -> Option<(i32, usize)> {
    let first = *bytes.get(position)?;
    let (raw, next) = if first < 0x80 {
        (u32::from(first), position + 1)
    } else {
        // Lengths of a few hundred bytes and deltas of a few hundred take two.
        let second = *bytes.get(position + 1)?;
        if second < 0x80 {
            (
                u32::from(first & 0x7f) | u32::from(second) << 7,
                position + 2,
            )
        } else {
            long_varint(bytes, position)?
        }
    };
    Some((((raw >> 1) as i32) ^ -((raw & 1) as i32), next))
}

/// The unsigned value of a varint of three to five bytes, and the position after it.
#[cold]
fn long_varint(bytes: &[u8], position: usize) -> Option<(u32, usize)> {
    let mut value = 0u64;
    for index in 0..5 {
        let byte = *bytes.get(position + index)?;
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte < 0x80 {
            return Some((u32::try_from(value).ok()?, position + index + 1));
        }
    }
    None
}

/// The position after a varlong (at most 10 bytes) at `position`.
#[inline(always)]
fn skip_varlong(bytes: &[u8], position: usize) -> Option<usize> {
    if *bytes.get(position)? < 0x80 {
        return Some(position + 1);
    }
    if *bytes.get(position + 1)? < 0x80 {
        return Some(position + 2);
    }
    let window = bytes.get(position..)?;
    let length = window.iter().take(10).position(|&byte| byte < 0x80)?;
    Some(position + length + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::{put_varint, put_varlong};
    use crate::encoder::encode_batch;
    use crate::record::NewRecord;
    use crate::record::tests::arbitrary_record;
    use proptest::prelude::*;

    /// What the general walker says of the same bytes: the position of the first
    /// keyless record, or an error.
    fn general(batch: &[u8]) -> Result<Option<usize>, BatchError> {
        walk_for_keyless(batch, &batch::check(batch)?)
    }

    fn fast(batch: &[u8]) -> Result<Option<usize>, BatchError> {
        let header = batch::check(batch)?;
        first_keyless(
            batch.get(HEADER_SIZE..).unwrap_or_default(),
            header.record_count,
        )
        .map_err(BatchError::BadRecord)
    }

    /// Fixes the length and CRC after a change, so only the records are wrong.
    fn reseal(batch: &mut [u8]) {
        batch::seal(batch).expect("seal");
    }

    #[test]
    fn a_producers_batch_passes_and_its_keyless_record_is_found() {
        let records = [
            NewRecord::new(Some(b"a".to_vec()), b"1".to_vec(), 5),
            NewRecord::new(None, vec![7; 300], 6),
            NewRecord::new(None, b"3".to_vec(), 7),
        ];
        let batch = encode_batch(&records).expect("encode");
        assert_eq!(fast(&batch), Ok(Some(1)));
        assert!(check_produced_batch(&batch, false).is_ok());
        assert!(matches!(
            check_produced_batch(&batch, true),
            Err(LogError::KeyRequired { position: 1 })
        ));
    }

    #[test]
    fn a_count_that_disagrees_with_the_offsets_is_refused() {
        let records = [NewRecord::new(None, b"1".to_vec(), 5)];
        let mut batch = encode_batch(&records).expect("encode");
        // last offset delta 1 for one record
        batch[23..27].copy_from_slice(&1i32.to_be_bytes());
        reseal(&mut batch);
        assert!(matches!(
            check_produced_batch(&batch, false),
            Err(LogError::InvalidBatch(BatchError::BadRecordCount(1)))
        ));
    }

    /// A header's name and value, either of which may be null.
    type RawHeader = (Option<Vec<u8>>, Option<Vec<u8>>);

    /// One record written field by field, each field right or a little wrong: a
    /// declared length that is off by one, a null header name, a name that is not
    /// UTF-8, an unexpected offset delta, bytes left over.
    #[derive(Debug, Clone)]
    struct RawRecord {
        attributes: u8,
        timestamp_delta: i64,
        delta_change: i32,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        /// Added to the declared key length (0 most of the time).
        key_skew: i32,
        headers: Vec<RawHeader>,
        header_skew: i32,
        trailing: Vec<u8>,
        length_skew: i32,
    }

    fn skew() -> impl Strategy<Value = i32> {
        prop_oneof![24 => Just(0), 1 => Just(1), 1 => Just(-1), 1 => any::<i32>()]
    }

    fn raw_record() -> impl Strategy<Value = RawRecord> {
        let bytes = || {
            prop_oneof![
                1 => Just(None),
                4 => proptest::collection::vec(any::<u8>(), 0..4).prop_map(Some),
            ]
        };
        (
            (any::<u8>(), any::<i64>(), skew(), bytes(), bytes(), skew()),
            (
                proptest::collection::vec((bytes(), bytes()), 0..3),
                skew(),
                proptest::collection::vec(any::<u8>(), 0..2),
                skew(),
            ),
        )
            .prop_map(
                |(
                    (attributes, timestamp_delta, delta_change, key, value, key_skew),
                    (headers, header_skew, trailing, length_skew),
                )| RawRecord {
                    attributes,
                    timestamp_delta,
                    delta_change,
                    key,
                    value,
                    key_skew,
                    headers,
                    header_skew,
                    trailing,
                    length_skew,
                },
            )
    }

    fn nullable_field(out: &mut Vec<u8>, field: &Option<Vec<u8>>, skew: i32) {
        match field {
            None => put_varint(out, -1),
            Some(bytes) => {
                put_varint(out, (bytes.len() as i32).wrapping_add(skew));
                out.extend_from_slice(bytes);
            }
        }
    }

    /// A batch of raw records, with `count_change` added to the record count.
    fn raw_batch(records: &[RawRecord], count_change: i32) -> Vec<u8> {
        let template = encode_batch(&[NewRecord::new(None, Vec::new(), 0)]).expect("encode");
        let mut batch = template[..HEADER_SIZE].to_vec();
        let count = (records.len() as i32 + count_change).max(1);
        batch[23..27].copy_from_slice(&(count - 1).to_be_bytes());
        batch[57..61].copy_from_slice(&count.to_be_bytes());
        for (index, record) in records.iter().enumerate() {
            let mut body = vec![record.attributes];
            put_varlong(&mut body, record.timestamp_delta);
            put_varint(&mut body, (index as i32).wrapping_add(record.delta_change));
            nullable_field(&mut body, &record.key, record.key_skew);
            nullable_field(&mut body, &record.value, 0);
            put_varint(
                &mut body,
                (record.headers.len() as i32).wrapping_add(record.header_skew),
            );
            for (name, value) in &record.headers {
                nullable_field(&mut body, name, 0);
                nullable_field(&mut body, value, 0);
            }
            body.extend_from_slice(&record.trailing);
            put_varint(
                &mut batch,
                (body.len() as i32).wrapping_add(record.length_skew),
            );
            batch.extend_from_slice(&body);
        }
        reseal(&mut batch);
        batch
    }

    proptest! {
        #[test]
        fn the_fast_check_agrees_with_the_general_walker(
            records in proptest::collection::vec(arbitrary_record(), 1..8),
            damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let mut batch = encode_batch(&records).expect("encode");
            let body = batch.len() - HEADER_SIZE;
            for (index, byte) in damage {
                let position = HEADER_SIZE + index.index(body);
                batch[position] = byte;
            }
            if let Some(cut) = cut {
                batch.truncate(HEADER_SIZE + cut.index(body));
            }
            reseal(&mut batch);
            let general = general(&batch);
            let fast = fast(&batch);
            prop_assert_eq!(general.is_ok(), fast.is_ok(), "general {:?}, fast {:?}", general, fast);
            if let (Ok(general), Ok(fast)) = (general, fast) {
                prop_assert_eq!(general, fast);
            }
        }
    }

    proptest! {
        // Many cases: a batch wrong in exactly one subtle place is a rare draw.
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn the_fast_check_agrees_on_records_wrong_field_by_field(
            records in proptest::collection::vec(raw_record(), 1..6),
            count_change in prop_oneof![4 => Just(0), 1 => -1i32..=1],
        ) {
            let batch = raw_batch(&records, count_change);
            let general = general(&batch);
            let fast = fast(&batch);
            // Both refuse or both accept (the reasons may differ: the checks run
            // in another order), and an accepted batch gives the same answer.
            prop_assert_eq!(general.is_ok(), fast.is_ok(), "general {:?}, fast {:?}", general, fast);
            if let (Ok(general), Ok(fast)) = (general, fast) {
                prop_assert_eq!(general, fast);
            }
        }
    }
}
