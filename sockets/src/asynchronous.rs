//! `AsyncSocket`: the same sockets, on the same I/O threads, as futures that run
//! on any executor (tokio, smol, async-std, futures' executor).
//!
//! A future tries the operation without waiting; if it would block, it leaves
//! its task's `Waker` on the socket's mailbox and looks once more (so a change
//! that landed in between is not missed) before returning `Pending`. The mailbox
//! wakes the task on the next command (a pipe attached, became readable or
//! writable, or the context shut down), exactly where a blocked thread would be
//! unparked. Blocking and async sockets mix freely in one context. This file must
//! never block, never spin and never depend on a runtime.

use crate::command::Waiter;
use crate::error::{Error, Result, SendError};
use crate::message::Message;
use crate::socket::Socket;
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

/// A socket used through futures. It owns its `Socket` (so its futures are
/// `Send` and may move between an executor's threads); options, binds and
/// connects go through `socket()`. The socket's send and receive timeouts do not
/// apply here: wrap a future in the executor's own timeout instead.
#[derive(Debug)]
pub struct AsyncSocket {
    socket: Socket,
}

impl From<Socket> for AsyncSocket {
    fn from(socket: Socket) -> AsyncSocket {
        AsyncSocket::new(socket)
    }
}

impl AsyncSocket {
    /// Uses `socket` through futures.
    pub fn new(socket: Socket) -> AsyncSocket {
        AsyncSocket { socket }
    }

    /// The socket, for options, `bind`, `connect` and the like.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The socket back, for blocking use.
    pub fn into_socket(self) -> Socket {
        self.socket
    }

    /// Sends a message once a peer can take it. A failed send hands the message
    /// back.
    pub fn send(&mut self, message: impl Into<Message>) -> SendFuture<'_> {
        SendFuture {
            socket: &mut self.socket,
            message: Some(message.into()),
        }
    }

    /// Sends the frames as one multipart message.
    pub fn send_multipart<I, F>(&mut self, frames: I) -> SendFuture<'_>
    where
        I: IntoIterator<Item = F>,
        F: Into<Bytes>,
    {
        self.send(Message::from_frames(frames))
    }

    /// Receives the next message once one is here.
    pub fn recv(&mut self) -> RecvFuture<'_> {
        RecvFuture {
            socket: &mut self.socket,
        }
    }

    /// Receives the next message as its frames.
    pub async fn recv_multipart(&mut self) -> Result<Vec<Bytes>> {
        Ok(self.recv().await?.into_frames().collect())
    }

    /// Polls for a message: `Pending` (with the task's waker left on the socket)
    /// while none is here.
    pub fn poll_recv(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<Message>> {
        poll_recv(&self.socket, task)
    }
}

/// The future of `AsyncSocket::send`.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a> {
    socket: &'a mut Socket,
    message: Option<Message>,
}

impl Future for SendFuture<'_> {
    type Output = Result<(), SendError>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let Some(message) = this.message.take() else {
                // Polled again after it completed: nothing left to send.
                return Poll::Ready(Err(SendError::new(Error::InvalidState, Message::new())));
            };
            match this.socket.try_send(message) {
                Err(SendError {
                    error: Error::WouldBlock,
                    message,
                }) => this.message = Some(message),
                other => return Poll::Ready(other),
            }
            if !wait_for_news(this.socket, task) {
                return Poll::Pending;
            }
        }
    }
}

/// The future of `AsyncSocket::recv`.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct RecvFuture<'a> {
    socket: &'a mut Socket,
}

impl Future for RecvFuture<'_> {
    type Output = Result<Message>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        poll_recv(self.get_mut().socket, task)
    }
}

fn poll_recv(socket: &Socket, task: &mut TaskContext<'_>) -> Poll<Result<Message>> {
    loop {
        match socket.try_recv() {
            Err(Error::WouldBlock) => {}
            other => return Poll::Ready(other),
        }
        if !wait_for_news(socket, task) {
            return Poll::Pending;
        }
    }
}

/// Leaves the task's waker on the socket's mailbox; true if news arrived in the
/// meantime (then try again at once rather than wait for a wake-up that was
/// already spent).
fn wait_for_news(socket: &Socket, task: &mut TaskContext<'_>) -> bool {
    let core = socket.core();
    let mailbox = core.mailbox();
    mailbox.register(Waiter::Task(task.waker().clone()));
    mailbox.has_commands() || core.context().is_terminated()
}
