//! A bounds-checked reader over a byte slice (big-endian integers and Kafka's
//! zig-zag varints) and `Field`, a varint encoded in a register for the encoder.
//!
//! Everything a file or a producer sent is read through here. It must never panic
//! and never read past the end of its slice: a short input is an error.

/// Why a read ran out of bytes or found an impossible value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CursorError {
    /// The input ended before the field did.
    Truncated,
    /// A varint was longer than its type allows.
    VarintTooLong,
}

/// A position in a byte slice that only moves forward.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, position: 0 }
    }

    /// How many bytes are left.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    /// Every byte not yet read (the position does not move).
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.position..).unwrap_or_default()
    }

    /// The next `length` bytes.
    #[inline]
    pub(crate) fn take(&mut self, length: usize) -> Result<&'a [u8], CursorError> {
        let end = self
            .position
            .checked_add(length)
            .ok_or(CursorError::Truncated)?;
        let taken = self
            .bytes
            .get(self.position..end)
            .ok_or(CursorError::Truncated)?;
        self.position = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CursorError> {
        let taken = self.take(N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(taken);
        Ok(array)
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, CursorError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn i8(&mut self) -> Result<i8, CursorError> {
        Ok(i8::from_be_bytes(self.array()?))
    }

    pub(crate) fn i16(&mut self) -> Result<i16, CursorError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, CursorError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, CursorError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, CursorError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// An unsigned LEB128 integer of at most `max_bytes` bytes.
    #[inline]
    fn unsigned_varint(&mut self, max_bytes: u32) -> Result<u64, CursorError> {
        // Most lengths and deltas fit in one byte.
        if let Some(&byte) = self.bytes.get(self.position)
            && byte < 0x80
        {
            self.position += 1;
            return Ok(u64::from(byte));
        }
        let mut value: u64 = 0;
        for index in 0..max_bytes {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(CursorError::VarintTooLong)
    }

    /// A zig-zag varint (Kafka's `varint`, at most 5 bytes).
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<i32, CursorError> {
        let raw = self.unsigned_varint(5)?;
        let raw = u32::try_from(raw).map_err(|_| CursorError::VarintTooLong)?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    /// A zig-zag varlong (Kafka's `varlong`, at most 10 bytes).
    #[inline]
    pub(crate) fn varlong(&mut self) -> Result<i64, CursorError> {
        let raw = self.unsigned_varint(10)?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }
}

/// Appends a zig-zag varint (Kafka's `varint`); tests build batches by hand with it.
#[cfg(test)]
pub(crate) fn put_varint(out: &mut Vec<u8>, value: i32) {
    let zigzag = ((value << 1) ^ (value >> 31)) as u32;
    put_unsigned(out, u64::from(zigzag));
}

/// Appends a zig-zag varlong (Kafka's `varlong`).
#[cfg(test)]
pub(crate) fn put_varlong(out: &mut Vec<u8>, value: i64) {
    let zigzag = ((value << 1) ^ (value >> 63)) as u64;
    put_unsigned(out, zigzag);
}

#[cfg(test)]
fn put_unsigned(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A small field already encoded in a register: a varint of at most eight bytes,
/// or one raw byte, with its length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    word: u64,
    length: u32,
}

impl Field {
    /// An unsigned LEB128 integer, if it takes at most eight bytes (below 2^56).
    #[inline(always)]
    fn unsigned(value: u64) -> Option<Field> {
        if value < 1 << 7 {
            return Some(Field {
                word: value,
                length: 1,
            });
        }
        if value < 1 << 14 {
            return Some(Field {
                word: (value & 0x7f) | 0x80 | (value >> 7) << 8,
                length: 2,
            });
        }
        if value >= 1 << 56 {
            return None;
        }
        let (mut word, mut length, mut rest) = (0u64, 0u32, value);
        while rest >= 0x80 {
            word |= ((rest & 0x7f) | 0x80) << (8 * length);
            rest >>= 7;
            length += 1;
        }
        Some(Field {
            word: word | rest << (8 * length),
            length: length + 1,
        })
    }

    /// A zig-zag varint (Kafka's `varint`; at most five bytes, so it always fits).
    #[inline(always)]
    pub(crate) fn varint(value: i32) -> Field {
        let zigzag = u64::from(((value << 1) ^ (value >> 31)) as u32);
        Field::unsigned(zigzag).unwrap_or(Field { word: 0, length: 1 })
    }

    /// A zig-zag varlong (Kafka's `varlong`), if it takes at most eight bytes.
    #[inline(always)]
    pub(crate) fn varlong(value: i64) -> Option<Field> {
        Field::unsigned(((value << 1) ^ (value >> 63)) as u64)
    }

    /// One raw byte.
    #[inline(always)]
    pub(crate) fn byte(byte: u8) -> Field {
        Field {
            word: u64::from(byte),
            length: 1,
        }
    }

    /// How many bytes the field takes.
    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        self.length as usize
    }

    /// This field followed by `next`, as one field; only whole when the two take at
    /// most eight bytes (`len` says how many they take).
    #[inline(always)]
    pub(crate) fn then(self, next: Field) -> Field {
        Field {
            word: self.word | next.word.wrapping_shl(8 * self.length),
            length: self.length + next.length,
        }
    }

    /// The field's bytes, first byte lowest, with zeros past its length.
    #[inline(always)]
    pub(crate) fn word(self) -> u64 {
        self.word
    }
}

/// How many bytes `put_varint` writes for `value`.
#[inline]
pub(crate) fn varint_size(value: i32) -> usize {
    let zigzag = ((value << 1) ^ (value >> 31)) as u32;
    unsigned_size(u64::from(zigzag))
}

/// How many bytes `put_varlong` writes for `value`.
#[inline]
pub(crate) fn varlong_size(value: i64) -> usize {
    let zigzag = ((value << 1) ^ (value >> 63)) as u64;
    unsigned_size(zigzag)
}

#[inline]
fn unsigned_size(value: u64) -> usize {
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zigzag_vectors_match_kafka() {
        // From Kafka's ByteUtilsTest: 0 -> 00, -1 -> 01, 1 -> 02, -2 -> 03, 63 -> 7e,
        // -64 -> 7f, 64 -> 80 01.
        let cases: [(i32, &[u8]); 7] = [
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (-2, &[0x03]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out, bytes, "encoding {value}");
            assert_eq!(Cursor::new(bytes).varint(), Ok(value));
            assert_eq!(varint_size(value), bytes.len());
        }
    }

    #[test]
    fn short_and_overlong_input_are_errors() {
        assert_eq!(Cursor::new(&[0x80]).varint(), Err(CursorError::Truncated));
        assert_eq!(
            Cursor::new(&[0xff; 6]).varint(),
            Err(CursorError::VarintTooLong)
        );
        assert_eq!(Cursor::new(&[1, 2, 3]).i32(), Err(CursorError::Truncated));
        assert_eq!(Cursor::new(&[]).take(1), Err(CursorError::Truncated));
    }

    proptest! {
        #[test]
        fn fields_hold_what_the_writers_write(value: i32, long: i64, byte: u8) {
            let field_bytes = |field: Field| field.word().to_le_bytes()[..field.len()].to_vec();
            let mut expected = Vec::new();
            put_varint(&mut expected, value);
            prop_assert_eq!(field_bytes(Field::varint(value)), expected);
            prop_assert_eq!(Field::varint(value).len(), varint_size(value));
            let mut expected = Vec::new();
            put_varlong(&mut expected, long);
            match Field::varlong(long) {
                Some(field) => {
                    prop_assert_eq!(field.len(), varlong_size(long));
                    prop_assert_eq!(field_bytes(field), expected);
                }
                None => prop_assert!(varlong_size(long) > 8),
            }
            prop_assert_eq!(field_bytes(Field::byte(byte)), vec![byte]);
        }

        #[test]
        fn varints_round_trip(value: i32, long: i64) {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            put_varlong(&mut out, long);
            prop_assert_eq!(out.len(), varint_size(value) + varlong_size(long));
            let mut cursor = Cursor::new(&out);
            prop_assert_eq!(cursor.varint(), Ok(value));
            prop_assert_eq!(cursor.varlong(), Ok(long));
            prop_assert_eq!(cursor.remaining(), 0);
        }
    }
}
