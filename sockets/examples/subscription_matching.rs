//! Micro-benchmark of the subscription trie: the cost of matching one topic with
//! 10, 10 000 and 1 000 000 subscriptions, against a naive scan of every prefix.
//!
//! ```text
//! cargo run --release -p sinew --example subscription_matching
//! ```
//!
//! Each subscription is `prices.<n>.` (n in seven digits), held by one of 64
//! pipes; each topic is `prices.<random n>.quote` (one match) or `trades.<random
//! n>` (none), so every topic has the same length. "warm hit" matches one topic
//! over and over: the walk itself, with the trie in cache. "trie hit" matches
//! random topics: in a large trie each step down is a likely cache miss, so it
//! grows with the trie's depth (at most the topic's length), not with the number
//! of subscriptions as the naive scan does. This is a benchmark, not a test: it
//! asserts only that both matchers agree, never a time.

use bytes::Bytes;
use sinew::routing::subscriptions::{PeerSubscriptions, SubscriptionLimit};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A small xorshift generator, so runs are repeatable without a dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Runs `work` on batches of topics until about `budget` has passed; returns the
/// time per call.
fn time_per_call(
    budget: Duration,
    topics: &[Vec<u8>],
    mut work: impl FnMut(&[u8]) -> usize,
) -> Duration {
    let mut calls = 0u32;
    let mut found = 0usize;
    let started = Instant::now();
    while started.elapsed() < budget {
        for topic in topics {
            found += work(black_box(topic));
            calls += 1;
        }
    }
    black_box(found);
    started.elapsed() / calls.max(1)
}

fn main() {
    const PIPES: u64 = 64;
    const TOPICS: usize = 1000;
    println!(
        "{:>13} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "subscriptions", "trie hit", "warm hit", "trie miss", "naive hit", "build"
    );
    for count in [10u64, 10_000, 1_000_000] {
        let mut random = Random(0x9E37_79B9_7F4A_7C15);
        let started = Instant::now();
        let mut subscriptions = PeerSubscriptions::new();
        // The trie alone: no per-peer limit.
        subscriptions.set_limit(SubscriptionLimit::NONE);
        let mut naive: Vec<(Bytes, u64)> = Vec::with_capacity(count as usize);
        for index in 0..count {
            let prefix = Bytes::from(format!("prices.{index:07}."));
            let pipe = random.below(PIPES);
            subscriptions.add(&prefix, pipe);
            naive.push((prefix, pipe));
        }
        let build = started.elapsed();
        let hits: Vec<Vec<u8>> = (0..TOPICS)
            .map(|_| format!("prices.{:07}.quote", random.below(count)).into_bytes())
            .collect();
        let misses: Vec<Vec<u8>> = (0..TOPICS)
            .map(|_| format!("trades.{:07}", random.below(count)).into_bytes())
            .collect();
        let trie = |topic: &[u8]| {
            let mut found = 0;
            subscriptions.for_each_match(topic, |pipe| found += pipe as usize + 1);
            found
        };
        let scan = |topic: &[u8]| {
            naive
                .iter()
                .filter(|(prefix, _)| topic.starts_with(prefix))
                .map(|&(_, pipe)| pipe as usize + 1)
                .sum()
        };
        for topic in hits.iter().take(50) {
            assert_eq!(trie(topic), scan(topic), "the trie and the scan agree");
        }
        let budget = Duration::from_millis(500);
        let trie_hit = time_per_call(budget, &hits, trie);
        let warm = vec![hits[0].clone(); TOPICS];
        let warm_hit = time_per_call(budget, &warm, trie);
        let trie_miss = time_per_call(budget, &misses, trie);
        // The scan over a million prefixes takes milliseconds: a few topics do.
        let scan_topics = if count > 10_000 {
            &hits[..5]
        } else {
            &hits[..]
        };
        let naive_hit = time_per_call(budget, scan_topics, scan);
        println!(
            "{count:>13} {:>10?} {:>10?} {:>10?} {:>12?} {:>12?}",
            trie_hit, warm_hit, trie_miss, naive_hit, build
        );
    }
}
