//! NATS subjects: validation, the token trie with `*` and `>` wildcards and queue
//! groups, and a bounded match cache in front of it, as nats-server 2.x routes
//! published messages.
//!
//! A door validates what a client sent ([`is_valid_publish_subject`],
//! [`is_valid_subscription_subject`], [`is_valid_queue_name`]); the core inserts and
//! removes subscriptions in a [`SubjectTrie`] and asks it, per published message,
//! for the [`Matches`]: every plain subscriber, and the members of each queue group
//! (of which the core picks one).
//!
//! This module is sans-IO and single-threaded: it never touches a socket, a thread,
//! a clock or a random source, never recurses on anything a client chose, and never
//! panics on anything a client sent.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod cache;
mod children;
mod filter;
mod matches;
mod node;
mod statistics;
mod trie;
mod validate;
mod walk;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod trie_tests;

pub use cache::CacheLimits;
pub use filter::subject_matches_filter;
pub use matches::{Matches, QueueGroupMatches};
pub use statistics::{Statistics, Subscription};
pub use trie::{InvalidSubject, SubjectTrie, SubscriptionKey};
pub use validate::{
    FULL_WILDCARD, SEPARATOR, SINGLE_WILDCARD, is_literal_subject, is_valid_publish_subject,
    is_valid_queue_name, is_valid_subscription_subject, is_wildcard,
};
