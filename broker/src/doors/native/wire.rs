//! The bytes every native message shares: the 16-byte prefix of frame 0 (magic,
//! version, flags, command, error code, correlation id), a big-endian reader that
//! cannot read past its frame, and a cursor over the frames after the header.
//!
//! `broker/docs/protocol.md` ("Every message") is the layout. This module must never
//! index a slice, trust a length it was sent, or allocate for one.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{ErrorCode, Fault};

/// The first two bytes of every header frame: `SN`.
pub const MAGIC: [u8; 2] = *b"SN";
/// The protocol version this codec speaks.
pub const VERSION: u8 = 1;
/// Size of the prefix every header frame starts with, in every version.
pub const PREFIX_SIZE: usize = 16;
/// Flags bit 0: the message is a response.
pub const FLAG_RESPONSE: u8 = 0x01;

/// The fields of the 16-byte prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prefix {
    pub version: u8,
    pub flags: u8,
    pub command: u16,
    pub error_code: u16,
    pub correlation_id: u64,
}

impl Prefix {
    /// Reads the prefix of a header frame: refuses a frame too short to hold one or
    /// one that does not start with the magic.
    pub fn read(header: &[u8]) -> Result<Prefix, Fault> {
        let mut reader = Reader::new(header);
        let too_short = || {
            Fault::malformed(format!(
                "the header frame is {} bytes; its prefix alone is {PREFIX_SIZE}",
                header.len()
            ))
        };
        let magic = reader.array::<2>().map_err(|_| too_short())?;
        if magic != MAGIC {
            return Err(Fault::malformed(format!(
                "the header frame starts with {:02x} {:02x}, not the magic 53 4e (\"SN\")",
                magic[0], magic[1]
            )));
        }
        if header.len() < PREFIX_SIZE {
            return Err(too_short());
        }
        Ok(Prefix {
            version: reader.u8()?,
            flags: reader.u8()?,
            command: reader.u16()?,
            error_code: reader.u16()?,
            correlation_id: reader.u64()?,
        })
    }

    /// Writes the prefix into a new header buffer of `size` bytes' capacity.
    pub fn write(&self, size: usize) -> BytesMut {
        let mut out = BytesMut::with_capacity(size);
        out.put_slice(&MAGIC);
        out.put_u8(self.version);
        out.put_u8(self.flags);
        out.put_u16(self.command);
        out.put_u16(self.error_code);
        out.put_u64(self.correlation_id);
        out
    }
}

/// A big-endian reader over one frame; every read past the end is a `Malformed`
/// fault, never a panic.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// A reader after the prefix of a header frame that must be exactly `size`
    /// bytes long (`what` names the message in the fault).
    pub fn header(header: &'a [u8], size: usize, what: &str) -> Result<Self, Fault> {
        if header.len() != size {
            return Err(Fault::malformed(format!(
                "the {what} header frame is {} bytes; it must be {size}",
                header.len()
            )));
        }
        let rest = header.get(PREFIX_SIZE..).unwrap_or_default();
        Ok(Reader { rest })
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The next `N` bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or_else(|| Fault::malformed("a field runs past the end of its frame"))?;
        self.rest = tail;
        Ok(*head)
    }

    /// The next `count` bytes, as a slice.
    pub fn slice(&mut self, count: usize) -> Result<&'a [u8], Fault> {
        if count > self.rest.len() {
            return Err(Fault::malformed(format!(
                "a field of {count} bytes runs past the end of its frame ({} left)",
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(count);
        self.rest = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, Fault> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub fn u16(&mut self) -> Result<u16, Fault> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, Fault> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, Fault> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub fn i16(&mut self) -> Result<i16, Fault> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32, Fault> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> Result<i64, Fault> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// Skips `count` reserved bytes, which must be zero.
    pub fn reserved(&mut self, count: usize) -> Result<(), Fault> {
        let bytes = self.slice(count)?;
        if bytes.iter().any(|&byte| byte != 0) {
            return Err(Fault::malformed("a reserved byte is not 0"));
        }
        Ok(())
    }
}

/// The frames after the header, taken in order; a missing or extra frame is a
/// `Malformed` fault.
#[derive(Debug)]
pub(crate) struct Frames<'a> {
    rest: std::slice::Iter<'a, Bytes>,
    what: &'static str,
}

impl<'a> Frames<'a> {
    /// The frames after frame 0 of a `what` message.
    pub fn after_header(frames: &'a [Bytes], what: &'static str) -> Self {
        Frames {
            rest: frames.get(1..).unwrap_or_default().iter(),
            what,
        }
    }

    /// The next frame, which must be there (`name` says which, for the fault).
    pub fn next(&mut self, name: &str) -> Result<&'a Bytes, Fault> {
        self.rest.next().ok_or_else(|| {
            Fault::malformed(format!(
                "the {} message ends before its {name} frame",
                self.what
            ))
        })
    }

    /// How many frames are left.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The frames left, all of them.
    pub fn rest(&mut self) -> &'a [Bytes] {
        let rest = self.rest.as_slice();
        self.rest = Default::default();
        rest
    }

    /// Checks that no frame is left.
    pub fn finish(self) -> Result<(), Fault> {
        match self.rest.len() {
            0 => Ok(()),
            extra => Err(Fault::malformed(format!(
                "the {} message has {extra} frame(s) more than it should",
                self.what
            ))),
        }
    }
}

/// Checks a value that must fit Kafka's signed 64-bit offsets.
pub(crate) fn offset(value: u64, name: &str) -> Result<u64, Fault> {
    if value > i64::MAX as u64 {
        return Err(Fault::new(
            ErrorCode::InvalidArgument,
            format!("{name} {value} is above 2^63-1"),
        ));
    }
    Ok(value)
}

/// Checks a partition index: below 2^31, as Kafka's partitions are `int32`.
pub(crate) fn partition(value: u32) -> Result<u32, Fault> {
    if value > i32::MAX as u32 {
        return Err(Fault::new(
            ErrorCode::InvalidArgument,
            format!("partition {value} is above 2^31-1"),
        ));
    }
    Ok(value)
}

/// Reads an optional limit: -1 is none, anything else must be 0 or more.
pub(crate) fn optional_limit(value: i64, name: &str) -> Result<Option<u64>, Fault> {
    match value {
        -1 => Ok(None),
        value => u64::try_from(value).map(Some).map_err(|_| {
            Fault::new(
                ErrorCode::InvalidArgument,
                format!("{name} is {value}; it must be -1 (none) or 0 or more"),
            )
        }),
    }
}

/// Writes an optional limit: `None` as -1, values above 2^63-1 as 2^63-1.
pub(crate) fn put_optional_limit(out: &mut BytesMut, value: Option<u64>) {
    let value = value.map_or(-1, |value| i64::try_from(value).unwrap_or(i64::MAX));
    out.put_i64(value);
}
