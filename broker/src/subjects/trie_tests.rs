//! Unit tests of the subject trie with its cache: matching rules, queue groups,
//! removal and pruning, cache invalidation and bounds, deep subjects, monitoring.
//!
//! Tests only; nothing here is compiled into the broker.

use std::collections::BTreeMap;

use super::{CacheLimits, InvalidSubject, Matches, SubjectTrie};

/// Plain values sorted, and each group's members sorted by group name.
fn summary(matches: &Matches<u32>) -> (Vec<u32>, BTreeMap<Vec<u8>, Vec<u32>>) {
    let mut plain = matches.plain().to_vec();
    plain.sort_unstable();
    let groups = matches
        .groups()
        .iter()
        .map(|group| {
            let mut members = group.members().to_vec();
            members.sort_unstable();
            (group.name().to_vec(), members)
        })
        .collect();
    (plain, groups)
}

fn plain(trie: &mut SubjectTrie<u32>, subject: &[u8]) -> Vec<u32> {
    let matches = trie.matches(subject);
    assert!(matches.groups().is_empty());
    summary(matches).0
}

#[test]
fn refuses_invalid_subjects_and_queue_names() {
    let mut trie = SubjectTrie::new();
    for subject in [
        &b""[..],
        b"foo..bar",
        b".foo",
        b"foo.",
        b"foo.>.bar",
        b"foo bar",
    ] {
        assert_eq!(trie.insert(subject, None, 1), Err(InvalidSubject::Subject));
    }
    for queue in [&b""[..], b"a b", b"a\tb"] {
        assert_eq!(
            trie.insert(b"foo", Some(queue), 1),
            Err(InvalidSubject::QueueName)
        );
    }
    assert!(trie.is_empty());
    assert_eq!(trie.node_count(), 1);
    assert_eq!(trie.statistics().inserts, 0);
}

#[test]
fn literal_and_wildcard_matching() {
    let mut trie = SubjectTrie::new();
    for (value, subject) in [
        (1, &b"foo.bar"[..]),
        (2, b"foo.*"),
        (3, b"foo.>"),
        (4, b">"),
        (5, b"*.bar"),
        (6, b"*.*.baz"),
        (7, b"foo.bar.>"),
        (8, b"foo"),
        (9, b"foo.b*"),
    ] {
        trie.insert(subject, None, value).unwrap();
    }
    assert_eq!(plain(&mut trie, b"foo.bar"), [1, 2, 3, 4, 5]);
    assert_eq!(plain(&mut trie, b"foo"), [4, 8]);
    assert_eq!(plain(&mut trie, b"foo.bar.baz"), [3, 4, 6, 7]);
    assert_eq!(plain(&mut trie, b"foo.baz"), [2, 3, 4]);
    assert_eq!(plain(&mut trie, b"foo.b*"), [2, 3, 4, 9]);
    assert_eq!(plain(&mut trie, b"bar"), [4]);
    assert_eq!(plain(&mut trie, b"bar.bar"), [4, 5]);
}

#[test]
fn subjects_with_empty_tokens_match_nothing_and_wildcard_tokens_are_literal() {
    let mut trie = SubjectTrie::new();
    trie.insert(b">", None, 1).unwrap();
    trie.insert(b"foo.*", None, 2).unwrap();
    trie.insert(b"foo.bar", None, 3).unwrap();
    for subject in [&b""[..], b"foo..bar", b".foo", b"foo."] {
        assert!(trie.matches(subject).is_empty(), "{subject:?}");
    }
    assert_eq!(trie.statistics().cached, 0);
    // As nats-server matches a non-pedantic client's publish to a wildcard: the
    // token is literal, so only wildcard subscriptions can match it.
    assert_eq!(plain(&mut trie, b"foo.*"), [1, 2]);
    assert_eq!(plain(&mut trie, b"foo.>"), [1, 2]);
    assert_eq!(plain(&mut trie, b"*"), [1]);
}

#[test]
fn queue_groups_merge_across_subjects() {
    let mut trie = SubjectTrie::new();
    trie.insert(b"orders.new", Some(b"workers"), 1).unwrap();
    trie.insert(b"orders.*", Some(b"workers"), 2).unwrap();
    trie.insert(b"orders.>", Some(b"auditors"), 3).unwrap();
    trie.insert(b"orders.new", None, 4).unwrap();
    trie.insert(b"orders.new", Some(b"workers"), 5).unwrap();
    let (plain, groups) = summary(trie.matches(b"orders.new"));
    assert_eq!(plain, [4]);
    let expected: BTreeMap<Vec<u8>, Vec<u32>> = [
        (b"auditors".to_vec(), vec![3]),
        (b"workers".to_vec(), vec![1, 2, 5]),
    ]
    .into();
    assert_eq!(groups, expected);
    assert_eq!(trie.matches(b"orders.new").fanout(), 3);
    assert_eq!(trie.matches(b"orders.new").values(), 5);
}

#[test]
fn remove_returns_the_value_once_and_prunes() {
    let mut trie = SubjectTrie::new();
    let first = trie.insert(b"a.b.c.d", None, 1).unwrap();
    let second = trie.insert(b"a.*.>", Some(b"q"), 2).unwrap();
    let third = trie.insert(b"a.b", None, 3).unwrap();
    assert_eq!(trie.len(), 3);
    assert_eq!(trie.get(first), Some(&1));
    assert_eq!(trie.remove(first), Some(1));
    assert_eq!(trie.remove(first), None);
    assert_eq!(trie.get(first), None);
    assert_eq!(trie.remove(second), Some(2));
    assert_eq!(trie.remove(third), Some(3));
    assert!(trie.is_empty());
    assert_eq!(trie.node_count(), 1);
    let statistics = trie.statistics();
    assert_eq!((statistics.inserts, statistics.removes), (3, 3));
}

#[test]
fn a_stale_key_never_removes_a_later_subscription() {
    let mut trie = SubjectTrie::new();
    let old = trie.insert(b"foo", None, 1).unwrap();
    trie.remove(old).unwrap();
    // Same node and slot again.
    let new = trie.insert(b"foo", None, 2).unwrap();
    assert_ne!(old, new);
    assert_eq!(trie.remove(old), None);
    assert_eq!(trie.get(new), Some(&2));
    let old_member = trie.insert(b"foo", Some(b"q"), 3).unwrap();
    trie.remove(old_member).unwrap();
    let new_member = trie.insert(b"foo", Some(b"q"), 4).unwrap();
    assert_eq!(trie.remove(old_member), None);
    assert_eq!(trie.remove(new_member), Some(4));
}

#[test]
fn the_same_subject_and_value_twice_are_two_subscriptions() {
    let mut trie = SubjectTrie::new();
    let first = trie.insert(b"foo", None, 7).unwrap();
    trie.insert(b"foo", None, 7).unwrap();
    assert_eq!(plain(&mut trie, b"foo"), [7, 7]);
    trie.remove(first).unwrap();
    assert_eq!(plain(&mut trie, b"foo"), [7]);
}

#[test]
fn the_cache_sees_every_change() {
    let mut trie = SubjectTrie::new();
    trie.insert(b"foo.bar", None, 1).unwrap();
    assert_eq!(plain(&mut trie, b"foo.bar"), [1]);
    assert_eq!(plain(&mut trie, b"foo.baz"), Vec::<u32>::new());
    assert_eq!(trie.statistics().cached, 2);
    // A literal subscription drops only its own subject's entry.
    let literal = trie.insert(b"foo.baz", None, 2).unwrap();
    assert_eq!(trie.statistics().cached, 1);
    assert_eq!(plain(&mut trie, b"foo.baz"), [2]);
    // A wildcard subscription drops the entries it matches.
    let wildcard = trie.insert(b"*.bar", None, 3).unwrap();
    assert_eq!(trie.statistics().cached, 1);
    assert_eq!(plain(&mut trie, b"foo.bar"), [1, 3]);
    trie.remove(wildcard).unwrap();
    assert_eq!(plain(&mut trie, b"foo.bar"), [1]);
    trie.remove(literal).unwrap();
    assert_eq!(plain(&mut trie, b"foo.baz"), Vec::<u32>::new());
    let statistics = trie.statistics();
    assert_eq!(statistics.matches, 6);
    assert_eq!(statistics.cache_hits, 0);
    assert_eq!(plain(&mut trie, b"foo.baz"), Vec::<u32>::new());
    assert_eq!(trie.statistics().cache_hits, 1);
}

#[test]
fn the_cache_stays_within_its_limits() {
    let limits = CacheLimits {
        entries: 4,
        values: 3,
    };
    let mut trie = SubjectTrie::with_cache_limits(limits);
    for value in 0..5 {
        trie.insert(b"big", None, value).unwrap();
    }
    trie.insert(b">", None, 9).unwrap();
    for round in 0..3 {
        for index in 0..100 {
            let subject = format!("s.{index}");
            assert_eq!(plain(&mut trie, subject.as_bytes()), [9]);
            assert!(trie.statistics().cached <= 3, "round {round}");
        }
    }
    // Too large to cache, still right.
    assert_eq!(plain(&mut trie, b"big"), [0, 1, 2, 3, 4, 9]);
    assert_eq!(plain(&mut trie, b"big"), [0, 1, 2, 3, 4, 9]);
    assert!(trie.statistics().cached <= 3);
}

#[test]
fn a_disabled_cache_caches_nothing() {
    let mut trie = SubjectTrie::with_cache_limits(CacheLimits::DISABLED);
    trie.insert(b"foo.*", None, 1).unwrap();
    assert_eq!(plain(&mut trie, b"foo.bar"), [1]);
    assert_eq!(plain(&mut trie, b"foo.bar"), [1]);
    let statistics = trie.statistics();
    assert_eq!((statistics.cached, statistics.cache_hits), (0, 0));
}

#[test]
fn statistics_follow_nats_subsz() {
    let mut trie = SubjectTrie::new();
    trie.insert(b"a", None, 1).unwrap();
    trie.insert(b"a", Some(b"q"), 2).unwrap();
    trie.insert(b"a", Some(b"q"), 3).unwrap();
    trie.matches(b"a");
    trie.matches(b"a");
    trie.matches(b"b");
    trie.matches(b"a");
    let statistics = trie.statistics();
    assert_eq!(statistics.subscriptions, 3);
    assert_eq!(statistics.cached, 2);
    assert_eq!(statistics.matches, 4);
    assert_eq!(statistics.cache_hits, 2);
    assert!((statistics.cache_hit_rate - 0.5).abs() < 1e-9);
    assert_eq!(statistics.max_fanout, 2);
    assert!((statistics.average_fanout - 1.0).abs() < 1e-9);
}

#[test]
fn subscriptions_are_listed_with_their_subjects() {
    let mut trie = SubjectTrie::new();
    trie.insert(b"a.*.c", None, 1).unwrap();
    trie.insert(b"a.>", Some(b"q"), 2).unwrap();
    trie.insert(b">", None, 3).unwrap();
    let mut listed: Vec<(Vec<u8>, Option<Vec<u8>>, u32)> = trie
        .subscriptions()
        .map(|found| (found.subject, found.queue.map(<[u8]>::to_vec), *found.value))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            (b">".to_vec(), None, 3),
            (b"a.*.c".to_vec(), None, 1),
            (b"a.>".to_vec(), Some(b"q".to_vec()), 2),
        ]
    );
}

#[test]
fn deep_subjects_need_no_deep_stack() {
    // A recursive walk would overflow a 2 MiB test thread stack long before this.
    const TOKENS: usize = 50_000;
    let literal = vec!["t"; TOKENS].join(".");
    let stars = vec!["*"; TOKENS].join(".");
    let rest = format!("{}.>", vec!["t"; TOKENS - 1].join("."));
    let mut trie = SubjectTrie::with_cache_limits(CacheLimits::DISABLED);
    let keys = [
        trie.insert(literal.as_bytes(), None, 1).unwrap(),
        trie.insert(stars.as_bytes(), None, 2).unwrap(),
        trie.insert(rest.as_bytes(), None, 3).unwrap(),
    ];
    assert_eq!(plain(&mut trie, literal.as_bytes()), [1, 2, 3]);
    assert_eq!(
        trie.subscriptions()
            .filter(|found| found.subject == stars.as_bytes())
            .count(),
        1
    );
    for key in keys {
        trie.remove(key).unwrap();
    }
    assert_eq!(trie.node_count(), 1);
    drop(trie);
}

#[test]
fn many_queue_groups_each_appear_once() {
    let mut trie = SubjectTrie::new();
    for group in 0..40_u32 {
        let queue = format!("group{group}");
        trie.insert(b"foo.bar", Some(queue.as_bytes()), group)
            .unwrap();
        trie.insert(b"foo.*", Some(queue.as_bytes()), 100 + group)
            .unwrap();
        trie.insert(b">", Some(queue.as_bytes()), 200 + group)
            .unwrap();
    }
    let (plain, groups) = summary(trie.matches(b"foo.bar"));
    assert!(plain.is_empty());
    assert_eq!(groups.len(), 40);
    for group in 0..40_u32 {
        let name = format!("group{group}").into_bytes();
        assert_eq!(groups[&name], [group, 100 + group, 200 + group]);
    }
}
