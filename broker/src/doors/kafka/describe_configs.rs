//! DescribeConfigs (key 32), version 1 only: a topic's or broker's
//! configuration, with each entry's source and synonyms (the admin clients'
//! `describe_configs`).
//!
//! v1 is Kafka 4.0's lowest and the highest librdkafka sends; v3's config type
//! and documentation fields and v4's flexible form are not spoken (see
//! `docs/kafka.md`). Nothing here may read past the request.

use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// A resource type: a topic.
pub const RESOURCE_TYPE_TOPIC: i8 = 2;
/// A resource type: a broker (its name is the broker id, or empty for the
/// cluster-wide defaults).
pub const RESOURCE_TYPE_BROKER: i8 = 4;

/// A configuration's source: set on the topic.
pub const CONFIG_SOURCE_TOPIC: i8 = 1;
/// A configuration's source: the broker's configuration file.
pub const CONFIG_SOURCE_STATIC_BROKER: i8 = 4;
/// A configuration's source: the default, set nowhere.
pub const CONFIG_SOURCE_DEFAULT: i8 = 5;

/// One resource to describe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeConfigsResource {
    /// [`RESOURCE_TYPE_TOPIC`], [`RESOURCE_TYPE_BROKER`] or another Kafka type.
    pub resource_type: i8,
    /// The topic name or broker id.
    pub resource_name: String,
    /// The configuration names wanted, or null for all.
    pub configuration_keys: Option<Vec<String>>,
}

/// A DescribeConfigs request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeConfigsRequest {
    /// The resources.
    pub resources: Vec<DescribeConfigsResource>,
    /// Whether to list each entry's synonyms.
    pub include_synonyms: bool,
}

impl DescribeConfigsRequest {
    /// Reads the body of version 1.
    pub fn decode(reader: &mut Reader, _version: i16) -> Result<Self, DecodeError> {
        let resources = reader.array("the resources", 7, |reader| {
            let resource_type = reader.i8("a resource type")?;
            let resource_name = reader.string("a resource name")?;
            let configuration_keys =
                reader.nullable_array("the configuration keys", 2, |reader| {
                    reader.string("a configuration key")
                })?;
            reader.tagged_fields()?;
            Ok(DescribeConfigsResource {
                resource_type,
                resource_name,
                configuration_keys,
            })
        })?;
        let include_synonyms = reader.bool("include synonyms")?;
        reader.tagged_fields()?;
        Ok(DescribeConfigsRequest {
            resources,
            include_synonyms,
        })
    }

    /// Writes the body of version 1 (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.array_count(Some(self.resources.len()));
        for resource in &self.resources {
            writer.i8(resource.resource_type);
            writer.string(&resource.resource_name);
            let keys = resource.configuration_keys.as_ref();
            writer.array_count(keys.map(Vec::len));
            for key in keys.into_iter().flatten() {
                writer.string(key);
            }
            writer.tagged_fields();
        }
        writer.bool(self.include_synonyms);
        writer.tagged_fields();
    }
}

/// Another source of one configuration's value, in precedence order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeConfigsSynonym {
    /// The synonym's name, e.g. `log.retention.ms` for `retention.ms`.
    pub name: String,
    /// Its value (null if sensitive).
    pub value: Option<String>,
    /// Its source, e.g. [`CONFIG_SOURCE_STATIC_BROKER`].
    pub source: i8,
}

/// One configuration entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeConfigsEntry {
    /// The configuration name.
    pub name: String,
    /// Its value (null if sensitive).
    pub value: Option<String>,
    /// Whether it cannot be changed.
    pub read_only: bool,
    /// Where the value comes from, e.g. [`CONFIG_SOURCE_DEFAULT`].
    pub config_source: i8,
    /// Whether the value is secret.
    pub is_sensitive: bool,
    /// The synonyms (empty unless asked for).
    pub synonyms: Vec<DescribeConfigsSynonym>,
}

/// One resource's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeConfigsResult {
    /// The error, or none.
    pub error_code: ErrorCode,
    /// A message for the error.
    pub error_message: Option<String>,
    /// The resource type, as asked.
    pub resource_type: i8,
    /// The resource name, as asked.
    pub resource_name: String,
    /// The entries.
    pub configs: Vec<DescribeConfigsEntry>,
}

/// A DescribeConfigs response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribeConfigsResponse {
    /// Throttle time.
    pub throttle_time_ms: i32,
    /// One per resource asked.
    pub results: Vec<DescribeConfigsResult>,
}

impl DescribeConfigsResponse {
    /// Writes the body of version 1.
    pub fn encode(&self, writer: &mut Writer, _version: i16) {
        writer.i32(self.throttle_time_ms);
        writer.array_count(Some(self.results.len()));
        for result in &self.results {
            writer.i16(result.error_code.number());
            writer.nullable_string(result.error_message.as_deref());
            writer.i8(result.resource_type);
            writer.string(&result.resource_name);
            writer.array_count(Some(result.configs.len()));
            for config in &result.configs {
                writer.string(&config.name);
                writer.nullable_string(config.value.as_deref());
                writer.bool(config.read_only);
                writer.i8(config.config_source);
                writer.bool(config.is_sensitive);
                writer.array_count(Some(config.synonyms.len()));
                for synonym in &config.synonyms {
                    writer.string(&synonym.name);
                    writer.nullable_string(synonym.value.as_deref());
                    writer.i8(synonym.source);
                    writer.tagged_fields();
                }
                writer.tagged_fields();
            }
            writer.tagged_fields();
        }
        writer.tagged_fields();
    }
}
