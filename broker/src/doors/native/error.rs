//! The native protocol's stable error codes, the error response a broker sends, and
//! [`ProtocolError`]: what a codec found wrong in a message, ready to be answered.
//!
//! Codes are part of the wire protocol (`broker/docs/protocol.md`, "Error codes"):
//! a number, once given a meaning, must never change it or be reused.

use std::fmt;

/// The longest error message a response carries, in bytes (longer ones are cut at
/// a character boundary).
pub const MAX_ERROR_MESSAGE_BYTES: usize = 1024;

/// Why a request failed: a stable number on the wire (`u16`, never 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1: the message's structure is wrong (header length, frame count, reserved
    /// bits, a table or headers frame that does not parse).
    Malformed,
    /// 2: the command code is not one this version defines.
    UnknownCommand,
    /// 3: the version byte is not one the broker speaks (details: lowest, highest).
    UnsupportedVersion,
    /// 4: too many frames, a header frame or a request too large (details: limit,
    /// what was sent).
    Oversized,
    /// 5: a field holds a value that is not allowed (an unknown acks level, a
    /// partition above 2^31-1, a negative timestamp other than -1, ...).
    InvalidArgument,
    /// 6: the connection has too many requests in flight (details: limit). Retriable.
    TooManyPending,
    /// 7: not durable in time, or a wait ran out: the outcome is unknown. Retriable
    /// (idempotently, for a PRODUCE).
    Timeout,
    /// 10: a RecordBatch whose framing is wrong (length, magic, record count).
    InvalidBatch,
    /// 11: a RecordBatch whose CRC-32C does not match its bytes.
    BadCrc,
    /// 12: a record the topic refuses (no key on a compacted topic).
    InvalidRecord,
    /// 20: no such topic.
    UnknownTopic,
    /// 21: no such partition (details: partition count, partition asked for).
    UnknownPartition,
    /// 22: CREATE_TOPIC for a name that exists.
    TopicExists,
    /// 23: a topic name outside Kafka's rules.
    InvalidTopicName,
    /// 24: a FETCH offset outside the log (details: earliest, latest).
    OffsetOutOfRange,
    /// 30: an idempotent batch whose sequence is not the next one (details:
    /// expected sequence, sequence sent).
    OutOfOrderSequence,
    /// 31: a producer epoch older than the current one (details: current epoch,
    /// epoch sent).
    ProducerFenced,
    /// 32: INIT_PRODUCER_ID for a producer id the broker never gave out.
    UnknownProducer,
    /// 40: the partition's storage failed; the broker stops writing to it.
    StorageFailed,
    /// 50: the group is rebalancing; JOIN_GROUP again.
    RebalanceInProgress,
    /// 51: the group does not know this member (its session ended); JOIN_GROUP
    /// again with an empty member id.
    UnknownMember,
    /// 52: the generation is not the group's current one; JOIN_GROUP again.
    IllegalGeneration,
    /// 53: the group id, the session timeout, or the assignor (no assignor all
    /// members name) cannot be used.
    InvalidGroup,
    /// 54: the broker is still loading committed offsets; retry.
    GroupsLoading,
    /// 55: another instance took this static member's place.
    FencedInstance,
    /// 56: the group has the most members it may have.
    GroupFull,
    /// A code this codec does not know (a newer broker's); never 0.
    Other(u16),
}

impl ErrorCode {
    /// The number on the wire.
    pub const fn code(self) -> u16 {
        match self {
            ErrorCode::Malformed => 1,
            ErrorCode::UnknownCommand => 2,
            ErrorCode::UnsupportedVersion => 3,
            ErrorCode::Oversized => 4,
            ErrorCode::InvalidArgument => 5,
            ErrorCode::TooManyPending => 6,
            ErrorCode::Timeout => 7,
            ErrorCode::InvalidBatch => 10,
            ErrorCode::BadCrc => 11,
            ErrorCode::InvalidRecord => 12,
            ErrorCode::UnknownTopic => 20,
            ErrorCode::UnknownPartition => 21,
            ErrorCode::TopicExists => 22,
            ErrorCode::InvalidTopicName => 23,
            ErrorCode::OffsetOutOfRange => 24,
            ErrorCode::OutOfOrderSequence => 30,
            ErrorCode::ProducerFenced => 31,
            ErrorCode::UnknownProducer => 32,
            ErrorCode::StorageFailed => 40,
            ErrorCode::RebalanceInProgress => 50,
            ErrorCode::UnknownMember => 51,
            ErrorCode::IllegalGeneration => 52,
            ErrorCode::InvalidGroup => 53,
            ErrorCode::GroupsLoading => 54,
            ErrorCode::FencedInstance => 55,
            ErrorCode::GroupFull => 56,
            ErrorCode::Other(code) => code,
        }
    }

    /// The code for a number on the wire; `None` for 0 (success).
    pub const fn from_code(code: u16) -> Option<ErrorCode> {
        Some(match code {
            0 => return None,
            1 => ErrorCode::Malformed,
            2 => ErrorCode::UnknownCommand,
            3 => ErrorCode::UnsupportedVersion,
            4 => ErrorCode::Oversized,
            5 => ErrorCode::InvalidArgument,
            6 => ErrorCode::TooManyPending,
            7 => ErrorCode::Timeout,
            10 => ErrorCode::InvalidBatch,
            11 => ErrorCode::BadCrc,
            12 => ErrorCode::InvalidRecord,
            20 => ErrorCode::UnknownTopic,
            21 => ErrorCode::UnknownPartition,
            22 => ErrorCode::TopicExists,
            23 => ErrorCode::InvalidTopicName,
            24 => ErrorCode::OffsetOutOfRange,
            30 => ErrorCode::OutOfOrderSequence,
            31 => ErrorCode::ProducerFenced,
            32 => ErrorCode::UnknownProducer,
            40 => ErrorCode::StorageFailed,
            50 => ErrorCode::RebalanceInProgress,
            51 => ErrorCode::UnknownMember,
            52 => ErrorCode::IllegalGeneration,
            53 => ErrorCode::InvalidGroup,
            54 => ErrorCode::GroupsLoading,
            55 => ErrorCode::FencedInstance,
            56 => ErrorCode::GroupFull,
            other => ErrorCode::Other(other),
        })
    }

    /// The name `protocol.md` gives the code (`MALFORMED`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "MALFORMED",
            ErrorCode::UnknownCommand => "UNKNOWN_COMMAND",
            ErrorCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ErrorCode::Oversized => "OVERSIZED",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::TooManyPending => "TOO_MANY_PENDING",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::InvalidBatch => "INVALID_BATCH",
            ErrorCode::BadCrc => "BAD_CRC",
            ErrorCode::InvalidRecord => "INVALID_RECORD",
            ErrorCode::UnknownTopic => "UNKNOWN_TOPIC",
            ErrorCode::UnknownPartition => "UNKNOWN_PARTITION",
            ErrorCode::TopicExists => "TOPIC_EXISTS",
            ErrorCode::InvalidTopicName => "INVALID_TOPIC_NAME",
            ErrorCode::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            ErrorCode::OutOfOrderSequence => "OUT_OF_ORDER_SEQUENCE",
            ErrorCode::ProducerFenced => "PRODUCER_FENCED",
            ErrorCode::UnknownProducer => "UNKNOWN_PRODUCER",
            ErrorCode::StorageFailed => "STORAGE_FAILED",
            ErrorCode::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            ErrorCode::UnknownMember => "UNKNOWN_MEMBER",
            ErrorCode::IllegalGeneration => "ILLEGAL_GENERATION",
            ErrorCode::InvalidGroup => "INVALID_GROUP",
            ErrorCode::GroupsLoading => "GROUPS_LOADING",
            ErrorCode::FencedInstance => "FENCED_INSTANCE",
            ErrorCode::GroupFull => "GROUP_FULL",
            ErrorCode::Other(_) => "UNKNOWN_ERROR_CODE",
        }
    }

    /// Whether sending the same request again may succeed.
    pub const fn is_retriable(self) -> bool {
        matches!(self, ErrorCode::TooManyPending | ErrorCode::Timeout)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({})", self.name(), self.code())
    }
}

/// A failed request, as the broker answers it: the command it answers, the code,
/// two code-specific details and an optional message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The request's command code, echoed (even one the broker does not know).
    pub command: u16,
    /// What went wrong.
    pub code: ErrorCode,
    /// Two numbers whose meaning depends on the code (0 when it gives none).
    pub details: [u64; 2],
    /// What the client did wrong, in words; at most [`MAX_ERROR_MESSAGE_BYTES`].
    pub message: Option<String>,
}

/// What a codec found wrong in a message it was given, with what it could read of
/// the message's prefix, so the error can be answered ([`ProtocolError::to_response`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    /// The message's correlation id; 0 when the prefix could not be read.
    pub correlation_id: u64,
    /// The message's command code; 0 when the prefix could not be read.
    pub command: u16,
    /// What is wrong.
    pub code: ErrorCode,
    /// The code's details (see [`ErrorResponse::details`]).
    pub details: [u64; 2],
    /// What is wrong, in words.
    pub message: String,
}

impl ProtocolError {
    /// The error response that answers the message.
    pub fn to_response(&self) -> super::Response {
        super::Response {
            correlation_id: self.correlation_id,
            body: super::ResponseBody::Error(ErrorResponse {
                command: self.command,
                code: self.code,
                details: self.details,
                message: Some(self.message.clone()),
            }),
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} (correlation id {}, command {}): {}",
            self.code, self.correlation_id, self.command, self.message
        )
    }
}

impl std::error::Error for ProtocolError {}

/// A fault found inside a message, before it is tied to the message's prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub code: ErrorCode,
    pub details: [u64; 2],
    pub message: String,
}

impl Fault {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Fault {
            code,
            details: [0, 0],
            message: message.into(),
        }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Fault::new(ErrorCode::Malformed, message)
    }

    pub fn with_details(mut self, first: u64, second: u64) -> Self {
        self.details = [first, second];
        self
    }

    /// The fault as the error of a message with this prefix.
    pub fn at(self, correlation_id: u64, command: u16) -> ProtocolError {
        ProtocolError {
            correlation_id,
            command,
            code: self.code,
            details: self.details,
            message: self.message,
        }
    }
}

/// `message` cut to at most [`MAX_ERROR_MESSAGE_BYTES`], at a character boundary.
pub(crate) fn truncate_message(message: &str) -> &str {
    if message.len() <= MAX_ERROR_MESSAGE_BYTES {
        return message;
    }
    let mut end = MAX_ERROR_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.get(..end).unwrap_or_default()
}
