//! What a topic is configured with, and how that survives restarts: the
//! `TopicConfig` an admin request gives, its file `topics/NAME/topic.json`, and the
//! `sinew_log::LogConfig` each of its partitions is opened with.
//!
//! The file format is versioned and strict (an unknown field is refused, so a newer
//! broker's setting is never silently dropped by an older one). This file must
//! never touch the disk itself (`catalog.rs` writes and reads the file through
//! `files.rs`) and never accept a configuration the log would refuse later.

use super::error::StoreError;
use crate::kafka::validate_topic_name;
use serde::{Deserialize, Serialize};
use sinew_log::{Compaction, FsyncPolicy, LogConfig};
use std::time::Duration;

/// The most partitions one topic may have.
pub const MAX_PARTITIONS: u32 = 10_000;
/// The name of a topic's metadata file, in its directory.
pub const TOPIC_FILE: &str = "topic.json";
/// The version of the metadata file this broker writes.
const FILE_VERSION: u32 = 1;

/// When a producer's request is acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Acks {
    /// No acknowledgement is wanted (Kafka's `acks=0`). The store still sends a
    /// completion, as soon as the records are written; a door need not pass it on.
    None,
    /// Once the records are in the operating system's cache: they survive the
    /// process being killed, not a power loss.
    Written,
    /// Once an fsync covered the records.
    #[default]
    Durable,
}

/// What consumers of a topic see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Only durable records (the default): a record a consumer saw survives any
    /// crash. Every partition written in a batch of requests is fsynced at the
    /// end of that batch.
    #[default]
    Durable,
    /// Records as soon as they are written; the partition is fsynced at this
    /// interval after its first unsynced append (or sooner, for a producer asking
    /// for `Acks::Durable`). A consumer may see a record that a power loss then
    /// takes away.
    Written {
        /// The longest a written record waits for its fsync.
        flush_interval: Duration,
    },
}

/// How a topic is set up: what an admin gives to create it, and what survives
/// restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// The topic's name (checked by [`validate_topic_name`]).
    pub name: String,
    /// How many partitions (1 to [`MAX_PARTITIONS`]); a topic can grow
    /// (`Request::CreatePartitions`), never shrink.
    pub partitions: u32,
    /// Segments whose newest record is older than this are deleted.
    pub retention_age: Option<Duration>,
    /// The oldest segments are deleted while a partition would still hold at least
    /// this many bytes without them.
    pub retention_bytes: Option<u64>,
    /// Keep only the newest record per key (records need keys).
    pub compaction: bool,
    /// The acknowledgement a produce request gets when it does not ask for one.
    pub acks: Acks,
    /// What consumers see.
    pub visibility: Visibility,
    /// The size at which a partition starts a new segment; `None` is the log's
    /// default (1 GiB).
    pub segment_bytes: Option<u64>,
}

impl TopicConfig {
    /// A topic with `partitions` partitions and every other setting at its default
    /// (kept forever, not compacted, durable acknowledgements, durable visibility).
    pub fn new(name: impl Into<String>, partitions: u32) -> TopicConfig {
        TopicConfig {
            name: name.into(),
            partitions,
            retention_age: None,
            retention_bytes: None,
            compaction: false,
            acks: Acks::Durable,
            visibility: Visibility::Durable,
            segment_bytes: None,
        }
    }

    /// Refuses a configuration the store or the log cannot run with.
    pub fn validate(&self) -> Result<(), StoreError> {
        validate_topic_name(&self.name).map_err(|reason| StoreError::InvalidTopicName {
            name: self.name.clone(),
            reason,
        })?;
        let invalid = |reason: String| {
            Err(StoreError::InvalidConfig {
                topic: self.name.clone(),
                reason,
            })
        };
        if self.partitions == 0 || self.partitions > MAX_PARTITIONS {
            return invalid(format!(
                "a topic needs 1 to {MAX_PARTITIONS} partitions, not {}",
                self.partitions
            ));
        }
        if let Visibility::Written { flush_interval } = self.visibility
            && (flush_interval.is_zero() || milliseconds(flush_interval).is_none())
        {
            return invalid("the flush interval must be between 1 ms and 2^63 ms".to_owned());
        }
        if self
            .retention_age
            .is_some_and(|age| milliseconds(age).is_none())
        {
            return invalid("the retention age is too long".to_owned());
        }
        if let Err(error) = self.log_config().validate() {
            return invalid(error.to_string());
        }
        Ok(())
    }

    /// The settings each partition's log is opened with. The store syncs and cleans
    /// the logs itself, so no log starts a thread.
    pub fn log_config(&self) -> LogConfig {
        let defaults = LogConfig::default();
        LogConfig {
            segment_bytes: self.segment_bytes.unwrap_or(defaults.segment_bytes),
            fsync: match self.visibility {
                Visibility::Durable => FsyncPolicy::Always,
                Visibility::Written { flush_interval } => FsyncPolicy::Interval(flush_interval),
            },
            retention_age: self.retention_age,
            retention_bytes: self.retention_bytes,
            compaction: self.compaction.then(Compaction::default),
            cleaner_interval: None,
            ..defaults
        }
    }

    /// The metadata file's contents.
    pub(crate) fn to_file(&self) -> Vec<u8> {
        let file = TopicFile {
            version: FILE_VERSION,
            name: self.name.clone(),
            partitions: self.partitions,
            retention_ms: self.retention_age.and_then(milliseconds),
            retention_bytes: self.retention_bytes,
            compaction: self.compaction,
            acks: match self.acks {
                Acks::None => "none",
                Acks::Written => "written",
                Acks::Durable => "durable",
            }
            .to_owned(),
            flush_interval_ms: match self.visibility {
                Visibility::Durable => None,
                Visibility::Written { flush_interval } => milliseconds(flush_interval),
            },
            segment_bytes: self.segment_bytes,
        };
        // Serializing plain fields into a Vec cannot fail; an empty file would be
        // refused on the next open rather than misread.
        serde_json::to_vec_pretty(&file).unwrap_or_default()
    }

    /// Reads a metadata file's contents; the error says what is wrong.
    pub(crate) fn from_file(bytes: &[u8]) -> Result<TopicConfig, String> {
        let file: TopicFile = serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
        if file.version != FILE_VERSION {
            return Err(format!(
                "version {} of the topic file is not one this broker reads ({FILE_VERSION})",
                file.version
            ));
        }
        let acks = match file.acks.as_str() {
            "none" => Acks::None,
            "written" => Acks::Written,
            "durable" => Acks::Durable,
            other => return Err(format!("unknown acknowledgement policy {other:?}")),
        };
        Ok(TopicConfig {
            name: file.name,
            partitions: file.partitions,
            retention_age: file.retention_ms.map(Duration::from_millis),
            retention_bytes: file.retention_bytes,
            compaction: file.compaction,
            acks,
            visibility: match file.flush_interval_ms {
                None => Visibility::Durable,
                Some(ms) => Visibility::Written {
                    flush_interval: Duration::from_millis(ms),
                },
            },
            segment_bytes: file.segment_bytes,
        })
    }
}

fn milliseconds(duration: Duration) -> Option<u64> {
    u64::try_from(duration.as_millis())
        .ok()
        .filter(|ms| *ms <= i64::MAX as u64)
}

/// `topic.json`, field by field.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicFile {
    version: u32,
    name: String,
    partitions: u32,
    #[serde(default)]
    retention_ms: Option<u64>,
    #[serde(default)]
    retention_bytes: Option<u64>,
    #[serde(default)]
    compaction: bool,
    acks: String,
    /// Absent: consumers see durable records only.
    #[serde(default)]
    flush_interval_ms: Option<u64>,
    #[serde(default)]
    segment_bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_every_setting() {
        let config = TopicConfig {
            retention_age: Some(Duration::from_secs(3600)),
            retention_bytes: Some(1 << 30),
            compaction: true,
            acks: Acks::Written,
            visibility: Visibility::Written {
                flush_interval: Duration::from_millis(250),
            },
            segment_bytes: Some(1 << 20),
            ..TopicConfig::new("orders", 3)
        };
        assert_eq!(TopicConfig::from_file(&config.to_file()), Ok(config));
        let plain = TopicConfig::new("plain", 1);
        assert_eq!(TopicConfig::from_file(&plain.to_file()), Ok(plain));
    }

    #[test]
    fn unknown_fields_versions_and_policies_are_refused() {
        let text = br#"{"version":1,"name":"a","partitions":1,"acks":"durable","colour":"red"}"#;
        assert!(TopicConfig::from_file(text).unwrap_err().contains("colour"));
        let text = br#"{"version":9,"name":"a","partitions":1,"acks":"durable"}"#;
        assert!(
            TopicConfig::from_file(text)
                .unwrap_err()
                .contains("version 9")
        );
        let text = br#"{"version":1,"name":"a","partitions":1,"acks":"maybe"}"#;
        assert!(TopicConfig::from_file(text).unwrap_err().contains("maybe"));
        assert!(TopicConfig::from_file(b"").is_err());
    }

    #[test]
    fn impossible_configurations_are_refused() {
        assert!(TopicConfig::new("ok", 1).validate().is_ok());
        for bad in [
            TopicConfig::new("ok", 0),
            TopicConfig::new("ok", MAX_PARTITIONS + 1),
            TopicConfig::new("bad/name", 1),
            TopicConfig {
                segment_bytes: Some(10),
                ..TopicConfig::new("ok", 1)
            },
            TopicConfig {
                visibility: Visibility::Written {
                    flush_interval: Duration::ZERO,
                },
                ..TopicConfig::new("ok", 1)
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
