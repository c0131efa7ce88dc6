//! `SocketCore`: what a socket handle owns: its options, its mailbox, its routing,
//! and the endpoints it bound or connected.
//!
//! Every call first applies the mailbox's commands, then asks the routing; a call
//! that would block parks the thread on the mailbox. Binding and connecting hand
//! listeners and sessions to an I/O thread (or join pipes directly for inproc).
//! Closing drops the routing, which closes every pipe; the I/O threads then flush
//! what was queued for up to the linger time. This file must never touch a byte
//! stream.

use super::{Routing, routing_for};
use crate::command::{SocketCommand, SocketId, SocketLink, SocketMailbox, Waiter};
use crate::context::Context;
use crate::error::{Error, Result, SendError};
use crate::event::{EventMask, EventSink, EventSlot, SocketEvent};
use crate::message::Message;
use crate::options::{Options, TypeOption};
use crate::pipe::{PipeEnd, PipeId, pipe_pair};
use crate::reactor::listener::Listener;
use crate::reactor::{IoCommand, MonitorCountdown};
use crate::session::Session;
use crate::transport::{Acceptor, Endpoint, ipc, tcp};
use crate::zmtp::{PeerInfo, SocketType};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug)]
enum EndpointKind {
    Bound {
        io_thread: usize,
        /// The listening descriptor, for the CLOSED event.
        fd: i32,
    },
    /// `pipe`: the pipe made at `connect()` (none with ZMQ_IMMEDIATE, whose
    /// pipes the session refuses when it closes).
    Connected {
        io_thread: usize,
        pipe: Option<PipeId>,
    },
    InprocBound,
    InprocConnected {
        pipe: PipeId,
    },
}

#[derive(Debug)]
struct EndpointRecord {
    /// As the application wrote it.
    given: String,
    /// As bound (wildcards filled in).
    resolved: String,
    kind: EndpointKind,
}

/// The state behind a `Socket` handle.
#[derive(Debug)]
pub(crate) struct SocketCore {
    id: SocketId,
    kind: SocketType,
    context: Context,
    options: Options,
    mailbox: Arc<SocketMailbox>,
    routing: Box<dyn Routing>,
    endpoints: Vec<EndpointRecord>,
    last_endpoint: Option<String>,
    /// The monitor, shared with every listener and session this socket made.
    events: Arc<EventSlot>,
}

impl SocketCore {
    pub(crate) fn new(context: Context, kind: SocketType) -> Result<SocketCore> {
        if context.is_terminated() {
            return Err(Error::Terminated);
        }
        let routing = routing_for(kind)?;
        let mailbox = Arc::new(SocketMailbox::new());
        let id = context.register_socket(&mailbox);
        Ok(SocketCore {
            id,
            kind,
            context,
            options: Options::default(),
            mailbox,
            routing,
            endpoints: Vec::new(),
            last_endpoint: None,
            events: Arc::new(EventSlot::default()),
        })
    }

    pub(crate) fn kind(&self) -> SocketType {
        self.kind
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    pub(crate) fn update_options(&mut self, update: impl FnOnce(&mut Options)) -> Result<()> {
        let mut options = self.options.clone();
        update(&mut options);
        if options
            .routing_id
            .as_ref()
            .is_some_and(|id| id.is_empty() || id.len() > 255)
        {
            return Err(Error::InvalidOption("a routing id is 1 to 255 bytes"));
        }
        if options
            .routing_id
            .as_ref()
            .is_some_and(|id| id.first() == Some(&0))
        {
            return Err(Error::InvalidOption(
                "routing ids starting with a zero byte are reserved for generated ids",
            ));
        }
        self.options = options;
        Ok(())
    }

    pub(crate) fn set_type_option(&mut self, option: TypeOption) -> Result<()> {
        self.check_alive()?;
        self.process_commands();
        self.routing.set_option(option)
    }

    pub(crate) fn disconnect_peer(&mut self, routing_id: &[u8]) -> Result<()> {
        self.check_alive()?;
        self.process_commands();
        self.routing.disconnect_peer(routing_id)
    }

    pub(crate) fn last_endpoint(&self) -> Option<String> {
        self.last_endpoint.clone()
    }

    fn link(&self) -> Arc<SocketLink> {
        self.link_with(None)
    }

    /// A link whose options carry `connect_routing_id` for one connect.
    fn link_with(&self, connect_routing_id: Option<bytes::Bytes>) -> Arc<SocketLink> {
        let mut options = self.options.clone();
        options.connect_routing_id = connect_routing_id;
        Arc::new(SocketLink {
            id: self.id,
            kind: self.kind,
            mailbox: Arc::clone(&self.mailbox),
            options,
            events: Arc::clone(&self.events),
            zap: self.context.zap_directory(),
        })
    }

    fn check_alive(&self) -> Result<()> {
        if self.context.is_terminated() {
            Err(Error::Terminated)
        } else {
            Ok(())
        }
    }

    pub(crate) fn bind(&mut self, text: &str) -> Result<()> {
        self.check_alive()?;
        self.process_commands();
        let endpoint = Endpoint::parse(text)?;
        let (resolved, kind) = match &endpoint {
            Endpoint::Inproc(name) => {
                let pending = self.context.inproc_bind(name, self.link())?;
                for (pipe, peer) in pending {
                    self.attach(pipe, Some(peer));
                }
                (text.to_owned(), EndpointKind::InprocBound)
            }
            Endpoint::Tcp(address) => {
                let (listener, resolved) = tcp::bind(address, self.options.ipv6, text)
                    .inspect_err(|error| self.bind_failed(text, error))?;
                let acceptor = Acceptor::Tcp(listener);
                let fd = acceptor.raw_fd();
                let io_thread = self.listen(acceptor, &resolved);
                (resolved, EndpointKind::Bound { io_thread, fd })
            }
            Endpoint::Ipc(address) => {
                let (listener, resolved, path) =
                    ipc::bind(address, text).inspect_err(|error| self.bind_failed(text, error))?;
                let acceptor = Acceptor::Unix(listener, path);
                let fd = acceptor.raw_fd();
                let io_thread = self.listen(acceptor, &resolved);
                (resolved, EndpointKind::Bound { io_thread, fd })
            }
        };
        if let EndpointKind::Bound { fd, .. } = kind {
            self.events
                .raise(SocketEvent::Listening, fd as u32, &resolved);
        }
        self.last_endpoint = Some(resolved.clone());
        self.endpoints.push(EndpointRecord {
            given: text.to_owned(),
            resolved,
            kind,
        });
        Ok(())
    }

    /// BIND_FAILED, with libzmq's value (an errno) and endpoint (the address
    /// without its scheme).
    fn bind_failed(&self, text: &str, error: &Error) {
        let errno = match error {
            Error::AddressInUse(_) => libc::EADDRINUSE,
            Error::AddressNotAvailable(_) => libc::EADDRNOTAVAIL,
            Error::Io(error) => error.raw_os_error().unwrap_or(libc::EINVAL),
            _ => libc::EINVAL,
        };
        let address = text.split_once("://").map_or(text, |(_, rest)| rest);
        self.events
            .raise(SocketEvent::BindFailed, errno as u32, address);
    }

    /// Starts sending this socket's events to `sink` (see `Socket::monitor`).
    pub(crate) fn start_monitor(&self, mask: EventMask, sink: Box<dyn EventSink>) {
        self.events.start(mask, sink);
    }

    /// Stops the monitor (MONITOR_STOPPED is its last event).
    pub(crate) fn stop_monitor(&self) {
        self.events.stop();
    }

    fn listen(&mut self, acceptor: Acceptor, resolved: &str) -> usize {
        let io_thread = self.context.choose_io_thread();
        let listener = Listener::new(self.link(), resolved.to_owned(), acceptor);
        self.context
            .send_to_io_thread(io_thread, IoCommand::Listen(Box::new(listener)));
        io_thread
    }

    pub(crate) fn connect(&mut self, text: &str) -> Result<()> {
        self.check_alive()?;
        self.process_commands();
        let endpoint = Endpoint::parse(text)?;
        endpoint.check_connectable(text)?;
        // ZMQ_CONNECT_ROUTING_ID names the peer of this one connect.
        let connect_routing_id = self.options.connect_routing_id.take();
        let link = self.link_with(connect_routing_id.clone());
        let kind = match endpoint {
            Endpoint::Inproc(name) => {
                let (pipe, mut peer) = self.context.inproc_connect(&name, Arc::clone(&link))?;
                if let (Some(peer), Some(id)) = (&mut peer, connect_routing_id) {
                    peer.routing_id = Some(id);
                }
                let id = pipe.id();
                self.attach(pipe, peer);
                EndpointKind::InprocConnected { pipe: id }
            }
            endpoint => {
                let pipe = if self.options.immediate {
                    None
                } else {
                    let (ours, theirs) = pipe_pair(
                        self.options.send_high_water_mark,
                        self.options.receive_high_water_mark,
                    );
                    self.attach(ours, None);
                    Some(theirs)
                };
                let pipe_id = pipe.as_ref().map(PipeEnd::id);
                let io_thread = self.context.choose_io_thread();
                let session = Session::connecting(link, text.to_owned(), endpoint, pipe);
                self.context
                    .send_to_io_thread(io_thread, IoCommand::Connect(Box::new(session)));
                EndpointKind::Connected {
                    io_thread,
                    pipe: pipe_id,
                }
            }
        };
        self.endpoints.push(EndpointRecord {
            given: text.to_owned(),
            resolved: text.to_owned(),
            kind,
        });
        Ok(())
    }

    pub(crate) fn unbind(&mut self, text: &str) -> Result<()> {
        self.check_alive()?;
        let index = self
            .endpoints
            .iter()
            .position(|record| {
                matches!(
                    record.kind,
                    EndpointKind::Bound { .. } | EndpointKind::InprocBound
                ) && (record.given == text || record.resolved == text)
            })
            .ok_or_else(|| Error::EndpointNotFound(text.to_owned()))?;
        let record = self.endpoints.remove(index);
        match record.kind {
            EndpointKind::Bound { io_thread, fd } => {
                self.events
                    .raise(SocketEvent::Closed, fd as u32, &record.resolved);
                self.context.send_to_io_thread(
                    io_thread,
                    IoCommand::CloseEndpoint {
                        socket: self.id,
                        endpoint: record.resolved,
                        linger: self.options.linger,
                    },
                );
            }
            _ => self.context.inproc_unbind(&record.resolved, self.id),
        }
        Ok(())
    }

    pub(crate) fn disconnect(&mut self, text: &str) -> Result<()> {
        self.check_alive()?;
        self.process_commands();
        let index = self
            .endpoints
            .iter()
            .position(|record| {
                matches!(
                    record.kind,
                    EndpointKind::Connected { .. } | EndpointKind::InprocConnected { .. }
                ) && record.given == text
            })
            .ok_or_else(|| Error::EndpointNotFound(text.to_owned()))?;
        let record = self.endpoints.remove(index);
        match record.kind {
            EndpointKind::Connected { io_thread, pipe } => {
                // No later send may go to this peer; what was queued is flushed.
                if let Some(pipe) = pipe {
                    self.routing.detach(pipe);
                }
                self.context.send_to_io_thread(
                    io_thread,
                    IoCommand::CloseEndpoint {
                        socket: self.id,
                        endpoint: record.given,
                        linger: self.options.linger,
                    },
                );
            }
            EndpointKind::InprocConnected { pipe } => self.routing.detach(pipe),
            _ => {}
        }
        Ok(())
    }

    fn attach(&mut self, pipe: PipeEnd, peer: Option<PeerInfo>) {
        pipe.set_activator(Arc::clone(&self.mailbox) as _);
        self.routing.attach(pipe, peer.as_ref());
    }

    /// Applies every command the mailbox holds.
    pub(crate) fn process_commands(&mut self) {
        // Looking first costs two loads; an empty `receive` costs a full fence
        // (crossbeam's pop), and this runs on every send and receive.
        if !self.mailbox.has_commands() {
            return;
        }
        while let Some(command) = self.mailbox.receive() {
            match command {
                SocketCommand::Attach { pipe, peer } => self.attach(pipe, peer),
                SocketCommand::PeerReady { pipe, peer } => self.routing.peer_ready(pipe, &peer),
                SocketCommand::PeerLost { pipe } => self.routing.peer_lost(pipe),
                SocketCommand::Pipe { pipe, event } => self.routing.pipe_event(pipe, event),
            }
        }
    }

    pub(crate) fn send(
        &mut self,
        mut message: Message,
        timeout: Option<Duration>,
    ) -> Result<(), SendError> {
        if message.is_empty() {
            return Err(SendError::new(Error::EmptyMessage, message));
        }
        let mut deadline = None;
        loop {
            if self.context.is_terminated() {
                return Err(SendError::new(Error::Terminated, message));
            }
            self.process_commands();
            match self.routing.send(message) {
                Ok(()) => return Ok(()),
                Err(SendError {
                    error: Error::WouldBlock,
                    message: back,
                }) => message = back,
                Err(failed) => return Err(failed),
            }
            if let Err(error) = self.wait(timeout, &mut deadline) {
                return Err(SendError::new(error, message));
            }
        }
    }

    pub(crate) fn receive(&mut self, timeout: Option<Duration>) -> Result<Message> {
        let mut deadline = None;
        loop {
            self.check_alive()?;
            self.process_commands();
            match self.routing.receive() {
                Err(Error::WouldBlock) => {}
                other => return other,
            }
            self.wait(timeout, &mut deadline)?;
        }
    }

    pub(crate) fn is_readable(&mut self) -> bool {
        self.process_commands();
        self.routing.has_input()
    }

    pub(crate) fn is_writable(&mut self) -> bool {
        self.process_commands();
        self.routing.has_room()
    }

    /// Parks until the mailbox has news, the deadline passes (`TimedOut`), or the
    /// context is shut down (`Terminated`). A zero timeout never parks
    /// (`WouldBlock`).
    fn wait(&self, timeout: Option<Duration>, deadline: &mut Option<Instant>) -> Result<()> {
        if timeout == Some(Duration::ZERO) {
            return Err(Error::WouldBlock);
        }
        if deadline.is_none() {
            // A timeout too long to represent waits forever.
            *deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        }
        self.mailbox
            .register(Waiter::Thread(std::thread::current()));
        let result = if self.mailbox.has_commands() {
            Ok(())
        } else if self.context.is_terminated() {
            Err(Error::Terminated)
        } else {
            match *deadline {
                None => {
                    std::thread::park();
                    Ok(())
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        Err(Error::TimedOut)
                    } else {
                        std::thread::park_timeout(deadline - now);
                        Ok(())
                    }
                }
            }
        };
        self.mailbox.unregister();
        result
    }

    /// The socket's mailbox, for poll.
    pub(crate) fn mailbox(&self) -> &Arc<SocketMailbox> {
        &self.mailbox
    }

    pub(crate) fn context(&self) -> &Context {
        &self.context
    }
}

impl Drop for SocketCore {
    fn drop(&mut self) {
        // Dropping the routing closes every pipe; peers still read what was queued,
        // and sessions flush it for up to the linger time.
        let closed = std::mem::replace(&mut self.routing, Box::new(super::pair::Pair::new()));
        drop(closed);
        while let Some(command) = self.mailbox.receive() {
            drop(command);
        }
        self.context.inproc_unbind_socket(self.id);
        // As libzmq: CLOSED for each listener, then MONITOR_STOPPED; nothing for
        // the connections this close tears down.
        for record in &self.endpoints {
            if let EndpointKind::Bound { fd, .. } = record.kind {
                self.events
                    .raise(SocketEvent::Closed, fd as u32, &record.resolved);
            }
        }
        let mut io_threads: Vec<usize> = self
            .endpoints
            .iter()
            .filter_map(|record| match record.kind {
                EndpointKind::Bound { io_thread, .. }
                | EndpointKind::Connected { io_thread, .. } => Some(io_thread),
                _ => None,
            })
            .collect();
        io_threads.sort_unstable();
        io_threads.dedup();
        if io_threads.is_empty() {
            self.events.stop();
        } else {
            let monitor = Arc::new(MonitorCountdown::new(
                io_threads.len(),
                Arc::clone(&self.events),
            ));
            for io_thread in io_threads {
                self.context.send_to_io_thread(
                    io_thread,
                    IoCommand::CloseSocket {
                        socket: self.id,
                        linger: self.options.linger,
                        monitor: Arc::clone(&monitor),
                    },
                );
            }
        }
        self.context.unregister_socket(self.id);
    }
}
