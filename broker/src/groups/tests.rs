//! The coordinator driven as Kafka clients drive it: joins with MEMBER_ID_REQUIRED,
//! the leader's assignment, rebalances when members join, leave or go silent,
//! static members, offsets, and the errors clients act on.

use super::*;

const SESSION: Duration = Duration::from_secs(10);
const REBALANCE: Duration = Duration::from_secs(30);

fn settings(initial: Duration) -> GroupSettings {
    GroupSettings {
        initial_rebalance_delay: initial,
        max_group_size: 4,
        ..GroupSettings::default()
    }
}

fn join_request(member_id: &str, protocols: &[&str]) -> JoinRequest {
    JoinRequest {
        group: "g".to_owned(),
        member_id: member_id.to_owned(),
        instance_id: None,
        client_id: "client".to_owned(),
        client_host: "/127.0.0.1".to_owned(),
        session_timeout: SESSION,
        rebalance_timeout: REBALANCE,
        protocol_type: "consumer".to_owned(),
        protocols: protocols
            .iter()
            .map(|name| ((*name).to_owned(), Bytes::from(format!("meta-{name}"))))
            .collect(),
        require_known_member_id: true,
    }
}

fn joined(answers: &[Answer], token: Token) -> Option<&JoinAnswer> {
    answers.iter().find_map(|answer| match answer {
        Answer::Join(t, join) if *t == token => Some(join),
        _ => None,
    })
}

fn synced(answers: &[Answer], token: Token) -> Option<&SyncAnswer> {
    answers.iter().find_map(|answer| match answer {
        Answer::Sync(t, sync) if *t == token => Some(sync),
        _ => None,
    })
}

/// A member id from MEMBER_ID_REQUIRED.
fn member_id(coordinator: &mut Coordinator, token: Token, now: Instant) -> String {
    let answers = coordinator.join(token, join_request("", &["range"]), now);
    let answer = joined(&answers, token).expect("an answer at once");
    assert_eq!(answer.error, Some(GroupError::MemberIdRequired));
    assert!(!answer.member_id.is_empty());
    answer.member_id.clone()
}

fn sync_request(member: &str, generation: i32, assignments: &[(&str, &str)]) -> SyncRequest {
    SyncRequest {
        group: "g".to_owned(),
        generation,
        member_id: member.to_owned(),
        instance_id: None,
        assignments: assignments
            .iter()
            .map(|(id, bytes)| ((*id).to_owned(), Bytes::from((*bytes).to_owned())))
            .collect(),
    }
}

/// Three members join, the leader assigns, everyone is synced: returns the ids.
fn stable_group_of_three(coordinator: &mut Coordinator, now: Instant) -> Vec<String> {
    let ids: Vec<String> = (1..=3)
        .map(|token| member_id(coordinator, token, now))
        .collect();
    let mut answers = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let token = 10 + index as Token;
        answers.extend(coordinator.join(token, join_request(id, &["range"]), now));
        if index < 2 {
            assert!(answers.is_empty(), "no answer before all have joined");
        }
    }
    let leader = joined(&answers, 10).expect("the first member's answer");
    assert_eq!(leader.generation, 1);
    assert_eq!(leader.leader, ids[0]);
    assert_eq!(leader.protocol_name.as_deref(), Some("range"));
    assert_eq!(leader.members.len(), 3, "the leader sees every member");
    assert!(joined(&answers, 11).is_some_and(|answer| answer.members.is_empty()));
    assert!(joined(&answers, 12).is_some_and(|answer| answer.generation == 1));
    // A follower syncs first and waits for the leader's assignment.
    assert!(
        coordinator
            .sync(21, sync_request(&ids[1], 1, &[]), now)
            .is_empty()
    );
    let assignments = [
        (ids[0].as_str(), "p0"),
        (ids[1].as_str(), "p1"),
        (ids[2].as_str(), "p2"),
    ];
    let answers = coordinator.sync(20, sync_request(&ids[0], 1, &assignments), now);
    assert_eq!(
        synced(&answers, 20).map(|a| a.assignment.clone()),
        Some(Bytes::from("p0"))
    );
    assert_eq!(
        synced(&answers, 21).map(|a| a.assignment.clone()),
        Some(Bytes::from("p1"))
    );
    let late = coordinator.sync(22, sync_request(&ids[2], 1, &[]), now);
    assert_eq!(
        synced(&late, 22).map(|a| a.assignment.clone()),
        Some(Bytes::from("p2"))
    );
    assert_eq!(coordinator.describe("g").state, GroupState::Stable);
    ids
}

#[test]
fn three_members_join_the_leader_assigns_and_everyone_gets_its_share() {
    let now = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let ids = stable_group_of_three(&mut coordinator, now);
    for id in &ids {
        assert_eq!(coordinator.heartbeat("g", 1, id, None, now), Ok(()));
    }
    let summary = coordinator.describe("g");
    assert_eq!(summary.members.len(), 3);
    assert_eq!(summary.members[2].assignment, Bytes::from("p2"));
    assert_eq!(summary.members[0].metadata, Bytes::from("meta-range"));
}

#[test]
fn a_member_joining_a_stable_group_starts_a_new_generation_for_everyone() {
    let now = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let ids = stable_group_of_three(&mut coordinator, now);
    let fourth = member_id(&mut coordinator, 4, now);
    assert!(
        coordinator
            .join(14, join_request(&fourth, &["range"]), now)
            .is_empty()
    );
    // The others learn of it from their heartbeats, and rejoin.
    assert_eq!(
        coordinator.heartbeat("g", 1, &ids[1], None, now),
        Err(GroupError::RebalanceInProgress)
    );
    let mut answers = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        answers.extend(coordinator.join(30 + index as Token, join_request(id, &["range"]), now));
    }
    assert!(joined(&answers, 14).is_some_and(|answer| answer.generation == 2));
    assert_eq!(
        joined(&answers, 30).map(|answer| answer.members.len()),
        Some(4)
    );
    // An old generation's sync is refused.
    let stale = coordinator.sync(40, sync_request(&ids[1], 1, &[]), now);
    assert_eq!(
        synced(&stale, 40).and_then(|a| a.error),
        Some(GroupError::IllegalGeneration)
    );
}

#[test]
fn a_leaving_member_and_a_silent_one_are_removed_and_the_rest_rebalance() {
    let start = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let ids = stable_group_of_three(&mut coordinator, start);
    let leaving = [Leaving {
        member_id: ids[2].clone(),
        instance_id: None,
    }];
    let (results, answers) = coordinator.leave("g", &leaving, start);
    assert_eq!(results, [Ok(())]);
    assert!(answers.is_empty());
    assert_eq!(
        coordinator.describe("g").state,
        GroupState::PreparingRebalance
    );
    // Only the first rejoins; the second stays silent until its session ends.
    assert!(
        coordinator
            .join(50, join_request(&ids[0], &["range"]), start)
            .is_empty()
    );
    let deadline = coordinator.next_deadline().expect("a deadline");
    assert_eq!(deadline, start + SESSION, "the silent member's session");
    let answers = coordinator.expire(deadline);
    let rejoined = joined(&answers, 50).expect("the join completes without it");
    assert_eq!(rejoined.generation, 2);
    assert_eq!(rejoined.members.len(), 1);
    assert_eq!(
        coordinator.heartbeat("g", 1, &ids[1], None, deadline),
        Err(GroupError::UnknownMemberId)
    );
}

#[test]
fn a_member_that_does_not_rejoin_within_the_rebalance_timeout_is_dropped() {
    let start = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let ids = stable_group_of_three(&mut coordinator, start);
    // A new member arrives; two rejoin; the third keeps heartbeating (which only
    // tells it to rejoin) but never does.
    let fourth = member_id(&mut coordinator, 4, start);
    assert!(
        coordinator
            .join(14, join_request(&fourth, &["range"]), start)
            .is_empty()
    );
    assert!(
        coordinator
            .join(30, join_request(&ids[0], &["range"]), start)
            .is_empty()
    );
    assert!(
        coordinator
            .join(31, join_request(&ids[1], &["range"]), start)
            .is_empty()
    );
    let mut now = start;
    while now < start + REBALANCE {
        now += Duration::from_secs(5);
        let _ = coordinator.heartbeat("g", 1, &ids[2], None, now);
        let answers = coordinator.expire(now.min(start + REBALANCE));
        if now < start + REBALANCE {
            assert!(answers.is_empty(), "still waiting at {:?}", now - start);
        } else {
            let leader = joined(&answers, 30).expect("completed at the timeout");
            assert_eq!(leader.generation, 2);
            assert_eq!(leader.members.len(), 3);
        }
    }
    assert_eq!(
        coordinator.heartbeat("g", 2, &ids[2], None, now),
        Err(GroupError::UnknownMemberId)
    );
}

#[test]
fn requests_that_do_not_fit_get_kafkas_errors() {
    let now = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let short = JoinRequest {
        session_timeout: Duration::from_secs(1),
        ..join_request("", &["range"])
    };
    let answers = coordinator.join(1, short, now);
    assert_eq!(
        joined(&answers, 1).and_then(|a| a.error),
        Some(GroupError::InvalidSessionTimeout)
    );
    let answers = coordinator.join(2, join_request("ghost", &["range"]), now);
    assert_eq!(
        joined(&answers, 2).and_then(|a| a.error),
        Some(GroupError::UnknownMemberId)
    );
    let ids = stable_group_of_three(&mut coordinator, now);
    let other = JoinRequest {
        protocol_type: "connect".to_owned(),
        ..join_request("", &["range"])
    };
    let answers = coordinator.join(3, other, now);
    assert_eq!(
        joined(&answers, 3).and_then(|a| a.error),
        Some(GroupError::InconsistentGroupProtocol)
    );
    assert_eq!(
        coordinator.heartbeat("g", 7, &ids[0], None, now),
        Err(GroupError::IllegalGeneration)
    );
    assert_eq!(
        coordinator.heartbeat("", 1, "x", None, now),
        Err(GroupError::InvalidGroupId)
    );
    // The fourth fits (four at most); a fifth does not.
    let fourth = member_id(&mut coordinator, 4, now);
    coordinator.join(14, join_request(&fourth, &["range"]), now);
    let answers = coordinator.join(5, join_request("", &["range"]), now);
    assert_eq!(
        joined(&answers, 5).and_then(|a| a.error),
        Some(GroupError::GroupMaxSizeReached)
    );
}

#[test]
fn the_protocol_all_members_support_with_the_most_votes_is_chosen() {
    let now = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let a = member_id(&mut coordinator, 1, now);
    let b = member_id(&mut coordinator, 2, now);
    coordinator.join(10, join_request(&a, &["range", "roundrobin"]), now);
    let answers = coordinator.join(11, join_request(&b, &["sticky", "roundrobin"]), now);
    let answer = joined(&answers, 10).expect("completed");
    assert_eq!(answer.protocol_name.as_deref(), Some("roundrobin"));
    assert_eq!(answer.members[1].metadata, Bytes::from("meta-roundrobin"));
}

#[test]
fn a_static_member_that_restarts_takes_its_place_without_a_rebalance_and_fences_the_old() {
    let now = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let static_join = |member: &str| JoinRequest {
        instance_id: Some("pod-1".to_owned()),
        ..join_request(member, &["range"])
    };
    // Static members join directly, without MEMBER_ID_REQUIRED.
    let answers = coordinator.join(1, static_join(""), now);
    let first = joined(&answers, 1).expect("completed").clone();
    assert_eq!((first.error, first.generation), (None, 1));
    let answers = coordinator.sync(
        2,
        sync_request(&first.member_id, 1, &[(&first.member_id, "p")]),
        now,
    );
    assert!(synced(&answers, 2).is_some_and(|a| a.error.is_none()));
    // It restarts and joins again with no member id.
    let answers = coordinator.join(3, static_join(""), now);
    let second = joined(&answers, 3).expect("answered at once");
    assert_eq!(second.generation, 1, "no rebalance");
    assert_ne!(second.member_id, first.member_id);
    assert_eq!(
        second.leader, first.member_id,
        "the old leader id, so it does not reassign"
    );
    assert_eq!(coordinator.describe("g").state, GroupState::Stable);
    assert_eq!(
        coordinator.heartbeat("g", 1, &first.member_id, Some("pod-1"), now),
        Err(GroupError::FencedInstanceId)
    );
    assert_eq!(
        coordinator.heartbeat("g", 1, &second.member_id, Some("pod-1"), now),
        Ok(())
    );
    let answers = coordinator.sync(4, sync_request(&second.member_id, 1, &[]), now);
    assert_eq!(
        synced(&answers, 4).map(|a| a.assignment.clone()),
        Some(Bytes::from("p"))
    );
}

#[test]
fn the_first_rebalance_of_an_empty_group_waits_for_more_members() {
    let start = Instant::now();
    let delay = Duration::from_secs(3);
    let mut coordinator = Coordinator::new(settings(delay), 7);
    let a = member_id(&mut coordinator, 1, start);
    assert!(
        coordinator
            .join(10, join_request(&a, &["range"]), start)
            .is_empty()
    );
    let later = start + Duration::from_secs(2);
    let b = member_id(&mut coordinator, 2, later);
    assert!(
        coordinator
            .join(11, join_request(&b, &["range"]), later)
            .is_empty()
    );
    // At the end of the delay a member was added: the wait is extended once.
    assert!(coordinator.expire(start + delay).is_empty());
    let answers = coordinator.expire(start + delay * 2);
    let leader = joined(&answers, 10).expect("completed after the second delay");
    assert_eq!(leader.members.len(), 2);
    assert!(joined(&answers, 11).is_some());
}

#[test]
fn offsets_are_committed_by_members_of_the_generation_and_fetched_back() {
    let now = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let offset = |partition, offset| CommittedOffset {
        topic: "t".to_owned(),
        partition,
        offset,
        leader_epoch: -1,
        metadata: Some(String::new()),
    };
    // A consumer that manages its own partitions commits with generation -1.
    let (results, written) =
        coordinator.commit_offsets("solo", -1, "", None, &[offset(0, 42)], now);
    assert_eq!(results, [Ok(())]);
    assert_eq!(written.len(), 1);
    let fetched =
        coordinator.fetch_offsets("solo", Some(&[("t".to_owned(), 0), ("t".to_owned(), 1)]));
    assert_eq!(fetched[0].2.as_ref().map(|o| o.offset), Some(42));
    assert_eq!(fetched[1].2, None);

    let ids = stable_group_of_three(&mut coordinator, now);
    let (results, _) = coordinator.commit_offsets("g", 1, &ids[0], None, &[offset(0, 7)], now);
    assert_eq!(results, [Ok(())]);
    let (results, _) = coordinator.commit_offsets("g", 0, &ids[0], None, &[offset(1, 8)], now);
    assert_eq!(results, [Err(GroupError::IllegalGeneration)]);
    let (results, _) = coordinator.commit_offsets("g", 1, "ghost", None, &[offset(1, 8)], now);
    assert_eq!(results, [Err(GroupError::UnknownMemberId)]);
    let big = CommittedOffset {
        metadata: Some("x".repeat(5000)),
        ..offset(2, 9)
    };
    let (results, written) =
        coordinator.commit_offsets("g", 1, &ids[0], None, &[big, offset(3, 1)], now);
    assert_eq!(results, [Err(GroupError::OffsetMetadataTooLarge), Ok(())]);
    assert_eq!(written.len(), 1);
    assert_eq!(coordinator.fetch_offsets("g", None).len(), 2);

    // A group with members cannot be deleted; an empty one goes with its offsets,
    // and a restart rebuilds offsets from what was written.
    assert_eq!(coordinator.delete("g"), Err(GroupError::NonEmptyGroup));
    assert_eq!(coordinator.delete("solo"), Ok(()));
    assert_eq!(coordinator.delete("solo"), Err(GroupError::GroupIdNotFound));
    assert!(coordinator.fetch_offsets("solo", None).is_empty());
    let mut restarted = Coordinator::new(settings(Duration::ZERO), 8);
    for record in &written {
        restarted.restore(record);
    }
    let fetched = restarted.fetch_offsets("g", Some(&[("t".to_owned(), 3)]));
    assert_eq!(fetched[0].2.as_ref().map(|o| o.offset), Some(1));
    assert_eq!(restarted.list()[0].state, GroupState::Empty);
}

mod random {
    //! Members that act at random (join, sync, heartbeat, leave, go silent) while
    //! time moves: every request the coordinator takes is answered exactly once,
    //! generations never go back, and once everyone has left or timed out nothing
    //! is left waiting.

    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Debug, Clone, Copy)]
    enum Action {
        Act(usize),
        Wait(u64),
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            4 => (0usize..4).prop_map(Action::Act),
            1 => (1u64..40).prop_map(Action::Wait),
        ]
    }

    #[derive(Debug, Default, Clone)]
    struct Client {
        member_id: String,
        generation: i32,
        waiting: Option<Token>,
        synced: bool,
        gone: bool,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn every_request_is_answered_once_and_generations_only_grow(
            actions in proptest::collection::vec(action(), 1..120),
            seeds in proptest::collection::vec(0u8..5, 120),
        ) {
            let start = Instant::now();
            let mut now = start;
            let mut coordinator = Coordinator::new(settings(Duration::from_secs(2)), 1);
            let mut clients = vec![Client::default(); 4];
            let mut owner: HashMap<Token, usize> = HashMap::new();
            let mut next_token: Token = 1;
            let mut highest_generation = 0;
            let apply = |answers: Vec<Answer>,
                             clients: &mut Vec<Client>,
                             owner: &mut HashMap<Token, usize>,
                             highest: &mut i32|
             -> Result<(), TestCaseError> {
                for answer in answers {
                    let token = match &answer {
                        Answer::Join(token, _) | Answer::Sync(token, _) => *token,
                    };
                    let index = owner.remove(&token);
                    prop_assert!(index.is_some(), "token {} answered twice or never asked", token);
                    let client = &mut clients[index.unwrap_or(0)];
                    client.waiting = None;
                    match answer {
                        Answer::Join(_, join) => {
                            if join.error.is_none() {
                                prop_assert!(join.generation >= *highest);
                                *highest = join.generation;
                                client.generation = join.generation;
                                client.synced = false;
                            } else if join.error == Some(GroupError::MemberIdRequired) {
                                client.generation = -1;
                            } else {
                                client.generation = -1;
                                client.member_id.clear();
                                continue;
                            }
                            client.member_id = join.member_id;
                        }
                        Answer::Sync(_, sync) => {
                            client.synced = sync.error.is_none();
                            if sync.error.is_some() {
                                client.generation = -1;
                            }
                        }
                    }
                }
                Ok(())
            };
            for (step, action) in actions.iter().enumerate() {
                match *action {
                    Action::Wait(seconds) => {
                        now += Duration::from_secs(seconds);
                        let answers = coordinator.expire(now);
                        apply(answers, &mut clients, &mut owner, &mut highest_generation)?;
                    }
                    Action::Act(index) => {
                        let choice = seeds[step % seeds.len()];
                        let client = clients[index].clone();
                        if client.gone || client.waiting.is_some() {
                            continue;
                        }
                        let token = next_token;
                        next_token += 1;
                        let answers = if client.generation < 0 || client.member_id.is_empty() || choice == 0 {
                            owner.insert(token, index);
                            clients[index].waiting = Some(token);
                            coordinator.join(token, join_request(&client.member_id, &["range"]), now)
                        } else if choice == 1 && !client.synced {
                            owner.insert(token, index);
                            clients[index].waiting = Some(token);
                            let assignments: Vec<(&str, &str)> = clients
                                .iter()
                                .map(|other| (other.member_id.as_str(), "a"))
                                .collect();
                            coordinator.sync(token, sync_request(&client.member_id, client.generation, &assignments), now)
                        } else if choice == 4 {
                            let leaving = [Leaving { member_id: client.member_id.clone(), instance_id: None }];
                            let (_, answers) = coordinator.leave("g", &leaving, now);
                            clients[index].gone = true;
                            answers
                        } else {
                            if coordinator.heartbeat("g", client.generation, &client.member_id, None, now).is_err() {
                                clients[index].generation = -1;
                            }
                            Vec::new()
                        };
                        apply(answers, &mut clients, &mut owner, &mut highest_generation)?;
                    }
                }
            }
            // Everyone still in leaves; then time runs out for whatever remains.
            for index in 0..clients.len() {
                let leaving = [Leaving { member_id: clients[index].member_id.clone(), instance_id: None }];
                let (_, answers) = coordinator.leave("g", &leaving, now);
                apply(answers, &mut clients, &mut owner, &mut highest_generation)?;
            }
            let answers = coordinator.expire(now + Duration::from_secs(3600));
            apply(answers, &mut clients, &mut owner, &mut highest_generation)?;
            prop_assert!(owner.is_empty(), "unanswered tokens: {:?}", owner);
            let state = coordinator.describe("g").state;
            prop_assert!(matches!(state, GroupState::Empty | GroupState::Dead), "{:?}", state);
        }
    }
}

#[test]
fn a_rebalance_nobody_rejoins_with_no_timeout_does_not_spin() {
    let start = Instant::now();
    let mut coordinator = Coordinator::new(settings(Duration::ZERO), 7);
    let quick = |member: &str, instance: Option<&str>| JoinRequest {
        rebalance_timeout: Duration::ZERO,
        instance_id: instance.map(str::to_owned),
        ..join_request(member, &["range"])
    };
    // A static member, stable; a dynamic one joins and leaves again, so the
    // group waits for the static member, which never rejoins.
    let answers = coordinator.join(1, quick("", Some("pod")), start);
    let first = joined(&answers, 1).expect("completed").clone();
    coordinator.sync(2, sync_request(&first.member_id, 1, &[]), start);
    let b = member_id(&mut coordinator, 3, start);
    coordinator.join(4, quick(&b, None), start);
    let leaving = [Leaving {
        member_id: b,
        instance_id: None,
    }];
    let (results, _) = coordinator.leave("g", &leaving, start);
    assert_eq!(results, [Ok(())]);
    // The wait ends at once, nobody has rejoined: a new wait, and `expire`
    // returns instead of starting it over and over.
    assert!(coordinator.expire(start).is_empty());
    assert_eq!(
        coordinator.describe("g").state,
        GroupState::PreparingRebalance
    );
}
