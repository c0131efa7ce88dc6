//! CreatePartitions, DescribeConfigs, DescribeCluster, OffsetForLeaderEpoch and
//! DeleteRecords: the admin APIs that act on one topic or partition at a time.
//!
//! - CreatePartitions grows a topic (manual assignments are INVALID_REQUEST on
//!   one node; a count not above the current one INVALID_PARTITIONS).
//! - DescribeConfigs describes a topic's settings as Kafka names them
//!   (`cleanup.policy`, `retention.ms`, `retention.bytes`, `segment.bytes`), or
//!   this broker's (`num.partitions`, `auto.create.topics.enable`).
//! - DescribeCluster: this broker, its own controller.
//! - OffsetForLeaderEpoch: the broker keeps one leader epoch per partition, so
//!   the end offset of any epoch asked about is the partition's end: no client
//!   ever finds its position truncated.
//! - DeleteRecords moves log starts up (offset -1: to the high watermark).
//!
//! Sans-IO, like `work.rs`: never a socket, the store or the clock here, and no
//! panic on a request.

use super::work::{DoorSettings, NODE_ID, Outcome, Step, failure};
use crate::doors::kafka::{
    AUTHORIZED_OPERATIONS_OMITTED, CONFIG_SOURCE_DEFAULT, CONFIG_SOURCE_STATIC_BROKER,
    CONFIG_SOURCE_TOPIC, CreatePartitionsRequest, CreatePartitionsResponse,
    CreatePartitionsTopicResult, DELETE_TO_HIGH_WATERMARK, DeleteRecordsPartitionResult,
    DeleteRecordsRequest, DeleteRecordsResponse, DeleteRecordsTopicResult, DescribeClusterBroker,
    DescribeClusterRequest, DescribeClusterResponse, DescribeConfigsEntry, DescribeConfigsRequest,
    DescribeConfigsResponse, DescribeConfigsResult, EpochEndOffset, ErrorCode,
    OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, OffsetForLeaderTopicResult,
    RESOURCE_TYPE_BROKER, RESOURCE_TYPE_TOPIC, ResponseBody,
};
use crate::store::{OffsetPosition, Reply, Request, TopicConfig};

/// Where one item's answer comes from: its store request's index, or why
/// there is none.
type Source = Result<usize, (ErrorCode, String)>;

/// CreatePartitions in progress.
#[derive(Debug)]
pub(super) struct CreatePartitionsWork {
    topics: Vec<(String, u32, Source)>,
    validate_only: bool,
}

impl CreatePartitionsWork {
    pub(super) fn start(request: CreatePartitionsRequest) -> (CreatePartitionsWork, Step) {
        let mut requests = Vec::new();
        let topics = request
            .topics
            .into_iter()
            .map(|topic| {
                let count = u32::try_from(topic.count).unwrap_or(0);
                let source = if topic.assignments.is_some() {
                    Err((
                        ErrorCode::InvalidRequest,
                        "manual replica assignments are not supported".to_owned(),
                    ))
                } else if count == 0 {
                    Err((
                        ErrorCode::InvalidPartitions,
                        format!("{} partitions: a topic needs at least one", topic.count),
                    ))
                } else {
                    requests.push(match request.validate_only {
                        true => Request::DescribeTopic {
                            topic: topic.name.clone(),
                        },
                        false => Request::CreatePartitions {
                            topic: topic.name.clone(),
                            total: count,
                        },
                    });
                    Ok(requests.len() - 1)
                };
                (topic.name, count, source)
            })
            .collect();
        let work = CreatePartitionsWork {
            topics,
            validate_only: request.validate_only,
        };
        match requests.is_empty() {
            true => {
                let step = work.answer(Vec::new());
                (work, step)
            }
            false => (work, Step::Store(requests)),
        }
    }

    pub(super) fn answer(&self, replies: Vec<Outcome>) -> Step {
        let results = self
            .topics
            .iter()
            .map(|(name, count, source)| {
                let (error_code, error_message) = match source {
                    Err((code, message)) => (*code, Some(message.clone())),
                    Ok(index) => match replies.get(*index) {
                        Some(Ok(Reply::TopicCreated(_))) => (ErrorCode::None, None),
                        Some(Ok(Reply::Topic(found))) if self.validate_only => {
                            let current = found.config.partitions;
                            if *count > current {
                                (ErrorCode::None, None)
                            } else {
                                (
                                    ErrorCode::InvalidPartitions,
                                    Some(format!(
                                        "topic {name:?} has {current} partitions; it can only grow"
                                    )),
                                )
                            }
                        }
                        Some(failed) => (
                            failure(failed),
                            failed.as_ref().err().map(ToString::to_string),
                        ),
                        None => (ErrorCode::UnknownServerError, None),
                    },
                };
                CreatePartitionsTopicResult {
                    name: name.clone(),
                    error_code,
                    error_message,
                }
            })
            .collect();
        Step::Answer(ResponseBody::CreatePartitions(CreatePartitionsResponse {
            throttle_time_ms: 0,
            results,
        }))
    }
}

/// A resource to describe: its type, name, the keys asked for (`None`: all),
/// and its store request's index (topics only).
type Resource = (i8, String, Option<Vec<String>>, Option<usize>);

/// DescribeConfigs in progress.
#[derive(Debug)]
pub(super) struct DescribeConfigsWork {
    resources: Vec<Resource>,
}

impl DescribeConfigsWork {
    pub(super) fn start(request: DescribeConfigsRequest) -> (DescribeConfigsWork, Step) {
        let mut requests = Vec::new();
        let resources = request
            .resources
            .into_iter()
            .map(|resource| {
                let index = (resource.resource_type == RESOURCE_TYPE_TOPIC).then(|| {
                    requests.push(Request::DescribeTopic {
                        topic: resource.resource_name.clone(),
                    });
                    requests.len() - 1
                });
                (
                    resource.resource_type,
                    resource.resource_name,
                    resource.configuration_keys,
                    index,
                )
            })
            .collect();
        (DescribeConfigsWork { resources }, Step::Store(requests))
    }

    pub(super) fn answer(&self, replies: Vec<Outcome>, settings: &DoorSettings) -> Step {
        let results = self
            .resources
            .iter()
            .map(|(kind, name, keys, index)| {
                let mut result = DescribeConfigsResult {
                    error_code: ErrorCode::None,
                    error_message: None,
                    resource_type: *kind,
                    resource_name: name.clone(),
                    configs: Vec::new(),
                };
                let entries = match (*kind, index.and_then(|index| replies.get(index))) {
                    (RESOURCE_TYPE_TOPIC, Some(Ok(Reply::Topic(found)))) => {
                        topic_entries(&found.config)
                    }
                    (RESOURCE_TYPE_TOPIC, Some(failed)) => {
                        result.error_code = failure(failed);
                        result.error_message = failed.as_ref().err().map(ToString::to_string);
                        Vec::new()
                    }
                    (RESOURCE_TYPE_BROKER, _)
                        if name.is_empty() || *name == NODE_ID.to_string() =>
                    {
                        broker_entries(settings)
                    }
                    (RESOURCE_TYPE_BROKER, _) => {
                        result.error_code = ErrorCode::InvalidRequest;
                        result.error_message =
                            Some(format!("no broker {name:?}; this is {NODE_ID}"));
                        Vec::new()
                    }
                    _ => {
                        result.error_code = ErrorCode::InvalidRequest;
                        result.error_message =
                            Some(format!("resource type {kind} is not described here"));
                        Vec::new()
                    }
                };
                result.configs = entries
                    .into_iter()
                    .filter(|entry| keys.as_ref().is_none_or(|keys| keys.contains(&entry.name)))
                    .collect();
                result
            })
            .collect();
        Step::Answer(ResponseBody::DescribeConfigs(DescribeConfigsResponse {
            throttle_time_ms: 0,
            results,
        }))
    }
}

fn entry(name: &str, value: String, source: i8) -> DescribeConfigsEntry {
    DescribeConfigsEntry {
        name: name.to_owned(),
        value: Some(value),
        read_only: false,
        config_source: source,
        is_sensitive: false,
        synonyms: Vec::new(),
    }
}

fn topic_entries(config: &TopicConfig) -> Vec<DescribeConfigsEntry> {
    let source = |set: bool| match set {
        true => CONFIG_SOURCE_TOPIC,
        false => CONFIG_SOURCE_DEFAULT,
    };
    let policy = match (config.compaction, config.retention_age.is_some()) {
        (true, true) => "compact,delete",
        (true, false) => "compact",
        (false, _) => "delete",
    };
    vec![
        entry(
            "cleanup.policy",
            policy.to_owned(),
            source(config.compaction),
        ),
        entry(
            "retention.ms",
            config
                .retention_age
                .map_or(-1, |age| i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
                .to_string(),
            source(config.retention_age.is_some()),
        ),
        entry(
            "retention.bytes",
            config
                .retention_bytes
                .map_or(-1, |bytes| i64::try_from(bytes).unwrap_or(i64::MAX))
                .to_string(),
            source(config.retention_bytes.is_some()),
        ),
        entry(
            "segment.bytes",
            config.segment_bytes.unwrap_or(1 << 30).to_string(),
            source(config.segment_bytes.is_some()),
        ),
    ]
}

fn broker_entries(settings: &DoorSettings) -> Vec<DescribeConfigsEntry> {
    vec![
        entry(
            "num.partitions",
            settings.default_partitions.to_string(),
            CONFIG_SOURCE_STATIC_BROKER,
        ),
        entry(
            "auto.create.topics.enable",
            settings.auto_create_topics.to_string(),
            CONFIG_SOURCE_STATIC_BROKER,
        ),
    ]
}

/// DescribeCluster: answered at once.
pub(super) fn describe_cluster(request: &DescribeClusterRequest, settings: &DoorSettings) -> Step {
    Step::Answer(ResponseBody::DescribeCluster(DescribeClusterResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None,
        error_message: None,
        endpoint_type: request.endpoint_type,
        cluster_id: settings.cluster_id.clone(),
        controller_id: NODE_ID,
        brokers: vec![DescribeClusterBroker {
            broker_id: NODE_ID,
            host: settings.host.clone(),
            port: settings.port,
            rack: None,
        }],
        cluster_authorized_operations: match request.include_cluster_authorized_operations {
            true => super::work::CLUSTER_OPERATIONS,
            false => AUTHORIZED_OPERATIONS_OMITTED,
        },
    }))
}

/// Per topic, per partition: the asked value and its source.
type Partitions = Vec<(String, Vec<(i32, i64, Source)>)>;

/// OffsetForLeaderEpoch in progress: each partition's end offset lookup.
#[derive(Debug)]
pub(super) struct LeaderEpochWork {
    topics: Partitions,
}

impl LeaderEpochWork {
    pub(super) fn start(request: OffsetForLeaderEpochRequest) -> (LeaderEpochWork, Step) {
        let mut requests = Vec::new();
        let topics = request
            .topics
            .into_iter()
            .map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|asked| {
                        let source = match u32::try_from(asked.partition) {
                            Ok(partition) => {
                                requests.push(Request::ListOffsets {
                                    topic: topic.topic.clone(),
                                    partition,
                                    position: OffsetPosition::Latest,
                                });
                                Ok(requests.len() - 1)
                            }
                            Err(_) => Err((ErrorCode::UnknownTopicOrPartition, String::new())),
                        };
                        (asked.partition, i64::from(asked.leader_epoch), source)
                    })
                    .collect();
                (topic.topic, partitions)
            })
            .collect();
        (LeaderEpochWork { topics }, Step::Store(requests))
    }

    pub(super) fn answer(&self, replies: Vec<Outcome>) -> Step {
        let topics = self
            .topics
            .iter()
            .map(|(topic, partitions)| OffsetForLeaderTopicResult {
                topic: topic.clone(),
                partitions: partitions
                    .iter()
                    .map(|(partition, epoch, source)| {
                        let mut answer = EpochEndOffset {
                            error_code: ErrorCode::None,
                            partition: *partition,
                            leader_epoch: i32::try_from(*epoch).unwrap_or(-1),
                            end_offset: -1,
                        };
                        match source.as_ref().map(|index| replies.get(*index)) {
                            Err((code, _)) => answer.error_code = *code,
                            Ok(Some(Ok(Reply::Offset(Some(end))))) => {
                                answer.end_offset = i64::try_from(*end).unwrap_or(i64::MAX);
                            }
                            Ok(Some(failed)) => answer.error_code = failure(failed),
                            Ok(None) => answer.error_code = ErrorCode::UnknownServerError,
                        }
                        answer
                    })
                    .collect(),
            })
            .collect();
        Step::Answer(ResponseBody::OffsetForLeaderEpoch(
            OffsetForLeaderEpochResponse {
                throttle_time_ms: 0,
                topics,
            },
        ))
    }
}

/// DeleteRecords in progress: first the high watermarks of partitions asked
/// with -1, then the deletions.
#[derive(Debug)]
pub(super) struct DeleteRecordsWork {
    topics: Partitions,
    /// The high watermarks are looked up; the deletions are next.
    looked_up: bool,
}

impl DeleteRecordsWork {
    pub(super) fn start(request: DeleteRecordsRequest) -> (DeleteRecordsWork, Step) {
        let topics = request
            .topics
            .into_iter()
            .map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|asked| {
                        let source = if asked.partition_index < 0 {
                            Err((ErrorCode::UnknownTopicOrPartition, String::new()))
                        } else if asked.offset < 0 && asked.offset != DELETE_TO_HIGH_WATERMARK {
                            Err((ErrorCode::OffsetOutOfRange, String::new()))
                        } else {
                            Ok(0)
                        };
                        (asked.partition_index, asked.offset, source)
                    })
                    .collect();
                (topic.name, partitions)
            })
            .collect();
        let mut work = DeleteRecordsWork {
            topics,
            looked_up: false,
        };
        let step = work.lookups();
        (work, step)
    }

    /// The high watermark of every partition asked with -1 (or, when none was,
    /// the deletions at once).
    fn lookups(&mut self) -> Step {
        let mut requests = Vec::new();
        for (topic, partitions) in &mut self.topics {
            for (partition, offset, source) in partitions.iter_mut() {
                if *offset == DELETE_TO_HIGH_WATERMARK
                    && let Ok(index) = source
                {
                    requests.push(Request::ListOffsets {
                        topic: topic.clone(),
                        partition: u32::try_from(*partition).unwrap_or(0),
                        position: OffsetPosition::Latest,
                    });
                    *index = requests.len() - 1;
                }
            }
        }
        self.looked_up = true;
        match requests.is_empty() {
            true => self.deletions(&[]),
            false => Step::Store(requests),
        }
    }

    /// The deletions, with the high watermarks found.
    fn deletions(&mut self, watermarks: &[Outcome]) -> Step {
        let mut requests = Vec::new();
        for (topic, partitions) in &mut self.topics {
            for (partition, offset, source) in partitions.iter_mut() {
                let Ok(index) = source else { continue };
                if *offset == DELETE_TO_HIGH_WATERMARK {
                    match watermarks.get(*index) {
                        Some(Ok(Reply::Offset(Some(end)))) => {
                            *offset = i64::try_from(*end).unwrap_or(i64::MAX);
                        }
                        Some(failed) => {
                            *source = Err((failure(failed), String::new()));
                            continue;
                        }
                        None => {
                            *source = Err((ErrorCode::UnknownServerError, String::new()));
                            continue;
                        }
                    }
                }
                requests.push(Request::DeleteRecords {
                    topic: topic.clone(),
                    partition: u32::try_from(*partition).unwrap_or(0),
                    before: u64::try_from(*offset).unwrap_or(0),
                });
                *index = requests.len() - 1;
            }
        }
        match requests.is_empty() {
            true => self.answer(&[]),
            false => Step::Store(requests),
        }
    }

    pub(super) fn advance(&mut self, replies: Vec<Outcome>) -> Step {
        if self.looked_up {
            self.looked_up = false;
            return self.deletions(&replies);
        }
        self.answer(&replies)
    }

    fn answer(&self, replies: &[Outcome]) -> Step {
        let topics = self
            .topics
            .iter()
            .map(|(name, partitions)| DeleteRecordsTopicResult {
                name: name.clone(),
                partitions: partitions
                    .iter()
                    .map(|(partition, _, source)| {
                        let (low_watermark, error_code) =
                            match source.as_ref().map(|index| replies.get(*index)) {
                                Err((code, _)) => (-1, *code),
                                Ok(Some(Ok(Reply::LogStart(start)))) => {
                                    (i64::try_from(*start).unwrap_or(i64::MAX), ErrorCode::None)
                                }
                                Ok(Some(failed)) => (-1, failure(failed)),
                                Ok(None) => (-1, ErrorCode::UnknownServerError),
                            };
                        DeleteRecordsPartitionResult {
                            partition_index: *partition,
                            low_watermark,
                            error_code,
                        }
                    })
                    .collect(),
            })
            .collect();
        Step::Answer(ResponseBody::DeleteRecords(DeleteRecordsResponse {
            throttle_time_ms: 0,
            topics,
        }))
    }
}
