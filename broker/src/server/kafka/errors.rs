//! The store's errors as Kafka's error codes, chosen so that a Kafka client
//! retries or fails as it would against Kafka: a missing topic is
//! UNKNOWN_TOPIC_OR_PARTITION (retried while metadata refreshes), a bad batch
//! CORRUPT_MESSAGE, a full store REQUEST_TIMED_OUT (retried), a disk failure
//! KAFKA_STORAGE_ERROR.
//!
//! A pure function of the error: this file must never hide an error behind
//! NONE.

use crate::doors::kafka::ErrorCode;
use crate::store::StoreError;
use sinew_log::LogError;

/// Kafka's code for a store error.
pub(super) fn code(error: &StoreError) -> ErrorCode {
    match error {
        StoreError::UnknownTopic(_) | StoreError::UnknownPartition { .. } => {
            ErrorCode::UnknownTopicOrPartition
        }
        StoreError::InvalidPartitions { .. } => ErrorCode::InvalidPartitions,
        StoreError::UnknownProducer(_) => ErrorCode::UnknownProducerId,
        StoreError::TopicExists(_) => ErrorCode::TopicAlreadyExists,
        StoreError::InvalidTopicName { .. } => ErrorCode::InvalidTopicException,
        StoreError::InvalidConfig { .. } => ErrorCode::InvalidConfig,
        StoreError::InvalidRequest(_) => ErrorCode::InvalidRequest,
        StoreError::OffsetOutOfRange { .. } => ErrorCode::OffsetOutOfRange,
        StoreError::OutOfOrderSequence { .. } => ErrorCode::OutOfOrderSequenceNumber,
        StoreError::ProducerFenced { .. } => ErrorCode::InvalidProducerEpoch,
        StoreError::Log { source, .. } => log_code(source),
        StoreError::Busy { .. } => ErrorCode::RequestTimedOut,
        _ => ErrorCode::KafkaStorageError,
    }
}

fn log_code(error: &LogError) -> ErrorCode {
    match error {
        LogError::InvalidBatch(_) => ErrorCode::CorruptMessage,
        LogError::BatchTooLarge { .. } => ErrorCode::MessageTooLarge,
        LogError::OffsetOutOfRange { .. } => ErrorCode::OffsetOutOfRange,
        LogError::KeyRequired { .. } => ErrorCode::InvalidRecord,
        LogError::OutOfOrderSequence { .. } => ErrorCode::OutOfOrderSequenceNumber,
        LogError::ProducerFenced { .. } => ErrorCode::InvalidProducerEpoch,
        _ => ErrorCode::KafkaStorageError,
    }
}
