//! ListOffsets, CreateTopics and DeleteTopics: one store request per partition
//! or topic, one answer per partition or topic, in the request's order.
//!
//! CreateTopics takes Kafka's topic settings that the store has
//! (`cleanup.policy`, `retention.ms`, `retention.bytes`, `segment.bytes`) and
//! refuses others with INVALID_CONFIG rather than ignore them; a replication
//! factor other than 1 or -1 is INVALID_REPLICATION_FACTOR, manual assignments
//! INVALID_REQUEST (one node has nothing to assign). `validate_only` checks the
//! settings and whether the topic exists, and creates nothing. Nothing here may
//! panic on a request.

use super::work::{DoorSettings, Outcome, Step, failure};
use crate::doors::kafka::{
    CreatableTopic, CreatableTopicResult, CreateTopicsRequest, CreateTopicsResponse,
    DeletableTopicResult, DeleteTopicsRequest, DeleteTopicsResponse, EARLIEST_TIMESTAMP, ErrorCode,
    LATEST_TIMESTAMP, ListOffsetsPartitionResponse, ListOffsetsRequest, ListOffsetsResponse,
    ListOffsetsTopicResponse, ResponseBody,
};
use crate::store::{OffsetPosition, Reply, Request, TopicConfig};
use std::time::Duration;

/// Kafka's "earliest local" position (KIP-405): without tiered storage, the
/// earliest.
const EARLIEST_LOCAL_TIMESTAMP: i64 = -4;

/// Where one item's answer comes from: its store request's index, or why there
/// is none.
type Source<E> = Result<usize, E>;

/// A partition asked about and its source.
type Partition = (i32, Source<ErrorCode>);

/// A ListOffsets in progress: per topic, per partition, its source.
#[derive(Debug)]
pub(super) struct ListOffsetsWork {
    topics: Vec<(String, Vec<Partition>)>,
}

impl ListOffsetsWork {
    pub(super) fn start(request: ListOffsetsRequest) -> (ListOffsetsWork, Step) {
        let mut requests = Vec::new();
        let topics = request
            .topics
            .into_iter()
            .map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|asked| {
                        let position = match asked.timestamp {
                            EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => {
                                Some(OffsetPosition::Earliest)
                            }
                            LATEST_TIMESTAMP => Some(OffsetPosition::Latest),
                            at if at >= 0 => Some(OffsetPosition::Timestamp(at)),
                            // The largest timestamp (-3) and the rest are not kept.
                            _ => None,
                        };
                        let source = match (u32::try_from(asked.partition_index), position) {
                            (Err(_), _) => Err(ErrorCode::UnknownTopicOrPartition),
                            (_, None) => Err(ErrorCode::InvalidRequest),
                            (Ok(partition), Some(position)) => {
                                requests.push(Request::ListOffsets {
                                    topic: topic.name.clone(),
                                    partition,
                                    position,
                                });
                                Ok(requests.len() - 1)
                            }
                        };
                        (asked.partition_index, source)
                    })
                    .collect();
                (topic.name, partitions)
            })
            .collect();
        let work = ListOffsetsWork { topics };
        if requests.is_empty() {
            let step = work.answer(Vec::new());
            return (work, step);
        }
        (work, Step::Store(requests))
    }

    pub(super) fn answer(&self, replies: Vec<Outcome>) -> Step {
        let topics = self
            .topics
            .iter()
            .map(|(name, partitions)| ListOffsetsTopicResponse {
                name: name.clone(),
                partitions: partitions
                    .iter()
                    .map(|(partition, source)| {
                        let mut answer = ListOffsetsPartitionResponse {
                            partition_index: *partition,
                            error_code: ErrorCode::None,
                            timestamp: -1,
                            offset: -1,
                            leader_epoch: -1,
                        };
                        match source.map(|index| replies.get(index)) {
                            Err(code) => answer.error_code = code,
                            // No record at or after the timestamp: -1, as Kafka.
                            Ok(Some(Ok(Reply::Offset(offset)))) => {
                                answer.offset =
                                    offset.map_or(-1, |offset| i64::try_from(offset).unwrap_or(-1));
                            }
                            Ok(Some(failed)) => answer.error_code = failure(failed),
                            Ok(None) => answer.error_code = ErrorCode::UnknownServerError,
                        }
                        answer
                    })
                    .collect(),
            })
            .collect();
        Step::Answer(ResponseBody::ListOffsets(ListOffsetsResponse {
            throttle_time_ms: 0,
            topics,
        }))
    }
}

/// A CreateTopics in progress: per topic, its store request's index or why it
/// was refused, and whether it only validates.
#[derive(Debug)]
pub(super) struct CreateTopicsWork {
    topics: Vec<(String, Source<(ErrorCode, String)>)>,
    validate_only: bool,
}

impl CreateTopicsWork {
    pub(super) fn start(
        request: CreateTopicsRequest,
        settings: &DoorSettings,
    ) -> (CreateTopicsWork, Step) {
        let mut requests = Vec::new();
        let validate_only = request.validate_only;
        let topics = request
            .topics
            .into_iter()
            .map(|topic| {
                let name = topic.name.clone();
                let source = settings_of(topic, settings.default_partitions).map(|config| {
                    let request = match validate_only {
                        true => Request::DescribeTopic {
                            topic: config.name.clone(),
                        },
                        false => Request::CreateTopic(config),
                    };
                    requests.push(request);
                    requests.len() - 1
                });
                (name, source)
            })
            .collect();
        let work = CreateTopicsWork {
            topics,
            validate_only,
        };
        if requests.is_empty() {
            let step = work.answer(Vec::new());
            return (work, step);
        }
        (work, Step::Store(requests))
    }

    pub(super) fn answer(&self, replies: Vec<Outcome>) -> Step {
        let topics = self
            .topics
            .iter()
            .map(|(name, source)| {
                let (error_code, error_message) = match source {
                    Err((code, message)) => (*code, Some(message.clone())),
                    Ok(index) => match (replies.get(*index), self.validate_only) {
                        (Some(Ok(Reply::TopicCreated(_))), false) => (ErrorCode::None, None),
                        (Some(Ok(Reply::Topic(_))), true) => (
                            ErrorCode::TopicAlreadyExists,
                            Some(format!("topic {name:?} exists already")),
                        ),
                        (Some(Err(crate::store::StoreError::UnknownTopic(_))), true) => {
                            (ErrorCode::None, None)
                        }
                        (Some(failed), _) => (
                            failure(failed),
                            failed.as_ref().err().map(|e| e.to_string()),
                        ),
                        (None, _) => (ErrorCode::UnknownServerError, None),
                    },
                };
                CreatableTopicResult {
                    name: name.clone(),
                    error_code,
                    error_message,
                }
            })
            .collect();
        Step::Answer(ResponseBody::CreateTopics(CreateTopicsResponse {
            throttle_time_ms: 0,
            topics,
        }))
    }
}

/// A topic's settings from a CreateTopics entry, or why they are refused.
fn settings_of(
    topic: CreatableTopic,
    default_partitions: u32,
) -> Result<TopicConfig, (ErrorCode, String)> {
    let partitions = match topic.num_partitions {
        -1 => default_partitions,
        count => u32::try_from(count)
            .ok()
            .filter(|count| *count > 0)
            .ok_or((
                ErrorCode::InvalidPartitions,
                format!("{count} partitions: a topic needs at least one"),
            ))?,
    };
    if !matches!(topic.replication_factor, -1 | 1) {
        return Err((
            ErrorCode::InvalidReplicationFactor,
            "this broker is one node: the replication factor is 1".to_owned(),
        ));
    }
    if !topic.assignments.is_empty() {
        return Err((
            ErrorCode::InvalidRequest,
            "manual replica assignments are not supported".to_owned(),
        ));
    }
    let mut config = TopicConfig::new(topic.name, partitions);
    for entry in topic.configs {
        let value = entry.value.unwrap_or_default();
        let invalid = || {
            (
                ErrorCode::InvalidConfig,
                format!("{} = {value:?} is not a valid setting", entry.name),
            )
        };
        let number = || value.parse::<i64>().map_err(|_| invalid());
        match entry.name.as_str() {
            "cleanup.policy" => {
                let policies: Vec<&str> = value.split(',').map(str::trim).collect();
                if policies
                    .iter()
                    .any(|policy| !matches!(*policy, "compact" | "delete"))
                {
                    return Err(invalid());
                }
                config.compaction = policies.contains(&"compact");
            }
            "retention.ms" => {
                config.retention_age = match number()? {
                    -1 => None,
                    ms => Some(Duration::from_millis(
                        u64::try_from(ms).map_err(|_| invalid())?,
                    )),
                }
            }
            "retention.bytes" => {
                config.retention_bytes = match number()? {
                    -1 => None,
                    bytes => Some(u64::try_from(bytes).map_err(|_| invalid())?),
                }
            }
            "segment.bytes" => {
                config.segment_bytes = Some(u64::try_from(number()?).map_err(|_| invalid())?);
            }
            _ => {
                return Err((
                    ErrorCode::InvalidConfig,
                    format!("the setting {} is not supported", entry.name),
                ));
            }
        }
    }
    if let Err(error) = config.validate() {
        return Err((super::errors::code(&error), error.to_string()));
    }
    Ok(config)
}

/// A DeleteTopics in progress: the names, each one store request.
#[derive(Debug)]
pub(super) struct DeleteTopicsWork {
    names: Vec<String>,
}

impl DeleteTopicsWork {
    pub(super) fn start(request: DeleteTopicsRequest) -> (DeleteTopicsWork, Step) {
        let requests: Vec<Request> = request
            .topic_names
            .iter()
            .map(|topic| Request::DeleteTopic {
                topic: topic.clone(),
            })
            .collect();
        let work = DeleteTopicsWork {
            names: request.topic_names,
        };
        if requests.is_empty() {
            let step = work.answer(Vec::new());
            return (work, step);
        }
        (work, Step::Store(requests))
    }

    pub(super) fn answer(&self, replies: Vec<Outcome>) -> Step {
        let responses = self
            .names
            .iter()
            .enumerate()
            .map(|(index, name)| DeletableTopicResult {
                name: name.clone(),
                error_code: match replies.get(index) {
                    Some(Ok(Reply::TopicDeleted)) => ErrorCode::None,
                    Some(failed) => failure(failed),
                    None => ErrorCode::UnknownServerError,
                },
            })
            .collect();
        Step::Answer(ResponseBody::DeleteTopics(DeleteTopicsResponse {
            throttle_time_ms: 0,
            responses,
        }))
    }
}
