//! One blocking connection to one Kafka broker: TCP with timeouts, ApiVersions
//! first, then one request at a time, each answer read with a deadline and its
//! correlation id checked.
//!
//! Each API is asked at the highest version both this codec and the broker
//! support, so the same client speaks to sinew-broker's Kafka door and to a
//! Kafka broker. The connection never encodes or parses a message itself (the
//! door's codec does), never pipelines, never panics on what the broker sends,
//! and never reserves memory for bytes that have not arrived.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::error::{Error, Result, check};
use crate::doors::kafka::{
    ApiKey, ApiVersionRange, ApiVersionsRequest, ErrorCode, RequestBody, RequestHeader,
    ResponseBody, decode_response, encode_request, join, split_frame,
};

/// The largest answer accepted (a size prefix beyond it is refused unread).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// How much is read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// A connection to one broker, its API versions known.
#[derive(Debug)]
pub struct Connection {
    address: String,
    stream: TcpStream,
    buffer: BytesMut,
    client_id: String,
    timeout: Duration,
    next_correlation_id: i32,
    versions: Vec<ApiVersionRange>,
}

impl Connection {
    /// Connects to `address` (`HOST:PORT`) within `timeout` and asks for the
    /// broker's API versions; `timeout` also bounds every answer after.
    pub fn connect(address: &str, client_id: &str, timeout: Duration) -> Result<Connection> {
        let stream = open(address, timeout)?;
        let io = |source| Error::Io {
            address: address.to_owned(),
            source,
        };
        stream.set_nodelay(true).map_err(io)?;
        stream.set_write_timeout(non_zero(timeout)).map_err(io)?;
        let mut connection = Connection {
            address: address.to_owned(),
            stream,
            buffer: BytesMut::new(),
            client_id: client_id.to_owned(),
            timeout,
            next_correlation_id: 0,
            versions: Vec::new(),
        };
        connection.versions = connection.ask_versions()?;
        Ok(connection)
    }

    /// The broker's address, as connected to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The broker's ApiVersions answer.
    pub fn broker_versions(&self) -> &[ApiVersionRange] {
        &self.versions
    }

    /// The highest version of `api` both this codec and the broker support.
    pub fn version(&self, api: ApiKey) -> Result<i16> {
        let ours = api.range();
        self.versions
            .iter()
            .find(|range| range.api_key == api.number())
            .map(|theirs| {
                (
                    ours.min.max(theirs.min_version),
                    ours.max.min(theirs.max_version),
                )
            })
            .filter(|(low, high)| low <= high)
            .map(|(_, high)| high)
            .ok_or_else(|| Error::UnsupportedVersion {
                address: self.address.clone(),
                api,
            })
    }

    /// Sends `body` at [`Connection::version`] and waits for its answer.
    pub fn send(&mut self, body: &RequestBody) -> Result<ResponseBody> {
        let version = self.version(body.api_key())?;
        self.send_at(version, body)
    }

    /// Sends `body` at `version` (within the codec's range) and waits for its
    /// answer, at most the connection's timeout. After any error but
    /// [`Error::Kafka`] and [`Error::Protocol`] the connection's state is
    /// unknown (an answer may still come): drop it and connect again.
    pub fn send_at(&mut self, version: i16, body: &RequestBody) -> Result<ResponseBody> {
        let api = body.api_key();
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        let header = RequestHeader {
            api_key: api,
            api_version: version,
            correlation_id,
            client_id: Some(self.client_id.clone()),
        };
        let frame = join(&encode_request(&header, body));
        self.stream.write_all(&frame).map_err(|source| Error::Io {
            address: self.address.clone(),
            source,
        })?;
        let answer = self.read_frame(api)?;
        let (received, body) =
            decode_response(api, version, answer).map_err(|source| Error::Decode {
                address: self.address.clone(),
                api,
                version,
                source,
            })?;
        if received != correlation_id {
            return Err(Error::CorrelationId {
                address: self.address.clone(),
                sent: correlation_id,
                received,
            });
        }
        Ok(body)
    }

    /// ApiVersions at this codec's highest version; a broker that does not know
    /// it answers error 35 with its own range, and is asked again within it.
    fn ask_versions(&mut self) -> Result<Vec<ApiVersionRange>> {
        let ours = ApiKey::ApiVersions.range();
        let request = RequestBody::ApiVersions(ApiVersionsRequest {
            client_software_name: Some("sinew".to_owned()),
            client_software_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        });
        let mut version = ours.max;
        loop {
            let ResponseBody::ApiVersions(answer) = self.send_at(version, &request)? else {
                return Err(self.unexpected(ApiKey::ApiVersions));
            };
            if answer.error_code == ErrorCode::UnsupportedVersion {
                let theirs = answer
                    .api_keys
                    .iter()
                    .find(|range| range.api_key == ApiKey::ApiVersions.number())
                    .map_or(-1, |range| range.max_version);
                if theirs < version && theirs >= ours.min {
                    version = theirs;
                    continue;
                }
            }
            check(answer.error_code, || {
                format!("asking {} for its API versions", self.address)
            })?;
            return Ok(answer.api_keys);
        }
    }

    /// An answer of another API than asked (never from this codec's decoder).
    pub(crate) fn unexpected(&self, api: ApiKey) -> Error {
        Error::Protocol(format!(
            "{} answered {api:?} with another API",
            self.address
        ))
    }

    /// Reads one whole answer frame, within the timeout.
    fn read_frame(&mut self, api: ApiKey) -> Result<Bytes> {
        let deadline = Instant::now() + self.timeout;
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            let frame = split_frame(&mut self.buffer, MAX_RESPONSE_BYTES).map_err(|source| {
                Error::Frame {
                    address: self.address.clone(),
                    source,
                }
            })?;
            if let Some(frame) = frame {
                return Ok(frame);
            }
            let timed_out = || Error::TimedOut {
                address: self.address.clone(),
                api,
                timeout: self.timeout,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(left) = non_zero(left) else {
                return Err(timed_out());
            };
            let io = |source| Error::Io {
                address: self.address.clone(),
                source,
            };
            self.stream.set_read_timeout(Some(left)).map_err(io)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(Error::Closed {
                        address: self.address.clone(),
                    });
                }
                Ok(read) => self
                    .buffer
                    .extend_from_slice(chunk.get(..read).unwrap_or_default()),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return Err(timed_out());
                }
                Err(error) => return Err(io(error)),
            }
        }
    }
}

/// `Some(duration)` unless it is zero (which sockets refuse as a timeout).
fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

/// Resolves `HOST:PORT` and connects to the first address that answers.
fn open(address: &str, timeout: Duration) -> Result<TcpStream> {
    let invalid = |reason: String| Error::InvalidAddress {
        address: address.to_owned(),
        reason,
    };
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err(invalid("expected HOST:PORT".to_owned()));
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(invalid("expected HOST:PORT".to_owned()));
    }
    let candidates: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|error| invalid(error.to_string()))?
        .collect();
    let timeout = non_zero(timeout).unwrap_or(Duration::from_millis(1));
    let mut last = None;
    for candidate in candidates {
        match TcpStream::connect_timeout(&candidate, timeout) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = Some(error),
        }
    }
    Err(match last {
        Some(source) => Error::Connect {
            address: address.to_owned(),
            source,
        },
        None => invalid("the host has no address".to_owned()),
    })
}

/// `HOST:PORT` for a broker a Kafka answer names (brackets for IPv6).
pub(crate) fn host_port(host: &str, port: i32) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
