//! `ReceiveBuffer`: where bytes from the peer land before they are decoded.
//!
//! The engine reads into `spare()` and reports how much arrived with `commit()`;
//! decoded frames are split off the front as `Bytes` that share the buffer, so small
//! frames are never copied. Memory is touched only as bytes arrive, one
//! `GROWTH_STEP` ahead at most; when an allocation fills up it is replaced by one
//! twice the size of what arrived, so a large frame moves O(log n) times and its
//! copying stays linear in its size (the reserved, untouched part is address
//! space, not resident memory). It never grows past `limit`. A large frame is read
//! into a buffer of its own instead (`frame_body`).
//! Growth is fallible, so a failed allocation is an error for this connection, not
//! an abort. This file must never touch memory for bytes that have not arrived
//! beyond one growth step, nor reserve more than twice what arrived plus a step.

use bytes::{Buf, Bytes, BytesMut};

/// The least a buffer grows by at once, and the size of a fresh read buffer.
pub const GROWTH_STEP: usize = 64 * 1024;

/// Memory the engine reads bytes from the peer into: the shared receive buffer,
/// or a large frame's own buffer (`frame_body`).
pub trait ReadRoom {
    /// How many received bytes it holds.
    fn received(&self) -> usize;

    /// Room for the next read (empty when it takes no more).
    fn spare(&mut self) -> Result<&mut [u8], AllocationFailed>;

    /// Records that `count` bytes were read into `spare()`.
    fn commit(&mut self, count: usize);

    /// Appends bytes by copying them in, as far as the room takes them (for
    /// tests and for moving a frame's start).
    fn extend_from_slice(&mut self, mut bytes: &[u8]) -> Result<(), AllocationFailed> {
        while !bytes.is_empty() {
            let spare = self.spare()?;
            if spare.is_empty() {
                break;
            }
            let count = spare.len().min(bytes.len());
            let (head, tail) = bytes.split_at(count);
            if let Some(target) = spare.get_mut(..count) {
                target.copy_from_slice(head);
            }
            self.commit(count);
            bytes = tail;
        }
        Ok(())
    }
}

/// Bytes received from the peer and not yet decoded, plus room for the next read.
#[derive(Debug, Default)]
pub struct ReceiveBuffer {
    /// Received bytes, then zeroed room for the next read (`bytes.len() >= filled`).
    bytes: BytesMut,
    /// How many bytes at the front were received.
    filled: usize,
    /// The most bytes this buffer may ever hold, if bounded.
    limit: Option<usize>,
    /// The most bytes the next read may take (until it is committed).
    read_cap: Option<usize>,
}

/// Memory for received bytes could not be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocationFailed;

impl ReceiveBuffer {
    /// An empty, unbounded buffer.
    pub fn new() -> ReceiveBuffer {
        ReceiveBuffer::default()
    }

    /// An empty buffer that will never hold more than `limit` bytes.
    pub fn with_limit(limit: usize) -> ReceiveBuffer {
        ReceiveBuffer {
            limit: Some(limit),
            ..ReceiveBuffer::default()
        }
    }

    /// The received bytes not yet consumed.
    pub fn data(&self) -> &[u8] {
        self.bytes.get(..self.filled).unwrap_or(&[])
    }

    /// How many received bytes are not yet consumed.
    pub fn len(&self) -> usize {
        self.filled
    }

    /// Whether no received bytes are waiting.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// Whether the buffer holds as many bytes as its limit allows.
    pub fn is_full(&self) -> bool {
        self.limit.is_some_and(|limit| self.filled >= limit)
    }

    /// Discards `count` bytes from the front.
    pub fn consume(&mut self, count: usize) {
        let count = count.min(self.filled);
        self.bytes.advance(count);
        self.filled -= count;
    }

    /// Splits `count` received bytes off the front, sharing the memory.
    pub fn split_to(&mut self, count: usize) -> BytesMut {
        let count = count.min(self.filled);
        self.filled -= count;
        self.bytes.split_to(count)
    }

    /// Limits the next read (until it is committed) to `count` bytes, so that
    /// what follows them can be read somewhere else (a large frame's body into its
    /// own buffer).
    pub fn cap_next_read(&mut self, count: usize) {
        self.read_cap = Some(count);
    }

    /// Takes every received byte, leaving the buffer empty.
    pub fn take(&mut self) -> BytesMut {
        let filled = self.filled;
        self.split_to(filled)
    }
}

impl ReadRoom for ReceiveBuffer {
    fn received(&self) -> usize {
        self.filled
    }

    /// Room for the next read: at most one step, zeroed only when needed, so the
    /// memory touched is what arrived plus one step. When the allocation is full
    /// it is replaced by one twice the size of what arrived (never past the limit);
    /// the untouched part of it costs address space, not resident memory. Empty
    /// when the buffer has reached its limit.
    fn spare(&mut self) -> Result<&mut [u8], AllocationFailed> {
        if self.filled == self.bytes.len() {
            let room = match self.limit {
                Some(limit) => limit.saturating_sub(self.filled),
                None => usize::MAX,
            };
            let step = GROWTH_STEP.min(room);
            if step > 0 {
                if !self.bytes.try_reclaim(step) {
                    // Doubling moves a large frame O(log n) times, so copying stays
                    // linear in its size.
                    let capacity = self
                        .filled
                        .saturating_add(self.filled.max(GROWTH_STEP).min(room));
                    self.bytes = allocate(self.data(), capacity)?;
                }
                self.bytes.resize(self.filled + step, 0);
            }
        }
        let end = match self.read_cap {
            Some(cap) => self.bytes.len().min(self.filled.saturating_add(cap)),
            None => self.bytes.len(),
        };
        Ok(self.bytes.get_mut(self.filled..end).unwrap_or(&mut []))
    }

    /// Records that `count` bytes were read into `spare()`.
    fn commit(&mut self, count: usize) {
        self.filled = (self.filled + count).min(self.bytes.len());
        self.read_cap = None;
    }
}

/// A buffer holding `data`, with room for `capacity` bytes in all, allocated
/// fallibly; the room is reserved, not written.
fn allocate(data: &[u8], capacity: usize) -> Result<BytesMut, AllocationFailed> {
    let mut vector = Vec::new();
    vector
        .try_reserve_exact(capacity.max(data.len()))
        .map_err(|_| AllocationFailed)?;
    vector.extend_from_slice(data);
    // A unique `Bytes` made from a vector keeps its capacity when turned back.
    Ok(Bytes::from(vector)
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(&shared[..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One read's worth, as the engine does it: what fits of `chunk` into
    /// `spare()`, then `commit`.
    fn read_once(buffer: &mut ReceiveBuffer, chunk: &[u8]) {
        let spare = buffer.spare().unwrap();
        let count = spare.len().min(chunk.len());
        spare[..count].copy_from_slice(&chunk[..count]);
        buffer.commit(count);
    }

    #[test]
    fn grows_only_as_bytes_arrive_and_respects_the_limit() {
        let mut buffer = ReceiveBuffer::with_limit(10);
        assert_eq!(buffer.spare().unwrap().len(), 10);
        buffer.spare().unwrap()[..4].copy_from_slice(b"abcd");
        buffer.commit(4);
        assert_eq!(buffer.data(), b"abcd");
        assert_eq!(buffer.spare().unwrap().len(), 6);
        buffer.extend_from_slice(b"efghijklmn").unwrap();
        assert_eq!(buffer.data(), b"abcdefghij");
        assert!(buffer.is_full());
        assert!(buffer.spare().unwrap().is_empty());
        assert_eq!(&buffer.split_to(3)[..], b"abc");
        buffer.consume(2);
        assert_eq!(buffer.data(), b"fghij");
        assert_eq!(&buffer.take()[..], b"fghij");
        assert!(buffer.is_empty());
    }

    #[test]
    fn unbounded_buffer_reserves_one_step_at_a_time() {
        let mut buffer = ReceiveBuffer::new();
        assert_eq!(buffer.spare().unwrap().len(), GROWTH_STEP);
        assert!(buffer.bytes.capacity() < 2 * GROWTH_STEP + 1024);
        let chunk = vec![7u8; GROWTH_STEP];
        buffer.extend_from_slice(&chunk).unwrap();
        buffer.extend_from_slice(&chunk).unwrap();
        assert_eq!(buffer.len(), 2 * GROWTH_STEP);
        assert!(buffer.data().iter().all(|&byte| byte == 7));
    }

    #[test]
    fn a_large_frame_is_moved_a_logarithmic_number_of_times() {
        const SIZE: usize = 32 << 20;
        let mut buffer = ReceiveBuffer::with_limit(SIZE);
        let chunk = vec![3u8; 4096];
        let mut moves = 0;
        let mut last = std::ptr::null();
        while !buffer.is_full() {
            read_once(&mut buffer, &chunk);
            assert!(
                buffer.bytes.capacity() <= 2 * buffer.len() + 2 * GROWTH_STEP,
                "room stays in proportion to what arrived"
            );
            assert!(
                buffer.bytes.len() <= buffer.len() + GROWTH_STEP,
                "only one step ahead of what arrived is touched"
            );
            if buffer.bytes.as_ptr() != last {
                moves += 1;
                last = buffer.bytes.as_ptr();
            }
        }
        // 64 KiB doubling to 32 MiB: ten moves, where fixed 1 MiB steps took 40.
        assert!(moves <= 11, "{moves} moves");
        assert_eq!(buffer.len(), SIZE);
    }

    #[test]
    fn split_frames_stay_valid_after_the_buffer_moves() {
        let mut buffer = ReceiveBuffer::new();
        buffer.extend_from_slice(b"first").unwrap();
        let first = buffer.split_to(5).freeze();
        buffer
            .extend_from_slice(&vec![1u8; 3 * GROWTH_STEP])
            .unwrap();
        assert_eq!(&first[..], b"first");
        assert_eq!(buffer.len(), 3 * GROWTH_STEP);
    }
}
