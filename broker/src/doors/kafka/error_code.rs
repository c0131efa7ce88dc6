//! Kafka's error codes, the numbers its clients act on, as a Rust enum.
//!
//! The numbers are Kafka's (`org.apache.kafka.common.protocol.Errors`), checked
//! against kafka-python's `kafka.errors` table; a code never changes meaning once
//! published, so a number here must never be edited, only added. This file holds
//! no logic that can fail.

/// A Kafka error code as it travels: a signed 16-bit number, 0 for none.
///
/// Only the codes the door answers with (or will, for consumer groups) are named;
/// [`ErrorCode::number`] is what goes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i16)]
pub enum ErrorCode {
    /// The server hit an error it did not expect.
    UnknownServerError = -1,
    /// No error.
    None = 0,
    /// The requested offset is outside the range the partition holds.
    OffsetOutOfRange = 1,
    /// A record batch failed its CRC or is otherwise corrupt.
    CorruptMessage = 2,
    /// The topic or partition does not exist.
    UnknownTopicOrPartition = 3,
    /// The partition has no leader yet (a topic being created).
    LeaderNotAvailable = 5,
    /// This broker is not the partition's leader.
    NotLeaderOrFollower = 6,
    /// The request timed out (acks -1 not met in time).
    RequestTimedOut = 7,
    /// A batch is larger than the broker accepts.
    MessageTooLarge = 10,
    /// OffsetCommit: the metadata string is longer than the broker keeps.
    OffsetMetadataTooLarge = 12,
    /// The coordinator is still loading.
    CoordinatorLoadInProgress = 14,
    /// The coordinator is not available.
    CoordinatorNotAvailable = 15,
    /// This broker is not the group's coordinator.
    NotCoordinator = 16,
    /// A topic name breaks Kafka's naming rules.
    InvalidTopicException = 17,
    /// A produce request's batches together are too large.
    RecordListTooLarge = 18,
    /// Fewer in-sync replicas than acks -1 needs.
    NotEnoughReplicas = 19,
    /// acks was not -1, 0 or 1.
    InvalidRequiredAcks = 21,
    /// The group generation in a request is not the current one.
    IllegalGeneration = 22,
    /// JoinGroup: no protocol common to the members.
    InconsistentGroupProtocol = 23,
    /// The group id is empty or invalid.
    InvalidGroupId = 24,
    /// The member id is not known to the group.
    UnknownMemberId = 25,
    /// The session timeout is outside the broker's bounds.
    InvalidSessionTimeout = 26,
    /// The group is rebalancing; the member must rejoin.
    RebalanceInProgress = 27,
    /// OffsetCommit: the commit was refused for its size.
    InvalidCommitOffsetSize = 28,
    /// The client may not use the topic.
    TopicAuthorizationFailed = 29,
    /// The client may not use the group.
    GroupAuthorizationFailed = 30,
    /// The client may not perform a cluster action.
    ClusterAuthorizationFailed = 31,
    /// A record's timestamp is out of the accepted range.
    InvalidTimestamp = 32,
    /// The api key and version are not supported.
    UnsupportedVersion = 35,
    /// CreateTopics: the topic exists.
    TopicAlreadyExists = 36,
    /// The partition count is invalid.
    InvalidPartitions = 37,
    /// The replication factor is invalid.
    InvalidReplicationFactor = 38,
    /// A topic configuration is invalid.
    InvalidConfig = 40,
    /// This broker is not the controller.
    NotController = 41,
    /// The request is malformed or inconsistent.
    InvalidRequest = 42,
    /// The message format does not support the request.
    UnsupportedForMessageFormat = 43,
    /// The request breaks a policy of the broker.
    PolicyViolation = 44,
    /// An idempotent producer's sequence is out of order.
    OutOfOrderSequenceNumber = 45,
    /// An idempotent producer resent a batch already written.
    DuplicateSequenceNumber = 46,
    /// An idempotent producer's epoch is stale.
    InvalidProducerEpoch = 47,
    /// A transactional operation in an invalid state.
    InvalidTxnState = 48,
    /// The transactional id is not authorized: how this door refuses transactions (InitProducerId with a transactional id), as Kafka does for a principal without the permission.
    TransactionalIdAuthorizationFailed = 53,
    /// A disk error on the broker.
    KafkaStorageError = 56,
    /// The producer id is not known or has expired.
    UnknownProducerId = 59,
    /// DeleteGroups: the group still has members.
    NonEmptyGroup = 68,
    /// The group does not exist.
    GroupIdNotFound = 69,
    /// The fetch session id is not known.
    FetchSessionIdNotFound = 70,
    /// The fetch session epoch is invalid.
    InvalidFetchSessionEpoch = 71,
    /// Topic deletion is disabled.
    TopicDeletionDisabled = 73,
    /// The leader epoch in the request is older than the broker's.
    FencedLeaderEpoch = 74,
    /// The leader epoch in the request is newer than the broker's.
    UnknownLeaderEpoch = 75,
    /// The compression type is not supported.
    UnsupportedCompressionType = 76,
    /// The offset is not yet available.
    OffsetNotAvailable = 78,
    /// JoinGroup: the member must rejoin with the member id given.
    MemberIdRequired = 79,
    /// JoinGroup: the group has as many members as the broker allows.
    GroupMaxSizeReached = 81,
    /// A static member (group instance id) was replaced by a newer one.
    FencedInstanceId = 82,
    /// A record failed the broker's validation.
    InvalidRecord = 87,
    /// OffsetFetch with require_stable: offsets of an open transaction are pending.
    UnstableOffsetCommit = 88,
    /// The topic id is not known.
    UnknownTopicId = 100,
}

impl ErrorCode {
    /// The number on the wire.
    pub fn number(self) -> i16 {
        self as i16
    }

    /// The named code for a number; `None` for a number not named here.
    pub fn from_number(number: i16) -> Option<ErrorCode> {
        ALL_ERROR_CODES
            .iter()
            .copied()
            .find(|code| code.number() == number)
    }
}

/// Every named code, in number order.
pub const ALL_ERROR_CODES: [ErrorCode; 59] = [
    ErrorCode::UnknownServerError,
    ErrorCode::None,
    ErrorCode::OffsetOutOfRange,
    ErrorCode::CorruptMessage,
    ErrorCode::UnknownTopicOrPartition,
    ErrorCode::LeaderNotAvailable,
    ErrorCode::NotLeaderOrFollower,
    ErrorCode::RequestTimedOut,
    ErrorCode::MessageTooLarge,
    ErrorCode::OffsetMetadataTooLarge,
    ErrorCode::CoordinatorLoadInProgress,
    ErrorCode::CoordinatorNotAvailable,
    ErrorCode::NotCoordinator,
    ErrorCode::InvalidTopicException,
    ErrorCode::RecordListTooLarge,
    ErrorCode::NotEnoughReplicas,
    ErrorCode::InvalidRequiredAcks,
    ErrorCode::IllegalGeneration,
    ErrorCode::InconsistentGroupProtocol,
    ErrorCode::InvalidGroupId,
    ErrorCode::UnknownMemberId,
    ErrorCode::InvalidSessionTimeout,
    ErrorCode::RebalanceInProgress,
    ErrorCode::InvalidCommitOffsetSize,
    ErrorCode::TopicAuthorizationFailed,
    ErrorCode::GroupAuthorizationFailed,
    ErrorCode::ClusterAuthorizationFailed,
    ErrorCode::InvalidTimestamp,
    ErrorCode::UnsupportedVersion,
    ErrorCode::TopicAlreadyExists,
    ErrorCode::InvalidPartitions,
    ErrorCode::InvalidReplicationFactor,
    ErrorCode::InvalidConfig,
    ErrorCode::NotController,
    ErrorCode::InvalidRequest,
    ErrorCode::UnsupportedForMessageFormat,
    ErrorCode::PolicyViolation,
    ErrorCode::OutOfOrderSequenceNumber,
    ErrorCode::DuplicateSequenceNumber,
    ErrorCode::InvalidProducerEpoch,
    ErrorCode::InvalidTxnState,
    ErrorCode::TransactionalIdAuthorizationFailed,
    ErrorCode::KafkaStorageError,
    ErrorCode::UnknownProducerId,
    ErrorCode::NonEmptyGroup,
    ErrorCode::GroupIdNotFound,
    ErrorCode::FetchSessionIdNotFound,
    ErrorCode::InvalidFetchSessionEpoch,
    ErrorCode::TopicDeletionDisabled,
    ErrorCode::FencedLeaderEpoch,
    ErrorCode::UnknownLeaderEpoch,
    ErrorCode::UnsupportedCompressionType,
    ErrorCode::OffsetNotAvailable,
    ErrorCode::MemberIdRequired,
    ErrorCode::GroupMaxSizeReached,
    ErrorCode::FencedInstanceId,
    ErrorCode::InvalidRecord,
    ErrorCode::UnstableOffsetCommit,
    ErrorCode::UnknownTopicId,
];
