//! `IoThread`: the mio loop that runs listeners and sessions.
//!
//! Each turn: apply the mailbox's commands, run the sessions whose deadlines passed
//! and those that stopped with work left, then sleep in mio's poll until readiness,
//! a command (the mailbox's waker is written only while the thread sleeps), or the
//! next deadline. On `Stop` it keeps running until every session has finished (the
//! lingering ones flush first), then returns. This file must never block anywhere
//! but in that poll.

use super::IoCommand;
use super::listener::Listener;
use super::mailbox::{IoMailbox, SessionActivator};
use super::timers::TimerQueue;
use crate::command::SocketId;
use crate::event::SocketEvent;
use crate::pipe::Activate;
use crate::session::{Session, Status};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The waker's token; handlers use their slab keys.
const WAKER: Token = Token(usize::MAX);

#[derive(Debug)]
enum Handler {
    Listener(Box<Listener>),
    Session(Box<Session>),
}

/// One I/O thread's state.
#[derive(Debug)]
pub(crate) struct IoThread {
    poll: Poll,
    mailbox: Arc<IoMailbox<IoCommand>>,
    handlers: Slab<Handler>,
    timers: TimerQueue,
    /// Sessions that stopped with work left.
    ready: VecDeque<usize>,
    stopping: bool,
}

impl IoThread {
    /// Starts an I/O thread; returns it and its mailbox.
    pub(crate) fn spawn(index: usize) -> io::Result<(JoinHandle<()>, Arc<IoMailbox<IoCommand>>)> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let mailbox = Arc::new(IoMailbox::new(waker));
        let thread = IoThread {
            poll,
            mailbox: Arc::clone(&mailbox),
            handlers: Slab::new(),
            timers: TimerQueue::default(),
            ready: VecDeque::new(),
            stopping: false,
        };
        let handle = std::thread::Builder::new()
            .name(format!("sinew-io-{index}"))
            .spawn(move || thread.run())?;
        Ok((handle, mailbox))
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let now = Instant::now();
            self.process_commands(now);
            while let Some(token) = self.timers.pop_due(now) {
                self.drive(token, now);
            }
            for _ in 0..self.ready.len() {
                if let Some(token) = self.ready.pop_front() {
                    self.drive(token, now);
                }
            }
            if self.stopping && self.handlers.is_empty() {
                return;
            }
            let mut timeout = if self.ready.is_empty() {
                self.timers.next_timeout(now)
            } else {
                Some(Duration::ZERO)
            };
            if timeout != Some(Duration::ZERO) && !self.mailbox.prepare_to_sleep() {
                timeout = Some(Duration::ZERO);
            }
            if let Err(error) = self.poll.poll(&mut events, timeout)
                && error.kind() != io::ErrorKind::Interrupted
            {
                tracing::error!(%error, "I/O thread poll failed");
            }
            self.mailbox.awake();
            let now = Instant::now();
            for event in events.iter() {
                let token = event.token();
                if token == WAKER {
                    continue;
                }
                let readable = event.is_readable() || event.is_read_closed() || event.is_error();
                let writable = event.is_writable() || event.is_write_closed() || event.is_error();
                self.handle_event(token.0, readable, writable, now);
            }
        }
    }

    fn handle_event(&mut self, token: usize, readable: bool, writable: bool, now: Instant) {
        match self.handlers.get_mut(token) {
            Some(Handler::Listener(_)) => self.accept(token, now),
            Some(Handler::Session(session)) => {
                session.set_ready(readable, writable);
                self.drive(token, now);
            }
            None => {}
        }
    }

    fn accept(&mut self, token: usize, now: Instant) {
        loop {
            let Some(Handler::Listener(listener)) = self.handlers.get(token) else {
                return;
            };
            match listener.acceptor.accept() {
                Ok(stream) => {
                    listener.link.events.raise(
                        SocketEvent::Accepted,
                        stream.raw_fd() as u32,
                        &listener.endpoint,
                    );
                    let session = Session::accepted(
                        Arc::clone(&listener.link),
                        listener.endpoint.clone(),
                        stream,
                        now,
                    );
                    self.add_session(Box::new(session), now);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    // Out of file descriptors, or a connection reset while queued:
                    // try again on the next readiness.
                    tracing::warn!(%error, "accept failed");
                    listener.link.events.raise(
                        SocketEvent::AcceptFailed,
                        error.raw_os_error().unwrap_or(0) as u32,
                        &listener.endpoint,
                    );
                    return;
                }
            }
        }
    }

    fn add_session(&mut self, session: Box<Session>, now: Instant) {
        let entry = self.handlers.vacant_entry();
        let token = entry.key();
        let session = entry.insert(Handler::Session(session));
        if let Handler::Session(session) = session {
            let activator: Arc<dyn Activate> = Arc::new(SessionActivator::new(
                Arc::clone(&self.mailbox),
                IoCommand::Activate,
                token,
            ));
            session.register(self.poll.registry(), token, activator);
        }
        self.drive(token, now);
    }

    fn drive(&mut self, token: usize, now: Instant) {
        let Some(Handler::Session(session)) = self.handlers.get_mut(token) else {
            return;
        };
        match session.run(self.poll.registry(), now) {
            Status::Keep { more } => {
                if more {
                    self.ready.push_back(token);
                }
                self.timers.schedule(token, session.deadline());
            }
            Status::Remove => self.remove(token),
        }
    }

    fn remove(&mut self, token: usize) {
        self.timers.remove(token);
        match self.handlers.try_remove(token) {
            Some(Handler::Session(mut session)) => session.deregister(self.poll.registry()),
            Some(Handler::Listener(mut listener)) => {
                let _ = self.poll.registry().deregister(&mut listener.acceptor);
            }
            None => {}
        }
    }

    fn process_commands(&mut self, now: Instant) {
        while let Some(command) = self.mailbox.receive() {
            match command {
                IoCommand::Listen(mut listener) => {
                    let entry = self.handlers.vacant_entry();
                    let token = entry.key();
                    if let Err(error) = self.poll.registry().register(
                        &mut listener.acceptor,
                        Token(token),
                        Interest::READABLE,
                    ) {
                        tracing::error!(%error, endpoint = %listener.endpoint, "could not listen");
                        continue;
                    }
                    entry.insert(Handler::Listener(listener));
                }
                IoCommand::Connect(session) => self.add_session(session, now),
                IoCommand::Activate(token) => self.drive(token, now),
                IoCommand::CloseEndpoint {
                    socket,
                    endpoint,
                    linger,
                } => self.close_endpoint(socket, &endpoint, linger, now),
                IoCommand::CloseSocket {
                    socket,
                    linger,
                    monitor,
                } => {
                    self.close_socket(socket, linger, now);
                    monitor.count_down();
                }
                IoCommand::Stop => self.stopping = true,
            }
        }
    }

    /// Unbind (a listener and what it accepted) or disconnect (a connecting
    /// session): listeners go at once, sessions flush for up to `linger`.
    fn close_endpoint(
        &mut self,
        socket: SocketId,
        endpoint: &str,
        linger: Option<Duration>,
        now: Instant,
    ) {
        let doomed: Vec<usize> = self
            .handlers
            .iter()
            .filter(|(_, handler)| match handler {
                Handler::Listener(listener) => {
                    listener.link.id == socket && listener.endpoint == endpoint
                }
                Handler::Session(session) => {
                    session.socket() == socket && session.endpoint() == endpoint
                }
            })
            .map(|(token, _)| token)
            .collect();
        for token in doomed {
            match self.handlers.get_mut(token) {
                Some(Handler::Session(session)) => {
                    session.close_endpoint(linger, now);
                    self.drive(token, now);
                }
                Some(Handler::Listener(_)) => self.remove(token),
                None => {}
            }
        }
    }

    fn close_socket(&mut self, socket: SocketId, linger: Option<Duration>, now: Instant) {
        let mut tokens = Vec::new();
        let mut mailbox = None;
        for (token, handler) in &self.handlers {
            let link = match handler {
                Handler::Listener(listener) => &listener.link,
                Handler::Session(session) => session.link(),
            };
            if link.id == socket {
                tokens.push(token);
                mailbox.get_or_insert_with(|| Arc::clone(&link.mailbox));
            }
        }
        // Pipes sent to the socket after it closed would never be read: drop them,
        // which closes them, so their sessions can finish.
        if let Some(mailbox) = mailbox {
            while let Some(command) = mailbox.receive() {
                drop(command);
            }
        }
        for token in tokens {
            match self.handlers.get_mut(token) {
                Some(Handler::Listener(_)) => self.remove(token),
                Some(Handler::Session(session)) => {
                    session.close(linger, now);
                    self.drive(token, now);
                }
                None => {}
            }
        }
    }
}
