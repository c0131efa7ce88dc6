//! Cooperative-sticky over random groups: every partition aimed at exactly one
//! subscribed member and withheld only from members another one still claims it
//! from; balance checked the long way; a second round gives what the first
//! withheld without taking anything back; members keep what balance allows
//! (against a formula with the same subscriptions everywhere, against a brute
//! force search on tiny groups); a member leaving moves nothing of the others'.

use super::*;

fn sticky(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
) -> GroupAssignment {
    Assignor::CooperativeSticky.assign(members, partition_counts)
}

/// Each partition's valid owner, the plain way: of the members subscribed to its
/// topic and claiming it, the one of the highest generation if it is alone there.
fn valid_owners(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
) -> BTreeMap<Partition, String> {
    let mut owners = BTreeMap::new();
    for (topic, partition) in subscribed_partitions(members, partition_counts) {
        let claimers: Vec<_> = members
            .iter()
            .filter(|m| m.topics.contains(&topic))
            .filter(|m| {
                m.owned
                    .iter()
                    .any(|o| o.topic == topic && o.partitions.contains(&partition))
            })
            .collect();
        let Some(highest) = claimers.iter().map(|m| m.generation).max() else {
            continue;
        };
        let top: Vec<_> = claimers
            .iter()
            .filter(|m| m.generation == highest)
            .collect();
        if let [only] = top.as_slice() {
            owners.insert((topic, partition), only.member_id.clone());
        }
    }
    owners
}

/// How many partitions stay with their valid owner.
fn kept(owners: &BTreeMap<Partition, String>, target: &BTreeMap<Partition, String>) -> usize {
    owners
        .iter()
        .filter(|(key, owner)| target.get(*key) == Some(owner))
        .count()
}

/// The members with `owned` replaced by what `assignment` assigned them.
fn owning(
    members: &[MemberSubscription],
    assignment: &GroupAssignment,
    generation: i32,
) -> Vec<MemberSubscription> {
    members
        .iter()
        .map(|m| MemberSubscription {
            owned: assignment.members[&m.member_id].clone(),
            generation,
            ..m.clone()
        })
        .collect()
}

/// Checks what every cooperative-sticky assignment must be.
fn check_sticky(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
    assignment: &GroupAssignment,
) {
    let target = target(assignment);
    check_complete(members, partition_counts, &target);
    check_balanced(members, &target);
    assert_eq!(assignment.members.len(), members.len());
    // A partition is assigned to a member while another claims it only if the
    // member is its valid owner (the other has to revoke it, not the member).
    let owners = valid_owners(members, partition_counts);
    for (key, member) in holders(assignment) {
        let claimed_elsewhere = members.iter().any(|m| {
            m.member_id != member
                && m.owned
                    .iter()
                    .any(|o| o.topic == key.0 && o.partitions.contains(&key.1))
        });
        assert!(
            !claimed_elsewhere || owners.get(&key) == Some(&member),
            "{key:?} given to {member} while owned elsewhere"
        );
    }
    for withheld in &assignment.withheld {
        let claimed_elsewhere = members.iter().any(|m| {
            m.member_id != withheld.member_id
                && m.owned.iter().any(|o| {
                    o.topic == withheld.topic && o.partitions.contains(&withheld.partition)
                })
        });
        assert!(claimed_elsewhere, "{withheld:?} is owned by nobody else");
    }
}

/// The same random group with every member subscribed to every topic.
fn same_subscriptions() -> impl Strategy<Value = (Vec<MemberSubscription>, BTreeMap<String, i32>)> {
    random_group().prop_map(|(mut members, partition_counts)| {
        let topics: Vec<String> = partition_counts.keys().cloned().collect();
        members.iter_mut().for_each(|m| m.topics = topics.clone());
        (members, partition_counts)
    })
}

/// A tiny group for the brute force: 1-3 members, 2-3 topics of 0-3 partitions.
fn tiny_group() -> impl Strategy<Value = (Vec<MemberSubscription>, BTreeMap<String, i32>)> {
    random_group().prop_flat_map(|(members, _)| {
        let members: Vec<_> = members.into_iter().take(3).collect();
        proptest::collection::vec(0i32..=3, 2..=3).prop_map(move |sizes| {
            let partition_counts = TOPICS
                .iter()
                .zip(&sizes)
                .map(|(t, s)| ((*t).to_owned(), *s))
                .collect();
            (members.clone(), partition_counts)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_partition_has_one_target_and_waits_only_for_another_owner((members, partition_counts) in random_group()) {
        let assignment = sticky(&members, &partition_counts);
        check_sticky(&members, &partition_counts, &assignment);
        // Nothing is withheld from its valid owner, nor also assigned.
        let owners = valid_owners(&members, &partition_counts);
        let holders = holders(&assignment);
        for withheld in &assignment.withheld {
            let key = (withheld.topic.clone(), withheld.partition);
            prop_assert_ne!(owners.get(&key), Some(&withheld.member_id));
            prop_assert!(!holders.contains_key(&key));
        }
    }

    #[test]
    fn a_second_round_gives_what_the_first_withheld((members, partition_counts) in random_group()) {
        let first = sticky(&members, &partition_counts);
        let members = owning(&members, &first, 10);
        let second = sticky(&members, &partition_counts);
        check_sticky(&members, &partition_counts, &second);
        prop_assert!(second.withheld.is_empty(), "{:?}", second.withheld);
        let (before, after) = (holders(&first), holders(&second));
        for (key, member) in &before {
            prop_assert_eq!(after.get(key), Some(member), "{:?} moved", key);
        }
    }

    #[test]
    fn with_the_same_subscriptions_members_keep_all_balance_allows((members, partition_counts) in same_subscriptions()) {
        let assignment = sticky(&members, &partition_counts);
        check_sticky(&members, &partition_counts, &assignment);
        let owners = valid_owners(&members, &partition_counts);
        let total: usize = partition_counts.values().map(|&count| count as usize).sum();
        let (quota, extra) = (total / members.len(), total % members.len());
        let owned: Vec<usize> = members
            .iter()
            .map(|m| owners.values().filter(|owner| **owner == m.member_id).count())
            .collect();
        let over = owned.iter().filter(|&&count| count > quota).count();
        let best = owned.iter().map(|&count| count.min(quota)).sum::<usize>() + extra.min(over);
        prop_assert_eq!(kept(&owners, &target(&assignment)), best);
    }

    #[test]
    fn after_a_member_leaves_the_others_keep_everything(
        (members, partition_counts) in same_subscriptions(),
        leaving in any::<prop::sample::Index>(),
    ) {
        let fresh: Vec<_> = members.iter().map(|m| MemberSubscription { owned: Vec::new(), ..m.clone() }).collect();
        let settled = sticky(&fresh, &partition_counts);
        prop_assert!(settled.withheld.is_empty());
        let mut members = owning(&fresh, &settled, 1);
        members.remove(leaving.index(members.len()));
        let assignment = sticky(&members, &partition_counts);
        check_sticky(&members, &partition_counts, &assignment);
        prop_assert!(assignment.withheld.is_empty());
        let holders = holders(&assignment);
        for m in &members {
            for topic in &m.owned {
                for &partition in &topic.partitions {
                    prop_assert_eq!(holders.get(&(topic.topic.clone(), partition)), Some(&m.member_id));
                }
            }
        }
    }
}

/// Every way to give each partition to a member subscribed to its topic: the
/// least sum of squared loads, and the most partitions kept by their valid
/// owners among the assignments that reach it.
fn brute_force(
    members: &[MemberSubscription],
    partition_counts: &BTreeMap<String, i32>,
    owners: &BTreeMap<Partition, String>,
) -> (usize, usize) {
    let partitions: Vec<Partition> = subscribed_partitions(members, partition_counts)
        .into_iter()
        .collect();
    let choices: Vec<Vec<usize>> = partitions
        .iter()
        .map(|(topic, _)| {
            (0..members.len())
                .filter(|&i| members[i].topics.contains(topic))
                .collect()
        })
        .collect();
    let mut best = (usize::MAX, 0);
    let mut picks = vec![0usize; partitions.len()];
    loop {
        let mut loads = vec![0usize; members.len()];
        let mut kept = 0;
        for ((key, choice), &pick) in partitions.iter().zip(&choices).zip(&picks) {
            loads[choice[pick]] += 1;
            kept += usize::from(owners.get(key) == Some(&members[choice[pick]].member_id));
        }
        let squares = loads.iter().map(|load| load * load).sum::<usize>();
        if squares < best.0 || (squares == best.0 && kept > best.1) {
            best = (squares, kept);
        }
        // The next combination, like an odometer.
        let Some(digit) = (0..picks.len()).find(|&i| picks[i] + 1 < choices[i].len()) else {
            return best;
        };
        picks[digit] += 1;
        picks[..digit].iter_mut().for_each(|pick| *pick = 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn tiny_groups_are_as_balanced_as_a_brute_force_finds((members, partition_counts) in tiny_group()) {
        let assignment = sticky(&members, &partition_counts);
        check_sticky(&members, &partition_counts, &assignment);
        let target = target(&assignment);
        let owners = valid_owners(&members, &partition_counts);
        let (least_squares, most_kept) = brute_force(&members, &partition_counts, &owners);
        let squares: usize = loads(&members, &target).values().map(|load| load * load).sum();
        prop_assert_eq!(squares, least_squares);
        // When a balanced assignment keeps every valid owned partition, so does this one.
        if most_kept == owners.len() {
            prop_assert_eq!(kept(&owners, &target), owners.len());
        }
    }
}
