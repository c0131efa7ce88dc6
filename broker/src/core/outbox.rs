//! `Outbox`: what waits to be written to one client, as a queue of shared byte
//! chunks, with this turn's payloads spliced in by reference.
//!
//! Protocol lines are encoded into one growing chunk. A payload fanned out in the
//! turn it arrived in is not copied: the outbox notes where in the lines it goes
//! and which of the turn's payloads (a list the core keeps until the turn ends) it
//! is, and the server's vectored write reads it from there. So a 1 KiB message
//! sent to ten subscribers is copied once per subscriber, by the kernel, from
//! bytes still in the cache, rather than once into each outbox and again into each
//! socket (measured in BENCHMARKS.md, "Payloads spliced into the write"). A
//! splice holds no reference of its own: counting a shared `Bytes` up and down
//! for every recipient cost more than copying 1 KiB (a profile of 10 subscribers
//! put 15 % of the loop's time on that locked decrement). What a turn could not
//! write is settled before the turn's payloads are let go: small payloads copied
//! in with the lines, payloads of 8 KiB and more kept as shared `Bytes`.
//! Outside a turn (`payload`, `payload_from`), payloads go in the same way
//! settled ones do. Every byte queued is counted, so the core can close a client
//! whose outbox passes its limit (a slow consumer). This file must never write to
//! a socket and never keep a splice past the end of its turn.

use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::IoSlice;

/// Payloads below this size are copied into the line chunk instead of queued on
/// their own when they are kept past their turn: below it a separate slice
/// costs more than the copy (measured: 10 subscribers of 1 KiB messages went from
/// 1.25 M to 1.80 M deliveries a second).
const INLINE_PAYLOAD: usize = 8 * 1024;

/// Payloads below this size are copied in even within their turn, where a slice
/// of its own in the vectored write would cost the kernel about what the copy
/// costs. Just above it splicing still won: 10 subscribers of 520-byte messages,
/// three alternating runs, 2.30, 2.46, 2.54 M deliveries a second spliced against
/// 2.27, 2.18, 2.34 M copied; smaller sizes were not measured.
pub const SPLICE_PAYLOAD: usize = 512;

/// One of the turn's payloads, to be written before the line byte at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Splice {
    /// Offset into `lines` the payload goes before.
    at: usize,
    /// Which of the turn's payloads.
    slot: usize,
    /// The part of it that is written.
    start: usize,
    end: usize,
}

/// One contiguous piece of what waits, in order.
enum Piece<'a> {
    /// An owned chunk, or a run of the lines.
    Owned(&'a [u8]),
    /// Part of one of the turn's payloads.
    Spliced(&'a Bytes, usize, usize),
}

impl<'a> Piece<'a> {
    fn bytes(&self) -> &'a [u8] {
        match *self {
            Piece::Owned(bytes) => bytes,
            Piece::Spliced(payload, start, end) => payload.get(start..end).unwrap_or_default(),
        }
    }
}

/// Slices being filled for one vectored write.
struct Filled<'s, 'a> {
    slices: &'s mut [IoSlice<'a>],
    count: usize,
}

impl<'a> Filled<'_, 'a> {
    /// Adds `bytes` (unless empty); false once the slices are full.
    fn push(&mut self, bytes: &'a [u8]) -> bool {
        if bytes.is_empty() {
            return true;
        }
        match self.slices.get_mut(self.count) {
            Some(slot) => {
                *slot = IoSlice::new(bytes);
                self.count += 1;
                true
            }
            None => false,
        }
    }
}

/// Bytes waiting to be written to one client.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Chunks ready to write, in order, before `lines`.
    chunks: VecDeque<Bytes>,
    /// Protocol lines (and small payloads) written after the last chunk.
    lines: BytesMut,
    /// This turn's payloads, in the order of their places in `lines`.
    splices: Vec<Splice>,
    /// Bytes queued and not yet written.
    pending: usize,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Where protocol lines are encoded; call `lines_written` after.
    pub fn lines(&mut self) -> &mut BytesMut {
        &mut self.lines
    }

    /// Counts what was encoded into `lines` since `before` bytes were there.
    pub fn lines_written(&mut self, before: usize) {
        self.pending += self.lines.len().saturating_sub(before);
    }

    /// Appends a payload, shared, not copied (unless it is small).
    pub fn payload(&mut self, payload: &Bytes) {
        self.payload_from(payload, 0);
    }

    /// Appends `payload[start..]` (nothing if `start` is past its end), shared
    /// unless it is small. A small part is copied from the borrowed bytes without
    /// taking a `Bytes` of it: slicing one counts a reference up and dropping it
    /// counts it down, and that locked decrement, right after the copy, waited on
    /// the copy's stores (a profile of 10 subscribers of 1 KiB messages put 15 %
    /// of the loop's time on it; deliveries went from a median of 1.88 M to
    /// 2.04 M a second in five alternating runs).
    pub fn payload_from(&mut self, payload: &Bytes, start: usize) {
        let part = payload.get(start..).unwrap_or_default();
        self.pending += part.len();
        // With splices in the lines, a chunk cut from them would put the splices
        // out of order: the part is copied in instead.
        if part.len() < INLINE_PAYLOAD || !self.splices.is_empty() {
            self.lines.extend_from_slice(part);
            return;
        }
        if !self.lines.is_empty() {
            self.chunks.push_back(self.lines.split().freeze());
        }
        self.chunks.push_back(payload.slice(start..));
    }

    /// Appends `payload[start..]` (nothing if `start` is past its end) by
    /// reference: `payload` is the turn's payload number `slot`, and every call
    /// that reads or advances this outbox until `settle` must be given the same
    /// turn's payloads. Returns whether this is the outbox's first splice of the
    /// turn (its owner then lists it for settling).
    pub fn splice(&mut self, slot: usize, payload: &Bytes, start: usize) -> bool {
        let end = payload.len();
        if start >= end {
            return false;
        }
        let first = self.splices.is_empty();
        self.pending += end - start;
        self.splices.push(Splice {
            at: self.lines.len(),
            slot,
            start,
            end,
        });
        first
    }

    /// Bytes queued and not yet written.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending == 0
    }

    /// The lines with the turn's payloads (`turn`) spliced in, in order (what
    /// waits after the chunks).
    fn spliced_pieces<'a>(&'a self, turn: &'a [Bytes]) -> impl Iterator<Item = Piece<'a>> {
        let mut from = 0;
        let spliced = self.splices.iter().flat_map(move |splice| {
            let lines = self.lines.get(from..splice.at).unwrap_or_default();
            from = splice.at;
            debug_assert!(splice.slot < turn.len(), "a splice outlived its turn");
            let payload = turn
                .get(splice.slot)
                .map(|payload| Piece::Spliced(payload, splice.start, splice.end));
            [Some(Piece::Owned(lines)), payload]
        });
        let last = self.splices.last().map_or(0, |splice| splice.at);
        let tail = Piece::Owned(self.lines.get(last..).unwrap_or_default());
        spliced.flatten().chain(std::iter::once(tail))
    }

    /// Fills `slices` with what waits, in order, reading spliced payloads from
    /// `turn`; returns how many were filled. (The same walk as `spliced_pieces`, written
    /// out: through the iterator adapters it cost 3.9 % of the loop's time at 10
    /// subscribers of 1 KiB messages.)
    pub fn io_slices<'a>(&'a self, turn: &'a [Bytes], slices: &mut [IoSlice<'a>]) -> usize {
        let mut filled = Filled { slices, count: 0 };
        for chunk in &self.chunks {
            if !filled.push(chunk) {
                return filled.count;
            }
        }
        let mut from = 0;
        for splice in &self.splices {
            debug_assert!(splice.slot < turn.len(), "a splice outlived its turn");
            let payload = turn.get(splice.slot).map_or(&[][..], |payload| {
                payload.get(splice.start..splice.end).unwrap_or_default()
            });
            if !filled.push(self.lines.get(from..splice.at).unwrap_or_default())
                || !filled.push(payload)
            {
                return filled.count;
            }
            from = splice.at;
        }
        filled.push(self.lines.get(from..).unwrap_or_default());
        filled.count
    }

    /// Drops the first `count` bytes: they were written.
    pub fn advance(&mut self, count: usize) {
        let count = count.min(self.pending);
        if self.splices.is_empty() {
            self.advance_owned(count);
        } else if count == self.pending {
            // Everything was written (what happens when the client keeps up).
            self.chunks.clear();
            self.lines.clear();
            self.splices.clear();
            self.pending = 0;
        } else {
            self.advance_spliced(count);
        }
        self.check();
    }

    /// The turn ends: payloads still spliced in (`turn` holds them) are copied
    /// in, or kept as shared `Bytes` when large, so nothing refers to `turn` any
    /// more.
    pub fn settle(&mut self, turn: &[Bytes]) {
        if self.splices.is_empty() {
            return;
        }
        let mut chunks = std::mem::take(&mut self.chunks);
        let mut lines = BytesMut::with_capacity(self.lines.len());
        for piece in self.spliced_pieces(turn) {
            match piece {
                Piece::Spliced(payload, start, end) if end - start >= INLINE_PAYLOAD => {
                    if !lines.is_empty() {
                        chunks.push_back(lines.split().freeze());
                    }
                    chunks.push_back(payload.slice(start..end));
                }
                piece => lines.extend_from_slice(piece.bytes()),
            }
        }
        self.chunks = chunks;
        self.lines = lines;
        self.splices.clear();
        self.check();
    }

    /// Drops `count` written bytes, fewer than are pending, with splices in:
    /// those written through are dropped, the one written into starts later.
    fn advance_spliced(&mut self, mut count: usize) {
        self.pending -= count;
        while let Some(chunk) = self.chunks.front_mut() {
            if count < chunk.len() {
                chunk.advance(count);
                return;
            }
            count -= chunk.len();
            self.chunks.pop_front();
        }
        // Line bytes written, and splices written through.
        let mut from = 0;
        let mut done = 0;
        for splice in &mut self.splices {
            let line = splice.at - from;
            if count < line {
                break;
            }
            count -= line;
            from = splice.at;
            let size = splice.end - splice.start;
            if count < size {
                splice.start += count;
                count = 0;
                break;
            }
            count -= size;
            done += 1;
        }
        from += count;
        self.splices.drain(..done);
        self.lines.advance(from);
        for splice in &mut self.splices {
            splice.at -= from;
        }
    }

    /// Drops `count` written bytes when nothing is spliced in.
    fn advance_owned(&mut self, mut count: usize) {
        self.pending -= count;
        while count > 0 {
            match self.chunks.front_mut() {
                Some(chunk) => {
                    let step = count.min(chunk.len());
                    chunk.advance(step);
                    count -= step;
                    if chunk.is_empty() {
                        self.chunks.pop_front();
                    }
                }
                None => {
                    let step = count.min(self.lines.len());
                    self.lines.advance(step);
                    count -= step;
                }
            }
        }
    }

    /// The count of pending bytes matches what is queued.
    fn check(&self) {
        debug_assert_eq!(
            self.pending,
            self.chunks.iter().map(Bytes::len).sum::<usize>()
                + self.lines.len()
                + self
                    .splices
                    .iter()
                    .map(|splice| splice.end - splice.start)
                    .sum::<usize>()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn gather(outbox: &Outbox, turn: &[Bytes]) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); 1024];
        let count = outbox.io_slices(turn, &mut slices);
        slices[..count]
            .iter()
            .flat_map(|slice| slice.to_vec())
            .collect()
    }

    fn line(outbox: &mut Outbox, text: &[u8]) {
        let before = outbox.lines().len();
        outbox.lines().extend_from_slice(text);
        outbox.lines_written(before);
    }

    #[test]
    fn lines_and_payloads_come_out_in_order_and_large_payloads_are_shared() {
        let mut outbox = Outbox::new();
        let large = Bytes::from(vec![7u8; 10_000]);
        line(&mut outbox, b"MSG a 1 10000\r\n");
        outbox.payload(&large);
        line(&mut outbox, b"\r\nMSG b 1 2\r\n");
        outbox.payload(&Bytes::from_static(b"hi"));
        let mut expected = b"MSG a 1 10000\r\n".to_vec();
        expected.extend_from_slice(&large);
        expected.extend_from_slice(b"\r\nMSG b 1 2\r\nhi");
        assert_eq!(gather(&outbox, &[]), expected);
        assert_eq!(outbox.pending(), expected.len());
        assert!(
            outbox
                .chunks
                .iter()
                .any(|chunk| chunk.as_ptr() == large.as_ptr()),
            "the large payload is shared, not copied"
        );
        outbox.advance(20);
        assert_eq!(gather(&outbox, &[]), expected[20..]);
        outbox.advance(expected.len());
        assert!(outbox.is_empty());
        assert!(gather(&outbox, &[]).is_empty());
    }

    #[test]
    fn a_payload_from_an_offset_is_shared_when_large_and_copied_when_small() {
        let mut outbox = Outbox::new();
        let large = Bytes::from((0..20_000).map(|i| i as u8).collect::<Vec<u8>>());
        outbox.payload_from(&large, 100);
        let small = Bytes::from_static(b"HEADERSbody");
        outbox.payload_from(&small, 7);
        outbox.payload_from(&small, small.len() + 3);
        let mut expected = large[100..].to_vec();
        expected.extend_from_slice(b"body");
        assert_eq!(gather(&outbox, &[]), expected);
        assert_eq!(outbox.pending(), expected.len());
        assert!(
            outbox
                .chunks
                .iter()
                .any(|chunk| chunk.as_ptr() == large[100..].as_ptr()),
            "the large part is a slice of the payload, not a copy"
        );
    }

    #[test]
    fn spliced_payloads_are_written_from_the_turn_and_never_copied_while_it_lasts() {
        let turn = [Bytes::from(vec![1u8; 1024]), Bytes::from_static(b"HDRbody")];
        let mut outbox = Outbox::new();
        line(&mut outbox, b"MSG a 1 1024\r\n");
        assert!(
            outbox.splice(0, &turn[0], 0),
            "the first splice of the turn"
        );
        line(&mut outbox, b"\r\nMSG b 2 4\r\n");
        assert!(!outbox.splice(1, &turn[1], 3));
        assert!(!outbox.splice(1, &turn[1], 7), "an empty part adds nothing");
        line(&mut outbox, b"\r\n");
        let mut expected = b"MSG a 1 1024\r\n".to_vec();
        expected.extend_from_slice(&turn[0]);
        expected.extend_from_slice(b"\r\nMSG b 2 4\r\nbody\r\n");
        assert_eq!(gather(&outbox, &turn), expected);
        assert_eq!(outbox.pending(), expected.len());
        let mut slices = [IoSlice::new(&[]); 8];
        let count = outbox.io_slices(&turn, &mut slices);
        assert_eq!(count, 5);
        assert_eq!(slices[1].as_ptr(), turn[0].as_ptr(), "read in place");
        assert!(outbox.lines.len() < 64, "the payloads are not in the lines");
        outbox.advance(expected.len());
        assert!(outbox.is_empty());
        assert!(gather(&outbox, &turn).is_empty());
    }

    #[test]
    fn what_a_turn_could_not_write_is_settled_large_payloads_shared() {
        let turn = [Bytes::from(vec![2u8; 9000]), Bytes::from(vec![3u8; 600])];
        let mut outbox = Outbox::new();
        line(&mut outbox, b"one\r\n");
        outbox.splice(0, &turn[0], 0);
        line(&mut outbox, b"\r\ntwo\r\n");
        outbox.splice(1, &turn[1], 0);
        line(&mut outbox, b"\r\n");
        let whole = gather(&outbox, &turn);
        // Written up to 10 bytes into the first payload: still read in place.
        outbox.advance(15);
        assert_eq!(gather(&outbox, &turn), whole[15..]);
        let mut slices = [IoSlice::new(&[]); 8];
        outbox.io_slices(&turn, &mut slices);
        assert_eq!(slices[0].as_ptr(), turn[0][10..].as_ptr());
        outbox.settle(&turn);
        assert_eq!(
            gather(&outbox, &[]),
            whole[15..],
            "nothing refers to the turn"
        );
        assert!(
            outbox
                .chunks
                .iter()
                .any(|chunk| chunk.as_ptr() == turn[0][10..].as_ptr()),
            "the large rest is shared"
        );
        // Written into the line after it, then settled.
        outbox.advance(9000 - 10 + 3);
        outbox.settle(&[]);
        assert_eq!(gather(&outbox, &[]), whole[15 + 9000 - 10 + 3..]);
        // Settled at the end of a turn without a write.
        let mut outbox = Outbox::new();
        line(&mut outbox, b"x");
        outbox.splice(1, &turn[1], 100);
        outbox.settle(&turn);
        outbox.payload(&Bytes::from_static(b"later"));
        let mut expected = b"x".to_vec();
        expected.extend_from_slice(&turn[1][100..]);
        expected.extend_from_slice(b"later");
        assert_eq!(gather(&outbox, &[]), expected);
        assert_eq!(outbox.pending(), expected.len());
    }

    #[test]
    fn a_payload_queued_after_a_splice_keeps_its_place() {
        let turn = [Bytes::from(vec![4u8; 700])];
        let large = Bytes::from(vec![5u8; 9000]);
        let mut outbox = Outbox::new();
        outbox.splice(0, &turn[0], 0);
        outbox.payload(&large);
        let mut expected = turn[0].to_vec();
        expected.extend_from_slice(&large);
        assert_eq!(gather(&outbox, &turn), expected);
        outbox.settle(&turn);
        assert_eq!(gather(&outbox, &[]), expected);
    }

    /// One step of a model run.
    #[derive(Debug, Clone)]
    enum Step {
        Line(Vec<u8>),
        Payload(usize, usize),
        Splice(usize, usize),
        /// A vectored write of at most this many bytes from at most this many
        /// slices.
        Write(usize, usize),
        EndTurn,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Step::Line),
            (0..3usize, 0..12_000usize).prop_map(|(which, start)| Step::Payload(which, start)),
            (0..3usize, 0..12_000usize).prop_map(|(which, start)| Step::Splice(which, start)),
            (0..30_000usize, 1..6usize).prop_map(|(count, slices)| Step::Write(count, slices)),
            Just(Step::EndTurn),
        ]
    }

    proptest! {
        #[test]
        fn an_outbox_writes_exactly_what_was_queued(steps in proptest::collection::vec(step(), 0..60)) {
            // Payloads of each kind: tiny, between the two thresholds, large.
            let payloads = [
                Bytes::from((0..40u8).collect::<Vec<u8>>()),
                Bytes::from((0..3000).map(|i| (i % 251) as u8).collect::<Vec<u8>>()),
                Bytes::from((0..11_000).map(|i| (i % 241) as u8).collect::<Vec<u8>>()),
            ];
            let mut outbox = Outbox::new();
            let mut turn: Vec<Bytes> = Vec::new();
            let mut model: Vec<u8> = Vec::new();
            let mut written: Vec<u8> = Vec::new();
            let mut sent: Vec<u8> = Vec::new();
            for step in steps {
                match step {
                    Step::Line(text) => {
                        line(&mut outbox, &text);
                        model.extend_from_slice(&text);
                    }
                    Step::Payload(which, start) => {
                        outbox.payload_from(&payloads[which], start);
                        model.extend_from_slice(payloads[which].get(start..).unwrap_or_default());
                    }
                    Step::Splice(which, start) => {
                        turn.push(payloads[which].clone());
                        outbox.splice(turn.len() - 1, &payloads[which], start);
                        model.extend_from_slice(payloads[which].get(start..).unwrap_or_default());
                    }
                    Step::Write(count, slices) => {
                        let mut offered = [IoSlice::new(&[]); 6];
                        let filled = outbox.io_slices(&turn, &mut offered[..slices]);
                        let offered: Vec<u8> = offered[..filled]
                            .iter()
                            .flat_map(|slice| slice.to_vec())
                            .collect();
                        let count = count.min(offered.len());
                        written.extend_from_slice(&offered[..count]);
                        outbox.advance(count);
                    }
                    Step::EndTurn => {
                        outbox.settle(&turn);
                        turn.clear();
                    }
                }
                sent.clear();
                sent.extend_from_slice(&written);
                sent.extend_from_slice(&gather(&outbox, &turn));
                prop_assert_eq!(&sent, &model);
                prop_assert_eq!(outbox.pending(), model.len() - written.len());
            }
        }
    }
}
