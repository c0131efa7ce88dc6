//! The public `Error`: only variants a caller can act on.
//!
//! Each variant names the libzmq errno it stands for, so a libzmq user knows what to
//! expect. A failed send hands the message back (`SendError`), as libzmq leaves a
//! failed message with its caller. This file must never grow a variant that only
//! reports our own bug.

use crate::message::Message;
use crate::zmtp::ProtocolError;
use std::fmt;
use std::io;

/// What went wrong with a socket call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call would have to wait, and waiting was not allowed (EAGAIN).
    #[error("the operation would block")]
    WouldBlock,
    /// The call waited for its send or receive timeout and gave up (EAGAIN after
    /// ZMQ_SNDTIMEO / ZMQ_RCVTIMEO).
    #[error("the operation timed out")]
    TimedOut,
    /// The context was shut down (ETERM).
    #[error("the context was terminated")]
    Terminated,
    /// The endpoint could not be parsed or names an unknown transport (EINVAL,
    /// EPROTONOSUPPORT).
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The address is already bound (EADDRINUSE).
    #[error("address already in use: {0}")]
    AddressInUse(String),
    /// The address does not belong to this machine (EADDRNOTAVAIL).
    #[error("address not available: {0}")]
    AddressNotAvailable(String),
    /// No endpoint by that name is bound or connected on this socket (ENOENT).
    #[error("no such endpoint: {0}")]
    EndpointNotFound(String),
    /// The message names no reachable peer (EHOSTUNREACH, with ZMQ_ROUTER_MANDATORY).
    #[error("host unreachable")]
    HostUnreachable,
    /// The socket type does not support the operation (ENOTSUP), such as sending on
    /// a PULL socket.
    #[error("operation not supported by this socket type")]
    NotSupported,
    /// The call is not allowed in the socket's current state (EFSM), such as a
    /// second send on a REQ socket before its reply.
    #[error("operation not allowed in the socket's current state")]
    InvalidState,
    /// An option value is out of range, or the option does not apply (EINVAL).
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
    /// A message with no frames cannot be sent.
    #[error("a message must have at least one frame")]
    EmptyMessage,
    /// The message's frames do not have the shape the socket type sends (EINVAL),
    /// such as a STREAM message that is not `[routing id, data]`.
    #[error("invalid message: {0}")]
    InvalidMessage(&'static str),
    /// A peer broke the protocol (reported by monitors and one-shot calls).
    #[error("protocol violation: {0}")]
    Protocol(#[from] ProtocolError),
    /// The operating system refused an I/O operation.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// Whether retrying later may succeed (would block or timed out).
    pub fn is_would_block(&self) -> bool {
        matches!(self, Error::WouldBlock | Error::TimedOut)
    }
}

/// A send that failed, with the message handed back to the caller.
pub struct SendError {
    /// Why the send failed.
    pub error: Error,
    /// The message that was not sent.
    pub message: Message,
}

impl SendError {
    /// A failed send of `message`.
    pub fn new(error: Error, message: Message) -> SendError {
        SendError { error, message }
    }
}

impl fmt::Debug for SendError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SendError")
            .field("error", &self.error)
            .field("frames", &self.message.len())
            .finish()
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "send failed: {}", self.error)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<SendError> for Error {
    fn from(failed: SendError) -> Error {
        failed.error
    }
}

/// A `Result` with Sinew's `Error`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
