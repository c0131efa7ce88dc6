//! Which subjects and queue group names a client may use, byte for byte as
//! nats-server 2.x decides (its `server/sublist.go` and `server/client.go`).
//!
//! These checks are pure functions of the bytes: they never allocate, never look
//! anything up and never panic, so a door can run them on anything a peer sent.
//!
//! The rules, and the nats-server function each follows:
//!
//! - A subject is one or more tokens separated by `.`; no token is empty, so the
//!   empty subject, a leading or trailing `.` and `..` are all invalid
//!   (`isValidSubject`).
//! - No token contains a space, `\t`, `\n`, `\r` or `\f` (`isValidSubject`, with
//!   `checkRunes` false as `IsValidSubject` calls it). Other bytes pass, as they do in
//!   nats-server: other control bytes (NUL, `\x0b`, DEL), and bytes that are not
//!   UTF-8.
//! - A wildcard is a whole token: `*` matches one token, `>` one or more tokens and
//!   may only be the last token (`isValidSubject`, `Sublist.Insert`). A token that
//!   merely contains `*` or `>`, such as `a*b` or `>>`, is a literal token.
//! - A publish subject is a valid subject with no wildcard token
//!   (`IsValidPublishSubject`, which is `IsValidSubject && subjectIsLiteral`).
//! - A queue group name is any non-empty run of bytes without the separators that
//!   split a `SUB` line's arguments: space, `\t`, `\r` and `\n` (`splitArg`, which
//!   `parseSub` uses; nats-server checks nothing else, so `.`, `*` and `>` may appear
//!   in a queue group name). nats-server also reserves the name `_sys_` for its own
//!   clients, as a permission (`processSubEx`); that is the core's decision, not a
//!   syntax rule, so it is not refused here.
//!
//! One difference on the wire: nats-server's parser splits `SUB` arguments on space,
//! `\t`, `\r` and `\n` only and `Sublist.Insert` checks no whitespace, so nats-server
//! accepts a subscription subject holding `\f`; `IsValidSubject` (used for
//! permissions and mappings) refuses it, and so does this module.

/// The byte that separates the tokens of a subject.
pub const SEPARATOR: u8 = b'.';

/// The token that matches exactly one token.
pub const SINGLE_WILDCARD: &[u8] = b"*";

/// The token that matches one or more tokens, only as a subject's last token.
pub const FULL_WILDCARD: &[u8] = b">";

/// Whether `subject` is a valid subscription subject: non-empty tokens, no
/// whitespace, `*` only as a whole token and `>` only as the whole last token.
///
/// Follows nats-server's `IsValidSubject`.
pub fn is_valid_subscription_subject(subject: &[u8]) -> bool {
    is_valid_subject(subject, true)
}

/// Whether `subject` is a valid publish subject: a valid subject with no wildcard
/// token, so that it names exactly one subject.
///
/// Follows nats-server's `IsValidPublishSubject`.
pub fn is_valid_publish_subject(subject: &[u8]) -> bool {
    is_valid_subject(subject, false)
}

/// `isValidSubject`, and with `wildcards` false `subjectIsLiteral` too, in one pass.
fn is_valid_subject(subject: &[u8], wildcards: bool) -> bool {
    if subject.is_empty() {
        return false;
    }
    let mut after_full_wildcard = false;
    for token in subject.split(|byte| *byte == SEPARATOR) {
        if token.is_empty() || after_full_wildcard {
            return false;
        }
        if token.iter().any(|byte| is_subject_whitespace(*byte)) {
            return false;
        }
        if is_wildcard(token) && !wildcards {
            return false;
        }
        after_full_wildcard = token == FULL_WILDCARD;
    }
    true
}

/// Whether `queue` is a valid queue group name: non-empty, with no space, `\t`,
/// `\r` or `\n`.
///
/// Follows what nats-server's `splitArg` lets through as a `SUB` argument.
pub fn is_valid_queue_name(queue: &[u8]) -> bool {
    !queue.is_empty()
        && !queue
            .iter()
            .any(|byte| matches!(*byte, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Whether no token of `subject` is a wildcard. Says nothing else about validity.
///
/// Follows nats-server's `subjectIsLiteral`.
pub fn is_literal_subject(subject: &[u8]) -> bool {
    subject
        .split(|byte| *byte == SEPARATOR)
        .all(|token| !is_wildcard(token))
}

/// Whether `token` is `*` or `>`.
pub fn is_wildcard(token: &[u8]) -> bool {
    token == SINGLE_WILDCARD || token == FULL_WILDCARD
}

/// The bytes nats-server's `isValidSubject` refuses inside a token.
fn is_subject_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(subject: &[u8]) -> (bool, bool) {
        (
            is_valid_subscription_subject(subject),
            is_valid_publish_subject(subject),
        )
    }

    #[test]
    fn plain_subjects_are_valid_for_both() {
        for subject in [
            &b"foo"[..],
            b"foo.bar",
            b"a.b.c.d.e",
            b"FOO.bar-baz_1",
            b"$SYS.REQ",
        ] {
            assert_eq!(both(subject), (true, true), "{subject:?}");
        }
    }

    #[test]
    fn empty_subject_is_invalid() {
        assert_eq!(both(b""), (false, false));
    }

    #[test]
    fn empty_tokens_are_invalid() {
        for subject in [
            &b"."[..],
            b"..",
            b".foo",
            b"foo.",
            b"foo..bar",
            b"foo.bar.",
            b".>",
        ] {
            assert_eq!(both(subject), (false, false), "{subject:?}");
        }
    }

    #[test]
    fn whitespace_in_any_token_is_invalid() {
        for subject in [
            &b"foo bar"[..],
            b"foo\tbar",
            b"foo\nbar",
            b"foo\rbar",
            b"foo\x0cbar",
            b" ",
            b"\t",
            b"foo. ",
            b"foo.\t.bar",
            b"foo.bar\r",
        ] {
            assert_eq!(both(subject), (false, false), "{subject:?}");
        }
    }

    #[test]
    fn other_control_and_non_utf8_bytes_pass_as_in_nats_server() {
        for subject in [
            &b"foo\x00bar"[..],
            b"foo\x0bbar",
            b"\x7f",
            b"foo.\xff\xfe",
            "s\u{fc}d.b".as_bytes(),
        ] {
            assert_eq!(both(subject), (true, true), "{subject:?}");
        }
    }

    #[test]
    fn single_wildcard_only_as_a_whole_token() {
        for subject in [
            &b"*"[..],
            b"foo.*",
            b"*.bar",
            b"foo.*.bar",
            b"*.*.*",
            b"*.>",
        ] {
            assert_eq!(both(subject), (true, false), "{subject:?}");
        }
        // Inside a longer token it is a literal byte.
        for subject in [&b"a*b"[..], b"foo.*bar", b"foo.bar*", b"**", b"foo.**.bar"] {
            assert_eq!(both(subject), (true, true), "{subject:?}");
        }
    }

    #[test]
    fn full_wildcard_only_as_the_whole_last_token() {
        for subject in [&b">"[..], b"foo.>", b"foo.*.>"] {
            assert_eq!(both(subject), (true, false), "{subject:?}");
        }
        for subject in [&b">.foo"[..], b"foo.>.bar", b">.>", b"foo.>.*", b"foo.>."] {
            assert_eq!(both(subject), (false, false), "{subject:?}");
        }
        // Inside a longer token it is a literal byte, wherever the token is.
        for subject in [&b"a>"[..], b">>", b"foo.>bar.baz", b"foo.bar>"] {
            assert_eq!(both(subject), (true, true), "{subject:?}");
        }
    }

    #[test]
    fn queue_names() {
        for queue in [
            &b"workers"[..],
            b"q.1",
            b"*",
            b">",
            b"_sys_",
            b"a\x0cb",
            b"\x00",
        ] {
            assert!(is_valid_queue_name(queue), "{queue:?}");
        }
        for queue in [
            &b""[..],
            b" ",
            b"a b",
            b"a\tb",
            b"a\rb",
            b"a\nb",
            b"workers ",
        ] {
            assert!(!is_valid_queue_name(queue), "{queue:?}");
        }
    }

    #[test]
    fn literal_subjects() {
        assert!(is_literal_subject(b"foo.bar"));
        assert!(is_literal_subject(b"a*b.c>"));
        assert!(!is_literal_subject(b"foo.*"));
        assert!(!is_literal_subject(b">"));
        assert!(is_wildcard(b"*") && is_wildcard(b">"));
        assert!(!is_wildcard(b"**") && !is_wildcard(b""));
    }
}
