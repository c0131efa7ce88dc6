//! `Listener`: a bound acceptor and the socket it accepts for.
//!
//! The I/O thread accepts every pending connection when the listener is readable
//! and starts a session for each. This file must never start a handshake itself.

use crate::command::SocketLink;
use crate::transport::Acceptor;
use std::sync::Arc;

/// A bound tcp:// or ipc:// endpoint.
#[derive(Debug)]
pub(crate) struct Listener {
    /// The socket that bound it.
    pub link: Arc<SocketLink>,
    /// The endpoint as bound (wildcards filled in).
    pub endpoint: String,
    /// The listening socket.
    pub acceptor: Acceptor,
}

impl Listener {
    pub(crate) fn new(link: Arc<SocketLink>, endpoint: String, acceptor: Acceptor) -> Listener {
        Listener {
            link,
            endpoint,
            acceptor,
        }
    }
}
