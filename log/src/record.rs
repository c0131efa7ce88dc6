//! Records inside a batch (Kafka's Record v2: zig-zag varint lengths, offset and
//! timestamp deltas, key, value, headers): the record types, a walker that checks
//! records in place without copying them, and the decoder readers use to get
//! records back out. The encoder is `encoder.rs`.
//!
//! It must never allocate for a length it read before the bytes are there, and never
//! return a record from a batch whose CRC has not been checked. Offsets within a
//! batch must always increase.

use crate::batch::{BatchHeader, Compression, HEADER_SIZE};
use crate::compression::{self, MAX_DECOMPRESSED_BYTES};
use crate::cursor::Cursor;
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

/// A record to append whose fields are borrowed: the log copies its bytes once, into
/// the batch it encodes, so a caller holding them in any buffer (a `bytes::Bytes`
/// frame, a decoded request) copies nothing to append them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The key; `None` is Kafka's null key.
    pub key: Option<&'a [u8]>,
    /// The value; `None` is a tombstone.
    pub value: Option<&'a [u8]>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Record headers.
    pub headers: &'a [HeaderRef<'a>],
}

impl<'a> RecordRef<'a> {
    /// A record with a value, an optional key and no headers.
    pub fn new(key: Option<&'a [u8]>, value: &'a [u8], timestamp: i64) -> Self {
        RecordRef {
            key,
            value: Some(value),
            timestamp,
            headers: &[],
        }
    }
}

/// One header of a `RecordRef`, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRef<'a> {
    /// The header's name.
    pub key: &'a str,
    /// The header's value; `None` is Kafka's null.
    pub value: Option<&'a [u8]>,
}

/// A record the log can encode into a batch, its fields borrowed from wherever the
/// caller keeps them ([`NewRecord`], [`RecordRef`], or a type of the caller's own).
pub trait AppendRecord {
    /// The key; `None` is Kafka's null key.
    fn key(&self) -> Option<&[u8]>;
    /// The value; `None` is a tombstone.
    fn value(&self) -> Option<&[u8]>;
    /// Milliseconds since the Unix epoch.
    fn timestamp(&self) -> i64;
    /// How many headers the record has.
    fn header_count(&self) -> usize;
    /// Header `index` (from 0): its name and value; `None` past the last.
    fn header(&self, index: usize) -> Option<(&[u8], Option<&[u8]>)>;
}

impl AppendRecord for NewRecord {
    fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }
    fn value(&self) -> Option<&[u8]> {
        self.value.as_deref()
    }
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn header_count(&self) -> usize {
        self.headers.len()
    }
    fn header(&self, index: usize) -> Option<(&[u8], Option<&[u8]>)> {
        let header = self.headers.get(index)?;
        Some((header.key.as_bytes(), header.value.as_deref()))
    }
}

impl AppendRecord for RecordRef<'_> {
    fn key(&self) -> Option<&[u8]> {
        self.key
    }
    fn value(&self) -> Option<&[u8]> {
        self.value
    }
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn header_count(&self) -> usize {
        self.headers.len()
    }
    fn header(&self, index: usize) -> Option<(&[u8], Option<&[u8]>)> {
        let header = self.headers.get(index)?;
        Some((header.key.as_bytes(), header.value))
    }
}

impl AppendRecord for Record {
    fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }
    fn value(&self) -> Option<&[u8]> {
        self.value.as_deref()
    }
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn header_count(&self) -> usize {
        self.headers.len()
    }
    fn header(&self, index: usize) -> Option<(&[u8], Option<&[u8]>)> {
        let header = self.headers.get(index)?;
        Some((header.key.as_bytes(), header.value.as_deref()))
    }
}

/// The bytes of a record's key, value and headers.
pub(crate) fn payload_size(record: &impl AppendRecord) -> u64 {
    let field = |bytes: Option<&[u8]>| bytes.map_or(0, |bytes| bytes.len() as u64);
    let headers: u64 = (0..record.header_count())
        .filter_map(|index| record.header(index))
        .map(|(key, value)| key.len() as u64 + field(value))
        .sum();
    field(record.key()) + field(record.value()) + headers
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
    use crate::batch;
    use crate::encoder::encode_batch;
    use proptest::prelude::*;

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
