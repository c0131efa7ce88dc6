//! Topic administration over the native door: create (partitions, retention,
//! compaction, ack policy, visibility, flush interval), delete, list, describe,
//! and an offset lookup, each one blocking request with a deadline.
//!
//! It never caches what it reads (a topic can change under it) and never retries:
//! creating or deleting twice is the caller's decision.

use std::time::{Duration, Instant};

use super::connection::{Connection, after};
use super::error::{Error, Result};
use crate::doors::native::{
    CreateTopic, ListOffsets, OffsetResult, Position, RequestBody, ResponseBody, TopicConfig,
    TopicDescription, TopicName, TopicSummary,
};

/// How long an admin request may wait for its answer, unless told otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A topic's settings for [`Admin::create_topic`]: the protocol's CREATE_TOPIC
/// settings; `TopicSettings::new(n)` is the broker's defaults with `n` partitions.
pub type TopicSettings = TopicConfig;

/// A topic name checked by Kafka's rules, or [`Error::InvalidArgument`].
pub fn topic_name(name: &str) -> Result<TopicName> {
    TopicName::new(name.to_owned())
        .map_err(|error| Error::InvalidArgument(format!("topic {name:?}: {error}")))
}

/// Administration requests on one connection.
#[derive(Debug)]
pub struct Admin {
    connection: Connection,
    timeout: Duration,
}

impl Admin {
    /// Connects to a broker's native door (see [`Connection::connect`]).
    pub fn connect(endpoint: &str) -> Result<Admin> {
        Admin::on(Connection::connect(endpoint)?)
    }

    /// Connects with a socket of `context` (see [`Connection::connect_in`]).
    pub fn connect_in(context: &sinew::Context, endpoint: &str) -> Result<Admin> {
        Admin::on(Connection::connect_in(context, endpoint)?)
    }

    fn on(connection: Connection) -> Result<Admin> {
        Ok(Admin {
            connection,
            timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// How long each request may wait for its answer from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn call(&mut self, body: RequestBody) -> Result<ResponseBody> {
        let deadline = after(Instant::now(), self.timeout);
        self.connection.call(body, deadline)
    }

    /// Creates a topic (`TOPIC_EXISTS`, `INVALID_TOPIC_NAME` or `INVALID_ARGUMENT`
    /// when it cannot).
    pub fn create_topic(&mut self, name: &str, settings: TopicSettings) -> Result<()> {
        let topic = topic_name(name)?;
        if settings.partitions == 0 {
            return Err(Error::InvalidArgument(
                "a topic needs at least 1 partition".to_owned(),
            ));
        }
        match self.call(RequestBody::CreateTopic(CreateTopic {
            topic,
            config: settings,
        }))? {
            ResponseBody::CreateTopic => Ok(()),
            other => Err(unexpected("CREATE_TOPIC", &other)),
        }
    }

    /// Deletes a topic and its records (`UNKNOWN_TOPIC` when there is none).
    pub fn delete_topic(&mut self, name: &str) -> Result<()> {
        match self.call(RequestBody::DeleteTopic(topic_name(name)?))? {
            ResponseBody::DeleteTopic => Ok(()),
            other => Err(unexpected("DELETE_TOPIC", &other)),
        }
    }

    /// Every topic, in name order.
    pub fn list_topics(&mut self) -> Result<Vec<TopicSummary>> {
        match self.call(RequestBody::ListTopics)? {
            ResponseBody::ListTopics(topics) => Ok(topics),
            other => Err(unexpected("LIST_TOPICS", &other)),
        }
    }

    /// A topic's settings and each partition's offsets and size.
    pub fn describe_topic(&mut self, name: &str) -> Result<TopicDescription> {
        describe(&mut self.connection, &topic_name(name)?, self.timeout)
    }

    /// One offset of a partition: [`Position::Earliest`], [`Position::Latest`] or
    /// the first at or after a [`Position::Timestamp`].
    pub fn list_offsets(
        &mut self,
        name: &str,
        partition: u32,
        query: Position,
    ) -> Result<OffsetResult> {
        if matches!(query, Position::Offset(_)) {
            return Err(Error::InvalidArgument(
                "LIST_OFFSETS looks up earliest, latest or a timestamp, not an offset".to_owned(),
            ));
        }
        match self.call(RequestBody::ListOffsets(ListOffsets {
            topic: topic_name(name)?,
            partition,
            query,
        }))? {
            ResponseBody::ListOffsets(result) => Ok(result),
            other => Err(unexpected("LIST_OFFSETS", &other)),
        }
    }
}

/// DESCRIBE_TOPIC on a connection; shared by the producer and the consumer, which
/// need a topic's partition count.
pub(crate) fn describe(
    connection: &mut Connection,
    topic: &TopicName,
    timeout: Duration,
) -> Result<TopicDescription> {
    let deadline = after(Instant::now(), timeout);
    match connection.call(RequestBody::DescribeTopic(topic.clone()), deadline)? {
        ResponseBody::DescribeTopic(description) => Ok(description),
        other => Err(unexpected("DESCRIBE_TOPIC", &other)),
    }
}

/// The error for an answer of the wrong kind.
pub(crate) fn unexpected(command: &str, body: &ResponseBody) -> Error {
    Error::Protocol(format!(
        "{command} was answered with command {:#06x}",
        body.command_code()
    ))
}
