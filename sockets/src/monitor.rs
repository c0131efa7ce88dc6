//! The socket monitor, as `zmq_socket_monitor` defines it, and a typed reader.
//!
//! `Socket::monitor(endpoint, events)` binds a PAIR socket at an inproc endpoint
//! and sends it every wanted event of the monitored socket in libzmq's two-frame
//! layout (see `event`), so code written for libzmq connects its own PAIR there
//! and reads them unchanged. `Socket::monitor_events` does that for you and
//! returns a `Monitor` that yields `MonitorEvent`s. Events the reader does not
//! take in time are dropped at the PAIR's high-water mark rather than blocking
//! the I/O thread. This file must never block the thread that raises an event.

use crate::error::{Error, Result};
use crate::event::{EventMask, EventSink, SocketEvent};
use crate::message::Message;
use crate::socket::Socket;
use crate::zmtp::SocketType;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One event, read back from a monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorEvent {
    /// What happened.
    pub event: SocketEvent,
    /// A descriptor, an errno, a reconnect interval in milliseconds or a
    /// protocol error code, by event (see `SocketEvent`).
    pub value: u32,
    /// The endpoint it happened on (empty for MONITOR_STOPPED).
    pub endpoint: String,
}

impl MonitorEvent {
    /// Reads libzmq's two-frame layout.
    pub fn parse(message: &Message) -> Result<MonitorEvent> {
        let malformed = || Error::InvalidOption("not a monitor event");
        let [first, endpoint] = message.frames() else {
            return Err(malformed());
        };
        let first: &[u8; 6] = first[..].try_into().map_err(|_| malformed())?;
        let number = u16::from_ne_bytes([first[0], first[1]]);
        let value = u32::from_ne_bytes([first[2], first[3], first[4], first[5]]);
        let event = SocketEvent::from_number(number).ok_or_else(malformed)?;
        Ok(MonitorEvent {
            event,
            value,
            endpoint: String::from_utf8_lossy(endpoint).into_owned(),
        })
    }
}

/// Sends events to the PAIR socket bound at the monitor's endpoint.
struct PairSink {
    pair: Socket,
}

impl EventSink for PairSink {
    fn deliver(&mut self, event: Message) {
        // Never wait: with no reader yet, or a reader behind by a whole
        // high-water mark, the event is dropped.
        let _ = self.pair.try_send(event);
    }
}

impl Socket {
    /// Starts sending this socket's `events` to a PAIR socket bound at
    /// `endpoint`, which must be `inproc://` (`zmq_socket_monitor`). Connect a
    /// PAIR socket there to read them: each is two frames, libzmq's layout. A
    /// second call replaces the first monitor (which gets MONITOR_STOPPED).
    pub fn monitor(&self, endpoint: &str, events: EventMask) -> Result<()> {
        if !endpoint.starts_with("inproc://") {
            return Err(Error::InvalidEndpoint {
                endpoint: endpoint.to_owned(),
                reason: "a monitor's endpoint must be inproc://".to_owned(),
            });
        }
        let core = self.core();
        let pair = Socket::new(core.context().clone(), SocketType::Pair)?;
        pair.set_linger(Some(Duration::ZERO))?;
        pair.bind(endpoint)?;
        core.start_monitor(events, Box::new(PairSink { pair }));
        Ok(())
    }

    /// Stops the monitor, after a last MONITOR_STOPPED (`zmq_socket_monitor`
    /// with no endpoint).
    pub fn stop_monitor(&self) {
        self.core().stop_monitor();
    }

    /// Starts a monitor for `events` and returns a reader of it: `monitor` on a
    /// fresh inproc endpoint, with a PAIR connected there.
    pub fn monitor_events(&self, events: EventMask) -> Result<Monitor> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let endpoint = format!(
            "inproc://sinew-monitor-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.monitor(&endpoint, events)?;
        let reader = Socket::new(self.core().context().clone(), SocketType::Pair)?;
        reader.connect(&endpoint)?;
        Ok(Monitor { reader })
    }
}

/// Reads a socket's monitor as typed events.
#[derive(Debug)]
pub struct Monitor {
    reader: Socket,
}

impl Monitor {
    /// The next event, waiting for it.
    pub fn recv(&self) -> Result<MonitorEvent> {
        self.recv_with_timeout(None)
    }

    /// The next event, waiting at most `timeout` (`None`: forever).
    pub fn recv_with_timeout(&self, timeout: Option<Duration>) -> Result<MonitorEvent> {
        MonitorEvent::parse(&self.reader.recv_with_timeout(timeout)?)
    }

    /// The next event if one is here (`WouldBlock` otherwise).
    pub fn try_recv(&self) -> Result<MonitorEvent> {
        MonitorEvent::parse(&self.reader.try_recv()?)
    }

    /// The PAIR socket the events arrive on (for `poll`, `fd` or an
    /// `AsyncSocket`).
    pub fn socket(&self) -> &Socket {
        &self.reader
    }
}
