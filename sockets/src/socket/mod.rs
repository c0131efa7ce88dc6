//! `Socket`: the handle an application uses, and the `Routing` trait every socket
//! type implements.
//!
//! A socket belongs to one thread at a time (`Send`, not `Sync`). Its calls first
//! apply what the mailbox brought (new pipes, peers ready, pipes readable or
//! writable), then ask the socket type's routing to send or receive; if that would
//! block, the call parks the thread on the mailbox until something changes, the
//! timeout passes, or the context is shut down. Nothing here is per-connection: the
//! I/O threads own connections, and inproc peers share pipes directly. This file
//! must never block except in those explicit waits.

mod core;
mod dealer;
mod pair;
mod publish;
mod pull;
mod push;
mod reply;
mod request;
mod router;
mod security;
mod stream;
mod subscribe;
mod xpub;
mod xsub;

pub(crate) use self::core::SocketCore;

use crate::context::Context;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::options::TypeOption;
use crate::pipe::{PipeEnd, PipeEvent, PipeId};
use crate::readiness::{PollEvents, SocketFd};
use crate::zmtp::{PeerInfo, SocketType};
use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

/// What every socket type implements: how messages are routed among its pipes.
pub(crate) trait Routing: Send + fmt::Debug {
    /// A new pipe to a peer; `peer` is `None` until its handshake completes.
    fn attach(&mut self, pipe: PipeEnd, peer: Option<&PeerInfo>);

    /// The handshake on an attached pipe completed (again, after a reconnect).
    fn peer_ready(&mut self, _pipe: PipeId, _peer: &PeerInfo) {}

    /// The connection behind a pipe ended; the pipe stays and will reconnect.
    fn peer_lost(&mut self, _pipe: PipeId) {}

    /// Removes a pipe and closes it (disconnect).
    fn detach(&mut self, pipe: PipeId);

    /// A pipe became readable or writable, or its other end closed it.
    fn pipe_event(&mut self, pipe: PipeId, event: PipeEvent);

    /// Sends a message, or hands it back with `WouldBlock`.
    fn send(&mut self, message: Message) -> Result<(), SendError>;

    /// Receives a message, or `WouldBlock`.
    fn receive(&mut self) -> Result<Message>;

    /// Whether a receive would succeed now.
    fn has_input(&mut self) -> bool;

    /// Whether a send would succeed now.
    fn has_room(&mut self) -> bool;

    /// Applies an option only some socket types understand.
    fn set_option(&mut self, _option: TypeOption) -> Result<()> {
        Err(Error::InvalidOption("not supported by this socket type"))
    }

    /// Closes the connection to the peer with this routing id (ROUTER, STREAM),
    /// as libzmq's `zmq_disconnect_peer`; other peers are untouched.
    fn disconnect_peer(&mut self, _routing_id: &[u8]) -> Result<()> {
        Err(Error::NotSupported)
    }
}

/// Builds the routing for a socket type.
pub(crate) fn routing_for(kind: SocketType) -> Result<Box<dyn Routing>> {
    match kind {
        SocketType::Pair => Ok(Box::new(pair::Pair::new())),
        SocketType::Push => Ok(Box::new(push::Push::new())),
        SocketType::Pull => Ok(Box::new(pull::Pull::new())),
        SocketType::Request => Ok(Box::new(request::Request::new())),
        SocketType::Reply => Ok(Box::new(reply::Reply::new())),
        SocketType::Dealer => Ok(Box::new(dealer::Dealer::new())),
        SocketType::Router => Ok(Box::new(router::Router::new())),
        SocketType::Publish => Ok(Box::new(publish::new())),
        SocketType::Subscribe => Ok(Box::new(subscribe::new())),
        SocketType::ExtendedPublish => {
            Ok(Box::new(xpub::ExtendedPublish::new(xpub::Flavor::Extended)))
        }
        SocketType::ExtendedSubscribe => Ok(Box::new(xsub::ExtendedSubscribe::new(
            xsub::Flavor::Extended,
        ))),
        SocketType::Stream => Ok(Box::new(stream::Stream::new())),
    }
}

/// A ZeroMQ socket.
///
/// Created by [`Context::socket`]. Calls take `&self`; a socket may move between
/// threads but is used by one at a time.
pub struct Socket {
    /// Boxed, so a socket is one pointer wide to move around.
    core: Box<RefCell<SocketCore>>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.core.try_borrow() {
            Ok(core) => formatter
                .debug_struct("Socket")
                .field("type", &core.kind())
                .finish_non_exhaustive(),
            Err(_) => formatter.write_str("Socket { .. }"),
        }
    }
}

// The context knows nothing of sockets (sockets are built on it), so the
// constructor it offers lives here, with the type it builds.
impl Context {
    /// A new socket of type `kind`.
    pub fn socket(&self, kind: SocketType) -> Result<Socket> {
        Socket::new(self.clone(), kind)
    }
}

impl Socket {
    pub(crate) fn new(context: Context, kind: SocketType) -> Result<Socket> {
        Ok(Socket {
            core: Box::new(RefCell::new(SocketCore::new(context, kind)?)),
        })
    }

    pub(crate) fn core(&self) -> std::cell::RefMut<'_, SocketCore> {
        self.core.borrow_mut()
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.core().kind()
    }

    /// Accepts connections on `endpoint` (`tcp://`, `ipc://`, `inproc://`), like
    /// `zmq_bind`.
    pub fn bind(&self, endpoint: &str) -> Result<()> {
        self.core().bind(endpoint)
    }

    /// Connects to `endpoint`, reconnecting whenever the connection drops, like
    /// `zmq_connect`. Succeeds before the peer exists.
    pub fn connect(&self, endpoint: &str) -> Result<()> {
        self.core().connect(endpoint)
    }

    /// Stops accepting on an endpoint given to `bind` (or as `last_endpoint`
    /// reported it), closing the connections it accepted, like `zmq_unbind`.
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        self.core().unbind(endpoint)
    }

    /// Drops a connection made with `connect`, like `zmq_disconnect`.
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.core().disconnect(endpoint)
    }

    /// The endpoint of the last bind, with any wildcard port filled in
    /// (ZMQ_LAST_ENDPOINT).
    pub fn last_endpoint(&self) -> Option<String> {
        self.core().last_endpoint()
    }

    /// Sends a message, waiting up to the send timeout (ZMQ_SNDTIMEO) while no peer
    /// can take it. A failed send hands the message back.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let mut core = self.core();
        let timeout = core.options().send_timeout;
        core.send(message.into(), timeout)
    }

    /// Sends a message without waiting (ZMQ_DONTWAIT): `WouldBlock` if no peer can
    /// take it now.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.core().send(message.into(), Some(Duration::ZERO))
    }

    /// Sends a message, waiting at most `timeout` (`None`: forever).
    pub fn send_with_timeout(
        &self,
        message: impl Into<Message>,
        timeout: Option<Duration>,
    ) -> Result<(), SendError> {
        self.core().send(message.into(), timeout)
    }

    /// Receives a message, waiting up to the receive timeout (ZMQ_RCVTIMEO).
    pub fn recv(&self) -> Result<Message> {
        let mut core = self.core();
        let timeout = core.options().receive_timeout;
        core.receive(timeout)
    }

    /// Receives a message without waiting (ZMQ_DONTWAIT): `WouldBlock` if none is
    /// here.
    pub fn try_recv(&self) -> Result<Message> {
        self.core().receive(Some(Duration::ZERO))
    }

    /// Receives a message, waiting at most `timeout` (`None`: forever).
    pub fn recv_with_timeout(&self, timeout: Option<Duration>) -> Result<Message> {
        self.core().receive(timeout)
    }

    /// Whether a receive would succeed now (ZMQ_EVENTS & ZMQ_POLLIN).
    pub fn is_readable(&self) -> bool {
        self.core().is_readable()
    }

    /// Whether a send would succeed now (ZMQ_EVENTS & ZMQ_POLLOUT).
    pub fn is_writable(&self) -> bool {
        self.core().is_writable()
    }

    /// A descriptor that becomes readable when this socket's readiness may have
    /// changed (ZMQ_FD), for epoll, mio, tokio's `AsyncFd` or a GUI loop. It is
    /// edge-triggered as ZMQ_FD is: when it fires, call `events`, then send or
    /// receive until `WouldBlock`; check `events` again after any send or
    /// receive before waiting on the descriptor. It starts readable.
    pub fn fd(&self) -> Result<SocketFd> {
        let core = self.core();
        Ok(SocketFd::new(core.mailbox().signal()?))
    }

    /// Whether a receive or a send would succeed now (ZMQ_EVENTS). It lowers the
    /// descriptor of `fd` before it looks, so any later change raises it again.
    pub fn events(&self) -> PollEvents {
        let mut core = self.core();
        core.mailbox().lower_signal();
        PollEvents {
            readable: core.is_readable(),
            writable: core.is_writable(),
        }
    }

    /// Applies an option particular to some socket types.
    pub fn set_type_option(&self, option: TypeOption) -> Result<()> {
        self.core().set_type_option(option)
    }

    /// Subscribes to messages starting with `prefix` (ZMQ_SUBSCRIBE; SUB).
    pub fn subscribe(&self, prefix: impl AsRef<[u8]>) -> Result<()> {
        self.set_type_option(TypeOption::Subscribe(bytes::Bytes::copy_from_slice(
            prefix.as_ref(),
        )))
    }

    /// Reports unroutable messages instead of dropping them (ZMQ_ROUTER_MANDATORY;
    /// ROUTER): `HostUnreachable` for an unknown peer, "would block" at its mark.
    pub fn set_router_mandatory(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::RouterMandatory(on))
    }

    /// Which peer events arrive as `[routing id, ""]` messages
    /// (ZMQ_ROUTER_NOTIFY; ROUTER only, for connections made after it is set).
    pub fn set_router_notify(&self, notify: crate::options::RouterNotify) -> Result<()> {
        let mut core = self.core();
        if core.kind() != SocketType::Router {
            return Err(Error::InvalidOption("ZMQ_ROUTER_NOTIFY is a ROUTER option"));
        }
        core.update_options(|options| options.router_notify = notify)
    }

    /// What ZMQ_ROUTER_NOTIFY is set to.
    pub fn router_notify(&self) -> crate::options::RouterNotify {
        self.core().options().router_notify
    }

    /// Whether each connection's start and end arrive as `[routing id, ""]`
    /// (ZMQ_STREAM_NOTIFY; STREAM only, default on, for connections made after
    /// it is set).
    pub fn set_stream_notify(&self, on: bool) -> Result<()> {
        let mut core = self.core();
        if core.kind() != SocketType::Stream {
            return Err(Error::InvalidOption("ZMQ_STREAM_NOTIFY is a STREAM option"));
        }
        core.update_options(|options| options.stream_notify = on)
    }

    /// What ZMQ_STREAM_NOTIFY is set to.
    pub fn stream_notify(&self) -> bool {
        self.core().options().stream_notify
    }

    /// Closes the connection to the peer with this routing id, and only it
    /// (ROUTER, libzmq's `zmq_disconnect_peer`; on a STREAM the same as sending
    /// `[routing id, ""]`). What was queued for it is flushed first; a peer that
    /// connected to us may connect again, as it would after any disconnect.
    /// `HostUnreachable` if no peer has that id.
    pub fn disconnect_peer(&self, routing_id: impl AsRef<[u8]>) -> Result<()> {
        self.core().disconnect_peer(routing_id.as_ref())
    }

    /// Lets a new connection with a known routing id take over from the old one
    /// (ZMQ_ROUTER_HANDOVER; ROUTER).
    pub fn set_router_handover(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::RouterHandover(on))
    }

    /// Sends an empty message to each new peer (ZMQ_PROBE_ROUTER; ROUTER, DEALER,
    /// REQ).
    pub fn set_probe_router(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::ProbeRouter(on))
    }

    /// Prefixes requests with an id and accepts only the matching reply
    /// (ZMQ_REQ_CORRELATE; REQ).
    pub fn set_request_correlate(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::RequestCorrelate(on))
    }

    /// Allows a new request before the reply, abandoning the old one
    /// (ZMQ_REQ_RELAXED; REQ).
    pub fn set_request_relaxed(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::RequestRelaxed(on))
    }

    /// Passes every subscription to the application, not only a prefix's first
    /// (ZMQ_XPUB_VERBOSE; XPUB).
    pub fn set_xpub_verbose(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::PublishVerbose(on))
    }

    /// Passes every subscription and every cancel (ZMQ_XPUB_VERBOSER; XPUB).
    pub fn set_xpub_verboser(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::PublishVerboser(on))
    }

    /// Lets the application decide what is subscribed (ZMQ_XPUB_MANUAL; XPUB).
    pub fn set_xpub_manual(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::PublishManual(on))
    }

    /// Sends this message to each new subscriber (ZMQ_XPUB_WELCOME_MSG; XPUB).
    pub fn set_xpub_welcome_message(&self, message: Option<bytes::Bytes>) -> Result<()> {
        self.set_type_option(TypeOption::PublishWelcomeMessage(message))
    }

    /// Waits instead of dropping at a subscriber's mark (ZMQ_XPUB_NODROP; PUB, XPUB).
    pub fn set_xpub_nodrop(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::PublishNoDrop(on))
    }

    /// The most one subscriber may subscribe to (PUB, XPUB; no libzmq equivalent,
    /// see `TypeOption::PublishSubscriptionLimit`).
    pub fn set_subscription_limit(&self, limit: crate::SubscriptionLimit) -> Result<()> {
        self.set_type_option(TypeOption::PublishSubscriptionLimit(limit))
    }

    /// Delivers what matches no subscription instead (ZMQ_INVERT_MATCHING; PUB,
    /// SUB, XPUB).
    pub fn set_invert_matching(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::InvertMatching(on))
    }

    /// Keeps only the newest incoming message (ZMQ_CONFLATE; SUB).
    pub fn set_conflate(&self, on: bool) -> Result<()> {
        self.set_type_option(TypeOption::Conflate(on))
    }

    /// Drops one subscription to `prefix` (ZMQ_UNSUBSCRIBE; SUB).
    pub fn unsubscribe(&self, prefix: impl AsRef<[u8]>) -> Result<()> {
        self.set_type_option(TypeOption::Unsubscribe(bytes::Bytes::copy_from_slice(
            prefix.as_ref(),
        )))
    }
}

macro_rules! option_accessors {
    ($( $(#[$doc:meta])* $field:ident: $type:ty, $setter:ident; )*) => {
        impl Socket {
            $(
                $(#[$doc])*
                pub fn $field(&self) -> $type {
                    self.core().options().$field.clone()
                }

                $(#[$doc])*
                ///
                /// Applies to binds and connects made after it is set.
                pub fn $setter(&self, value: $type) -> Result<()> {
                    self.core().update_options(|options| options.$field = value)
                }
            )*
        }
    };
}

option_accessors! {
    /// ZMQ_SNDHWM: messages queued per peer for sending (0: no limit; default 1000).
    send_high_water_mark: u32, set_send_high_water_mark;
    /// ZMQ_RCVHWM: messages queued per peer after receiving (0: no limit; default 1000).
    receive_high_water_mark: u32, set_receive_high_water_mark;
    /// ZMQ_LINGER: how long a closed socket keeps sending what is queued
    /// (`None`: until all is sent; default 30 s, where libzmq waits forever).
    linger: Option<Duration>, set_linger;
    /// ZMQ_SNDTIMEO: how long `send` waits (`None`: forever, the default).
    send_timeout: Option<Duration>, set_send_timeout;
    /// ZMQ_RCVTIMEO: how long `recv` waits (`None`: forever, the default).
    receive_timeout: Option<Duration>, set_receive_timeout;
    /// ZMQ_IMMEDIATE: queue messages only for completed connections (default off).
    immediate: bool, set_immediate;
    /// ZMQ_RECONNECT_IVL: the first wait before reconnecting (default 100 ms).
    reconnect_interval: Duration, set_reconnect_interval;
    /// ZMQ_RECONNECT_IVL_MAX: the wait doubles up to this after each failure
    /// (`None`, the default: it stays at the reconnect interval).
    reconnect_interval_max: Option<Duration>, set_reconnect_interval_max;
    /// ZMQ_ROUTING_ID: the id this socket gives its peers.
    routing_id: Option<bytes::Bytes>, set_routing_id;
    /// ZMQ_CONNECT_ROUTING_ID: the routing id a ROUTER or STREAM gives the peer of
    /// its next `connect` (used once, then cleared).
    connect_routing_id: Option<bytes::Bytes>, set_connect_routing_id;
    /// ZMQ_MAXMSGSIZE: the most bytes a received message may carry (`None`: no
    /// limit, the default); a peer sending more is disconnected.
    max_message_size: Option<u64>, set_max_message_size;
    /// ZMQ_HANDSHAKE_IVL: how long a handshake may take (default 30 s).
    handshake_interval: Option<Duration>, set_handshake_interval;
    /// ZMQ_HEARTBEAT_IVL: send a PING this often (`None`, the default: never).
    heartbeat_interval: Option<Duration>, set_heartbeat_interval;
    /// ZMQ_HEARTBEAT_TIMEOUT: close a connection silent this long after a PING.
    heartbeat_timeout: Option<Duration>, set_heartbeat_timeout;
    /// ZMQ_HEARTBEAT_TTL: ask peers to close if they hear nothing for this long.
    heartbeat_ttl: Option<Duration>, set_heartbeat_ttl;
    /// ZMQ_IPV6: bind `*` to IPv6 and IPv4, and resolve names to IPv6 too.
    ipv6: bool, set_ipv6;
    /// ZMQ_TCP_KEEPALIVE: SO_KEEPALIVE on TCP connections (`None`, the default
    /// and libzmq's -1: the system's setting, and the three below are ignored).
    tcp_keepalive: Option<bool>, set_tcp_keepalive;
    /// ZMQ_TCP_KEEPALIVE_IDLE: idle time before the first probe, whole seconds
    /// (`None`: the system's).
    tcp_keepalive_idle: Option<Duration>, set_tcp_keepalive_idle;
    /// ZMQ_TCP_KEEPALIVE_CNT: unanswered probes before the connection is dropped
    /// (`None`: the system's).
    tcp_keepalive_count: Option<u32>, set_tcp_keepalive_count;
    /// ZMQ_TCP_KEEPALIVE_INTVL: time between probes, whole seconds (`None`: the
    /// system's).
    tcp_keepalive_interval: Option<Duration>, set_tcp_keepalive_interval;
}
