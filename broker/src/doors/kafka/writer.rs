//! Kafka's primitive types, written: one response's bytes as a list of chunks,
//! for a flexible version (compact strings and arrays, tagged fields) or not.
//!
//! The writer never copies a record batch: it ends its current chunk and keeps
//! the batch's `Bytes` as a chunk of its own. It never panics.

use bytes::{BufMut, Bytes, BytesMut};

/// Writes one response: a list of chunks, record batches kept as their own
/// `Bytes`, so a fetched batch is never copied into the response.
#[derive(Debug)]
pub struct Writer {
    chunks: Vec<Bytes>,
    current: BytesMut,
    flexible: bool,
}

impl Writer {
    /// A writer for a flexible version or not.
    pub fn new(flexible: bool) -> Writer {
        Writer {
            chunks: Vec::new(),
            current: BytesMut::with_capacity(256),
            flexible,
        }
    }

    /// Whether the message version is flexible.
    pub fn flexible(&self) -> bool {
        self.flexible
    }

    /// Switches between a response header and a flexible body.
    pub fn set_flexible(&mut self, flexible: bool) {
        self.flexible = flexible;
    }

    /// The chunks written, in order.
    pub fn into_chunks(mut self) -> Vec<Bytes> {
        if !self.current.is_empty() {
            self.chunks.push(self.current.freeze());
        }
        self.chunks
    }

    /// The chunks written, after a first chunk holding their total size: one
    /// whole frame.
    pub fn into_framed_chunks(self) -> Vec<Bytes> {
        let mut chunks = self.into_chunks();
        let size: usize = chunks.iter().map(Bytes::len).sum();
        let mut prefix = BytesMut::with_capacity(4);
        prefix.put_i32(i32::try_from(size).unwrap_or(i32::MAX));
        chunks.insert(0, prefix.freeze());
        chunks
    }

    /// An `int8`.
    pub fn i8(&mut self, value: i8) {
        self.current.put_i8(value);
    }

    /// A `boolean`.
    pub fn bool(&mut self, value: bool) {
        self.current.put_u8(u8::from(value));
    }

    /// An `int16`.
    pub fn i16(&mut self, value: i16) {
        self.current.put_i16(value);
    }

    /// An `int32`.
    pub fn i32(&mut self, value: i32) {
        self.current.put_i32(value);
    }

    /// An `int64`.
    pub fn i64(&mut self, value: i64) {
        self.current.put_i64(value);
    }

    /// A `uuid`.
    pub fn uuid(&mut self, value: &[u8; 16]) {
        self.current.put_slice(value);
    }

    /// An `unsigned_varint` (or varlong: the same encoding, wider).
    pub fn unsigned_varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.current.put_u8((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.current.put_u8(value as u8);
    }

    /// A zigzag `varint`.
    pub fn varint(&mut self, value: i32) {
        self.unsigned_varint(u64::from(((value << 1) ^ (value >> 31)) as u32));
    }

    /// A zigzag `varlong`.
    pub fn varlong(&mut self, value: i64) {
        self.unsigned_varint(((value << 1) ^ (value >> 63)) as u64);
    }

    /// A length or count, `None` for null; `wide` picks `int32` over `int16` on
    /// non-flexible versions. Lengths past the type's range are written as its
    /// maximum: the caller's data never comes near them (topic names are at most
    /// 249 bytes, responses at most the frame limit).
    fn length(&mut self, length: Option<usize>, wide: bool) {
        match (self.flexible, length) {
            (true, None) => self.unsigned_varint(0),
            (true, Some(length)) => self.unsigned_varint(length as u64 + 1),
            (false, None) if wide => self.i32(-1),
            (false, None) => self.i16(-1),
            (false, Some(length)) if wide => self.i32(i32::try_from(length).unwrap_or(i32::MAX)),
            (false, Some(length)) => self.i16(i16::try_from(length).unwrap_or(i16::MAX)),
        }
    }

    /// A `nullable_string`.
    pub fn nullable_string(&mut self, value: Option<&str>) {
        self.length(value.map(str::len), false);
        if let Some(value) = value {
            self.current.put_slice(value.as_bytes());
        }
    }

    /// A `string`.
    pub fn string(&mut self, value: &str) {
        self.nullable_string(Some(value));
    }

    /// A non-compact `nullable_string`, whatever the version.
    pub fn legacy_nullable_string(&mut self, value: Option<&str>) {
        let flexible = std::mem::replace(&mut self.flexible, false);
        self.nullable_string(value);
        self.flexible = flexible;
    }

    /// `nullable_bytes` or `records`: the bytes become a chunk of their own.
    pub fn nullable_bytes(&mut self, value: Option<&Bytes>) {
        self.length(value.map(Bytes::len), true);
        if let Some(value) = value {
            if value.len() < 64 {
                self.current.put_slice(value);
            } else {
                let done = std::mem::take(&mut self.current);
                self.chunks.push(done.freeze());
                self.chunks.push(value.clone());
            }
        }
    }

    /// `bytes`: as [`Writer::nullable_bytes`], never null.
    pub fn bytes(&mut self, value: &Bytes) {
        self.nullable_bytes(Some(value));
    }

    /// An array's count (`None` for null); the caller writes the elements.
    pub fn array_count(&mut self, count: Option<usize>) {
        self.length(count, true);
    }

    /// An array of `int32`.
    pub fn i32_array(&mut self, values: &[i32]) {
        self.array_count(Some(values.len()));
        for value in values {
            self.i32(*value);
        }
    }

    /// An empty tagged-field section on flexible versions; nothing otherwise.
    pub fn tagged_fields(&mut self) {
        if self.flexible {
            self.unsigned_varint(0);
        }
    }
}
