//! The bounds a native codec enforces on one message, with the broker's defaults.
//!
//! They are checked before anything else is read; this module must never hold
//! state or grow anything itself.

/// The most frames in one message, header included, by default; responses keep to
/// it too (`protocol.md`, "Limits").
pub const MAX_FRAMES: usize = 16_384;

/// The largest request by default, all frames together (`protocol.md`, "Limits").
pub const MAX_REQUEST_BYTES: usize = 8 << 20;

/// The bounds on one message (`protocol.md`, "Limits").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most frames in one message, header included (16384 by default).
    pub max_frames: usize,
    /// Most bytes in one request, all frames together (8 MiB by default).
    pub max_request_bytes: usize,
    /// Longest header frame (256 bytes by default; every header of version 1 is
    /// 56 bytes or fewer).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frames: MAX_FRAMES,
            max_request_bytes: MAX_REQUEST_BYTES,
            max_header_bytes: 256,
        }
    }
}
