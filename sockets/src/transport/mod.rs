//! Transports: endpoint parsing, and the byte streams and listeners of tcp:// and
//! ipc:// that engines and the I/O thread use. inproc:// has no stream at all: it
//! joins two sockets' pipes directly (see `inproc`).
//!
//! This layer only opens, accepts and moves bytes; it knows nothing of ZMTP. It must
//! never block: every stream and listener is non-blocking and driven by mio.

pub mod endpoint;
pub mod inproc;
pub mod ipc;
pub mod reconnect;
mod send_queue;
pub mod tcp;

use std::io::{self, IoSlice, Read, Write};

pub use endpoint::{Endpoint, IpcAddress, TcpAddress};

/// A connected byte stream.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection (TCP_NODELAY on).
    Tcp(mio::net::TcpStream),
    /// A Unix domain socket connection.
    Unix(mio::net::UnixStream),
}

impl Stream {
    /// Reads into `buffer`.
    pub fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => stream.read(buffer),
            Stream::Unix(stream) => stream.read(buffer),
        }
    }

    /// Writes from `buffers`, gathered.
    pub fn write_vectored(&mut self, buffers: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => stream.write_vectored(buffers),
            Stream::Unix(stream) => stream.write_vectored(buffers),
        }
    }

    /// Whether bytes written are still waiting for the peer: for TCP, bytes its
    /// kernel has not acknowledged; for a Unix socket, bytes its process has not
    /// read. `None` if the system cannot say.
    pub fn has_unacknowledged_output(&self) -> Option<bool> {
        let length = match self {
            Stream::Tcp(stream) => send_queue::length(stream),
            Stream::Unix(stream) => send_queue::length(stream),
        };
        length.map(|length| length > 0)
    }

    /// Shuts our side down for writing: the peer reads what was sent, then EOF.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.shutdown(std::net::Shutdown::Write),
            Stream::Unix(stream) => stream.shutdown(std::net::Shutdown::Write),
        }
    }

    /// The pending socket error, if any (how a failed non-blocking connect shows).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Stream::Tcp(stream) => stream.take_error(),
            Stream::Unix(stream) => stream.take_error(),
        }
    }

    /// Whether a non-blocking connect has completed.
    pub fn is_connected(&self) -> bool {
        match self {
            Stream::Tcp(stream) => stream.peer_addr().is_ok(),
            Stream::Unix(stream) => stream.peer_addr().is_ok(),
        }
    }

    /// Sets TCP_NODELAY on TCP streams; libzmq always does.
    pub fn set_nodelay(&self) {
        if let Stream::Tcp(stream) = self
            && let Err(error) = stream.set_nodelay(true)
        {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    }

    /// Applies keepalive settings to a TCP stream, as libzmq's
    /// `tune_tcp_keepalives`: nothing unless enabled is set; then SO_KEEPALIVE,
    /// and each parameter that is set. Failures are logged, not fatal.
    pub fn set_keepalive(&self, keepalive: &crate::options::Keepalive) {
        let Stream::Tcp(stream) = self else {
            return;
        };
        let Some(enabled) = keepalive.enabled else {
            return;
        };
        let socket = socket2::SockRef::from(stream);
        if let Err(error) = socket.set_keepalive(enabled) {
            tracing::debug!(%error, "could not set SO_KEEPALIVE");
            return;
        }
        if !enabled {
            return;
        }
        let seconds = |duration: std::time::Duration| {
            std::time::Duration::from_secs(duration.as_secs().max(1))
        };
        let mut parameters = socket2::TcpKeepalive::new();
        if let Some(idle) = keepalive.idle {
            parameters = parameters.with_time(seconds(idle));
        }
        if let Some(interval) = keepalive.interval {
            parameters = parameters.with_interval(seconds(interval));
        }
        if let Some(count) = keepalive.count {
            parameters = parameters.with_retries(count);
        }
        if let Err(error) = socket.set_tcp_keepalive(&parameters) {
            tracing::debug!(%error, "could not set the TCP keepalive parameters");
        }
    }

    /// The stream's descriptor (the value of socket events about it).
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(stream) => stream.as_raw_fd(),
            Stream::Unix(stream) => stream.as_raw_fd(),
        }
    }

    /// Whether this is a TCP stream.
    pub fn is_tcp(&self) -> bool {
        matches!(self, Stream::Tcp(_))
    }

    /// Registers the stream with an I/O thread's poll for both readiness kinds.
    pub(crate) fn register_with(&mut self, registry: &mio::Registry, token: usize) {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if let Err(error) = registry.register(self, mio::Token(token), interest) {
            tracing::error!(%error, "could not register a connection with the I/O thread");
        }
    }

    /// For a stream whose writing side is shut down: whether the peer took
    /// everything sent, or closed. Reading first (and discarding) also empties
    /// our receive queue, so the close that follows is a clean one rather than a
    /// reset.
    pub(crate) fn drained(&mut self) -> bool {
        self.peer_has_closed() || self.has_unacknowledged_output() == Some(false)
    }

    /// Reads and discards what the peer sends; true once it has closed (or
    /// failed).
    fn peer_has_closed(&mut self) -> bool {
        let mut discard = [0u8; 4096];
        loop {
            match self.read(&mut discard) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return false,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// The peer's numeric IP address (no port), as libzmq's `Peer-Address`
    /// message property gives it; `None` for Unix sockets.
    pub fn peer_ip(&self) -> Option<String> {
        match self {
            Stream::Tcp(stream) => stream
                .peer_addr()
                .ok()
                .map(|address| address.ip().to_string()),
            Stream::Unix(_) => None,
        }
    }

    /// The peer's address, for logs.
    pub fn peer_description(&self) -> String {
        match self {
            Stream::Tcp(stream) => stream
                .peer_addr()
                .map(|address| address.to_string())
                .unwrap_or_default(),
            Stream::Unix(_) => "unix peer".to_owned(),
        }
    }
}

impl mio::event::Source for Stream {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.register(registry, token, interests),
            Stream::Unix(stream) => stream.register(registry, token, interests),
        }
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.reregister(registry, token, interests),
            Stream::Unix(stream) => stream.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.deregister(registry),
            Stream::Unix(stream) => stream.deregister(registry),
        }
    }
}

/// A listening socket.
#[derive(Debug)]
pub enum Acceptor {
    /// A TCP listener.
    Tcp(mio::net::TcpListener),
    /// A Unix domain socket listener, with the file to remove when it closes.
    Unix(mio::net::UnixListener, Option<ipc::SocketFile>),
}

impl Acceptor {
    /// The listening descriptor (the value of LISTENING and CLOSED events).
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Acceptor::Tcp(listener) => listener.as_raw_fd(),
            Acceptor::Unix(listener, _) => listener.as_raw_fd(),
        }
    }

    /// Accepts one pending connection.
    pub fn accept(&self) -> io::Result<Stream> {
        match self {
            Acceptor::Tcp(listener) => {
                let (stream, _) = listener.accept()?;
                let stream = Stream::Tcp(stream);
                stream.set_nodelay();
                Ok(stream)
            }
            Acceptor::Unix(listener, _) => {
                let (stream, _) = listener.accept()?;
                Ok(Stream::Unix(stream))
            }
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        if let Acceptor::Unix(_, Some(file)) = self {
            // libzmq removes the socket file it created when the listener closes.
            file.remove();
        }
    }
}

impl mio::event::Source for Acceptor {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Acceptor::Tcp(listener) => listener.register(registry, token, interests),
            Acceptor::Unix(listener, _) => listener.register(registry, token, interests),
        }
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Acceptor::Tcp(listener) => listener.reregister(registry, token, interests),
            Acceptor::Unix(listener, _) => listener.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self {
            Acceptor::Tcp(listener) => listener.deregister(registry),
            Acceptor::Unix(listener, _) => listener.deregister(registry),
        }
    }
}

/// Opens a non-blocking connection to a tcp:// or ipc:// endpoint.
pub fn connect(endpoint: &Endpoint, ipv6: bool) -> io::Result<Stream> {
    match endpoint {
        Endpoint::Tcp(address) => {
            let target = tcp::resolve(address, ipv6)?;
            let stream = mio::net::TcpStream::connect(target)?;
            Ok(Stream::Tcp(stream))
        }
        Endpoint::Ipc(address) => ipc::connect(address).map(Stream::Unix),
        Endpoint::Inproc(_) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "inproc has no stream",
        )),
    }
}
