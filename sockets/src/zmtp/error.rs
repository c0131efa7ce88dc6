//! `ProtocolError`: one variant per rule of ZMTP a peer can break.
//!
//! Each message says what the peer did wrong and cites the rule (RFC 23/37, or
//! libzmq's behaviour where the RFC is loose). Variants carry only small values:
//! never the peer's bytes in bulk. This file must never grow variants for our own
//! bugs; those are not the peer's fault.

use super::SocketType;

/// A rule of the ZeroMQ Message Transport Protocol that the peer broke.
///
/// Every variant ends the connection: a peer that breaks the protocol is
/// disconnected, as libzmq does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The first ten bytes are not a ZMTP 2.0+ signature: byte 0 is not 0xFF or bit 0
    /// of byte 9 is clear, which is how a ZMTP 1.0 peer starts (RFC 23, "Version
    /// negotiation").
    #[error(
        "peer's greeting has no ZMTP 3 signature (byte 0 = {first:#04x}, byte 9 = {ninth:#04x}): it speaks ZMTP 1.0, which is not supported"
    )]
    LegacySignature {
        /// Byte 0 of the peer's greeting.
        first: u8,
        /// Byte 9 of the peer's greeting.
        ninth: u8,
    },
    /// The peer announced a major version below 3 (ZMTP 1.0 or 2.0).
    #[error(
        "peer announced ZMTP major version {major}, which is not supported: ZMTP 3.0 or later is required"
    )]
    UnsupportedVersion {
        /// The major version byte the peer sent.
        major: u8,
    },
    /// The peer's greeting names a different security mechanism (RFC 23: both peers
    /// must use the same mechanism).
    #[error("peer uses security mechanism {peer:?} but this socket uses {ours:?}")]
    MechanismMismatch {
        /// Our mechanism name.
        ours: String,
        /// The peer's mechanism name, as printable text.
        peer: String,
    },
    /// A command frame is malformed (name length past the end, truncated body...).
    #[error("malformed {command} command: {reason}")]
    MalformedCommand {
        /// The command's name, or "unnamed" when even the name is unreadable.
        command: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A metadata property in READY (or another handshake command) is malformed
    /// (RFC 23: name-length, name, 4-byte value-length, value).
    #[error("malformed metadata property: {reason}")]
    MalformedProperty {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The peer sent a command other than the mechanism's next one during the
    /// handshake (for NULL: anything but READY).
    #[error("peer sent {command} during the {mechanism} handshake, which expects {expected}")]
    UnexpectedCommand {
        /// The mechanism whose handshake was running.
        mechanism: &'static str,
        /// The command that arrived, as printable text.
        command: String,
        /// What the mechanism expected instead.
        expected: &'static str,
    },
    /// The peer sent a second READY (libzmq: "unexpected command").
    #[error("peer sent READY after the handshake was complete")]
    DuplicateReady,
    /// The peer sent a message frame before the handshake completed.
    #[error("peer sent a message before completing the handshake")]
    MessageBeforeReady,
    /// A handshake command frame had the MORE flag set.
    #[error("peer sent a handshake command with the MORE flag set")]
    CommandWithMore,
    /// The peer's READY has no Socket-Type property (RFC 23 requires it).
    #[error("peer's READY has no Socket-Type property")]
    MissingSocketType,
    /// The peer's Socket-Type is not one libzmq knows.
    #[error("peer announced unknown socket type {name:?}")]
    UnknownSocketType {
        /// The announced name, as printable text.
        name: String,
    },
    /// The peer's socket type cannot talk to ours (RFC 23's matrix, as libzmq has it).
    #[error("a {ours} socket cannot talk to a {peer} peer")]
    IncompatibleSocketType {
        /// Our socket type.
        ours: SocketType,
        /// The peer's socket type.
        peer: SocketType,
    },
    /// The peer's routing id is empty or longer than 255 bytes.
    #[error("peer announced a routing id of {length} bytes (1 to 255 allowed)")]
    InvalidRoutingId {
        /// The announced length.
        length: usize,
    },
    /// A message exceeds the maximum message size (ZMQ_MAXMSGSIZE), counted over the
    /// whole multipart message.
    #[error("peer sent a message of at least {size} bytes, over the limit of {limit}")]
    MessageTooLarge {
        /// The size reached so far, including the announced frame.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A frame announces a size no machine could ever hold.
    #[error("peer announced a frame of {size} bytes, beyond any addressable memory")]
    FrameTooLarge {
        /// The announced size.
        size: u64,
    },
    /// A command frame during the handshake is larger than the handshake allows.
    #[error("peer sent a handshake command of {size} bytes (at most {limit})")]
    CommandTooLarge {
        /// The announced size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Memory for an incoming frame could not be allocated.
    #[error("could not allocate memory for a {size}-byte frame")]
    OutOfMemory {
        /// The frame's announced size.
        size: u64,
    },
    /// The peer sent ERROR: it refuses the connection.
    #[error("peer sent ERROR: {reason}")]
    PeerError {
        /// The reason the peer gave, as printable text.
        reason: String,
    },
    /// A ZAP reply reached a mechanism that did not ask for one.
    #[error("a ZAP reply arrived for a mechanism that asked for none")]
    UnexpectedZapReply,
    /// The ZAP handler (or libzmq's default without one) refused the client.
    #[error("the client was refused: {status_code} {status_text}")]
    AuthenticationFailed {
        /// The handler's status code.
        status_code: String,
        /// The handler's status text.
        status_text: String,
    },
    /// A PLAIN server with no ZAP handler refuses every client (libzmq 4.3).
    #[error("the client was refused: no ZAP handler, and PLAIN admits no one without one")]
    NoZapHandler,
    /// The ZAP handler's reply broke RFC 27, or the handler went away before it
    /// replied (libzmq's `ZMQ_PROTOCOL_ERROR_ZAP_*`): the client is not admitted.
    #[error("the ZAP exchange failed: {reason}")]
    ZapFailed {
        /// Which rule was broken, for the monitor.
        problem: ZapProblem,
        /// What was wrong, as printable text.
        reason: String,
    },
    /// A CURVE box did not open (RFC 26): its bytes were altered on the way, or
    /// it was sealed with keys other than the handshake's (libzmq's
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC`).
    #[error(
        "the CURVE {what} does not open: its bytes were altered, or it was sealed with other keys"
    )]
    CurveBadBox {
        /// Which box: "WELCOME box", "cookie", "INITIATE box", "vouch"...
        what: &'static str,
    },
    /// The client's HELLO does not open with this server's secret key: the client
    /// was given another server public key (libzmq: "cannot open client HELLO --
    /// wrong server key?").
    #[error(
        "the client's CURVE HELLO does not open with this server's key: the client was given a different server public key, or the HELLO was altered"
    )]
    CurveWrongServerKey,
    /// A CURVE box opened but holds a key other than the handshake's: a cookie
    /// that is not this handshake's, or a vouch for another connection or server
    /// (libzmq's `ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE`).
    #[error("the CURVE {what} names keys other than this handshake's")]
    CurveKeyMismatch {
        /// Which box: "cookie" or "vouch".
        what: &'static str,
    },
    /// A CURVE frame's short nonce is not greater than the last one received
    /// (RFC 26: nonces strictly increase; libzmq's
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE`).
    #[error(
        "CURVE {command} carries nonce {nonce}, not greater than the last one received ({last}): a replayed or reordered frame"
    )]
    CurveNonceNotIncreasing {
        /// The command that carried it ("MESSAGE").
        command: &'static str,
        /// The nonce it carried.
        nonce: u64,
        /// The last nonce received.
        last: u64,
    },
    /// The system's random source failed, so no key, nonce or cookie can be made
    /// and the connection cannot be secured (not the peer's fault, as with
    /// `OutOfMemory`).
    #[error("the system's random source failed, so the CURVE handshake cannot go on: {reason}")]
    NoRandomness {
        /// What the operating system said.
        reason: String,
    },
    /// The peer did not complete the handshake in time (ZMQ_HANDSHAKE_IVL).
    #[error("peer did not complete the handshake in time")]
    HandshakeTimeout,
    /// The peer sent nothing for longer than the heartbeat timeout.
    #[error("peer sent nothing within the heartbeat timeout")]
    HeartbeatTimeout,
}

/// How a ZAP exchange failed, as libzmq's monitor tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZapProblem {
    /// The handler went away, or another failure (ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED).
    Unspecified,
    /// The reply's frames are not RFC 27's (ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY).
    MalformedReply,
    /// The reply is for another request (ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID).
    BadRequestId,
    /// The reply's version is not "1.0" (ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION).
    BadVersion,
    /// The status code is not 200, 300, 400 or 500
    /// (ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE).
    InvalidStatusCode,
    /// The reply's metadata is malformed (ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA).
    InvalidMetadata,
}

/// Renders peer-supplied bytes as printable text for an error message, bounded.
pub(crate) fn printable(bytes: &[u8]) -> String {
    const LIMIT: usize = 64;
    let shown = bytes.get(..LIMIT).unwrap_or(bytes);
    let mut text = String::from_utf8_lossy(shown).into_owned();
    if bytes.len() > LIMIT {
        text.push_str("...");
    }
    text
}
