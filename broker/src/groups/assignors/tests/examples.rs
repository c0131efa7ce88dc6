//! Range and round robin: the examples of Kafka's `RangeAssignor` and
//! `RoundRobinAssignor` javadocs, Kafka's member order (static members first),
//! the assignor names, and random groups against naive reimplementations.

use super::*;

/// Each member's partitions as `topic-partition` names, for short expectations.
fn names(assignment: &GroupAssignment) -> BTreeMap<String, Vec<String>> {
    assignment
        .members
        .iter()
        .map(|(member, topics)| {
            let names = topics
                .iter()
                .flat_map(|t| t.partitions.iter().map(move |p| format!("{}p{p}", t.topic)))
                .collect();
            (member.clone(), names)
        })
        .collect()
}

fn expect(list: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    list.iter()
        .map(|(member, names)| {
            let names = names.iter().map(|name| (*name).to_owned()).collect();
            ((*member).to_owned(), names)
        })
        .collect()
}

#[test]
fn names_are_kafkas() {
    for assignor in Assignor::ALL {
        assert_eq!(Assignor::from_name(assignor.name()), Some(assignor));
    }
    assert_eq!(
        Assignor::from_name("roundrobin"),
        Some(Assignor::RoundRobin)
    );
    assert_eq!(
        Assignor::from_name("cooperative-sticky"),
        Some(Assignor::CooperativeSticky)
    );
    assert_eq!(Assignor::from_name("Range"), None);
    assert_eq!(Assignor::from_name("sticky"), None);
    assert!(Assignor::CooperativeSticky.cooperative() && !Assignor::Range.cooperative());
}

#[test]
fn range_javadoc_example() {
    // C0 and C1 both on t0 and t1 of 3 partitions each.
    let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
    let assignment = Assignor::Range.assign(&members, &counts(&[("t0", 3), ("t1", 3)]));
    let expected = expect(&[
        ("C0", &["t0p0", "t0p1", "t1p0", "t1p1"]),
        ("C1", &["t0p2", "t1p2"]),
    ]);
    assert_eq!(names(&assignment), expected);
    assert!(assignment.withheld.is_empty());
}

#[test]
fn round_robin_javadoc_examples() {
    let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
    let assignment = Assignor::RoundRobin.assign(&members, &counts(&[("t0", 3), ("t1", 3)]));
    let expected = expect(&[
        ("C0", &["t0p0", "t0p2", "t1p1"]),
        ("C1", &["t0p1", "t1p0", "t1p2"]),
    ]);
    assert_eq!(names(&assignment), expected);
    // Different subscriptions: t0, t1 and t2 of 1, 2 and 3 partitions.
    let members = [
        member("C0", &["t0"]),
        member("C1", &["t0", "t1"]),
        member("C2", &["t0", "t1", "t2"]),
    ];
    let partition_counts = counts(&[("t0", 1), ("t1", 2), ("t2", 3)]);
    let assignment = Assignor::RoundRobin.assign(&members, &partition_counts);
    let expected = expect(&[
        ("C0", &["t0p0"]),
        ("C1", &["t1p0"]),
        ("C2", &["t1p1", "t2p0", "t2p1", "t2p2"]),
    ]);
    assert_eq!(names(&assignment), expected);
}

#[test]
fn static_members_come_first_by_instance_id() {
    // "a" is dynamic; "z" and "y" are static with instance ids "i2" and "i1":
    // the order is y, z, a.
    let mut members = [
        member("a", &["t"]),
        member("z", &["t"]),
        member("y", &["t"]),
    ];
    members[1].instance_id = Some("i2".to_owned());
    members[2].instance_id = Some("i1".to_owned());
    let partition_counts = counts(&[("t", 5)]);
    let range = Assignor::Range.assign(&members, &partition_counts);
    let expected = expect(&[
        ("y", &["tp0", "tp1"]),
        ("z", &["tp2", "tp3"]),
        ("a", &["tp4"]),
    ]);
    assert_eq!(names(&range), expected);
    let round_robin = Assignor::RoundRobin.assign(&members, &partition_counts);
    let expected = expect(&[
        ("y", &["tp0", "tp3"]),
        ("z", &["tp1", "tp4"]),
        ("a", &["tp2"]),
    ]);
    assert_eq!(names(&round_robin), expected);
}

#[test]
fn topics_without_partitions_and_members_without_topics() {
    let members = [
        member("a", &["t", "missing", "empty"]),
        member("b", &[]),
        member("a", &["u"]),
    ];
    let partition_counts = counts(&[("t", 2), ("empty", 0), ("u", 4)]);
    for assignor in Assignor::ALL {
        let assignment = assignor.assign(&members, &partition_counts);
        // The second "a" is ignored, so nobody takes u; b is listed with nothing.
        let expected = expect(&[("a", &["tp0", "tp1"]), ("b", &[])]);
        assert_eq!(names(&assignment), expected, "{assignor:?}");
    }
    let nobody = Assignor::CooperativeSticky.assign(&[], &partition_counts);
    assert_eq!(nobody, GroupAssignment::default());
}

#[test]
fn java_orders_strings_by_utf16_units() {
    // U+1F600 sorts after U+FF5E in UTF-8 bytes (F0 after EF) but before it in
    // UTF-16 units (its surrogate D83D before FF5E), so Kafka puts it first.
    let members = [member("\u{FF5E}", &["t"]), member("\u{1F600}", &["t"])];
    let assignment = Assignor::Range.assign(&members, &counts(&[("t", 1)]));
    assert_eq!(names(&assignment)["\u{1F600}"], ["tp0"]);
}

/// Members in Kafka's order, the long way: static ones sorted by instance id,
/// then dynamic ones sorted by member id (the random groups' ids are ASCII).
fn kafka_order(members: &[MemberSubscription]) -> Vec<&MemberSubscription> {
    let mut statics: Vec<_> = members.iter().filter(|m| m.instance_id.is_some()).collect();
    let mut dynamics: Vec<_> = members.iter().filter(|m| m.instance_id.is_none()).collect();
    statics.sort_by_key(|m| m.instance_id.clone());
    dynamics.sort_by_key(|m| m.member_id.clone());
    statics.into_iter().chain(dynamics).collect()
}

/// Range as the javadoc tells it: for each topic, member i of k takes
/// `n / k` partitions, plus one while `i < n % k`, one after another.
fn naive_range(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
) -> BTreeMap<Partition, String> {
    let mut holders = BTreeMap::new();
    for (topic, &count) in partition_counts {
        let takers: Vec<_> = kafka_order(members)
            .into_iter()
            .filter(|m| m.topics.contains(topic))
            .collect();
        if takers.is_empty() {
            continue;
        }
        let mut next = 0;
        for (i, taker) in takers.iter().enumerate() {
            let share =
                count as usize / takers.len() + usize::from(i < count as usize % takers.len());
            for partition in next..next + share {
                holders.insert((topic.clone(), partition as i32), taker.member_id.clone());
            }
            next += share;
        }
    }
    holders
}

/// Round robin with a ring of members that turns: the front member not on the
/// partition's topic goes to the back until one is, which takes the partition
/// and goes to the back too.
fn naive_round_robin(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
) -> BTreeMap<Partition, String> {
    let mut ring: VecDeque<_> = kafka_order(members).into_iter().collect();
    let mut holders = BTreeMap::new();
    for (topic, &count) in partition_counts {
        if !members.iter().any(|m| m.topics.contains(topic)) {
            continue;
        }
        for partition in 0..count {
            while !ring[0].topics.contains(topic) {
                ring.rotate_left(1);
            }
            holders.insert((topic.clone(), partition), ring[0].member_id.clone());
            ring.rotate_left(1);
        }
    }
    holders
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn range_matches_the_naive_range((members, partition_counts) in random_group()) {
        let assignment = Assignor::Range.assign(&members, &partition_counts);
        let holders = holders(&assignment);
        check_complete(&members, &partition_counts, &holders);
        prop_assert_eq!(&holders, &naive_range(&members, &partition_counts));
        prop_assert!(assignment.withheld.is_empty());
        prop_assert_eq!(assignment.members.len(), members.len());
    }

    #[test]
    fn round_robin_matches_the_naive_round_robin((members, partition_counts) in random_group()) {
        let assignment = Assignor::RoundRobin.assign(&members, &partition_counts);
        let holders = holders(&assignment);
        check_complete(&members, &partition_counts, &holders);
        prop_assert_eq!(&holders, &naive_round_robin(&members, &partition_counts));
        // With the same subscriptions everywhere, loads are within one.
        let same = members.iter().all(|m| m.topics == members[0].topics);
        let loads = loads(&members, &holders);
        let (least, most) = (loads.values().min(), loads.values().max());
        prop_assert!(!same || most.zip(least).is_some_and(|(most, least)| most - least <= 1));
    }
}
