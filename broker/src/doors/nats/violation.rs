//! What a NATS client did wrong, and what nats-server 2.x answers: the exact text it
//! sends inside `-ERR '...'` (if any) and whether it closes the connection.
//!
//! The texts are nats-server's, byte for byte and case included (`server/parser.go`,
//! `server/client.go`, `server/errors.go`); `broker/docs/nats-door.md` lists where each
//! comes from. This module must never invent a text a NATS client would not recognise.

use std::fmt;

/// A stable code for each thing a client can do wrong (or each reason nats-server
/// gives up on a client), for logs and metrics; never sent on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// A byte where no operation name (or no payload end) can be.
    UnknownOperation,
    /// A payload not followed by `\r\n`.
    PayloadNotTerminated,
    /// Authorization is required and the first operation is not `CONNECT`.
    AuthorizationRequired,
    /// A `CONNECT` names an `account` or asks for a `new_account`.
    AccountDesignation,
    /// The core refused the credentials of a `CONNECT`.
    AuthorizationViolation,
    /// No `CONNECT` arrived in time while authorization is required.
    AuthenticationTimeout,
    /// A control line longer than the limit.
    MaximumControlLine,
    /// A `PUB` or `HPUB` announcing more than the maximum payload.
    MaximumPayload,
    /// A `PUB`, `HPUB`, `SUB` or `UNSUB` with the wrong number of arguments.
    MalformedArguments,
    /// A `PUB` or `HPUB` size that is not 1 to 9 decimal digits.
    MalformedSize,
    /// An `HPUB` whose header size is larger than its total size.
    HeaderSizeExceedsTotal,
    /// An `HPUB` from a client that did not announce `headers` in its `CONNECT`.
    HeadersNotSupported,
    /// A `CONNECT` or `INFO` whose JSON nats-server's decoder refuses.
    MalformedJson,
    /// A `CONNECT` asking for a protocol other than 0 or 1.
    ClientProtocol,
    /// A `CONNECT` with `no_responders` but without `headers`.
    NoRespondersRequiresHeaders,
    /// The client sent `-ERR`: nats-server logs it and closes.
    ClientError,
    /// A `SUB` subject with an empty token or a token after `>`.
    InvalidSubject,
    /// A pedantic client published to a subject with a wildcard or an empty token.
    InvalidPublishSubject,
    /// The server is at its connection limit.
    MaximumConnections,
    /// The connection is at its subscription limit (the connection stays open).
    MaximumSubscriptions,
    /// The client did not answer the server's PINGs.
    StaleConnection,
    /// The client reads too slowly: nats-server closes without a word.
    SlowConsumer,
}

/// What nats-server does about a [`ViolationKind`]: the `-ERR` text it sends, if any,
/// and whether it then closes the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    /// What went wrong.
    pub kind: ViolationKind,
    /// The text inside `-ERR '...'`, or `None` when nothing is sent.
    pub message: Option<&'static str>,
    /// Whether the connection is closed after the message (if any) is written.
    pub close: bool,
}

impl From<ViolationKind> for Violation {
    fn from(kind: ViolationKind) -> Self {
        use ViolationKind::*;
        let (message, close) = match kind {
            UnknownOperation | PayloadNotTerminated => (Some("Unknown Protocol Operation"), true),
            AuthorizationRequired | AccountDesignation | AuthorizationViolation => {
                (Some("Authorization Violation"), true)
            }
            AuthenticationTimeout => (Some("Authentication Timeout"), true),
            MaximumControlLine => (Some("maximum control line exceeded"), true),
            MaximumPayload => (Some("Maximum Payload Violation"), true),
            MalformedArguments
            | MalformedSize
            | HeaderSizeExceedsTotal
            | HeadersNotSupported
            | MalformedJson
            | ClientError
            | SlowConsumer => (None, true),
            ClientProtocol => (Some("invalid client protocol"), true),
            NoRespondersRequiresHeaders => (Some("no responders requires headers support"), true),
            InvalidSubject => (Some("Invalid Subject"), false),
            InvalidPublishSubject => (Some("Invalid Publish Subject"), false),
            MaximumConnections => (Some("maximum connections exceeded"), true),
            MaximumSubscriptions => (Some("maximum subscriptions exceeded"), false),
            StaleConnection => (Some("Stale Connection"), true),
        };
        Self {
            kind,
            message,
            close,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = if self.close { "close" } else { "stay open" };
        match self.message {
            Some(message) => write!(formatter, "{:?}: -ERR '{message}', {action}", self.kind),
            None => write!(formatter, "{:?}: no -ERR, {action}", self.kind),
        }
    }
}

impl std::error::Error for Violation {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_nats_servers() {
        let unknown = Violation::from(ViolationKind::UnknownOperation);
        assert_eq!(unknown.message, Some("Unknown Protocol Operation"));
        assert!(unknown.close);
        let line = Violation::from(ViolationKind::MaximumControlLine);
        assert_eq!(line.message, Some("maximum control line exceeded"));
        let subject = Violation::from(ViolationKind::InvalidSubject);
        assert_eq!(subject.message, Some("Invalid Subject"));
        assert!(!subject.close);
        let json = Violation::from(ViolationKind::MalformedJson);
        assert_eq!((json.message, json.close), (None, true));
    }

    #[test]
    fn display_says_what_and_what_follows() {
        let text = Violation::from(ViolationKind::MaximumPayload).to_string();
        assert_eq!(
            text,
            "MaximumPayload: -ERR 'Maximum Payload Violation', close"
        );
    }
}
