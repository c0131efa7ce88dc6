//! The native door's codec: Sinew's own request/response protocol over a ZMTP
//! DEALER (client) to ROUTER (broker) connection, sans-IO.
//!
//! One request or response is one multipart message (the ROUTER's routing-id
//! frame taken off): frame 0 a fixed-layout, big-endian binary header (magic `SN`,
//! version, flags, command, error code, correlation id, then the command's fixed
//! fields); topic names, keys, values, headers and record batches each in frames of
//! their own, kept as `Bytes` of the frames they arrived in, never copied into a
//! header. `broker/docs/protocol.md` is the specification, byte by byte.
//!
//! - **Broker side**: [`decode_request`] turns frames into a [`Request`] or a
//!   [`ProtocolError`] whose [`ProtocolError::to_response`] is the documented error
//!   answer; [`encode_response`] turns a [`Response`] into frames.
//! - **Client side**: [`encode_request`] and [`decode_response`], the mirror.
//! - [`partition_for_key`] is Kafka's murmur2 partitioner; [`TopicName`] checks
//!   Kafka's naming rules.
//!
//! This module never touches a socket, a thread or a clock, never panics on what a
//! peer sends, checks every [`Limits`] bound before reading further, and never
//! allocates for a count it was sent beyond what the frames it holds could need.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod command;
mod error;
mod groups;
mod limits;
mod records;
mod request;
mod request_codec;
mod response;
mod response_codec;
mod wire;

#[cfg(test)]
mod malformed_tests;
#[cfg(test)]
mod roundtrip_tests;
#[cfg(test)]
mod vector_tests;

pub use crate::kafka::{InvalidTopicName, MAX_TOPIC_NAME_BYTES, TopicName, check_topic_name};
pub use crate::kafka::{murmur2, partition_for_key, to_positive};
pub use command::{Command, ERROR_HEADER_SIZE};
pub use error::{ErrorCode, ErrorResponse, MAX_ERROR_MESSAGE_BYTES, ProtocolError};
pub use groups::{
    AssignorChoice, CommitOffsets, FetchOffsets, GroupAssignment, Heartbeat, JoinGroup,
    MAX_GROUP_NAME_BYTES, Membership, OFFSET_ENTRY_SIZE,
};
pub use limits::{Limits, MAX_FRAMES, MAX_REQUEST_BYTES};
pub use records::{
    FETCH_ENTRY_SIZE, FetchedRecord, InvalidHeader, PRODUCE_ENTRY_SIZE, ProduceRecord, RecordHeader,
};
pub use request::{
    Acks, CreateTopic, Fetch, FetchMode, InitProducerId, ListOffsets, PARTITION_BY_KEY,
    PartitionChoice, Position, Produce, ProducePayload, ProducerIdentity, Request, RequestBody,
    TopicConfig, Visibility,
};
pub use request_codec::{decode_request, decode_request_with, encode_request};
pub use response::{
    Acknowledged, FetchData, FetchResult, OffsetResult, PartitionDescription, ProduceResult,
    ProducerGrant, Response, ResponseBody, TopicDescription, TopicSummary,
};
pub use response_codec::{NO_OFFSET, decode_response, decode_response_with, encode_response};
pub use wire::{FLAG_RESPONSE, MAGIC, PREFIX_SIZE, VERSION};
