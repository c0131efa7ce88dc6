//! The Kafka client's one error type: a broker's error code with what was being
//! done, or what went wrong on this side (the address, the socket, a deadline,
//! an answer that does not decode or does not answer the question).
//!
//! It must never lose the broker's error code, and never be built by panicking:
//! every fault a broker can cause ends here.

use std::io;
use std::time::Duration;

use crate::doors::kafka::{ApiKey, DecodeError, ErrorCode, FrameError};

/// What went wrong in a Kafka client call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The address is not `HOST:PORT`, or names no host.
    #[error("invalid broker address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Connecting failed (refused, unreachable, or not within the timeout).
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// The broker.
        address: String,
        /// Why.
        source: io::Error,
    },
    /// Reading or writing failed.
    #[error("{address}: {source}")]
    Io {
        /// The broker.
        address: String,
        /// Why.
        source: io::Error,
    },
    /// The broker closed the connection (Kafka closes on a request it cannot
    /// serve).
    #[error("{address} closed the connection")]
    Closed {
        /// The broker.
        address: String,
    },
    /// The answer did not arrive in time; the request's outcome is unknown.
    #[error("{address} did not answer {api:?} within {} ms", timeout.as_millis())]
    TimedOut {
        /// The broker.
        address: String,
        /// The request's API.
        api: ApiKey,
        /// How long the client waited.
        timeout: Duration,
    },
    /// The broker's size prefix is negative or over the client's limit.
    #[error("{address} sent an unreadable frame: {source}")]
    Frame {
        /// The broker.
        address: String,
        /// Why.
        source: FrameError,
    },
    /// The broker's answer does not decode.
    #[error("{address}'s {api:?} v{version} answer does not decode: {source}")]
    Decode {
        /// The broker.
        address: String,
        /// The request's API.
        api: ApiKey,
        /// The version asked.
        version: i16,
        /// Why.
        source: DecodeError,
    },
    /// The answer carries another request's correlation id.
    #[error("{address} answered correlation id {received}, not {sent}")]
    CorrelationId {
        /// The broker.
        address: String,
        /// The request's.
        sent: i32,
        /// The answer's.
        received: i32,
    },
    /// The broker supports no version of an API in this client's range.
    #[error("{address} supports no version of {api:?} this client speaks")]
    UnsupportedVersion {
        /// The broker.
        address: String,
        /// The API.
        api: ApiKey,
    },
    /// The broker answered with an error code.
    #[error("{what}: {} ({}){}", error_name(*code), code.number(), message.as_deref().map(|message| format!(": {message}")).unwrap_or_default())]
    Kafka {
        /// What was being done, e.g. "describing group orders".
        what: String,
        /// Kafka's error code.
        code: ErrorCode,
        /// The broker's message, when it sent one.
        message: Option<String>,
    },
    /// The answer does not answer what was asked (a partition missing, another
    /// API's body).
    #[error("{0}")]
    Protocol(String),
}

/// The result of Kafka client calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Kafka's error code, for an error the broker sent.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Kafka { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether asking again (after finding the coordinator again) may succeed:
    /// a coordinator loading, unavailable or moved.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self.code(),
            Some(
                ErrorCode::CoordinatorLoadInProgress
                    | ErrorCode::CoordinatorNotAvailable
                    | ErrorCode::NotCoordinator
            )
        )
    }

    /// Whether the connection that produced this error can still be used: only
    /// after an answer that was read whole.
    pub(crate) fn leaves_connection_usable(&self) -> bool {
        matches!(self, Error::Kafka { .. } | Error::Protocol(_))
    }
}

/// `Ok` for no error; otherwise the error, with what was being done.
pub(crate) fn check(code: ErrorCode, what: impl FnOnce() -> String) -> Result<()> {
    check_with_message(code, None, what)
}

/// As [`check`], with the broker's message.
pub(crate) fn check_with_message(
    code: ErrorCode,
    message: Option<String>,
    what: impl FnOnce() -> String,
) -> Result<()> {
    if code == ErrorCode::None {
        return Ok(());
    }
    Err(Error::Kafka {
        what: what(),
        code,
        message,
    })
}

/// Kafka's name for an error code, e.g. `UNKNOWN_TOPIC_OR_PARTITION`.
pub fn error_name(code: ErrorCode) -> String {
    let camel = format!("{code:?}");
    let mut name = String::with_capacity(camel.len() + 8);
    for (index, character) in camel.chars().enumerate() {
        if character.is_ascii_uppercase() && index > 0 {
            name.push('_');
        }
        name.push(character.to_ascii_uppercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_named_as_kafka_names_them() {
        assert_eq!(
            error_name(ErrorCode::UnknownTopicOrPartition),
            "UNKNOWN_TOPIC_OR_PARTITION"
        );
        assert_eq!(error_name(ErrorCode::None), "NONE");
        assert_eq!(error_name(ErrorCode::UnknownTopicId), "UNKNOWN_TOPIC_ID");
        let error = Error::Kafka {
            what: "describing group g".into(),
            code: ErrorCode::GroupAuthorizationFailed,
            message: None,
        };
        assert_eq!(
            error.to_string(),
            "describing group g: GROUP_AUTHORIZATION_FAILED (30)"
        );
    }
}
