//! The NULL mechanism (RFC 23): each side sends READY with its metadata.
//!
//! NULL is symmetric, as in libzmq: READY goes out as soon as the greetings are
//! complete, and the peer's READY is accepted at any moment after that. Any other
//! command before READY is a protocol error (libzmq's "unexpected command"). This
//! file must never accept a second READY or let traffic through before READY.

use super::{Mechanism, Progress};
use crate::zmtp::ProtocolError;
use crate::zmtp::command::{Command, Metadata, split_name};
use crate::zmtp::encoder::Encoder;
use crate::zmtp::error::printable;
use crate::zmtp::greeting::MechanismName;
use bytes::Bytes;

/// The NULL mechanism's handshake.
#[derive(Debug)]
pub struct Null {
    /// Our metadata, sent in READY.
    metadata: Metadata,
    /// Whether the peer's READY has arrived.
    done: bool,
}

impl Null {
    /// A NULL handshake that will announce `metadata`.
    pub fn new(metadata: Metadata) -> Null {
        Null {
            metadata,
            done: false,
        }
    }
}

impl Mechanism for Null {
    fn name(&self) -> MechanismName {
        MechanismName::NULL
    }

    fn as_server(&self) -> bool {
        false
    }

    fn handle_start(&mut self, out: &mut Encoder) -> Result<(), ProtocolError> {
        Command::Ready(std::mem::take(&mut self.metadata)).encode(out);
        Ok(())
    }

    fn handle_command(
        &mut self,
        body: &Bytes,
        _out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        let (name, _) = split_name(body)?;
        if self.done || name.as_ref() != b"READY" {
            if name.as_ref() == b"ERROR"
                && let Ok(Command::Error { reason }) = Command::parse(body)
            {
                return Err(ProtocolError::PeerError {
                    reason: printable(&reason),
                });
            }
            return Err(ProtocolError::UnexpectedCommand {
                mechanism: "NULL",
                command: printable(&name),
                expected: "READY",
            });
        }
        match Command::parse(body)? {
            Command::Ready(metadata) => {
                self.done = true;
                Ok(Progress::Ready(metadata))
            }
            _ => Err(ProtocolError::MalformedCommand {
                command: "READY",
                reason: "not a READY command",
            }),
        }
    }
}
