//! ApiVersions (key 18): the first request of every client, answered with the
//! version ranges of [`super::api::SUPPORTED`].
//!
//! Its response header is always v0, and a version the door does not know is
//! still answered (error 35 in a v0 body listing ApiVersions' own range), so a
//! newer client can retry lower; a client decodes an answer carrying an error
//! as version 0 for the same reason. Nothing here may read past the message.

use super::api::{ApiKey, SUPPORTED};
use super::error_code::ErrorCode;
use super::wire::{DecodeError, Reader};
use super::writer::Writer;

/// An ApiVersions request; the software fields exist from v3.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiVersionsRequest {
    /// The client's software name (v3+), e.g. `librdkafka`, `kafka-python`.
    pub client_software_name: Option<String>,
    /// The client's software version (v3+).
    pub client_software_version: Option<String>,
}

impl ApiVersionsRequest {
    /// Reads the body of `version`.
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        if version < 3 {
            return Ok(ApiVersionsRequest::default());
        }
        let client_software_name = Some(reader.string("the client software name")?);
        let client_software_version = Some(reader.string("the client software version")?);
        reader.tagged_fields()?;
        Ok(ApiVersionsRequest {
            client_software_name,
            client_software_version,
        })
    }

    /// Writes the body of `version` (a client's side, and the tests').
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        if version < 3 {
            return;
        }
        writer.string(self.client_software_name.as_deref().unwrap_or(""));
        writer.string(self.client_software_version.as_deref().unwrap_or(""));
        writer.tagged_fields();
    }
}

/// One row of the answer: an API and its version range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiVersionRange {
    /// Kafka's api key.
    pub api_key: i16,
    /// Lowest version.
    pub min_version: i16,
    /// Highest version.
    pub max_version: i16,
}

/// An ApiVersions response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    /// 0, or 35 for a request version the door does not know.
    pub error_code: ErrorCode,
    /// The APIs and their ranges.
    pub api_keys: Vec<ApiVersionRange>,
    /// Throttle time (v1+).
    pub throttle_time_ms: i32,
}

impl ApiVersionsResponse {
    /// The door's answer: every API of [`SUPPORTED`] with its range.
    pub fn supported() -> ApiVersionsResponse {
        ApiVersionsResponse {
            error_code: ErrorCode::None,
            api_keys: SUPPORTED
                .iter()
                .map(|range| ApiVersionRange {
                    api_key: range.key.number(),
                    min_version: range.min,
                    max_version: range.max,
                })
                .collect(),
            throttle_time_ms: 0,
        }
    }

    /// Kafka's answer to an ApiVersions version it does not know: error 35 and
    /// ApiVersions' own range, to be encoded as version 0.
    pub fn unsupported_version() -> ApiVersionsResponse {
        let range = ApiKey::ApiVersions.range();
        ApiVersionsResponse {
            error_code: ErrorCode::UnsupportedVersion,
            api_keys: vec![ApiVersionRange {
                api_key: ApiKey::ApiVersions.number(),
                min_version: range.min,
                max_version: range.max,
            }],
            throttle_time_ms: 0,
        }
    }

    /// Reads the body of `version` (a client's side): an answer carrying an
    /// error is read as version 0, as the door and Kafka write it (KIP-511).
    pub fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError> {
        let error_code = reader.error_code("the error code")?;
        let version = if error_code == ErrorCode::None {
            version
        } else {
            reader.set_flexible(false);
            0
        };
        // An entry is three int16s (and its tagged fields when flexible).
        let api_keys = reader.array("the api keys", 6, |reader| {
            let range = ApiVersionRange {
                api_key: reader.i16("an api key")?,
                min_version: reader.i16("a min version")?,
                max_version: reader.i16("a max version")?,
            };
            reader.tagged_fields()?;
            Ok(range)
        })?;
        let throttle_time_ms = if version >= 1 {
            reader.i32("the throttle time")?
        } else {
            0
        };
        reader.tagged_fields()?;
        Ok(ApiVersionsResponse {
            error_code,
            api_keys,
            throttle_time_ms,
        })
    }

    /// Writes the body of `version`.
    pub fn encode(&self, writer: &mut Writer, version: i16) {
        writer.i16(self.error_code.number());
        writer.array_count(Some(self.api_keys.len()));
        for range in &self.api_keys {
            writer.i16(range.api_key);
            writer.i16(range.min_version);
            writer.i16(range.max_version);
            writer.tagged_fields();
        }
        if version >= 1 {
            writer.i32(self.throttle_time_ms);
        }
        writer.tagged_fields();
    }
}
