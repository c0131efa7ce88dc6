//! Criterion micro-benchmarks of the subscription trie as PUB and SUB use it:
//! matching a topic against many subscribed prefixes (a hit on a few prefixes, and
//! a miss), per match.
//!
//! Run with `cargo bench -p sinew --bench subscriptions`. This file must never be
//! run as a test with timing assertions: it only reports.

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sinew::routing::subscriptions::{LocalSubscriptions, PeerSubscriptions, SubscriptionLimit};
use std::hint::black_box;
use std::time::Duration;

/// Prefixes like `market.eu.0042.`, spread over `pipes` subscribers, plus the
/// short prefixes `market.` and `market.eu.` on pipe 1.
fn peer_subscriptions(prefixes: usize, pipes: u64) -> PeerSubscriptions {
    let mut subscriptions = PeerSubscriptions::new();
    // The trie alone: no per-peer limit.
    subscriptions.set_limit(SubscriptionLimit::NONE);
    for index in 0..prefixes {
        let prefix = Bytes::from(format!("market.eu.{index:04}."));
        subscriptions.add(&prefix, index as u64 % pipes + 1);
    }
    subscriptions.add(&Bytes::from_static(b"market."), 1);
    subscriptions.add(&Bytes::from_static(b"market.eu."), 1);
    subscriptions
}

fn publish_side(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("subscriptions_peer_match");
    for prefixes in [10, 1000, 100_000] {
        let subscriptions = peer_subscriptions(prefixes, 16);
        let hit = format!("market.eu.{:04}.price=101.5", prefixes / 2).into_bytes();
        let miss = b"weather.eu.0042.temperature=12".to_vec();
        for (name, topic) in [("hit", hit), ("miss", miss)] {
            group.bench_with_input(
                BenchmarkId::new(name, prefixes),
                &topic,
                |bencher, topic| {
                    bencher.iter(|| {
                        let mut matched = 0u64;
                        subscriptions.for_each_match(black_box(topic), |pipe| matched += pipe);
                        matched
                    });
                },
            );
        }
    }
    group.finish();
}

fn subscribe_side(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("subscriptions_local_match");
    for prefixes in [10, 1000, 100_000] {
        let mut subscriptions = LocalSubscriptions::new();
        for index in 0..prefixes {
            subscriptions.add(format!("market.eu.{index:04}.").as_bytes());
        }
        let hit = format!("market.eu.{:04}.price=101.5", prefixes / 2).into_bytes();
        let miss = b"weather.eu.0042.temperature=12".to_vec();
        for (name, topic) in [("hit", hit), ("miss", miss)] {
            group.bench_with_input(
                BenchmarkId::new(name, prefixes),
                &topic,
                |bencher, topic| bencher.iter(|| subscriptions.matches(black_box(topic))),
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = publish_side, subscribe_side
}
criterion_main!(benches);
