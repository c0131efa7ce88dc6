//! Socket options shared by every socket type, with libzmq's defaults.
//!
//! Each field's doc names the libzmq option it stands for. Options apply to binds
//! and connects made after they are set, as in libzmq; a snapshot travels with each
//! connection to its I/O thread. Options particular to one socket type (SUBSCRIBE,
//! ROUTER_MANDATORY, ...) are `TypeOption`s handled by that type. This file must
//! never hold state that changes while a connection runs.

use bytes::Bytes;
use std::time::Duration;

/// libzmq's default high-water mark, in messages.
pub const DEFAULT_HIGH_WATER_MARK: u32 = 1000;
/// libzmq's default ZMQ_RECONNECT_IVL.
pub const DEFAULT_RECONNECT_INTERVAL: Duration = Duration::from_millis(100);
/// Sinew's default ZMQ_LINGER: libzmq waits forever; a dropped context waiting
/// forever on a peer that never comes is a common hang, so Sinew waits 30 seconds.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(30);

/// TCP keepalive settings (ZMQ_TCP_KEEPALIVE and its parameters); `None`
/// leaves the system's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keepalive {
    /// SO_KEEPALIVE; `None` (libzmq's -1) sets nothing at all, parameters
    /// included, as libzmq does.
    pub enabled: Option<bool>,
    /// TCP_KEEPIDLE, in whole seconds (at least 1).
    pub idle: Option<std::time::Duration>,
    /// TCP_KEEPCNT.
    pub count: Option<u32>,
    /// TCP_KEEPINTVL, in whole seconds (at least 1).
    pub interval: Option<std::time::Duration>,
}

/// ZMQ_ROUTER_NOTIFY (ROUTER): which peer events the socket receives as a
/// message `[routing id, ""]` (libzmq's ZMQ_NOTIFY_CONNECT and
/// ZMQ_NOTIFY_DISCONNECT). Connect is announced once the handshake completes;
/// disconnect when a connection that completed its handshake ends (the peer
/// left or failed), not when this socket closes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterNotify {
    /// ZMQ_NOTIFY_CONNECT.
    pub connect: bool,
    /// ZMQ_NOTIFY_DISCONNECT.
    pub disconnect: bool,
}

/// Options common to every socket type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// ZMQ_SNDHWM: messages queued per peer for sending; 0 means no limit.
    pub send_high_water_mark: u32,
    /// ZMQ_RCVHWM: messages queued per peer after receiving; 0 means no limit.
    pub receive_high_water_mark: u32,
    /// ZMQ_LINGER: how long a closed socket keeps sending what is queued
    /// (`None`: until everything is sent).
    pub linger: Option<Duration>,
    /// ZMQ_SNDTIMEO: how long a blocking send waits (`None`: forever).
    pub send_timeout: Option<Duration>,
    /// ZMQ_RCVTIMEO: how long a blocking receive waits (`None`: forever).
    pub receive_timeout: Option<Duration>,
    /// ZMQ_IMMEDIATE: queue messages only for completed connections.
    pub immediate: bool,
    /// ZMQ_RECONNECT_IVL: the first wait before reconnecting.
    pub reconnect_interval: Duration,
    /// ZMQ_RECONNECT_IVL_MAX: the wait doubles after each failure up to this
    /// (`None`: it stays at the reconnect interval).
    pub reconnect_interval_max: Option<Duration>,
    /// ZMQ_ROUTING_ID: the id sent to peers (REQ, DEALER, ROUTER send it).
    pub routing_id: Option<Bytes>,
    /// ZMQ_CONNECT_ROUTING_ID: the routing id a ROUTER or STREAM gives the peer of
    /// its next `connect` (used by one connect, then cleared).
    pub connect_routing_id: Option<Bytes>,
    /// ZMQ_MAXMSGSIZE: the most bytes a received multipart message may carry
    /// (`None`: unlimited, libzmq's -1).
    pub max_message_size: Option<u64>,
    /// ZMQ_HANDSHAKE_IVL: how long a handshake may take (`None`: forever).
    pub handshake_interval: Option<Duration>,
    /// ZMQ_HEARTBEAT_IVL: send a PING this often (`None`: no heartbeats).
    pub heartbeat_interval: Option<Duration>,
    /// ZMQ_HEARTBEAT_TIMEOUT: close a connection silent this long after a PING
    /// (`None`: the heartbeat interval).
    pub heartbeat_timeout: Option<Duration>,
    /// ZMQ_HEARTBEAT_TTL: ask peers to close if they hear nothing for this long.
    pub heartbeat_ttl: Option<Duration>,
    /// ZMQ_IPV6: `*` binds to every IPv6 and IPv4 address, and names may resolve
    /// to IPv6 addresses.
    pub ipv6: bool,
    /// ZMQ_TCP_KEEPALIVE: SO_KEEPALIVE on TCP connections (`None`, libzmq's -1:
    /// leave the system's setting, and ignore the three below).
    pub tcp_keepalive: Option<bool>,
    /// ZMQ_TCP_KEEPALIVE_IDLE: idle time before the first probe (TCP_KEEPIDLE,
    /// whole seconds; `None`: the system's).
    pub tcp_keepalive_idle: Option<Duration>,
    /// ZMQ_TCP_KEEPALIVE_CNT: unanswered probes before the connection is dropped
    /// (TCP_KEEPCNT; `None`: the system's).
    pub tcp_keepalive_count: Option<u32>,
    /// ZMQ_TCP_KEEPALIVE_INTVL: time between probes (TCP_KEEPINTVL, whole seconds;
    /// `None`: the system's).
    pub tcp_keepalive_interval: Option<Duration>,
    /// ZMQ_ROUTER_NOTIFY: ROUTER sockets only (set through
    /// `Socket::set_router_notify`, which refuses other types); the sessions of
    /// its connections read it.
    pub router_notify: RouterNotify,
    /// The security options (ZMQ_PLAIN_*, ZMQ_CURVE_*, ZMQ_ZAP_*), set through
    /// `Socket::set_plain_server` and its neighbours.
    pub security: SecurityOptions,
    /// ZMQ_STREAM_NOTIFY: STREAM sockets only (set through
    /// `Socket::set_stream_notify`): each connection's start and end arrive as
    /// `[routing id, ""]` (default on, as in libzmq).
    pub stream_notify: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            send_high_water_mark: DEFAULT_HIGH_WATER_MARK,
            receive_high_water_mark: DEFAULT_HIGH_WATER_MARK,
            linger: Some(DEFAULT_LINGER),
            send_timeout: None,
            receive_timeout: None,
            immediate: false,
            reconnect_interval: DEFAULT_RECONNECT_INTERVAL,
            reconnect_interval_max: None,
            routing_id: None,
            connect_routing_id: None,
            max_message_size: None,
            handshake_interval: Some(crate::zmtp::connection::DEFAULT_HANDSHAKE_TIMEOUT),
            heartbeat_interval: None,
            heartbeat_timeout: None,
            heartbeat_ttl: None,
            ipv6: false,
            tcp_keepalive: None,
            tcp_keepalive_idle: None,
            tcp_keepalive_count: None,
            tcp_keepalive_interval: None,
            router_notify: RouterNotify::default(),
            security: SecurityOptions::default(),
            stream_notify: true,
        }
    }
}

impl Options {
    /// The keepalive settings for TCP connections, as libzmq applies them.
    pub(crate) fn keepalive(&self) -> Keepalive {
        Keepalive {
            enabled: self.tcp_keepalive,
            idle: self.tcp_keepalive_idle,
            count: self.tcp_keepalive_count,
            interval: self.tcp_keepalive_interval,
        }
    }

    /// The protocol settings for one connection of a socket of type `socket_type`.
    pub(crate) fn connection_config(
        &self,
        socket_type: crate::zmtp::SocketType,
    ) -> crate::zmtp::Config {
        let mut config = crate::zmtp::Config::new(socket_type);
        config.routing_id = self.routing_id.clone();
        config.max_message_size = self.max_message_size;
        config.handshake_timeout = self.handshake_interval;
        config.heartbeat = crate::zmtp::Heartbeat {
            interval: self.heartbeat_interval,
            timeout: self.heartbeat_timeout,
            ttl: self.heartbeat_ttl,
        };
        config.security = self.security.connection_security();
        config
    }
}

/// Which mechanism the security options name: the last one set, as in libzmq.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MechanismChoice {
    /// NULL (no option set, or a PLAIN user name or password cleared).
    #[default]
    Null,
    /// PLAIN.
    Plain,
    /// CURVE.
    Curve,
}

/// A socket's security options (its `Debug` shows no secret).
#[derive(Clone, Default)]
pub struct SecurityOptions {
    /// The mechanism named last.
    pub mechanism: MechanismChoice,
    /// ZMQ_PLAIN_SERVER.
    pub plain_server: bool,
    /// ZMQ_PLAIN_USERNAME.
    pub plain_username: Bytes,
    /// ZMQ_PLAIN_PASSWORD (its `Debug` hides it).
    pub plain_password: Bytes,
    /// ZMQ_CURVE_SERVER.
    pub curve_server: bool,
    /// ZMQ_CURVE_PUBLICKEY.
    pub curve_public_key: Option<crate::curve::PublicKey>,
    /// ZMQ_CURVE_SECRETKEY (its `Debug` hides it).
    pub curve_secret_key: Option<crate::curve::SecretKey>,
    /// ZMQ_CURVE_SERVERKEY.
    pub curve_server_key: Option<crate::curve::PublicKey>,
    /// ZMQ_ZAP_DOMAIN.
    pub zap_domain: Bytes,
    /// ZMQ_ZAP_ENFORCE_DOMAIN.
    pub zap_enforce_domain: bool,
}

impl std::fmt::Debug for SecurityOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SecurityOptions")
            .field("mechanism", &self.mechanism)
            .field("plain_server", &self.plain_server)
            .field("plain_username", &self.plain_username)
            .field("curve_server", &self.curve_server)
            .field("curve_public_key", &self.curve_public_key)
            .field("curve_server_key", &self.curve_server_key)
            .field("zap_domain", &self.zap_domain)
            .field("zap_enforce_domain", &self.zap_enforce_domain)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SecurityOptions {
    fn eq(&self, other: &SecurityOptions) -> bool {
        let same_secret = match (&self.curve_secret_key, &other.curve_secret_key) {
            (Some(ours), Some(theirs)) => ours.as_bytes() == theirs.as_bytes(),
            (None, None) => true,
            _ => false,
        };
        self.mechanism == other.mechanism
            && self.plain_server == other.plain_server
            && self.plain_username == other.plain_username
            && self.plain_password == other.plain_password
            && self.curve_server == other.curve_server
            && self.curve_public_key == other.curve_public_key
            && same_secret
            && self.curve_server_key == other.curve_server_key
            && self.zap_domain == other.zap_domain
            && self.zap_enforce_domain == other.zap_enforce_domain
    }
}

impl Eq for SecurityOptions {}

impl SecurityOptions {
    /// The mechanism and settings of one connection. Servers ask the ZAP
    /// handler about each client, and the connection's owner applies libzmq's
    /// defaults when none is bound: a PLAIN server refuses every client; a
    /// CURVE server admits any client key, unless ZMQ_ZAP_ENFORCE_DOMAIN is on
    /// with a ZAP_DOMAIN set (then it refuses). With ZMQ_ZAP_ENFORCE_DOMAIN on
    /// and no domain, a libzmq 4.3 CURVE server asks no handler at all and
    /// admits every client; so does this one. Keys not set are zeros, on which
    /// the handshake fails, as libzmq's does.
    pub(crate) fn connection_security(&self) -> crate::zmtp::Security {
        use crate::curve::{KeyPair, PublicKey, SecretKey};
        use crate::zmtp::Security;
        use crate::zmtp::mechanism::{CurveRole, Plain};
        let keys = || {
            KeyPair::from_secret(
                self.curve_secret_key
                    .clone()
                    .unwrap_or_else(|| SecretKey::from_bytes([0; 32])),
            )
        };
        match self.mechanism {
            // libzmq asks ZAP about NULL peers only with a ZAP domain.
            MechanismChoice::Null if self.zap_domain.is_empty() => Security::Null,
            MechanismChoice::Null => Security::NullWithZap {
                enforce_domain: self.zap_enforce_domain,
            },
            MechanismChoice::Plain if self.plain_server => Security::Plain(Plain::Server {
                zap_handler: true,
                zap_domain: self.zap_domain.clone(),
            }),
            MechanismChoice::Plain => Security::Plain(Plain::Client {
                username: self.plain_username.clone(),
                password: self.plain_password.clone(),
            }),
            // libzmq 4.3's curve_server: ZAP is asked unless ZAP_ENFORCE_DOMAIN
            // is on with no domain, which admits every client unasked.
            MechanismChoice::Curve if self.curve_server => Security::Curve(CurveRole::Server {
                keys: keys(),
                zap: !self.zap_domain.is_empty() || !self.zap_enforce_domain,
                enforce_domain: self.zap_enforce_domain,
            }),
            MechanismChoice::Curve => Security::curve_client(
                keys(),
                self.curve_server_key
                    .unwrap_or_else(|| PublicKey::from_bytes([0; 32])),
            ),
        }
    }
}

/// An option that only some socket types understand.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeOption {
    /// ZMQ_SUBSCRIBE (SUB): receive messages starting with this prefix.
    Subscribe(Bytes),
    /// ZMQ_UNSUBSCRIBE (SUB): drop one subscription to this prefix.
    Unsubscribe(Bytes),
    /// ZMQ_CONFLATE (SUB, PULL, DEALER, PUSH, PAIR): keep only the newest message.
    Conflate(bool),
    /// ZMQ_ROUTER_MANDATORY (ROUTER): report unroutable messages instead of
    /// dropping them.
    RouterMandatory(bool),
    /// ZMQ_ROUTER_HANDOVER (ROUTER): a new connection with a known routing id takes
    /// over from the old one.
    RouterHandover(bool),
    /// ZMQ_PROBE_ROUTER (ROUTER, DEALER, REQ): send an empty message on connect.
    ProbeRouter(bool),
    /// ZMQ_REQ_CORRELATE (REQ): prefix requests with an id and match replies to it.
    RequestCorrelate(bool),
    /// ZMQ_REQ_RELAXED (REQ): allow a new request before the reply, abandoning the
    /// old one.
    RequestRelaxed(bool),
    /// ZMQ_XPUB_VERBOSE (XPUB): pass every subscribe to the application.
    PublishVerbose(bool),
    /// ZMQ_XPUB_VERBOSER (XPUB): pass every subscribe and cancel.
    PublishVerboser(bool),
    /// ZMQ_XPUB_MANUAL (XPUB): the application decides what is subscribed.
    PublishManual(bool),
    /// ZMQ_XPUB_WELCOME_MSG (XPUB): send this to each new subscriber.
    PublishWelcomeMessage(Option<Bytes>),
    /// ZMQ_XPUB_NODROP (XPUB, PUB): block instead of dropping at the mark.
    PublishNoDrop(bool),
    /// ZMQ_INVERT_MATCHING (PUB, SUB, XPUB): deliver messages that match no
    /// subscription instead.
    InvertMatching(bool),
    /// No libzmq equivalent (PUB, XPUB): the most one peer may subscribe to
    /// (default 100 000 prefixes and 16 MiB of prefix bytes; 0 means no limit, as
    /// in libzmq). A subscription past the limit is ignored: it is not stored, not
    /// passed upstream, and logged once per peer.
    PublishSubscriptionLimit(crate::routing::subscriptions::SubscriptionLimit),
}
