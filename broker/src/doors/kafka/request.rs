//! A request: its header (v1, or v2 for a flexible version) and its body, decoded
//! from one frame, or the reason the door cannot serve it, carrying what Kafka's
//! answer needs.
//!
//! Kafka closes the connection on an unknown api key, an unsupported version
//! (except ApiVersions, which is answered with error 35) and a body it cannot
//! parse; [`RequestError::answer`] says which. Nothing here may panic on a
//! frame's bytes.

use bytes::Bytes;
use thiserror::Error;

use super::api::ApiKey;
use super::api_versions::ApiVersionsRequest;
use super::coordinator::FindCoordinatorRequest;
use super::create_partitions::CreatePartitionsRequest;
use super::delete_records::DeleteRecordsRequest;
use super::describe_cluster::DescribeClusterRequest;
use super::describe_configs::DescribeConfigsRequest;
use super::fetch::FetchRequest;
use super::group_admin::{DeleteGroupsRequest, DescribeGroupsRequest, ListGroupsRequest};
use super::leader_epoch::OffsetForLeaderEpochRequest;
use super::list_offsets::ListOffsetsRequest;
use super::membership::{HeartbeatRequest, LeaveGroupRequest};
use super::metadata::MetadataRequest;
use super::offset_commit::OffsetCommitRequest;
use super::offset_fetch::OffsetFetchRequest;
use super::produce::ProduceRequest;
use super::producer_id::InitProducerIdRequest;
use super::rebalance::{JoinGroupRequest, SyncGroupRequest};
use super::topics::{CreateTopicsRequest, DeleteTopicsRequest};
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// A request header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHeader {
    /// The API.
    pub api_key: ApiKey,
    /// Its version, within the advertised range.
    pub api_version: i16,
    /// Echoed in the response.
    pub correlation_id: i32,
    /// The client's id (nullable, never compact, even in header v2).
    pub client_id: Option<String>,
}

/// A request's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    /// Key 0.
    Produce(ProduceRequest),
    /// Key 1.
    Fetch(FetchRequest),
    /// Key 2.
    ListOffsets(ListOffsetsRequest),
    /// Key 3.
    Metadata(MetadataRequest),
    /// Key 8.
    OffsetCommit(OffsetCommitRequest),
    /// Key 9.
    OffsetFetch(OffsetFetchRequest),
    /// Key 10.
    FindCoordinator(FindCoordinatorRequest),
    /// Key 11.
    JoinGroup(JoinGroupRequest),
    /// Key 12.
    Heartbeat(HeartbeatRequest),
    /// Key 13.
    LeaveGroup(LeaveGroupRequest),
    /// Key 14.
    SyncGroup(SyncGroupRequest),
    /// Key 15.
    DescribeGroups(DescribeGroupsRequest),
    /// Key 16.
    ListGroups(ListGroupsRequest),
    /// Key 18.
    ApiVersions(ApiVersionsRequest),
    /// Key 19.
    CreateTopics(CreateTopicsRequest),
    /// Key 20.
    DeleteTopics(DeleteTopicsRequest),
    /// Key 21.
    DeleteRecords(DeleteRecordsRequest),
    /// Key 22.
    InitProducerId(InitProducerIdRequest),
    /// Key 23.
    OffsetForLeaderEpoch(OffsetForLeaderEpochRequest),
    /// Key 32.
    DescribeConfigs(DescribeConfigsRequest),
    /// Key 37.
    CreatePartitions(CreatePartitionsRequest),
    /// Key 42.
    DeleteGroups(DeleteGroupsRequest),
    /// Key 60.
    DescribeCluster(DescribeClusterRequest),
}

impl RequestBody {
    /// The API this body asks.
    pub fn api_key(&self) -> ApiKey {
        match self {
            RequestBody::Produce(_) => ApiKey::Produce,
            RequestBody::Fetch(_) => ApiKey::Fetch,
            RequestBody::ListOffsets(_) => ApiKey::ListOffsets,
            RequestBody::Metadata(_) => ApiKey::Metadata,
            RequestBody::OffsetCommit(_) => ApiKey::OffsetCommit,
            RequestBody::OffsetFetch(_) => ApiKey::OffsetFetch,
            RequestBody::FindCoordinator(_) => ApiKey::FindCoordinator,
            RequestBody::JoinGroup(_) => ApiKey::JoinGroup,
            RequestBody::Heartbeat(_) => ApiKey::Heartbeat,
            RequestBody::LeaveGroup(_) => ApiKey::LeaveGroup,
            RequestBody::SyncGroup(_) => ApiKey::SyncGroup,
            RequestBody::DescribeGroups(_) => ApiKey::DescribeGroups,
            RequestBody::ListGroups(_) => ApiKey::ListGroups,
            RequestBody::ApiVersions(_) => ApiKey::ApiVersions,
            RequestBody::CreateTopics(_) => ApiKey::CreateTopics,
            RequestBody::DeleteTopics(_) => ApiKey::DeleteTopics,
            RequestBody::DeleteRecords(_) => ApiKey::DeleteRecords,
            RequestBody::InitProducerId(_) => ApiKey::InitProducerId,
            RequestBody::OffsetForLeaderEpoch(_) => ApiKey::OffsetForLeaderEpoch,
            RequestBody::DescribeConfigs(_) => ApiKey::DescribeConfigs,
            RequestBody::CreatePartitions(_) => ApiKey::CreatePartitions,
            RequestBody::DeleteGroups(_) => ApiKey::DeleteGroups,
            RequestBody::DescribeCluster(_) => ApiKey::DescribeCluster,
        }
    }
}

/// A decoded request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Its header.
    pub header: RequestHeader,
    /// Its body.
    pub body: RequestBody,
}

/// Why a frame is not a request the door can serve.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RequestError {
    /// Too short for the api key, version and correlation id.
    #[error("a request of {0} bytes is too short for a request header")]
    NoHeader(usize),
    /// An api key the door does not speak.
    #[error("unknown api key {api_key} (version {api_version})")]
    UnknownApiKey {
        /// The key sent.
        api_key: i16,
        /// The version sent.
        api_version: i16,
        /// The correlation id sent.
        correlation_id: i32,
    },
    /// A version outside the advertised range.
    #[error("{api_key:?} version {api_version} is not supported")]
    UnsupportedVersion {
        /// The API.
        api_key: ApiKey,
        /// The version sent.
        api_version: i16,
        /// The correlation id sent.
        correlation_id: i32,
    },
    /// The header or body could not be read.
    #[error("{api_key:?} v{api_version} is malformed: {error}")]
    Malformed {
        /// The API.
        api_key: ApiKey,
        /// The version sent.
        api_version: i16,
        /// The correlation id sent.
        correlation_id: i32,
        /// What was wrong.
        error: DecodeError,
    },
}

/// What the door does about a [`RequestError`], as Kafka does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send [`super::ApiVersionsResponse::unsupported_version`] as a v0 response
    /// with this correlation id, then carry on.
    UnsupportedApiVersions {
        /// The correlation id to echo.
        correlation_id: i32,
    },
    /// Close the connection without an answer.
    Close,
}

impl RequestError {
    /// Kafka's answer: an ApiVersions request of a version it does not know gets
    /// error 35 (KIP-511); everything else closes the connection.
    pub fn answer(&self) -> Answer {
        match *self {
            RequestError::UnsupportedVersion {
                api_key: ApiKey::ApiVersions,
                correlation_id,
                ..
            } => Answer::UnsupportedApiVersions { correlation_id },
            _ => Answer::Close,
        }
    }
}

/// Decodes one frame (without its size prefix) into a request.
pub fn decode_request(frame: Bytes) -> Result<Request, RequestError> {
    let length = frame.len();
    let mut reader = Reader::new(frame, false);
    let mut fixed = || -> Result<(i16, i16, i32), DecodeError> {
        Ok((
            reader.i16("the api key")?,
            reader.i16("the api version")?,
            reader.i32("the correlation id")?,
        ))
    };
    let (number, api_version, correlation_id) =
        fixed().map_err(|_| RequestError::NoHeader(length))?;
    let Some(api_key) = ApiKey::from_number(number) else {
        return Err(RequestError::UnknownApiKey {
            api_key: number,
            api_version,
            correlation_id,
        });
    };
    if !api_key.supports(api_version) {
        return Err(RequestError::UnsupportedVersion {
            api_key,
            api_version,
            correlation_id,
        });
    }
    let malformed = |error| RequestError::Malformed {
        api_key,
        api_version,
        correlation_id,
        error,
    };
    let client_id = reader
        .legacy_nullable_string("the client id")
        .map_err(malformed)?;
    reader.set_flexible(api_key.is_flexible(api_version));
    reader.tagged_fields().map_err(malformed)?;
    let body = decode_body(&mut reader, api_key, api_version).map_err(malformed)?;
    // Bytes after the last field are ignored, as Kafka ignores them: librdkafka
    // 2.16's Metadata v13 for every topic leaves three (its four-byte placeholder
    // for the topic count, of which a compact count reads one).
    Ok(Request {
        header: RequestHeader {
            api_key,
            api_version,
            correlation_id,
            client_id,
        },
        body,
    })
}

fn decode_body(
    reader: &mut Reader,
    api_key: ApiKey,
    version: i16,
) -> Result<RequestBody, DecodeError> {
    Ok(match api_key {
        ApiKey::Produce => RequestBody::Produce(ProduceRequest::decode(reader, version)?),
        ApiKey::Fetch => RequestBody::Fetch(FetchRequest::decode(reader, version)?),
        ApiKey::ListOffsets => {
            RequestBody::ListOffsets(ListOffsetsRequest::decode(reader, version)?)
        }
        ApiKey::Metadata => RequestBody::Metadata(MetadataRequest::decode(reader, version)?),
        ApiKey::OffsetCommit => {
            RequestBody::OffsetCommit(OffsetCommitRequest::decode(reader, version)?)
        }
        ApiKey::OffsetFetch => {
            RequestBody::OffsetFetch(OffsetFetchRequest::decode(reader, version)?)
        }
        ApiKey::FindCoordinator => {
            RequestBody::FindCoordinator(FindCoordinatorRequest::decode(reader, version)?)
        }
        ApiKey::JoinGroup => RequestBody::JoinGroup(JoinGroupRequest::decode(reader, version)?),
        ApiKey::Heartbeat => RequestBody::Heartbeat(HeartbeatRequest::decode(reader, version)?),
        ApiKey::LeaveGroup => RequestBody::LeaveGroup(LeaveGroupRequest::decode(reader, version)?),
        ApiKey::SyncGroup => RequestBody::SyncGroup(SyncGroupRequest::decode(reader, version)?),
        ApiKey::DescribeGroups => {
            RequestBody::DescribeGroups(DescribeGroupsRequest::decode(reader, version)?)
        }
        ApiKey::ListGroups => RequestBody::ListGroups(ListGroupsRequest::decode(reader, version)?),
        ApiKey::ApiVersions => {
            RequestBody::ApiVersions(ApiVersionsRequest::decode(reader, version)?)
        }
        ApiKey::CreateTopics => {
            RequestBody::CreateTopics(CreateTopicsRequest::decode(reader, version)?)
        }
        ApiKey::DeleteTopics => {
            RequestBody::DeleteTopics(DeleteTopicsRequest::decode(reader, version)?)
        }
        ApiKey::DeleteRecords => {
            RequestBody::DeleteRecords(DeleteRecordsRequest::decode(reader, version)?)
        }
        ApiKey::InitProducerId => {
            RequestBody::InitProducerId(InitProducerIdRequest::decode(reader, version)?)
        }
        ApiKey::OffsetForLeaderEpoch => {
            RequestBody::OffsetForLeaderEpoch(OffsetForLeaderEpochRequest::decode(reader, version)?)
        }
        ApiKey::DescribeConfigs => {
            RequestBody::DescribeConfigs(DescribeConfigsRequest::decode(reader, version)?)
        }
        ApiKey::CreatePartitions => {
            RequestBody::CreatePartitions(CreatePartitionsRequest::decode(reader, version)?)
        }
        ApiKey::DeleteGroups => {
            RequestBody::DeleteGroups(DeleteGroupsRequest::decode(reader, version)?)
        }
        ApiKey::DescribeCluster => {
            RequestBody::DescribeCluster(DescribeClusterRequest::decode(reader, version)?)
        }
    })
}

/// Encodes a request (a client's side, and the tests'): the first chunk starts
/// with the 4-byte size; records are chunks of their own, uncopied.
pub fn encode_request(header: &RequestHeader, body: &RequestBody) -> Vec<Bytes> {
    let version = header.api_version;
    let mut writer = Writer::new(false);
    writer.i16(header.api_key.number());
    writer.i16(version);
    writer.i32(header.correlation_id);
    writer.legacy_nullable_string(header.client_id.as_deref());
    writer.set_flexible(header.api_key.is_flexible(version));
    writer.tagged_fields();
    match body {
        RequestBody::Produce(request) => request.encode(&mut writer, version),
        RequestBody::Fetch(request) => request.encode(&mut writer, version),
        RequestBody::ListOffsets(request) => request.encode(&mut writer, version),
        RequestBody::Metadata(request) => request.encode(&mut writer, version),
        RequestBody::OffsetCommit(request) => request.encode(&mut writer, version),
        RequestBody::OffsetFetch(request) => request.encode(&mut writer, version),
        RequestBody::FindCoordinator(request) => request.encode(&mut writer, version),
        RequestBody::JoinGroup(request) => request.encode(&mut writer, version),
        RequestBody::Heartbeat(request) => request.encode(&mut writer, version),
        RequestBody::LeaveGroup(request) => request.encode(&mut writer, version),
        RequestBody::SyncGroup(request) => request.encode(&mut writer, version),
        RequestBody::DescribeGroups(request) => request.encode(&mut writer, version),
        RequestBody::ListGroups(request) => request.encode(&mut writer, version),
        RequestBody::ApiVersions(request) => request.encode(&mut writer, version),
        RequestBody::CreateTopics(request) => request.encode(&mut writer, version),
        RequestBody::DeleteTopics(request) => request.encode(&mut writer, version),
        RequestBody::DeleteRecords(request) => request.encode(&mut writer, version),
        RequestBody::InitProducerId(request) => request.encode(&mut writer, version),
        RequestBody::OffsetForLeaderEpoch(request) => request.encode(&mut writer, version),
        RequestBody::DescribeConfigs(request) => request.encode(&mut writer, version),
        RequestBody::CreatePartitions(request) => request.encode(&mut writer, version),
        RequestBody::DeleteGroups(request) => request.encode(&mut writer, version),
        RequestBody::DescribeCluster(request) => request.encode(&mut writer, version),
    }
    writer.into_framed_chunks()
}
