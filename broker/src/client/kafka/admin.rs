//! Consumer-group administration over Kafka's protocol: list groups, describe
//! one, read its committed offsets, look partitions' offsets up, and commit
//! offsets from outside the group, as `kafka-consumer-groups.sh` does.
//!
//! Each request goes where Kafka wants it: group requests to the group's
//! coordinator (FindCoordinator), ListOffsets to each partition's leader
//! (Metadata), ListGroups to every broker; one connection per broker, opened on
//! first use. A coordinator that is loading, unavailable or moved is asked
//! again until the timeout. It must never panic on an answer, and never loop
//! without a deadline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::connection::{Connection, host_port};
use super::error::{Error, Result, check, check_with_message};
use crate::doors::kafka::{
    ApiKey, DescribeGroupsRequest, DescribedGroup, FindCoordinatorRequest, KEY_TYPE_GROUP,
    ListGroupsRequest, ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic, ListedGroup,
    MetadataRequest, MetadataRequestTopic, MetadataResponse, OffsetCommitPartition,
    OffsetCommitRequest, OffsetCommitTopic, OffsetFetchGroup, OffsetFetchRequest, READ_UNCOMMITTED,
    RequestBody, ResponseBody,
};

/// The client id sent with every request.
pub const CLIENT_ID: &str = "sinew";
/// How long to wait before asking a busy coordinator again.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// A topic's partition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
}

/// Partitions and an offset for each.
pub type Offsets = BTreeMap<TopicPartition, i64>;

/// An admin client of a Kafka cluster (or of sinew-broker's Kafka door).
#[derive(Debug)]
pub struct Admin {
    bootstrap: String,
    timeout: Duration,
    connections: HashMap<String, Connection>,
    coordinators: HashMap<String, String>,
}

impl Admin {
    /// Connects to the bootstrap broker (`HOST:PORT`); `timeout` bounds each
    /// connection and answer, and the retries of each call.
    pub fn connect(bootstrap: &str, timeout: Duration) -> Result<Admin> {
        let mut admin = Admin {
            bootstrap: bootstrap.to_owned(),
            timeout,
            connections: HashMap::new(),
            coordinators: HashMap::new(),
        };
        admin.connection(bootstrap)?;
        Ok(admin)
    }

    /// Every group of every broker, sorted by id.
    pub fn list_groups(&mut self) -> Result<Vec<ListedGroup>> {
        let metadata = self.metadata(Some(Vec::new()))?;
        let mut groups = Vec::new();
        for broker in metadata.brokers {
            let address = host_port(&broker.host, broker.port);
            let request = RequestBody::ListGroups(ListGroupsRequest {
                states_filter: Vec::new(),
                types_filter: Vec::new(),
            });
            let listed = self.retrying(|admin| {
                let ResponseBody::ListGroups(answer) = admin.call(&address, &request)? else {
                    return Err(unexpected(ApiKey::ListGroups));
                };
                check(answer.error_code, || {
                    format!("listing the groups of {address}")
                })?;
                Ok(answer.groups)
            })?;
            groups.extend(listed);
        }
        groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(groups)
    }

    /// A group's state, protocol and members, from its coordinator.
    pub fn describe_group(&mut self, group: &str) -> Result<DescribedGroup> {
        let request = RequestBody::DescribeGroups(DescribeGroupsRequest {
            groups: vec![group.to_owned()],
            include_authorized_operations: false,
        });
        self.retrying(|admin| {
            let coordinator = admin.coordinator(group)?;
            let ResponseBody::DescribeGroups(answer) = admin.call(&coordinator, &request)? else {
                return Err(unexpected(ApiKey::DescribeGroups));
            };
            let described = answer
                .groups
                .into_iter()
                .find(|described| described.group_id == group)
                .ok_or_else(|| Error::Protocol(format!("group {group} was not described")))?;
            check(described.error_code, || format!("describing group {group}"))?;
            Ok(described)
        })
    }

    /// Every offset a group committed (none for a group that never did).
    pub fn committed_offsets(&mut self, group: &str) -> Result<Offsets> {
        let request = RequestBody::OffsetFetch(OffsetFetchRequest {
            groups: vec![OffsetFetchGroup {
                group_id: group.to_owned(),
                member_id: None,
                member_epoch: -1,
                // Every partition it committed: null needs v2.
                topics: None,
            }],
            require_stable: false,
        });
        self.retrying(|admin| {
            let coordinator = admin.coordinator(group)?;
            let connection = admin.connection(&coordinator)?;
            if connection.version(ApiKey::OffsetFetch)? < 2 {
                return Err(Error::UnsupportedVersion {
                    address: coordinator,
                    api: ApiKey::OffsetFetch,
                });
            }
            let ResponseBody::OffsetFetch(answer) = admin.call(&coordinator, &request)? else {
                return Err(unexpected(ApiKey::OffsetFetch));
            };
            let mut offsets = Offsets::new();
            for fetched in answer.groups {
                check(fetched.error_code, || {
                    format!("reading group {group}'s offsets")
                })?;
                for topic in fetched.topics {
                    for partition in topic.partitions {
                        check(partition.error_code, || {
                            format!(
                                "reading group {group}'s offset of {} partition {}",
                                topic.name, partition.partition_index
                            )
                        })?;
                        if partition.committed_offset >= 0 {
                            let key = TopicPartition {
                                topic: topic.name.clone(),
                                partition: partition.partition_index,
                            };
                            offsets.insert(key, partition.committed_offset);
                        }
                    }
                }
            }
            Ok(offsets)
        })
    }

    /// A topic's partitions, in order.
    pub fn partitions(&mut self, topic: &str) -> Result<Vec<i32>> {
        let leaders = self.leaders(&[topic.to_owned()])?;
        Ok(leaders.keys().map(|key| key.partition).collect())
    }

    /// Each partition's offset for `timestamp` (a time in milliseconds, or
    /// `LATEST_TIMESTAMP` / `EARLIEST_TIMESTAMP`), from its leader.
    pub fn list_offsets(
        &mut self,
        partitions: &[TopicPartition],
        timestamp: i64,
    ) -> Result<Offsets> {
        let topics: BTreeSet<String> = partitions.iter().map(|key| key.topic.clone()).collect();
        let leaders = self.leaders(&topics.into_iter().collect::<Vec<_>>())?;
        let mut by_leader: BTreeMap<String, BTreeMap<String, Vec<i32>>> = BTreeMap::new();
        for key in partitions {
            let leader = leaders.get(key).ok_or_else(|| Error::Kafka {
                what: format!("looking up {} partition {}", key.topic, key.partition),
                code: crate::doors::kafka::ErrorCode::UnknownTopicOrPartition,
                message: None,
            })?;
            by_leader
                .entry(leader.clone())
                .or_default()
                .entry(key.topic.clone())
                .or_default()
                .push(key.partition);
        }
        let mut offsets = Offsets::new();
        for (leader, topics) in by_leader {
            let request = RequestBody::ListOffsets(ListOffsetsRequest {
                replica_id: -1,
                isolation_level: READ_UNCOMMITTED,
                topics: topics
                    .into_iter()
                    .map(|(name, partitions)| ListOffsetsTopic {
                        name,
                        partitions: partitions
                            .into_iter()
                            .map(|partition_index| ListOffsetsPartition {
                                partition_index,
                                current_leader_epoch: -1,
                                timestamp,
                            })
                            .collect(),
                    })
                    .collect(),
            });
            let ResponseBody::ListOffsets(answer) = self.call(&leader, &request)? else {
                return Err(unexpected(ApiKey::ListOffsets));
            };
            for topic in answer.topics {
                for partition in topic.partitions {
                    check(partition.error_code, || {
                        format!(
                            "looking up {} partition {}'s offset",
                            topic.name, partition.partition_index
                        )
                    })?;
                    let key = TopicPartition {
                        topic: topic.name.clone(),
                        partition: partition.partition_index,
                    };
                    offsets.insert(key, partition.offset);
                }
            }
        }
        if let Some(missing) = partitions.iter().find(|key| !offsets.contains_key(*key)) {
            return Err(Error::Protocol(format!(
                "no offset was returned for {} partition {}",
                missing.topic, missing.partition
            )));
        }
        Ok(offsets)
    }

    /// Commits `offsets` for `group` from outside it (generation -1, no member
    /// id), as Kafka's tools do; the coordinator refuses it while the group has
    /// members.
    pub fn commit_offsets(&mut self, group: &str, offsets: &Offsets) -> Result<()> {
        let mut topics: BTreeMap<&str, Vec<OffsetCommitPartition>> = BTreeMap::new();
        for (key, offset) in offsets {
            topics
                .entry(&key.topic)
                .or_default()
                .push(OffsetCommitPartition {
                    partition_index: key.partition,
                    committed_offset: *offset,
                    committed_leader_epoch: -1,
                    committed_metadata: Some(String::new()),
                });
        }
        let request = RequestBody::OffsetCommit(OffsetCommitRequest {
            group_id: group.to_owned(),
            generation_id_or_member_epoch: -1,
            member_id: String::new(),
            group_instance_id: None,
            retention_time_ms: -1,
            topics: topics
                .into_iter()
                .map(|(name, partitions)| OffsetCommitTopic {
                    name: name.to_owned(),
                    partitions,
                })
                .collect(),
        });
        self.retrying(|admin| {
            let coordinator = admin.coordinator(group)?;
            let ResponseBody::OffsetCommit(answer) = admin.call(&coordinator, &request)? else {
                return Err(unexpected(ApiKey::OffsetCommit));
            };
            for topic in answer.topics {
                for partition in topic.partitions {
                    check(partition.error_code, || {
                        format!(
                            "committing group {group}'s offset of {} partition {}",
                            topic.name, partition.partition_index
                        )
                    })?;
                }
            }
            Ok(())
        })
    }

    /// Metadata from the bootstrap broker, never creating a topic.
    fn metadata(&mut self, topics: Option<Vec<String>>) -> Result<MetadataResponse> {
        let request = RequestBody::Metadata(MetadataRequest {
            topics: topics.map(|names| {
                names
                    .into_iter()
                    .map(|name| MetadataRequestTopic {
                        topic_id: [0; 16],
                        name: Some(name),
                    })
                    .collect()
            }),
            allow_auto_topic_creation: false,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        });
        let bootstrap = self.bootstrap.clone();
        let ResponseBody::Metadata(answer) = self.call(&bootstrap, &request)? else {
            return Err(unexpected(ApiKey::Metadata));
        };
        check(answer.error_code, || "asking for metadata".to_owned())?;
        Ok(answer)
    }

    /// Each partition of `topics` and its leader's address.
    fn leaders(&mut self, topics: &[String]) -> Result<BTreeMap<TopicPartition, String>> {
        let metadata = self.metadata(Some(topics.to_vec()))?;
        let brokers: HashMap<i32, String> = metadata
            .brokers
            .iter()
            .map(|broker| (broker.node_id, host_port(&broker.host, broker.port)))
            .collect();
        let mut leaders = BTreeMap::new();
        for topic in metadata.topics {
            let name = topic.name.unwrap_or_default();
            check(topic.error_code, || format!("looking up topic {name}"))?;
            for partition in topic.partitions {
                let key = TopicPartition {
                    topic: name.clone(),
                    partition: partition.partition_index,
                };
                let leader = brokers
                    .get(&partition.leader_id)
                    .ok_or_else(|| Error::Kafka {
                        what: format!("finding the leader of {name} partition {}", key.partition),
                        code: crate::doors::kafka::ErrorCode::LeaderNotAvailable,
                        message: None,
                    })?;
                leaders.insert(key, leader.clone());
            }
        }
        Ok(leaders)
    }

    /// The address of `group`'s coordinator, found once.
    fn coordinator(&mut self, group: &str) -> Result<String> {
        if let Some(address) = self.coordinators.get(group) {
            return Ok(address.clone());
        }
        let request = RequestBody::FindCoordinator(FindCoordinatorRequest {
            key: group.to_owned(),
            key_type: KEY_TYPE_GROUP,
        });
        let bootstrap = self.bootstrap.clone();
        let ResponseBody::FindCoordinator(answer) = self.call(&bootstrap, &request)? else {
            return Err(unexpected(ApiKey::FindCoordinator));
        };
        check_with_message(answer.error_code, answer.error_message, || {
            format!("finding group {group}'s coordinator")
        })?;
        let address = host_port(&answer.host, answer.port);
        self.coordinators.insert(group.to_owned(), address.clone());
        Ok(address)
    }

    /// The connection to `address`, opened if needed.
    fn connection(&mut self, address: &str) -> Result<&mut Connection> {
        if !self.connections.contains_key(address) {
            let connection = Connection::connect(address, CLIENT_ID, self.timeout)?;
            self.connections.insert(address.to_owned(), connection);
        }
        self.connections
            .get_mut(address)
            .ok_or_else(|| Error::Protocol(format!("no connection to {address}")))
    }

    /// Sends `request` to `address`; a connection left in an unknown state
    /// (a timeout, an unreadable answer) is dropped, to be opened again.
    fn call(&mut self, address: &str, request: &RequestBody) -> Result<ResponseBody> {
        let result = self.connection(address)?.send(request);
        if let Err(error) = &result
            && !error.leaves_connection_usable()
        {
            self.connections.remove(address);
        }
        result
    }

    /// Runs `attempt` until it succeeds, fails for good, or the timeout passes;
    /// a coordinator that moved or is unavailable is looked up again.
    fn retrying<T>(&mut self, mut attempt: impl FnMut(&mut Admin) -> Result<T>) -> Result<T> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match attempt(self) {
                Err(error) if error.is_retriable() && Instant::now() + RETRY_BACKOFF < deadline => {
                    self.coordinators.clear();
                    std::thread::sleep(RETRY_BACKOFF);
                }
                result => return result,
            }
        }
    }
}

fn unexpected(api: ApiKey) -> Error {
    Error::Protocol(format!("the broker answered {api:?} with another API"))
}
