//! Property tests: the subject trie, with its cache at several sizes, agrees with a
//! naive list of subscriptions over random inserts, removes and matches, and the
//! validation functions agree with a token-by-token reading of nats-server's rules.
//!
//! Tests only; bounded (256 cases each) so that `cargo test` stays quick.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{
    CacheLimits, Matches, SubjectTrie, SubscriptionKey, is_valid_publish_subject,
    is_valid_subscription_subject,
};

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
    Insert {
        subject: Vec<u8>,
        queue: Option<Vec<u8>>,
    },
    /// Removes the live subscription at this position (modulo their number).
    Remove(usize),
    Match(Vec<u8>),
}

/// A subscription subject of 1 to 4 tokens over a tiny alphabet, `>` only last.
fn subscription_subject() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![Just("a"), Just("b"), Just("c"), Just("*")];
    (prop::collection::vec(token, 0..4), any::<bool>()).prop_filter_map(
        "a subject needs a token",
        |(mut tokens, rest)| {
            if rest {
                tokens.push(">");
            }
            (!tokens.is_empty()).then(|| tokens.join(".").into_bytes())
        },
    )
}

/// A publish subject of 1 to 5 tokens over the same alphabet.
fn publish_subject() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![Just("a"), Just("b"), Just("c")];
    prop::collection::vec(token, 1..6).prop_map(|tokens| tokens.join(".").into_bytes())
}

fn step() -> impl Strategy<Value = Step> {
    let queue = prop::option::of(prop_oneof![Just(b"q1".to_vec()), Just(b"q2".to_vec())]);
    prop_oneof![
        4 => (subscription_subject(), queue)
            .prop_map(|(subject, queue)| Step::Insert { subject, queue }),
        2 => any::<usize>().prop_map(Step::Remove),
        5 => publish_subject().prop_map(Step::Match),
    ]
}

/// The naive matcher: written apart from the trie and from `subject_matches_filter`.
fn naive_match(filter: &[u8], subject: &[u8]) -> bool {
    let filter: Vec<&[u8]> = filter.split(|byte| *byte == b'.').collect();
    let subject: Vec<&[u8]> = subject.split(|byte| *byte == b'.').collect();
    for (index, token) in filter.iter().enumerate() {
        if *token == b">" {
            return subject.len() > index;
        }
        match subject.get(index) {
            Some(literal) if *token == b"*" || token == literal => {}
            _ => return false,
        }
    }
    filter.len() == subject.len()
}

/// What a match result says, order aside.
type Summary = (Vec<u32>, BTreeMap<Vec<u8>, Vec<u32>>);

fn summary(matches: &Matches<u32>) -> Summary {
    let mut plain = matches.plain().to_vec();
    plain.sort_unstable();
    let mut groups = BTreeMap::new();
    for group in matches.groups() {
        let mut members = group.members().to_vec();
        members.sort_unstable();
        assert!(!members.is_empty(), "an empty group in a result");
        let earlier = groups.insert(group.name().to_vec(), members);
        assert!(earlier.is_none(), "a group twice in one result");
    }
    (plain, groups)
}

/// A live subscription in the model.
struct Live {
    subject: Vec<u8>,
    queue: Option<Vec<u8>>,
    value: u32,
    keys: Vec<SubscriptionKey>,
}

fn expected(live: &[Live], subject: &[u8]) -> Summary {
    let mut plain = Vec::new();
    let mut groups: BTreeMap<Vec<u8>, Vec<u32>> = BTreeMap::new();
    for subscription in live.iter().filter(|s| naive_match(&s.subject, subject)) {
        match &subscription.queue {
            None => plain.push(subscription.value),
            Some(queue) => groups
                .entry(queue.clone())
                .or_default()
                .push(subscription.value),
        }
    }
    plain.sort_unstable();
    groups
        .values_mut()
        .for_each(|members| members.sort_unstable());
    (plain, groups)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_trie_agrees_with_a_naive_list(steps in prop::collection::vec(step(), 1..80)) {
        let limits = [
            CacheLimits::default(),
            CacheLimits { entries: 3, values: 6 },
            CacheLimits::DISABLED,
        ];
        let mut tries: Vec<SubjectTrie<u32>> =
            limits.iter().map(|limits| SubjectTrie::with_cache_limits(*limits)).collect();
        let mut live: Vec<Live> = Vec::new();
        let mut next_value = 0;
        for step in steps {
            match step {
                Step::Insert { subject, queue } => {
                    let keys = tries
                        .iter_mut()
                        .map(|trie| trie.insert(&subject, queue.as_deref(), next_value).unwrap())
                        .collect();
                    live.push(Live { subject, queue, value: next_value, keys });
                    next_value += 1;
                }
                Step::Remove(position) if !live.is_empty() => {
                    let removed = live.swap_remove(position % live.len());
                    for (trie, key) in tries.iter_mut().zip(&removed.keys) {
                        prop_assert_eq!(trie.remove(*key), Some(removed.value));
                        prop_assert_eq!(trie.remove(*key), None);
                    }
                }
                Step::Remove(_) => {}
                Step::Match(subject) => {
                    let want = expected(&live, &subject);
                    for trie in &mut tries {
                        prop_assert_eq!(summary(trie.matches(&subject)), want.clone());
                    }
                }
            }
            for trie in &tries {
                prop_assert_eq!(trie.len(), live.len());
                let statistics = trie.statistics();
                prop_assert!(statistics.cached <= 1024);
            }
            prop_assert!(tries.get(1).is_some_and(|trie| trie.statistics().cached <= 3));
        }
        // Removing everything leaves the root alone.
        for subscription in live {
            for (trie, key) in tries.iter_mut().zip(&subscription.keys) {
                prop_assert_eq!(trie.remove(*key), Some(subscription.value));
            }
        }
        for trie in &tries {
            prop_assert!(trie.is_empty());
            prop_assert_eq!(trie.node_count(), 1);
            prop_assert_eq!(trie.subscriptions().count(), 0);
        }
    }

    #[test]
    fn listed_subscriptions_spell_their_subjects(
        subjects in prop::collection::vec(subscription_subject(), 0..20),
    ) {
        let mut trie = SubjectTrie::new();
        for (value, subject) in subjects.iter().enumerate() {
            trie.insert(subject, None, value).unwrap();
        }
        let mut listed: Vec<(usize, Vec<u8>)> = trie
            .subscriptions()
            .map(|found| (*found.value, found.subject))
            .collect();
        listed.sort();
        let want: Vec<(usize, Vec<u8>)> = subjects.into_iter().enumerate().collect();
        prop_assert_eq!(listed, want);
    }

    #[test]
    fn validation_agrees_with_the_rules_token_by_token(
        bytes in prop::collection::vec(
            prop_oneof![Just(b'a'), Just(b'.'), Just(b'*'), Just(b'>'), Just(b' '),
                        Just(b'\t'), Just(b'\x0c'), Just(b'\x00'), Just(0xff_u8)],
            0..8,
        ),
    ) {
        let tokens: Vec<&[u8]> = bytes.split(|byte| *byte == b'.').collect();
        let whitespace = |token: &[u8]| {
            token.iter().any(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
        };
        let last = tokens.len() - 1;
        let subscription = !bytes.is_empty()
            && tokens.iter().enumerate().all(|(index, token)| {
                !token.is_empty() && !whitespace(token) && (*token != b">" || index == last)
            });
        let publish = subscription && tokens.iter().all(|token| *token != b"*" && *token != b">");
        prop_assert_eq!(is_valid_subscription_subject(&bytes), subscription);
        prop_assert_eq!(is_valid_publish_subject(&bytes), publish);
    }
}
