//! `FrameBody`: the buffer of its own that a large frame is read into, and the
//! small process-wide pool such buffers come back to once their message is
//! dropped.
//!
//! A fresh buffer is zeroed one `GROWTH_STEP` ahead of the bytes that arrived, as
//! the shared receive buffer is, so a peer that announces a large frame and stops
//! costs one step of memory. Zeroing and first-touching a fresh 1 MiB buffer cost
//! about as much as the kernel's copy into it (a profile of 1 MiB round trips over
//! ipc: `memset` 2.3 % of the samples against `_copy_to_iter`'s 2.8 % on the I/O
//! thread), so a finished frame's memory is handed out as an owner of the message's
//! `Bytes` that, when the last of them is dropped, gives the buffer back to the
//! pool; the next large frame reads straight into it, already resident and with
//! nothing to zero. The pool keeps at most `POOLED` buffers of at most
//! `POOLED_CAPACITY` bytes each. Every frame starts on a cache line of its buffer
//! (see `FrameBody::new` for what that measured).
//!
//! A pooled frame's `Bytes` is never unique (`try_into_mut` fails), so a
//! connection that decrypts frames in place (CURVE) turns pooling off and gets
//! plain vectors. This file must never hand out memory that a `Bytes` still
//! refers to, never keep more than the pool's bound, and never touch memory for
//! bytes that have not arrived beyond one growth step, except memory the pool
//! already holds.

use super::buffer::{AllocationFailed, GROWTH_STEP, ReadRoom};
use bytes::Bytes;
use std::sync::{Mutex, PoisonError};

/// The most buffers the pool keeps.
const POOLED: usize = 4;
/// The largest buffer the pool keeps (and the most a frame reserves at once
/// before its bytes arrive).
pub const POOLED_CAPACITY: usize = 4 << 20;

/// A frame's alignment in its buffer: a cache line.
const CACHE_LINE: usize = 64;

/// Buffers given back by dropped messages, each initialised over its length.
#[derive(Debug)]
pub struct Pool {
    buffers: Mutex<Vec<Vec<u8>>>,
}

/// The pool every pooling decoder in the process shares.
pub static SHARED_POOL: Pool = Pool::new();

impl Default for Pool {
    fn default() -> Pool {
        Pool::new()
    }
}

impl Pool {
    /// An empty pool.
    pub const fn new() -> Pool {
        Pool {
            buffers: Mutex::new(Vec::new()),
        }
    }

    /// The buffer given back last whose allocation holds `size` bytes, if any:
    /// the most recently used memory is the likeliest to be in cache.
    fn take(&self, size: usize) -> Option<Vec<u8>> {
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        let index = buffers
            .iter()
            .rposition(|memory| memory.capacity() >= size)?;
        Some(buffers.remove(index))
    }

    /// Keeps `memory` for a later frame, if the pool has room.
    fn give_back(&self, memory: Vec<u8>) {
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        if buffers.len() < POOLED {
            buffers.push(memory);
        }
    }
}

/// A large frame's body while it arrives.
#[derive(Debug)]
pub struct FrameBody {
    /// Padding up to `start`, received bytes, then initialised room.
    memory: Vec<u8>,
    /// Where the frame starts in `memory`: on a cache line.
    start: usize,
    /// How many bytes at the front were received.
    filled: usize,
    /// The frame's size: the most this buffer will ever hold.
    size: usize,
    /// Where the finished frame's memory goes back to, if anywhere.
    pool: Option<&'static Pool>,
}

impl FrameBody {
    /// A buffer for one frame of `size` bytes: one from `pool` if it holds one
    /// large enough, else a new one with room reserved for the whole frame up to
    /// `POOLED_CAPACITY`.
    pub fn new(size: usize, pool: Option<&'static Pool>) -> Result<FrameBody, AllocationFailed> {
        let mut memory = match pool.and_then(|pool| pool.take(size + CACHE_LINE)) {
            Some(memory) => memory,
            None => {
                let mut memory = Vec::new();
                memory
                    .try_reserve_exact(size.min(POOLED_CAPACITY) + CACHE_LINE)
                    .map_err(|_| AllocationFailed)?;
                memory
            }
        };
        // The frame starts on a cache line. The kernel copies what arrives with
        // `rep movsb`, which on this machine (AMD EPYC, Zen 4) ran at half speed
        // into memory 16 bytes past a line, where `malloc` puts a block it maps
        // on its own: echoing 1 MiB over TCP loopback took a p50 of 1695-1750 us
        // into such a buffer and 886-1004 us into one on a line (a scratch
        // program); the pool's buffers, kept for good, were always such blocks.
        let start = memory.as_ptr().align_offset(CACHE_LINE).min(CACHE_LINE);
        if memory.len() < start {
            memory.resize(start, 0);
        }
        Ok(FrameBody {
            memory,
            start,
            filled: 0,
            size,
            pool,
        })
    }

    /// Whether the frame has wholly arrived.
    pub fn is_full(&self) -> bool {
        self.filled >= self.size
    }

    /// The bytes received, as the frame's body; its memory goes back to the
    /// pool once the last `Bytes` of it is dropped (if pooled).
    pub fn finish(self) -> Bytes {
        let FrameBody {
            mut memory,
            start,
            filled,
            pool,
            ..
        } = self;
        let frame = start..start + filled;
        match pool {
            Some(pool) if memory.capacity() <= POOLED_CAPACITY + CACHE_LINE => {
                Bytes::from_owner(Pooled { memory, pool }).slice(frame)
            }
            _ => {
                memory.truncate(frame.end);
                // Unique once the whole is dropped, so CURVE can still open
                // the frame in place.
                Bytes::from(memory).slice(frame)
            }
        }
    }
}

impl ReadRoom for FrameBody {
    fn received(&self) -> usize {
        self.filled
    }

    /// Room for the next read, one step at most and never past the frame's end:
    /// what the buffer has initialised already, or one more zeroed step (doubling the allocation when
    /// it is full, so a frame larger than the reserve moves O(log n) times).
    fn spare(&mut self) -> Result<&mut [u8], AllocationFailed> {
        let room = self.size.saturating_sub(self.filled);
        let at = self.start + self.filled;
        if at == self.memory.len() && room > 0 {
            let step = GROWTH_STEP.min(room);
            if self.memory.capacity() - self.memory.len() < step {
                // (A frame past the reserve moves here, and may leave the line.)
                let more = self.filled.max(GROWTH_STEP).min(room);
                self.memory
                    .try_reserve_exact(more)
                    .map_err(|_| AllocationFailed)?;
            }
            self.memory.resize(at + step, 0);
        }
        // One step per read even where more is initialised, as for a fresh
        // buffer: reads of 256 KiB made the tcp 1 MiB round trip slower (p50 414
        // and 508 us -> 608 and 612 us, `side_by_side`).
        let end = self
            .memory
            .len()
            .min(self.start + self.size)
            .min(at + GROWTH_STEP);
        Ok(self.memory.get_mut(at..end).unwrap_or(&mut []))
    }

    /// Records that `count` bytes were read into `spare()`.
    fn commit(&mut self, count: usize) {
        let received = self.memory.len().saturating_sub(self.start);
        self.filled = (self.filled + count).min(received.min(self.size));
    }
}

/// A pooled buffer lent to a message's `Bytes`; back to its pool when dropped.
struct Pooled {
    memory: Vec<u8>,
    pool: &'static Pool,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.memory
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.memory));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `chunk` repeatedly until the frame is whole, as the engine does.
    fn fill(body: &mut FrameBody, chunk: &[u8]) {
        while !body.is_full() {
            let spare = body.spare().unwrap();
            let count = spare.len().min(chunk.len());
            spare[..count].copy_from_slice(&chunk[..count]);
            body.commit(count);
        }
    }

    #[test]
    fn a_fresh_frame_is_touched_only_as_it_arrives_and_never_moves_up_to_the_reserve() {
        for size in [GROWTH_STEP + 1, 1 << 20] {
            let mut body = FrameBody::new(size, None).unwrap();
            let start = body.memory.as_ptr();
            let chunk = vec![5u8; 10_000];
            while !body.is_full() {
                let spare = body.spare().unwrap();
                let count = spare.len().min(chunk.len());
                spare[..count].copy_from_slice(&chunk[..count]);
                body.commit(count);
                assert!(
                    body.memory.len() <= body.start + body.received() + GROWTH_STEP,
                    "only one step ahead of what arrived is touched"
                );
                assert_eq!(body.memory.as_ptr(), start, "{size}: moved");
            }
            assert!(body.spare().unwrap().is_empty(), "nothing past the frame");
            let bytes = body.finish();
            assert_eq!(bytes.len(), size);
            assert!(bytes.iter().all(|&byte| byte == 5));
        }
    }

    #[test]
    fn a_frame_past_the_reserve_doubles_as_it_arrives() {
        let size = 3 * POOLED_CAPACITY;
        let mut body = FrameBody::new(size, None).unwrap();
        assert!(body.memory.capacity() <= POOLED_CAPACITY + CACHE_LINE);
        let mut moves = 0;
        let mut last = body.memory.as_ptr();
        let chunk = vec![9u8; 256 * 1024];
        while !body.is_full() {
            let spare = body.spare().unwrap();
            let count = spare.len().min(chunk.len());
            spare[..count].copy_from_slice(&chunk[..count]);
            body.commit(count);
            assert!(
                body.memory.capacity()
                    <= (POOLED_CAPACITY + CACHE_LINE).max(2 * body.received() + 2 * GROWTH_STEP),
                "room past the reserve stays in proportion to what arrived"
            );
            if body.memory.as_ptr() != last {
                moves += 1;
                last = body.memory.as_ptr();
            }
        }
        assert!(moves <= 3, "{moves} moves");
        let bytes = body.finish();
        assert_eq!(bytes.len(), size);
        assert!(bytes.iter().all(|&byte| byte == 9));
    }

    #[test]
    fn a_dropped_frame_lends_its_memory_to_the_next_and_stale_bytes_never_show() {
        static POOL: Pool = Pool::new();
        let size = 3 * GROWTH_STEP + 17;
        let mut first = FrameBody::new(size, Some(&POOL)).unwrap();
        fill(&mut first, &[1u8; 4096]);
        let first = first.finish();
        let memory = first.as_ptr();
        let kept = first.slice(10..20);
        drop(first);
        // Still referred to: the memory is not lent out again.
        let mut second = FrameBody::new(size, Some(&POOL)).unwrap();
        assert_ne!(second.memory[second.start..].as_ptr(), memory);
        fill(&mut second, &[2u8; 4096]);
        assert!(kept.iter().all(|&byte| byte == 1));
        drop(kept);
        // Dropped: the next frame of that size reads into the same memory, with
        // room already initialised, and sees only its own bytes.
        let mut third = FrameBody::new(size - 5, Some(&POOL)).unwrap();
        assert_eq!(third.memory[third.start..].as_ptr(), memory);
        assert!(third.spare().unwrap().len() >= GROWTH_STEP);
        fill(&mut third, &[3u8; 1000]);
        let third = third.finish();
        assert_eq!(third.len(), size - 5);
        assert!(third.iter().all(|&byte| byte == 3));
        drop(second.finish());
    }

    #[test]
    fn a_frame_starts_on_a_cache_line_pooled_or_not() {
        static POOL: Pool = Pool::new();
        for _ in 0..3 {
            for pool in [None, Some(&POOL)] {
                let mut body = FrameBody::new(GROWTH_STEP + 7, pool).unwrap();
                fill(&mut body, &[8u8; 3000]);
                let frame = body.finish();
                assert_eq!(frame.as_ptr() as usize % CACHE_LINE, 0);
                assert_eq!(frame.len(), GROWTH_STEP + 7);
                assert!(frame.iter().all(|&byte| byte == 8));
            }
        }
    }

    #[test]
    fn without_pooling_a_frame_is_unique_memory() {
        let mut body = FrameBody::new(GROWTH_STEP + 1, None).unwrap();
        fill(&mut body, &[4u8; 999]);
        let bytes = body.finish();
        assert!(
            bytes.try_into_mut().is_ok(),
            "unique, so CURVE opens in place"
        );
    }
}
