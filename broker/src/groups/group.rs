//! One consumer group's state machine, after Kafka's `GroupMetadata` and the group
//! parts of its `GroupCoordinator`: Empty, PreparingRebalance (waiting for the
//! members to rejoin), CompletingRebalance (waiting for the leader's assignment),
//! Stable; the members with their protocols, assignments, pending answers and
//! session deadlines; static members found by `group.instance.id`.
//!
//! It must never leave a token unanswered once the member it belongs to is gone or
//! replaced (every such token gets an error answer), never answer a JoinGroup with
//! a generation the group is not at, and never read the clock (`now` comes in).

use super::{
    Answer, GroupError, GroupOverview, GroupSettings, GroupSummary, JoinAnswer, JoinRequest,
    JoinedMember, Leaving, SyncAnswer, SyncRequest, Token,
};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// How long a new member waiting in a JoinGroup is kept without heartbeats
/// (Kafka's `NewMemberJoinTimeoutMs`).
const NEW_MEMBER_JOIN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Where a group is in its life, with Kafka's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    /// Kafka's name for the state, as DescribeGroups and ListGroups show it.
    pub const fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// One member as DescribeGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

#[derive(Debug)]
struct Member {
    id: String,
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    protocols: Vec<(String, Bytes)>,
    assignment: Bytes,
    awaiting_join: Option<Token>,
    awaiting_sync: Option<Token>,
    last_heartbeat: Instant,
    is_new: bool,
}

impl Member {
    /// When the member is dropped unless it is heard from (none while it waits in
    /// a request, which it cannot heartbeat through; a new member's JoinGroup has
    /// its own long limit).
    fn deadline(&self) -> Option<Instant> {
        match (self.awaiting_join, self.awaiting_sync) {
            (Some(_), _) if self.is_new => self.last_heartbeat.checked_add(NEW_MEMBER_JOIN_TIMEOUT),
            (Some(_), _) | (None, Some(_)) => None,
            (None, None) => self.last_heartbeat.checked_add(self.session_timeout),
        }
    }

    fn metadata_for(&self, protocol: Option<&str>) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| Some(name.as_str()) == protocol)
            .map(|(_, metadata)| metadata.clone())
            .unwrap_or_default()
    }
}

/// The wait of a rebalance: its deadline, and for a group that was empty, the
/// initial delay that lets more members arrive first.
#[derive(Debug, Clone, Copy)]
struct JoinWait {
    deadline: Instant,
    initial: Option<InitialDelay>,
}

#[derive(Debug, Clone, Copy)]
struct InitialDelay {
    delay: Duration,
    remaining: Duration,
    new_member_added: bool,
}

#[derive(Debug)]
pub(crate) struct Group {
    id: String,
    state: GroupState,
    generation: i32,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    members: Vec<Member>,
    /// Members that were given an id (MEMBER_ID_REQUIRED) and have until then to
    /// join with it.
    pending: Vec<(String, Instant)>,
    join_wait: Option<JoinWait>,
}

impl Group {
    pub(crate) fn new(id: String) -> Group {
        Group {
            id,
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: Vec::new(),
            pending: Vec::new(),
            join_wait: None,
        }
    }

    pub(crate) fn state(&self) -> GroupState {
        self.state
    }

    fn index(&self, member_id: &str) -> Option<usize> {
        self.members
            .iter()
            .position(|member| member.id == member_id)
    }

    fn static_index(&self, instance_id: Option<&str>) -> Option<usize> {
        let instance_id = instance_id?;
        self.members
            .iter()
            .position(|member| member.instance_id.as_deref() == Some(instance_id))
    }

    /// A static member's instance id held by another member id: the caller is an
    /// older instance, fenced by the newer one.
    fn is_fenced(&self, member_id: &str, instance_id: Option<&str>) -> bool {
        self.static_index(instance_id)
            .is_some_and(|index| self.members[index].id != member_id)
    }

    fn rebalance_timeout(&self) -> Duration {
        self.members
            .iter()
            .map(|member| member.rebalance_timeout)
            .max()
            .unwrap_or_default()
    }

    /// The protocols every member supports.
    fn candidates(&self) -> Vec<&str> {
        let Some(first) = self.members.first() else {
            return Vec::new();
        };
        first
            .protocols
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| {
                self.members
                    .iter()
                    .all(|member| member.protocols.iter().any(|(other, _)| other == name))
            })
            .collect()
    }

    fn supports(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if self.members.is_empty() {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && self
                .candidates()
                .iter()
                .any(|name| protocols.iter().any(|(offered, _)| offered == name))
    }

    /// Each member votes for the first protocol of its own list that all support;
    /// the most votes wins (the first member's preference breaks ties).
    fn select_protocol(&self) -> Option<String> {
        let candidates = self.candidates();
        let mut votes = vec![0usize; candidates.len()];
        for member in &self.members {
            if let Some(choice) = member
                .protocols
                .iter()
                .find_map(|(name, _)| candidates.iter().position(|candidate| candidate == name))
            {
                votes[choice] += 1;
            }
        }
        let best = votes.iter().copied().max()?;
        let first = votes.iter().position(|&count| count == best)?;
        candidates.get(first).map(|name| (*name).to_owned())
    }

    fn current_answer(&self, member_id: &str, with_members: bool) -> JoinAnswer {
        let protocol = self.protocol.as_deref();
        JoinAnswer {
            error: None,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_owned(),
            members: if with_members {
                self.members
                    .iter()
                    .map(|member| JoinedMember {
                        member_id: member.id.clone(),
                        instance_id: member.instance_id.clone(),
                        metadata: member.metadata_for(protocol),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    pub(crate) fn join(
        &mut self,
        token: Token,
        request: JoinRequest,
        fresh_id: String,
        settings: &GroupSettings,
        now: Instant,
    ) -> Vec<Answer> {
        let mut answers = Vec::new();
        let unknown = request.member_id.is_empty();
        if !self.supports(&request.protocol_type, &request.protocols) {
            answers.push(Answer::Join(
                token,
                JoinAnswer::error(&request.member_id, GroupError::InconsistentGroupProtocol),
            ));
        } else if unknown {
            let existing = self.static_index(request.instance_id.as_deref());
            if existing.is_none() && self.members.len() >= settings.max_group_size {
                answers.push(Answer::Join(
                    token,
                    JoinAnswer::error("", GroupError::GroupMaxSizeReached),
                ));
            } else if let Some(index) = existing {
                self.replace_static(index, token, fresh_id, request, now, &mut answers);
            } else if request.require_known_member_id && request.instance_id.is_none() {
                let deadline = now.checked_add(request.session_timeout).unwrap_or(now);
                self.pending.push((fresh_id.clone(), deadline));
                answers.push(Answer::Join(
                    token,
                    JoinAnswer::error(&fresh_id, GroupError::MemberIdRequired),
                ));
            } else {
                self.add_member(token, fresh_id, request, settings, now, &mut answers);
            }
        } else if let Some(at) = self
            .pending
            .iter()
            .position(|(id, _)| *id == request.member_id)
        {
            self.pending.remove(at);
            let member_id = request.member_id.clone();
            self.add_member(token, member_id, request, settings, now, &mut answers);
        } else {
            self.known_join(token, request, now, &mut answers);
        }
        if self.state == GroupState::PreparingRebalance {
            self.try_complete_join(now, &mut answers);
        }
        answers
    }

    fn known_join(
        &mut self,
        token: Token,
        request: JoinRequest,
        now: Instant,
        answers: &mut Vec<Answer>,
    ) {
        let member_id = request.member_id.clone();
        let refuse = |error| Answer::Join(token, JoinAnswer::error(&member_id, error));
        if self.is_fenced(&member_id, request.instance_id.as_deref()) {
            return answers.push(refuse(GroupError::FencedInstanceId));
        }
        let unknown_instance = request.instance_id.is_some()
            && self.static_index(request.instance_id.as_deref()).is_none();
        let Some(index) = self.index(&member_id).filter(|_| !unknown_instance) else {
            return answers.push(refuse(GroupError::UnknownMemberId));
        };
        let same = self.members[index].protocols == request.protocols;
        let is_leader = self.leader.as_deref() == Some(member_id.as_str());
        match self.state {
            GroupState::PreparingRebalance => {
                self.update_member(index, token, request.protocols, now, answers);
            }
            GroupState::CompletingRebalance if same => {
                answers.push(Answer::Join(
                    token,
                    self.current_answer(&member_id, is_leader),
                ));
            }
            GroupState::Stable if same && !is_leader => {
                answers.push(Answer::Join(token, self.current_answer(&member_id, false)));
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.update_member(index, token, request.protocols, now, answers);
            }
            GroupState::Empty | GroupState::Dead => {
                answers.push(refuse(GroupError::UnknownMemberId));
            }
        }
    }

    /// A static member rejoining without its member id: it takes a new id, the old
    /// one is fenced, and a stable group does not rebalance for it.
    fn replace_static(
        &mut self,
        index: usize,
        token: Token,
        fresh_id: String,
        request: JoinRequest,
        now: Instant,
        answers: &mut Vec<Answer>,
    ) {
        let current_leader = self.leader.clone().unwrap_or_default();
        let member = &mut self.members[index];
        let old_id = std::mem::replace(&mut member.id, fresh_id.clone());
        // The older instance's own requests are answered: it is fenced.
        if let Some(pending) = member.awaiting_join.take() {
            answers.push(Answer::Join(
                pending,
                JoinAnswer::error(&old_id, GroupError::FencedInstanceId),
            ));
        }
        if let Some(pending) = member.awaiting_sync.take() {
            answers.push(Answer::Sync(
                pending,
                SyncAnswer::error(GroupError::FencedInstanceId),
            ));
        }
        member.protocols = request.protocols;
        member.session_timeout = request.session_timeout;
        member.rebalance_timeout = request.rebalance_timeout;
        member.last_heartbeat = now;
        if self.leader.as_deref() == Some(old_id.as_str()) {
            self.leader = Some(fresh_id.clone());
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                // The old leader id is returned, so the new member does not take
                // itself for the leader and reassign a stable group.
                let mut answer = self.current_answer(&fresh_id, false);
                answer.leader = current_leader;
                answers.push(Answer::Join(token, answer));
            }
            GroupState::PreparingRebalance => {
                self.members[index].awaiting_join = Some(token);
            }
            GroupState::Empty | GroupState::Dead => {
                answers.push(Answer::Join(
                    token,
                    JoinAnswer::error(&fresh_id, GroupError::UnknownMemberId),
                ));
            }
        }
    }

    fn add_member(
        &mut self,
        token: Token,
        member_id: String,
        request: JoinRequest,
        settings: &GroupSettings,
        now: Instant,
        answers: &mut Vec<Answer>,
    ) {
        if self.members.is_empty() {
            self.protocol_type = Some(request.protocol_type.clone());
        }
        if self.state == GroupState::PreparingRebalance
            && self.generation == 0
            && let Some(JoinWait {
                initial: Some(initial),
                ..
            }) = &mut self.join_wait
        {
            initial.new_member_added = true;
        }
        if self.leader.is_none() {
            self.leader = Some(member_id.clone());
        }
        self.members.push(Member {
            id: member_id,
            instance_id: request.instance_id,
            client_id: request.client_id,
            client_host: request.client_host,
            session_timeout: request.session_timeout,
            rebalance_timeout: request.rebalance_timeout,
            protocols: request.protocols,
            assignment: Bytes::new(),
            awaiting_join: Some(token),
            awaiting_sync: None,
            last_heartbeat: now,
            is_new: true,
        });
        self.maybe_prepare_rebalance(settings.initial_rebalance_delay, now, answers);
    }

    fn update_member(
        &mut self,
        index: usize,
        token: Token,
        protocols: Vec<(String, Bytes)>,
        now: Instant,
        answers: &mut Vec<Answer>,
    ) {
        let member = &mut self.members[index];
        member.protocols = protocols;
        if let Some(earlier) = member.awaiting_join.replace(token) {
            answers.push(Answer::Join(
                earlier,
                JoinAnswer::error(&member.id, GroupError::RebalanceInProgress),
            ));
        }
        self.maybe_prepare_rebalance(Duration::ZERO, now, answers);
    }

    fn maybe_prepare_rebalance(
        &mut self,
        initial: Duration,
        now: Instant,
        answers: &mut Vec<Answer>,
    ) {
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance | GroupState::Empty
        ) {
            self.prepare_rebalance(initial, now, answers);
        }
    }

    fn prepare_rebalance(&mut self, initial: Duration, now: Instant, answers: &mut Vec<Answer>) {
        if self.state == GroupState::CompletingRebalance {
            for member in &mut self.members {
                member.assignment = Bytes::new();
                if let Some(token) = member.awaiting_sync.take() {
                    answers.push(Answer::Sync(
                        token,
                        SyncAnswer::error(GroupError::RebalanceInProgress),
                    ));
                }
            }
        }
        let timeout = self.rebalance_timeout();
        self.join_wait = Some(if self.state == GroupState::Empty && !initial.is_zero() {
            JoinWait {
                deadline: now.checked_add(initial).unwrap_or(now),
                initial: Some(InitialDelay {
                    delay: initial,
                    remaining: timeout.saturating_sub(initial),
                    new_member_added: false,
                }),
            }
        } else {
            JoinWait {
                deadline: now.checked_add(timeout).unwrap_or(now),
                initial: None,
            }
        });
        self.state = GroupState::PreparingRebalance;
    }

    /// Completes the rebalance once every member has rejoined and no member given
    /// an id is still expected (never during an initial delay).
    fn try_complete_join(&mut self, now: Instant, answers: &mut Vec<Answer>) {
        let delayed = self.join_wait.is_some_and(|wait| wait.initial.is_some());
        let all_joined = self
            .members
            .iter()
            .all(|member| member.awaiting_join.is_some());
        if !delayed && all_joined && self.pending.is_empty() {
            self.complete_join(now, answers);
        }
    }

    fn complete_join(&mut self, now: Instant, answers: &mut Vec<Answer>) {
        // Dynamic members that did not rejoin in time are out.
        let gone: Vec<String> = self
            .members
            .iter()
            .filter(|member| member.awaiting_join.is_none() && member.instance_id.is_none())
            .map(|member| member.id.clone())
            .collect();
        for id in gone {
            self.remove(&id, answers);
        }
        let leader_rejoined = self
            .leader
            .as_deref()
            .and_then(|leader| self.index(leader))
            .is_some_and(|index| self.members[index].awaiting_join.is_some());
        if !leader_rejoined {
            match self
                .members
                .iter()
                .find(|member| member.awaiting_join.is_some())
            {
                Some(member) => self.leader = Some(member.id.clone()),
                None if !self.members.is_empty() => {
                    // Nobody rejoined: wait again for the session timeouts to
                    // remove the silent members.
                    let timeout = self.rebalance_timeout();
                    self.join_wait = Some(JoinWait {
                        deadline: now.checked_add(timeout).unwrap_or(now),
                        initial: None,
                    });
                    return;
                }
                None => self.leader = None,
            }
        }
        self.generation = self.generation.wrapping_add(1).max(1);
        self.join_wait = None;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.protocol_type = None;
            return;
        }
        self.protocol = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        let leader = self.leader.clone().unwrap_or_default();
        for index in 0..self.members.len() {
            let id = self.members[index].id.clone();
            let answer = self.current_answer(&id, id == leader);
            let member = &mut self.members[index];
            if let Some(token) = member.awaiting_join.take() {
                answers.push(Answer::Join(token, answer));
            }
            member.last_heartbeat = now;
            member.is_new = false;
        }
    }

    /// Takes a member out, answering anything it waits for.
    fn remove(&mut self, member_id: &str, answers: &mut Vec<Answer>) {
        let Some(index) = self.index(member_id) else {
            return;
        };
        let member = self.members.remove(index);
        if let Some(token) = member.awaiting_join {
            answers.push(Answer::Join(
                token,
                JoinAnswer::error("", GroupError::UnknownMemberId),
            ));
        }
        if let Some(token) = member.awaiting_sync {
            answers.push(Answer::Sync(
                token,
                SyncAnswer::error(GroupError::UnknownMemberId),
            ));
        }
        if self.leader.as_deref() == Some(member_id) {
            self.leader = self.members.first().map(|member| member.id.clone());
        }
    }

    fn remove_and_update(&mut self, member_id: &str, now: Instant, answers: &mut Vec<Answer>) {
        self.remove(member_id, answers);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance(Duration::ZERO, now, answers);
            }
            GroupState::PreparingRebalance => self.try_complete_join(now, answers),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    pub(crate) fn sync(&mut self, token: Token, request: SyncRequest, now: Instant) -> Vec<Answer> {
        let refuse = |error| vec![Answer::Sync(token, SyncAnswer::error(error))];
        if self.is_fenced(&request.member_id, request.instance_id.as_deref()) {
            return refuse(GroupError::FencedInstanceId);
        }
        let Some(index) = self.index(&request.member_id) else {
            return refuse(GroupError::UnknownMemberId);
        };
        if request.generation != self.generation {
            return refuse(GroupError::IllegalGeneration);
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => refuse(GroupError::UnknownMemberId),
            GroupState::PreparingRebalance => refuse(GroupError::RebalanceInProgress),
            GroupState::Stable => {
                let member = &mut self.members[index];
                member.last_heartbeat = now;
                vec![Answer::Sync(token, self.sync_answer(index))]
            }
            GroupState::CompletingRebalance => {
                let mut answers = Vec::new();
                if let Some(earlier) = self.members[index].awaiting_sync.replace(token) {
                    answers.push(Answer::Sync(
                        earlier,
                        SyncAnswer::error(GroupError::RebalanceInProgress),
                    ));
                }
                if self.leader.as_deref() == Some(request.member_id.as_str()) {
                    for member in &mut self.members {
                        member.assignment = request
                            .assignments
                            .iter()
                            .find(|(id, _)| *id == member.id)
                            .map(|(_, assignment)| assignment.clone())
                            .unwrap_or_default();
                    }
                    self.state = GroupState::Stable;
                    for index in 0..self.members.len() {
                        let answer = self.sync_answer(index);
                        let member = &mut self.members[index];
                        if let Some(waiting) = member.awaiting_sync.take() {
                            answers.push(Answer::Sync(waiting, answer));
                            member.last_heartbeat = now;
                        }
                    }
                }
                answers
            }
        }
    }

    fn sync_answer(&self, index: usize) -> SyncAnswer {
        SyncAnswer {
            error: None,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            assignment: self.members[index].assignment.clone(),
        }
    }

    pub(crate) fn heartbeat(
        &mut self,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: Instant,
    ) -> Result<(), GroupError> {
        if self.is_fenced(member_id, instance_id) {
            return Err(GroupError::FencedInstanceId);
        }
        let index = self.index(member_id).ok_or(GroupError::UnknownMemberId)?;
        if generation != self.generation {
            return Err(GroupError::IllegalGeneration);
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => Err(GroupError::UnknownMemberId),
            GroupState::CompletingRebalance => Err(GroupError::RebalanceInProgress),
            GroupState::PreparingRebalance => {
                self.members[index].last_heartbeat = now;
                Err(GroupError::RebalanceInProgress)
            }
            GroupState::Stable => {
                self.members[index].last_heartbeat = now;
                Ok(())
            }
        }
    }

    pub(crate) fn leave(
        &mut self,
        leaving: &[Leaving],
        now: Instant,
    ) -> (Vec<Result<(), GroupError>>, Vec<Answer>) {
        let mut answers = Vec::new();
        let mut results = Vec::with_capacity(leaving.len());
        for member in leaving {
            let instance_id = member.instance_id.as_deref();
            if !member.member_id.is_empty() && self.is_fenced(&member.member_id, instance_id) {
                results.push(Err(GroupError::FencedInstanceId));
            } else if let Some(at) = self
                .pending
                .iter()
                .position(|(id, _)| *id == member.member_id)
            {
                self.pending.remove(at);
                if self.state == GroupState::PreparingRebalance {
                    self.try_complete_join(now, &mut answers);
                }
                results.push(Ok(()));
            } else {
                let found = self
                    .static_index(instance_id)
                    .or_else(|| self.index(&member.member_id));
                match found {
                    Some(index) => {
                        let id = self.members[index].id.clone();
                        self.remove_and_update(&id, now, &mut answers);
                        results.push(Ok(()));
                    }
                    None => results.push(Err(GroupError::UnknownMemberId)),
                }
            }
        }
        (results, answers)
    }

    pub(crate) fn expire(&mut self, now: Instant) -> Vec<Answer> {
        let mut answers = Vec::new();
        let before = self.pending.len();
        self.pending.retain(|(_, deadline)| *deadline > now);
        if self.pending.len() != before && self.state == GroupState::PreparingRebalance {
            self.try_complete_join(now, &mut answers);
        }
        let silent: Vec<String> = self
            .members
            .iter()
            .filter(|member| member.deadline().is_some_and(|deadline| deadline <= now))
            .map(|member| member.id.clone())
            .collect();
        for id in silent {
            self.remove_and_update(&id, now, &mut answers);
        }
        // Each wait that ended by `now` in turn (an initial delay may be extended
        // from its own end, which `now` may be past too).
        while self.state == GroupState::PreparingRebalance
            && let Some(wait) = self.join_wait
            && wait.deadline <= now
        {
            match wait.initial {
                Some(initial) if initial.new_member_added && !initial.remaining.is_zero() => {
                    let delay = initial.delay.min(initial.remaining);
                    self.join_wait = Some(JoinWait {
                        deadline: wait.deadline.checked_add(delay).unwrap_or(now),
                        initial: Some(InitialDelay {
                            delay: initial.delay,
                            remaining: initial.remaining.saturating_sub(delay),
                            new_member_added: false,
                        }),
                    });
                }
                _ => self.complete_join(now, &mut answers),
            }
            // A wait that does not end later than the one just handled (nobody
            // rejoined, with no rebalance timeout) waits for the next call.
            if self
                .join_wait
                .is_some_and(|next| next.deadline <= wait.deadline)
            {
                break;
            }
        }
        answers
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let members = self.members.iter().filter_map(Member::deadline);
        let pending = self.pending.iter().map(|(_, deadline)| *deadline);
        let join = self
            .join_wait
            .filter(|_| self.state == GroupState::PreparingRebalance)
            .map(|wait| wait.deadline);
        members.chain(pending).chain(join).min()
    }

    /// Whether an OffsetCommit from this member may be stored.
    pub(crate) fn may_commit(
        &mut self,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: Instant,
    ) -> Result<(), GroupError> {
        if self.is_fenced(member_id, instance_id) {
            return Err(GroupError::FencedInstanceId);
        }
        if generation < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        let index = self.index(member_id).ok_or(GroupError::UnknownMemberId)?;
        if generation != self.generation {
            return Err(GroupError::IllegalGeneration);
        }
        match self.state {
            GroupState::Stable | GroupState::PreparingRebalance => {
                self.members[index].last_heartbeat = now;
                Ok(())
            }
            GroupState::CompletingRebalance => Err(GroupError::RebalanceInProgress),
            GroupState::Empty | GroupState::Dead => Err(GroupError::UnknownMemberId),
        }
    }

    pub(crate) fn overview(&self) -> GroupOverview {
        GroupOverview {
            group: self.id.clone(),
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            state: self.state,
        }
    }

    pub(crate) fn summary(&self) -> GroupSummary {
        let stable = self.state == GroupState::Stable;
        let protocol = self.protocol.as_deref();
        GroupSummary {
            state: self.state,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name: self.protocol.clone().unwrap_or_default(),
            members: self
                .members
                .iter()
                .map(|member| MemberSummary {
                    member_id: member.id.clone(),
                    instance_id: member.instance_id.clone(),
                    client_id: member.client_id.clone(),
                    client_host: member.client_host.clone(),
                    metadata: if stable {
                        member.metadata_for(protocol)
                    } else {
                        Bytes::new()
                    },
                    assignment: if stable {
                        member.assignment.clone()
                    } else {
                        Bytes::new()
                    },
                })
                .collect(),
        }
    }
}
