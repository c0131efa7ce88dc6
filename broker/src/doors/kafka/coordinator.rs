//! FindCoordinator (key 10), versions 0 to 2: which broker coordinates a group
//! (or a transactional id, which the door refuses). A single-broker door always
//! answers itself; later sessions add the group APIs behind it.
//!
//! Nothing here may read past the message.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// What kind of key a FindCoordinator asks about (v1+; v0 is always a group).
pub const KEY_TYPE_GROUP: i8 = 0;
/// A transactional id's coordinator.
pub const KEY_TYPE_TRANSACTION: i8 = 1;

/// A FindCoordinator request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindCoordinatorRequest {
    /// The group id or transactional id.
    pub key: String,
    /// [`KEY_TYPE_GROUP`] or [`KEY_TYPE_TRANSACTION`] (always group in v0).
    pub key_type: i8,
}

impl FindCoordinatorRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let key = reader.string("the coordinator key")?;
        let key_type = if version >= 1 {
            reader.i8("the key type")?
        } else {
            KEY_TYPE_GROUP
        };
        reader.tagged_fields()?;
        Ok(FindCoordinatorRequest { key, key_type })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.string(&self.key);
        if version >= 1 {
            writer.i8(self.key_type);
        }
        writer.tagged_fields();
    }
}

/// A FindCoordinator response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindCoordinatorResponse {
    /// Throttle time (v1+).
    pub throttle_time_ms: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// A message for the error (v1+).
    pub error_message: Option<String>,
    /// The coordinator's node id.
    pub node_id: i32,
    /// The coordinator's host.
    pub host: String,
    /// The coordinator's port.
    pub port: i32,
}

impl FindCoordinatorResponse {
    /// Reads the body of `version` (a client's side).
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = if version >= 1 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        let error_code = reader.error_code("the error code")?;
        let error_message = if version >= 1 {
            reader.nullable_string("the error message")?
        } else {
            None
        };
        let node_id = reader.i32("the node id")?;
        let host = reader.string("the host")?;
        let port = reader.i32("the port")?;
        reader.tagged_fields()?;
        Ok(FindCoordinatorResponse {
            throttle_time_ms,
            error_code,
            error_message,
            node_id,
            host,
            port,
        })
    }

    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version >= 1 {
            writer.i32(self.throttle_time_ms);
        }
        writer.i16(self.error_code.number());
        if version >= 1 {
            writer.nullable_string(self.error_message.as_deref());
        }
        writer.i32(self.node_id);
        writer.string(&self.host);
        writer.i32(self.port);
        writer.tagged_fields();
    }
}
