//! A consumer-group member of one topic over the native door: it joins a group
//! (the same groups Kafka clients join), reads the partitions the group assigns
//! it from the group's committed offsets (the earliest where none is committed),
//! heartbeats as it polls, rejoins when the group rebalances, and commits the
//! positions of what it returned.
//!
//! Delivery is at least once when records are processed before the next
//! [`GroupConsumer::poll`]: a rebalance commits the positions of what earlier
//! polls returned before the member gives its partitions up (native members
//! rejoin eagerly), and [`GroupConsumer::commit`] does so at any time. It never
//! commits a position past a record it did not return. Group commands use a
//! connection of their own, so a long-polling fetch never delays a heartbeat.

use std::time::{Duration, Instant};

use super::admin::topic_name;
use super::connection::{Connection, after};
use super::consumer::{Consumer, ConsumerConfig, ConsumerRecord};
use super::error::{Error, Result};
use crate::doors::native::{
    AssignorChoice, CommitOffsets, ErrorCode, FetchOffsets, GroupAssignment, Heartbeat, JoinGroup,
    Membership, Position, RequestBody, ResponseBody, TopicName,
};

/// How a [`GroupConsumer`] takes part in its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupConfig {
    /// How fetches are made.
    pub consumer: ConsumerConfig,
    /// The assignor asked for (the group uses one every member names).
    pub assignor: AssignorChoice,
    /// Without a heartbeat for this long, the broker removes the member.
    pub session_timeout: Duration,
    /// How long a rebalance waits for members to rejoin (and a join for its
    /// answer).
    pub rebalance_timeout: Duration,
    /// How often the member heartbeats (a third of the session timeout is
    /// Kafka's habit).
    pub heartbeat_interval: Duration,
}

impl Default for GroupConfig {
    fn default() -> GroupConfig {
        GroupConfig {
            consumer: ConsumerConfig {
                max_wait: Duration::from_millis(200),
                ..ConsumerConfig::default()
            },
            assignor: AssignorChoice::Range,
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(3),
        }
    }
}

/// A member of a consumer group reading one topic (see the module's
/// documentation).
#[derive(Debug)]
pub struct GroupConsumer {
    consumer: Consumer,
    group: Connection,
    config: GroupConfig,
    topic: TopicName,
    member: Membership,
    generation: i32,
    assigned: Vec<u32>,
    next_heartbeat: Instant,
}

impl GroupConsumer {
    /// Connects to a broker's native door and joins `group` for `topic`;
    /// returns once the member has its partitions.
    pub fn subscribe(
        endpoint: &str,
        group: &str,
        topic: &str,
        config: GroupConfig,
    ) -> Result<GroupConsumer> {
        let context = sinew::Context::new();
        let mut member = GroupConsumer {
            consumer: Consumer::connect_in(&context, endpoint, config.consumer)?,
            group: Connection::connect_in(&context, endpoint)?,
            config,
            topic: topic_name(topic)?,
            member: Membership {
                group: group.to_owned(),
                member_id: String::new(),
                instance_id: None,
            },
            generation: -1,
            assigned: Vec::new(),
            next_heartbeat: Instant::now(),
        };
        member.join()?;
        Ok(member)
    }

    /// The member id the broker gave.
    pub fn member_id(&self) -> &str {
        &self.member.member_id
    }

    /// The generation the member is in.
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// The partitions the group assigned this member now.
    pub fn assignment(&self) -> &[u32] {
        &self.assigned
    }

    /// Records from the assigned partitions, waiting at most `timeout`;
    /// heartbeats when one is due, and when the group rebalances commits what was
    /// returned so far and rejoins first.
    pub fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        let now = Instant::now();
        if now >= self.next_heartbeat {
            self.heartbeat()?;
        }
        if self.assigned.is_empty() {
            // Nothing to read: wait out the time, ready for the next heartbeat.
            let until = after(now, timeout).min(self.next_heartbeat);
            std::thread::sleep(until.saturating_duration_since(Instant::now()));
            return Ok(Vec::new());
        }
        let timeout = timeout.min(self.next_heartbeat.saturating_duration_since(now));
        self.consumer.poll(timeout)
    }

    /// Commits the position of every assigned partition (the offset after the
    /// last record returned); returns once the broker has them durably.
    pub fn commit(&mut self) -> Result<()> {
        let offsets: Vec<(u32, u64)> = self
            .assigned
            .iter()
            .filter_map(|&partition| Some((partition, self.consumer.position(partition)?)))
            .collect();
        if offsets.is_empty() {
            return Ok(());
        }
        let body = RequestBody::CommitOffsets(CommitOffsets {
            member: self.member.clone(),
            generation: self.generation,
            topic: self.topic.clone(),
            offsets,
        });
        match self.call(body)? {
            ResponseBody::CommitOffsets => Ok(()),
            other => Err(Error::Protocol(format!(
                "COMMIT_OFFSETS answered {other:?}"
            ))),
        }
    }

    /// Commits and leaves the group (it rebalances at once).
    pub fn close(mut self) -> Result<()> {
        let committed = self.commit();
        let left = self.call(RequestBody::LeaveGroup(self.member.clone()));
        committed?;
        left.map(|_| ())
    }

    fn call(&mut self, body: RequestBody) -> Result<ResponseBody> {
        let deadline = after(Instant::now(), self.config.consumer.request_timeout);
        self.group.call(body, deadline)
    }

    fn heartbeat(&mut self) -> Result<()> {
        let body = RequestBody::Heartbeat(Heartbeat {
            member: self.member.clone(),
            generation: self.generation,
        });
        let result = self.call(body);
        self.next_heartbeat = after(Instant::now(), self.config.heartbeat_interval);
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.code() {
                Some(ErrorCode::RebalanceInProgress | ErrorCode::IllegalGeneration) => {
                    // What was returned so far was processed: keep it.
                    let _ = self.commit();
                    self.join()
                }
                Some(ErrorCode::UnknownMember) => {
                    self.member.member_id.clear();
                    self.join()
                }
                _ => Err(error),
            },
        }
    }

    /// Joins (or rejoins) and takes up the partitions assigned.
    fn join(&mut self) -> Result<()> {
        let join = |member: &Membership, config: &GroupConfig, topic: &TopicName| {
            RequestBody::JoinGroup(JoinGroup {
                member: member.clone(),
                session_timeout_ms: millis(config.session_timeout),
                rebalance_timeout_ms: millis(config.rebalance_timeout),
                assignor: config.assignor,
                topics: vec![topic.clone()],
            })
        };
        let deadline = after(
            Instant::now(),
            self.config.rebalance_timeout + self.config.consumer.request_timeout,
        );
        let assignment = loop {
            let body = join(&self.member, &self.config, &self.topic);
            match self.group.call(body, deadline) {
                Ok(ResponseBody::JoinGroup(assignment)) => break assignment,
                Ok(other) => return Err(Error::Protocol(format!("JOIN_GROUP answered {other:?}"))),
                Err(error) => match error.code() {
                    Some(ErrorCode::RebalanceInProgress | ErrorCode::IllegalGeneration) => {}
                    Some(ErrorCode::UnknownMember) => self.member.member_id.clear(),
                    Some(ErrorCode::GroupsLoading) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    _ => return Err(error),
                },
            }
            if Instant::now() >= deadline {
                return Err(Error::TimedOut("no assignment from the group".to_owned()));
            }
        };
        self.take_up(assignment)
    }

    fn take_up(&mut self, assignment: GroupAssignment) -> Result<()> {
        self.member.member_id = assignment.member_id;
        self.generation = assignment.generation;
        self.next_heartbeat = after(Instant::now(), self.config.heartbeat_interval);
        self.assigned = assignment
            .partitions
            .into_iter()
            .filter(|(topic, _)| *topic == self.topic)
            .flat_map(|(_, partitions)| partitions)
            .collect();
        self.assigned.sort_unstable();
        if self.assigned.is_empty() {
            return Ok(());
        }
        self.consumer.assign(self.topic.as_str(), &self.assigned)?;
        let committed = match self.call(RequestBody::FetchOffsets(FetchOffsets {
            group: self.member.group.clone(),
            topic: self.topic.clone(),
        }))? {
            ResponseBody::FetchOffsets(offsets) => offsets,
            other => return Err(Error::Protocol(format!("FETCH_OFFSETS answered {other:?}"))),
        };
        for &partition in &self.assigned {
            let position = committed
                .iter()
                .find(|(committed, _)| *committed == partition)
                .map_or(Position::Earliest, |(_, offset)| Position::Offset(*offset));
            self.consumer.seek(partition, position)?;
        }
        Ok(())
    }
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
