//! Records inside a batch (Kafka's Record v2: zig-zag varint lengths, offset and
//! timestamp deltas, key, value, headers): the encoder that builds batches (in any
//! codec), a walker that checks records in place without copying them, the decoder
//! readers use to get records back out, and the rebuild the cleaner uses to write a
//! batch with some of its records removed.
//!
//! It must never allocate for a length it read before the bytes are there, and never
//! return a record from a batch whose CRC has not been checked. Offsets within a
//! batch must always increase: a rebuilt batch keeps every record's offset.

use crate::batch::{
    self, BatchHeader, COMPRESSION_MASK, Compression, DELETE_HORIZON_FLAG, HEADER_SIZE, MAGIC,
};
use crate::compression::{self, MAX_DECOMPRESSED_BYTES};
use crate::cursor::{
    Cursor, Field, SCRATCH_BYTES, Scratch, put_varint, put_varlong, varint_size, varlong_size,
};
use crate::error::BatchError;
use std::borrow::Cow;

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

fn length_of(field: Option<&[u8]>) -> i32 {
    field.map_or(-1, |bytes| bytes.len() as i32)
}

fn check_length(length: usize) -> Result<i32, BatchError> {
    i32::try_from(length).map_err(|_| BatchError::RecordTooLarge)
}

/// Encodes records into one uncompressed batch with base offset 0 (the log patches
/// it on append), producer id -1 and create-time timestamps.
pub fn encode_batch(records: &[NewRecord]) -> Result<Vec<u8>, BatchError> {
    encode_batch_with(records, Compression::None)
}

/// Encodes records into one batch whose records section is compressed with
/// `compression`, as a Kafka producer would send it: base offset 0, producer id -1,
/// create-time timestamps.
pub fn encode_batch_with(
    records: &[NewRecord],
    compression: Compression,
) -> Result<Vec<u8>, BatchError> {
    let mut out = Vec::new();
    encode_batch_into(records, compression, &mut out)?;
    Ok(out)
}

/// `encode_batch_with` into `out`, which is emptied first (a caller that encodes
/// again and again keeps one buffer and allocates nothing).
pub(crate) fn encode_batch_into(
    records: &[NewRecord],
    compression: Compression,
    out: &mut Vec<u8>,
) -> Result<(), BatchError> {
    let first = records.first().ok_or(BatchError::BadRecordCount(0))?;
    let count = i32::try_from(records.len()).map_err(|_| BatchError::RecordTooLarge)?;
    let base_timestamp = first.timestamp;
    // One pass for the newest timestamp and the room every record needs (its bytes
    // and at most 36 bytes of lengths and deltas), plus the encoder's fixed-size
    // copies past the last one, so the batch is allocated once.
    let mut max_timestamp = base_timestamp;
    let mut room = 2 * SCRATCH_BYTES;
    for record in records {
        max_timestamp = max_timestamp.max(record.timestamp);
        room += record.key.as_ref().map_or(0, Vec::len)
            + record.value.as_ref().map_or(0, Vec::len)
            + 36;
        for header in &record.headers {
            room += header.key.len() + header.value.as_ref().map_or(0, Vec::len) + 10;
        }
    }
    let header = BatchHeader {
        base_offset: 0,
        batch_length: 0,
        partition_leader_epoch: -1,
        crc: 0,
        attributes: compression.attribute_bits(),
        last_offset_delta: (count - 1) as u32,
        base_timestamp,
        max_timestamp,
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        record_count: count as u32,
    };
    assemble(&header, room, out, |out| {
        for (delta, record) in records.iter().enumerate() {
            let timestamp_delta = record.timestamp.wrapping_sub(base_timestamp);
            let (key, value) = (record.key.as_deref(), record.value.as_deref());
            if record.headers.is_empty() {
                encode_plain_record(out, delta as i32, timestamp_delta, key, value)?;
            } else {
                encode_record(
                    out,
                    delta as i32,
                    timestamp_delta,
                    key,
                    value,
                    &record.headers,
                )?;
            }
        }
        Ok(())
    })
}

/// `encode_record` for a record without headers (the common case): the length
/// checks and the fields gathered with no header loop in the way.
#[inline(always)]
fn encode_plain_record(
    out: &mut Vec<u8>,
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Result<(), BatchError> {
    let Some(timestamp) = Field::varlong(timestamp_delta) else {
        return encode_record(out, offset_delta, timestamp_delta, key, value, &[]);
    };
    let (key_size, key_length) = declared(key)?;
    let (value_size, value_length) = declared(value)?;
    let (delta, key_field) = (Field::varint(offset_delta), Field::varint(key_length));
    let value_field = Field::varint(value_length);
    // The attributes byte, the fields, the key, the value and a header count of 0.
    let body_size = 1
        + timestamp.len()
        + delta.len()
        + key_field.len()
        + key_size
        + value_field.len()
        + value_size
        + 1;
    let body = Field::varint(check_length(body_size)?);
    out.reserve(body_size + 2 * SCRATCH_BYTES);
    let mut fields = Scratch::default();
    fields.push(out, body);
    fields.push(out, Field::byte(0));
    fields.push(out, timestamp);
    fields.push(out, delta);
    push_key_and_value(out, &mut fields, (key_field, key), (value_field, value));
    out.push(0);
    Ok(())
}

/// Builds a whole batch in `out` (emptied first): the header's fields (its CRC and
/// length are computed), then the records `write_records` writes (about `room`
/// bytes), compressed with the header's codec.
fn assemble(
    header: &BatchHeader,
    room: usize,
    out: &mut Vec<u8>,
    write_records: impl FnOnce(&mut Vec<u8>) -> Result<(), BatchError>,
) -> Result<(), BatchError> {
    let base_offset = i64::try_from(header.base_offset).map_err(|_| BatchError::BadOffset)?;
    let last_offset_delta =
        i32::try_from(header.last_offset_delta).map_err(|_| BatchError::BadOffset)?;
    let count =
        i32::try_from(header.record_count).map_err(|_| BatchError::BadRecordCount(i32::MAX))?;
    let codec = header.compression()?;
    out.clear();
    out.reserve(HEADER_SIZE + if codec == Compression::None { room } else { 0 });
    out.extend_from_slice(&base_offset.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes()); // batch length, sealed below
    out.extend_from_slice(&header.partition_leader_epoch.to_be_bytes());
    out.push(MAGIC as u8);
    out.extend_from_slice(&0u32.to_be_bytes()); // CRC, sealed below
    out.extend_from_slice(&header.attributes.to_be_bytes());
    out.extend_from_slice(&last_offset_delta.to_be_bytes());
    out.extend_from_slice(&header.base_timestamp.to_be_bytes());
    out.extend_from_slice(&header.max_timestamp.to_be_bytes());
    out.extend_from_slice(&header.producer_id.to_be_bytes());
    out.extend_from_slice(&header.producer_epoch.to_be_bytes());
    out.extend_from_slice(&header.base_sequence.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    match codec {
        Compression::None => write_records(out)?,
        codec => {
            let mut plain = Vec::with_capacity(room);
            write_records(&mut plain)?;
            out.extend_from_slice(&compression::compress(codec, &plain)?);
        }
    }
    batch::seal(out)
}

/// Rebuilds a stored batch keeping only `records` (a subset of its records, in
/// order): every header field stays but the record count, and the CRC and length.
/// With `delete_horizon`, the batch records when its tombstones may go (KIP-534: the
/// flag is set and the base timestamp holds the horizon). A batch left empty is
/// written uncompressed with no records, keeping its offsets (the cleaner keeps such
/// a batch where a segment must still end at its last offset).
pub(crate) fn rebuild_batch(
    original: &BatchHeader,
    records: &[Record],
    delete_horizon: Option<i64>,
) -> Result<Vec<u8>, BatchError> {
    let mut header = *original;
    header.record_count =
        u32::try_from(records.len()).map_err(|_| BatchError::BadRecordCount(i32::MAX))?;
    if let Some(horizon) = delete_horizon {
        header.attributes |= DELETE_HORIZON_FLAG;
        header.base_timestamp = horizon;
    }
    if records.is_empty() {
        header.attributes &= !COMPRESSION_MASK;
    }
    let base_offset = header.base_offset;
    let last_offset = header.last_offset();
    let base_timestamp = header.base_timestamp;
    let mut out = Vec::new();
    assemble(&header, 0, &mut out, |out| {
        for record in records {
            if record.offset < base_offset || record.offset > last_offset {
                return Err(BatchError::BadOffset);
            }
            encode_record(
                out,
                (record.offset - base_offset) as i32,
                record.timestamp.wrapping_sub(base_timestamp),
                record.key.as_deref(),
                record.value.as_deref(),
                &record.headers,
            )?;
        }
        Ok(())
    })?;
    Ok(out)
}

/// Writes the key's length after the fields gathered so far, then the key, the
/// value's length and the value.
#[inline(always)]
fn push_key_and_value(
    out: &mut Vec<u8>,
    fields: &mut Scratch,
    (key_field, key): (Field, Option<&[u8]>),
    (value_field, value): (Field, Option<&[u8]>),
) {
    fields.push(out, key_field);
    if let Some(key) = key {
        fields.drain_into(out);
        out.extend_from_slice(key);
    }
    fields.push(out, value_field);
    fields.drain_into(out);
    if let Some(value) = value {
        out.extend_from_slice(value);
    }
}

/// A nullable field's size and the length it is declared with (-1 for null).
#[inline(always)]
fn declared(field: Option<&[u8]>) -> Result<(usize, i32), BatchError> {
    match field {
        Some(bytes) => Ok((bytes.len(), check_length(bytes.len())?)),
        None => Ok((0, -1)),
    }
}

#[inline(always)]
fn encode_record(
    out: &mut Vec<u8>,
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> Result<(), BatchError> {
    let (key_size, key_length) = declared(key)?;
    let (value_size, value_length) = declared(value)?;
    let header_count = check_length(headers.len())?;
    // Every small field is encoded first: its length is then known for the body's.
    let timestamp = Field::varlong(timestamp_delta);
    let (delta, key_field) = (Field::varint(offset_delta), Field::varint(key_length));
    let (value_field, count_field) = (Field::varint(value_length), Field::varint(header_count));
    let mut body_size = 1
        + timestamp.map_or_else(|| varlong_size(timestamp_delta), Field::len)
        + delta.len()
        + key_field.len()
        + key_size
        + value_field.len()
        + value_size
        + count_field.len();
    for header in headers {
        let key_length = check_length(header.key.len())?;
        let value_length = length_of(header.value.as_deref());
        body_size += varint_size(key_length)
            + header.key.len()
            + varint_size(value_length)
            + header.value.as_ref().map_or(0, Vec::len);
    }
    let body_length = check_length(body_size)?;
    // Room for the record and the scratch's fixed-size copies, so none reallocates.
    out.reserve(body_size + 2 * SCRATCH_BYTES);
    let mut fields = Scratch::default();
    fields.push(out, Field::varint(body_length));
    fields.push(out, Field::byte(0)); // record attributes: unused
    match timestamp {
        Some(timestamp) => fields.push(out, timestamp),
        None => {
            fields.drain_into(out);
            put_varlong(out, timestamp_delta);
        }
    }
    fields.push(out, delta);
    push_key_and_value(out, &mut fields, (key_field, key), (value_field, value));
    put_varint(out, header_count);
    for header in headers {
        put_varint(out, header.key.len() as i32);
        out.extend_from_slice(header.key.as_bytes());
        put_varint(out, length_of(header.value.as_deref()));
        if let Some(value) = &header.value {
            out.extend_from_slice(value);
        }
    }
    Ok(())
}

/// One record of a batch, borrowed from the (decompressed) records section.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordView<'a> {
    /// The record's offset in the log.
    pub offset: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The key; `None` is Kafka's null key.
    pub key: Option<&'a [u8]>,
    /// The value; `None` is a tombstone.
    pub value: Option<&'a [u8]>,
    headers: &'a [u8],
    header_count: usize,
}

impl RecordView<'_> {
    /// An owned copy.
    pub(crate) fn to_record(self) -> Record {
        let mut headers = Vec::with_capacity(self.header_count);
        let mut cursor = Cursor::new(self.headers);
        // The headers were checked when the view was made.
        let _ = walk_headers(&mut cursor, self.header_count, |name, value| {
            headers.push(Header {
                key: String::from_utf8_lossy(name).into_owned(),
                value: value.map(<[u8]>::to_vec),
            });
        });
        Record {
            offset: self.offset,
            timestamp: self.timestamp,
            key: self.key.map(<[u8]>::to_vec),
            value: self.value.map(<[u8]>::to_vec),
            headers,
        }
    }
}

/// Calls `visit` for every record of one batch whose CRC has already been checked,
/// decompressing the records section if the codec says so.
///
/// Checks that the records fill the batch exactly, that there are as many as the
/// header says and no more than its offsets allow, and that offsets increase and
/// stay within the batch's range. (A batch as a producer sent it has offset deltas
/// 0, 1, 2...; one the cleaner rebuilt may skip some.)
pub(crate) fn for_each_record(
    batch: &[u8],
    header: &BatchHeader,
    mut visit: impl FnMut(RecordView<'_>) -> Result<(), BatchError>,
) -> Result<(), BatchError> {
    if header.record_count > header.last_offset_delta.saturating_add(1) {
        return Err(BatchError::BadRecordCount(
            i32::try_from(header.record_count).unwrap_or(i32::MAX),
        ));
    }
    let stored = batch.get(HEADER_SIZE..).ok_or(BatchError::Truncated {
        needed: HEADER_SIZE,
        available: batch.len(),
    })?;
    if header.record_count == 0 {
        if !stored.is_empty() {
            return Err(BatchError::BadRecord("an empty batch holds bytes"));
        }
        return Ok(());
    }
    let body: Cow<'_, [u8]> = match header.compression()? {
        Compression::None => Cow::Borrowed(stored),
        codec => Cow::Owned(compression::decompress(
            codec,
            stored,
            MAX_DECOMPRESSED_BYTES,
        )?),
    };
    let mut cursor = Cursor::new(&body);
    let mut next_delta = 0u64;
    for _ in 0..header.record_count {
        let view = decode_record(&mut cursor, header)?;
        let delta = view.offset - header.base_offset;
        if delta < next_delta || delta > u64::from(header.last_offset_delta) {
            return Err(BatchError::BadRecord(
                "record offsets do not increase within the batch",
            ));
        }
        next_delta = delta + 1;
        visit(view)?;
    }
    if cursor.remaining() != 0 {
        return Err(BatchError::BadRecord("bytes left after the last record"));
    }
    Ok(())
}

/// Decodes the records of one batch whose CRC has already been checked (see
/// `for_each_record` for what is checked).
pub fn decode_records(batch: &[u8]) -> Result<Vec<Record>, BatchError> {
    let header = BatchHeader::parse(batch)?;
    // Each record takes at least 7 bytes, so the count cannot ask for more room than
    // the bytes that are really there.
    let room = batch.len().saturating_sub(HEADER_SIZE) / 7;
    let mut records = Vec::with_capacity((header.record_count as usize).min(room));
    for_each_record(batch, &header, |view| {
        records.push(view.to_record());
        Ok(())
    })?;
    Ok(records)
}

/// Why a record could not be decoded: `Copy`, so the decoding loop carries no drop
/// glue; turned into a `BatchError` once, at the end.
#[derive(Debug, Clone, Copy)]
enum Malformed {
    Record(&'static str),
    Offset,
}

impl From<Malformed> for BatchError {
    fn from(malformed: Malformed) -> Self {
        match malformed {
            Malformed::Record(why) => BatchError::BadRecord(why),
            Malformed::Offset => BatchError::BadOffset,
        }
    }
}

const TRUNCATED_RECORD: Malformed = Malformed::Record("a record is truncated or malformed");
const TRUNCATED_FIELD: Malformed = Malformed::Record("a key, value or header is truncated");

#[inline]
fn decode_record<'a>(
    cursor: &mut Cursor<'a>,
    header: &BatchHeader,
) -> Result<RecordView<'a>, BatchError> {
    parse_record(cursor, header).map_err(BatchError::from)
}

#[inline]
fn parse_record<'a>(
    cursor: &mut Cursor<'a>,
    header: &BatchHeader,
) -> Result<RecordView<'a>, Malformed> {
    let length = cursor.varint().map_err(|_| TRUNCATED_RECORD)?;
    let length = usize::try_from(length).map_err(|_| Malformed::Record("negative length"))?;
    let body = cursor.take(length).map_err(|_| TRUNCATED_RECORD)?;
    let mut fields = Cursor::new(body);
    let _attributes = fields.u8().map_err(|_| TRUNCATED_RECORD)?;
    let timestamp_delta = fields.varlong().map_err(|_| TRUNCATED_RECORD)?;
    let offset_delta = fields.varint().map_err(|_| TRUNCATED_RECORD)?;
    let offset_delta =
        u64::try_from(offset_delta).map_err(|_| Malformed::Record("negative offset delta"))?;
    let key = nullable_bytes(&mut fields)?;
    let value = nullable_bytes(&mut fields)?;
    let header_count = fields.varint().map_err(|_| TRUNCATED_RECORD)?;
    let header_count =
        usize::try_from(header_count).map_err(|_| Malformed::Record("negative header count"))?;
    let header_bytes = fields.rest();
    if header_count > 0 {
        walk_headers(&mut fields, header_count, |_, _| {})?;
    }
    if fields.remaining() != 0 {
        return Err(Malformed::Record("a record is longer than its fields"));
    }
    let timestamp = if header.log_append_time() {
        header.max_timestamp
    } else {
        header.base_timestamp.wrapping_add(timestamp_delta)
    };
    Ok(RecordView {
        offset: header
            .base_offset
            .checked_add(offset_delta)
            .ok_or(Malformed::Offset)?,
        timestamp,
        key,
        value,
        headers: header_bytes,
        header_count,
    })
}

/// Walks `count` headers, checking each (a UTF-8 name that is not null).
fn walk_headers<'a>(
    cursor: &mut Cursor<'a>,
    count: usize,
    mut visit: impl FnMut(&'a [u8], Option<&'a [u8]>),
) -> Result<(), Malformed> {
    for _ in 0..count {
        let name = nullable_bytes(cursor)?.ok_or(Malformed::Record("a header name is null"))?;
        if std::str::from_utf8(name).is_err() {
            return Err(Malformed::Record("a header name is not UTF-8"));
        }
        let value = nullable_bytes(cursor)?;
        visit(name, value);
    }
    Ok(())
}

#[inline]
fn nullable_bytes<'a>(cursor: &mut Cursor<'a>) -> Result<Option<&'a [u8]>, Malformed> {
    let length = cursor.varint().map_err(|_| TRUNCATED_FIELD)?;
    if length < 0 {
        return Ok(None);
    }
    Ok(Some(
        cursor.take(length as usize).map_err(|_| TRUNCATED_FIELD)?,
    ))
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// A record with any key, value, timestamp and a few headers.
    pub(crate) fn arbitrary_record() -> impl Strategy<Value = NewRecord> {
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
