//! Framing: every Kafka request and response is a 4-byte big-endian size, then
//! that many bytes.
//!
//! [`split_frame`] takes one whole request off the front of a connection's read
//! buffer, or says more bytes are needed, or refuses a size over the limit before
//! a byte of it is buffered or allocated. It must never wait on a socket or grow
//! the buffer itself.

use bytes::{Buf, Bytes, BytesMut};
use thiserror::Error;

/// Bytes of the size prefix.
pub const SIZE_PREFIX: usize = 4;

/// Kafka's default `socket.request.max.bytes`: the largest request accepted.
pub const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

/// Why a frame was refused; the door closes the connection, as Kafka does.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The size prefix is negative.
    #[error("a request's size prefix is negative ({0})")]
    NegativeSize(i32),
    /// The size prefix is over the limit.
    #[error("a request of {size} bytes is over the limit of {limit}")]
    TooLarge {
        /// The size it announced.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// Takes the first whole frame (without its size prefix) off `buffer`.
///
/// `Ok(None)` while the frame is incomplete: the caller reads more and calls
/// again (it may reserve [`needed`] bytes, already checked against the limit).
/// A frame of size 0 is returned empty; the request decoder refuses it.
pub fn split_frame(buffer: &mut BytesMut, limit: usize) -> Result<Option<Bytes>, FrameError> {
    let Some(size) = announced_size(buffer, limit)? else {
        return Ok(None);
    };
    if buffer.len() < SIZE_PREFIX + size {
        return Ok(None);
    }
    buffer.advance(SIZE_PREFIX);
    Ok(Some(buffer.split_to(size).freeze()))
}

/// How many bytes `buffer` must hold for its first frame to be whole (size prefix
/// included), once the prefix is there; checked against `limit`.
pub fn needed(buffer: &[u8], limit: usize) -> Result<Option<usize>, FrameError> {
    Ok(announced_size(buffer, limit)?.map(|size| SIZE_PREFIX + size))
}

fn announced_size(buffer: &[u8], limit: usize) -> Result<Option<usize>, FrameError> {
    let Some(prefix) = buffer.first_chunk::<SIZE_PREFIX>() else {
        return Ok(None);
    };
    let size = i32::from_be_bytes(*prefix);
    let size = usize::try_from(size).map_err(|_| FrameError::NegativeSize(size))?;
    if size > limit {
        return Err(FrameError::TooLarge { size, limit });
    }
    Ok(Some(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_frame_waits_and_a_whole_one_is_split_off() {
        let mut buffer = BytesMut::from(&[0, 0, 0, 3, 1, 2][..]);
        assert_eq!(split_frame(&mut buffer, 10), Ok(None));
        assert_eq!(needed(&buffer, 10), Ok(Some(7)));
        buffer.extend_from_slice(&[3, 0, 0]);
        assert_eq!(
            split_frame(&mut buffer, 10),
            Ok(Some(Bytes::from_static(&[1, 2, 3])))
        );
        assert_eq!(&buffer[..], &[0, 0]);
        assert_eq!(split_frame(&mut buffer, 10), Ok(None));
    }

    #[test]
    fn a_size_over_the_limit_is_refused_before_its_bytes_arrive() {
        // 2 GiB - 1: Kafka's largest possible size prefix.
        let mut buffer = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert_eq!(
            split_frame(&mut buffer, MAX_REQUEST_BYTES),
            Err(FrameError::TooLarge {
                size: 0x7fff_ffff,
                limit: MAX_REQUEST_BYTES
            })
        );
        let mut buffer = BytesMut::from(&[0x80, 0, 0, 0][..]);
        assert_eq!(
            split_frame(&mut buffer, MAX_REQUEST_BYTES),
            Err(FrameError::NegativeSize(i32::MIN))
        );
    }

    #[test]
    fn an_empty_frame_is_a_frame() {
        let mut buffer = BytesMut::from(&[0, 0, 0, 0][..]);
        assert_eq!(split_frame(&mut buffer, 10), Ok(Some(Bytes::new())));
        assert!(buffer.is_empty());
    }
}
