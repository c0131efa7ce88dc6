//! NATS subjects: which subjects and queue group names are valid, and whether a
//! subject matches a subscription's wildcards, as nats-server 2.x decides.
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

mod filter;
mod validate;

pub use filter::subject_matches_filter;
pub use validate::{
    FULL_WILDCARD, SEPARATOR, SINGLE_WILDCARD, is_literal_subject, is_valid_publish_subject,
    is_valid_queue_name, is_valid_subscription_subject, is_wildcard,
};
