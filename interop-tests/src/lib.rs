//! Shared helpers for the interop tests under `tests/`, which run Sinew against
//! real libzmq (the `zmq` crate builds libzmq 4.3.4 from vendored source; pyzmq
//! bundles libzmq 4.3.5 with CURVE).
//!
//! `Peer` wraps a socket of either implementation behind one small API, so each
//! test runs every combination of roles and transports with the same code. Every
//! wait has a deadline. Tests here must never skip silently: a missing peer is a
//! failure, and every known difference from libzmq is written down in
//! `KNOWN_DIFFERENCES.md`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long any wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Which implementation a socket comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Sinew.
    Sinew,
    /// libzmq, through the `zmq` crate.
    Libzmq,
}

impl Side {
    /// Both sides.
    pub const BOTH: [Side; 2] = [Side::Sinew, Side::Libzmq];

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Sinew => Side::Libzmq,
            Side::Libzmq => Side::Sinew,
        }
    }
}

/// A transport both implementations speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// tcp:// on loopback, port chosen by the system.
    Tcp,
    /// ipc:// in the temporary directory.
    Ipc,
}

impl Transport {
    /// Both transports.
    pub const BOTH: [Transport; 2] = [Transport::Tcp, Transport::Ipc];

    /// An endpoint to bind, unique to this process and call.
    pub fn bind_endpoint(self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        match self {
            Transport::Tcp => "tcp://127.0.0.1:*".to_owned(),
            Transport::Ipc => format!(
                "ipc://{}",
                std::env::temp_dir()
                    .join(format!(
                        "sinew-interop-{}-{}.ipc",
                        std::process::id(),
                        NEXT.fetch_add(1, Ordering::Relaxed)
                    ))
                    .display()
            ),
        }
    }
}

/// The two libraries' contexts, kept alive for a test.
#[allow(missing_debug_implementations)]
pub struct Contexts {
    /// Sinew's context.
    pub sinew: sinew::Context,
    /// libzmq's context.
    pub libzmq: zmq::Context,
}

impl Default for Contexts {
    fn default() -> Self {
        Contexts::new()
    }
}

impl Contexts {
    /// Fresh contexts.
    pub fn new() -> Contexts {
        Contexts {
            sinew: sinew::Context::new(),
            libzmq: zmq::Context::new(),
        }
    }

    /// A socket of `kind` on `side`, with receive timeouts set.
    pub fn socket(&self, side: Side, kind: sinew::SocketType) -> Peer {
        match side {
            Side::Sinew => {
                let socket = self.sinew.socket(kind).expect("sinew socket");
                socket
                    .set_receive_timeout(Some(TIMEOUT))
                    .expect("receive timeout");
                socket
                    .set_send_timeout(Some(TIMEOUT))
                    .expect("send timeout");
                Peer::Sinew(socket)
            }
            Side::Libzmq => {
                let socket = self.libzmq.socket(libzmq_type(kind)).expect("zmq socket");
                let millis = TIMEOUT.as_millis() as i32;
                socket.set_rcvtimeo(millis).expect("rcvtimeo");
                socket.set_sndtimeo(millis).expect("sndtimeo");
                socket.set_linger(1000).expect("linger");
                Peer::Libzmq(socket)
            }
        }
    }
}

/// libzmq's constant for a socket type.
pub fn libzmq_type(kind: sinew::SocketType) -> zmq::SocketType {
    use sinew::SocketType as Kind;
    match kind {
        Kind::Pair => zmq::PAIR,
        Kind::Publish => zmq::PUB,
        Kind::Subscribe => zmq::SUB,
        Kind::Request => zmq::REQ,
        Kind::Reply => zmq::REP,
        Kind::Dealer => zmq::DEALER,
        Kind::Router => zmq::ROUTER,
        Kind::Pull => zmq::PULL,
        Kind::Push => zmq::PUSH,
        Kind::ExtendedPublish => zmq::XPUB,
        Kind::ExtendedSubscribe => zmq::XSUB,
        Kind::Stream => zmq::STREAM,
    }
}

/// A socket from either library.
#[allow(missing_debug_implementations)]
pub enum Peer {
    /// A Sinew socket.
    Sinew(sinew::Socket),
    /// A libzmq socket.
    Libzmq(zmq::Socket),
}

impl Peer {
    /// Binds and returns the endpoint peers should connect to.
    pub fn bind(&self, endpoint: &str) -> String {
        match self {
            Peer::Sinew(socket) => {
                socket.bind(endpoint).expect("sinew bind");
                socket.last_endpoint().expect("sinew last endpoint")
            }
            Peer::Libzmq(socket) => {
                socket.bind(endpoint).expect("zmq bind");
                socket
                    .get_last_endpoint()
                    .expect("zmq last endpoint")
                    .expect("utf-8 endpoint")
            }
        }
    }

    /// Connects.
    pub fn connect(&self, endpoint: &str) {
        match self {
            Peer::Sinew(socket) => socket.connect(endpoint).expect("sinew connect"),
            Peer::Libzmq(socket) => socket.connect(endpoint).expect("zmq connect"),
        }
    }

    /// Disconnects.
    pub fn disconnect(&self, endpoint: &str) {
        match self {
            Peer::Sinew(socket) => socket.disconnect(endpoint).expect("sinew disconnect"),
            Peer::Libzmq(socket) => socket.disconnect(endpoint).expect("zmq disconnect"),
        }
    }

    /// Unbinds.
    pub fn unbind(&self, endpoint: &str) {
        match self {
            Peer::Sinew(socket) => socket.unbind(endpoint).expect("sinew unbind"),
            Peer::Libzmq(socket) => socket.unbind(endpoint).expect("zmq unbind"),
        }
    }

    /// Sends a multipart message, waiting up to the timeout.
    pub fn send(&self, frames: &[&[u8]]) {
        match self {
            Peer::Sinew(socket) => {
                let message = sinew::Message::from_frames(
                    frames
                        .iter()
                        .map(|frame| bytes::Bytes::copy_from_slice(frame)),
                );
                socket.send(message).expect("sinew send");
            }
            Peer::Libzmq(socket) => socket.send_multipart(frames, 0).expect("zmq send"),
        }
    }

    /// Receives a multipart message, failing the test after the timeout.
    pub fn recv(&self) -> Vec<Vec<u8>> {
        self.try_recv(TIMEOUT)
            .expect("a message before the timeout")
    }

    /// Receives a multipart message within `timeout`, or `None`.
    pub fn try_recv(&self, timeout: Duration) -> Option<Vec<Vec<u8>>> {
        match self {
            Peer::Sinew(socket) => socket
                .recv_with_timeout(Some(timeout))
                .ok()
                .map(|message| message.iter().map(|frame| frame.to_vec()).collect()),
            Peer::Libzmq(socket) => {
                let millis = timeout.as_millis() as i64;
                let mut items = [socket.as_poll_item(zmq::POLLIN)];
                match zmq::poll(&mut items, millis) {
                    Ok(count) if count > 0 => socket.recv_multipart(0).ok(),
                    _ => None,
                }
            }
        }
    }

    /// Sets the routing id (ZMQ_ROUTING_ID).
    pub fn set_routing_id(&self, id: &[u8]) {
        match self {
            Peer::Sinew(socket) => socket
                .set_routing_id(Some(bytes::Bytes::copy_from_slice(id)))
                .expect("sinew routing id"),
            Peer::Libzmq(socket) => socket.set_identity(id).expect("zmq routing id"),
        }
    }

    /// Sets the send high-water mark.
    pub fn set_send_high_water_mark(&self, mark: u32) {
        match self {
            Peer::Sinew(socket) => socket.set_send_high_water_mark(mark).expect("sndhwm"),
            Peer::Libzmq(socket) => socket.set_sndhwm(mark as i32).expect("sndhwm"),
        }
    }

    /// Sets the receive high-water mark.
    pub fn set_receive_high_water_mark(&self, mark: u32) {
        match self {
            Peer::Sinew(socket) => socket.set_receive_high_water_mark(mark).expect("rcvhwm"),
            Peer::Libzmq(socket) => socket.set_rcvhwm(mark as i32).expect("rcvhwm"),
        }
    }

    /// Subscribes to `prefix` (ZMQ_SUBSCRIBE; SUB).
    pub fn subscribe(&self, prefix: &[u8]) {
        match self {
            Peer::Sinew(socket) => socket.subscribe(prefix).expect("sinew subscribe"),
            Peer::Libzmq(socket) => socket.set_subscribe(prefix).expect("zmq subscribe"),
        }
    }

    /// Drops one subscription to `prefix` (ZMQ_UNSUBSCRIBE; SUB).
    pub fn unsubscribe(&self, prefix: &[u8]) {
        match self {
            Peer::Sinew(socket) => socket.unsubscribe(prefix).expect("sinew unsubscribe"),
            Peer::Libzmq(socket) => socket.set_unsubscribe(prefix).expect("zmq unsubscribe"),
        }
    }

    /// Sends without waiting; false if the socket would have had to wait.
    pub fn try_send(&self, frames: &[&[u8]]) -> bool {
        match self {
            Peer::Sinew(socket) => {
                let message = sinew::Message::from_frames(
                    frames
                        .iter()
                        .map(|frame| bytes::Bytes::copy_from_slice(frame)),
                );
                socket.try_send(message).is_ok()
            }
            Peer::Libzmq(socket) => socket.send_multipart(frames, zmq::DONTWAIT).is_ok(),
        }
    }

    /// Sets how long a closed socket keeps sending (ZMQ_LINGER).
    pub fn set_linger(&self, linger: Duration) {
        match self {
            Peer::Sinew(socket) => socket.set_linger(Some(linger)).expect("sinew linger"),
            Peer::Libzmq(socket) => socket
                .set_linger(linger.as_millis() as i32)
                .expect("zmq linger"),
        }
    }

    /// Sets the first wait before reconnecting (ZMQ_RECONNECT_IVL).
    pub fn set_reconnect_interval(&self, interval: Duration) {
        match self {
            Peer::Sinew(socket) => socket
                .set_reconnect_interval(interval)
                .expect("sinew reconnect interval"),
            Peer::Libzmq(socket) => socket
                .set_reconnect_ivl(interval.as_millis() as i32)
                .expect("zmq reconnect interval"),
        }
    }

    /// The Sinew socket, for Sinew-only calls.
    pub fn sinew(&self) -> &sinew::Socket {
        match self {
            Peer::Sinew(socket) => socket,
            Peer::Libzmq(_) => panic!("not a Sinew socket"),
        }
    }
}

/// A connected pair: `binder` bound, `connector` connected to it.
#[allow(missing_debug_implementations)]
pub struct Link {
    /// The bound side.
    pub binder: Peer,
    /// The connected side.
    pub connector: Peer,
    /// The endpoint.
    pub endpoint: String,
}

/// Binds a `binder_kind` socket on `binder_side` and connects a `connector_kind`
/// socket from the other side, over `transport`.
pub fn link(
    contexts: &Contexts,
    transport: Transport,
    binder_side: Side,
    binder_kind: sinew::SocketType,
    connector_kind: sinew::SocketType,
) -> Link {
    let binder = contexts.socket(binder_side, binder_kind);
    let endpoint = binder.bind(&transport.bind_endpoint());
    let connector = contexts.socket(binder_side.other(), connector_kind);
    connector.connect(&endpoint);
    Link {
        binder,
        connector,
        endpoint,
    }
}

/// Every (transport, side that binds) combination, for the message in failures.
pub fn combinations() -> Vec<(Transport, Side)> {
    Transport::BOTH
        .into_iter()
        .flat_map(|transport| Side::BOTH.into_iter().map(move |side| (transport, side)))
        .collect()
}
