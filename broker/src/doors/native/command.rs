//! The command codes of the native protocol and the size of each command's header
//! frames, request and response.
//!
//! A code, once given a meaning, must never change it or be reused; this module
//! must never give two commands one code.

/// A command: what a request asks for; its response echoes the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// 0x0001: append records to a partition.
    Produce,
    /// 0x0002: read records from a partition.
    Fetch,
    /// 0x0003: an offset of a partition: earliest, latest, or for a timestamp.
    ListOffsets,
    /// 0x0004: a producer id and epoch for idempotent produce.
    InitProducerId,
    /// 0x0010: create a topic.
    CreateTopic,
    /// 0x0011: delete a topic.
    DeleteTopic,
    /// 0x0012: every topic's name and partition count.
    ListTopics,
    /// 0x0013: a topic's settings and each partition's offsets and size.
    DescribeTopic,
    /// 0x0020: join a consumer group and get this member's partitions.
    JoinGroup,
    /// 0x0021: a group member's heartbeat.
    Heartbeat,
    /// 0x0022: leave a consumer group.
    LeaveGroup,
    /// 0x0023: commit a group's offsets for a topic.
    CommitOffsets,
    /// 0x0024: a group's committed offsets for a topic.
    FetchOffsets,
}

impl Command {
    /// Every command, in code order.
    pub const ALL: [Command; 13] = [
        Command::Produce,
        Command::Fetch,
        Command::ListOffsets,
        Command::InitProducerId,
        Command::CreateTopic,
        Command::DeleteTopic,
        Command::ListTopics,
        Command::DescribeTopic,
        Command::JoinGroup,
        Command::Heartbeat,
        Command::LeaveGroup,
        Command::CommitOffsets,
        Command::FetchOffsets,
    ];

    /// The code on the wire.
    pub const fn code(self) -> u16 {
        match self {
            Command::Produce => 0x0001,
            Command::Fetch => 0x0002,
            Command::ListOffsets => 0x0003,
            Command::InitProducerId => 0x0004,
            Command::CreateTopic => 0x0010,
            Command::DeleteTopic => 0x0011,
            Command::ListTopics => 0x0012,
            Command::DescribeTopic => 0x0013,
            Command::JoinGroup => 0x0020,
            Command::Heartbeat => 0x0021,
            Command::LeaveGroup => 0x0022,
            Command::CommitOffsets => 0x0023,
            Command::FetchOffsets => 0x0024,
        }
    }

    /// The command with this code, if any.
    pub const fn from_code(code: u16) -> Option<Command> {
        Some(match code {
            0x0001 => Command::Produce,
            0x0002 => Command::Fetch,
            0x0003 => Command::ListOffsets,
            0x0004 => Command::InitProducerId,
            0x0010 => Command::CreateTopic,
            0x0011 => Command::DeleteTopic,
            0x0012 => Command::ListTopics,
            0x0013 => Command::DescribeTopic,
            0x0020 => Command::JoinGroup,
            0x0021 => Command::Heartbeat,
            0x0022 => Command::LeaveGroup,
            0x0023 => Command::CommitOffsets,
            0x0024 => Command::FetchOffsets,
            _ => return None,
        })
    }

    /// The name `protocol.md` gives it.
    pub const fn name(self) -> &'static str {
        match self {
            Command::Produce => "PRODUCE",
            Command::Fetch => "FETCH",
            Command::ListOffsets => "LIST_OFFSETS",
            Command::InitProducerId => "INIT_PRODUCER_ID",
            Command::CreateTopic => "CREATE_TOPIC",
            Command::DeleteTopic => "DELETE_TOPIC",
            Command::ListTopics => "LIST_TOPICS",
            Command::DescribeTopic => "DESCRIBE_TOPIC",
            Command::JoinGroup => "JOIN_GROUP",
            Command::Heartbeat => "HEARTBEAT",
            Command::LeaveGroup => "LEAVE_GROUP",
            Command::CommitOffsets => "COMMIT_OFFSETS",
            Command::FetchOffsets => "FETCH_OFFSETS",
        }
    }

    /// Bytes in the request's header frame.
    pub const fn request_header_size(self) -> usize {
        match self {
            Command::Produce => 40,
            Command::Fetch => 48,
            Command::ListOffsets => 32,
            Command::InitProducerId => 32,
            Command::CreateTopic => 48,
            Command::DeleteTopic | Command::ListTopics | Command::DescribeTopic => 16,
            Command::JoinGroup => 32,
            Command::Heartbeat | Command::CommitOffsets => 24,
            Command::LeaveGroup | Command::FetchOffsets => 16,
        }
    }

    /// Bytes in a successful response's header frame.
    pub const fn response_header_size(self) -> usize {
        match self {
            Command::Produce => 40,
            Command::Fetch => 56,
            Command::ListOffsets => 40,
            Command::InitProducerId => 32,
            Command::CreateTopic | Command::DeleteTopic | Command::ListTopics => 16,
            Command::DescribeTopic => 48,
            Command::JoinGroup => 24,
            Command::Heartbeat
            | Command::LeaveGroup
            | Command::CommitOffsets
            | Command::FetchOffsets => 16,
        }
    }
}

/// Bytes in an error response's header frame, whatever the command.
pub const ERROR_HEADER_SIZE: usize = 32;
