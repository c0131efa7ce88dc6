//! The encoder that builds record batches (Kafka's RecordBatch v2 holding Record v2
//! records) in any codec: for `Log::append`, for producers (`encode_batch`), and for
//! the cleaner, which rebuilds a batch with some of its records removed.
//!
//! The hot loop is short: records are written into a buffer whose bytes are
//! already initialized, on the chance that they fit (if not, once more after it
//! grows), each small field with one fixed eight-byte store, and the fields that
//! follow from a record's sizes are worked out only when they change from one
//! record to the next. It must never panic on any length it is given (a field too
//! long for a 31-bit length is `BatchError::RecordTooLarge`), and a rebuilt batch
//! must keep every record's offset.

use crate::batch::{
    self, BatchHeader, COMPRESSION_MASK, Compression, DELETE_HORIZON_FLAG, HEADER_SIZE, MAGIC,
    Producer,
};
use crate::compression;
use crate::cursor::{Field, varint_size, varlong_size};
use crate::error::BatchError;
use crate::record::{AppendRecord, NewRecord, Record, RecordRef};

/// How far past its start a store of one field reaches.
const FIELD_REACH: usize = 8;

/// The most a new buffer is given before the first try, on a guess from the first
/// record's size (a larger batch grows it on the second).
const MOST_GUESSED: usize = 1 << 20;

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
    let first = records.first();
    let mut out = new_buffer(
        records.len(),
        first.and_then(|first| first.key.as_deref()),
        first.and_then(|first| first.value.as_deref()),
    );
    let size = encode_batch_into(records, compression, None, &mut out)?;
    out.truncate(size);
    Ok(out)
}

/// Encodes batch after batch into one buffer it keeps, so that once the buffer is
/// large enough, encoding allocates nothing (what `Log::append` does on each
/// thread). The batches are as `encode_batch_with` makes them.
#[derive(Debug, Default)]
pub struct BatchEncoder {
    buffer: Vec<u8>,
}

impl BatchEncoder {
    /// An encoder with an empty buffer.
    pub const fn new() -> Self {
        BatchEncoder { buffer: Vec::new() }
    }

    /// Encodes `records` into one batch compressed with `compression`; the batch
    /// borrows the encoder's buffer until the next call.
    pub fn encode(
        &mut self,
        records: &[NewRecord],
        compression: Compression,
    ) -> Result<&[u8], BatchError> {
        self.encode_records(records, compression, None)
    }

    /// Encodes any records whose fields are borrowed (`RecordRef`, `NewRecord`, or
    /// a type of the caller's own) into one batch compressed with `compression`,
    /// with `producer`'s id, epoch and base sequence in its header (or -1 in each
    /// without one); the batch borrows the encoder's buffer until the next call.
    pub fn encode_records<R: AppendRecord>(
        &mut self,
        records: &[R],
        compression: Compression,
        producer: Option<Producer>,
    ) -> Result<&[u8], BatchError> {
        if let Some(producer) = &producer {
            producer.check()?;
        }
        let size = encode_batch_into(records, compression, producer, &mut self.buffer)?;
        self.buffer.get(..size).ok_or(BatchError::BadLength(-1))
    }

    /// How many bytes the buffer holds (its high-water mark).
    pub fn buffer_size(&self) -> usize {
        self.buffer.capacity()
    }
}

/// `encode_batch_with` into `out`, returning the batch's size: the batch is
/// `out[..size]`, and whatever follows it is left-over room. A caller that encodes
/// again and again keeps one buffer and, once it is large enough, allocates and
/// clears nothing.
fn encode_batch_into<R: AppendRecord>(
    records: &[R],
    compression: Compression,
    producer: Option<Producer>,
    out: &mut Vec<u8>,
) -> Result<usize, BatchError> {
    let first = records.first().ok_or(BatchError::BadRecordCount(0))?;
    let count = i32::try_from(records.len()).map_err(|_| BatchError::RecordTooLarge)?;
    let base_timestamp = first.timestamp();
    let mut plain = Vec::new();
    let (records_end, (_, max_timestamp)) = write_records(
        records_buffer(compression, out, &mut plain),
        records,
        (Layout::none(), base_timestamp),
        |(layout, max_timestamp), room, delta, record| {
            let timestamp = record.timestamp();
            *max_timestamp = timestamp.max(*max_timestamp);
            let timestamp_delta = timestamp.wrapping_sub(base_timestamp);
            if record.header_count() == 0 {
                let (key, value) = (record.key(), record.value());
                plain_record(room, layout, delta as i32, timestamp_delta, key, value)
            } else {
                any_record(room, delta as i32, timestamp_delta, record)
            }
        },
    )?;
    let header = BatchHeader {
        base_offset: 0,
        batch_length: 0,
        partition_leader_epoch: -1,
        crc: 0,
        attributes: compression.attribute_bits(),
        last_offset_delta: (count - 1) as u32,
        base_timestamp,
        max_timestamp,
        producer_id: producer.map_or(-1, |producer| producer.id),
        producer_epoch: producer.map_or(-1, |producer| producer.epoch),
        base_sequence: producer.map_or(-1, |producer| producer.base_sequence),
        record_count: count as u32,
    };
    finish_batch(&header, out, &plain, records_end)
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
    let (base_offset, last_offset) = (header.base_offset, header.last_offset());
    let first = records.first();
    let mut out = new_buffer(
        records.len(),
        first.and_then(|first| first.key.as_deref()),
        first.and_then(|first| first.value.as_deref()),
    );
    let mut plain = Vec::new();
    let (records_end, ()) = write_records(
        records_buffer(header.compression()?, &mut out, &mut plain),
        records,
        (),
        |(), room, _, record| {
            if record.offset < base_offset || record.offset > last_offset {
                return Err(BatchError::BadOffset);
            }
            any_record(
                room,
                (record.offset - base_offset) as i32,
                record.timestamp.wrapping_sub(header.base_timestamp),
                record,
            )
        },
    )?;
    let size = finish_batch(&header, &mut out, &plain, records_end)?;
    out.truncate(size);
    Ok(out)
}

/// A new buffer with room for a batch of `count` records if all were as large as
/// the first (at most `MOST_GUESSED`), so that it is seldom written twice.
fn new_buffer(count: usize, key: Option<&[u8]>, value: Option<&[u8]>) -> Vec<u8> {
    let payload = key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len);
    let records = count.saturating_mul(payload + 36).min(MOST_GUESSED);
    vec![0; HEADER_SIZE + records + FIELD_REACH]
}

/// Where the records go, and from where: right after the header in `out` when
/// they are not compressed, else at the start of `plain`, to be compressed.
fn records_buffer<'a>(
    codec: Compression,
    out: &'a mut Vec<u8>,
    plain: &'a mut Vec<u8>,
) -> (&'a mut Vec<u8>, usize) {
    match codec {
        Compression::None => (out, HEADER_SIZE),
        _ => (plain, 0),
    }
}

/// Writes one record per item from the position given on, and returns where the
/// records end, with the `state` that `write` kept from one record to the next (a
/// local of this loop, so it can stay in registers). The records are written on
/// the chance that they fit: if one did not, they are all written again, once,
/// after the buffer has grown to the size the first try came to.
fn write_records<T, S: Copy>(
    (buffer, start): (&mut Vec<u8>, usize),
    items: &[T],
    state: S,
    write: impl Fn(&mut S, &mut Room<'_>, usize, &T) -> Result<(), BatchError>,
) -> Result<(usize, S), BatchError> {
    for _ in 0..2 {
        let mut room = Room {
            bytes: buffer.as_mut_slice(),
            written: start,
            skipped: false,
        };
        let mut kept = state;
        for (index, item) in items.iter().enumerate() {
            write(&mut kept, &mut room, index, item)?;
        }
        if !room.skipped {
            return Ok((room.written, kept));
        }
        // Half as long again at least, so a buffer used again and again soon
        // stops growing. It never shrinks.
        let end = room
            .written
            .checked_add(FIELD_REACH)
            .ok_or(BatchError::RecordTooLarge)?;
        let length = buffer.len();
        buffer.resize(end.max(length.saturating_add(length / 2)), 0);
    }
    Err(BatchError::RecordTooLarge)
}

/// Puts the header in front of records written by `write_records` (in `out` up
/// to `records_end`, or in `plain`, which are compressed with the header's codec
/// first), then seals the batch's length and CRC. Returns the batch's size.
fn finish_batch(
    header: &BatchHeader,
    out: &mut Vec<u8>,
    plain: &[u8],
    records_end: usize,
) -> Result<usize, BatchError> {
    let header_bytes = header_bytes(header)?;
    let size = match header.compression()? {
        Compression::None => {
            if out.len() < HEADER_SIZE {
                out.resize(HEADER_SIZE, 0);
            }
            if let Some(front) = out.get_mut(..HEADER_SIZE) {
                front.copy_from_slice(&header_bytes);
            }
            // The records start right after the header.
            records_end
        }
        codec => {
            let records = plain.get(..records_end).ok_or(BatchError::RecordTooLarge)?;
            let compressed = compression::compress(codec, records)?;
            out.clear();
            out.extend_from_slice(&header_bytes);
            out.extend_from_slice(&compressed);
            out.len()
        }
    };
    batch::seal(out.get_mut(..size).ok_or(BatchError::RecordTooLarge)?)?;
    Ok(size)
}

/// A batch header's 61 bytes, with zeros where `batch::seal` puts the length and CRC.
fn header_bytes(header: &BatchHeader) -> Result<[u8; HEADER_SIZE], BatchError> {
    let base_offset = i64::try_from(header.base_offset).map_err(|_| BatchError::BadOffset)?;
    let last_offset_delta =
        i32::try_from(header.last_offset_delta).map_err(|_| BatchError::BadOffset)?;
    let count =
        i32::try_from(header.record_count).map_err(|_| BatchError::BadRecordCount(i32::MAX))?;
    let fields: [&[u8]; 13] = [
        &base_offset.to_be_bytes(),
        &0i32.to_be_bytes(), // batch length, sealed later
        &header.partition_leader_epoch.to_be_bytes(),
        &[MAGIC as u8],
        &0u32.to_be_bytes(), // CRC, sealed later
        &header.attributes.to_be_bytes(),
        &last_offset_delta.to_be_bytes(),
        &header.base_timestamp.to_be_bytes(),
        &header.max_timestamp.to_be_bytes(),
        &header.producer_id.to_be_bytes(),
        &header.producer_epoch.to_be_bytes(),
        &header.base_sequence.to_be_bytes(),
        &count.to_be_bytes(),
    ];
    let mut bytes = [0u8; HEADER_SIZE];
    let mut position = 0;
    for field in fields {
        let end = position + field.len();
        bytes
            .get_mut(position..end)
            .ok_or(BatchError::BadLength(-1))?
            .copy_from_slice(field);
        position = end;
    }
    Ok(bytes)
}

/// What a record without headers looks like but for its deltas' values: the
/// sizes of its key and value (`usize::MAX` for null) and of its two deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    key: usize,
    value: usize,
    timestamp: usize,
    delta: usize,
}

/// The fields that follow from a record's shape. The records of a batch are mostly
/// alike, so these are worked out again only when the shape changes.
#[derive(Debug, Clone, Copy)]
struct Layout {
    shape: Shape,
    /// The record's length and its attributes byte.
    head: Field,
    key: Field,
    value: Field,
}

impl Layout {
    /// A layout no record has (no delta takes zero bytes).
    fn none() -> Self {
        let nothing = Field::byte(0);
        Layout {
            shape: Shape {
                key: 0,
                value: 0,
                timestamp: 0,
                delta: 0,
            },
            head: nothing,
            key: nothing,
            value: nothing,
        }
    }

    fn of(shape: Shape) -> Result<Self, BatchError> {
        let field = |size: usize| -> Result<Field, BatchError> {
            match size {
                usize::MAX => Ok(Field::varint(-1)),
                size => Ok(Field::varint(check_length(size)?)),
            }
        };
        let (key, value) = (field(shape.key)?, field(shape.value)?);
        let payload = |size: usize| if size == usize::MAX { 0 } else { size };
        // The attributes byte, the fields, the key, the value and a header count of 0.
        let body_size = (payload(shape.key) as u64)
            + (payload(shape.value) as u64)
            + (1 + shape.timestamp + shape.delta + key.len() + value.len() + 1) as u64;
        let body = Field::varint(i32::try_from(body_size).map_err(|_| BatchError::RecordTooLarge)?);
        Ok(Layout {
            shape,
            head: body.then(Field::byte(0)),
            key,
            value,
        })
    }
}

/// A record without headers (the common case): the fields that follow from its
/// sizes come from `layout`, which is worked out again only if they differ from
/// the record before's, and the fields in front of the key usually go out in one
/// store.
#[inline(always)]
fn plain_record(
    room: &mut Room<'_>,
    layout: &mut Layout,
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Result<(), BatchError> {
    let Some(timestamp) = Field::varlong(timestamp_delta) else {
        let record = RecordRef {
            key,
            value,
            timestamp: 0,
            headers: &[],
        };
        return any_record(room, offset_delta, timestamp_delta, &record);
    };
    let delta = Field::varint(offset_delta);
    let shape = Shape {
        key: key.map_or(usize::MAX, <[u8]>::len),
        value: value.map_or(usize::MAX, <[u8]>::len),
        timestamp: timestamp.len(),
        delta: delta.len(),
    };
    if layout.shape != shape {
        *layout = Layout::of(shape)?;
    }
    let front = layout.head.then(timestamp).then(delta).then(layout.key);
    if front.len() <= FIELD_REACH {
        room.field(front);
    } else {
        room.field(layout.head);
        room.field(timestamp);
        room.field(delta);
        room.field(layout.key);
    }
    if let Some(key) = key {
        room.bytes(key);
    }
    room.field(layout.value);
    if let Some(value) = value {
        room.bytes(value);
    }
    room.field(Field::byte(0));
    Ok(())
}

/// Any record: headers, and timestamp deltas of nine or ten bytes.
fn any_record(
    room: &mut Room<'_>,
    offset_delta: i32,
    timestamp_delta: i64,
    record: &impl AppendRecord,
) -> Result<(), BatchError> {
    let (key, value) = (record.key(), record.value());
    let headers = || (0..record.header_count()).filter_map(|index| record.header(index));
    let header_count = check_length(headers().count())?;
    let mut body_size = 1
        + varlong_size(timestamp_delta)
        + varint_size(offset_delta)
        + nullable_size(key)?
        + nullable_size(value)?
        + varint_size(header_count);
    for (name, value) in headers() {
        body_size += nullable_size(Some(name))?;
        body_size += nullable_size(value)?;
    }
    room.field(Field::varint(check_length(body_size)?));
    room.field(Field::byte(0)); // record attributes: unused
    room.varlong(timestamp_delta);
    room.field(Field::varint(offset_delta));
    room.nullable(key);
    room.nullable(value);
    room.field(Field::varint(header_count));
    for (name, value) in headers() {
        room.nullable(Some(name));
        room.nullable(value);
    }
    Ok(())
}

/// A nullable field's declared length: -1 for null. Wraps past 31 bits (callers
/// check the record's whole length).
fn length_of(field: Option<&[u8]>) -> i32 {
    field.map_or(-1, |bytes| bytes.len() as i32)
}

fn check_length(length: usize) -> Result<i32, BatchError> {
    i32::try_from(length).map_err(|_| BatchError::RecordTooLarge)
}

/// How many bytes a nullable field takes with its length in front.
fn nullable_size(field: Option<&[u8]>) -> Result<usize, BatchError> {
    match field {
        Some(bytes) => Ok(varint_size(check_length(bytes.len())?) + bytes.len()),
        None => Ok(varint_size(-1)),
    }
}

/// Where a batch's records are written: a buffer whose bytes are already
/// initialized (what they hold does not matter) and the position of the next
/// byte. Each small field is one eight-byte store; the position then moves by the
/// field's length, and the next store overwrites the rest. A store that would not
/// fit is skipped, and noted, but the position moves all the same, so it ends
/// where the records would.
struct Room<'b> {
    bytes: &'b mut [u8],
    written: usize,
    /// Whether a store was skipped for want of room.
    skipped: bool,
}

impl Room<'_> {
    /// One field of at most eight bytes.
    #[inline(always)]
    fn field(&mut self, field: Field) {
        let start = self.written;
        match self.bytes.get_mut(start..start + FIELD_REACH) {
            Some(slot) => slot.copy_from_slice(&field.word().to_le_bytes()),
            None => self.skipped = true,
        }
        self.written = start + field.len();
    }

    /// Bytes as they are.
    #[inline(always)]
    fn bytes(&mut self, bytes: &[u8]) {
        let start = self.written;
        match self.bytes.get_mut(start..start + bytes.len()) {
            Some(slot) => slot.copy_from_slice(bytes),
            None => self.skipped = true,
        }
        self.written = start + bytes.len();
    }

    /// A nullable field: its length (-1 for null), then its bytes.
    fn nullable(&mut self, field: Option<&[u8]>) {
        self.field(Field::varint(length_of(field)));
        if let Some(bytes) = field {
            self.bytes(bytes);
        }
    }

    /// A zig-zag varlong of any length.
    fn varlong(&mut self, value: i64) {
        match Field::varlong(value) {
            Some(field) => self.field(field),
            None => {
                let mut rest = ((value << 1) ^ (value >> 63)) as u64;
                while rest >= 0x80 {
                    self.field(Field::byte((rest as u8 & 0x7f) | 0x80));
                    rest >>= 7;
                }
                self.field(Field::byte(rest as u8));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::arbitrary_record;
    use crate::record::{HeaderRef, decode_records};
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

    /// A record whose timestamp delta takes all ten bytes goes the long way.
    #[test]
    fn a_ten_byte_timestamp_delta_round_trips() {
        let records = [
            NewRecord::new(None, b"first".to_vec(), i64::MIN),
            NewRecord::new(Some(b"k".to_vec()), b"second".to_vec(), i64::MAX),
        ];
        let decoded = decode_records(&encode_batch(&records).expect("encodes")).expect("decodes");
        assert_eq!(decoded[0].timestamp, i64::MIN);
        assert_eq!(decoded[1].timestamp, i64::MAX);
        assert_eq!(decoded[1].value.as_deref(), Some(&b"second"[..]));
    }

    #[test]
    fn an_empty_batch_is_refused() {
        assert_eq!(encode_batch(&[]), Err(BatchError::BadRecordCount(0)));
    }

    /// A value far larger than the buffer held before: the first try runs out of
    /// room, the second fits.
    #[test]
    fn a_large_record_grows_the_buffer() {
        let mut encoder = BatchEncoder::new();
        let small = [NewRecord::new(None, vec![1; 10], 0)];
        encoder.encode(&small, Compression::None).expect("encodes");
        let large = [
            NewRecord::new(Some(b"k".to_vec()), vec![2; 1 << 20], 5),
            NewRecord::new(None, vec![3; 100], 6),
        ];
        let batch = encoder.encode(&large, Compression::None).expect("encodes");
        let decoded = decode_records(batch).expect("decodes");
        assert_eq!(decoded[0].value.as_deref(), Some(&vec![2; 1 << 20][..]));
        assert_eq!(decoded[1].value.as_deref(), Some(&vec![3; 100][..]));
        assert!(encoder.buffer_size() >= 1 << 20);
    }

    /// The producer's id, epoch and base sequence land in the header's fields, and
    /// fields no idempotent producer sends are refused.
    #[test]
    fn producer_fields_are_written_into_the_header() {
        let producer = Producer {
            id: 7,
            epoch: 3,
            base_sequence: 40,
        };
        let records = [
            RecordRef::new(None, b"a", 1),
            RecordRef::new(Some(b"k"), b"b", 2),
        ];
        let mut encoder = BatchEncoder::new();
        let batch = encoder
            .encode_records(&records, Compression::None, Some(producer))
            .expect("encodes")
            .to_vec();
        let header = batch::check(&batch).expect("a valid batch");
        assert_eq!(
            (
                header.producer_id,
                header.producer_epoch,
                header.base_sequence
            ),
            (7, 3, 40)
        );
        assert_eq!(header.producer(), Some(producer));
        assert_eq!(producer.last_sequence(header.record_count), 41);
        let none = encoder
            .encode_records(&records, Compression::None, None)
            .expect("encodes");
        assert_eq!(batch::check(none).expect("valid").producer(), None);
        let negative = Producer {
            base_sequence: -1,
            ..producer
        };
        assert!(matches!(
            encoder.encode_records(&records, Compression::None, Some(negative)),
            Err(BatchError::BadProducer { .. })
        ));
        // Sequences wrap from i32::MAX to 0.
        let wrapping = Producer {
            base_sequence: i32::MAX,
            ..producer
        };
        assert_eq!(wrapping.last_sequence(3), 1);
    }

    /// Records without headers, a few milliseconds apart, whose shapes change from
    /// one to the next: each must be laid out as itself, not as the one before.
    fn headerless_record() -> impl Strategy<Value = NewRecord> {
        (
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..150)),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
            0i64..20_000,
        )
            .prop_map(|(key, value, timestamp)| NewRecord {
                key,
                value,
                timestamp,
                headers: Vec::new(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn headerless_batches_round_trip(records in proptest::collection::vec(headerless_record(), 1..200)) {
            let decoded = decode_records(&encode_batch(&records).expect("encodes")).expect("decodes");
            prop_assert_eq!(decoded.len(), records.len());
            for (sent, got) in records.iter().zip(&decoded) {
                prop_assert_eq!(&got.key, &sent.key);
                prop_assert_eq!(&got.value, &sent.value);
                prop_assert_eq!(got.timestamp, sent.timestamp);
            }
        }

        /// Records borrowed (`RecordRef`) encode to the same bytes as the same
        /// records owned (`NewRecord`), headers and all.
        #[test]
        fn borrowed_records_encode_like_owned_ones(
            records in proptest::collection::vec(arbitrary_record(), 1..12),
        ) {
            let headers: Vec<Vec<HeaderRef<'_>>> = records
                .iter()
                .map(|record| {
                    record
                        .headers
                        .iter()
                        .map(|header| HeaderRef { key: &header.key, value: header.value.as_deref() })
                        .collect()
                })
                .collect();
            let borrowed: Vec<RecordRef<'_>> = records
                .iter()
                .zip(&headers)
                .map(|(record, headers)| RecordRef {
                    key: record.key.as_deref(),
                    value: record.value.as_deref(),
                    timestamp: record.timestamp,
                    headers,
                })
                .collect();
            let mut encoder = BatchEncoder::new();
            let from_borrowed = encoder
                .encode_records(&borrowed, Compression::None, None)
                .expect("encodes")
                .to_vec();
            prop_assert_eq!(from_borrowed, encode_batch(&records).expect("encodes"));
        }

        /// A buffer that held a larger batch before gives the same bytes as a new one.
        #[test]
        fn a_reused_buffer_encodes_the_same_bytes(
            earlier in proptest::collection::vec(arbitrary_record(), 1..12),
            records in proptest::collection::vec(arbitrary_record(), 1..12),
        ) {
            let mut buffer = Vec::new();
            encode_batch_into(&earlier, Compression::None, None, &mut buffer).expect("encodes");
            let size = encode_batch_into(&records, Compression::None, None, &mut buffer).expect("encodes");
            prop_assert_eq!(&buffer[..size], &encode_batch(&records).expect("encodes")[..]);
        }
    }
}
