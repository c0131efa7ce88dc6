//! `ZapHandler`: Sinew's ready-made ZAP handler (RFC 27), in the spirit of
//! czmq's zauth: a thread with a REP socket bound at `inproc://zeromq.zap.01` in
//! a context, answering every server socket of that context by the rules of an
//! [`Authenticator`] (addresses allowed or denied, PLAIN passwords, CURVE keys).
//!
//! An application that wants its own policy binds its own REP there instead, as
//! with libzmq; there can be only one per context. The rules can change while
//! it runs; each request is decided under the rules of the moment. Dropping the
//! handler stops its thread and unbinds the endpoint. This file must never
//! leave a request unanswered while it runs (a REP handler that skips a reply
//! blocks every later one) and never log a credential.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::poll::{PollEvents, PollItem, poll};
use crate::socket::Socket;
use crate::zap::{Authenticator, ZAP_ENDPOINT, ZapReply, decode_request, encode_reply};
use crate::zmtp::{Metadata, SocketType};
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Names each handler's stop endpoint apart.
static NEXT_HANDLER: AtomicU64 = AtomicU64::new(1);

/// A running ZAP handler; stops when dropped.
#[derive(Debug)]
pub struct ZapHandler {
    rules: Arc<Mutex<Authenticator>>,
    /// Tells the thread to stop (a PAIR, connected to the thread's own).
    stop: Socket,
    thread: Option<JoinHandle<()>>,
}

fn lock(rules: &Mutex<Authenticator>) -> MutexGuard<'_, Authenticator> {
    match rules.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl ZapHandler {
    /// Binds `inproc://zeromq.zap.01` in `context` and answers by `rules`.
    /// Fails with `AddressInUse` if the context has a ZAP handler already.
    pub fn start(context: &Context, rules: Authenticator) -> Result<ZapHandler> {
        let replier = context.socket(SocketType::Reply)?;
        replier.bind(ZAP_ENDPOINT)?;
        let name = format!(
            "inproc://sinew.zap-handler.stop.{}",
            NEXT_HANDLER.fetch_add(1, Ordering::Relaxed)
        );
        let listener = context.socket(SocketType::Pair)?;
        listener.bind(&name)?;
        let stop = context.socket(SocketType::Pair)?;
        stop.connect(&name)?;
        let rules = Arc::new(Mutex::new(rules));
        let shared = Arc::clone(&rules);
        let thread = std::thread::Builder::new()
            .name("sinew-zap-handler".to_owned())
            .spawn(move || serve(&replier, &listener, &shared))
            .map_err(Error::Io)?;
        Ok(ZapHandler {
            rules,
            stop,
            thread: Some(thread),
        })
    }

    /// Changes the rules; requests from now on are decided by the new ones.
    pub fn update(&self, change: impl FnOnce(&mut Authenticator)) {
        change(&mut lock(&self.rules));
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        // A failed send means the thread's end is gone: it has stopped already.
        let _ = self.stop.send(Message::from(Bytes::new()));
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the ZAP handler's thread panicked");
        }
    }
}

/// Answers requests until told to stop or the context ends.
fn serve(replier: &Socket, listener: &Socket, rules: &Mutex<Authenticator>) {
    loop {
        let mut items = [
            PollItem::new(replier, PollEvents::READABLE),
            PollItem::new(listener, PollEvents::READABLE),
        ];
        if poll(&mut items, None).is_err() || items[1].is_readable() {
            return;
        }
        if !items[0].is_readable() {
            continue;
        }
        let Ok(request) = replier.try_recv() else {
            continue;
        };
        let reply = answer(&request, rules);
        if replier.send(reply).is_err() {
            return;
        }
    }
}

/// The reply to one request: the rules' verdict, or a 500 for a request that is
/// not RFC 27's (echoing its request id when it has one).
fn answer(request: &Message, rules: &Mutex<Authenticator>) -> Message {
    let frames = request.frames();
    match decode_request(frames) {
        Ok((request_id, request)) => {
            let reply = lock(rules).decide(&request);
            tracing::debug!(mechanism = ?request.mechanism, address = ?request.address,
                status = ?reply.status_code, "ZAP request answered");
            encode_reply(&request_id, &reply)
        }
        Err(error) => {
            tracing::debug!(%error, "malformed ZAP request refused");
            let request_id = frames.get(1).cloned().unwrap_or_default();
            let reply = ZapReply {
                status_code: Bytes::from_static(b"500"),
                status_text: Bytes::from(error.to_string()),
                user_id: Bytes::new(),
                metadata: Metadata::new(),
            };
            encode_reply(&request_id, &reply)
        }
    }
}
