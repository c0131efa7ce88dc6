//! The two subject checks nats-server makes on a client's operations: a `SUB`'s
//! subject as its subscription list accepts it (`Sublist.Insert`), and a pedantic
//! client's publish subject (`IsValidLiteralSubject`), both in `server/sublist.go`.
//!
//! Nothing stricter: nats-server accepts spaces, control bytes and non-UTF-8 inside a
//! token here, so this must never refuse them.

/// Whether nats-server's subscription list accepts `subject`: tokens split at `.`,
/// none empty, and none after a `>` token.
pub fn is_valid_subscription_subject(subject: &[u8]) -> bool {
    let mut after_full_wildcard = false;
    for token in subject.split(|&byte| byte == b'.') {
        if token.is_empty() || after_full_wildcard {
            return false;
        }
        after_full_wildcard = token == b">";
    }
    true
}

/// Whether `subject` is a literal subject as nats-server checks it for a pedantic
/// client's `PUB`: tokens split at `.`, none empty, none exactly `*` or `>`.
pub fn is_valid_literal_subject(subject: &[u8]) -> bool {
    subject
        .split(|&byte| byte == b'.')
        .all(|token| !token.is_empty() && token != b"*" && token != b">")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_subjects() {
        for good in [
            &b"foo"[..],
            b"foo.bar",
            b"foo.*",
            b"*",
            b">",
            b"foo.>",
            b"a*b.>",
        ] {
            assert!(is_valid_subscription_subject(good), "{good:?}");
        }
        for bad in [
            &b""[..],
            b".",
            b"foo.",
            b".foo",
            b"foo..bar",
            b">.foo",
            b"a.>.b",
        ] {
            assert!(!is_valid_subscription_subject(bad), "{bad:?}");
        }
    }

    #[test]
    fn literal_subjects() {
        for good in [&b"foo"[..], b"foo.bar", b"a*b.c>", b"foo bar", b"\nfoo"] {
            assert!(is_valid_literal_subject(good), "{good:?}");
        }
        for bad in [
            &b""[..],
            b"foo.*",
            b"*",
            b">",
            b"foo.>",
            b"foo..bar",
            b"foo.",
        ] {
            assert!(!is_valid_literal_subject(bad), "{bad:?}");
        }
    }
}
