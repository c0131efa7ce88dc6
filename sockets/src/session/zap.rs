//! A connection's ZAP client (RFC 27): asks the context's handler about one
//! client and reads its verdict, as libzmq's `zap_client.cpp` does, over a pipe
//! to the REP or ROUTER bound at `inproc://zeromq.zap.01`.
//!
//! A request is the empty delimiter, then RFC 27's frames under request id
//! "1" (libzmq's); a reply must be the delimiter and RFC 27's six frames, else
//! the client is refused with the ZAP protocol error libzmq reports. The pipe
//! wakes the session when the reply comes, and is closed when the verdict is in
//! or the session goes. This file must never block, never wait for a handler
//! that went away, and never admit a client on a reply it could not read.

use crate::command::SocketLink;
use crate::message::Message;
use crate::pipe::{Activate, Item, PipeEnd, Read};
use crate::zap::{ZapError, decode_reply, encode_request};
use crate::zmtp::mechanism::{ZapReply, ZapRequest};
use crate::zmtp::{ProtocolError, ZapProblem};
use bytes::Bytes;
use std::sync::Arc;

/// The request id of every request: one request per pipe, as in libzmq.
const REQUEST_ID: &[u8] = b"1";

/// One request on its way to the handler.
#[derive(Debug)]
pub(crate) struct ZapClient {
    pipe: PipeEnd,
}

impl ZapClient {
    /// Sends `request` to the ZAP handler of `link`'s context; `None` if no
    /// handler is bound. `activator` is woken when the reply arrives.
    pub(crate) fn ask(
        link: &SocketLink,
        request: &ZapRequest,
        activator: Option<&Arc<dyn Activate>>,
    ) -> Option<ZapClient> {
        let directory = link.zap.upgrade()?;
        let mut pipe = directory.connect_zap()?;
        if let Some(activator) = activator {
            pipe.set_activator(Arc::clone(activator));
        }
        let body = encode_request(&Bytes::from_static(REQUEST_ID), request);
        let message = Message::from_frames(
            std::iter::once(Bytes::new()).chain(body.frames().iter().cloned()),
        );
        // The pipe has no high-water mark, and the handler cannot have closed
        // an end it has not been given yet; were the write refused, the first
        // poll finds the pipe closed.
        let _ = pipe.write(Item::Message(message));
        pipe.flush();
        Some(ZapClient { pipe })
    }

    /// The handler's reply, once it has come (`Ok(None)` until then: reading an
    /// empty pipe arms its wake-up).
    pub(crate) fn poll(&mut self) -> Result<Option<ZapReply>, ProtocolError> {
        match self.pipe.read() {
            Read::Empty => Ok(None),
            Read::Closed => Err(ProtocolError::ZapFailed {
                problem: ZapProblem::Unspecified,
                reason: "the ZAP handler went away before it replied".to_owned(),
            }),
            Read::Item(Item::Message(message)) => read_reply(&message).map(Some),
            Read::Item(_) => Err(malformed("the ZAP handler sent a subscription".to_owned())),
        }
    }
}

/// Reads `[delimiter, version, request id, status code, status text, user id,
/// metadata]`.
fn read_reply(message: &Message) -> Result<ZapReply, ProtocolError> {
    let Some((delimiter, rest)) = message.frames().split_first() else {
        return Err(malformed("the ZAP reply is empty".to_owned()));
    };
    if !delimiter.is_empty() {
        return Err(malformed(
            "the ZAP reply does not start with an empty delimiter".to_owned(),
        ));
    }
    decode_reply(rest, REQUEST_ID).map_err(|error| {
        let problem = match &error {
            ZapError::Version { .. } => ZapProblem::BadVersion,
            ZapError::RequestId { .. } => ZapProblem::BadRequestId,
            ZapError::StatusCode { .. } => ZapProblem::InvalidStatusCode,
            ZapError::Metadata { .. } => ZapProblem::InvalidMetadata,
            _ => ZapProblem::MalformedReply,
        };
        ProtocolError::ZapFailed {
            problem,
            reason: error.to_string(),
        }
    })
}

fn malformed(reason: String) -> ProtocolError {
    ProtocolError::ZapFailed {
        problem: ZapProblem::MalformedReply,
        reason,
    }
}
