//! InitProducerId (key 22), versions 0 to 4: an idempotent producer asks for its
//! producer id and epoch. A request with a transactional id is a transactional
//! producer, which the door refuses with
//! [`ErrorCode::TransactionalIdAuthorizationFailed`] (see `docs/kafka.md`).
//!
//! Nothing here may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// An InitProducerId request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// The transactional id, or null for an idempotent producer.
    pub transactional_id: Option<String>,
    /// The transaction timeout (meaningless without a transactional id).
    pub transaction_timeout_ms: i32,
    /// The producer id to bump (v3+; -1 for a new one).
    pub producer_id: i64,
    /// The epoch to bump (v3+; -1 for a new one).
    pub producer_epoch: i16,
}

impl InitProducerIdRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let transactional_id = reader.nullable_string("the transactional id")?;
        let transaction_timeout_ms = reader.i32("the transaction timeout")?;
        let (producer_id, producer_epoch) = if version >= 3 {
            (
                reader.i64("the producer id")?,
                reader.i16("the producer epoch")?,
            )
        } else {
            (-1, -1)
        };
        reader.tagged_fields()?;
        Ok(InitProducerIdRequest {
            transactional_id,
            transaction_timeout_ms,
            producer_id,
            producer_epoch,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.nullable_string(self.transactional_id.as_deref());
        writer.i32(self.transaction_timeout_ms);
        if version >= 3 {
            writer.i64(self.producer_id);
            writer.i16(self.producer_epoch);
        }
        writer.tagged_fields();
    }
}

/// An InitProducerId response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// The producer id granted (-1 on error).
    pub producer_id: i64,
    /// Its epoch (-1 on error).
    pub producer_epoch: i16,
}

impl InitProducerIdResponse {
    /// Writes the body (the same fields in every version).
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.i16(self.error_code.number());
        writer.i64(self.producer_id);
        writer.i16(self.producer_epoch);
        writer.tagged_fields();
    }
}
