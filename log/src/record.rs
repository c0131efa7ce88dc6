//! Records inside a batch (Kafka's Record v2: zig-zag varint lengths, offset and
//! timestamp deltas, key, value, headers), the encoder the log uses to build
//! batches, and the decoder readers use to get records back out.
//!
//! It must never allocate for a length it read before the bytes are there, and never
//! return a record from a batch whose CRC has not been checked.

use crate::batch::{self, BatchHeader, Compression, HEADER_SIZE, MAGIC};
use crate::cursor::{Cursor, put_varint, put_varlong, varint_size, varlong_size};
use crate::error::BatchError;

/// One header of a record: a name and an optional value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header's name.
    pub key: String,
    /// The header's value; `None` is Kafka's null.
    pub value: Option<Vec<u8>>,
}

/// A record to append: the log assigns its offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// The key; `None` is Kafka's null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Record headers.
    pub headers: Vec<Header>,
}

impl NewRecord {
    /// A record with a value, an optional key and no headers.
    pub fn new(key: Option<Vec<u8>>, value: Vec<u8>, timestamp: i64) -> Self {
        NewRecord {
            key,
            value: Some(value),
            timestamp,
            headers: Vec::new(),
        }
    }
}

/// A record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's offset in the log.
    pub offset: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The key; `None` is Kafka's null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// Record headers.
    pub headers: Vec<Header>,
}

fn length_of(field: &Option<Vec<u8>>) -> i32 {
    field.as_ref().map_or(-1, |bytes| bytes.len() as i32)
}

fn check_length(length: usize) -> Result<i32, BatchError> {
    i32::try_from(length).map_err(|_| BatchError::RecordTooLarge)
}

/// Encodes records into one uncompressed batch with base offset 0 (the log patches
/// it on append), producer id -1 and create-time timestamps.
pub fn encode_batch(records: &[NewRecord]) -> Result<Vec<u8>, BatchError> {
    let first = records.first().ok_or(BatchError::BadRecordCount(0))?;
    let count = i32::try_from(records.len()).map_err(|_| BatchError::RecordTooLarge)?;
    let base_timestamp = first.timestamp;
    let max_timestamp = records
        .iter()
        .map(|record| record.timestamp)
        .max()
        .unwrap_or(base_timestamp);
    let mut out = Vec::with_capacity(HEADER_SIZE + records.len() * 16);
    out.extend_from_slice(&0i64.to_be_bytes()); // base offset, patched on append
    out.extend_from_slice(&0i32.to_be_bytes()); // batch length, sealed below
    out.extend_from_slice(&(-1i32).to_be_bytes()); // partition leader epoch
    out.push(MAGIC as u8);
    out.extend_from_slice(&0u32.to_be_bytes()); // CRC, sealed below
    out.extend_from_slice(&0i16.to_be_bytes()); // attributes: no compression, create time
    out.extend_from_slice(&(count - 1).to_be_bytes()); // last offset delta
    out.extend_from_slice(&base_timestamp.to_be_bytes());
    out.extend_from_slice(&max_timestamp.to_be_bytes());
    out.extend_from_slice(&(-1i64).to_be_bytes()); // producer id
    out.extend_from_slice(&(-1i16).to_be_bytes()); // producer epoch
    out.extend_from_slice(&(-1i32).to_be_bytes()); // base sequence
    out.extend_from_slice(&count.to_be_bytes());
    for (delta, record) in records.iter().enumerate() {
        encode_record(&mut out, record, delta as i32, base_timestamp)?;
    }
    batch::seal(&mut out)?;
    Ok(out)
}

fn encode_record(
    out: &mut Vec<u8>,
    record: &NewRecord,
    offset_delta: i32,
    base_timestamp: i64,
) -> Result<(), BatchError> {
    let timestamp_delta = record.timestamp.wrapping_sub(base_timestamp);
    let key_length = length_of(&record.key);
    let value_length = length_of(&record.value);
    check_length(record.key.as_ref().map_or(0, Vec::len))?;
    check_length(record.value.as_ref().map_or(0, Vec::len))?;
    let header_count = check_length(record.headers.len())?;
    let mut body_size = 1
        + varlong_size(timestamp_delta)
        + varint_size(offset_delta)
        + varint_size(key_length)
        + record.key.as_ref().map_or(0, Vec::len)
        + varint_size(value_length)
        + record.value.as_ref().map_or(0, Vec::len)
        + varint_size(header_count);
    for header in &record.headers {
        let key_length = check_length(header.key.len())?;
        let value_length = length_of(&header.value);
        body_size += varint_size(key_length)
            + header.key.len()
            + varint_size(value_length)
            + header.value.as_ref().map_or(0, Vec::len);
    }
    put_varint(out, check_length(body_size)?);
    out.push(0); // record attributes: unused
    put_varlong(out, timestamp_delta);
    put_varint(out, offset_delta);
    put_varint(out, key_length);
    if let Some(key) = &record.key {
        out.extend_from_slice(key);
    }
    put_varint(out, value_length);
    if let Some(value) = &record.value {
        out.extend_from_slice(value);
    }
    put_varint(out, header_count);
    for header in &record.headers {
        put_varint(out, header.key.len() as i32);
        out.extend_from_slice(header.key.as_bytes());
        put_varint(out, length_of(&header.value));
        if let Some(value) = &header.value {
            out.extend_from_slice(value);
        }
    }
    Ok(())
}

/// Decodes the records of one batch whose CRC has already been checked.
///
/// Checks that the records fill the batch exactly, that their count matches the
/// header and that offset deltas run 0, 1, 2... up to the last offset delta.
pub fn decode_records(batch: &[u8]) -> Result<Vec<Record>, BatchError> {
    let header = BatchHeader::parse(batch)?;
    if header.compression()? != Compression::None {
        return Err(BatchError::UnsupportedCompression(header.compression()?));
    }
    let body = batch.get(HEADER_SIZE..).ok_or(BatchError::Truncated {
        needed: HEADER_SIZE,
        available: batch.len(),
    })?;
    let mut cursor = Cursor::new(body);
    // Each record takes at least 7 bytes, so the count cannot ask for more room than
    // the bytes that are really there.
    let mut records = Vec::with_capacity((header.record_count as usize).min(body.len() / 7));
    for expected_delta in 0..header.record_count {
        let record = decode_record(&mut cursor, &header)?;
        if record.offset != header.base_offset + u64::from(expected_delta) {
            return Err(BatchError::BadRecord("offset deltas are not 0, 1, 2..."));
        }
        records.push(record);
    }
    if cursor.remaining() != 0 {
        return Err(BatchError::BadRecord("bytes left after the last record"));
    }
    let last = records.last().map(|record| record.offset);
    if last != Some(header.last_offset()) {
        return Err(BatchError::BadRecord(
            "the last offset delta does not match the records",
        ));
    }
    Ok(records)
}

fn decode_record(cursor: &mut Cursor<'_>, header: &BatchHeader) -> Result<Record, BatchError> {
    let bad = |_| BatchError::BadRecord("a record is truncated or malformed");
    let length = cursor.varint().map_err(bad)?;
    let length = usize::try_from(length).map_err(|_| BatchError::BadRecord("negative length"))?;
    let body = cursor.take(length).map_err(bad)?;
    let mut fields = Cursor::new(body);
    let _attributes = fields.u8().map_err(bad)?;
    let timestamp_delta = fields.varlong().map_err(bad)?;
    let offset_delta = fields.varint().map_err(bad)?;
    let offset_delta =
        u64::try_from(offset_delta).map_err(|_| BatchError::BadRecord("negative offset delta"))?;
    let key = nullable_bytes(&mut fields)?;
    let value = nullable_bytes(&mut fields)?;
    let header_count = fields.varint().map_err(bad)?;
    let header_count = usize::try_from(header_count)
        .map_err(|_| BatchError::BadRecord("negative header count"))?;
    let mut headers = Vec::with_capacity(header_count.min(fields.remaining() / 2));
    for _ in 0..header_count {
        let name =
            nullable_bytes(&mut fields)?.ok_or(BatchError::BadRecord("a header name is null"))?;
        let key = String::from_utf8(name)
            .map_err(|_| BatchError::BadRecord("a header name is not UTF-8"))?;
        let value = nullable_bytes(&mut fields)?;
        headers.push(Header { key, value });
    }
    if fields.remaining() != 0 {
        return Err(BatchError::BadRecord("a record is longer than its fields"));
    }
    let timestamp = if header.log_append_time() {
        header.max_timestamp
    } else {
        header.base_timestamp.wrapping_add(timestamp_delta)
    };
    Ok(Record {
        offset: header
            .base_offset
            .checked_add(offset_delta)
            .ok_or(BatchError::BadOffset)?,
        timestamp,
        key,
        value,
        headers,
    })
}

fn nullable_bytes(cursor: &mut Cursor<'_>) -> Result<Option<Vec<u8>>, BatchError> {
    let bad = |_| BatchError::BadRecord("a key, value or header is truncated");
    let length = cursor.varint().map_err(bad)?;
    if length < 0 {
        return Ok(None);
    }
    Ok(Some(cursor.take(length as usize).map_err(bad)?.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A batch written out field by field, as the Kafka protocol guide lays it out.
    #[test]
    fn encoding_matches_the_layout_byte_for_byte() {
        let records = [NewRecord::new(Some(b"k".to_vec()), b"v".to_vec(), 10)];
        let batch = encode_batch(&records).expect("encodes");
        let record: &[u8] = &[
            0x10, // length 8 (zig-zag), the bytes after this field
            0x00, // attributes
            0x00, // timestamp delta 0
            0x00, // offset delta 0
            0x02, b'k', // key length 1, key
            0x02, b'v', // value length 1, value
            0x00, // no headers
        ];
        let mut expected: Vec<u8> = Vec::new();
        expected.extend_from_slice(&[0; 8]); // base offset 0
        expected.extend_from_slice(&(49 + 9u32).to_be_bytes()); // batch length
        expected.extend_from_slice(&[0xff; 4]); // leader epoch -1
        expected.push(2); // magic
        expected.extend_from_slice(&[0; 4]); // CRC, checked below
        expected.extend_from_slice(&[0, 0]); // attributes
        expected.extend_from_slice(&[0, 0, 0, 0]); // last offset delta
        expected.extend_from_slice(&10i64.to_be_bytes()); // base timestamp
        expected.extend_from_slice(&10i64.to_be_bytes()); // max timestamp
        expected.extend_from_slice(&[0xff; 8]); // producer id -1
        expected.extend_from_slice(&[0xff; 2]); // producer epoch -1
        expected.extend_from_slice(&[0xff; 4]); // base sequence -1
        expected.extend_from_slice(&1i32.to_be_bytes()); // record count
        expected.extend_from_slice(record);
        let crc = crc32c::crc32c(&expected[21..]);
        expected[17..21].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(batch, expected);
    }

    #[test]
    fn null_key_value_and_headers_round_trip() {
        let records = [NewRecord {
            key: None,
            value: None,
            timestamp: -5,
            headers: vec![
                Header {
                    key: "trace".into(),
                    value: Some(b"abc".to_vec()),
                },
                Header {
                    key: "none".into(),
                    value: None,
                },
            ],
        }];
        let batch = encode_batch(&records).expect("encodes");
        let decoded = decode_records(&batch).expect("decodes");
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded[0].key, None);
        assert_eq!(decoded[0].value, None);
        assert_eq!(decoded[0].timestamp, -5);
        assert_eq!(decoded[0].headers, records[0].headers);
    }

    #[test]
    fn an_empty_batch_is_refused() {
        assert_eq!(encode_batch(&[]), Err(BatchError::BadRecordCount(0)));
    }

    fn arbitrary_record() -> impl Strategy<Value = NewRecord> {
        (
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
            any::<i64>(),
            proptest::collection::vec(
                (
                    "[a-z]{0,8}",
                    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
                ),
                0..3,
            ),
        )
            .prop_map(|(key, value, timestamp, headers)| NewRecord {
                key,
                value,
                timestamp,
                headers: headers
                    .into_iter()
                    .map(|(key, value)| Header { key, value })
                    .collect(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn batches_round_trip(records in proptest::collection::vec(arbitrary_record(), 1..12), base in 0u64..1 << 40) {
            let mut encoded = encode_batch(&records).expect("encodes");
            batch::set_base_offset(&mut encoded, base).expect("patch");
            let header = batch::check(&encoded).expect("valid");
            prop_assert_eq!(header.record_count as usize, records.len());
            let decoded = decode_records(&encoded).expect("decodes");
            for (index, (sent, got)) in records.iter().zip(&decoded).enumerate() {
                prop_assert_eq!(got.offset, base + index as u64);
                prop_assert_eq!(&got.key, &sent.key);
                prop_assert_eq!(&got.value, &sent.value);
                prop_assert_eq!(got.timestamp, sent.timestamp);
                prop_assert_eq!(&got.headers, &sent.headers);
            }
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = batch::check(&bytes);
            let _ = decode_records(&bytes);
        }
    }
}
