//! The sinew-broker side of `sinew bench topics`: producers and a consumer on the
//! native door, speaking the protocol through the broker's own codec.
//!
//! Each producer is a DEALER of its own that keeps `window` PRODUCE requests of
//! `batch` records in flight, with durable acknowledgements, as a Kafka producer
//! keeps batches in flight; every acknowledgement is checked (level, record count,
//! offsets dense per producer). The consumer reads the partition from offset 0
//! with one FETCH in flight, as a Kafka consumer does, and counts records and
//! stored bytes. Nothing here sleeps; every receive has a deadline, and a run that
//! is not acknowledged or read in full is an error, never a figure.

use bytes::Bytes;
use sinew::{Context, Message, Socket, SocketType};
use sinew_broker::doors::native::{
    Acknowledged, Acks, CreateTopic, Fetch, FetchData, FetchMode, PartitionChoice, Position,
    Produce, ProducePayload, ProduceRecord, Request, RequestBody, Response, ResponseBody,
    TopicConfig, TopicName, decode_response, encode_request,
};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// How long any answer may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The topic every run writes (one partition, durable visibility).
pub const TOPIC: &str = "bench";

/// How producers send their records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One Kafka RecordBatch v2 per request, built by the producer (format 0).
    Batch,
    /// A record table and three frames per record, encoded by the broker (format 1).
    Records,
}

/// What a produce run did.
#[derive(Debug, Clone, Copy)]
pub struct Produced {
    pub records: u64,
    pub elapsed: Duration,
}

/// What a consume run read.
#[derive(Debug, Clone, Copy)]
pub struct Consumed {
    pub records: u64,
    /// The stored batches' bytes (what the partition's log holds).
    pub bytes: u64,
    pub elapsed: Duration,
}

fn topic() -> TopicName {
    TopicName::new(TOPIC).unwrap_or_else(|_| unreachable!("a valid name"))
}

fn connect(context: &Context, endpoint: &str) -> Result<Socket, String> {
    let dealer = context
        .socket(SocketType::Dealer)
        .map_err(|error| error.to_string())?;
    dealer
        .connect(endpoint)
        .map_err(|error| format!("connect {endpoint}: {error}"))?;
    Ok(dealer)
}

fn send(dealer: &Socket, correlation_id: u64, body: RequestBody) -> Result<(), String> {
    let frames = encode_request(&Request {
        correlation_id,
        body,
    });
    dealer
        .send(Message::from_frames(frames))
        .map_err(|error| format!("send: {error}"))
}

fn receive(dealer: &Socket) -> Result<Response, String> {
    let message = dealer
        .recv_with_timeout(Some(TIMEOUT))
        .map_err(|error| format!("no answer from sinew-broker: {error}"))?;
    decode_response(message.frames()).map_err(|error| format!("a bad answer: {error}"))
}

/// Creates the bench topic with one partition.
pub fn create_topic(endpoint: &str) -> Result<(), String> {
    let context = Context::new();
    let dealer = connect(&context, endpoint)?;
    let body = RequestBody::CreateTopic(CreateTopic {
        topic: topic(),
        config: TopicConfig::new(1),
    });
    send(&dealer, 1, body)?;
    match receive(&dealer)?.body {
        ResponseBody::CreateTopic => Ok(()),
        other => Err(format!("create topic: {other:?}")),
    }
}

/// `producers` threads each send `records` records of `size` bytes, durably.
pub fn produce(
    endpoint: &str,
    producers: usize,
    records: u64,
    size: usize,
    batch: usize,
    window: usize,
    format: Format,
) -> Result<Produced, String> {
    let context = Context::new();
    let barrier = Arc::new(Barrier::new(producers));
    let value = Bytes::from(vec![b'x'; size]);
    let threads: Vec<_> = (0..producers)
        .map(|_| {
            let dealer = connect(&context, endpoint);
            let barrier = Arc::clone(&barrier);
            let value = value.clone();
            std::thread::spawn(move || {
                let dealer = dealer?;
                barrier.wait();
                let start = Instant::now();
                producer(&dealer, records, &value, batch, window, format)?;
                Ok::<_, String>((start, Instant::now()))
            })
        })
        .collect();
    let mut first = None::<Instant>;
    let mut last = None::<Instant>;
    for thread in threads {
        let (start, end) = thread.join().map_err(|_| "a producer panicked")??;
        first = Some(first.map_or(start, |first| first.min(start)));
        last = Some(last.map_or(end, |last| last.max(end)));
    }
    let (Some(first), Some(last)) = (first, last) else {
        return Err("no producers".to_owned());
    };
    Ok(Produced {
        records: records * producers as u64,
        elapsed: last - first,
    })
}

/// One producer: `records` records in requests of `batch`, `window` in flight.
fn producer(
    dealer: &Socket,
    records: u64,
    value: &Bytes,
    batch: usize,
    window: usize,
    format: Format,
) -> Result<(), String> {
    let record = ProduceRecord {
        timestamp: -1,
        key: None,
        value: Some(value.clone()),
        headers: Vec::new(),
    };
    // A batch of `count` records as a Kafka producer builds it, encoded once per
    // size and sent again and again (the broker rewrites only its base offset).
    let mut encoded: Option<(u64, Bytes)> = None;
    let mut encode = |count: u64| -> Result<Bytes, String> {
        if let Some((size, bytes)) = &encoded
            && *size == count
        {
            return Ok(bytes.clone());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64);
        let records: Vec<sinew_log::NewRecord> = (0..count)
            .map(|_| sinew_log::NewRecord {
                key: None,
                value: Some(value.to_vec()),
                timestamp: now,
                headers: Vec::new(),
            })
            .collect();
        let bytes = Bytes::from(
            sinew_log::encode_batch(&records).map_err(|error| format!("encode: {error}"))?,
        );
        encoded = Some((count, bytes.clone()));
        Ok(bytes)
    };
    let mut sent = 0u64;
    let mut acknowledged = 0u64;
    let mut in_flight = std::collections::HashMap::<u64, u64>::new();
    let mut next_id = 1u64;
    while acknowledged < records {
        while sent < records && in_flight.len() < window {
            let count = (records - sent).min(batch as u64);
            let body = RequestBody::Produce(Produce {
                topic: topic(),
                partition: PartitionChoice::Index(0),
                acks: Acks::Durable,
                payload: match format {
                    Format::Batch => ProducePayload::Batch(encode(count)?),
                    Format::Records => ProducePayload::Records {
                        producer: None,
                        records: vec![record.clone(); count as usize],
                    },
                },
            });
            send(dealer, next_id, body)?;
            in_flight.insert(next_id, count);
            next_id += 1;
            sent += count;
        }
        let response = receive(dealer)?;
        let Some(count) = in_flight.remove(&response.correlation_id) else {
            return Err(format!("an answer to no request: {response:?}"));
        };
        match response.body {
            ResponseBody::Produce(result)
                if result.acknowledged == Acknowledged::Durable
                    && result.last_offset.checked_sub(result.base_offset) == Some(count - 1) => {}
            other => return Err(format!("produce: {other:?}")),
        }
        acknowledged += count;
    }
    Ok(())
}

/// Reads the bench topic from offset 0 up to `end` in `mode`.
pub fn consume(endpoint: &str, end: u64, mode: FetchMode) -> Result<Consumed, String> {
    let context = Context::new();
    let dealer = connect(&context, endpoint)?;
    let start = Instant::now();
    let mut offset = 0u64;
    let mut records = 0u64;
    let mut bytes = 0u64;
    let mut id = 0u64;
    while offset < end {
        id += 1;
        let body = RequestBody::Fetch(Fetch {
            topic: topic(),
            partition: 0,
            start: Position::Offset(offset),
            mode,
            max_bytes: 4 << 20,
            max_records: 0,
            max_wait_ms: 0,
            min_bytes: 0,
        });
        send(&dealer, id, body)?;
        let response = receive(&dealer)?;
        let ResponseBody::Fetch(result) = response.body else {
            return Err(format!("fetch: {:?}", response.body));
        };
        let next = match result.data {
            FetchData::Batches(batches) => {
                let mut next = offset;
                for batch in &batches {
                    let (base, last) = batch_offsets(batch)?;
                    records += last + 1 - base.max(offset).min(last + 1);
                    bytes += batch.len() as u64;
                    next = last + 1;
                }
                next
            }
            FetchData::Records(fetched) => {
                for record in &fetched {
                    bytes += record.value.as_ref().map_or(0, |value| value.len() as u64);
                }
                records += fetched.len() as u64;
                fetched.last().map_or(offset, |record| record.offset + 1)
            }
        };
        if next <= offset {
            return Err(format!("a fetch at {offset} returned nothing (end {end})"));
        }
        offset = next;
    }
    if records != end {
        return Err(format!("read {records} records, expected {end}"));
    }
    Ok(Consumed {
        records,
        bytes,
        elapsed: start.elapsed(),
    })
}

/// A RecordBatch v2's first and last offsets (base offset at 0, last offset delta
/// at 23).
fn batch_offsets(batch: &[u8]) -> Result<(u64, u64), String> {
    let base = batch
        .get(..8)
        .and_then(|bytes| bytes.try_into().ok())
        .map(u64::from_be_bytes);
    let delta = batch
        .get(23..27)
        .and_then(|bytes| bytes.try_into().ok())
        .map(u32::from_be_bytes);
    match (base, delta) {
        (Some(base), Some(delta)) => Ok((base, base + u64::from(delta))),
        _ => Err("a stored batch shorter than its header".to_owned()),
    }
}
