//! Whether one literal subject matches one subscription subject (a filter), token by
//! token, as nats-server's `SubjectMatchesFilter` decides.
//!
//! This is the one-pair check the cache uses to find the entries a new or removed
//! subscription changes; it never walks the trie, allocates or recurses.

use super::validate::{FULL_WILDCARD, SEPARATOR, SINGLE_WILDCARD};

/// Whether the literal `subject` matches `filter`: token for token, `*` in the
/// filter matches any one token and a last `>` matches one or more tokens.
///
/// Both are taken as given: a wildcard token in `subject` is compared as a literal,
/// and a `>` that is not last in `filter` still ends the comparison there.
pub fn subject_matches_filter(subject: &[u8], filter: &[u8]) -> bool {
    let mut subject_tokens = subject.split(|byte| *byte == SEPARATOR);
    let mut filter_tokens = filter.split(|byte| *byte == SEPARATOR);
    loop {
        match (filter_tokens.next(), subject_tokens.next()) {
            (None, None) => return true,
            (Some(token), Some(_)) if token == FULL_WILDCARD => return true,
            (Some(token), Some(_)) if token == SINGLE_WILDCARD => {}
            (Some(token), Some(literal)) if token == literal => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subject_matches_filter;

    #[test]
    fn literals_match_only_themselves() {
        assert!(subject_matches_filter(b"foo.bar", b"foo.bar"));
        assert!(!subject_matches_filter(b"foo.bar", b"foo.baz"));
        assert!(!subject_matches_filter(b"foo.bar", b"foo"));
        assert!(!subject_matches_filter(b"foo", b"foo.bar"));
    }

    #[test]
    fn single_wildcard_matches_exactly_one_token() {
        assert!(subject_matches_filter(b"foo.bar", b"foo.*"));
        assert!(subject_matches_filter(b"foo.bar", b"*.bar"));
        assert!(subject_matches_filter(b"foo.bar", b"*.*"));
        assert!(!subject_matches_filter(b"foo", b"foo.*"));
        assert!(!subject_matches_filter(b"foo.bar.baz", b"foo.*"));
    }

    #[test]
    fn full_wildcard_matches_one_or_more_tokens() {
        assert!(subject_matches_filter(b"foo.bar", b"foo.>"));
        assert!(subject_matches_filter(b"foo.bar.baz", b"foo.>"));
        assert!(subject_matches_filter(b"foo", b">"));
        assert!(!subject_matches_filter(b"foo", b"foo.>"));
        assert!(subject_matches_filter(b"a.b.c", b"*.>"));
        assert!(!subject_matches_filter(b"a", b"*.>"));
    }

    #[test]
    fn tokens_containing_wildcard_bytes_are_literals() {
        assert!(!subject_matches_filter(b"foo.bar", b"foo.b*"));
        assert!(subject_matches_filter(b"foo.b*", b"foo.b*"));
        assert!(!subject_matches_filter(b"foo.bar", b"foo.>>"));
    }
}
