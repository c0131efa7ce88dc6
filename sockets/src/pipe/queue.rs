//! The queue under each direction of a pipe: unbounded, one producer and one
//! consumer, items stored in chunks that are reused instead of freed.
//!
//! A pipe's writer and reader are each one thread at a time (`PipeEnd` takes
//! `&mut self`), so the queue needs no compare-and-swap: the producer publishes
//! how many items it wrote, the consumer how many it took, and each reads the
//! other's count. Items live in chunks of `CHUNK` slots linked in order; a chunk
//! the consumer has emptied goes back to the producer through a small ring of
//! spares, so a busy pipe allocates nothing once it has reached its working depth
//! (crossbeam's `SegQueue`, used before, allocated and zeroed a block every 31
//! items: about 200 instructions a message at each end of a 1-byte PUSH/PULL run,
//! callgrind). libzmq's `yqueue_t` keeps one spare chunk for the same reason.
//!
//! This is one of the crate's few `unsafe` modules: the slots are uninitialised
//! memory handed between two threads. Every item written is read exactly once, by
//! the consumer or by the drop of the last half; a chunk is reused or freed only
//! after the consumer has moved past it. It must never be given to more than one
//! producer or consumer (the halves are not `Clone` and take `&mut self`).

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Items per chunk: a chunk of pipe items is about 2.5 KiB.
const CHUNK: usize = 32;

/// Emptied chunks kept for reuse per queue; more are freed. Sixteen cover the
/// 500 items a reader drains at the default high-water mark before its writer
/// resumes, so a pipe bouncing off its mark reuses every chunk.
const SPARES: usize = 16;

struct Chunk<T> {
    slots: [UnsafeCell<MaybeUninit<T>>; CHUNK],
    /// The chunk after this one, set by the producer before it publishes the
    /// first item written there.
    next: AtomicPtr<Chunk<T>>,
}

impl<T> Chunk<T> {
    fn allocate() -> *mut Chunk<T> {
        Box::into_raw(Box::new(Chunk {
            slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; CHUNK],
            next: AtomicPtr::new(ptr::null_mut()),
        }))
    }

    /// Frees a chunk without dropping anything in its slots.
    ///
    /// # Safety
    /// `chunk` came from `allocate`, no half uses it any more, and its slots hold
    /// nothing that still needs dropping.
    unsafe fn free(chunk: *mut Chunk<T>) {
        // SAFETY: as the caller promises; the slots are `MaybeUninit`, so dropping
        // the box drops no item.
        drop(unsafe { Box::from_raw(chunk) });
    }
}

/// A counter on a cache line of its own, so the producer's and the consumer's
/// stores do not contend for one line.
#[repr(align(128))]
struct Padded(AtomicU64);

struct Shared<T> {
    /// Items written, published by the producer after each write.
    written: Padded,
    /// Items taken, published by the consumer after each read.
    taken: Padded,
    /// The first chunk, allocated by the producer's first write.
    first: AtomicPtr<Chunk<T>>,
    /// The consumer's current chunk, left here when the consumer is dropped.
    consumer_chunk: AtomicPtr<Chunk<T>>,
    /// Emptied chunks on their way back to the producer: a ring the consumer
    /// puts into and the producer takes from.
    spares: [AtomicPtr<Chunk<T>>; SPARES],
    spares_put: AtomicU64,
    spares_taken: AtomicU64,
}

// SAFETY: the items are moved between threads (so `T: Send`), never shared; the
// raw chunk pointers are owned by the queue and handed between the halves under
// the protocol this module describes.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above: through `&Shared` only atomics are touched; slots are reached
// only by the one producer and the one consumer.
unsafe impl<T: Send> Sync for Shared<T> {}

/// The writing half.
pub(crate) struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// The chunk the next write goes to (null before the first write).
    tail: *mut Chunk<T>,
    written: u64,
}

/// The reading half.
pub(crate) struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// The chunk the last read came from (null before the first read).
    head: *mut Chunk<T>,
    /// Slots of `head` already read (`CHUNK` once it is finished).
    index: usize,
    taken: u64,
    /// The producer's count as last seen, so most reads skip loading it.
    available: u64,
}

// SAFETY: each half is used by one thread at a time (`&mut self` for every
// operation on its chunks); the items it moves are `Send`.
unsafe impl<T: Send> Send for Producer<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Consumer<T> {}

/// A new empty queue; nothing is allocated until the first write.
pub(crate) fn channel<T>() -> (Producer<T>, Consumer<T>) {
    let shared = Arc::new(Shared {
        written: Padded(AtomicU64::new(0)),
        taken: Padded(AtomicU64::new(0)),
        first: AtomicPtr::new(ptr::null_mut()),
        consumer_chunk: AtomicPtr::new(ptr::null_mut()),
        spares: [const { AtomicPtr::new(ptr::null_mut()) }; SPARES],
        spares_put: AtomicU64::new(0),
        spares_taken: AtomicU64::new(0),
    });
    let producer = Producer {
        shared: Arc::clone(&shared),
        tail: ptr::null_mut(),
        written: 0,
    };
    let consumer = Consumer {
        shared,
        head: ptr::null_mut(),
        index: 0,
        taken: 0,
        available: 0,
    };
    (producer, consumer)
}

impl<T> Shared<T> {
    fn len(&self) -> u64 {
        let taken = self.taken.0.load(Ordering::Acquire);
        self.written.0.load(Ordering::Acquire).saturating_sub(taken)
    }
}

impl<T> Producer<T> {
    /// Appends an item; the consumer may take it as soon as this returns.
    pub(crate) fn push(&mut self, item: T) {
        let index = (self.written % CHUNK as u64) as usize;
        if self.tail.is_null() {
            debug_assert_eq!(self.written, 0);
            let chunk = Chunk::allocate();
            self.shared.first.store(chunk, Ordering::Release);
            self.tail = chunk;
        } else if index == 0 {
            let chunk = self.spare_or_new();
            // SAFETY: `tail` is the producer's chunk: allocated here and not
            // recycled, since the consumer leaves a chunk only for its `next`,
            // which is still null.
            unsafe { (*self.tail).next.store(chunk, Ordering::Release) };
            self.tail = chunk;
        }
        // SAFETY: slot `index` of `tail` is empty: it was never written, or it
        // was read before the chunk came back as a spare; the consumer will not
        // read it before `written` below says it may.
        unsafe { (*(*self.tail).slots[index].get()).write(item) };
        self.written += 1;
        self.shared.written.0.store(self.written, Ordering::Release);
    }

    /// Whether the consumer has taken every item written.
    pub(crate) fn is_drained(&self) -> bool {
        self.shared.taken.0.load(Ordering::Acquire) == self.written
    }

    /// Items written and not yet taken.
    pub(crate) fn len(&self) -> u64 {
        self.shared.len()
    }

    fn spare_or_new(&mut self) -> *mut Chunk<T> {
        let shared = &self.shared;
        let taken = shared.spares_taken.load(Ordering::Relaxed);
        if taken == shared.spares_put.load(Ordering::Acquire) {
            return Chunk::allocate();
        }
        let chunk = shared.spares[(taken % SPARES as u64) as usize].load(Ordering::Relaxed);
        shared.spares_taken.store(taken + 1, Ordering::Release);
        debug_assert!(!chunk.is_null());
        // SAFETY: a spare belongs to the producer alone once taken.
        unsafe { (*chunk).next.store(ptr::null_mut(), Ordering::Relaxed) };
        chunk
    }
}

impl<T> Consumer<T> {
    /// The oldest item, if any.
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.taken == self.available {
            self.available = self.shared.written.0.load(Ordering::Acquire);
            if self.taken == self.available {
                return None;
            }
        }
        if self.head.is_null() {
            self.head = self.shared.first.load(Ordering::Acquire);
            self.index = 0;
        } else if self.index == CHUNK {
            // SAFETY: `head` is the consumer's chunk; an item past it was
            // published, so the producer linked the next chunk before that.
            let next = unsafe { (*self.head).next.load(Ordering::Acquire) };
            debug_assert!(!next.is_null());
            let finished = std::mem::replace(&mut self.head, next);
            self.index = 0;
            self.recycle(finished);
        }
        debug_assert!(!self.head.is_null() && self.index < CHUNK);
        // SAFETY: the producer wrote this slot and published it (`available`),
        // and nobody reads it again: `taken` moves past it below.
        let item = unsafe { (*(*self.head).slots[self.index].get()).assume_init_read() };
        self.index += 1;
        self.taken += 1;
        self.shared.taken.0.store(self.taken, Ordering::Release);
        Some(item)
    }

    /// Whether nothing is waiting now.
    pub(crate) fn is_empty(&self) -> bool {
        self.taken == self.shared.written.0.load(Ordering::Acquire)
    }

    /// Items waiting.
    pub(crate) fn len(&self) -> u64 {
        self.shared.len()
    }

    /// Hands an emptied chunk back to the producer, or frees it if the ring of
    /// spares is full.
    fn recycle(&mut self, chunk: *mut Chunk<T>) {
        let shared = &self.shared;
        let put = shared.spares_put.load(Ordering::Relaxed);
        if put - shared.spares_taken.load(Ordering::Acquire) == SPARES as u64 {
            // SAFETY: every slot of a finished chunk was read, and the producer
            // has moved on to the next chunk.
            unsafe { Chunk::free(chunk) };
            return;
        }
        shared.spares[(put % SPARES as u64) as usize].store(chunk, Ordering::Relaxed);
        shared.spares_put.store(put + 1, Ordering::Release);
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        // Leaves its place for whichever half is dropped last (`Shared::drop`).
        self.shared
            .consumer_chunk
            .store(self.head, Ordering::Release);
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Both halves are gone: drop the items nobody read, then free the chunks
        // from the consumer's place to the end, and the spares.
        let taken = *self.taken.0.get_mut();
        let written = *self.written.0.get_mut();
        let mut chunk = *self.consumer_chunk.get_mut();
        // The consumer's chunk holds item `taken - 1`; before any read, start at
        // the first chunk.
        let mut index = if chunk.is_null() {
            chunk = *self.first.get_mut();
            0
        } else {
            ((taken - 1) % CHUNK as u64) as usize + 1
        };
        for _ in taken..written {
            if index == CHUNK {
                // SAFETY: both halves are gone; the chunks are ours to walk.
                let next = unsafe { *(*chunk).next.get_mut() };
                // SAFETY: every slot of it was read or dropped.
                unsafe { Chunk::free(chunk) };
                chunk = next;
                index = 0;
            }
            // SAFETY: items from `taken` to `written` were written and never read.
            unsafe { (*(*chunk).slots[index].get()).assume_init_drop() };
            index += 1;
        }
        while !chunk.is_null() {
            // SAFETY: as above; what is left in these chunks was dropped.
            let next = unsafe { *(*chunk).next.get_mut() };
            unsafe { Chunk::free(chunk) };
            chunk = next;
        }
        let put = *self.spares_put.get_mut();
        for taken in *self.spares_taken.get_mut()..put {
            let spare = *self.spares[(taken % SPARES as u64) as usize].get_mut();
            // SAFETY: a spare in the ring is empty and owned by nobody else.
            unsafe { Chunk::free(spare) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its drops, to show each item is dropped exactly once.
    struct Counted(Arc<AtomicUsize>, u64);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn items_come_out_in_order_across_chunks_and_reused_spares() {
        let (mut producer, mut consumer) = channel();
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        // Depths from empty to past the ring of spares, so chunks are allocated,
        // reused and freed.
        for depth in [1, 5, 31, 32, 33, 100, CHUNK * (SPARES + 3), 7] {
            for _ in 0..depth {
                producer.push(next_in);
                next_in += 1;
            }
            assert_eq!(producer.len(), depth as u64);
            assert!(!consumer.is_empty());
            while let Some(item) = consumer.pop() {
                assert_eq!(item, next_out);
                next_out += 1;
            }
            assert!(consumer.is_empty() && producer.is_drained());
        }
        assert_eq!(next_out, next_in);
    }

    #[test]
    fn every_item_is_dropped_once_whichever_half_goes_first() {
        for consumer_first in [false, true] {
            for read in [0, 1, 31, 32, 33, 64, 70] {
                let drops = Arc::new(AtomicUsize::new(0));
                let (mut producer, mut consumer) = channel();
                for value in 0..100 {
                    producer.push(Counted(Arc::clone(&drops), value));
                }
                for expected in 0..read {
                    assert_eq!(consumer.pop().map(|item| item.1), Some(expected));
                }
                if consumer_first {
                    drop(consumer);
                    // A write racing the reader's close is still dropped.
                    producer.push(Counted(Arc::clone(&drops), 100));
                    drop(producer);
                    assert_eq!(drops.load(Ordering::Relaxed), 101);
                } else {
                    drop(producer);
                    drop(consumer);
                    assert_eq!(drops.load(Ordering::Relaxed), 100);
                }
            }
        }
    }

    #[test]
    fn an_unused_queue_allocates_nothing_and_drops_cleanly() {
        let (producer, consumer) = channel::<Vec<u8>>();
        assert!(producer.shared.first.load(Ordering::Relaxed).is_null());
        assert!(consumer.is_empty() && producer.is_drained());
        drop((producer, consumer));
    }

    #[test]
    fn threads_pass_a_million_items_in_order() {
        // Miri (`cargo +nightly miri test -p sinew --lib pipe::queue`) checks
        // the same interleavings far more slowly.
        const COUNT: u64 = if cfg!(miri) { 3_000 } else { 1_000_000 };
        let (mut producer, mut consumer) = channel();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let writer = std::thread::spawn(move || {
            for value in 0..COUNT {
                producer.push(vec![value; 1]);
                // Keep the queue short now and then, so the consumer often runs
                // dry and chunks go round through the spares.
                while value % 1000 == 999 && producer.len() > 100 {
                    assert!(std::time::Instant::now() < deadline, "consumer stuck");
                    std::thread::yield_now();
                }
            }
        });
        let mut expected = 0;
        while expected < COUNT {
            match consumer.pop() {
                Some(item) => {
                    assert_eq!(item, vec![expected]);
                    expected += 1;
                }
                None => {
                    assert!(std::time::Instant::now() < deadline, "lost items");
                    std::thread::yield_now();
                }
            }
        }
        writer.join().unwrap();
        assert!(consumer.pop().is_none());
    }
}
