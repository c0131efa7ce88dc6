//! The consumer protocol's primitives: a reader over one message's bytes and a
//! writer, for its non-flexible encoding (`int16` string lengths, `int32` array
//! counts and byte lengths, -1 for null).
//!
//! The reader never panics, never trusts a length or count before checking it
//! against the bytes actually left, never reserves room for more than
//! `INITIAL_ELEMENTS` names before reading them, and charges every name against
//! the message's [`MAX_ELEMENTS`]. The writer refuses what its length prefixes
//! cannot hold.

use super::consumer_protocol::{ConsumerProtocolError, MAX_ELEMENTS, TopicPartitions};
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Most elements an array of names reserves room for before reading them.
const INITIAL_ELEMENTS: usize = 64;

/// Reads the consumer protocol's primitives from the front of one message.
#[derive(Debug)]
pub(super) struct Reader {
    bytes: Bytes,
    elements_left: usize,
}

impl Reader {
    /// A reader over one message's bytes.
    pub(super) fn new(bytes: Bytes) -> Reader {
        Reader {
            bytes,
            elements_left: MAX_ELEMENTS,
        }
    }

    fn need(&self, count: usize, what: &'static str) -> Result<(), ConsumerProtocolError> {
        if self.bytes.len() < count {
            return Err(ConsumerProtocolError::Truncated(what));
        }
        Ok(())
    }

    /// The message's version: an `int16`, refused below 0.
    pub(super) fn version(&mut self) -> Result<i16, ConsumerProtocolError> {
        self.need(2, "version")?;
        let version = self.bytes.get_i16();
        if version < 0 {
            return Err(ConsumerProtocolError::UnsupportedVersion(version));
        }
        Ok(version)
    }

    /// An `int32`.
    pub(super) fn i32(&mut self, what: &'static str) -> Result<i32, ConsumerProtocolError> {
        self.need(4, what)?;
        Ok(self.bytes.get_i32())
    }

    /// A length of -1 as `None`, else a length the bytes left can hold when each
    /// counted item takes at least `least` bytes.
    fn length(
        &mut self,
        length: i64,
        least: usize,
        nullable: bool,
        what: &'static str,
    ) -> Result<Option<usize>, ConsumerProtocolError> {
        if length == -1 && nullable {
            return Ok(None);
        }
        let left = self.bytes.len();
        match usize::try_from(length) {
            Ok(count) if count.saturating_mul(least) <= left => Ok(Some(count)),
            _ => Err(ConsumerProtocolError::BadLength { what, length, left }),
        }
    }

    /// A nullable string.
    pub(super) fn nullable_string(
        &mut self,
        what: &'static str,
    ) -> Result<Option<String>, ConsumerProtocolError> {
        self.need(2, what)?;
        let length = i64::from(self.bytes.get_i16());
        let Some(length) = self.length(length, 1, true, what)? else {
            return Ok(None);
        };
        let bytes = self.bytes.split_to(length);
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| ConsumerProtocolError::InvalidUtf8(what))
    }

    fn string(&mut self, what: &'static str) -> Result<String, ConsumerProtocolError> {
        self.need(2, what)?;
        let length = i64::from(self.bytes.get_i16());
        let length = self.length(length, 1, false, what)?.unwrap_or_default();
        let bytes = self.bytes.split_to(length);
        String::from_utf8(bytes.to_vec()).map_err(|_| ConsumerProtocolError::InvalidUtf8(what))
    }

    /// Nullable bytes: a slice of the message, not a copy.
    pub(super) fn nullable_bytes(
        &mut self,
        what: &'static str,
    ) -> Result<Option<Bytes>, ConsumerProtocolError> {
        self.need(4, what)?;
        let length = i64::from(self.bytes.get_i32());
        let Some(length) = self.length(length, 1, true, what)? else {
            return Ok(None);
        };
        Ok(Some(self.bytes.split_to(length)))
    }

    /// An array count whose elements take at least `least` bytes each, charged
    /// against the message's [`MAX_ELEMENTS`] when `names` (its elements are
    /// larger decoded than encoded).
    fn count(
        &mut self,
        least: usize,
        names: bool,
        what: &'static str,
    ) -> Result<usize, ConsumerProtocolError> {
        self.need(4, what)?;
        let length = i64::from(self.bytes.get_i32());
        let count = self.length(length, least, false, what)?.unwrap_or_default();
        if names {
            self.elements_left = self
                .elements_left
                .checked_sub(count)
                .ok_or(ConsumerProtocolError::TooManyElements(MAX_ELEMENTS))?;
        }
        Ok(count)
    }

    /// An array of strings.
    pub(super) fn strings(
        &mut self,
        what: &'static str,
    ) -> Result<Vec<String>, ConsumerProtocolError> {
        let count = self.count(2, true, what)?;
        let mut strings = Vec::with_capacity(count.min(INITIAL_ELEMENTS));
        for _ in 0..count {
            strings.push(self.string(what)?);
        }
        Ok(strings)
    }

    /// An array of topics, each with an array of partitions.
    pub(super) fn topic_partitions(
        &mut self,
        what: &'static str,
    ) -> Result<Vec<TopicPartitions>, ConsumerProtocolError> {
        let count = self.count(6, true, what)?;
        let mut topics = Vec::with_capacity(count.min(INITIAL_ELEMENTS));
        for _ in 0..count {
            let topic = self.string(what)?;
            // Four bytes a partition: the count was checked against the bytes left.
            let partitions = self.count(4, false, what)?;
            let partitions = (0..partitions).map(|_| self.bytes.get_i32()).collect();
            topics.push(TopicPartitions { topic, partitions });
        }
        Ok(topics)
    }
}

/// Writes the consumer protocol's primitives.
#[derive(Debug, Default)]
pub(super) struct Writer {
    bytes: BytesMut,
}

impl Writer {
    /// The bytes written.
    pub(super) fn finish(self) -> Bytes {
        self.bytes.freeze()
    }

    /// An `int16`.
    pub(super) fn i16(&mut self, value: i16) {
        self.bytes.put_i16(value);
    }

    /// An `int32`.
    pub(super) fn i32(&mut self, value: i32) {
        self.bytes.put_i32(value);
    }

    fn count(&mut self, count: usize, what: &'static str) -> Result<(), ConsumerProtocolError> {
        let count = i32::try_from(count).map_err(|_| ConsumerProtocolError::TooLong(what))?;
        self.bytes.put_i32(count);
        Ok(())
    }

    fn string(&mut self, value: &str, what: &'static str) -> Result<(), ConsumerProtocolError> {
        let length =
            i16::try_from(value.len()).map_err(|_| ConsumerProtocolError::TooLong(what))?;
        self.bytes.put_i16(length);
        self.bytes.put_slice(value.as_bytes());
        Ok(())
    }

    /// A nullable string (refused beyond 32,767 bytes).
    pub(super) fn nullable_string(
        &mut self,
        value: Option<&str>,
        what: &'static str,
    ) -> Result<(), ConsumerProtocolError> {
        match value {
            Some(value) => self.string(value, what),
            None => {
                self.bytes.put_i16(-1);
                Ok(())
            }
        }
    }

    /// Nullable bytes.
    pub(super) fn nullable_bytes(
        &mut self,
        value: Option<&Bytes>,
        what: &'static str,
    ) -> Result<(), ConsumerProtocolError> {
        match value {
            Some(value) => {
                self.count(value.len(), what)?;
                self.bytes.put_slice(value);
            }
            None => self.bytes.put_i32(-1),
        }
        Ok(())
    }

    /// An array of strings.
    pub(super) fn strings(
        &mut self,
        values: &[String],
        what: &'static str,
    ) -> Result<(), ConsumerProtocolError> {
        self.count(values.len(), what)?;
        values.iter().try_for_each(|value| self.string(value, what))
    }

    /// An array of topics, each with an array of partitions.
    pub(super) fn topic_partitions(
        &mut self,
        values: &[TopicPartitions],
        what: &'static str,
    ) -> Result<(), ConsumerProtocolError> {
        self.count(values.len(), what)?;
        for value in values {
            self.string(&value.topic, what)?;
            self.count(value.partitions.len(), what)?;
            value
                .partitions
                .iter()
                .for_each(|&partition| self.i32(partition));
        }
        Ok(())
    }
}
