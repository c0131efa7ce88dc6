//! Endpoint strings: `tcp://host:port`, `ipc://path` (or `ipc://@abstract`),
//! `inproc://name`, parsed as libzmq accepts them.
//!
//! TCP hosts are `*` (every interface, binding only), an IPv4 address, an IPv6
//! address in brackets, or a name resolved when used; the port is a number, or `*`
//! or 0 for any free port (binding only). This file only parses and formats: it must
//! never resolve a name or touch the network.

use crate::error::Error;
use std::fmt;
use std::path::PathBuf;

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// TCP over IPv4 or IPv6.
    Tcp(TcpAddress),
    /// A Unix domain socket.
    Ipc(IpcAddress),
    /// In-process, between sockets of one context.
    Inproc(String),
}

/// A TCP host and port as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcpAddress {
    /// `*`, an address, or a name (IPv6 without brackets).
    pub host: String,
    /// The port; 0 means any free port.
    pub port: u16,
}

/// A Unix domain socket address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IpcAddress {
    /// A path in the file system.
    Path(PathBuf),
    /// A Linux abstract socket name (written `ipc://@name`).
    Abstract(Vec<u8>),
    /// `ipc://*`: a fresh path chosen when binding.
    Any,
}

impl Endpoint {
    /// Parses an endpoint string.
    pub fn parse(text: &str) -> Result<Endpoint, Error> {
        let invalid = |reason: &str| Error::InvalidEndpoint {
            endpoint: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("expected transport://address"))?;
        match scheme {
            "tcp" => parse_tcp(rest).map(Endpoint::Tcp).map_err(&invalid),
            "ipc" => {
                if rest.is_empty() {
                    Err(invalid("empty path"))
                } else if rest == "*" {
                    Ok(Endpoint::Ipc(IpcAddress::Any))
                } else if let Some(name) = rest.strip_prefix('@') {
                    Ok(Endpoint::Ipc(IpcAddress::Abstract(
                        name.as_bytes().to_vec(),
                    )))
                } else {
                    Ok(Endpoint::Ipc(IpcAddress::Path(PathBuf::from(rest))))
                }
            }
            "inproc" => {
                if rest.is_empty() {
                    Err(invalid("empty name"))
                } else {
                    Ok(Endpoint::Inproc(rest.to_owned()))
                }
            }
            "pgm" | "epgm" | "norm" | "udp" | "vmci" | "tipc" | "ws" | "wss" => {
                Err(invalid("transport not supported"))
            }
            _ => Err(invalid("unknown transport")),
        }
    }

    /// Whether this endpoint may be connected to (no wildcard host or port).
    pub fn check_connectable(&self, text: &str) -> Result<(), Error> {
        let invalid = |reason: &str| Error::InvalidEndpoint {
            endpoint: text.to_owned(),
            reason: reason.to_owned(),
        };
        match self {
            Endpoint::Tcp(address) if address.host == "*" => Err(invalid("cannot connect to *")),
            Endpoint::Tcp(address) if address.port == 0 => Err(invalid("cannot connect to port 0")),
            Endpoint::Ipc(IpcAddress::Any) => Err(invalid("cannot connect to ipc://*")),
            _ => Ok(()),
        }
    }
}

fn parse_tcp(rest: &str) -> Result<TcpAddress, &'static str> {
    // Source addresses (`src;dst`) are not supported.
    if rest.contains(';') {
        return Err("source addresses are not supported");
    }
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("missing ] after IPv6 address")?;
        let port = after.strip_prefix(':').ok_or("missing :port")?;
        (host, port)
    } else {
        rest.rsplit_once(':').ok_or("missing :port")?
    };
    if host.is_empty() {
        return Err("empty host");
    }
    let port = match port {
        "*" => 0,
        digits => digits
            .parse::<u16>()
            .map_err(|_| "port is not a number from 0 to 65535")?,
    };
    Ok(TcpAddress {
        host: host.to_owned(),
        port,
    })
}

impl fmt::Display for Endpoint {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp(address) if address.host.contains(':') => {
                write!(formatter, "tcp://[{}]:{}", address.host, address.port)
            }
            Endpoint::Tcp(address) => write!(formatter, "tcp://{}:{}", address.host, address.port),
            Endpoint::Ipc(IpcAddress::Path(path)) => write!(formatter, "ipc://{}", path.display()),
            Endpoint::Ipc(IpcAddress::Abstract(name)) => {
                write!(formatter, "ipc://@{}", String::from_utf8_lossy(name))
            }
            Endpoint::Ipc(IpcAddress::Any) => formatter.write_str("ipc://*"),
            Endpoint::Inproc(name) => write!(formatter, "inproc://{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp(TcpAddress {
            host: host.to_owned(),
            port,
        })
    }

    #[test]
    fn parses_what_libzmq_accepts() {
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:5555").unwrap(),
            tcp("127.0.0.1", 5555)
        );
        assert_eq!(Endpoint::parse("tcp://*:*").unwrap(), tcp("*", 0));
        assert_eq!(Endpoint::parse("tcp://[::1]:80").unwrap(), tcp("::1", 80));
        assert_eq!(
            Endpoint::parse("tcp://localhost:1").unwrap(),
            tcp("localhost", 1)
        );
        assert_eq!(
            Endpoint::parse("ipc:///tmp/a.sock").unwrap(),
            Endpoint::Ipc(IpcAddress::Path("/tmp/a.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("ipc://@abstract").unwrap(),
            Endpoint::Ipc(IpcAddress::Abstract(b"abstract".to_vec()))
        );
        assert_eq!(
            Endpoint::parse("inproc://x").unwrap(),
            Endpoint::Inproc("x".to_owned())
        );
    }

    #[test]
    fn refuses_malformed_endpoints() {
        for text in [
            "tcp://127.0.0.1",
            "tcp://:5",
            "tcp://host:99999",
            "tcp://[::1:5",
            "udp://x:1",
            "nothing",
            "inproc://",
            "ipc://",
            "tcp://a;b:1",
        ] {
            assert!(Endpoint::parse(text).is_err(), "{text}");
        }
        let wildcard = Endpoint::parse("tcp://*:5").unwrap();
        assert!(wildcard.check_connectable("tcp://*:5").is_err());
    }

    #[test]
    fn formats_back() {
        for text in [
            "tcp://1.2.3.4:5",
            "tcp://[::1]:6",
            "ipc://@x",
            "ipc:///p",
            "inproc://n",
        ] {
            assert_eq!(Endpoint::parse(text).unwrap().to_string(), text);
        }
    }
}
