//! A bounds-checked cursor over bytes a peer sent.
//!
//! Every read returns `None` when the bytes run out, so parsing code turns a short
//! input into a protocol error instead of a panic. It must never index a slice
//! directly and never allocate.

/// A cursor that reads big-endian integers and byte runs from a slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// The next `count` bytes, or `None` if fewer remain.
    pub(crate) fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if count > self.rest.len() {
            return None;
        }
        let (head, tail) = self.rest.split_at(count);
        self.rest = tail;
        Some(head)
    }

    /// The next byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&first, tail) = self.rest.split_first()?;
        self.rest = tail;
        Some(first)
    }

    /// The next two bytes as a big-endian integer.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let bytes = self.take(2)?;
        Some(u16::from_be_bytes(bytes.try_into().ok()?))
    }

    /// The next four bytes as a big-endian integer.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        let bytes = self.take(4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    }

    /// The next eight bytes as a big-endian integer.
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.array()?))
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// Every byte not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// Whether every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// How many bytes remain.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_integers_big_endian_and_stops_at_the_end() {
        let mut reader = Reader::new(&[1, 0x02, 0x03, 0, 0, 1, 0, 9]);
        assert_eq!(reader.u8(), Some(1));
        assert_eq!(reader.u16(), Some(0x0203));
        assert_eq!(reader.u32(), Some(256));
        assert_eq!(reader.remaining(), 1);
        assert_eq!(reader.u16(), None);
        assert_eq!(reader.take(2), None);
        assert_eq!(reader.take(1), Some(&[9][..]));
        assert!(reader.is_empty());
        assert_eq!(reader.u8(), None);
        let mut reader = Reader::new(&[0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]);
        assert_eq!(reader.u64(), Some(258));
        assert_eq!(reader.array::<2>(), Some([3, 4]));
        assert_eq!(reader.array::<2>(), None);
        assert_eq!(reader.rest(), &[5]);
        assert!(reader.is_empty());
    }
}
