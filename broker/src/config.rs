//! The broker's settings: embedded defaults, a TOML file over them, flags over
//! both.
//!
//! Every setting has a default that starts a working broker on loopback (the ports
//! NATS clients and monitoring tools expect). The file may name any subset; a
//! name it does not know is an error (a misspelt setting must not be silently
//! ignored). This file must never read the environment or start anything: it only
//! turns text into a `Config` and says clearly what is wrong.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The NATS door's default address (a client's default URL).
pub const DEFAULT_NATS: &str = "127.0.0.1:4222";
/// The native door's default endpoint (a ZeroMQ endpoint: tcp, ipc or inproc).
pub const DEFAULT_LISTEN: &str = "tcp://127.0.0.1:7420";
/// The native door's endpoint in `Config::embedded`.
pub const DEFAULT_EMBEDDED_LISTEN: &str = "inproc://sinew-broker";
/// The Kafka door's default address (Kafka's port).
pub const DEFAULT_KAFKA: &str = "127.0.0.1:9092";
/// Partitions of a topic the Kafka door creates without a count (Kafka's
/// `num.partitions`).
pub const DEFAULT_KAFKA_PARTITIONS: u32 = 1;
/// The monitoring endpoint's default address (nats-server's monitoring port).
pub const DEFAULT_HTTP: &str = "127.0.0.1:8222";
/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "./sinew-data";
/// nats-server's default maximum payload: 1 MiB.
pub const DEFAULT_MAX_PAYLOAD: usize = 1 << 20;
/// nats-server's default maximum control line: 4 KiB.
pub const DEFAULT_MAX_CONTROL_LINE: usize = 4096;
/// nats-server's default connection limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64 * 1024;
/// nats-server's default for what may wait to be written to one client: 64 MiB.
pub const DEFAULT_MAX_PENDING: usize = 64 << 20;
/// The most request bytes all native-door clients together may have waiting for
/// the store (what PRODUCE requests hold until their records are written).
pub const DEFAULT_NATIVE_PENDING_BYTES: usize = 256 << 20;
/// nats-server's default ping interval: 2 minutes.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(120);
/// nats-server's default number of unanswered pings before a client is stale.
pub const DEFAULT_MAX_PINGS_OUT: u32 = 2;
/// nats-server's default time a client has to send CONNECT when authentication is
/// required: 2 seconds.
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the loop keeps polling without sleeping after its last event: 50 µs.
/// A client that answers within it (a replier, a requester waiting for its reply)
/// is served without the loop thread being woken from sleep, which on this
/// project's 2-core VM took a request-reply round trip's p50 from about 84 µs to
/// about 53 µs (`sinew bench nats request`). The cost is at most this much CPU
/// after each burst of activity; Go's scheduler spins in the same way for
/// nats-server. 0 turns it off.
pub const DEFAULT_IDLE_SPIN: Duration = Duration::from_micros(50);
/// The longest idle spin accepted: 10 ms.
pub const MAX_IDLE_SPIN: Duration = Duration::from_millis(10);

/// The longest ping interval or authentication timeout accepted.
pub const MAX_INTERVAL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Everything the broker needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the NATS door listens; `None` turns the door off (only an embedding
    /// program can: the file and the flags always name an address).
    pub nats: Option<SocketAddr>,
    /// Where monitoring is served over HTTP; `None` turns it off, as for `nats`.
    pub http: Option<SocketAddr>,
    /// Where the native door listens (a ZeroMQ endpoint: `tcp://`, `ipc://`, or
    /// `inproc://` for clients in the same program and the same sinew `Context`).
    pub listen: String,
    /// The Kafka door.
    pub kafka: Kafka,
    /// Where durable data lives (locked against a second broker).
    pub data_dir: PathBuf,
    /// Limits on what clients may send and hold.
    pub limits: Limits,
    /// Keep-alive pings to clients.
    pub ping: Ping,
    /// Who may connect.
    pub authorization: Authorization,
    /// How long the loop polls without sleeping after its last event (0: never).
    pub idle_spin: Duration,
}

/// Limits on what clients may send and hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest payload a client may publish.
    pub max_payload: usize,
    /// The longest protocol line a client may send.
    pub max_control_line: usize,
    /// The most clients connected at once.
    pub max_connections: usize,
    /// The most bytes that may wait to be written to one client; a client over it
    /// is closed as a slow consumer.
    pub max_pending: usize,
    /// The most request bytes all native-door clients together may have waiting
    /// for the store; requests past it get TOO_MANY_PENDING.
    pub native_pending_bytes: usize,
}

/// The Kafka door's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kafka {
    /// Where it listens; `None` turns it off (only an embedding program can).
    pub listen: Option<SocketAddr>,
    /// The `host:port` Metadata and FindCoordinator tell clients to connect to;
    /// `None` is the address the door is bound to.
    pub advertised: Option<String>,
    /// Metadata creates the topics it is asked about (Kafka's
    /// `auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of a topic created without a count (Kafka's `num.partitions`).
    pub default_partitions: u32,
}

/// Keep-alive pings to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    /// How often an idle client is pinged.
    pub interval: Duration,
    /// How many pings may go unanswered before the client is closed as stale.
    pub max_outstanding: u32,
}

/// Who may connect: nobody needs credentials, one token, or named users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorization {
    /// A token every client must present (`auth_token`).
    pub token: Option<String>,
    /// Users and their passwords (`user`, `pass`).
    pub users: Vec<User>,
    /// How long a client has to send CONNECT when credentials are required.
    pub timeout: Duration,
}

impl Authorization {
    /// Whether clients must present credentials.
    pub fn required(&self) -> bool {
        self.token.is_some() || !self.users.is_empty()
    }
}

/// One user allowed to connect.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The name clients send as `user`.
    pub user: String,
    /// The password clients send as `pass`.
    pub password: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            nats: Some(parse_address(DEFAULT_NATS)),
            http: Some(parse_address(DEFAULT_HTTP)),
            listen: DEFAULT_LISTEN.to_owned(),
            kafka: Kafka {
                listen: Some(parse_address(DEFAULT_KAFKA)),
                advertised: None,
                auto_create_topics: true,
                default_partitions: DEFAULT_KAFKA_PARTITIONS,
            },
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            limits: Limits {
                max_payload: DEFAULT_MAX_PAYLOAD,
                max_control_line: DEFAULT_MAX_CONTROL_LINE,
                max_connections: DEFAULT_MAX_CONNECTIONS,
                max_pending: DEFAULT_MAX_PENDING,
                native_pending_bytes: DEFAULT_NATIVE_PENDING_BYTES,
            },
            ping: Ping {
                interval: DEFAULT_PING_INTERVAL,
                max_outstanding: DEFAULT_MAX_PINGS_OUT,
            },
            authorization: Authorization {
                timeout: DEFAULT_AUTH_TIMEOUT,
                ..Authorization::default()
            },
            idle_spin: DEFAULT_IDLE_SPIN,
        }
    }
}

/// The constants above are valid addresses; a typo in them would show at once.
fn parse_address(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// What a TOML file may say; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    nats: Option<SocketAddr>,
    http: Option<SocketAddr>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    idle_spin_us: Option<u64>,
    #[serde(default)]
    kafka: FileKafka,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    ping: FilePing,
    #[serde(default)]
    authorization: FileAuthorization,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKafka {
    listen: Option<SocketAddr>,
    advertised: Option<String>,
    auto_create_topics: Option<bool>,
    default_partitions: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_payload: Option<usize>,
    max_control_line: Option<usize>,
    max_connections: Option<usize>,
    max_pending: Option<usize>,
    native_pending_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePing {
    interval_ms: Option<u64>,
    max_outstanding: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuthorization {
    token: Option<String>,
    #[serde(default)]
    users: Vec<User>,
    timeout_ms: Option<u64>,
}

/// Settings given on the command line; each overrides the file and the default.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overrides {
    /// `--nats`
    pub nats: Option<SocketAddr>,
    /// `--http`
    pub http: Option<SocketAddr>,
    /// `--listen`
    pub listen: Option<String>,
    /// `--kafka`
    pub kafka: Option<SocketAddr>,
    /// `--kafka-advertised`
    pub kafka_advertised: Option<String>,
    /// `--data-dir`
    pub data_dir: Option<PathBuf>,
    /// `--max-payload`
    pub max_payload: Option<usize>,
    /// `--max-control-line`
    pub max_control_line: Option<usize>,
    /// `--max-connections`
    pub max_connections: Option<usize>,
    /// `--max-pending`
    pub max_pending: Option<usize>,
    /// `--native-pending-bytes`
    pub native_pending_bytes: Option<usize>,
    /// `--ping-interval-ms`
    pub ping_interval_ms: Option<u64>,
    /// `--max-pings-out`
    pub max_pings_out: Option<u32>,
    /// `--token`
    pub token: Option<String>,
    /// `--user` and `--password`
    pub user: Option<User>,
    /// `--idle-spin-us`
    pub idle_spin_us: Option<u64>,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// A setting has a value the broker cannot run with.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// The defaults, then `file` (if any), then `overrides`.
    pub fn load(
        file: Option<&std::path::Path>,
        overrides: Overrides,
    ) -> Result<Config, ConfigError> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Config::parse_file(&text).map_err(|message| ConfigError::Parse {
                    path: path.to_owned(),
                    message,
                })?
            }
            None => File::default(),
        };
        let config = Config::default().with_file(from_file).with(overrides);
        config.check()?;
        Ok(config)
    }

    /// Parses a TOML file's text; the message names what is wrong and where.
    pub fn parse_file(text: &str) -> Result<File, String> {
        toml::from_str(text).map_err(|error| error.to_string().trim_end().replace('\n', " "))
    }

    fn with_file(mut self, file: File) -> Config {
        let limits = &mut self.limits;
        set(&mut self.nats, file.nats.map(Some));
        set(&mut self.http, file.http.map(Some));
        set(&mut self.listen, file.listen);
        set(&mut self.kafka.listen, file.kafka.listen.map(Some));
        set(&mut self.kafka.advertised, file.kafka.advertised.map(Some));
        set(
            &mut self.kafka.auto_create_topics,
            file.kafka.auto_create_topics,
        );
        set(
            &mut self.kafka.default_partitions,
            file.kafka.default_partitions,
        );
        set(&mut self.data_dir, file.data_dir);
        set(
            &mut self.idle_spin,
            file.idle_spin_us.map(Duration::from_micros),
        );
        set(&mut limits.max_payload, file.limits.max_payload);
        set(&mut limits.max_control_line, file.limits.max_control_line);
        set(&mut limits.max_connections, file.limits.max_connections);
        set(&mut limits.max_pending, file.limits.max_pending);
        set(
            &mut limits.native_pending_bytes,
            file.limits.native_pending_bytes,
        );
        set(
            &mut self.ping.interval,
            file.ping.interval_ms.map(Duration::from_millis),
        );
        set(&mut self.ping.max_outstanding, file.ping.max_outstanding);
        let authorization = &mut self.authorization;
        if let Some(token) = file.authorization.token.filter(|token| !token.is_empty()) {
            authorization.token = Some(token);
        }
        authorization.users.extend(file.authorization.users);
        set(
            &mut authorization.timeout,
            file.authorization.timeout_ms.map(Duration::from_millis),
        );
        self
    }

    fn with(mut self, overrides: Overrides) -> Config {
        let limits = &mut self.limits;
        set(&mut self.nats, overrides.nats.map(Some));
        set(&mut self.http, overrides.http.map(Some));
        set(&mut self.listen, overrides.listen);
        set(&mut self.kafka.listen, overrides.kafka.map(Some));
        set(
            &mut self.kafka.advertised,
            overrides.kafka_advertised.map(Some),
        );
        set(&mut self.data_dir, overrides.data_dir);
        set(
            &mut self.idle_spin,
            overrides.idle_spin_us.map(Duration::from_micros),
        );
        set(&mut limits.max_payload, overrides.max_payload);
        set(&mut limits.max_control_line, overrides.max_control_line);
        set(&mut limits.max_connections, overrides.max_connections);
        set(&mut limits.max_pending, overrides.max_pending);
        set(
            &mut limits.native_pending_bytes,
            overrides.native_pending_bytes,
        );
        set(
            &mut self.ping.interval,
            overrides.ping_interval_ms.map(Duration::from_millis),
        );
        set(&mut self.ping.max_outstanding, overrides.max_pings_out);
        // An empty token (`--token=`) sets nothing: no client could present it.
        if let Some(token) = overrides.token.filter(|token| !token.is_empty()) {
            self.authorization.token = Some(token);
        }
        if let Some(user) = overrides.user {
            self.authorization.users.push(user);
        }
        self
    }

    /// A configuration for a broker embedded in a program (`crate::Broker`): the
    /// native door on `inproc://sinew-broker`, the NATS and Kafka doors and
    /// monitoring off,
    /// data under `data_dir`; every other setting as the defaults. Change any
    /// field before starting (a `tcp://127.0.0.1:0` endpoint, or `Some` address
    /// for a door to open it).
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            nats: None,
            http: None,
            listen: DEFAULT_EMBEDDED_LISTEN.to_owned(),
            kafka: Kafka {
                listen: None,
                ..Config::default().kafka
            },
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }

    /// Whether the broker can run with these settings; the error says which one is
    /// wrong. `load` and `crate::Broker::start` call it.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |text: &str| Err(ConfigError::Invalid(text.to_owned()));
        if self.listen.is_empty() {
            return invalid("listen must name an endpoint, such as tcp://127.0.0.1:7420");
        }
        if self.limits.max_payload == 0 {
            return invalid("max_payload must be at least 1 byte");
        }
        if self.limits.max_control_line < 64 {
            return invalid("max_control_line must be at least 64 bytes");
        }
        if self.limits.max_connections == 0 {
            return invalid("max_connections must be at least 1");
        }
        if self.limits.max_pending < self.limits.max_payload {
            return invalid("max_pending must be at least max_payload");
        }
        if self.limits.native_pending_bytes < crate::doors::native::MAX_REQUEST_BYTES {
            // The bound must hold at least one request of the largest size.
            return invalid("native_pending_bytes must be at least 8388608 (one largest request)");
        }
        if self.ping.interval.is_zero() {
            return invalid("the ping interval must be longer than 0 ms");
        }
        // Deadlines are added to the current time: keep them representable.
        if self.ping.interval > MAX_INTERVAL || self.authorization.timeout > MAX_INTERVAL {
            return invalid("the ping interval and the auth timeout must be at most 30 days");
        }
        if self.ping.max_outstanding == 0 {
            return invalid("max_pings_out must be at least 1");
        }
        if self.kafka.default_partitions == 0
            || self.kafka.default_partitions > crate::store::MAX_PARTITIONS
        {
            return invalid("kafka default_partitions must be between 1 and 10000");
        }
        if let Some(advertised) = &self.kafka.advertised
            && split_host_port(advertised).is_none()
        {
            return invalid("kafka advertised must be host:port, such as broker.example:9092");
        }
        if self.idle_spin > MAX_IDLE_SPIN {
            return invalid("idle_spin_us must be at most 10000 (10 ms)");
        }
        Ok(())
    }
}

/// `host:port` split, the port a number (an IPv6 host in brackets keeps them).
pub fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse().ok()?;
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_nats_servers_on_loopback() {
        let config = Config::load(None, Overrides::default()).unwrap();
        assert_eq!(config.nats, Some("127.0.0.1:4222".parse().unwrap()));
        assert_eq!(config.http, Some("127.0.0.1:8222".parse().unwrap()));
        assert_eq!(config.listen, "tcp://127.0.0.1:7420");
        assert_eq!(config.limits.max_payload, 1 << 20);
        assert_eq!(config.limits.max_pending, 64 << 20);
        assert_eq!(config.ping.interval, Duration::from_secs(120));
        assert!(!config.authorization.required());
    }

    #[test]
    fn a_file_overrides_defaults_and_flags_override_the_file() {
        let file = Config::parse_file(
            "nats = \"127.0.0.1:5000\"\n[limits]\nmax_payload = 2048\n\
             [authorization]\ntoken = \"s3cret\"\n\
             [[authorization.users]]\nuser = \"a\"\npassword = \"b\"\n",
        )
        .unwrap();
        let config = Config::default().with_file(file).with(Overrides {
            nats: Some("127.0.0.1:6000".parse().unwrap()),
            ..Overrides::default()
        });
        assert_eq!(
            config.nats.map(|nats| nats.port()),
            Some(6000),
            "the flag wins"
        );
        assert_eq!(config.limits.max_payload, 2048, "the file wins");
        assert_eq!(config.limits.max_control_line, 4096, "the default stays");
        assert_eq!(config.authorization.token.as_deref(), Some("s3cret"));
        assert_eq!(config.authorization.users.len(), 1);
        assert!(config.authorization.required());
    }

    #[test]
    fn unknown_or_malformed_settings_are_refused_with_their_place() {
        let error = Config::parse_file("nats_port = 4222\n").unwrap_err();
        assert!(error.contains("nats_port"), "{error}");
        let error = Config::parse_file("[limits]\nmax_payload = \"big\"\n").unwrap_err();
        assert!(error.contains("max_payload"), "{error}");
        let bad = Config {
            limits: Limits {
                max_payload: 0,
                ..Config::default().limits
            },
            ..Config::default()
        };
        assert!(matches!(bad.check(), Err(ConfigError::Invalid(_))));
        let endless = Config::default().with(Overrides {
            ping_interval_ms: Some(u64::MAX),
            ..Overrides::default()
        });
        assert!(matches!(endless.check(), Err(ConfigError::Invalid(_))));
        let spinning = Config::default().with(Overrides {
            idle_spin_us: Some(10_001),
            ..Overrides::default()
        });
        assert!(matches!(spinning.check(), Err(ConfigError::Invalid(_))));
    }

    #[test]
    fn the_native_pending_bound_comes_from_the_file_or_the_flag_and_holds_a_request() {
        assert_eq!(
            Config::default().limits.native_pending_bytes,
            DEFAULT_NATIVE_PENDING_BYTES
        );
        let file = Config::parse_file("[limits]\nnative_pending_bytes = 33554432\n").unwrap();
        let config = Config::default().with_file(file);
        assert_eq!(config.limits.native_pending_bytes, 32 << 20);
        let config = config.with(Overrides {
            native_pending_bytes: Some(16 << 20),
            ..Overrides::default()
        });
        assert_eq!(config.limits.native_pending_bytes, 16 << 20);
        assert!(config.check().is_ok());
        let small = config.with(Overrides {
            native_pending_bytes: Some(crate::doors::native::MAX_REQUEST_BYTES - 1),
            ..Overrides::default()
        });
        assert!(matches!(small.check(), Err(ConfigError::Invalid(_))));
    }

    #[test]
    fn the_native_endpoint_comes_from_the_file_or_the_flag() {
        let file = Config::parse_file("listen = \"ipc:///tmp/sinew.ipc\"\n").unwrap();
        let config = Config::default().with_file(file);
        assert_eq!(config.listen, "ipc:///tmp/sinew.ipc");
        let config = config.with(Overrides {
            listen: Some("tcp://127.0.0.1:0".to_owned()),
            ..Overrides::default()
        });
        assert_eq!(config.listen, "tcp://127.0.0.1:0");
    }

    #[test]
    fn the_idle_spin_comes_from_the_file_or_the_flag_and_zero_turns_it_off() {
        assert_eq!(Config::default().idle_spin, Duration::from_micros(50));
        let file = Config::parse_file("idle_spin_us = 0\n").unwrap();
        let config = Config::default().with_file(file);
        assert_eq!(config.idle_spin, Duration::ZERO);
        let config = config.with(Overrides {
            idle_spin_us: Some(200),
            ..Overrides::default()
        });
        assert_eq!(config.idle_spin, Duration::from_micros(200));
        assert!(config.check().is_ok());
    }

    #[test]
    fn the_embedded_config_serves_inproc_only_and_checks() {
        let config = Config::embedded("/tmp/somewhere");
        assert_eq!(config.nats, None);
        assert_eq!(config.http, None);
        assert_eq!(config.listen, "inproc://sinew-broker");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/somewhere"));
        assert_eq!(config.limits, Config::default().limits);
        assert!(config.check().is_ok());
    }
}
