//! DescribeCluster (key 60), versions 0 and 1: the cluster id, the controller
//! and the brokers, for admin clients that ask it instead of Metadata
//! (kafka-python 3's `describe_cluster`). A single-broker door lists itself.
//!
//! v1 adds the endpoint type (brokers or controllers). It is in the range
//! because kafka-python 3.0.12's `describe_cluster` fails on a v0 answer, which
//! has none (`docs/kafka.md`). Flexible in every version; v2's fenced brokers
//! are not spoken. Nothing here may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// An endpoint type: the brokers (the only one before v1).
pub const ENDPOINT_TYPE_BROKERS: i8 = 1;
/// An endpoint type: the controllers (KRaft), asked of a controller.
pub const ENDPOINT_TYPE_CONTROLLERS: i8 = 2;

/// A DescribeCluster request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeClusterRequest {
    /// Whether to fill in the cluster's authorized operations.
    pub include_cluster_authorized_operations: bool,
    /// Which endpoints to describe (v1+; [`ENDPOINT_TYPE_BROKERS`] for v0).
    pub endpoint_type: i8,
}

impl DescribeClusterRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let include_cluster_authorized_operations =
            reader.bool("include cluster authorized operations")?;
        let endpoint_type = if version >= 1 {
            reader.i8("the endpoint type")?
        } else {
            ENDPOINT_TYPE_BROKERS
        };
        reader.tagged_fields()?;
        Ok(DescribeClusterRequest {
            include_cluster_authorized_operations,
            endpoint_type,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.bool(self.include_cluster_authorized_operations);
        if version >= 1 {
            writer.i8(self.endpoint_type);
        }
        writer.tagged_fields();
    }
}

/// One broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeClusterBroker {
    /// Its node id.
    pub broker_id: i32,
    /// Its advertised host.
    pub host: String,
    /// Its advertised port.
    pub port: i32,
    /// Its rack, or null.
    pub rack: Option<String>,
}

/// A DescribeCluster response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeClusterResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// The error, or none.
    pub error_code: ErrorCode,
    /// A message for the error.
    pub error_message: Option<String>,
    /// The endpoint type described (v1+), as asked.
    pub endpoint_type: i8,
    /// The cluster id.
    pub cluster_id: String,
    /// The controller's node id.
    pub controller_id: i32,
    /// The brokers.
    pub brokers: Vec<DescribeClusterBroker>,
    /// A bit set of the operations the client may perform on the cluster
    /// ([`super::AUTHORIZED_OPERATIONS_OMITTED`] when not asked for).
    pub cluster_authorized_operations: i32,
}

impl DescribeClusterResponse {
    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.i16(self.error_code.number());
        writer.nullable_string(self.error_message.as_deref());
        if version >= 1 {
            writer.i8(self.endpoint_type);
        }
        writer.string(&self.cluster_id);
        writer.i32(self.controller_id);
        writer.array_count(Some(self.brokers.len()));
        for broker in &self.brokers {
            writer.i32(broker.broker_id);
            writer.string(&broker.host);
            writer.i32(broker.port);
            writer.nullable_string(broker.rack.as_deref());
            writer.tagged_fields();
        }
        writer.i32(self.cluster_authorized_operations);
        writer.tagged_fields();
    }
}
