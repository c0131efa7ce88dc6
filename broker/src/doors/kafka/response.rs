//! A response: its body and the encoder that frames it (size prefix, response
//! header v0 or v1, body) as a list of `Bytes` chunks, record batches among them
//! uncopied, for one vectored write; and a client's decoder of the responses it
//! reads ([`decode_response`]).
//!
//! The encoder trusts its caller for the version (the request's, already checked
//! against the advertised range); it must never panic and never copy records.
//! The decoder trusts nothing in the frame: it must never panic on a broker's
//! bytes nor allocate beyond what they could need.

use bytes::{Bytes, BytesMut};

use super::api::ApiKey;
use super::api_versions::ApiVersionsResponse;
use super::coordinator::FindCoordinatorResponse;
use super::create_partitions::CreatePartitionsResponse;
use super::delete_records::DeleteRecordsResponse;
use super::describe_cluster::DescribeClusterResponse;
use super::describe_configs::DescribeConfigsResponse;
use super::error_code::ErrorCode;
use super::fetch::FetchResponse;
use super::group_admin::{DeleteGroupsResponse, DescribeGroupsResponse, ListGroupsResponse};
use super::leader_epoch::OffsetForLeaderEpochResponse;
use super::list_offsets::ListOffsetsResponse;
use super::membership::{HeartbeatResponse, LeaveGroupResponse};
use super::metadata::MetadataResponse;
use super::offset_commit::OffsetCommitResponse;
use super::offset_fetch::OffsetFetchResponse;
use super::produce::ProduceResponse;
use super::producer_id::InitProducerIdResponse;
use super::rebalance::{JoinGroupResponse, SyncGroupResponse};
use super::topics::{CreateTopicsResponse, DeleteTopicsResponse};
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// A response's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseBody {
    /// Key 0 (never sent for acks 0).
    Produce(ProduceResponse),
    /// Key 1.
    Fetch(FetchResponse),
    /// Key 2.
    ListOffsets(ListOffsetsResponse),
    /// Key 3.
    Metadata(MetadataResponse),
    /// Key 8.
    OffsetCommit(OffsetCommitResponse),
    /// Key 9.
    OffsetFetch(OffsetFetchResponse),
    /// Key 10.
    FindCoordinator(FindCoordinatorResponse),
    /// Key 11.
    JoinGroup(JoinGroupResponse),
    /// Key 12.
    Heartbeat(HeartbeatResponse),
    /// Key 13.
    LeaveGroup(LeaveGroupResponse),
    /// Key 14.
    SyncGroup(SyncGroupResponse),
    /// Key 15.
    DescribeGroups(DescribeGroupsResponse),
    /// Key 16.
    ListGroups(ListGroupsResponse),
    /// Key 18.
    ApiVersions(ApiVersionsResponse),
    /// Key 19.
    CreateTopics(CreateTopicsResponse),
    /// Key 20.
    DeleteTopics(DeleteTopicsResponse),
    /// Key 21.
    DeleteRecords(DeleteRecordsResponse),
    /// Key 22.
    InitProducerId(InitProducerIdResponse),
    /// Key 23.
    OffsetForLeaderEpoch(OffsetForLeaderEpochResponse),
    /// Key 32.
    DescribeConfigs(DescribeConfigsResponse),
    /// Key 37.
    CreatePartitions(CreatePartitionsResponse),
    /// Key 42.
    DeleteGroups(DeleteGroupsResponse),
    /// Key 60.
    DescribeCluster(DescribeClusterResponse),
}

impl ResponseBody {
    /// The API this body answers.
    pub fn api_key(&self) -> ApiKey {
        match self {
            ResponseBody::Produce(_) => ApiKey::Produce,
            ResponseBody::Fetch(_) => ApiKey::Fetch,
            ResponseBody::ListOffsets(_) => ApiKey::ListOffsets,
            ResponseBody::Metadata(_) => ApiKey::Metadata,
            ResponseBody::OffsetCommit(_) => ApiKey::OffsetCommit,
            ResponseBody::OffsetFetch(_) => ApiKey::OffsetFetch,
            ResponseBody::FindCoordinator(_) => ApiKey::FindCoordinator,
            ResponseBody::JoinGroup(_) => ApiKey::JoinGroup,
            ResponseBody::Heartbeat(_) => ApiKey::Heartbeat,
            ResponseBody::LeaveGroup(_) => ApiKey::LeaveGroup,
            ResponseBody::SyncGroup(_) => ApiKey::SyncGroup,
            ResponseBody::DescribeGroups(_) => ApiKey::DescribeGroups,
            ResponseBody::ListGroups(_) => ApiKey::ListGroups,
            ResponseBody::ApiVersions(_) => ApiKey::ApiVersions,
            ResponseBody::CreateTopics(_) => ApiKey::CreateTopics,
            ResponseBody::DeleteTopics(_) => ApiKey::DeleteTopics,
            ResponseBody::DeleteRecords(_) => ApiKey::DeleteRecords,
            ResponseBody::InitProducerId(_) => ApiKey::InitProducerId,
            ResponseBody::OffsetForLeaderEpoch(_) => ApiKey::OffsetForLeaderEpoch,
            ResponseBody::DescribeConfigs(_) => ApiKey::DescribeConfigs,
            ResponseBody::CreatePartitions(_) => ApiKey::CreatePartitions,
            ResponseBody::DeleteGroups(_) => ApiKey::DeleteGroups,
            ResponseBody::DescribeCluster(_) => ApiKey::DescribeCluster,
        }
    }
}

/// Encodes a response to a request of `version` with `correlation_id`: the first
/// chunk starts with the 4-byte size, the chunks together are the whole frame.
///
/// An ApiVersions response carrying an error is always written as version 0,
/// whatever the request's: a client that sent a version the broker does not
/// know can read nothing else, and kafka-python reads every ApiVersions error
/// as version 0 (its `ApiVersionsResponse.decode`); librdkafka reads the error
/// code first, where every version has it.
pub fn encode_response(correlation_id: i32, version: i16, body: &ResponseBody) -> Vec<Bytes> {
    let api_key = body.api_key();
    let version = match body {
        ResponseBody::ApiVersions(response) if response.error_code != ErrorCode::None => 0,
        _ => version,
    };
    let mut writer = Writer::new(false);
    writer.i32(correlation_id);
    if api_key.response_header_version(version) >= 1 {
        writer.set_flexible(true);
        writer.tagged_fields();
    }
    writer.set_flexible(api_key.is_flexible(version));
    match body {
        ResponseBody::Produce(response) => response.encode(&mut writer, version),
        ResponseBody::Fetch(response) => response.encode(&mut writer, version),
        ResponseBody::ListOffsets(response) => response.encode(&mut writer, version),
        ResponseBody::Metadata(response) => response.encode(&mut writer, version),
        ResponseBody::OffsetCommit(response) => response.encode(&mut writer, version),
        ResponseBody::OffsetFetch(response) => response.encode(&mut writer, version),
        ResponseBody::FindCoordinator(response) => response.encode(&mut writer, version),
        ResponseBody::JoinGroup(response) => response.encode(&mut writer, version),
        ResponseBody::Heartbeat(response) => response.encode(&mut writer, version),
        ResponseBody::LeaveGroup(response) => response.encode(&mut writer, version),
        ResponseBody::SyncGroup(response) => response.encode(&mut writer, version),
        ResponseBody::DescribeGroups(response) => response.encode(&mut writer, version),
        ResponseBody::ListGroups(response) => response.encode(&mut writer, version),
        ResponseBody::ApiVersions(response) => response.encode(&mut writer, version),
        ResponseBody::CreateTopics(response) => response.encode(&mut writer, version),
        ResponseBody::DeleteTopics(response) => response.encode(&mut writer, version),
        ResponseBody::DeleteRecords(response) => response.encode(&mut writer, version),
        ResponseBody::InitProducerId(response) => response.encode(&mut writer, version),
        ResponseBody::OffsetForLeaderEpoch(response) => response.encode(&mut writer, version),
        ResponseBody::DescribeConfigs(response) => response.encode(&mut writer, version),
        ResponseBody::CreatePartitions(response) => response.encode(&mut writer, version),
        ResponseBody::DeleteGroups(response) => response.encode(&mut writer, version),
        ResponseBody::DescribeCluster(response) => response.encode(&mut writer, version),
    }
    writer.into_framed_chunks()
}

/// Decodes one response frame (without its size prefix) to a request of
/// `api_key` at `version`: the correlation id (the caller checks it is the
/// request's) and the body.
///
/// The header is v1 (correlation id, tagged fields) for a flexible version, v0
/// otherwise, and always v0 for ApiVersions; an ApiVersions answer carrying an
/// error is read as version 0, as it is written. Bytes after the last field are
/// ignored, as Kafka's clients ignore them. Only the responses a client of this
/// codec reads decode here: ApiVersions, Metadata, FindCoordinator, ListGroups,
/// DescribeGroups, OffsetFetch, ListOffsets and OffsetCommit;
/// [`DecodeError::NoDecoder`] for the others and for a version outside the
/// codec's range.
pub fn decode_response(
    api_key: ApiKey,
    version: i16,
    frame: Bytes,
) -> Result<(i32, ResponseBody), DecodeError> {
    if !api_key.supports(version) {
        return Err(DecodeError::NoDecoder {
            api_key: api_key.number(),
            version,
        });
    }
    let mut reader = Reader::new(frame, false);
    let correlation_id = reader.i32("the correlation id")?;
    if api_key.response_header_version(version) >= 1 {
        reader.set_flexible(true);
        reader.tagged_fields()?;
    }
    reader.set_flexible(api_key.is_flexible(version));
    let reader = &mut reader;
    let body = match api_key {
        ApiKey::ApiVersions => {
            ResponseBody::ApiVersions(ApiVersionsResponse::decode(reader, version)?)
        }
        ApiKey::Metadata => ResponseBody::Metadata(MetadataResponse::decode(reader, version)?),
        ApiKey::FindCoordinator => {
            ResponseBody::FindCoordinator(FindCoordinatorResponse::decode(reader, version)?)
        }
        ApiKey::ListGroups => {
            ResponseBody::ListGroups(ListGroupsResponse::decode(reader, version)?)
        }
        ApiKey::DescribeGroups => {
            ResponseBody::DescribeGroups(DescribeGroupsResponse::decode(reader, version)?)
        }
        ApiKey::OffsetFetch => {
            ResponseBody::OffsetFetch(OffsetFetchResponse::decode(reader, version)?)
        }
        ApiKey::ListOffsets => {
            ResponseBody::ListOffsets(ListOffsetsResponse::decode(reader, version)?)
        }
        ApiKey::OffsetCommit => {
            ResponseBody::OffsetCommit(OffsetCommitResponse::decode(reader, version)?)
        }
        _ => {
            return Err(DecodeError::NoDecoder {
                api_key: api_key.number(),
                version,
            });
        }
    };
    Ok((correlation_id, body))
}

/// Kafka's answer to an ApiVersions request of a version it does not know: a v0
/// response with error 35 listing ApiVersions' own range.
pub fn encode_unsupported_api_versions(correlation_id: i32) -> Vec<Bytes> {
    let body = ResponseBody::ApiVersions(ApiVersionsResponse::unsupported_version());
    encode_response(correlation_id, 0, &body)
}

/// The chunks joined: for tests and small responses.
pub fn join(chunks: &[Bytes]) -> Bytes {
    let mut joined = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
    for chunk in chunks {
        joined.extend_from_slice(chunk);
    }
    joined.freeze()
}
