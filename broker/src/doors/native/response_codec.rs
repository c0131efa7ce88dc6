//! Responses to frames and back: [`encode_response`] for the broker,
//! [`decode_response`] for clients. The layouts are `protocol.md`'s, field for field.
//!
//! Encoding never fails and never copies a batch, key or value; decoding checks
//! every length and field as request decoding does. Neither may panic, and decoding
//! must never allocate more than the frames it was given could need.

use bytes::{BufMut, Bytes, BytesMut};

use super::command::{Command, ERROR_HEADER_SIZE};
use super::error::{
    ErrorCode, ErrorResponse, Fault, MAX_ERROR_MESSAGE_BYTES, ProtocolError, truncate_message,
};
use super::groups;
use super::limits::Limits;
use super::records::{decode_fetched_records, encode_fetched_records};
use super::request::FetchMode;
use super::request_codec::{check_prefix, put_config, read_config};
use super::response::{
    Acknowledged, FetchData, FetchResult, OffsetResult, PartitionDescription, ProduceResult,
    ProducerGrant, Response, ResponseBody, TopicDescription, TopicSummary,
};
use super::wire::{FLAG_RESPONSE, Frames, Prefix, Reader, VERSION};
use crate::kafka::TopicName;

/// LIST_OFFSETS' offset field when no record is at or after the timestamp.
pub const NO_OFFSET: u64 = u64::MAX;
/// PRODUCE response flags bit 0: a duplicate (a retry answered with the original
/// offsets).
const DUPLICATE: u8 = 0x01;
/// Bytes per topic in LIST_TOPICS' table.
const TOPIC_ENTRY_SIZE: usize = 8;
/// Bytes per partition in DESCRIBE_TOPIC's table.
const PARTITION_ENTRY_SIZE: usize = 40;

/// Encodes one response into its frames. Batches, keys and values are shared, not
/// copied; an error message is cut to [`MAX_ERROR_MESSAGE_BYTES`].
pub fn encode_response(response: &Response) -> Vec<Bytes> {
    let (command, error_code, size) = match &response.body {
        ResponseBody::Error(error) => (error.command, error.code.code(), ERROR_HEADER_SIZE),
        body => {
            let code = body.command_code();
            let size = Command::from_code(code)
                .map_or(ERROR_HEADER_SIZE, |command| command.response_header_size());
            (code, 0, size)
        }
    };
    let prefix = Prefix {
        version: VERSION,
        flags: FLAG_RESPONSE,
        command,
        error_code,
        correlation_id: response.correlation_id,
    };
    let mut header = prefix.write(size);
    let mut frames = vec![Bytes::new()];
    match &response.body {
        ResponseBody::Produce(produce) => {
            header.put_u32(produce.partition);
            header.put_u8(produce.acknowledged.code());
            header.put_u8(if produce.duplicate { DUPLICATE } else { 0 });
            header.put_u16(0);
            header.put_u64(produce.base_offset);
            header.put_u64(produce.last_offset);
        }
        ResponseBody::Fetch(fetch) => {
            header.put_u32(fetch.partition);
            let mode = match &fetch.data {
                FetchData::Batches(_) => FetchMode::Batches,
                FetchData::Records(_) => FetchMode::Records,
            };
            header.put_u8(mode.code());
            header.put_bytes(0, 3);
            header.put_u64(fetch.next_offset);
            header.put_u64(fetch.end_offset);
            header.put_u64(fetch.durable_offset);
            header.put_u64(fetch.log_start_offset);
            match &fetch.data {
                FetchData::Batches(batches) => frames.extend(batches.iter().cloned()),
                FetchData::Records(records) => encode_fetched_records(records, &mut frames),
            }
        }
        ResponseBody::ListOffsets(offsets) => {
            header.put_u32(offsets.partition);
            header.put_u32(0);
            header.put_u64(offsets.offset.unwrap_or(NO_OFFSET));
            header.put_i64(offsets.timestamp);
        }
        ResponseBody::InitProducerId(grant) => {
            header.put_i64(grant.id);
            header.put_i16(grant.epoch);
            header.put_bytes(0, 6);
        }
        ResponseBody::CreateTopic
        | ResponseBody::DeleteTopic
        | ResponseBody::Heartbeat
        | ResponseBody::LeaveGroup
        | ResponseBody::CommitOffsets => {}
        ResponseBody::JoinGroup(assignment) => {
            groups::put_assignment(&mut header, &mut frames, assignment);
        }
        ResponseBody::FetchOffsets(offsets) => frames.push(groups::offsets_table(offsets)),
        ResponseBody::ListTopics(topics) => {
            let mut table = BytesMut::with_capacity(topics.len() * TOPIC_ENTRY_SIZE);
            for topic in topics {
                table.put_u32(topic.partitions);
                table.put_u8(u8::from(topic.compact));
                table.put_bytes(0, 3);
            }
            frames.push(table.freeze());
            frames.extend(topics.iter().map(|topic| topic.name.as_bytes().clone()));
        }
        ResponseBody::DescribeTopic(description) => {
            put_config(&mut header, &description.config);
            let count = description.partitions.len();
            let mut table = BytesMut::with_capacity(count * PARTITION_ENTRY_SIZE);
            for partition in &description.partitions {
                table.put_u32(partition.partition);
                table.put_u32(0);
                table.put_u64(partition.start_offset);
                table.put_u64(partition.end_offset);
                table.put_u64(partition.durable_offset);
                table.put_u64(partition.size_bytes);
            }
            frames.push(table.freeze());
        }
        ResponseBody::Error(error) => {
            header.put_u64(error.details[0]);
            header.put_u64(error.details[1]);
            if let Some(message) = &error.message {
                let message = truncate_message(message);
                frames.push(Bytes::copy_from_slice(message.as_bytes()));
            }
        }
    }
    if let Some(first) = frames.first_mut() {
        *first = header.freeze();
    }
    frames
}

/// Decodes one response under the default [`Limits`] (for clients).
pub fn decode_response(frames: &[Bytes]) -> Result<Response, ProtocolError> {
    decode_response_with(frames, &Limits::default())
}

/// Decodes one response (for clients). Only `max_frames` and `max_header_bytes`
/// apply: a response's size is what the client asked for.
pub fn decode_response_with(frames: &[Bytes], limits: &Limits) -> Result<Response, ProtocolError> {
    let header = frames.first().ok_or_else(|| {
        Fault::malformed("a message needs at least one frame, its header").at(0, 0)
    })?;
    let prefix = Prefix::read(header).map_err(|fault| fault.at(0, 0))?;
    let at = |fault: Fault| fault.at(prefix.correlation_id, prefix.command);
    check_prefix(&prefix, FLAG_RESPONSE).map_err(at)?;
    if frames.len() > limits.max_frames || header.len() > limits.max_header_bytes {
        return Err(at(Fault::new(
            ErrorCode::Oversized,
            format!(
                "{} frames, a {}-byte header; at most {} and {}",
                frames.len(),
                header.len(),
                limits.max_frames,
                limits.max_header_bytes
            ),
        )));
    }
    let body = match ErrorCode::from_code(prefix.error_code) {
        Some(code) => decode_error(prefix.command, code, header, frames),
        None => {
            let command = Command::from_code(prefix.command).ok_or_else(|| {
                Fault::new(
                    ErrorCode::UnknownCommand,
                    format!("command {:#06x} is not one of version 1's", prefix.command),
                )
            });
            command.and_then(|command| decode_success(command, header, frames))
        }
    }
    .map_err(at)?;
    Ok(Response {
        correlation_id: prefix.correlation_id,
        body,
    })
}

fn decode_error(
    command: u16,
    code: ErrorCode,
    header: &[u8],
    frames: &[Bytes],
) -> Result<ResponseBody, Fault> {
    let mut reader = Reader::header(header, ERROR_HEADER_SIZE, "error response")?;
    let details = [reader.u64()?, reader.u64()?];
    let mut frames = Frames::after_header(frames, "error response");
    let message = match frames.remaining() {
        0 => None,
        _ => {
            let frame = frames.next("message")?;
            if frame.len() > MAX_ERROR_MESSAGE_BYTES {
                return Err(Fault::malformed(format!(
                    "a {}-byte error message; at most {MAX_ERROR_MESSAGE_BYTES}",
                    frame.len()
                )));
            }
            let text = std::str::from_utf8(frame)
                .map_err(|_| Fault::malformed("the error message is not UTF-8"))?;
            Some(text.to_owned())
        }
    };
    frames.finish()?;
    Ok(ResponseBody::Error(ErrorResponse {
        command,
        code,
        details,
        message,
    }))
}

fn decode_success(
    command: Command,
    header: &[u8],
    frames: &[Bytes],
) -> Result<ResponseBody, Fault> {
    let mut reader = Reader::header(header, command.response_header_size(), command.name())?;
    let mut frames = Frames::after_header(frames, command.name());
    let body = match command {
        Command::Produce => {
            let partition = reader.u32()?;
            let acknowledged = reader.u8()?;
            let acknowledged = Acknowledged::from_code(acknowledged).ok_or_else(|| {
                Fault::new(
                    ErrorCode::InvalidArgument,
                    format!("acknowledgement {acknowledged}: 1 (written) or 2 (durable)"),
                )
            })?;
            let flags = reader.u8()?;
            if flags & !DUPLICATE != 0 {
                return Err(Fault::malformed("PRODUCE flags set a reserved bit"));
            }
            reader.reserved(2)?;
            ResponseBody::Produce(ProduceResult {
                partition,
                acknowledged,
                duplicate: flags & DUPLICATE != 0,
                base_offset: reader.u64()?,
                last_offset: reader.u64()?,
            })
        }
        Command::Fetch => ResponseBody::Fetch(decode_fetch(&mut reader, &mut frames)?),
        Command::ListOffsets => {
            let partition = reader.u32()?;
            reader.reserved(4)?;
            let offset = Some(reader.u64()?).filter(|&offset| offset != NO_OFFSET);
            ResponseBody::ListOffsets(OffsetResult {
                partition,
                offset,
                timestamp: reader.i64()?,
            })
        }
        Command::InitProducerId => {
            let id = reader.i64()?;
            let epoch = reader.i16()?;
            reader.reserved(6)?;
            ResponseBody::InitProducerId(ProducerGrant { id, epoch })
        }
        Command::CreateTopic => ResponseBody::CreateTopic,
        Command::DeleteTopic => ResponseBody::DeleteTopic,
        Command::JoinGroup => {
            ResponseBody::JoinGroup(groups::read_assignment(&mut reader, &mut frames)?)
        }
        Command::Heartbeat => ResponseBody::Heartbeat,
        Command::LeaveGroup => ResponseBody::LeaveGroup,
        Command::CommitOffsets => ResponseBody::CommitOffsets,
        Command::FetchOffsets => {
            ResponseBody::FetchOffsets(groups::read_offsets(frames.next("offsets table")?)?)
        }
        Command::ListTopics => ResponseBody::ListTopics(decode_topics(&mut frames)?),
        Command::DescribeTopic => {
            let config = read_config(&mut reader)?;
            let table = frames.next("partition table")?;
            let partitions = decode_partitions(table)?;
            if partitions.len() as u64 != u64::from(config.partitions) {
                return Err(Fault::malformed(format!(
                    "the topic has {} partitions, the table lists {}",
                    config.partitions,
                    partitions.len()
                )));
            }
            ResponseBody::DescribeTopic(TopicDescription { config, partitions })
        }
    };
    frames.finish()?;
    Ok(body)
}

fn decode_fetch(reader: &mut Reader<'_>, frames: &mut Frames<'_>) -> Result<FetchResult, Fault> {
    let partition = reader.u32()?;
    let mode = reader.u8()?;
    reader.reserved(3)?;
    let next_offset = reader.u64()?;
    let end_offset = reader.u64()?;
    let durable_offset = reader.u64()?;
    let log_start_offset = reader.u64()?;
    let data = match FetchMode::from_code(mode) {
        Some(FetchMode::Batches) => FetchData::Batches(frames.rest().to_vec()),
        Some(FetchMode::Records) => {
            let table = frames.next("record table")?;
            FetchData::Records(decode_fetched_records(table, frames)?)
        }
        None => {
            return Err(Fault::new(
                ErrorCode::InvalidArgument,
                format!("fetch mode {mode}: 0 (batches) or 1 (records)"),
            ));
        }
    };
    Ok(FetchResult {
        partition,
        next_offset,
        end_offset,
        durable_offset,
        log_start_offset,
        data,
    })
}

fn decode_topics(frames: &mut Frames<'_>) -> Result<Vec<TopicSummary>, Fault> {
    let table = frames.next("topic table")?;
    if !table.len().is_multiple_of(TOPIC_ENTRY_SIZE)
        || table.len() / TOPIC_ENTRY_SIZE != frames.remaining()
    {
        return Err(Fault::malformed(format!(
            "a {}-byte topic table followed by {} name frames",
            table.len(),
            frames.remaining()
        )));
    }
    let mut reader = Reader::new(table);
    let mut topics = Vec::with_capacity(frames.remaining());
    for name in frames.rest() {
        let partitions = reader.u32()?;
        let flags = reader.u8()?;
        if flags & !1 != 0 {
            return Err(Fault::malformed("topic flags set a reserved bit"));
        }
        reader.reserved(3)?;
        let name = TopicName::new(name.clone())
            .map_err(|error| Fault::new(ErrorCode::InvalidTopicName, error.to_string()))?;
        topics.push(TopicSummary {
            name,
            partitions,
            compact: flags & 1 != 0,
        });
    }
    Ok(topics)
}

fn decode_partitions(table: &Bytes) -> Result<Vec<PartitionDescription>, Fault> {
    if !table.len().is_multiple_of(PARTITION_ENTRY_SIZE) {
        return Err(Fault::malformed(format!(
            "the partition table is {} bytes, not a multiple of {PARTITION_ENTRY_SIZE}",
            table.len()
        )));
    }
    let mut reader = Reader::new(table);
    let mut partitions = Vec::with_capacity(table.len() / PARTITION_ENTRY_SIZE);
    while reader.remaining() > 0 {
        let partition = reader.u32()?;
        reader.reserved(4)?;
        partitions.push(PartitionDescription {
            partition,
            start_offset: reader.u64()?,
            end_offset: reader.u64()?,
            durable_offset: reader.u64()?,
            size_bytes: reader.u64()?,
        });
    }
    Ok(partitions)
}
