//! Requests to frames and back: [`decode_request`] for the broker, [`encode_request`]
//! for clients. The layouts are `protocol.md`'s, field for field.
//!
//! Decoding checks, in the documented order, the prefix, the limits, the command,
//! the header's exact size, the frame count and every field, and answers the first
//! fault with a [`ProtocolError`]. It must never panic, copy a payload frame, or
//! allocate more than the frames it was given could need.

use bytes::{BufMut, Bytes, BytesMut};

use super::command::Command;
use super::error::{ErrorCode, Fault, ProtocolError};
use super::groups;
use super::limits::Limits;
use super::records::{decode_produce_records, encode_produce_records};
use super::request::{
    Acks, CreateTopic, Fetch, FetchMode, InitProducerId, ListOffsets, PARTITION_BY_KEY,
    PartitionChoice, Position, Produce, ProducePayload, ProducerIdentity, Request, RequestBody,
    TopicConfig, Visibility,
};
use super::wire::{self, Frames, Prefix, Reader, VERSION};
use crate::kafka::TopicName;

/// Smallest RecordBatch v2: its fixed header.
const BATCH_HEADER_SIZE: usize = 61;
/// Compaction flag of CREATE_TOPIC and DESCRIBE_TOPIC.
const COMPACT: u8 = 0x01;

/// Decodes one request under the default [`Limits`].
pub fn decode_request(frames: &[Bytes]) -> Result<Request, ProtocolError> {
    decode_request_with(frames, &Limits::default())
}

/// Decodes one request (its frames, the ROUTER's routing id already taken off).
pub fn decode_request_with(frames: &[Bytes], limits: &Limits) -> Result<Request, ProtocolError> {
    let header = frames.first().ok_or_else(|| {
        Fault::malformed("a message needs at least one frame, its header").at(0, 0)
    })?;
    let prefix = Prefix::read(header).map_err(|fault| fault.at(0, 0))?;
    let at = |fault: Fault| fault.at(prefix.correlation_id, prefix.command);
    check_prefix(&prefix, 0).map_err(at)?;
    if prefix.error_code != 0 {
        return Err(at(Fault::malformed(format!(
            "a request's error code field (bytes 6-7) is {}; it must be 0",
            prefix.error_code
        ))));
    }
    check_limits(frames, limits).map_err(at)?;
    let command = Command::from_code(prefix.command).ok_or_else(|| {
        at(Fault::new(
            ErrorCode::UnknownCommand,
            format!("command {:#06x} is not one of version 1's", prefix.command),
        ))
    })?;
    let reader =
        Reader::header(header, command.request_header_size(), command.name()).map_err(at)?;
    let frames = Frames::after_header(frames, command.name());
    let body = decode_body(command, reader, frames).map_err(at)?;
    Ok(Request {
        correlation_id: prefix.correlation_id,
        body,
    })
}

/// Checks version, flags and the error code field (`flags` is what the direction
/// must set: 0 for requests).
pub(crate) fn check_prefix(prefix: &Prefix, flags: u8) -> Result<(), Fault> {
    if prefix.version != VERSION {
        return Err(Fault::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "version {} is not spoken here; version {VERSION} is",
                prefix.version
            ),
        )
        .with_details(u64::from(VERSION), u64::from(VERSION)));
    }
    if prefix.flags != flags {
        let direction = if flags == 0 { "request" } else { "response" };
        return Err(Fault::malformed(format!(
            "flags are {:#04x}; a {direction} has {flags:#04x}",
            prefix.flags
        )));
    }
    Ok(())
}

fn check_limits(frames: &[Bytes], limits: &Limits) -> Result<(), Fault> {
    let oversized = |what: String, limit: usize, size: usize| {
        Fault::new(ErrorCode::Oversized, what).with_details(limit as u64, size as u64)
    };
    if frames.len() > limits.max_frames {
        return Err(oversized(
            format!("{} frames; at most {}", frames.len(), limits.max_frames),
            limits.max_frames,
            frames.len(),
        ));
    }
    let header = frames.first().map_or(0, Bytes::len);
    if header > limits.max_header_bytes {
        return Err(oversized(
            format!(
                "a {header}-byte header frame; at most {}",
                limits.max_header_bytes
            ),
            limits.max_header_bytes,
            header,
        ));
    }
    let total = frames
        .iter()
        .fold(0usize, |total, frame| total.saturating_add(frame.len()));
    if total > limits.max_request_bytes {
        return Err(oversized(
            format!(
                "a {total}-byte request; at most {}",
                limits.max_request_bytes
            ),
            limits.max_request_bytes,
            total,
        ));
    }
    Ok(())
}

fn decode_body(
    command: Command,
    mut header: Reader<'_>,
    mut frames: Frames<'_>,
) -> Result<RequestBody, Fault> {
    let body = match command {
        Command::Produce => RequestBody::Produce(decode_produce(&mut header, &mut frames)?),
        Command::Fetch => RequestBody::Fetch(decode_fetch(&mut header, &mut frames)?),
        Command::ListOffsets => {
            RequestBody::ListOffsets(decode_list_offsets(&mut header, &mut frames)?)
        }
        Command::InitProducerId => {
            let id = header.i64()?;
            let epoch = header.i16()?;
            header.reserved(6)?;
            let existing = match (id, epoch) {
                (-1, -1) => None,
                (0.., 0..) => Some((id, epoch)),
                _ => {
                    return Err(Fault::new(
                        ErrorCode::InvalidArgument,
                        format!(
                            "producer id {id} and epoch {epoch}: both -1 (new) or both 0 or more"
                        ),
                    ));
                }
            };
            RequestBody::InitProducerId(InitProducerId { existing })
        }
        Command::CreateTopic => {
            let config = read_config(&mut header)?;
            let topic = topic(frames.next("topic")?)?;
            RequestBody::CreateTopic(CreateTopic { topic, config })
        }
        Command::DeleteTopic => RequestBody::DeleteTopic(topic(frames.next("topic")?)?),
        Command::ListTopics => RequestBody::ListTopics,
        Command::DescribeTopic => RequestBody::DescribeTopic(topic(frames.next("topic")?)?),
        Command::JoinGroup => RequestBody::JoinGroup(groups::read_join(&mut header, &mut frames)?),
        Command::Heartbeat => {
            RequestBody::Heartbeat(groups::read_heartbeat(&mut header, &mut frames)?)
        }
        Command::LeaveGroup => RequestBody::LeaveGroup(groups::read_membership(&mut frames)?),
        Command::CommitOffsets => {
            RequestBody::CommitOffsets(groups::read_commit(&mut header, &mut frames)?)
        }
        Command::FetchOffsets => {
            RequestBody::FetchOffsets(groups::read_fetch_offsets(&mut frames)?)
        }
    };
    frames.finish()?;
    Ok(body)
}

fn topic(frame: &Bytes) -> Result<TopicName, Fault> {
    TopicName::new(frame.clone())
        .map_err(|error| Fault::new(ErrorCode::InvalidTopicName, error.to_string()))
}

fn decode_produce(header: &mut Reader<'_>, frames: &mut Frames<'_>) -> Result<Produce, Fault> {
    let partition = header.u32()?;
    let acks = header.u8()?;
    let acks = Acks::from_code(acks).ok_or_else(|| {
        Fault::new(
            ErrorCode::InvalidArgument,
            format!("acks {acks}: 0 (none), 1 (written) or 2 (durable)"),
        )
    })?;
    let format = header.u8()?;
    header.reserved(2)?;
    let id = header.i64()?;
    let epoch = header.i16()?;
    header.reserved(2)?;
    let base_sequence = header.i32()?;
    let producer = match (id, epoch, base_sequence) {
        (-1, -1, -1) => None,
        (0.., 0.., 0..) => Some(ProducerIdentity {
            id,
            epoch,
            base_sequence,
        }),
        _ => {
            return Err(Fault::new(
                ErrorCode::InvalidArgument,
                format!(
                    "producer id {id}, epoch {epoch}, sequence {base_sequence}: all -1 or all 0 or more"
                ),
            ));
        }
    };
    let topic = topic(frames.next("topic")?)?;
    let partition = match partition {
        PARTITION_BY_KEY => PartitionChoice::ByKey(frames.next("partition key")?.clone()),
        index => PartitionChoice::Index(wire::partition(index)?),
    };
    let payload = match format {
        0 => {
            if producer.is_some() {
                return Err(Fault::new(
                    ErrorCode::InvalidArgument,
                    "a batch carries its own producer fields; the header's must be -1",
                ));
            }
            let batch = frames.next("batch")?;
            check_batch_framing(batch)?;
            ProducePayload::Batch(batch.clone())
        }
        1 => {
            let table = frames.next("record table")?;
            if table.is_empty() {
                return Err(Fault::malformed("a PRODUCE needs at least one record"));
            }
            let records = decode_produce_records(table, frames)?;
            ProducePayload::Records { producer, records }
        }
        other => {
            return Err(Fault::new(
                ErrorCode::InvalidArgument,
                format!("payload format {other}: 0 (batch) or 1 (records)"),
            ));
        }
    };
    Ok(Produce {
        topic,
        partition,
        acks,
        payload,
    })
}

/// The framing of a RecordBatch v2 (not its CRC, which the broker checks off the
/// loop thread): at least its fixed header, a length field that covers exactly the
/// rest of the frame, magic 2.
fn check_batch_framing(batch: &[u8]) -> Result<(), Fault> {
    let invalid = |message: String| Fault::new(ErrorCode::InvalidBatch, message);
    if batch.len() < BATCH_HEADER_SIZE {
        return Err(invalid(format!(
            "the batch is {} bytes; its header alone is {BATCH_HEADER_SIZE}",
            batch.len()
        )));
    }
    let mut reader = Reader::new(batch);
    reader.slice(8)?;
    let length = reader.i32()?;
    if i64::from(length) + 12 != batch.len() as i64 {
        return Err(invalid(format!(
            "the batch length field says {length} (+12), the frame holds {} bytes",
            batch.len()
        )));
    }
    reader.slice(4)?;
    let magic = reader.u8()?;
    if magic != 2 {
        return Err(invalid(format!("batch magic {magic}; only 2 is stored")));
    }
    Ok(())
}

fn read_position(header: &mut Reader<'_>, allow_offset: bool) -> Result<Position, Fault> {
    let kind = header.u8()?;
    Ok(match kind {
        0 if allow_offset => Position::Offset(0),
        1 => Position::Earliest,
        2 => Position::Latest,
        3 => Position::Timestamp(0),
        _ => {
            let kinds = if allow_offset {
                "0 (offset), 1 (earliest), 2 (latest) or 3 (timestamp)"
            } else {
                "1 (earliest), 2 (latest) or 3 (timestamp)"
            };
            return Err(Fault::new(
                ErrorCode::InvalidArgument,
                format!("position kind {kind}: {kinds}"),
            ));
        }
    })
}

/// Fills in a position's 8-byte value field.
fn position_value(position: Position, value: u64) -> Result<Position, Fault> {
    Ok(match position {
        Position::Offset(_) => Position::Offset(wire::offset(value, "the start offset")?),
        Position::Timestamp(_) => {
            let timestamp = value as i64;
            if timestamp < 0 {
                return Err(Fault::new(
                    ErrorCode::InvalidArgument,
                    format!("timestamp {timestamp} is negative"),
                ));
            }
            Position::Timestamp(timestamp)
        }
        Position::Earliest | Position::Latest => {
            if value != 0 {
                return Err(Fault::malformed(
                    "the position value must be 0 for earliest and latest",
                ));
            }
            position
        }
    })
}

fn decode_fetch(header: &mut Reader<'_>, frames: &mut Frames<'_>) -> Result<Fetch, Fault> {
    let partition = wire::partition(header.u32()?)?;
    let start = read_position(header, true)?;
    let mode = header.u8()?;
    let mode = FetchMode::from_code(mode).ok_or_else(|| {
        Fault::new(
            ErrorCode::InvalidArgument,
            format!("fetch mode {mode}: 0 (batches) or 1 (records)"),
        )
    })?;
    header.reserved(2)?;
    let start = position_value(start, header.u64()?)?;
    let max_bytes = header.u32()?;
    if max_bytes == 0 {
        return Err(Fault::new(
            ErrorCode::InvalidArgument,
            "max bytes is 0; it must be at least 1",
        ));
    }
    let max_records = header.u32()?;
    let max_wait_ms = header.u32()?;
    let min_bytes = header.u32()?;
    let topic = topic(frames.next("topic")?)?;
    Ok(Fetch {
        topic,
        partition,
        start,
        mode,
        max_bytes,
        max_records,
        max_wait_ms,
        min_bytes,
    })
}

fn decode_list_offsets(
    header: &mut Reader<'_>,
    frames: &mut Frames<'_>,
) -> Result<ListOffsets, Fault> {
    let partition = wire::partition(header.u32()?)?;
    let query = read_position(header, false)?;
    header.reserved(3)?;
    let query = position_value(query, header.u64()?)?;
    let topic = topic(frames.next("topic")?)?;
    Ok(ListOffsets {
        topic,
        partition,
        query,
    })
}

/// Reads the 32-byte topic settings block (bytes 16-47 of CREATE_TOPIC's request
/// and DESCRIBE_TOPIC's response).
pub(crate) fn read_config(header: &mut Reader<'_>) -> Result<TopicConfig, Fault> {
    let invalid = |message: String| Fault::new(ErrorCode::InvalidArgument, message);
    let partitions = header.u32()?;
    if partitions == 0 || partitions > i32::MAX as u32 {
        return Err(invalid(format!("{partitions} partitions; 1 to 2^31-1")));
    }
    let flags = header.u8()?;
    if flags & !COMPACT != 0 {
        return Err(Fault::malformed(format!(
            "topic flags {flags:#04x} set a reserved bit"
        )));
    }
    let ack_policy = header.u8()?;
    let ack_policy = Acks::from_code(ack_policy)
        .ok_or_else(|| invalid(format!("ack policy {ack_policy}: 0, 1 or 2")))?;
    let visibility = header.u8()?;
    let visibility = Visibility::from_code(visibility).ok_or_else(|| {
        invalid(format!(
            "visibility {visibility}: 0 (durable) or 1 (written)"
        ))
    })?;
    header.reserved(1)?;
    let retention_ms = wire::optional_limit(header.i64()?, "retention ms")?;
    let retention_bytes = wire::optional_limit(header.i64()?, "retention bytes")?;
    let flush_interval_ms = header.u32()?;
    header.reserved(4)?;
    Ok(TopicConfig {
        partitions,
        compact: flags & COMPACT != 0,
        ack_policy,
        visibility,
        retention_ms,
        retention_bytes,
        flush_interval_ms,
    })
}

/// Writes the 32-byte topic settings block.
pub(crate) fn put_config(out: &mut BytesMut, config: &TopicConfig) {
    out.put_u32(config.partitions);
    out.put_u8(if config.compact { COMPACT } else { 0 });
    out.put_u8(config.ack_policy.code());
    out.put_u8(config.visibility.code());
    out.put_u8(0);
    wire::put_optional_limit(out, config.retention_ms);
    wire::put_optional_limit(out, config.retention_bytes);
    out.put_u32(config.flush_interval_ms);
    out.put_u32(0);
}

/// Encodes one request into its frames (for clients). Values the types allow but
/// the protocol does not (an offset above 2^63-1, say) are written as they are and
/// refused by the broker.
pub fn encode_request(request: &Request) -> Vec<Bytes> {
    let command = request.body.command();
    let prefix = Prefix {
        version: VERSION,
        flags: 0,
        command: command.code(),
        error_code: 0,
        correlation_id: request.correlation_id,
    };
    let mut header = prefix.write(command.request_header_size());
    let mut frames = vec![Bytes::new()];
    match &request.body {
        RequestBody::Produce(produce) => {
            let partition = match &produce.partition {
                PartitionChoice::Index(index) => *index,
                PartitionChoice::ByKey(_) => PARTITION_BY_KEY,
            };
            header.put_u32(partition);
            header.put_u8(produce.acks.code());
            let (format, producer) = match &produce.payload {
                ProducePayload::Batch(_) => (0, None),
                ProducePayload::Records { producer, .. } => (1, *producer),
            };
            header.put_u8(format);
            header.put_u16(0);
            header.put_i64(producer.map_or(-1, |producer| producer.id));
            header.put_i16(producer.map_or(-1, |producer| producer.epoch));
            header.put_u16(0);
            header.put_i32(producer.map_or(-1, |producer| producer.base_sequence));
            frames.push(produce.topic.as_bytes().clone());
            if let PartitionChoice::ByKey(key) = &produce.partition {
                frames.push(key.clone());
            }
            match &produce.payload {
                ProducePayload::Batch(batch) => frames.push(batch.clone()),
                ProducePayload::Records { records, .. } => {
                    encode_produce_records(records, &mut frames);
                }
            }
        }
        RequestBody::Fetch(fetch) => {
            header.put_u32(fetch.partition);
            header.put_u8(fetch.start.kind());
            header.put_u8(fetch.mode.code());
            header.put_u16(0);
            header.put_u64(fetch.start.value());
            header.put_u32(fetch.max_bytes);
            header.put_u32(fetch.max_records);
            header.put_u32(fetch.max_wait_ms);
            header.put_u32(fetch.min_bytes);
            frames.push(fetch.topic.as_bytes().clone());
        }
        RequestBody::ListOffsets(list) => {
            header.put_u32(list.partition);
            header.put_u8(list.query.kind());
            header.put_bytes(0, 3);
            header.put_u64(list.query.value());
            frames.push(list.topic.as_bytes().clone());
        }
        RequestBody::InitProducerId(init) => {
            let (id, epoch) = init.existing.unwrap_or((-1, -1));
            header.put_i64(id);
            header.put_i16(epoch);
            header.put_bytes(0, 6);
        }
        RequestBody::CreateTopic(create) => {
            put_config(&mut header, &create.config);
            frames.push(create.topic.as_bytes().clone());
        }
        RequestBody::DeleteTopic(topic) | RequestBody::DescribeTopic(topic) => {
            frames.push(topic.as_bytes().clone());
        }
        RequestBody::ListTopics => {}
        RequestBody::JoinGroup(join) => groups::put_join(&mut header, &mut frames, join),
        RequestBody::Heartbeat(heartbeat) => {
            header.put_i32(heartbeat.generation);
            header.put_bytes(0, 4);
            groups::put_membership(&mut frames, &heartbeat.member);
        }
        RequestBody::LeaveGroup(member) => groups::put_membership(&mut frames, member),
        RequestBody::CommitOffsets(commit) => groups::put_commit(&mut header, &mut frames, commit),
        RequestBody::FetchOffsets(fetch) => {
            frames.push(Bytes::copy_from_slice(fetch.group.as_bytes()));
            frames.push(fetch.topic.as_bytes().clone());
        }
    }
    if let Some(first) = frames.first_mut() {
        *first = header.freeze();
    }
    frames
}
