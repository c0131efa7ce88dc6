//! Kafka's primitive types, read: a reader over one message's bytes (a request
//! the door serves, or a response its clients read), told whether the message
//! version is flexible (compact strings and arrays, tagged fields) or not.
//!
//! The reader never indexes a slice, never trusts a length before checking it
//! against the bytes actually left, and never reserves memory for a count it was
//! sent: arrays grow with the elements actually read. Since a decoded element
//! can be much larger than its encoding (an empty compact string is 1 byte and a
//! 24-byte `String`; an empty flexible Fetch topic 3 bytes and 48), one request
//! may hold at most [`MAX_ELEMENTS`] array elements in all, which bounds what it
//! costs (about 100 bytes an element) whatever its size. Byte fields (a batch of records) are
//! `Bytes` slices of the request: shared, never copied.

use bytes::{Buf, Bytes};
use thiserror::Error;

use super::error_code::ErrorCode;

/// Most array elements one request may hold, all arrays together: far more than
/// a client sends (a consumer fetching 10,000 partitions sends about 10,000),
/// far fewer than a 100 MiB request of empty elements could announce.
pub const MAX_ELEMENTS: usize = 1 << 18;

/// Most elements an array reserves room for before reading them.
const INITIAL_ELEMENTS: usize = 64;

/// Why a message's bytes could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The bytes ended inside a field.
    #[error("the message ends inside {0}")]
    Truncated(&'static str),
    /// A length or count is negative (other than a nullable field's -1) or larger
    /// than the bytes left.
    #[error("{what} has length {length}, but {left} bytes are left")]
    BadLength {
        /// The field.
        what: &'static str,
        /// The length or count it was sent.
        length: i64,
        /// The bytes left after it.
        left: usize,
    },
    /// A varint runs past its longest encoding.
    #[error("a varint is longer than {0} bytes")]
    VarintTooLong(usize),
    /// The message's arrays together hold more than [`MAX_ELEMENTS`].
    #[error("the message's arrays hold more than {0} elements")]
    TooManyElements(usize),
    /// A non-nullable field was sent as null.
    #[error("{0} is null")]
    UnexpectedNull(&'static str),
    /// A string is not UTF-8.
    #[error("{0} is not UTF-8")]
    InvalidUtf8(&'static str),
    /// Bytes are left after the last field.
    #[error("{0} bytes are left after the message's last field")]
    TrailingBytes(usize),
    /// The codec reads no response of this API, or not at this version.
    #[error("no response decoder for api key {api_key} version {version}")]
    NoDecoder {
        /// Kafka's api key.
        api_key: i16,
        /// The version asked for.
        version: i16,
    },
}

/// Reads primitives from the front of one request's bytes.
#[derive(Debug)]
pub struct Reader {
    bytes: Bytes,
    flexible: bool,
    elements_left: usize,
}

impl Reader {
    /// A reader over `bytes`, for a flexible version or not.
    pub fn new(bytes: Bytes, flexible: bool) -> Reader {
        Reader {
            bytes,
            flexible,
            elements_left: MAX_ELEMENTS,
        }
    }

    /// Whether the message version is flexible.
    pub fn flexible(&self) -> bool {
        self.flexible
    }

    /// Switches between the non-flexible request header and a flexible body.
    pub fn set_flexible(&mut self, flexible: bool) {
        self.flexible = flexible;
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Refuses bytes left after the last field.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.bytes.len() {
            0 => Ok(()),
            left => Err(DecodeError::TrailingBytes(left)),
        }
    }

    fn need(&self, count: usize, what: &'static str) -> Result<(), DecodeError> {
        if self.bytes.len() < count {
            return Err(DecodeError::Truncated(what));
        }
        Ok(())
    }

    /// An `int8`.
    pub fn i8(&mut self, what: &'static str) -> Result<i8, DecodeError> {
        self.need(1, what)?;
        Ok(self.bytes.get_i8())
    }

    /// A `boolean` (any non-zero byte is true, as Kafka reads it).
    pub fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        Ok(self.i8(what)? != 0)
    }

    /// An `int16`.
    pub fn i16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        self.need(2, what)?;
        Ok(self.bytes.get_i16())
    }

    /// An `int32`.
    pub fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.need(4, what)?;
        Ok(self.bytes.get_i32())
    }

    /// An `int64`.
    pub fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.need(8, what)?;
        Ok(self.bytes.get_i64())
    }

    /// An error code: an `int16`. A number [`ErrorCode`] does not name (a
    /// newer broker's) reads as [`ErrorCode::UnknownServerError`].
    pub fn error_code(&mut self, what: &'static str) -> Result<ErrorCode, DecodeError> {
        let number = self.i16(what)?;
        Ok(ErrorCode::from_number(number).unwrap_or(ErrorCode::UnknownServerError))
    }

    /// A `uuid`: 16 bytes.
    pub fn uuid(&mut self, what: &'static str) -> Result<[u8; 16], DecodeError> {
        self.need(16, what)?;
        let mut uuid = [0; 16];
        self.bytes.copy_to_slice(&mut uuid);
        Ok(uuid)
    }

    /// An `unsigned_varint`: at most 5 bytes, 32 bits.
    pub fn unsigned_varint(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let value = self.unsigned_varlong(what, 5)?;
        u32::try_from(value).map_err(|_| DecodeError::VarintTooLong(5))
    }

    fn unsigned_varlong(&mut self, what: &'static str, longest: usize) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for index in 0..longest {
            self.need(1, what)?;
            let byte = self.bytes.get_u8();
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintTooLong(longest))
    }

    /// A `varint`: zigzag-encoded signed 32 bits.
    pub fn varint(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        let raw = self.unsigned_varint(what)?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    /// A `varlong`: zigzag-encoded signed 64 bits, at most 10 bytes.
    pub fn varlong(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        let raw = self.unsigned_varlong(what, 10)?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// A length: `int16`/`int32` on non-flexible versions, unsigned varint plus
    /// one on flexible ones. `None` is null (-1, or 0 when compact).
    fn length(&mut self, what: &'static str, wide: bool) -> Result<Option<usize>, DecodeError> {
        let length = if self.flexible {
            i64::from(self.unsigned_varint(what)?) - 1
        } else if wide {
            i64::from(self.i32(what)?)
        } else {
            i64::from(self.i16(what)?)
        };
        if length == -1 {
            return Ok(None);
        }
        let left = self.bytes.len();
        match usize::try_from(length) {
            Ok(length) if length <= left => Ok(Some(length)),
            _ => Err(DecodeError::BadLength { what, length, left }),
        }
    }

    /// A `nullable_string` (compact on flexible versions).
    pub fn nullable_string(&mut self, what: &'static str) -> Result<Option<String>, DecodeError> {
        let Some(length) = self.length(what, false)? else {
            return Ok(None);
        };
        let raw = self.bytes.split_to(length);
        String::from_utf8(raw.to_vec())
            .map(Some)
            .map_err(|_| DecodeError::InvalidUtf8(what))
    }

    /// A `string` (compact on flexible versions); null is refused.
    pub fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        self.nullable_string(what)?
            .ok_or(DecodeError::UnexpectedNull(what))
    }

    /// A non-compact `nullable_string`, whatever the version: the request header's
    /// client id is one even in header v2.
    pub fn legacy_nullable_string(
        &mut self,
        what: &'static str,
    ) -> Result<Option<String>, DecodeError> {
        let flexible = std::mem::replace(&mut self.flexible, false);
        let string = self.nullable_string(what);
        self.flexible = flexible;
        string
    }

    /// `nullable_bytes` or `records` (compact on flexible versions): a slice of the
    /// request, not a copy.
    pub fn nullable_bytes(&mut self, what: &'static str) -> Result<Option<Bytes>, DecodeError> {
        Ok(self
            .length(what, true)?
            .map(|length| self.bytes.split_to(length)))
    }

    /// `bytes` (compact on flexible versions); null is refused.
    pub fn bytes(&mut self, what: &'static str) -> Result<Bytes, DecodeError> {
        self.nullable_bytes(what)?
            .ok_or(DecodeError::UnexpectedNull(what))
    }

    /// A nullable array: its count (`int32`, or compact), checked against the bytes
    /// left at `smallest` bytes an element, then each element read by `element`.
    pub fn nullable_array<T>(
        &mut self,
        what: &'static str,
        smallest: usize,
        mut element: impl FnMut(&mut Reader) -> Result<T, DecodeError>,
    ) -> Result<Option<Vec<T>>, DecodeError> {
        let count = if self.flexible {
            i64::from(self.unsigned_varint(what)?) - 1
        } else {
            i64::from(self.i32(what)?)
        };
        if count == -1 {
            return Ok(None);
        }
        let left = self.bytes.len();
        let count = match usize::try_from(count) {
            Ok(count) if count.saturating_mul(smallest.max(1)) <= left => count,
            _ => {
                return Err(DecodeError::BadLength {
                    what,
                    length: count,
                    left,
                });
            }
        };
        self.elements_left = self
            .elements_left
            .checked_sub(count)
            .ok_or(DecodeError::TooManyElements(MAX_ELEMENTS))?;
        // Grown by elements actually read, each at least `smallest` bytes: a
        // count alone never reserves memory beyond a small first block.
        let mut elements = Vec::with_capacity(count.min(INITIAL_ELEMENTS));
        for _ in 0..count {
            elements.push(element(self)?);
        }
        Ok(Some(elements))
    }

    /// An array; null is refused.
    pub fn array<T>(
        &mut self,
        what: &'static str,
        smallest: usize,
        element: impl FnMut(&mut Reader) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        self.nullable_array(what, smallest, element)?
            .ok_or(DecodeError::UnexpectedNull(what))
    }

    /// The tagged fields that end a structure on flexible versions, skipped: this
    /// codec reads none of the requests' tagged fields. Nothing on other versions.
    pub fn tagged_fields(&mut self) -> Result<(), DecodeError> {
        if !self.flexible {
            return Ok(());
        }
        let count = self.unsigned_varint("the tagged field count")?;
        for _ in 0..count {
            self.unsigned_varint("a tag")?;
            let size = self.unsigned_varint("a tagged field's size")?;
            let left = self.bytes.len();
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            if size > left {
                return Err(DecodeError::BadLength {
                    what: "a tagged field",
                    length: i64::from(size as u32),
                    left,
                });
            }
            self.bytes.advance(size);
        }
        Ok(())
    }
}
