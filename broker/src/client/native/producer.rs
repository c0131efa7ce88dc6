//! The producer: records buffered per partition and sent as one PRODUCE when a
//! batch fills or its linger passes, many requests in flight at once (matched by
//! correlation id), each acknowledged record reported with its partition and
//! offset; idempotent by default (INIT_PRODUCER_ID, a sequence per partition), so
//! a batch resent after a time-out or a retriable error gets its original offsets
//! instead of being written twice.
//!
//! There is no background thread: time is looked at whenever the caller calls
//! [`Producer::send`], [`Producer::deliveries`] or [`Producer::flush`], so a
//! lingering batch leaves at the next such call. It must never reorder a
//! partition's batches, never resend a batch with a new sequence, and never report
//! a record acknowledged before the broker said so.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::admin::{topic_name, unexpected};
use super::batch::{Batch, PartitionQueue, record_size};
use super::connection::{Connection, after};
use super::error::{Error, Result};
use crate::doors::native::{
    Acknowledged, Acks, ErrorCode, InitProducerId, ListOffsets, PartitionChoice, Position, Produce,
    ProducePayload, ProduceRecord, ProducerIdentity, RecordHeader, RequestBody, Response,
    ResponseBody, TopicName, partition_for_key,
};

/// Most records in one PRODUCE: the broker's frame limit (16384) allows 5460.
pub const MAX_BATCH_RECORDS: usize = 5000;
/// Most bytes in one batch: half the broker's default request limit (8 MiB).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// The largest record accepted, about the broker's default request limit less
/// room for the request's other frames: a larger one would be refused
/// (`OVERSIZED`), or past the broker's message size cut the connection.
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024 - 4096;
/// Most PRODUCE requests in flight: the broker allows 64 per connection by
/// default, and one is left for the producer's own questions (DESCRIBE_TOPIC, the
/// acks-0 confirmation).
pub const MAX_IN_FLIGHT: usize = 63;

/// How a [`Producer`] batches, acknowledges and retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerConfig {
    /// How far each PRODUCE must get before it is answered. With
    /// [`Acks::None`] there is no answer: records are reported once a later
    /// request's answer shows the broker took them (no offsets), and there is no
    /// idempotence and no retry.
    pub acks: Acks,
    /// Ask for a producer id and number each partition's records, so retries are
    /// never written twice (ignored with [`Acks::None`]).
    pub idempotent: bool,
    /// Send a batch once it holds this many records (at most [`MAX_BATCH_RECORDS`]).
    pub batch_records: usize,
    /// Send a batch once it holds about this many bytes (at most
    /// [`MAX_BATCH_BYTES`]).
    pub batch_bytes: usize,
    /// Send a batch this long after its first record, full or not.
    pub linger: Duration,
    /// Most PRODUCE requests waiting for their answers at once (at most
    /// [`MAX_IN_FLIGHT`]). Without idempotence, as in Kafka, a retry may land
    /// after a later batch of the same partition, or be written twice.
    pub max_in_flight: usize,
    /// How long an answer may take before the batch is sent again.
    pub request_timeout: Duration,
    /// How many times a batch is sent again after a time-out or a retriable
    /// error before it is reported failed.
    pub retries: u32,
    /// How long [`Producer::connect`]'s own requests may wait.
    pub setup_timeout: Duration,
}

impl Default for ProducerConfig {
    fn default() -> ProducerConfig {
        ProducerConfig {
            acks: Acks::Durable,
            idempotent: true,
            batch_records: 1000,
            batch_bytes: 1024 * 1024,
            linger: Duration::from_millis(5),
            max_in_flight: 16,
            request_timeout: Duration::from_secs(30),
            retries: 5,
            setup_timeout: Duration::from_secs(10),
        }
    }
}

/// A record to send: a topic, a value, and optionally a key, a partition,
/// headers and a timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerRecord {
    /// The topic.
    pub topic: String,
    /// The partition; `None` picks one by the key (Kafka's murmur2), or, for a
    /// record without a key, keeps to one partition per batch and moves on.
    pub partition: Option<u32>,
    /// The key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// The value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// The headers.
    pub headers: Vec<RecordHeader>,
    /// Milliseconds since the Unix epoch; `None` lets the broker stamp it.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record of `value` for `topic`, no key, no headers.
    pub fn new(topic: impl Into<String>, value: impl Into<Bytes>) -> ProducerRecord {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value.into()),
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// With this key.
    pub fn key(mut self, key: impl Into<Bytes>) -> ProducerRecord {
        self.key = Some(key.into());
        self
    }

    /// To this partition.
    pub fn partition(mut self, partition: u32) -> ProducerRecord {
        self.partition = Some(partition);
        self
    }

    /// With this header added.
    pub fn header(mut self, header: RecordHeader) -> ProducerRecord {
        self.headers.push(header);
        self
    }

    /// With this timestamp (milliseconds since the Unix epoch).
    pub fn timestamp(mut self, timestamp: i64) -> ProducerRecord {
        self.timestamp = Some(timestamp);
        self
    }
}

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The id [`Producer::send`] returned for it.
    pub id: u64,
    /// Its topic.
    pub topic: TopicName,
    /// Its partition.
    pub partition: u32,
    /// Its acknowledgement, or why it was not stored.
    pub result: Result<Acknowledgement>,
}

/// How a record was acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Its offset; `None` with [`Acks::None`], which returns none.
    pub offset: Option<u64>,
    /// How far it got; `None` with [`Acks::None`].
    pub level: Option<Acknowledged>,
    /// The broker had it already: a retry answered with the original offset.
    pub duplicate: bool,
}

#[derive(Debug)]
struct TopicState {
    name: TopicName,
    partitions: u32,
    /// Where records without a key or a partition go until that batch is sealed.
    sticky: u32,
}

type PartitionKey = (TopicName, u32);

/// A blocking producer on one connection (see the module's documentation).
#[derive(Debug)]
pub struct Producer {
    connection: Connection,
    config: ProducerConfig,
    producer: Option<(i64, i16)>,
    topics: HashMap<String, TopicState>,
    queues: BTreeMap<PartitionKey, PartitionQueue>,
    /// Correlation id of each PRODUCE awaiting an answer, and its partition.
    in_flight: HashMap<u64, PartitionKey>,
    /// Acks-0 batches sent, waiting for a later answer to show they were taken.
    unconfirmed: Vec<Batch>,
    /// The request whose answer confirms `unconfirmed[..count]`.
    barrier: Option<(u64, usize, Instant)>,
    deliveries: Vec<Delivery>,
    next_id: u64,
    /// Set once the producer cannot go on (fenced, or a sequence lost).
    fatal: Option<Error>,
}

impl Producer {
    /// Connects to a broker's native door and, for an idempotent producer, asks
    /// for a producer id.
    pub fn connect(endpoint: &str, config: ProducerConfig) -> Result<Producer> {
        Producer::connect_in(&sinew::Context::new(), endpoint, config)
    }

    /// Connects with a socket of `context` (see [`Connection::connect_in`]).
    pub fn connect_in(
        context: &sinew::Context,
        endpoint: &str,
        config: ProducerConfig,
    ) -> Result<Producer> {
        let mut config = config;
        if config.batch_records == 0 || config.max_in_flight == 0 {
            return Err(Error::InvalidArgument(
                "batch_records and max_in_flight must be at least 1".to_owned(),
            ));
        }
        config.batch_records = config.batch_records.min(MAX_BATCH_RECORDS);
        config.max_in_flight = config.max_in_flight.min(MAX_IN_FLIGHT);
        config.batch_bytes = config.batch_bytes.clamp(1, MAX_BATCH_BYTES);
        let mut connection = Connection::connect_in(context, endpoint)?;
        let producer = if config.idempotent && config.acks != Acks::None {
            let deadline = after(Instant::now(), config.setup_timeout);
            match connection.call(
                RequestBody::InitProducerId(InitProducerId { existing: None }),
                deadline,
            )? {
                ResponseBody::InitProducerId(grant) => Some((grant.id, grant.epoch)),
                other => return Err(unexpected("INIT_PRODUCER_ID", &other)),
            }
        } else {
            None
        };
        Ok(Producer {
            connection,
            config,
            producer,
            topics: HashMap::new(),
            queues: BTreeMap::new(),
            in_flight: HashMap::new(),
            unconfirmed: Vec::new(),
            barrier: None,
            deliveries: Vec::new(),
            next_id: 0,
            fatal: None,
        })
    }

    /// The producer id and epoch, for an idempotent producer.
    pub fn producer_id(&self) -> Option<(i64, i16)> {
        self.producer
    }

    /// Buffers a record; returns the id its [`Delivery`] will carry. It may send
    /// batches, read answers, and wait for answers when too many batches are
    /// waiting to be sent. The first record for a topic asks the broker for its
    /// partition count.
    pub fn send(&mut self, record: ProducerRecord) -> Result<u64> {
        if let Some(error) = &self.fatal {
            return Err(error.clone());
        }
        let partition = self.choose_partition(&record)?;
        let topic = match self.topics.get(&record.topic) {
            Some(state) => state.name.clone(),
            None => return Err(Error::InvalidArgument("unknown topic".to_owned())),
        };
        let produce_record = ProduceRecord {
            timestamp: record.timestamp.unwrap_or(-1),
            key: record.key,
            value: record.value,
            headers: record.headers,
        };
        if let Some(timestamp) = record.timestamp
            && timestamp < 0
        {
            return Err(Error::InvalidArgument(format!(
                "a record's timestamp is {timestamp}; it must be 0 or more"
            )));
        }
        let now = Instant::now();
        let idempotent = self.producer.is_some();
        let (batch_records, batch_bytes) = (self.config.batch_records, self.config.batch_bytes);
        let size = record_size(&produce_record);
        if size > MAX_RECORD_BYTES {
            return Err(Error::InvalidArgument(format!(
                "a record of {size} bytes is larger than the broker takes in one request \
                 ({MAX_RECORD_BYTES})"
            )));
        }
        let id = self.next_id;
        self.next_id += 1;
        let queue = self.queues.entry((topic.clone(), partition)).or_default();
        if let Some(open) = &queue.open
            && !open.records.is_empty()
            && open.bytes + size > batch_bytes
        {
            queue.seal(idempotent);
        }
        let open = queue
            .open
            .get_or_insert_with(|| Batch::new(topic.clone(), partition, now));
        open.push(id, produce_record);
        if open.records.len() >= batch_records || open.bytes >= batch_bytes {
            queue.seal(idempotent);
            self.move_sticky(&record.topic, partition);
        }
        self.progress(None)?;
        // Too much waiting to be sent: wait for answers before taking more.
        while self.unsent_batches() >= self.config.max_in_flight {
            let deadline = after(Instant::now(), self.config.request_timeout);
            self.progress(Some(deadline))?;
        }
        Ok(id)
    }

    /// The deliveries reported since the last call, after sending what is due and
    /// reading the answers already there (it does not wait).
    pub fn deliveries(&mut self) -> Result<Vec<Delivery>> {
        self.progress(None)?;
        Ok(std::mem::take(&mut self.deliveries))
    }

    /// Sends every buffered record and waits, at most `timeout`, until each is
    /// acknowledged or failed; returns the deliveries not yet taken. When the time
    /// runs out it returns [`Error::TimedOut`] and keeps what is still pending
    /// (a later `flush` or `deliveries` goes on with it).
    pub fn flush(&mut self, timeout: Duration) -> Result<Vec<Delivery>> {
        let deadline = after(Instant::now(), timeout);
        let idempotent = self.producer.is_some();
        for queue in self.queues.values_mut() {
            queue.seal(idempotent);
        }
        loop {
            self.progress(Some(deadline))?;
            if self.is_idle() {
                return Ok(std::mem::take(&mut self.deliveries));
            }
            if Instant::now() >= deadline {
                return Err(Error::TimedOut(format!(
                    "{} record(s) not yet acknowledged",
                    self.pending_records()
                )));
            }
        }
    }

    /// Records sent to the producer and not yet reported.
    pub fn pending_records(&self) -> usize {
        let queued: usize = self
            .queues
            .values()
            .map(|queue| {
                queue.open.as_ref().map_or(0, |batch| batch.records.len())
                    + queue
                        .sealed
                        .iter()
                        .map(|batch| batch.records.len())
                        .sum::<usize>()
            })
            .sum();
        queued
            + self
                .unconfirmed
                .iter()
                .map(|batch| batch.records.len())
                .sum::<usize>()
    }

    fn is_idle(&self) -> bool {
        self.queues.values().all(PartitionQueue::is_empty) && self.unconfirmed.is_empty()
    }

    fn unsent_batches(&self) -> usize {
        self.queues
            .values()
            .map(|queue| {
                queue
                    .sealed
                    .iter()
                    .filter(|batch| batch.in_flight.is_none())
                    .count()
            })
            .sum()
    }

    fn choose_partition(&mut self, record: &ProducerRecord) -> Result<u32> {
        if !self.topics.contains_key(&record.topic) {
            let name = topic_name(&record.topic)?;
            let deadline = after(Instant::now(), self.config.setup_timeout);
            let description = match self.call(RequestBody::DescribeTopic(name.clone()), deadline)? {
                ResponseBody::DescribeTopic(description) => description,
                other => return Err(unexpected("DESCRIBE_TOPIC", &other)),
            };
            let partitions = description.config.partitions;
            self.topics.insert(
                record.topic.clone(),
                TopicState {
                    name,
                    partitions,
                    sticky: 0,
                },
            );
        }
        let Some(state) = self.topics.get(&record.topic) else {
            return Err(Error::InvalidArgument(format!("topic {:?}", record.topic)));
        };
        match (record.partition, &record.key) {
            (Some(partition), _) if partition < state.partitions => Ok(partition),
            (Some(partition), _) => Err(Error::InvalidArgument(format!(
                "topic {} has {} partition(s); there is no partition {partition}",
                state.name, state.partitions
            ))),
            (None, Some(key)) => partition_for_key(key, state.partitions)
                .ok_or_else(|| Error::Protocol(format!("topic {} has no partitions", state.name))),
            (None, None) => Ok(state.sticky),
        }
    }

    fn move_sticky(&mut self, topic: &str, sealed_partition: u32) {
        if let Some(state) = self.topics.get_mut(topic)
            && state.sticky == sealed_partition
            && state.partitions > 0
        {
            state.sticky = (state.sticky + 1) % state.partitions;
        }
    }

    /// Sends `body` and waits for its answer, handling every other answer that
    /// arrives meanwhile; an error answer is an [`Error`].
    fn call(&mut self, body: RequestBody, deadline: Instant) -> Result<ResponseBody> {
        let correlation_id = self.connection.send(body, deadline)?;
        loop {
            match self.connection.receive(deadline)? {
                Some(response) if response.correlation_id == correlation_id => {
                    return match response.body {
                        ResponseBody::Error(error) => Err(Error::from_response(error)),
                        body => Ok(body),
                    };
                }
                Some(response) => self.handle(response),
                None => {
                    return Err(Error::TimedOut(format!(
                        "no answer from {}",
                        self.connection.endpoint()
                    )));
                }
            }
        }
    }

    /// Seals lingering batches, fails or resends batches whose answer is late,
    /// sends what may be sent, and reads answers: those already there, or, with a
    /// `wait` deadline, until one arrives or the deadline or the next time-out or
    /// linger comes.
    fn progress(&mut self, wait: Option<Instant>) -> Result<()> {
        let now = Instant::now();
        self.seal_lingering(now);
        self.expire(now);
        self.send_ready(now)?;
        // Nothing pending: nothing to wait for.
        let mut until = match wait {
            Some(deadline) if !self.is_idle() => self.next_wake(deadline),
            _ => now,
        };
        while let Some(response) = self.connection.receive(until)? {
            self.handle(response);
            // Answers may free room in flight: send before waiting again.
            self.send_ready(Instant::now())?;
            if wait.is_some() && self.is_idle() {
                break;
            }
            until = Instant::now();
        }
        let now = Instant::now();
        self.seal_lingering(now);
        self.expire(now);
        self.send_ready(now)
    }

    /// The earliest of `deadline`, an in-flight answer's deadline and an open
    /// batch's linger end.
    fn next_wake(&self, deadline: Instant) -> Instant {
        let mut wake = deadline;
        for queue in self.queues.values() {
            if let Some(open) = &queue.open {
                wake = wake.min(after(open.opened, self.config.linger));
            }
            for batch in &queue.sealed {
                if let Some((_, answer_by)) = batch.in_flight {
                    wake = wake.min(answer_by);
                }
            }
        }
        if let Some((_, _, answer_by)) = self.barrier {
            wake = wake.min(answer_by);
        }
        wake
    }

    fn seal_lingering(&mut self, now: Instant) {
        let idempotent = self.producer.is_some();
        let mut sealed = Vec::new();
        for ((topic, partition), queue) in &mut self.queues {
            if let Some(open) = &queue.open
                && now >= after(open.opened, self.config.linger)
            {
                queue.seal(idempotent);
                sealed.push((topic.as_str().to_owned(), *partition));
            }
        }
        for (topic, partition) in sealed {
            self.move_sticky(&topic, partition);
        }
    }

    /// Batches whose answer is late count a retriable failure.
    fn expire(&mut self, now: Instant) {
        let late: Vec<(u64, PartitionKey)> = self
            .queues
            .iter()
            .flat_map(|(key, queue)| {
                queue
                    .sealed
                    .iter()
                    .filter_map(move |batch| match batch.in_flight {
                        Some((id, answer_by)) if now >= answer_by => Some((id, key.clone())),
                        _ => None,
                    })
            })
            .collect();
        for (correlation_id, key) in late {
            let error = Error::TimedOut(format!(
                "no answer to a PRODUCE to {} partition {} within {:?}",
                key.0, key.1, self.config.request_timeout
            ));
            self.failed(correlation_id, &key, error);
        }
        if let Some((_, _, answer_by)) = self.barrier
            && now >= answer_by
        {
            // Ask again: the answer to the next barrier confirms the same batches.
            self.barrier = None;
        }
    }

    fn send_ready(&mut self, now: Instant) -> Result<()> {
        let keys: Vec<PartitionKey> = self.queues.keys().cloned().collect();
        let mut sent_any = true;
        while sent_any && self.in_flight.len() < self.config.max_in_flight {
            sent_any = false;
            for key in &keys {
                if self.in_flight.len() >= self.config.max_in_flight {
                    break;
                }
                if self.send_next(key, now)? {
                    sent_any = true;
                }
            }
        }
        // Queues stay once made, empty or not: each keeps its partition's next
        // sequence.
        self.send_barrier(now)
    }

    /// Sends the first unsent batch of one partition; whether there was one.
    fn send_next(&mut self, key: &PartitionKey, now: Instant) -> Result<bool> {
        let (acks, producer) = (self.config.acks, self.producer);
        let Some(queue) = self.queues.get_mut(key) else {
            return Ok(false);
        };
        let Some(index) = queue
            .sealed
            .iter()
            .position(|batch| batch.in_flight.is_none())
        else {
            return Ok(false);
        };
        let Some(batch) = queue.sealed.get_mut(index) else {
            return Ok(false);
        };
        let producer = match (producer, batch.base_sequence) {
            (Some((id, epoch)), Some(base_sequence)) => Some(ProducerIdentity {
                id,
                epoch,
                base_sequence,
            }),
            _ => None,
        };
        let body = RequestBody::Produce(Produce {
            topic: batch.topic.clone(),
            partition: PartitionChoice::Index(batch.partition),
            acks,
            payload: ProducePayload::Records {
                producer,
                records: batch.records.clone(),
            },
        });
        let deadline = after(now, self.config.request_timeout);
        let correlation_id = self.connection.send(body, deadline)?;
        if acks == Acks::None {
            if let Some(batch) = queue.sealed.remove(index) {
                self.unconfirmed.push(batch);
            }
        } else {
            batch.in_flight = Some((correlation_id, deadline));
            self.in_flight.insert(correlation_id, key.clone());
        }
        Ok(true)
    }

    /// With acks 0, asks a cheap question after the last batch sent: its answer
    /// shows the broker has taken every request before it.
    fn send_barrier(&mut self, now: Instant) -> Result<()> {
        if self.barrier.is_some() {
            return Ok(());
        }
        let Some(last) = self.unconfirmed.last() else {
            return Ok(());
        };
        let body = RequestBody::ListOffsets(ListOffsets {
            topic: last.topic.clone(),
            partition: last.partition,
            query: Position::Latest,
        });
        let deadline = after(now, self.config.request_timeout);
        let correlation_id = self.connection.send(body, deadline)?;
        self.barrier = Some((correlation_id, self.unconfirmed.len(), deadline));
        Ok(())
    }

    fn handle(&mut self, response: Response) {
        if let Some((barrier, count, _)) = self.barrier
            && barrier == response.correlation_id
        {
            self.barrier = None;
            let confirmed: Vec<Batch> = self
                .unconfirmed
                .drain(..count.min(self.unconfirmed.len()))
                .collect();
            for batch in confirmed {
                self.report(&batch, |_| {
                    Ok(Acknowledgement {
                        offset: None,
                        level: None,
                        duplicate: false,
                    })
                });
            }
            return;
        }
        // An answer to a request given up on (or to an acks-0 PRODUCE the topic's
        // policy raised) is not ours to count.
        let Some(key) = self.in_flight.get(&response.correlation_id).cloned() else {
            return;
        };
        match response.body {
            ResponseBody::Produce(result) => {
                self.in_flight.remove(&response.correlation_id);
                let Some(queue) = self.queues.get_mut(&key) else {
                    return;
                };
                let Some(index) = queue.position_of(response.correlation_id) else {
                    return;
                };
                let Some(batch) = queue.sealed.remove(index) else {
                    return;
                };
                let count = batch.records.len() as u64;
                if result.last_offset.checked_sub(result.base_offset)
                    != Some(count.saturating_sub(1))
                {
                    let error = Error::Protocol(format!(
                        "a PRODUCE of {count} record(s) was answered with offsets {} to {}",
                        result.base_offset, result.last_offset
                    ));
                    self.report(&batch, |_| Err(error.clone()));
                    return;
                }
                self.report(&batch, |index| {
                    Ok(Acknowledgement {
                        offset: Some(result.base_offset + index as u64),
                        level: Some(result.acknowledged),
                        duplicate: result.duplicate,
                    })
                });
            }
            ResponseBody::Error(error) => {
                self.failed(response.correlation_id, &key, Error::from_response(error));
            }
            other => {
                let error = unexpected("PRODUCE", &other);
                self.failed(response.correlation_id, &key, error);
            }
        }
    }

    /// The batch sent with `correlation_id` failed: sent again if it may be,
    /// else reported failed (with every later batch of its partition, for an
    /// idempotent producer, since their sequences follow its own).
    fn failed(&mut self, correlation_id: u64, key: &PartitionKey, error: Error) {
        let retries = self.config.retries;
        let Some(queue) = self.queues.get_mut(key) else {
            return;
        };
        let Some(index) = queue.position_of(correlation_id) else {
            return;
        };
        // An out-of-order sequence behind an earlier batch still unanswered: the
        // broker lacks that one (its request was lost), so everything from the
        // first unanswered batch on is sent again, in order.
        if error.code() == Some(ErrorCode::OutOfOrderSequence) && index > 0 {
            for stale in queue.resend_from(0) {
                self.in_flight.remove(&stale);
            }
            return;
        }
        let retriable = error.is_retriable();
        if let Some(batch) = queue.sealed.get_mut(index)
            && retriable
            && batch.failures < retries
        {
            batch.failures += 1;
            for stale in queue.resend_from(index) {
                self.in_flight.remove(&stale);
            }
            return;
        }
        let sequence = queue
            .sealed
            .get(index)
            .and_then(|batch| batch.base_sequence);
        let end = if sequence.is_some() {
            queue.sealed.len()
        } else {
            index + 1
        };
        let failed: Vec<Batch> = queue.sealed.drain(index..end).collect();
        for batch in &failed {
            if let Some((stale, _)) = batch.in_flight {
                self.in_flight.remove(&stale);
            }
        }
        if let Some(sequence) = sequence {
            if !retriable {
                // The broker refused it: it expects this sequence still.
                queue.next_sequence = sequence;
            } else if self.fatal.is_none() {
                self.fatal = Some(Error::TimedOut(format!(
                    "a batch to {} partition {} was neither acknowledged nor refused; its \
                     sequence is lost, start a new producer",
                    key.0, key.1
                )));
            }
        }
        if error.code() == Some(ErrorCode::ProducerFenced) {
            self.fatal = Some(error.clone());
        }
        for (position, batch) in failed.iter().enumerate() {
            let reason = if position == 0 {
                error.clone()
            } else {
                Error::InvalidArgument(format!(
                    "not stored: an earlier batch to {} partition {} failed ({error})",
                    key.0, key.1
                ))
            };
            self.report(batch, |_| Err(reason.clone()));
        }
    }

    fn report(&mut self, batch: &Batch, outcome: impl Fn(usize) -> Result<Acknowledgement>) {
        for (index, id) in batch.ids.iter().enumerate() {
            self.deliveries.push(Delivery {
                id: *id,
                topic: batch.topic.clone(),
                partition: batch.partition,
                result: outcome(index),
            });
        }
    }
}
