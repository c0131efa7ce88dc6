//! Socket events, as libzmq's `zmq_socket_monitor` reports them: their numbers,
//! their two-frame encoding, and the slot through which a socket's layers raise
//! them.
//!
//! An event is frame 1: the event number (u16) then a value (u32), both in the
//! machine's byte order (libzmq copies the integers as they are in memory), and
//! frame 2: the endpoint. The value is a file descriptor, an errno, a reconnect
//! interval in milliseconds, or a ZMTP protocol error code, depending on the
//! event. Code written for libzmq's monitor reads these messages unchanged.
//!
//! The slot sits at the bottom of the crate: transports' users (the I/O thread,
//! sessions) and the socket core raise events through it, and it knows only a
//! sink to hand each message to. Raising never blocks: a sink that cannot take
//! an event drops it (libzmq blocks its I/O thread instead, which can wedge it).
//! This file must never block and never allocate when nobody is watching.

use crate::message::Message;
use crate::zmtp::{ProtocolError, ZapProblem};
use bytes::Bytes;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// The events a monitor may ask for, with libzmq's numbers (`ZMQ_EVENT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum SocketEvent {
    /// A connect completed (value: the connection's descriptor).
    Connected = 0x0001,
    /// A connect is in progress (value: EINPROGRESS).
    ConnectDelayed = 0x0002,
    /// A reconnect was scheduled (value: the wait in milliseconds).
    ConnectRetried = 0x0004,
    /// A bind succeeded (value: the listener's descriptor).
    Listening = 0x0008,
    /// A bind failed (value: errno).
    BindFailed = 0x0010,
    /// A connection was accepted (value: its descriptor).
    Accepted = 0x0020,
    /// An accept failed (value: errno).
    AcceptFailed = 0x0040,
    /// A listener, or a connect attempt that failed, was closed (value: its
    /// descriptor).
    Closed = 0x0080,
    /// Closing failed (value: errno).
    CloseFailed = 0x0100,
    /// A connection ended (value: its descriptor).
    Disconnected = 0x0200,
    /// The monitor stopped (value 0, no endpoint): the last event.
    MonitorStopped = 0x0400,
    /// A handshake failed without a protocol error: the peer closed, reset or
    /// timed out (value: errno).
    HandshakeFailedNoDetail = 0x0800,
    /// A handshake completed (value 0).
    HandshakeSucceeded = 0x1000,
    /// A handshake failed on a protocol error (value: `ZMQ_PROTOCOL_ERROR_*`).
    HandshakeFailedProtocol = 0x2000,
    /// A handshake failed authentication (value: the ZAP status code).
    HandshakeFailedAuth = 0x4000,
}

impl SocketEvent {
    /// Every event, in numeric order.
    pub const ALL: [SocketEvent; 15] = [
        SocketEvent::Connected,
        SocketEvent::ConnectDelayed,
        SocketEvent::ConnectRetried,
        SocketEvent::Listening,
        SocketEvent::BindFailed,
        SocketEvent::Accepted,
        SocketEvent::AcceptFailed,
        SocketEvent::Closed,
        SocketEvent::CloseFailed,
        SocketEvent::Disconnected,
        SocketEvent::MonitorStopped,
        SocketEvent::HandshakeFailedNoDetail,
        SocketEvent::HandshakeSucceeded,
        SocketEvent::HandshakeFailedProtocol,
        SocketEvent::HandshakeFailedAuth,
    ];

    /// libzmq's number for it.
    pub fn number(self) -> u16 {
        self as u16
    }

    /// The event with libzmq's number `number`.
    pub fn from_number(number: u16) -> Option<SocketEvent> {
        SocketEvent::ALL
            .into_iter()
            .find(|event| event.number() == number)
    }

    /// libzmq's name without its `ZMQ_EVENT_` prefix (`LISTENING`, `ACCEPTED`...).
    pub fn name(self) -> &'static str {
        match self {
            SocketEvent::Connected => "CONNECTED",
            SocketEvent::ConnectDelayed => "CONNECT_DELAYED",
            SocketEvent::ConnectRetried => "CONNECT_RETRIED",
            SocketEvent::Listening => "LISTENING",
            SocketEvent::BindFailed => "BIND_FAILED",
            SocketEvent::Accepted => "ACCEPTED",
            SocketEvent::AcceptFailed => "ACCEPT_FAILED",
            SocketEvent::Closed => "CLOSED",
            SocketEvent::CloseFailed => "CLOSE_FAILED",
            SocketEvent::Disconnected => "DISCONNECTED",
            SocketEvent::MonitorStopped => "MONITOR_STOPPED",
            SocketEvent::HandshakeFailedNoDetail => "HANDSHAKE_FAILED_NO_DETAIL",
            SocketEvent::HandshakeSucceeded => "HANDSHAKE_SUCCEEDED",
            SocketEvent::HandshakeFailedProtocol => "HANDSHAKE_FAILED_PROTOCOL",
            SocketEvent::HandshakeFailedAuth => "HANDSHAKE_FAILED_AUTH",
        }
    }
}

impl fmt::Display for SocketEvent {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Which events a monitor wants: libzmq's bit mask (`ZMQ_EVENT_ALL` is 0xFFFF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMask(pub u16);

impl EventMask {
    /// Every event (`ZMQ_EVENT_ALL`).
    pub const ALL: EventMask = EventMask(0xFFFF);

    /// Whether `event` is wanted.
    pub fn contains(self, event: SocketEvent) -> bool {
        self.0 & event.number() != 0
    }
}

impl From<SocketEvent> for EventMask {
    fn from(event: SocketEvent) -> EventMask {
        EventMask(event.number())
    }
}

impl std::ops::BitOr<SocketEvent> for EventMask {
    type Output = EventMask;
    fn bitor(self, event: SocketEvent) -> EventMask {
        EventMask(self.0 | event.number())
    }
}

/// libzmq's `ZMQ_PROTOCOL_ERROR_*` codes, the value of
/// `HANDSHAKE_FAILED_PROTOCOL`.
pub mod protocol_error {
    /// ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED.
    pub const UNSPECIFIED: u32 = 0x1000_0000;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND.
    pub const UNEXPECTED_COMMAND: u32 = 0x1000_0001;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED.
    pub const MALFORMED_COMMAND_UNSPECIFIED: u32 = 0x1000_0011;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO.
    pub const MALFORMED_COMMAND_HELLO: u32 = 0x1000_0013;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE.
    pub const MALFORMED_COMMAND_INITIATE: u32 = 0x1000_0014;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR.
    pub const MALFORMED_COMMAND_ERROR: u32 = 0x1000_0015;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY.
    pub const MALFORMED_COMMAND_READY: u32 = 0x1000_0016;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME.
    pub const MALFORMED_COMMAND_WELCOME: u32 = 0x1000_0017;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH.
    pub const MECHANISM_MISMATCH: u32 = 0x1100_0002;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE.
    pub const INVALID_SEQUENCE: u32 = 0x1000_0002;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE.
    pub const KEY_EXCHANGE: u32 = 0x1000_0003;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE.
    pub const MALFORMED_COMMAND_MESSAGE: u32 = 0x1000_0012;
    /// ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC.
    pub const CRYPTOGRAPHIC: u32 = 0x1100_0001;
    /// ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED.
    pub const ZAP_UNSPECIFIED: u32 = 0x2000_0000;
    /// ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY.
    pub const ZAP_MALFORMED_REPLY: u32 = 0x2000_0001;
    /// ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID.
    pub const ZAP_BAD_REQUEST_ID: u32 = 0x2000_0002;
    /// ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION.
    pub const ZAP_BAD_VERSION: u32 = 0x2000_0003;
    /// ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE.
    pub const ZAP_INVALID_STATUS_CODE: u32 = 0x2000_0004;
    /// ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA.
    pub const ZAP_INVALID_METADATA: u32 = 0x2000_0005;
}

/// How a handshake that failed on `error` is reported, as libzmq 4.3.5's NULL
/// mechanism reports it: `Some(code)` for `HANDSHAKE_FAILED_PROTOCOL`; `None`
/// where libzmq raises no handshake event at all, only `DISCONNECTED` (a READY
/// whose metadata is malformed or names an incompatible socket type); and an
/// old or garbled greeting, which libzmq answers by falling back to ZMTP 1.0
/// and failing later without detail, as `HANDSHAKE_FAILED_NO_DETAIL`.
pub(crate) fn handshake_failure(error: &ProtocolError) -> Option<(SocketEvent, u32)> {
    use protocol_error as code;
    let protocol = |value| Some((SocketEvent::HandshakeFailedProtocol, value));
    match error {
        ProtocolError::MechanismMismatch { .. } => protocol(code::MECHANISM_MISMATCH),
        ProtocolError::UnexpectedCommand { .. }
        | ProtocolError::DuplicateReady
        | ProtocolError::MessageBeforeReady => protocol(code::UNEXPECTED_COMMAND),
        ProtocolError::MalformedCommand { command, .. } => protocol(match *command {
            "READY" => code::MALFORMED_COMMAND_READY,
            "ERROR" => code::MALFORMED_COMMAND_ERROR,
            "HELLO" => code::MALFORMED_COMMAND_HELLO,
            "INITIATE" => code::MALFORMED_COMMAND_INITIATE,
            "WELCOME" => code::MALFORMED_COMMAND_WELCOME,
            "MESSAGE" => code::MALFORMED_COMMAND_MESSAGE,
            _ => code::MALFORMED_COMMAND_UNSPECIFIED,
        }),
        ProtocolError::LegacySignature { .. } | ProtocolError::UnsupportedVersion { .. } => {
            Some((SocketEvent::HandshakeFailedNoDetail, libc::EPROTO as u32))
        }
        ProtocolError::HandshakeTimeout => {
            Some((SocketEvent::HandshakeFailedNoDetail, libc::ETIMEDOUT as u32))
        }
        // CURVE's failures as libzmq's CURVE mechanism reports them.
        ProtocolError::CurveBadBox { .. } | ProtocolError::CurveWrongServerKey => {
            protocol(code::CRYPTOGRAPHIC)
        }
        ProtocolError::CurveKeyMismatch { .. } => protocol(code::KEY_EXCHANGE),
        ProtocolError::CurveNonceNotIncreasing { .. } => protocol(code::INVALID_SEQUENCE),
        // Refused by the ZAP handler (the value is its status code, as libzmq
        // reports it), or by a PLAIN server that has none.
        ProtocolError::AuthenticationFailed { status_code, .. } => Some((
            SocketEvent::HandshakeFailedAuth,
            status_code.parse().unwrap_or(0),
        )),
        ProtocolError::NoZapHandler => {
            Some((SocketEvent::HandshakeFailedNoDetail, libc::EFAULT as u32))
        }
        ProtocolError::ZapFailed { problem, .. } => protocol(match problem {
            ZapProblem::Unspecified => code::ZAP_UNSPECIFIED,
            ZapProblem::MalformedReply => code::ZAP_MALFORMED_REPLY,
            ZapProblem::BadRequestId => code::ZAP_BAD_REQUEST_ID,
            ZapProblem::BadVersion => code::ZAP_BAD_VERSION,
            ZapProblem::InvalidStatusCode => code::ZAP_INVALID_STATUS_CODE,
            ZapProblem::InvalidMetadata => code::ZAP_INVALID_METADATA,
        }),
        ProtocolError::MalformedProperty { .. }
        | ProtocolError::MissingSocketType
        | ProtocolError::UnknownSocketType { .. }
        | ProtocolError::IncompatibleSocketType { .. }
        | ProtocolError::InvalidRoutingId { .. } => None,
        _ => protocol(code::UNSPECIFIED),
    }
}

/// How a connection whose traffic failed to decode after its handshake is
/// reported: libzmq's CURVE raises `HANDSHAKE_FAILED_PROTOCOL` with the reason
/// even then (`curve_mechanism_base_t::decode`): a MESSAGE box that does not
/// open, a replayed or reordered nonce, a malformed MESSAGE, another command
/// where a MESSAGE belongs. Any other end after the handshake raises no
/// handshake event.
pub(crate) fn traffic_failure(error: &ProtocolError) -> Option<(SocketEvent, u32)> {
    match error {
        ProtocolError::CurveBadBox { .. }
        | ProtocolError::CurveNonceNotIncreasing { .. }
        | ProtocolError::MalformedCommand {
            command: "MESSAGE", ..
        }
        | ProtocolError::UnexpectedCommand {
            expected: "MESSAGE",
            ..
        } => handshake_failure(error),
        _ => None,
    }
}

/// Encodes an event as libzmq's two frames.
pub fn encode(event: SocketEvent, value: u32, endpoint: &str) -> Message {
    let mut first = [0u8; 6];
    first[..2].copy_from_slice(&event.number().to_ne_bytes());
    first[2..].copy_from_slice(&value.to_ne_bytes());
    Message::from_frames([
        Bytes::copy_from_slice(&first),
        Bytes::copy_from_slice(endpoint.as_bytes()),
    ])
}

/// Where a monitored socket's events go.
pub(crate) trait EventSink: Send {
    /// Takes one encoded event, or drops it if it cannot take it now.
    fn deliver(&mut self, event: Message);
}

/// A socket's monitor: the events wanted and where they go. Shared by the
/// socket and every connection and listener it made.
#[derive(Default)]
pub(crate) struct EventSlot {
    /// The wanted events; 0 when nobody watches, so raising costs one load.
    mask: AtomicU32,
    sink: Mutex<Option<Box<dyn EventSink>>>,
}

impl fmt::Debug for EventSlot {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EventSlot")
            .field("mask", &self.mask.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl EventSlot {
    /// Raises `event` if it is wanted.
    pub(crate) fn raise(&self, event: SocketEvent, value: u32, endpoint: &str) {
        if self.mask.load(Ordering::Acquire) & u32::from(event.number()) == 0 {
            return;
        }
        let mut sink = match self.sink.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(sink) = sink.as_mut() {
            sink.deliver(encode(event, value, endpoint));
        }
    }

    /// Starts sending `mask`'s events to `sink`; a monitor already there gets
    /// MONITOR_STOPPED first, as in libzmq.
    pub(crate) fn start(&self, mask: EventMask, sink: Box<dyn EventSink>) {
        self.stop();
        let mut slot = match self.sink.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Some(sink);
        self.mask.store(u32::from(mask.0), Ordering::Release);
    }

    /// Sends MONITOR_STOPPED (if wanted) and forgets the sink.
    pub(crate) fn stop(&self) {
        self.raise(SocketEvent::MonitorStopped, 0, "");
        self.mask.store(0, Ordering::Release);
        let mut slot = match self.sink.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex as StdMutex};

    struct Collect(Arc<StdMutex<Vec<Message>>>);

    impl EventSink for Collect {
        fn deliver(&mut self, event: Message) {
            self.0.lock().unwrap().push(event);
        }
    }

    #[test]
    fn events_encode_as_libzmq_lays_them_out() {
        let message = encode(SocketEvent::Listening, 12, "tcp://127.0.0.1:5555");
        let first = &message.frames()[0];
        assert_eq!(first.len(), 6);
        assert_eq!(u16::from_ne_bytes([first[0], first[1]]), 0x0008);
        assert_eq!(
            u32::from_ne_bytes([first[2], first[3], first[4], first[5]]),
            12
        );
        assert_eq!(message.frames()[1], "tcp://127.0.0.1:5555");
        for event in SocketEvent::ALL {
            assert_eq!(SocketEvent::from_number(event.number()), Some(event));
            assert_eq!(event.number().count_ones(), 1);
        }
        assert_eq!(SocketEvent::from_number(3), None);
    }

    #[test]
    fn only_wanted_events_reach_the_sink_and_stop_comes_last() {
        let slot = EventSlot::default();
        slot.raise(SocketEvent::Accepted, 1, "nobody watches");
        let seen = Arc::new(StdMutex::new(Vec::new()));
        slot.start(
            EventMask::from(SocketEvent::Accepted) | SocketEvent::MonitorStopped,
            Box::new(Collect(Arc::clone(&seen))),
        );
        slot.raise(SocketEvent::Accepted, 7, "a");
        slot.raise(SocketEvent::Listening, 8, "not wanted");
        slot.stop();
        slot.raise(SocketEvent::Accepted, 9, "after the stop");
        let names: Vec<u16> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|message| u16::from_ne_bytes([message.frames()[0][0], message.frames()[0][1]]))
            .collect();
        assert_eq!(names, [0x0020, 0x0400]);
    }
}
