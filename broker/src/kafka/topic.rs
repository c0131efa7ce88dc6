//! Topic names, checked by Kafka's rules (`org.apache.kafka.common.internals.Topic`):
//! 1 to 249 characters from `[a-zA-Z0-9._-]`, and neither `.` nor `..`.
//!
//! A [`TopicName`] is checked once, when it is made, and shares the bytes it was
//! made from. This module must never accept a name Kafka refuses, or refuse one it
//! accepts.

use std::fmt;

use bytes::Bytes;

/// The longest topic name, in bytes (Kafka's `Topic.MAX_NAME_LENGTH`).
pub const MAX_TOPIC_NAME_BYTES: usize = 249;

/// Why a topic name is refused; the texts are Kafka's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTopicName {
    /// No characters.
    #[error("Topic name is illegal, it can't be empty")]
    Empty,
    /// `.` or `..`.
    #[error("Topic name cannot be \".\" or \"..\"")]
    Dots,
    /// Longer than [`MAX_TOPIC_NAME_BYTES`].
    #[error("Topic name is illegal, it can't be longer than 249 characters ({0} bytes)")]
    TooLong(usize),
    /// A byte outside `[a-zA-Z0-9._-]` (the name shown escaped, cut to 64 bytes).
    #[error(
        "Topic name \"{0}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
    )]
    IllegalCharacter(String),
}

/// Checks `name` by Kafka's rules.
pub fn check_topic_name(name: &[u8]) -> Result<(), InvalidTopicName> {
    if name.is_empty() {
        return Err(InvalidTopicName::Empty);
    }
    if name == b"." || name == b".." {
        return Err(InvalidTopicName::Dots);
    }
    if name.len() > MAX_TOPIC_NAME_BYTES {
        return Err(InvalidTopicName::TooLong(name.len()));
    }
    let legal = |byte: &u8| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-');
    if !name.iter().all(legal) {
        let shown = name.get(..64).unwrap_or(name);
        return Err(InvalidTopicName::IllegalCharacter(
            shown.escape_ascii().to_string(),
        ));
    }
    Ok(())
}

/// Checks a topic name given as text (the store's and the command line's form).
pub fn validate_topic_name(name: &str) -> Result<(), InvalidTopicName> {
    check_topic_name(name.as_bytes())
}

/// A topic name that passed [`check_topic_name`]; its bytes are ASCII.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(Bytes);

impl TopicName {
    /// Checks `name` and keeps it (without copying a `Bytes`).
    pub fn new(name: impl Into<Bytes>) -> Result<TopicName, InvalidTopicName> {
        let name = name.into();
        check_topic_name(&name)?;
        Ok(TopicName(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        // Checked ASCII when made, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The name's bytes, shared.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

impl fmt::Debug for TopicName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafkas_legal_names_pass() {
        // Kafka's TopicTest.shouldAcceptValidTopicNames, plus the edges.
        let longest = "x".repeat(249);
        for name in [
            "valid",
            "TOPIC",
            "nAmEs",
            "ar6",
            "VaL1d",
            "_0-9_.",
            longest.as_str(),
        ] {
            assert_eq!(check_topic_name(name.as_bytes()), Ok(()), "{name}");
            assert_eq!(TopicName::new(name.to_owned()).unwrap().as_str(), name);
        }
        assert_eq!(check_topic_name(b"..."), Ok(()));
    }

    #[test]
    fn kafkas_illegal_names_fail() {
        assert_eq!(check_topic_name(b""), Err(InvalidTopicName::Empty));
        assert_eq!(check_topic_name(b"."), Err(InvalidTopicName::Dots));
        assert_eq!(check_topic_name(b".."), Err(InvalidTopicName::Dots));
        let long = "x".repeat(250);
        assert_eq!(
            check_topic_name(long.as_bytes()),
            Err(InvalidTopicName::TooLong(250))
        );
        // Kafka's TopicTest.shouldThrowOnInvalidTopicNames.
        for name in [
            "foo bar", "..\u{1}", "foo:bar", "foo=bar", "a/b", "é", "a\0",
        ] {
            assert!(
                matches!(
                    check_topic_name(name.as_bytes()),
                    Err(InvalidTopicName::IllegalCharacter(_))
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn the_message_is_kafkas_and_escaped() {
        let error = check_topic_name(b"a b\xff").unwrap_err();
        assert_eq!(
            error.to_string(),
            "Topic name \"a b\\xff\" is illegal, it contains a character other than ASCII \
             alphanumerics, '.', '_' and '-'"
        );
    }

    #[test]
    fn names_the_store_refused_are_refused_here_too() {
        for name in [
            "valid", "TOPIC", "nAmEs", "ar6", "VaL1d", "_0-9_.", "...", "a",
        ] {
            assert_eq!(validate_topic_name(name), Ok(()), "{name}");
        }
        assert_eq!(
            validate_topic_name(&"x".repeat(MAX_TOPIC_NAME_BYTES)),
            Ok(())
        );
        assert_eq!(validate_topic_name(""), Err(InvalidTopicName::Empty));
        assert_eq!(validate_topic_name(".."), Err(InvalidTopicName::Dots));
        assert_eq!(
            validate_topic_name(&"x".repeat(250)),
            Err(InvalidTopicName::TooLong(250))
        );
        for name in [
            "../etc",
            "a/b",
            "with space",
            "Is~",
            "ünïcode",
            "nul\0",
            "back\\slash",
        ] {
            assert!(
                matches!(
                    validate_topic_name(name),
                    Err(InvalidTopicName::IllegalCharacter(_))
                ),
                "{name:?}"
            );
        }
    }
}
