//! ZMQ_TCP_KEEPALIVE and its parameters reach the kernel on both the connected
//! and the accepted TCP socket, as libzmq's `tune_tcp_keepalives` sets them; left
//! at their defaults (libzmq's -1) nothing is set.
//!
//! The test finds its own connections among the process's descriptors (by their
//! ports) and reads the options back with getsockopt.

use sinew::{Context, SocketType};
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

/// What getsockopt says of one TCP socket.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    keepalive: bool,
    idle: Duration,
    interval: Duration,
    count: u32,
}

/// The TCP sockets of this process whose local or peer port is `port`, and
/// what their keepalive options are.
fn sockets_on(port: u16) -> Vec<(SocketAddr, Seen)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let Ok(entry) = entry else { continue };
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<RawFd>() else {
            continue;
        };
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        if !target.to_string_lossy().starts_with("socket:") {
            continue;
        }
        // SAFETY: the descriptor was open a moment ago and belongs to a socket
        // this test holds open (its Sinew sockets are connected and idle while it
        // looks); it is only borrowed for getsockopt, never closed here.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let (Ok(local), Ok(peer)) = (socket.local_addr(), socket.peer_addr()) else {
            continue;
        };
        let (Some(local), Some(peer)) = (local.as_socket(), peer.as_socket()) else {
            continue;
        };
        if local.port() != port && peer.port() != port {
            continue;
        }
        let seen = Seen {
            keepalive: socket.keepalive().expect("SO_KEEPALIVE"),
            idle: socket.tcp_keepalive_time().expect("TCP_KEEPIDLE"),
            interval: socket.tcp_keepalive_interval().expect("TCP_KEEPINTVL"),
            count: socket.tcp_keepalive_retries().expect("TCP_KEEPCNT"),
        };
        found.push((local, seen));
    }
    found
}

fn connected_pair(configure: impl Fn(&sinew::Socket)) -> (sinew::Socket, sinew::Socket, u16) {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    configure(&pull);
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    configure(&push);
    push.connect(&endpoint).unwrap();
    // A message through proves both ends are connected (and accepted).
    push.send("up").unwrap();
    pull.set_receive_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(pull.recv().unwrap().frames()[0], "up");
    (push, pull, port)
}

#[test]
fn keepalive_options_reach_both_ends_of_a_connection() {
    let (_push, _pull, port) = connected_pair(|socket| {
        socket.set_tcp_keepalive(Some(true)).unwrap();
        socket
            .set_tcp_keepalive_idle(Some(Duration::from_secs(7)))
            .unwrap();
        socket
            .set_tcp_keepalive_interval(Some(Duration::from_secs(2)))
            .unwrap();
        socket.set_tcp_keepalive_count(Some(3)).unwrap();
    });
    let found = sockets_on(port);
    // The listener has no peer; the connected and the accepted stream remain.
    assert_eq!(found.len(), 2, "{found:?}");
    for (address, seen) in found {
        assert_eq!(
            seen,
            Seen {
                keepalive: true,
                idle: Duration::from_secs(7),
                interval: Duration::from_secs(2),
                count: 3,
            },
            "the socket at {address}"
        );
    }
}

#[test]
fn by_default_keepalive_is_left_to_the_system() {
    let (_push, _pull, port) = connected_pair(|_| {});
    let found = sockets_on(port);
    assert_eq!(found.len(), 2, "{found:?}");
    for (address, seen) in found {
        assert!(!seen.keepalive, "the socket at {address}: {seen:?}");
    }
}

#[test]
fn parameters_without_keepalive_on_set_nothing() {
    // libzmq sets nothing when ZMQ_TCP_KEEPALIVE is -1, parameters included.
    let (_push, _pull, port) = connected_pair(|socket| {
        socket
            .set_tcp_keepalive_idle(Some(Duration::from_secs(7)))
            .unwrap();
    });
    for (address, seen) in sockets_on(port) {
        assert!(!seen.keepalive, "{address}");
        assert_ne!(seen.idle, Duration::from_secs(7), "{address}");
    }
}
