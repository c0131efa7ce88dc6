//! Criterion micro-benchmarks of the NATS subject trie: matching one literal subject
//! against 10, 10 000 and 1 000 000 subscriptions (literals, `*`, `>` and queue
//! groups). `cache_hit` matches one subject again and again (the cache answers);
//! `cache_miss` rotates through 4096 subjects, four times what the cache holds (each
//! match walks the trie, stores and evicts); `no_cache` and `no_cache_rotation` do
//! the same with the cache disabled (the walk alone).
//!
//! Run with `cargo bench -p sinew-broker --bench subjects`. This file must never be
//! run as a test with timing assertions: it only reports.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sinew_broker::subjects::{CacheLimits, SubjectTrie};
use std::hint::black_box;
use std::time::Duration;

/// Connection and subscription ids, as the core will store.
type Value = (u64, u64);

/// How many second tokens the subscriptions spread over.
const SPREAD: usize = 1000;

/// `count` subscriptions, in tens: seven literals `svc.A.B.evtK`, then
/// `svc.*.B.evt7`, `svc.A.*.evt8` and `svc.A.B.>` in one of four queue groups.
fn subscriptions(count: usize, limits: CacheLimits) -> SubjectTrie<Value> {
    let mut trie = SubjectTrie::with_cache_limits(limits);
    for index in 0..count {
        let kind = index % 10;
        let third = index / 10;
        let second = third % SPREAD;
        let (subject, queue) = match kind {
            0..=6 => (format!("svc.{second}.{third}.evt{kind}"), None),
            7 => (format!("svc.*.{third}.evt7"), None),
            8 => (format!("svc.{second}.*.evt8"), None),
            _ => (format!("svc.{second}.{third}.>"), Some(third % 4)),
        };
        let queue = queue.map(|group| format!("workers{group}"));
        let value = (index as u64 / 16, index as u64);
        if trie
            .insert(
                subject.as_bytes(),
                queue.as_deref().map(str::as_bytes),
                value,
            )
            .is_err()
        {
            unreachable!("the benchmark's subjects are valid");
        }
    }
    trie
}

/// A subject that meets a literal, `*`, `>` and the queue groups: `svc.A.B.evt8`.
fn subject(third: usize) -> Vec<u8> {
    format!("svc.{}.{third}.evt8", third % SPREAD).into_bytes()
}

fn matching(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("subjects_match");
    for count in [10, 10_000, 1_000_000] {
        let thirds = (count / 10).max(1);
        let target = subject(thirds / 2);
        // Four times more distinct subjects than the cache holds: each one misses.
        let rotation: Vec<Vec<u8>> = (0..4096).map(subject).collect();

        let mut trie = subscriptions(count, CacheLimits::default());
        println!(
            "{count} subscriptions, {} nodes: {} matches {} values (fanout {})",
            trie.node_count(),
            String::from_utf8_lossy(&target),
            trie.matches(&target).values(),
            trie.matches(&target).fanout(),
        );
        group.bench_with_input(BenchmarkId::new("cache_hit", count), &target, |b, s| {
            b.iter(|| trie.matches(black_box(s)).fanout());
        });
        let mut next = 0;
        group.bench_function(BenchmarkId::new("cache_miss", count), |b| {
            b.iter(|| {
                next = (next + 1) % rotation.len();
                rotation
                    .get(next)
                    .map(|s| trie.matches(black_box(s)).fanout())
            });
        });
        drop(trie);

        let mut trie = subscriptions(count, CacheLimits::DISABLED);
        group.bench_with_input(BenchmarkId::new("no_cache", count), &target, |b, s| {
            b.iter(|| trie.matches(black_box(s)).fanout());
        });
        group.bench_function(BenchmarkId::new("no_cache_rotation", count), |b| {
            b.iter(|| {
                next = (next + 1) % rotation.len();
                rotation
                    .get(next)
                    .map(|s| trie.matches(black_box(s)).fanout())
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = matching
}
criterion_main!(benches);
