//! A CURVE connection's boxes once both short-term keys are known (libzmq's
//! `curve_encoding_t`): the precomputed box of C' and S', our short-nonce counter
//! and the last short nonce the peer sent.
//!
//! It seals INITIATE (client) and READY (server), opens them on the other side, and
//! carries every frame after the handshake as MESSAGE: `\x07MESSAGE`, an 8-byte
//! short nonce, then the box of one flags byte (bit 0 MORE, bit 1 COMMAND, as
//! libzmq's `msg_t` flags) and the frame's body. Our counter starts at 1 on both
//! sides (the client's HELLO takes 1 and its INITIATE 2; the server's READY takes
//! 1), and a MESSAGE whose nonce is not above the last one received is refused.
//! Each MESSAGE is written and sealed in place in the output (the packing buffer
//! for a small one, a buffer of its own for a large one); a received one is opened
//! in place when its memory is not shared. This file must
//! never return a frame whose box did not open.

use super::boxes::{TAG_LENGTH, open, open_copy, seal, short_nonce};
use super::secretbox::SecretBox;
use super::{MESSAGE, NAME};
use crate::zmtp::ProtocolError;
use crate::zmtp::command::split_name;
use crate::zmtp::encoder::Encoder;
use crate::zmtp::error::printable;
use crate::zmtp::frame::Frame;
use crate::zmtp::reader::Reader;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;
use zeroize::Zeroizing;

/// MESSAGE's flag for "more frames follow" (libzmq's `msg_t::more`).
const FLAG_MORE: u8 = 0x01;
/// MESSAGE's flag for "this frame is a command" (libzmq's `msg_t::command`).
const FLAG_COMMAND: u8 = 0x02;
/// The name and the short nonce in front of a MESSAGE's box.
const MESSAGE_HEADER: usize = 8 + 8;

/// Boxes keyed by both short-term keys, and the short nonces in each direction.
pub(crate) struct Encoding {
    /// The precomputed box of our short-term secret and the peer's short-term key.
    cipher: SecretBox,
    /// The prefix of the nonces we send MESSAGEs with.
    encode_prefix: &'static [u8; 16],
    /// The prefix of the nonces the peer sends MESSAGEs with.
    decode_prefix: &'static [u8; 16],
    /// The short nonce our next box takes.
    nonce: u64,
    /// The last short nonce the peer sent.
    peer_nonce: u64,
}

impl fmt::Debug for Encoding {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Encoding")
            .field("nonce", &self.nonce)
            .field("peer_nonce", &self.peer_nonce)
            .finish_non_exhaustive()
    }
}

impl Encoding {
    /// Boxes under `cipher`; our next nonce is `nonce` and the peer's last was
    /// `peer_nonce`.
    pub(crate) fn new(
        cipher: SecretBox,
        encode_prefix: &'static [u8; 16],
        decode_prefix: &'static [u8; 16],
        nonce: u64,
        peer_nonce: u64,
    ) -> Encoding {
        Encoding {
            cipher,
            encode_prefix,
            decode_prefix,
            nonce,
            peer_nonce,
        }
    }

    /// Builds `header`, our next short nonce under `prefix`, then the box of the
    /// concatenated `parts`, in one buffer of exactly that size.
    pub(crate) fn seal(&mut self, prefix: &[u8; 16], header: &[&[u8]], parts: &[&[u8]]) -> Bytes {
        let nonce = self.next_nonce();
        let header_length = header.iter().map(|part| part.len()).sum::<usize>() + 8;
        let length = parts.iter().map(|part| part.len()).sum::<usize>();
        let mut buffer = BytesMut::with_capacity(header_length + TAG_LENGTH + length);
        for part in header {
            buffer.put_slice(part);
        }
        buffer.put_u64(nonce);
        buffer.put_bytes(0, TAG_LENGTH);
        for part in parts {
            buffer.put_slice(part);
        }
        if let Some(boxed) = buffer.get_mut(header_length..) {
            seal(&self.cipher, &short_nonce(prefix, nonce), boxed);
        }
        buffer.freeze()
    }

    /// Opens a handshake box sent with short nonce `nonce` under `prefix`, and
    /// records the nonce as the peer's last (libzmq does not require a handshake
    /// command's nonce to increase).
    pub(crate) fn open_command(
        &mut self,
        prefix: &[u8; 16],
        nonce: u64,
        boxed: &[u8],
        what: &'static str,
    ) -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
        let plaintext = open_copy(&self.cipher, &short_nonce(prefix, nonce), boxed, what)?;
        self.peer_nonce = nonce;
        Ok(plaintext)
    }

    /// Queues one frame as a MESSAGE, in an ordinary data frame as libzmq sends
    /// it, written and sealed in the output's own memory.
    pub(crate) fn encode(&mut self, more: bool, command: bool, body: &Bytes, out: &mut Encoder) {
        let mut flags = 0;
        if more {
            flags |= FLAG_MORE;
        }
        if command {
            flags |= FLAG_COMMAND;
        }
        let nonce = self.next_nonce();
        let full_nonce = short_nonce(self.encode_prefix, nonce);
        let cipher = &self.cipher;
        let size = MESSAGE_HEADER + TAG_LENGTH + 1 + body.len();
        out.frame_with(false, false, size, |buffer| {
            // `size` is exactly what these writes take.
            let mut cursor = &mut *buffer;
            cursor.put_slice(MESSAGE);
            cursor.put_u64(nonce);
            cursor.put_bytes(0, TAG_LENGTH);
            cursor.put_u8(flags);
            cursor.put_slice(body);
            if let Some(boxed) = buffer.get_mut(MESSAGE_HEADER..) {
                seal(cipher, &full_nonce, boxed);
            }
        });
    }

    /// Opens one MESSAGE and returns the frame it carries.
    pub(crate) fn decode(&mut self, frame: Frame) -> Result<Frame, ProtocolError> {
        let body = frame.body;
        let mut reader = Reader::new(&body);
        if reader.take(MESSAGE.len()) != Some(MESSAGE) {
            let name = split_name(&body)
                .map(|(name, _)| printable(&name))
                .unwrap_or_else(|_| "an unnamed frame".to_owned());
            return Err(ProtocolError::UnexpectedCommand {
                mechanism: NAME,
                command: name,
                expected: "MESSAGE",
            });
        }
        let nonce = reader.u64().ok_or(ProtocolError::MalformedCommand {
            command: "MESSAGE",
            reason: "shorter than its nonce",
        })?;
        if reader.remaining() < TAG_LENGTH + 1 {
            return Err(ProtocolError::MalformedCommand {
                command: "MESSAGE",
                reason: "its box is shorter than a tag and a flags byte",
            });
        }
        if nonce <= self.peer_nonce {
            return Err(ProtocolError::CurveNonceNotIncreasing {
                command: "MESSAGE",
                nonce,
                last: self.peer_nonce,
            });
        }
        // Open in place when the frame's memory is ours alone; copy it otherwise.
        let mut buffer = body
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        let boxed = buffer
            .get_mut(MESSAGE_HEADER..)
            .ok_or(ProtocolError::MalformedCommand {
                command: "MESSAGE",
                reason: "shorter than its nonce",
            })?;
        let full_nonce = short_nonce(self.decode_prefix, nonce);
        open(&self.cipher, &full_nonce, boxed, "MESSAGE box")?;
        self.peer_nonce = nonce;
        // The lengths were checked above: a flags byte follows the tag.
        let plaintext = buffer.freeze().split_off(MESSAGE_HEADER + TAG_LENGTH);
        let flags = plaintext.first().copied().unwrap_or(0);
        Ok(Frame {
            more: flags & FLAG_MORE != 0,
            command: flags & FLAG_COMMAND != 0,
            body: plaintext.slice(1..),
        })
    }

    /// Takes our next short nonce.
    fn next_nonce(&mut self) -> u64 {
        let nonce = self.nonce;
        // 2^64 boxes cannot be sent in a connection's lifetime.
        self.nonce = self.nonce.saturating_add(1);
        nonce
    }
}
