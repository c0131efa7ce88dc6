//! The output side: frames packed into as few writes as possible.
//!
//! Headers and small bodies are copied into one packing buffer, so many small
//! messages leave in one write; a large body is queued as its own chunk (a clone of
//! its `Bytes`, not a copy) so the engine hands it to a vectored write. The engine
//! takes the pending chunks with `io_slices` and reports what the kernel took with
//! `advance`. A body made on the way out (CURVE's box) that is large goes into a
//! buffer of its own; once written, that memory is kept for the next one, so
//! the kernel is not asked for fresh pages (and to zero them) for every large
//! message. This file must never copy a body larger than `COPY_LIMIT`.

use super::frame::{MAX_HEADER_LENGTH, write_header};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::IoSlice;

/// Bodies up to this size are copied into the packing buffer; larger ones are sent
/// from their own memory.
pub const COPY_LIMIT: usize = 4 * 1024;

/// The largest written chunk whose memory is kept for the next large frame: a
/// connection that once sent a huge message does not hold its memory for good.
const SPARE_LIMIT: usize = 4 * 1024 * 1024;

/// Initial room in the packing buffer.
const PACKING_CAPACITY: usize = 16 * 1024;

/// Bytes waiting to be written to the peer, in order.
#[derive(Debug, Default)]
pub struct Encoder {
    /// Whole chunks that come before `packing`.
    chunks: VecDeque<Bytes>,
    /// Headers and small bodies written since the last chunk.
    packing: BytesMut,
    /// Total bytes pending in `chunks` and `packing`.
    pending: usize,
    /// The memory of the last written chunk, for the next large `frame_with`.
    spare: Option<BytesMut>,
}

impl Encoder {
    /// An encoder with nothing pending.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Queues one frame.
    pub fn frame(&mut self, more: bool, command: bool, body: &Bytes) {
        if body.len() <= COPY_LIMIT {
            self.frame_from_slice(more, command, body);
        } else {
            self.reserve(MAX_HEADER_LENGTH);
            write_header(&mut self.packing, more, command, body.len());
            self.seal();
            self.chunks.push_back(body.clone());
            self.pending += header_length(body.len()) + body.len();
        }
    }

    /// Queues one frame, copying its body.
    pub fn frame_from_slice(&mut self, more: bool, command: bool, body: &[u8]) {
        self.reserve(MAX_HEADER_LENGTH + body.len());
        write_header(&mut self.packing, more, command, body.len());
        self.packing.extend_from_slice(body);
        self.pending += header_length(body.len()) + body.len();
    }

    /// Queues one frame of `size` bytes that `fill` writes in place: into the
    /// packing buffer when it is small, into a buffer of its own when it is large,
    /// so a body made on the way out (CURVE's box) is written once.
    pub fn frame_with(
        &mut self,
        more: bool,
        command: bool,
        size: usize,
        fill: impl FnOnce(&mut [u8]),
    ) {
        if size <= COPY_LIMIT {
            self.reserve(MAX_HEADER_LENGTH + size);
            write_header(&mut self.packing, more, command, size);
            let start = self.packing.len();
            self.packing.resize(start + size, 0);
            if let Some(body) = self.packing.get_mut(start..) {
                fill(body);
            }
            self.pending += header_length(size) + size;
        } else {
            let reused = self.spare.take().and_then(|mut spare| {
                spare.clear();
                spare.try_reclaim(size).then(|| {
                    spare.resize(size, 0);
                    spare
                })
            });
            let mut body = reused.unwrap_or_else(|| BytesMut::zeroed(size));
            fill(&mut body);
            self.frame(more, command, &body.freeze());
        }
    }

    /// Queues raw bytes (the greeting).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.packing.extend_from_slice(bytes);
        self.pending += bytes.len();
    }

    /// Total bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether nothing is waiting to be written.
    pub fn is_empty(&self) -> bool {
        self.pending == 0
    }

    /// Fills `slices` with the pending bytes in order; returns how many were filled.
    pub fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let packing = (!self.packing.is_empty()).then_some(&self.packing[..]);
        let sources = self
            .chunks
            .iter()
            .map(|chunk| &chunk[..])
            .chain(packing)
            .filter(|bytes| !bytes.is_empty());
        let mut filled = 0;
        for (slot, bytes) in slices.iter_mut().zip(sources) {
            *slot = IoSlice::new(bytes);
            filled += 1;
        }
        filled
    }

    /// The first pending run of bytes (for writers without vectored output).
    pub fn first_chunk(&self) -> &[u8] {
        match self.chunks.front() {
            Some(chunk) => chunk,
            None => &self.packing,
        }
    }

    /// Drops the first `count` pending bytes: the peer's kernel took them.
    pub fn advance(&mut self, mut count: usize) {
        count = count.min(self.pending);
        self.pending -= count;
        while count > 0 {
            match self.chunks.front_mut() {
                Some(chunk) => {
                    let step = count.min(chunk.len());
                    chunk.advance(step);
                    count -= step;
                    if chunk.is_empty() {
                        self.recycle_front();
                    }
                }
                None => {
                    let step = count.min(self.packing.len());
                    self.packing.advance(step);
                    count -= step;
                    if step == 0 {
                        break;
                    }
                }
            }
        }
        while self.chunks.front().is_some_and(Bytes::is_empty) {
            self.recycle_front();
        }
    }

    /// Drops the first chunk, written whole, keeping its memory as the spare if
    /// nobody else holds it and it is larger than what is copied (and not
    /// larger than `SPARE_LIMIT`).
    fn recycle_front(&mut self) {
        let Some(chunk) = self.chunks.pop_front() else {
            return;
        };
        if let Ok(mut memory) = chunk.try_into_mut()
            && memory.try_reclaim(COPY_LIMIT + 1)
            && memory.capacity() <= SPARE_LIMIT
        {
            self.spare = Some(memory);
        }
    }

    /// Moves what is packed so far into its own chunk, so a large body can follow.
    fn seal(&mut self) {
        if !self.packing.is_empty() {
            let packed = self.packing.split().freeze();
            self.chunks.push_back(packed);
        }
    }

    fn reserve(&mut self, additional: usize) {
        if self.packing.capacity() - self.packing.len() < additional {
            self.packing.reserve(additional.max(PACKING_CAPACITY));
        }
    }
}

/// The header's length for a body of `size` bytes.
fn header_length(size: usize) -> usize {
    if size > 255 { 9 } else { 2 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::buffer::{ReadRoom, ReceiveBuffer};
    use crate::zmtp::frame::Decoder;

    fn drain(encoder: &mut Encoder) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut slices = [IoSlice::new(&[]); 8];
            let count = encoder.io_slices(&mut slices);
            if count == 0 {
                break;
            }
            // Take at most 7 bytes at a time, as a slow kernel would.
            let mut taken = 0;
            for slice in &slices[..count] {
                let step = slice.len().min(7 - taken);
                out.extend_from_slice(&slice[..step]);
                taken += step;
                if taken == 7 {
                    break;
                }
            }
            encoder.advance(taken);
        }
        assert_eq!(encoder.pending(), 0);
        out
    }

    #[test]
    fn frames_written_in_place_come_out_like_any_other() {
        let mut encoder = Encoder::new();
        encoder.frame_with(true, false, 3, |body| body.copy_from_slice(b"abc"));
        encoder.frame_with(false, true, COPY_LIMIT + 1, |body| body.fill(9));
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(
            encoder.io_slices(&mut slices),
            2,
            "packed, then the large body"
        );
        let bytes = drain(&mut encoder);
        let mut input = ReceiveBuffer::new();
        input.extend_from_slice(&bytes).unwrap();
        let mut decoder = Decoder::new(None);
        let first = decoder.decode(&mut input).unwrap().unwrap();
        assert_eq!(
            (first.more, first.command, &first.body[..]),
            (true, false, &b"abc"[..])
        );
        let second = decoder.decode(&mut input).unwrap().unwrap();
        assert!(second.command && !second.more);
        assert_eq!(second.body, vec![9; COPY_LIMIT + 1]);
    }

    #[test]
    fn small_and_large_frames_come_out_in_order() {
        let mut encoder = Encoder::new();
        let large = Bytes::from(vec![5u8; COPY_LIMIT + 1]);
        encoder.frame(true, false, &Bytes::from_static(b"ab"));
        encoder.frame(true, false, &large);
        encoder.frame_from_slice(false, true, b"\x04PING\x00\x00");
        encoder.frame(false, false, &Bytes::from_static(b"z"));
        assert_eq!(encoder.pending(), 4 + 9 + large.len() + 2 + 7 + 3);
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(
            encoder.io_slices(&mut slices),
            3,
            "packed, large body, packed"
        );
        assert_eq!(
            slices[1].as_ptr(),
            large.as_ptr(),
            "the large body is not copied"
        );
        let bytes = drain(&mut encoder);
        let mut input = ReceiveBuffer::new();
        input.extend_from_slice(&bytes).unwrap();
        let mut decoder = Decoder::new(None);
        let mut frames = Vec::new();
        while let Some(frame) = decoder.decode(&mut input).unwrap() {
            frames.push(frame);
        }
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[1].body, large);
        assert_eq!(&frames[2].body[..], b"\x04PING\x00\x00");
        assert!(frames[2].command);
        assert!(!frames[3].more);
    }

    #[test]
    fn a_written_large_frames_memory_is_used_again_for_the_next() {
        let mut encoder = Encoder::new();
        let size = 64 * 1024;
        let body_of = |encoder: &Encoder| {
            let mut slices = [IoSlice::new(&[]); 4];
            let count = encoder.io_slices(&mut slices);
            let body = slices[..count]
                .iter()
                .find(|slice| slice.len() == size)
                .expect("the body is a chunk of its own");
            body.as_ptr() as usize
        };
        encoder.frame_with(false, false, size, |body| body.fill(1));
        let first = body_of(&encoder);
        encoder.advance(encoder.pending());
        encoder.frame_with(false, false, size, |body| body.fill(2));
        assert_eq!(
            body_of(&encoder),
            first,
            "the written chunk's memory came back"
        );
        let bytes = drain(&mut encoder);
        assert!(
            bytes[9..].iter().all(|byte| *byte == 2),
            "and was filled anew"
        );
        // A body still queued is never reused: the next one gets memory of its own.
        encoder.frame_with(false, false, size, |body| body.fill(3));
        let queued = body_of(&encoder);
        encoder.frame_with(false, false, size, |body| body.fill(4));
        let mut slices = [IoSlice::new(&[]); 4];
        let count = encoder.io_slices(&mut slices);
        let bodies: Vec<usize> = slices[..count]
            .iter()
            .filter(|slice| slice.len() == size)
            .map(|slice| slice.as_ptr() as usize)
            .collect();
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[0], queued);
        assert_ne!(bodies[1], queued);
    }
}
