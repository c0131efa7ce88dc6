//! Decoded records as frames: the record table (one fixed-size entry per record),
//! then three frames per record (key, value, headers), for PRODUCE requests and
//! FETCH responses in records mode; and the headers frame's own small layout.
//!
//! Keys and values stay `Bytes` of the frames they came in. This module must never
//! copy a key or a value, allocate for a count it was sent (tables are counted by
//! their length, and the frames must be there), or let a null and an empty field
//! be confused.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{ErrorCode, Fault};
use super::wire::{Frames, Reader};

/// Bytes per record in a PRODUCE record table: timestamp, flags, 7 reserved.
pub const PRODUCE_ENTRY_SIZE: usize = 16;
/// Bytes per record in a FETCH record table: offset, timestamp, flags, 7 reserved.
pub const FETCH_ENTRY_SIZE: usize = 24;
/// Record flags bit 0: the key is null (its frame is empty).
const KEY_NULL: u8 = 0x01;
/// Record flags bit 1: the value is null, a tombstone (its frame is empty).
const VALUE_NULL: u8 = 0x02;

/// Why a record header cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidHeader {
    /// The name is not UTF-8.
    #[error("a header name is not UTF-8")]
    NameNotUtf8,
    /// The name is longer than 65535 bytes.
    #[error("a header name is {0} bytes; at most 65535")]
    NameTooLong(usize),
    /// The value is longer than 2^31-1 bytes.
    #[error("a header value is {0} bytes; at most 2^31-1")]
    ValueTooLong(usize),
}

/// One record header: a UTF-8 name and a value that may be null.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    name: Bytes,
    value: Option<Bytes>,
}

impl RecordHeader {
    /// A header, checked: a UTF-8 name of at most 65535 bytes, a value of at most
    /// 2^31-1 bytes.
    pub fn new(name: impl Into<Bytes>, value: Option<Bytes>) -> Result<Self, InvalidHeader> {
        let name = name.into();
        if std::str::from_utf8(&name).is_err() {
            return Err(InvalidHeader::NameNotUtf8);
        }
        if name.len() > usize::from(u16::MAX) {
            return Err(InvalidHeader::NameTooLong(name.len()));
        }
        if let Some(value) = &value
            && i32::try_from(value.len()).is_err()
        {
            return Err(InvalidHeader::ValueTooLong(value.len()));
        }
        Ok(RecordHeader { name, value })
    }

    /// The name.
    pub fn name(&self) -> &str {
        // Checked UTF-8 when made.
        std::str::from_utf8(&self.name).unwrap_or_default()
    }

    /// The value; `None` is Kafka's null.
    pub fn value(&self) -> Option<&Bytes> {
        self.value.as_ref()
    }
}

/// A record to produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceRecord {
    /// Milliseconds since the Unix epoch; -1 asks the broker to stamp it when it
    /// appends the record.
    pub timestamp: i64,
    /// The key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// The value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// The record's headers.
    pub headers: Vec<RecordHeader>,
}

/// A record a FETCH returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedRecord {
    /// The record's offset.
    pub offset: u64,
    /// Milliseconds since the Unix epoch, as stored.
    pub timestamp: i64,
    /// The key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// The value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// The record's headers.
    pub headers: Vec<RecordHeader>,
}

/// Reads a PRODUCE record table and the three frames per record after it, which
/// must be all the frames left.
pub(crate) fn decode_produce_records(
    table: &Bytes,
    frames: &mut Frames<'_>,
) -> Result<Vec<ProduceRecord>, Fault> {
    let count = table_count(table, PRODUCE_ENTRY_SIZE, frames)?;
    let mut reader = Reader::new(table);
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let timestamp = reader.i64()?;
        if timestamp < -1 {
            return Err(Fault::new(
                ErrorCode::InvalidArgument,
                format!("a record's timestamp is {timestamp}; it must be -1 or 0 or more"),
            ));
        }
        let flags = record_flags(&mut reader)?;
        let (key, value, headers) = record_frames(flags, frames)?;
        records.push(ProduceRecord {
            timestamp,
            key,
            value,
            headers,
        });
    }
    Ok(records)
}

/// Writes a PRODUCE record table and each record's three frames.
pub(crate) fn encode_produce_records(records: &[ProduceRecord], out: &mut Vec<Bytes>) {
    let mut table = BytesMut::with_capacity(records.len() * PRODUCE_ENTRY_SIZE);
    for record in records {
        table.put_i64(record.timestamp);
        put_flags(&mut table, record.key.is_none(), record.value.is_none());
    }
    out.push(table.freeze());
    for record in records {
        push_record_frames(out, &record.key, &record.value, &record.headers);
    }
}

/// Reads a FETCH record table and the three frames per record after it, which
/// must be all the frames left.
pub(crate) fn decode_fetched_records(
    table: &Bytes,
    frames: &mut Frames<'_>,
) -> Result<Vec<FetchedRecord>, Fault> {
    let count = table_count(table, FETCH_ENTRY_SIZE, frames)?;
    let mut reader = Reader::new(table);
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let offset = reader.u64()?;
        let timestamp = reader.i64()?;
        let flags = record_flags(&mut reader)?;
        let (key, value, headers) = record_frames(flags, frames)?;
        records.push(FetchedRecord {
            offset,
            timestamp,
            key,
            value,
            headers,
        });
    }
    Ok(records)
}

/// Writes a FETCH record table and each record's three frames.
pub(crate) fn encode_fetched_records(records: &[FetchedRecord], out: &mut Vec<Bytes>) {
    let mut table = BytesMut::with_capacity(records.len() * FETCH_ENTRY_SIZE);
    for record in records {
        table.put_u64(record.offset);
        table.put_i64(record.timestamp);
        put_flags(&mut table, record.key.is_none(), record.value.is_none());
    }
    out.push(table.freeze());
    for record in records {
        push_record_frames(out, &record.key, &record.value, &record.headers);
    }
}

/// How many entries a table holds, after checking that its length is a multiple of
/// `entry` and that exactly three frames per entry follow it.
fn table_count(table: &Bytes, entry: usize, frames: &Frames<'_>) -> Result<usize, Fault> {
    if !table.len().is_multiple_of(entry) {
        return Err(Fault::malformed(format!(
            "the record table is {} bytes, not a multiple of {entry}",
            table.len()
        )));
    }
    let count = table.len() / entry;
    if count.checked_mul(3) != Some(frames.remaining()) {
        return Err(Fault::malformed(format!(
            "the record table lists {count} record(s), so {} frames must follow it; {} do",
            count.saturating_mul(3),
            frames.remaining()
        )));
    }
    Ok(count)
}

/// Reads an entry's flags byte and its 7 reserved bytes.
fn record_flags(reader: &mut Reader<'_>) -> Result<u8, Fault> {
    let flags = reader.u8()?;
    if flags & !(KEY_NULL | VALUE_NULL) != 0 {
        return Err(Fault::malformed(format!(
            "record flags {flags:#04x} set a reserved bit"
        )));
    }
    reader.reserved(7)?;
    Ok(flags)
}

fn put_flags(table: &mut BytesMut, key_null: bool, value_null: bool) {
    let mut flags = 0;
    if key_null {
        flags |= KEY_NULL;
    }
    if value_null {
        flags |= VALUE_NULL;
    }
    table.put_u8(flags);
    table.put_bytes(0, 7);
}

type RecordFields = (Option<Bytes>, Option<Bytes>, Vec<RecordHeader>);

/// Takes one record's key, value and headers frames.
fn record_frames(flags: u8, frames: &mut Frames<'_>) -> Result<RecordFields, Fault> {
    let key = nullable(flags & KEY_NULL != 0, frames.next("key")?, "key")?;
    let value = nullable(flags & VALUE_NULL != 0, frames.next("value")?, "value")?;
    let headers = decode_headers(frames.next("headers")?)?;
    Ok((key, value, headers))
}

fn nullable(null: bool, frame: &Bytes, what: &str) -> Result<Option<Bytes>, Fault> {
    match (null, frame.is_empty()) {
        (false, _) => Ok(Some(frame.clone())),
        (true, true) => Ok(None),
        (true, false) => Err(Fault::malformed(format!(
            "a record's {what} is flagged null but its frame holds {} bytes",
            frame.len()
        ))),
    }
}

fn push_record_frames(
    out: &mut Vec<Bytes>,
    key: &Option<Bytes>,
    value: &Option<Bytes>,
    headers: &[RecordHeader],
) {
    out.push(key.clone().unwrap_or_default());
    out.push(value.clone().unwrap_or_default());
    out.push(encode_headers(headers));
}

/// Reads a headers frame: entries of `u16` name length, name (UTF-8), `i32` value
/// length (-1: null), value, back to back to the end of the frame.
pub(crate) fn decode_headers(frame: &Bytes) -> Result<Vec<RecordHeader>, Fault> {
    let mut reader = Reader::new(frame);
    let mut headers = Vec::new();
    while reader.remaining() > 0 {
        let start = frame.len() - reader.remaining();
        let name_length = usize::from(reader.u16()?);
        let name = reader.slice(name_length)?;
        if std::str::from_utf8(name).is_err() {
            return Err(Fault::malformed("a header name is not UTF-8"));
        }
        let name = frame.slice(start + 2..start + 2 + name_length);
        let value = match reader.i32()? {
            -1 => None,
            length => {
                let length = usize::try_from(length)
                    .map_err(|_| Fault::malformed(format!("a header value length is {length}")))?;
                let value_start = frame.len() - reader.remaining();
                reader.slice(length)?;
                Some(frame.slice(value_start..value_start + length))
            }
        };
        headers.push(RecordHeader { name, value });
    }
    Ok(headers)
}

/// Writes a headers frame (empty for no headers).
pub(crate) fn encode_headers(headers: &[RecordHeader]) -> Bytes {
    if headers.is_empty() {
        return Bytes::new();
    }
    let size = headers
        .iter()
        .map(|header| 6 + header.name.len() + header.value.as_ref().map_or(0, Bytes::len))
        .sum();
    let mut out = BytesMut::with_capacity(size);
    for header in headers {
        // Lengths were checked when the header was made.
        out.put_u16(u16::try_from(header.name.len()).unwrap_or(u16::MAX));
        out.put_slice(&header.name);
        match &header.value {
            None => out.put_i32(-1),
            Some(value) => {
                out.put_i32(i32::try_from(value.len()).unwrap_or(i32::MAX));
                out.put_slice(value);
            }
        }
    }
    out.freeze()
}
