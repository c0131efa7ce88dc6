//! Cooperative-sticky by example: Kafka's `StickyAssignor` javadoc examples, a
//! member joining (what it takes is withheld until the owner revokes it), stale
//! and contested claims, and a topic dropped from a subscription.

use super::*;

/// A member of `generation` owning `owned`.
fn owner(
    id: &str,
    topics: &[&str],
    owned: &[(&str, &[i32])],
    generation: i32,
) -> MemberSubscription {
    MemberSubscription {
        owned: partitions(owned),
        generation,
        ..member(id, topics)
    }
}

/// Runs cooperative-sticky.
fn sticky(members: &[MemberSubscription], partition_counts: &[(&str, i32)]) -> GroupAssignment {
    Assignor::CooperativeSticky.assign(members, &counts(partition_counts))
}

fn withheld(topic: &str, partition: i32, member_id: &str) -> Withheld {
    Withheld {
        topic: topic.to_owned(),
        partition,
        member_id: member_id.to_owned(),
    }
}

#[test]
fn a_new_group_is_balanced_and_nothing_is_withheld() {
    let members = [
        member("a", &["t"]),
        member("b", &["t"]),
        member("c", &["t"]),
    ];
    let assignment = sticky(&members, &[("t", 7)]);
    let loads = loads(&members, &holders(&assignment));
    assert_eq!(loads.values().copied().collect::<Vec<_>>(), [3, 2, 2]);
    assert!(assignment.withheld.is_empty());
}

#[test]
fn javadoc_example_one_a_member_leaves() {
    // C0, C1, C2 on t0-t3 of two partitions each, as the javadoc assigns them;
    // C1 leaves: C0 and C2 keep theirs and take two of C1's each.
    let topics = ["t0", "t1", "t2", "t3"];
    let members = [
        owner(
            "C0",
            &topics,
            &[("t0", &[0]), ("t1", &[1]), ("t3", &[0])],
            1,
        ),
        owner("C2", &topics, &[("t1", &[0]), ("t2", &[1])], 1),
    ];
    let partition_counts = [("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2)];
    let assignment = sticky(&members, &partition_counts);
    assert!(assignment.withheld.is_empty());
    let holders = holders(&assignment);
    for member in &members {
        for topic in &member.owned {
            let key = (topic.topic.clone(), topic.partitions[0]);
            assert_eq!(holders[&key], member.member_id);
        }
    }
    assert_eq!(
        loads(&members, &holders).values().collect::<Vec<_>>(),
        [&4, &4]
    );
}

#[test]
fn javadoc_example_two_different_subscriptions() {
    // C0 on t0; C1 on t0, t1; C2 on t0, t1, t2; of 1, 2 and 3 partitions.
    let members = [
        member("C0", &["t0"]),
        member("C1", &["t0", "t1"]),
        member("C2", &["t0", "t1", "t2"]),
    ];
    let partition_counts = [("t0", 1), ("t1", 2), ("t2", 3)];
    let assignment = sticky(&members, &partition_counts);
    let expected = BTreeMap::from([
        ("C0".to_owned(), partitions(&[("t0", &[0])])),
        ("C1".to_owned(), partitions(&[("t1", &[0, 1])])),
        ("C2".to_owned(), partitions(&[("t2", &[0, 1, 2])])),
    ]);
    assert_eq!(assignment.members, expected);
    // C0 leaves: C1 takes t0p0 and keeps the rest.
    let members = [
        owner("C1", &["t0", "t1"], &[("t1", &[0, 1])], 1),
        owner("C2", &["t0", "t1", "t2"], &[("t2", &[0, 1, 2])], 1),
    ];
    let assignment = sticky(&members, &partition_counts);
    assert_eq!(
        assignment.members["C1"],
        partitions(&[("t0", &[0]), ("t1", &[0, 1])])
    );
    assert_eq!(assignment.members["C2"], partitions(&[("t2", &[0, 1, 2])]));
    assert!(assignment.withheld.is_empty());
}

#[test]
fn a_joining_member_waits_for_what_it_takes() {
    let all: &[i32] = &[0, 1, 2, 3, 4, 5];
    let members = [owner("a", &["t"], &[("t", all)], 3), member("b", &["t"])];
    let first = sticky(&members, &[("t", 6)]);
    // a keeps three and is no longer assigned the other three: b gets them only
    // once a has revoked them.
    assert_eq!(first.members["a"], partitions(&[("t", &[0, 1, 2])]));
    assert_eq!(first.members["b"], partitions(&[]));
    let expected: Vec<_> = (3..6)
        .map(|partition| withheld("t", partition, "b"))
        .collect();
    assert_eq!(first.withheld, expected);
    // The follow-up rebalance: a owns what it was assigned, b nothing.
    let members = [
        owner("a", &["t"], &[("t", &[0, 1, 2])], 4),
        owner("b", &["t"], &[], 4),
    ];
    let second = sticky(&members, &[("t", 6)]);
    assert_eq!(second.members["a"], partitions(&[("t", &[0, 1, 2])]));
    assert_eq!(second.members["b"], partitions(&[("t", &[3, 4, 5])]));
    assert!(second.withheld.is_empty());
}

#[test]
fn the_higher_generation_wins_a_partition_claimed_twice() {
    // a (generation 5) and b (generation 4) both claim t-0: a owns it, and b,
    // not assigned it, revokes it; nothing waits.
    let members = [
        owner("a", &["t"], &[("t", &[0])], 5),
        owner("b", &["t"], &[("t", &[0, 1])], 4),
    ];
    let assignment = sticky(&members, &[("t", 2)]);
    assert_eq!(assignment.members["a"], partitions(&[("t", &[0])]));
    assert_eq!(assignment.members["b"], partitions(&[("t", &[1])]));
    assert!(assignment.withheld.is_empty());
    // The other way round b owns both, so one moves to a, once b revokes it.
    let members = [
        owner("a", &["t"], &[("t", &[0])], 4),
        owner("b", &["t"], &[("t", &[0, 1])], 5),
    ];
    let assignment = sticky(&members, &[("t", 2)]);
    assert_eq!(assignment.members["a"], partitions(&[]));
    assert_eq!(assignment.members["b"], partitions(&[("t", &[0])]));
    assert_eq!(assignment.withheld, [withheld("t", 1, "a")]);
}

#[test]
fn a_partition_claimed_twice_in_one_generation_is_withheld_from_both() {
    let members = [
        owner("a", &["t"], &[("t", &[0])], 5),
        owner("b", &["t"], &[("t", &[0])], 5),
    ];
    let assignment = sticky(&members, &[("t", 1)]);
    assert_eq!(assignment.members["a"], partitions(&[]));
    assert_eq!(assignment.members["b"], partitions(&[]));
    assert_eq!(assignment.withheld, [withheld("t", 0, "a")]);
}

#[test]
fn a_topic_dropped_from_a_subscription_moves_once_revoked() {
    // a owned u-0 (and t-1) but now subscribes to t only; its claim on u-7 is
    // on a partition that does not exist.
    let members = [
        owner("a", &["t"], &[("t", &[1]), ("u", &[0, 7])], 2),
        owner("b", &["t", "u"], &[("t", &[0])], 2),
    ];
    let assignment = sticky(&members, &[("t", 2), ("u", 1)]);
    assert_eq!(assignment.members["a"], partitions(&[("t", &[1])]));
    assert_eq!(assignment.members["b"], partitions(&[("t", &[0])]));
    assert_eq!(assignment.withheld, [withheld("u", 0, "b")]);
}

#[test]
fn claims_without_a_generation_still_count() {
    // Kafka-python's cooperative-sticky sends no generation: -1 for all.
    let members = [
        owner("a", &["t"], &[("t", &[0, 1])], -1),
        owner("b", &["t"], &[("t", &[2])], -1),
    ];
    let assignment = sticky(&members, &[("t", 4)]);
    assert_eq!(assignment.members["a"], partitions(&[("t", &[0, 1])]));
    assert_eq!(assignment.members["b"], partitions(&[("t", &[2, 3])]));
    assert!(assignment.withheld.is_empty());
}

#[test]
fn scaling_out_from_one_member_to_two_hundred_takes_two_rounds() {
    // One member owns all 5,000 partitions of ten topics; 199 join.
    let topics: Vec<String> = (0..10).map(|topic| format!("topic-{topic}")).collect();
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let partition_counts: Vec<(&str, i32)> = names.iter().map(|name| (*name, 500)).collect();
    let mut members: Vec<_> = (0..200)
        .map(|i| member(&format!("m{i:03}"), &names))
        .collect();
    members[0].owned = names
        .iter()
        .map(|name| (*name, (0..500).collect()))
        .map(|(topic, partitions)| TopicPartitions {
            topic: topic.to_owned(),
            partitions,
        })
        .collect();
    let first = sticky(&members, &partition_counts);
    assert_eq!(first.withheld.len(), 5000 - 25);
    assert_eq!(holders(&first).len(), 25);
    for member in members.iter_mut() {
        member.owned = first.members[&member.member_id].clone();
        member.generation = 2;
    }
    let second = sticky(&members, &partition_counts);
    assert!(second.withheld.is_empty());
    let loads = loads(&members, &holders(&second));
    assert!(loads.values().all(|&load| load == 25), "{loads:?}");
}
