//! The Kafka door's codec: Kafka's wire protocol, sans-IO, for the versions
//! `broker/docs/kafka.md` lists (one coherent set, flexible versions and tagged
//! fields included).
//!
//! - [`split_frame`] takes one size-prefixed request off a read buffer, refusing
//!   a size over [`MAX_REQUEST_BYTES`] before buffering it.
//! - [`decode_request`] turns the frame into a [`Request`] (header and body), or a
//!   [`RequestError`] whose [`RequestError::answer`] is what Kafka does: answer an
//!   ApiVersions of an unknown version with error 35, close otherwise.
//! - [`encode_response`] turns a [`ResponseBody`] into `Bytes` chunks (size
//!   prefix, response header, body) for one vectored write.
//! - [`encode_request`] is a client's side (and the tests'): a [`Request`] into
//!   chunks the same way; [`decode_response`] reads the answers a client of
//!   groups and offsets needs (ApiVersions, Metadata, FindCoordinator,
//!   ListGroups, DescribeGroups, OffsetFetch, ListOffsets, OffsetCommit).
//! - [`SUPPORTED`] is the version table ApiVersions advertises and the decoder
//!   enforces; [`ErrorCode`] is Kafka's error numbers.
//!
//! Record batches are opaque here: Produce's records and Fetch's records are
//! `Bytes` of the frame or of the store, never copied or parsed.
//!
//! This module never touches a socket, a thread or a clock, never panics on what
//! a peer sends, and never allocates for a length or count beyond what the bytes
//! it holds could need.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod api;
mod api_versions;
mod coordinator;
mod create_partitions;
mod delete_records;
mod describe_cluster;
mod describe_configs;
mod error_code;
mod fetch;
mod frame;
mod group_admin;
mod leader_epoch;
mod list_offsets;
mod membership;
mod metadata;
mod offset_commit;
mod offset_fetch;
mod produce;
mod producer_id;
mod rebalance;
mod request;
mod response;
mod topics;
mod wire;
mod writer;

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod message_tests;
#[cfg(test)]
mod primitive_tests;
#[cfg(test)]
mod response_tests;
#[cfg(test)]
mod vector_tests;

pub use api::{ApiKey, ApiRange, SUPPORTED};
pub use api_versions::{ApiVersionRange, ApiVersionsRequest, ApiVersionsResponse};
pub use coordinator::{
    FindCoordinatorRequest, FindCoordinatorResponse, KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION,
};
pub use create_partitions::{
    CreatePartitionsAssignment, CreatePartitionsRequest, CreatePartitionsResponse,
    CreatePartitionsTopic, CreatePartitionsTopicResult,
};
pub use delete_records::{
    DELETE_TO_HIGH_WATERMARK, DeleteRecordsPartition, DeleteRecordsPartitionResult,
    DeleteRecordsRequest, DeleteRecordsResponse, DeleteRecordsTopic, DeleteRecordsTopicResult,
};
pub use describe_cluster::{
    DescribeClusterBroker, DescribeClusterRequest, DescribeClusterResponse, ENDPOINT_TYPE_BROKERS,
    ENDPOINT_TYPE_CONTROLLERS,
};
pub use describe_configs::{
    CONFIG_SOURCE_DEFAULT, CONFIG_SOURCE_STATIC_BROKER, CONFIG_SOURCE_TOPIC, DescribeConfigsEntry,
    DescribeConfigsRequest, DescribeConfigsResource, DescribeConfigsResponse,
    DescribeConfigsResult, DescribeConfigsSynonym, RESOURCE_TYPE_BROKER, RESOURCE_TYPE_TOPIC,
};
pub use error_code::{ALL_ERROR_CODES, ErrorCode};
pub use fetch::{
    AbortedTransaction, FetchPartition, FetchPartitionResponse, FetchRequest, FetchResponse,
    FetchTopic, FetchTopicResponse, ForgottenTopic, READ_COMMITTED, READ_UNCOMMITTED,
};
pub use frame::{FrameError, MAX_REQUEST_BYTES, SIZE_PREFIX, needed, split_frame};
pub use group_admin::{
    DeletableGroupResult, DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest,
    DescribeGroupsResponse, DescribedGroup, DescribedGroupMember, ListGroupsRequest,
    ListGroupsResponse, ListedGroup,
};
pub use leader_epoch::{
    EpochEndOffset, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse,
    OffsetForLeaderPartition, OffsetForLeaderTopic, OffsetForLeaderTopicResult,
};
pub use list_offsets::{
    EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, ListOffsetsPartition, ListOffsetsPartitionResponse,
    ListOffsetsRequest, ListOffsetsResponse, ListOffsetsTopic, ListOffsetsTopicResponse,
    MAX_TIMESTAMP,
};
pub use membership::{
    HeartbeatRequest, HeartbeatResponse, LeaveGroupMember, LeaveGroupMemberResponse,
    LeaveGroupRequest, LeaveGroupResponse,
};
pub use metadata::{
    AUTHORIZED_OPERATIONS_OMITTED, MetadataBroker, MetadataPartition, MetadataRequest,
    MetadataRequestTopic, MetadataResponse, MetadataTopic, TopicId,
};
pub use offset_commit::{
    OffsetCommitPartition, OffsetCommitPartitionResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetCommitTopic, OffsetCommitTopicResponse,
};
pub use offset_fetch::{
    OffsetFetchGroup, OffsetFetchGroupResponse, OffsetFetchPartitionResponse, OffsetFetchRequest,
    OffsetFetchResponse, OffsetFetchTopic, OffsetFetchTopicResponse,
};
pub use produce::{
    ProducePartition, ProducePartitionResponse, ProduceRequest, ProduceResponse, ProduceTopic,
    ProduceTopicResponse,
};
pub use producer_id::{InitProducerIdRequest, InitProducerIdResponse};
pub use rebalance::{
    JoinGroupMember, JoinGroupProtocol, JoinGroupRequest, JoinGroupResponse, SyncGroupAssignment,
    SyncGroupRequest, SyncGroupResponse,
};
pub use request::{
    Answer, Request, RequestBody, RequestError, RequestHeader, decode_request, encode_request,
};
pub use response::{
    ResponseBody, decode_response, encode_response, encode_unsupported_api_versions, join,
};
pub use topics::{
    CreatableTopic, CreatableTopicResult, CreateTopicsRequest, CreateTopicsResponse,
    DeletableTopicResult, DeleteTopicsRequest, DeleteTopicsResponse, ReplicaAssignment,
    TopicConfigEntry,
};
pub use wire::{DecodeError, MAX_ELEMENTS, Reader};
pub use writer::Writer;
