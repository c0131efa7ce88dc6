//! `RawCodec`: what a ZMQ_STREAM connection speaks, sans-IO: raw bytes with no
//! ZMTP at all (libzmq's `raw_engine_t`, `raw_decoder_t` and `raw_encoder_t`).
//!
//! There is no greeting and no handshake: a new codec reports its peer ready at
//! once (a STREAM peer with no routing id and no metadata). Each read of up to
//! [`READ_CHUNK`] bytes (8 KiB, libzmq's `in_batch_size`) becomes one
//! single-frame message, copied into a buffer of exactly its size, so a message
//! never holds more memory than the bytes it carries. That is what bounds a
//! connection's inbound memory in bytes although its pipe counts messages: at
//! most RCVHWM messages wait in the pipe and one more in the session, so at most
//! (RCVHWM + 1) × 8 KiB of a peer's bytes, plus this codec's 8 KiB read buffer
//! (with ZMQ_RCVHWM 0, no limit, as the application asked). Output is each
//! message's frames written back to back as they are, with no framing; frames
//! are shared, never copied.
//!
//! This file must never touch a stream, a thread or a clock, never panic on any
//! count it is given, and never lose a byte it was handed.

use crate::message::Message;
use crate::zmtp::{Event, Metadata, PeerInfo, Revision, SocketType};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::IoSlice;

/// The most bytes one read takes, and so the most one received message carries
/// (libzmq's `in_batch_size`).
pub(crate) const READ_CHUNK: usize = 8192;

/// The raw protocol of one connection: bytes in, messages out; messages in, bytes
/// out.
#[derive(Debug)]
pub(crate) struct RawCodec {
    /// The peer was reported ready.
    announced: bool,
    /// Where the next read lands.
    read_buffer: Box<[u8]>,
    /// What the last read brought, not yet taken as a message.
    received: Option<Bytes>,
    /// Frames to write, in order.
    output: VecDeque<Bytes>,
    /// Bytes of the front frame already written.
    written_front: usize,
    /// Bytes queued in `output` and not yet written.
    pending: usize,
}

impl Default for RawCodec {
    fn default() -> RawCodec {
        RawCodec::new()
    }
}

impl RawCodec {
    /// A codec for a connection that just opened.
    pub(crate) fn new() -> RawCodec {
        RawCodec {
            announced: false,
            read_buffer: vec![0; READ_CHUNK].into_boxed_slice(),
            received: None,
            output: VecDeque::new(),
            written_front: 0,
            pending: 0,
        }
    }

    /// The next event: first (and at once) the peer is ready, then each read's
    /// bytes as one single-frame message.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        if !self.announced {
            self.announced = true;
            return Some(Event::Ready(PeerInfo {
                socket_type: SocketType::Stream,
                routing_id: None,
                metadata: Metadata::new(),
                // Unused: no subscriptions travel over a raw connection.
                revision: Revision::V3_1,
            }));
        }
        self.received
            .take()
            .map(|bytes| Event::Message(Message::from(bytes)))
    }

    /// Where to read the peer's next bytes; empty while the last read's bytes
    /// have not been taken, so the codec never holds more than one chunk.
    pub(crate) fn read_buffer(&mut self) -> &mut [u8] {
        if self.received.is_some() {
            return &mut [];
        }
        &mut self.read_buffer
    }

    /// `count` bytes were read into the read buffer (a count beyond it is
    /// taken as the whole buffer).
    pub(crate) fn handle_read(&mut self, count: usize) {
        let count = count.min(self.read_buffer.len());
        let Some(chunk) = self.read_buffer.get(..count) else {
            return;
        };
        if chunk.is_empty() {
            return;
        }
        self.received = Some(match self.received.take() {
            None => Bytes::copy_from_slice(chunk),
            // Only if bytes were read without asking for the buffer first: keep
            // both rather than lose either.
            Some(waiting) => {
                let mut joined = BytesMut::with_capacity(waiting.len() + chunk.len());
                joined.extend_from_slice(&waiting);
                joined.extend_from_slice(chunk);
                joined.freeze()
            }
        });
    }

    /// Queues a message's frames to be written as they are, back to back.
    pub(crate) fn send_message(&mut self, message: &Message) {
        for frame in message.frames() {
            if !frame.is_empty() {
                self.pending += frame.len();
                self.output.push_back(frame.clone());
            }
        }
    }

    /// Bytes queued and not yet written.
    pub(crate) fn pending_output(&self) -> usize {
        self.pending
    }

    /// Fills `slices` with the bytes to write next, in order; returns how many
    /// slices it filled.
    pub(crate) fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut count = 0;
        for (index, (slot, frame)) in slices.iter_mut().zip(self.output.iter()).enumerate() {
            let skip = if index == 0 { self.written_front } else { 0 };
            *slot = IoSlice::new(frame.get(skip..).unwrap_or(&[]));
            count += 1;
        }
        count
    }

    /// `count` bytes of what `io_slices` gave were written (a count beyond what is
    /// pending is taken as all of it).
    pub(crate) fn handle_written(&mut self, count: usize) {
        let mut left = count.min(self.pending);
        self.pending -= left;
        while left > 0 {
            let Some(front) = self.output.front() else {
                break;
            };
            let remaining = front.len().saturating_sub(self.written_front);
            if left >= remaining {
                left -= remaining;
                self.output.pop_front();
                self.written_front = 0;
            } else {
                self.written_front += left;
                left = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the codec would write now, as one buffer.
    fn drain(codec: &mut RawCodec, at_most_per_write: usize) -> Vec<u8> {
        let mut written = Vec::new();
        while codec.pending_output() > 0 {
            let mut slices = [IoSlice::new(&[]); 4];
            let count = codec.io_slices(&mut slices);
            let mut took = 0;
            for slice in &slices[..count] {
                let room = at_most_per_write - took;
                let part = &slice[..slice.len().min(room)];
                written.extend_from_slice(part);
                took += part.len();
                if took == at_most_per_write {
                    break;
                }
            }
            codec.handle_written(took);
        }
        written
    }

    fn read(codec: &mut RawCodec, bytes: &[u8]) -> usize {
        let buffer = codec.read_buffer();
        let count = bytes.len().min(buffer.len());
        buffer[..count].copy_from_slice(&bytes[..count]);
        codec.handle_read(count);
        count
    }

    fn message(event: Option<Event>) -> Vec<Vec<u8>> {
        match event {
            Some(Event::Message(message)) => message
                .frames()
                .iter()
                .map(|frame| frame.to_vec())
                .collect(),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn the_peer_is_ready_at_once_as_a_stream_peer_with_no_id() {
        let mut codec = RawCodec::new();
        match codec.poll_event() {
            Some(Event::Ready(peer)) => {
                assert_eq!(peer.socket_type, SocketType::Stream);
                assert_eq!(peer.routing_id, None);
                assert!(peer.metadata.iter().next().is_none());
            }
            other => panic!("expected ready, got {other:?}"),
        }
        assert!(codec.poll_event().is_none(), "nothing read yet");
    }

    #[test]
    fn each_read_is_one_message_of_exactly_its_bytes() {
        let mut codec = RawCodec::new();
        codec.poll_event();
        read(&mut codec, b"GET / HT");
        assert_eq!(message(codec.poll_event()), [b"GET / HT".to_vec()]);
        read(&mut codec, b"TP/1.1\r\n\r\n");
        assert_eq!(message(codec.poll_event()), [b"TP/1.1\r\n\r\n".to_vec()]);
        assert!(codec.poll_event().is_none());
    }

    #[test]
    fn a_read_takes_at_most_one_chunk() {
        let mut codec = RawCodec::new();
        codec.poll_event();
        let flood = vec![0x5a; 3 * READ_CHUNK + 17];
        let mut offset = 0;
        let mut sizes = Vec::new();
        while offset < flood.len() {
            offset += read(&mut codec, &flood[offset..]);
            let frames = message(codec.poll_event());
            sizes.push(frames[0].len());
            // Exactly its bytes: the frame does not pin a larger buffer.
            assert!(frames[0].len() <= READ_CHUNK);
        }
        assert_eq!(sizes, [READ_CHUNK, READ_CHUNK, READ_CHUNK, 17]);
    }

    #[test]
    fn the_buffer_is_withheld_until_the_last_read_is_taken() {
        let mut codec = RawCodec::new();
        codec.poll_event();
        read(&mut codec, b"one");
        assert!(codec.read_buffer().is_empty());
        // A read reported anyway is kept, not lost.
        codec
            .read_buffer
            .get_mut(..3)
            .unwrap()
            .copy_from_slice(b"two");
        codec.handle_read(3);
        assert_eq!(message(codec.poll_event()), [b"onetwo".to_vec()]);
        assert_eq!(codec.read_buffer().len(), READ_CHUNK);
    }

    #[test]
    fn counts_out_of_range_do_not_panic() {
        let mut codec = RawCodec::new();
        codec.poll_event();
        codec.handle_read(0);
        assert!(codec.poll_event().is_none());
        codec.handle_read(usize::MAX);
        assert_eq!(message(codec.poll_event())[0].len(), READ_CHUNK);
        codec.handle_written(usize::MAX);
        assert_eq!(codec.pending_output(), 0);
        codec.send_message(&Message::from("abc"));
        codec.handle_written(10);
        assert_eq!(codec.pending_output(), 0);
        let mut slices = [IoSlice::new(&[]); 2];
        assert_eq!(codec.io_slices(&mut slices), 0);
    }

    #[test]
    fn messages_are_written_raw_in_order_across_partial_writes() {
        let mut codec = RawCodec::new();
        codec.send_message(&Message::from("HTTP/1.1 200 OK\r\n"));
        codec.send_message(&Message::from(Bytes::new()));
        codec.send_message(&Message::from_frames(["Content-Length: 2", "\r\n\r\nhi"]));
        for i in 0..6 {
            codec.send_message(&Message::from(format!("[{i}]")));
        }
        let expected = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi[0][1][2][3][4][5]";
        assert_eq!(codec.pending_output(), expected.len());
        for step in [1, 2, 3, 5, 7, 64] {
            let mut copy = RawCodec::new();
            copy.send_message(&Message::from_frames(
                codec.output.iter().cloned().collect::<Vec<_>>(),
            ));
            assert_eq!(drain(&mut copy, step), expected, "writes of {step} bytes");
        }
        assert_eq!(drain(&mut codec, usize::MAX), expected);
        assert_eq!(codec.pending_output(), 0);
    }

    #[test]
    fn frames_are_shared_not_copied() {
        let mut codec = RawCodec::new();
        let body = Bytes::from(vec![7u8; 100_000]);
        codec.send_message(&Message::from(body.clone()));
        {
            let mut slices = [IoSlice::new(&[]); 1];
            assert_eq!(codec.io_slices(&mut slices), 1);
            assert_eq!(slices[0].as_ptr(), body.as_ptr());
        }
        codec.handle_written(40_000);
        let mut slices = [IoSlice::new(&[]); 1];
        codec.io_slices(&mut slices);
        assert_eq!(slices[0].as_ptr(), body[40_000..].as_ptr());
        assert_eq!(slices[0].len(), 60_000);
    }
}
