//! Topic names, checked as Kafka checks them (`Topic.validate`): 1 to 249
//! characters from `[a-zA-Z0-9._-]`, and neither `.` nor `..`. A name that passes
//! is safe as a directory name under `DATA/topics/`.
//!
//! The doors reuse [`validate_topic_name`] to refuse a bad name before it reaches the
//! store. This file must never touch the disk, and never accept a name that could
//! leave the topics directory (a `/`, `..`, an empty name).

/// The longest topic name Kafka accepts (249: a partition directory name adds a
/// dash and a number, and file names stop at 255 bytes).
pub const MAX_TOPIC_NAME_LENGTH: usize = 249;

/// Why a topic name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicNameError {
    /// The name is empty.
    #[error("a topic name cannot be empty")]
    Empty,
    /// `.` or `..`.
    #[error("a topic name cannot be \".\" or \"..\"")]
    Dots,
    /// Longer than 249 characters.
    #[error("a topic name can be at most {MAX_TOPIC_NAME_LENGTH} characters, not {0}")]
    TooLong(usize),
    /// A character outside `[a-zA-Z0-9._-]`.
    #[error(
        "a topic name may only hold ASCII letters, digits, '.', '_' and '-'; {character:?} at position {position} is not allowed"
    )]
    Character {
        /// The first character refused.
        character: char,
        /// Its position, in characters from 0.
        position: usize,
    },
}

/// Checks a topic name as Kafka does.
pub fn validate_topic_name(name: &str) -> Result<(), TopicNameError> {
    if name.is_empty() {
        return Err(TopicNameError::Empty);
    }
    if name == "." || name == ".." {
        return Err(TopicNameError::Dots);
    }
    let length = name.chars().count();
    if length > MAX_TOPIC_NAME_LENGTH {
        return Err(TopicNameError::TooLong(length));
    }
    match name
        .chars()
        .enumerate()
        .find(|(_, character)| !allowed(*character))
    {
        Some((position, character)) => Err(TopicNameError::Character {
            character,
            position,
        }),
        None => Ok(()),
    }
}

fn allowed(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafkas_valid_names_pass() {
        for name in [
            "valid", "TOPIC", "nAmEs", "ar6", "VaL1d", "_0-9_.", "...", "a",
        ] {
            assert_eq!(validate_topic_name(name), Ok(()), "{name}");
        }
        let longest = "x".repeat(MAX_TOPIC_NAME_LENGTH);
        assert_eq!(validate_topic_name(&longest), Ok(()));
    }

    #[test]
    fn kafkas_invalid_names_are_refused_with_the_reason() {
        assert_eq!(validate_topic_name(""), Err(TopicNameError::Empty));
        assert_eq!(validate_topic_name("."), Err(TopicNameError::Dots));
        assert_eq!(validate_topic_name(".."), Err(TopicNameError::Dots));
        assert_eq!(
            validate_topic_name(&"x".repeat(250)),
            Err(TopicNameError::TooLong(250))
        );
        for (name, character, position) in [
            ("../etc", '/', 2),
            ("a/b", '/', 1),
            ("with space", ' ', 4),
            ("Is~", '~', 2),
            ("ünïcode", 'ü', 0),
            ("nul\0", '\0', 3),
            ("back\\slash", '\\', 4),
        ] {
            assert_eq!(
                validate_topic_name(name),
                Err(TopicNameError::Character {
                    character,
                    position
                }),
                "{name:?}"
            );
        }
    }
}
