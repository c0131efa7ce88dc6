//! The limits one NATS connection's parser enforces, with nats-server's defaults.
//!
//! They bound what a client can make the parser wait for; this module must never hold
//! state or grow anything itself.

/// Limits of one connection's parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest control line argument, in bytes (nats-server's `max_control_line`,
    /// 4096 by default). Measured as nats-server does: the bytes after the operation
    /// name and its separating blanks, up to the line end, without its `\r`.
    pub max_control_line: usize,
    /// The largest payload a `PUB` or `HPUB` may announce, in bytes (headers included;
    /// nats-server's `max_payload`, 1 MiB by default).
    pub max_payload: usize,
}

impl Limits {
    /// The most bytes the parser ever holds while waiting for one operation: the
    /// receive buffer plus the control line it keeps while a payload arrives.
    ///
    /// After [`Parser::parse`](super::Parser::parse) returns `Ok(None)` the buffer
    /// holds at most `max(max_control_line, max_payload) + 1` bytes and the parser at
    /// most `max_control_line + 1` more.
    pub const fn max_held_bytes(&self) -> usize {
        self.max_control_line
            .saturating_add(self.max_payload)
            .saturating_add(2)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_control_line: 4096,
            max_payload: 1024 * 1024,
        }
    }
}
