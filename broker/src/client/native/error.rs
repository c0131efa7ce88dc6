//! The native client's one error type: a broker's error response with its
//! protocol code, details and message, or what went wrong on this side (the
//! socket, a deadline, a response that does not decode, a bad argument).
//!
//! It must never lose the broker's numeric code, and never be built by panicking:
//! every fault a peer can cause ends here.

use std::fmt;

use crate::doors::native::{ErrorCode, ErrorResponse, ProtocolError};

/// What went wrong in a native client call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The broker answered with an error response (`protocol.md`, "Error codes").
    Broker {
        /// The code; [`ErrorCode::code`] is the number on the wire.
        code: ErrorCode,
        /// The code's two details (0 where the code gives none).
        details: [u64; 2],
        /// The broker's message, or empty when it sent none.
        message: String,
    },
    /// The socket failed (connect, send or receive).
    Socket(String),
    /// A deadline passed before the answer arrived; the outcome is unknown.
    TimedOut(String),
    /// The broker's answer does not decode, or answers something else.
    Protocol(String),
    /// An argument is not allowed (a topic name, a partition, a setting).
    InvalidArgument(String),
}

/// The result of native client calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The protocol's error code, for an error the broker sent.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Broker { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether sending the same request again may succeed: the broker's
    /// retriable codes, and a deadline that passed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Broker { code, .. } => code.is_retriable(),
            Error::TimedOut(_) => true,
            _ => false,
        }
    }

    pub(crate) fn from_response(error: ErrorResponse) -> Error {
        Error::Broker {
            code: error.code,
            details: error.details,
            message: error.message.unwrap_or_default(),
        }
    }

    pub(crate) fn from_protocol(error: &ProtocolError) -> Error {
        Error::Protocol(format!("the broker's answer does not decode: {error}"))
    }

    pub(crate) fn socket(what: &str, error: &sinew::Error) -> Error {
        Error::Socket(format!("{what}: {error}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Broker { code, message, .. } if message.is_empty() => {
                write!(formatter, "the broker answered {code}")
            }
            Error::Broker { code, message, .. } => {
                write!(formatter, "the broker answered {code}: {message}")
            }
            Error::Socket(message) => write!(formatter, "socket error: {message}"),
            Error::TimedOut(message) => write!(formatter, "timed out: {message}"),
            Error::Protocol(message) => write!(formatter, "protocol error: {message}"),
            Error::InvalidArgument(message) => write!(formatter, "invalid argument: {message}"),
        }
    }
}

impl std::error::Error for Error {}
