//! Read buffers used again: a large read (a fetch of megabytes) takes a buffer
//! that an earlier read already initialized, so it is not zeroed again before the
//! file is read into it (a fresh allocation of that size is zeroed by the
//! allocator or, page by page, by the kernel: a whole extra pass over the data).
//! The buffer goes back to the pool when the last `Bytes` sharing it is dropped
//! (`Bytes::from_owner`).
//!
//! Safe Rust only: a buffer's bytes past what a read filled are old data, never
//! handed out (a `Pooled` shows only its `len` first bytes, and a read fills
//! exactly what it asks for or fails). The pool is bounded in count and bytes;
//! it must never hold more than `MAX_POOLED_BYTES`.

use bytes::Bytes;
use std::sync::{Mutex, PoisonError};

/// Reads smaller than this allocate as before (zeroing them costs little).
pub(crate) const MIN_POOLED: usize = 256 * 1024;
/// The most bytes the pool keeps, all buffers together.
const MAX_POOLED_BYTES: usize = 64 << 20;
/// The largest buffer kept.
const MAX_BUFFER: usize = 16 << 20;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A buffer of exactly `length` initialized bytes (whatever an earlier read
/// left in them: the caller overwrites them all).
pub(crate) fn take(length: usize) -> Vec<u8> {
    if length >= MIN_POOLED {
        let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        let reused = match pool.iter().position(|buffer| buffer.len() >= length) {
            Some(at) => Some(pool.swap_remove(at)),
            None => pool.pop(),
        };
        drop(pool);
        if let Some(mut buffer) = reused {
            // Shorter: only what no read has initialized yet is zeroed.
            buffer.resize(length, 0);
            return buffer;
        }
    }
    vec![0u8; length]
}

/// Returns a buffer that was taken and not shared.
pub(crate) fn give_back(buffer: Vec<u8>) {
    drop(Pooled { used: 0, buffer });
}

/// The first `used` bytes of `buffer` as `Bytes`; the buffer returns to the pool
/// once the last of them is dropped.
pub(crate) fn share(buffer: Vec<u8>, used: usize) -> Bytes {
    debug_assert!(used <= buffer.len());
    if buffer.len() < MIN_POOLED {
        let mut buffer = buffer;
        buffer.truncate(used);
        return Bytes::from(buffer);
    }
    Bytes::from_owner(Pooled { buffer, used })
}

/// A pooled buffer showing only its filled part.
struct Pooled {
    buffer: Vec<u8>,
    used: usize,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        self.buffer.get(..self.used).unwrap_or_default()
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        if buffer.len() < MIN_POOLED || buffer.len() > MAX_BUFFER {
            return;
        }
        let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        let held: usize = pool.iter().map(Vec::len).sum();
        if held + buffer.len() <= MAX_POOLED_BYTES {
            pool.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_and_shows_only_what_was_filled() {
        let mut first = take(MIN_POOLED);
        first.iter_mut().for_each(|byte| *byte = 7);
        let shared = share(first, 10);
        assert_eq!(&shared[..], &[7u8; 10]);
        let part = shared.slice(2..4);
        drop(shared);
        assert_eq!(&part[..], &[7, 7]);
        drop(part);
        // The same memory, with its old bytes, for the next read of that size.
        let again = take(MIN_POOLED);
        assert_eq!(again.len(), MIN_POOLED);
        let shown = share(again, 0);
        assert!(shown.is_empty(), "nothing filled, nothing shown");
        // Small reads are plain vectors, zeroed.
        assert_eq!(take(16), vec![0u8; 16]);
    }
}
