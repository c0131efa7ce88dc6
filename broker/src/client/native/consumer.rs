//! The consumer: partitions of one topic assigned by hand, a position per
//! partition set by [`Consumer::seek`] (earliest, latest, an offset or a
//! timestamp), and [`Consumer::poll`] reading records with the broker's long-poll
//! FETCH in decoded-records mode, one request in flight per partition.
//!
//! It never moves a position except past records it returned (or where
//! [`Consumer::seek`] puts it), never returns a record twice for one position, and
//! never counts an answer to a fetch it gave up on (a seek or a time-out).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::admin::{describe, topic_name, unexpected};
use super::connection::{Connection, after};
use super::error::{Error, Result};
use crate::doors::native::{
    Fetch, FetchData, FetchMode, FetchResult, Position, RecordHeader, RequestBody, ResponseBody,
    TopicName, Visibility,
};

/// How a [`Consumer`] fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// The longest a FETCH waits at the broker for records (less when
    /// [`Consumer::poll`]'s timeout is shorter); zero answers at once.
    pub max_wait: Duration,
    /// Most bytes of keys, values and headers in one answer (at least 1; the
    /// first record comes whatever its size).
    pub max_bytes: u32,
    /// Most records in one answer; 0 for no limit.
    pub max_records: u32,
    /// How long an answer may take beyond its wait before it is asked again, and
    /// how long [`Consumer::assign`] waits.
    pub request_timeout: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> ConsumerConfig {
        ConsumerConfig {
            max_wait: Duration::from_millis(500),
            max_bytes: 1024 * 1024,
            max_records: 0,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A record read from a partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Its topic.
    pub topic: TopicName,
    /// Its partition.
    pub partition: u32,
    /// Its offset.
    pub offset: u64,
    /// Milliseconds since the Unix epoch, as stored.
    pub timestamp: i64,
    /// The key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// The value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// The headers.
    pub headers: Vec<RecordHeader>,
}

#[derive(Debug)]
struct PartitionState {
    position: Position,
    /// The FETCH asking for this partition now: correlation id, answer deadline.
    in_flight: Option<(u64, Instant)>,
    /// The last answer reached the end of what consumers may see.
    at_end: bool,
}

/// A blocking consumer of assigned partitions (see the module's documentation).
#[derive(Debug)]
pub struct Consumer {
    connection: Connection,
    config: ConsumerConfig,
    topic: Option<(TopicName, Visibility)>,
    partitions: BTreeMap<u32, PartitionState>,
    /// Correlation id of each FETCH awaiting an answer, and its partition.
    in_flight: HashMap<u64, u32>,
}

impl Consumer {
    /// Connects to a broker's native door.
    pub fn connect(endpoint: &str, config: ConsumerConfig) -> Result<Consumer> {
        Consumer::connect_in(&sinew::Context::new(), endpoint, config)
    }

    /// Connects with a socket of `context` (see [`Connection::connect_in`]).
    pub fn connect_in(
        context: &sinew::Context,
        endpoint: &str,
        config: ConsumerConfig,
    ) -> Result<Consumer> {
        if config.max_bytes == 0 {
            return Err(Error::InvalidArgument(
                "max_bytes must be at least 1".to_owned(),
            ));
        }
        Ok(Consumer {
            connection: Connection::connect_in(context, endpoint)?,
            config,
            topic: None,
            partitions: BTreeMap::new(),
            in_flight: HashMap::new(),
        })
    }

    /// Reads `partitions` of `topic` (all of them when empty), each from its
    /// earliest offset until [`seek`](Self::seek) says otherwise; replaces any
    /// earlier assignment. Returns the partitions assigned.
    pub fn assign(&mut self, topic: &str, partitions: &[u32]) -> Result<Vec<u32>> {
        let name = topic_name(topic)?;
        let description = describe(&mut self.connection, &name, self.config.request_timeout)?;
        let count = description.config.partitions;
        let chosen: Vec<u32> = if partitions.is_empty() {
            (0..count).collect()
        } else {
            partitions.to_vec()
        };
        if let Some(missing) = chosen.iter().find(|&&partition| partition >= count) {
            return Err(Error::InvalidArgument(format!(
                "topic {name} has {count} partition(s); there is no partition {missing}"
            )));
        }
        self.topic = Some((name, description.config.visibility));
        self.in_flight.clear();
        self.partitions = chosen
            .iter()
            .map(|&partition| {
                (
                    partition,
                    PartitionState {
                        position: Position::Earliest,
                        in_flight: None,
                        at_end: false,
                    },
                )
            })
            .collect();
        Ok(chosen)
    }

    /// The partitions assigned.
    pub fn assignment(&self) -> Vec<u32> {
        self.partitions.keys().copied().collect()
    }

    /// Where the next poll reads `partition` from.
    pub fn seek(&mut self, partition: u32, position: Position) -> Result<()> {
        if let Position::Timestamp(timestamp) = position
            && timestamp < 0
        {
            return Err(Error::InvalidArgument(format!(
                "timestamp {timestamp} is negative"
            )));
        }
        let state = self.partitions.get_mut(&partition).ok_or_else(|| {
            Error::InvalidArgument(format!("partition {partition} is not assigned"))
        })?;
        if let Some((stale, _)) = state.in_flight.take() {
            self.in_flight.remove(&stale);
        }
        state.position = position;
        state.at_end = false;
        Ok(())
    }

    /// The offset the next record of `partition` will have: `None` until the
    /// first answer resolves an earliest, latest or timestamp position.
    pub fn position(&self, partition: u32) -> Option<u64> {
        match self.partitions.get(&partition)?.position {
            Position::Offset(offset) => Some(offset),
            _ => None,
        }
    }

    /// Whether the last answer for every assigned partition reached the end of
    /// what consumers may see (there was nothing more to read then).
    pub fn at_end(&self) -> bool {
        !self.partitions.is_empty() && self.partitions.values().all(|state| state.at_end)
    }

    /// Records from the assigned partitions, waiting at most `timeout` for some:
    /// it returns as soon as an answer brings records (with any others already
    /// there), or empty when the time runs out. An error answer (an offset out of
    /// range, a topic deleted) is returned as an [`Error`]; the position stays.
    pub fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        let deadline = after(Instant::now(), timeout);
        self.expire(Instant::now());
        self.send_fetches(deadline)?;
        let mut records = Vec::new();
        let mut until = deadline;
        while let Some(response) = self.connection.receive(until)? {
            let Some(partition) = self.in_flight.remove(&response.correlation_id) else {
                continue;
            };
            if let Some(state) = self.partitions.get_mut(&partition) {
                state.in_flight = None;
            }
            match response.body {
                ResponseBody::Fetch(result) => self.take(partition, result, &mut records)?,
                ResponseBody::Error(error) => return Err(Error::from_response(error)),
                other => return Err(unexpected("FETCH", &other)),
            }
            if !records.is_empty() || self.config.max_wait.is_zero() {
                // Whatever else is there already comes along; then return.
                until = Instant::now();
                continue;
            }
            self.send_fetches(deadline)?;
        }
        Ok(records)
    }

    fn take(
        &mut self,
        partition: u32,
        result: FetchResult,
        records: &mut Vec<ConsumerRecord>,
    ) -> Result<()> {
        let Some((topic, visibility)) = &self.topic else {
            return Ok(());
        };
        let Some(state) = self.partitions.get_mut(&partition) else {
            return Ok(());
        };
        if result.partition != partition {
            return Err(Error::Protocol(format!(
                "a FETCH of partition {partition} was answered for partition {}",
                result.partition
            )));
        }
        let FetchData::Records(fetched) = result.data else {
            return Err(Error::Protocol(
                "a records-mode FETCH was answered with batches".to_owned(),
            ));
        };
        let visible_end = match visibility {
            Visibility::Durable => result.durable_offset,
            Visibility::Written => result.end_offset,
        };
        let from = match state.position {
            Position::Offset(offset) => offset,
            _ => 0,
        };
        for record in fetched {
            if record.offset < from {
                continue;
            }
            records.push(ConsumerRecord {
                topic: topic.clone(),
                partition,
                offset: record.offset,
                timestamp: record.timestamp,
                key: record.key,
                value: record.value,
                headers: record.headers,
            });
        }
        state.position = Position::Offset(result.next_offset);
        state.at_end = result.next_offset >= visible_end;
        Ok(())
    }

    /// Fetches whose answer is late are given up (and asked again).
    fn expire(&mut self, now: Instant) {
        for state in self.partitions.values_mut() {
            if let Some((stale, answer_by)) = state.in_flight
                && now >= answer_by
            {
                state.in_flight = None;
                self.in_flight.remove(&stale);
            }
        }
    }

    /// A FETCH for every assigned partition without one, waiting at most until
    /// `deadline` at the broker.
    fn send_fetches(&mut self, deadline: Instant) -> Result<()> {
        let Some((topic, _)) = &self.topic else {
            return Err(Error::InvalidArgument(
                "no partitions are assigned".to_owned(),
            ));
        };
        let now = Instant::now();
        let wait = self
            .config
            .max_wait
            .min(deadline.saturating_duration_since(now));
        let max_wait_ms = u32::try_from(wait.as_millis()).unwrap_or(u32::MAX);
        for (&partition, state) in &mut self.partitions {
            if state.in_flight.is_some() {
                continue;
            }
            let body = RequestBody::Fetch(Fetch {
                topic: topic.clone(),
                partition,
                start: state.position,
                mode: FetchMode::Records,
                max_bytes: self.config.max_bytes,
                max_records: self.config.max_records,
                max_wait_ms,
                min_bytes: 1,
            });
            let answer_by = after(after(now, wait), self.config.request_timeout);
            let correlation_id = self.connection.send(body, answer_by)?;
            state.in_flight = Some((correlation_id, answer_by));
            self.in_flight.insert(correlation_id, partition);
        }
        Ok(())
    }
}
