//! The APIs this door speaks: their keys, the version range it advertises, and
//! from which version each is flexible.
//!
//! `broker/docs/kafka.md` says why each range is what it is. This table is the
//! only place a range is written: ApiVersions' answer and the request decoder
//! both read it, so the door can never advertise a version it cannot decode.

/// A Kafka API the door decodes (its number is Kafka's `ApiKeys` id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiKey {
    /// 0
    Produce,
    /// 1
    Fetch,
    /// 2
    ListOffsets,
    /// 3
    Metadata,
    /// 8
    OffsetCommit,
    /// 9
    OffsetFetch,
    /// 10
    FindCoordinator,
    /// 11
    JoinGroup,
    /// 12
    Heartbeat,
    /// 13
    LeaveGroup,
    /// 14
    SyncGroup,
    /// 15
    DescribeGroups,
    /// 16
    ListGroups,
    /// 18
    ApiVersions,
    /// 19
    CreateTopics,
    /// 20
    DeleteTopics,
    /// 21
    DeleteRecords,
    /// 22
    InitProducerId,
    /// 23
    OffsetForLeaderEpoch,
    /// 32
    DescribeConfigs,
    /// 37
    CreatePartitions,
    /// 42
    DeleteGroups,
    /// 60
    DescribeCluster,
}

/// What the door advertises for one API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiRange {
    /// The API.
    pub key: ApiKey,
    /// Lowest version accepted.
    pub min: i16,
    /// Highest version accepted.
    pub max: i16,
    /// First flexible version (compact fields, tagged fields, request header v2,
    /// response header v1 except for ApiVersions); `i16::MAX` for none in range.
    pub flexible_from: i16,
}

/// The advertised ranges, in api key order (the order ApiVersions lists them).
pub const SUPPORTED: [ApiRange; 23] = [
    ApiRange {
        key: ApiKey::Produce,
        min: 3,
        max: 10,
        flexible_from: 9,
    },
    ApiRange {
        key: ApiKey::Fetch,
        min: 4,
        max: 12,
        flexible_from: 12,
    },
    ApiRange {
        key: ApiKey::ListOffsets,
        min: 1,
        max: 7,
        flexible_from: 6,
    },
    ApiRange {
        key: ApiKey::Metadata,
        min: 0,
        max: 13,
        flexible_from: 9,
    },
    ApiRange {
        key: ApiKey::OffsetCommit,
        min: 2,
        max: 9,
        flexible_from: 8,
    },
    ApiRange {
        key: ApiKey::OffsetFetch,
        min: 1,
        max: 9,
        flexible_from: 6,
    },
    ApiRange {
        key: ApiKey::FindCoordinator,
        min: 0,
        max: 2,
        flexible_from: 3,
    },
    ApiRange {
        key: ApiKey::JoinGroup,
        min: 0,
        max: 5,
        flexible_from: 6,
    },
    ApiRange {
        key: ApiKey::Heartbeat,
        min: 0,
        max: 3,
        flexible_from: 4,
    },
    ApiRange {
        key: ApiKey::LeaveGroup,
        min: 0,
        max: 3,
        flexible_from: 4,
    },
    ApiRange {
        key: ApiKey::SyncGroup,
        min: 0,
        max: 3,
        flexible_from: 4,
    },
    ApiRange {
        key: ApiKey::DescribeGroups,
        min: 0,
        max: 5,
        flexible_from: 5,
    },
    ApiRange {
        key: ApiKey::ListGroups,
        min: 0,
        max: 5,
        flexible_from: 3,
    },
    ApiRange {
        key: ApiKey::ApiVersions,
        min: 0,
        max: 4,
        flexible_from: 3,
    },
    ApiRange {
        key: ApiKey::CreateTopics,
        min: 2,
        max: 4,
        flexible_from: 5,
    },
    ApiRange {
        key: ApiKey::DeleteTopics,
        min: 1,
        max: 4,
        flexible_from: 4,
    },
    ApiRange {
        key: ApiKey::DeleteRecords,
        min: 0,
        max: 2,
        flexible_from: 2,
    },
    ApiRange {
        key: ApiKey::InitProducerId,
        min: 0,
        max: 4,
        flexible_from: 2,
    },
    ApiRange {
        key: ApiKey::OffsetForLeaderEpoch,
        min: 2,
        max: 2,
        flexible_from: 4,
    },
    ApiRange {
        key: ApiKey::DescribeConfigs,
        min: 1,
        max: 1,
        flexible_from: 4,
    },
    ApiRange {
        key: ApiKey::CreatePartitions,
        min: 0,
        max: 2,
        flexible_from: 2,
    },
    ApiRange {
        key: ApiKey::DeleteGroups,
        min: 0,
        max: 2,
        flexible_from: 2,
    },
    ApiRange {
        key: ApiKey::DescribeCluster,
        min: 0,
        max: 1,
        flexible_from: 0,
    },
];

impl ApiKey {
    /// Kafka's number for the API.
    pub fn number(self) -> i16 {
        match self {
            ApiKey::Produce => 0,
            ApiKey::Fetch => 1,
            ApiKey::ListOffsets => 2,
            ApiKey::Metadata => 3,
            ApiKey::OffsetCommit => 8,
            ApiKey::OffsetFetch => 9,
            ApiKey::FindCoordinator => 10,
            ApiKey::JoinGroup => 11,
            ApiKey::Heartbeat => 12,
            ApiKey::LeaveGroup => 13,
            ApiKey::SyncGroup => 14,
            ApiKey::DescribeGroups => 15,
            ApiKey::ListGroups => 16,
            ApiKey::ApiVersions => 18,
            ApiKey::CreateTopics => 19,
            ApiKey::DeleteTopics => 20,
            ApiKey::DeleteRecords => 21,
            ApiKey::InitProducerId => 22,
            ApiKey::OffsetForLeaderEpoch => 23,
            ApiKey::DescribeConfigs => 32,
            ApiKey::CreatePartitions => 37,
            ApiKey::DeleteGroups => 42,
            ApiKey::DescribeCluster => 60,
        }
    }

    /// The API for a number, if the door speaks it.
    pub fn from_number(number: i16) -> Option<ApiKey> {
        SUPPORTED
            .iter()
            .map(|range| range.key)
            .find(|key| key.number() == number)
    }

    /// The range the door advertises for this API.
    pub fn range(self) -> ApiRange {
        // Every key has a row: `from_number` only yields keys found in the table,
        // and the tests check every variant has one.
        SUPPORTED
            .iter()
            .copied()
            .find(|range| range.key == self)
            .unwrap_or(ApiRange {
                key: self,
                min: 0,
                max: -1,
                flexible_from: i16::MAX,
            })
    }

    /// Whether `version` is in the advertised range.
    pub fn supports(self, version: i16) -> bool {
        let range = self.range();
        (range.min..=range.max).contains(&version)
    }

    /// Whether `version` of this API is flexible.
    pub fn is_flexible(self, version: i16) -> bool {
        version >= self.range().flexible_from
    }

    /// The request header version for `version`: 2 if flexible, else 1.
    pub fn request_header_version(self, version: i16) -> i16 {
        if self.is_flexible(version) { 2 } else { 1 }
    }

    /// The response header version for `version`: 1 if flexible, else 0; always 0
    /// for ApiVersions, so that a client that sent a version the broker does not
    /// know can still read the answer (KIP-511).
    pub fn response_header_version(self, version: i16) -> i16 {
        if self != ApiKey::ApiVersions && self.is_flexible(version) {
            1
        } else {
            0
        }
    }
}
