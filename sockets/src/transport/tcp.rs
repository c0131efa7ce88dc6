//! tcp://: resolving hosts, and binding listeners the way libzmq does.
//!
//! Listeners get SO_REUSEADDR and a backlog of 100 (libzmq's ZMQ_BACKLOG default);
//! `*` means every IPv4 interface, or every interface of both families with
//! ZMQ_IPV6. Names resolve through the system resolver, preferring IPv4 unless
//! ZMQ_IPV6 is set. This file must never connect or accept; the I/O thread does.

use super::endpoint::TcpAddress;
use crate::error::Error;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// libzmq's default ZMQ_BACKLOG.
const BACKLOG: i32 = 100;

/// The socket address a host and port stand for.
pub fn resolve(address: &TcpAddress, ipv6: bool) -> io::Result<SocketAddr> {
    if address.host == "*" {
        let any = if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Ok(SocketAddr::new(any, address.port));
    }
    if let Ok(ip) = address.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, address.port));
    }
    let candidates: Vec<SocketAddr> = (address.host.as_str(), address.port)
        .to_socket_addrs()?
        .collect();
    candidates
        .iter()
        .find(|candidate| candidate.is_ipv4() != ipv6)
        .or_else(|| {
            candidates
                .iter()
                .find(|candidate| ipv6 || candidate.is_ipv4())
        })
        .copied()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} resolves to no usable address", address.host),
            )
        })
}

/// Binds a listener; returns it with the endpoint it is bound to (the chosen port
/// filled in), as ZMQ_LAST_ENDPOINT reports it.
pub fn bind(
    address: &TcpAddress,
    ipv6: bool,
    text: &str,
) -> Result<(mio::net::TcpListener, String), Error> {
    let target = resolve(address, ipv6).map_err(|error| Error::InvalidEndpoint {
        endpoint: text.to_owned(),
        reason: error.to_string(),
    })?;
    let socket = Socket::new(
        Domain::for_address(target),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if target.is_ipv6() && target.ip().is_unspecified() {
        // With ZMQ_IPV6, `*` takes IPv4 connections too.
        let _ = socket.set_only_v6(false);
    }
    socket.set_nonblocking(true)?;
    socket
        .bind(&target.into())
        .map_err(|error| match error.kind() {
            io::ErrorKind::AddrInUse => Error::AddressInUse(text.to_owned()),
            io::ErrorKind::AddrNotAvailable => Error::AddressNotAvailable(text.to_owned()),
            _ => Error::Io(error),
        })?;
    socket.listen(BACKLOG)?;
    let listener: std::net::TcpListener = socket.into();
    let local = listener.local_addr()?;
    let endpoint = match local {
        SocketAddr::V4(v4) => format!("tcp://{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("tcp://[{}]:{}", v6.ip(), v6.port()),
    };
    Ok((mio::net::TcpListener::from_std(listener), endpoint))
}
