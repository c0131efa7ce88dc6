//! Metadata: this broker as the cluster's only node (at the advertised host and
//! port, not the bind address), its own controller, and each topic asked for
//! (every topic when none is named) with its partitions, each led by this node
//! with replicas and in-sync replicas `[node]`.
//!
//! A missing topic is created with the broker's default partition count when
//! the request allows it (always before v4) and the broker's
//! `auto_create_topics` does, then described again; otherwise it is
//! UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION for a name Kafka would
//! refuse. Topic ids are not kept yet: they are zeros, and a topic asked for by
//! id alone is UNKNOWN_TOPIC_ID. Leader epochs are -1 (unknown), so clients do
//! not validate their positions against them. Nothing here may panic.

use super::work::{CLUSTER_OPERATIONS, DoorSettings, NODE_ID, Outcome, Step, TOPIC_OPERATIONS};
use crate::doors::kafka::{
    AUTHORIZED_OPERATIONS_OMITTED, ErrorCode, MetadataBroker, MetadataPartition, MetadataRequest,
    MetadataResponse, MetadataTopic, ResponseBody, TopicId,
};
use crate::store::{Reply, Request, TopicConfig, TopicDescription, validate_topic_name};

/// Where a Metadata request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Describing the topics asked for.
    Describe,
    /// Creating the missing ones.
    Create,
    /// Describing them again, after creating.
    Redescribe,
}

/// A Metadata request in progress.
#[derive(Debug)]
pub(super) struct MetadataWork {
    /// The names asked for; `None` is every topic.
    names: Option<Vec<String>>,
    /// Topics asked for by id alone.
    by_id: Vec<TopicId>,
    auto_create: bool,
    phase: Phase,
    /// The authorized operations asked for: of topics, of the cluster.
    operations: (bool, bool),
}

impl MetadataWork {
    pub(super) fn start(
        request: MetadataRequest,
        _version: i16,
        settings: &DoorSettings,
    ) -> (Option<MetadataWork>, Step) {
        let mut by_id = Vec::new();
        let names = request.topics.map(|topics| {
            topics
                .into_iter()
                .filter_map(|topic| {
                    if topic.name.is_none() {
                        by_id.push(topic.topic_id);
                    }
                    topic.name
                })
                .collect::<Vec<_>>()
        });
        let work = MetadataWork {
            names,
            by_id,
            auto_create: request.allow_auto_topic_creation && settings.auto_create_topics,
            phase: Phase::Describe,
            operations: (
                request.include_topic_authorized_operations,
                request.include_cluster_authorized_operations,
            ),
        };
        if work.names.as_ref().is_some_and(Vec::is_empty) {
            let step = Step::Answer(work.answer(&[], settings));
            return (None, step);
        }
        let step = Step::Store(vec![work.describe()]);
        (Some(work), step)
    }

    fn describe(&self) -> Request {
        Request::DescribeTopics {
            topics: self.names.clone(),
        }
    }

    pub(super) fn advance(&mut self, replies: Vec<Outcome>, settings: &DoorSettings) -> Step {
        if self.phase == Phase::Create {
            // Created, or not (another client was first; a bad name): either way
            // the next description says what there is.
            self.phase = Phase::Redescribe;
            return Step::Store(vec![self.describe()]);
        }
        let descriptions = match replies.into_iter().next() {
            Some(Ok(Reply::Descriptions(descriptions))) => descriptions,
            _ => Vec::new(),
        };
        if self.phase == Phase::Describe && self.auto_create {
            let missing: Vec<Request> = descriptions
                .iter()
                .filter(|(name, found)| found.is_none() && validate_topic_name(name).is_ok())
                .map(|(name, _)| {
                    Request::CreateTopic(TopicConfig::new(
                        name.as_str(),
                        settings.default_partitions,
                    ))
                })
                .collect();
            if !missing.is_empty() {
                self.phase = Phase::Create;
                return Step::Store(missing);
            }
        }
        Step::Answer(self.answer(&descriptions, settings))
    }

    fn answer(
        &self,
        descriptions: &[(String, Option<TopicDescription>)],
        settings: &DoorSettings,
    ) -> ResponseBody {
        let mut topics: Vec<MetadataTopic> = descriptions
            .iter()
            .map(|(name, found)| match found {
                Some(description) => topic(name, description, self.operations.0),
                None => missing(Some(name.clone()), [0; 16]),
            })
            .collect();
        topics.extend(self.by_id.iter().map(|id| missing(None, *id)));
        ResponseBody::Metadata(MetadataResponse {
            throttle_time_ms: 0,
            brokers: vec![MetadataBroker {
                node_id: NODE_ID,
                host: settings.host.clone(),
                port: settings.port,
                rack: None,
            }],
            cluster_id: Some(settings.cluster_id.clone()),
            controller_id: NODE_ID,
            topics,
            cluster_authorized_operations: match self.operations.1 {
                true => CLUSTER_OPERATIONS,
                false => AUTHORIZED_OPERATIONS_OMITTED,
            },
            error_code: ErrorCode::None,
        })
    }
}

fn topic(name: &str, description: &TopicDescription, operations: bool) -> MetadataTopic {
    MetadataTopic {
        error_code: ErrorCode::None,
        name: Some(name.to_owned()),
        topic_id: [0; 16],
        is_internal: name.starts_with("__"),
        partitions: description
            .partitions
            .iter()
            .map(|partition| MetadataPartition {
                error_code: ErrorCode::None,
                partition_index: i32::try_from(partition.partition).unwrap_or(i32::MAX),
                leader_id: NODE_ID,
                leader_epoch: -1,
                replica_nodes: vec![NODE_ID],
                isr_nodes: vec![NODE_ID],
                offline_replicas: Vec::new(),
            })
            .collect(),
        topic_authorized_operations: match operations {
            true => TOPIC_OPERATIONS,
            false => AUTHORIZED_OPERATIONS_OMITTED,
        },
    }
}

fn missing(name: Option<String>, id: TopicId) -> MetadataTopic {
    let error_code = match &name {
        None => ErrorCode::UnknownTopicId,
        Some(name) if validate_topic_name(name).is_err() => ErrorCode::InvalidTopicException,
        Some(_) => ErrorCode::UnknownTopicOrPartition,
    };
    MetadataTopic {
        error_code,
        name,
        topic_id: id,
        is_internal: false,
        partitions: Vec::new(),
        topic_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
    }
}
