//! inproc://: two sockets of one context joined by a pipe, with no I/O thread.
//!
//! The registry maps names to binders. Connecting to a bound name creates the pipe
//! at once and hands the binder its end through its mailbox; connecting before the
//! bind works, as in libzmq 4.x: the pipe is created with the connector's marks and
//! waits in the registry until the bind. Each direction's high-water mark is the
//! sender's send mark plus the receiver's receive mark (0 if either is 0), as
//! libzmq sums them. This file must never deliver a pipe to an incompatible socket
//! type.

use crate::command::{SocketCommand, SocketId, SocketLink, ZapDirectory};
use crate::error::{Error, Result};
use crate::pipe::{PipeEnd, pipe_pair};
use crate::zmtp::{Metadata, PeerInfo, Revision, SocketType};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A connection made before its bind.
#[derive(Debug)]
struct Pending {
    /// The end the binder will get.
    binder_end: PipeEnd,
    connector: Arc<SocketLink>,
}

#[derive(Debug)]
enum Entry {
    Bound(Arc<SocketLink>),
    Pending(Vec<Pending>),
}

/// Every inproc name of a context.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: HashMap<String, Entry>,
}

/// What a socket's inproc peer learns about it.
pub(crate) fn peer_info(link: &SocketLink) -> PeerInfo {
    PeerInfo {
        socket_type: link.kind,
        routing_id: link.options.routing_id.clone(),
        metadata: Metadata::new(),
        revision: Revision::V3_1,
    }
}

/// The name a ZAP handler binds (RFC 27), without `inproc://`.
const ZAP_NAME: &str = "zeromq.zap.01";

impl ZapDirectory for Mutex<Registry> {
    fn connect_zap(&self) -> Option<PipeEnd> {
        let registry = match self.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        registry.connect_zap()
    }
}

fn summed(send: u32, receive: u32) -> u32 {
    if send == 0 || receive == 0 {
        0
    } else {
        send.saturating_add(receive)
    }
}

impl Registry {
    /// Binds `name`; returns the pipes of connections that were waiting for it.
    pub(crate) fn bind(
        &mut self,
        name: &str,
        binder: Arc<SocketLink>,
    ) -> Result<Vec<(PipeEnd, PeerInfo)>> {
        let waiting = match self.entries.remove(name) {
            Some(Entry::Bound(existing)) => {
                self.entries.insert(name.to_owned(), Entry::Bound(existing));
                return Err(Error::AddressInUse(format!("inproc://{name}")));
            }
            Some(Entry::Pending(waiting)) => waiting,
            None => Vec::new(),
        };
        let mut attached = Vec::new();
        for pending in waiting {
            let connector = &pending.connector;
            if !binder.kind.is_compatible(connector.kind) {
                tracing::warn!(name, binder = %binder.kind, connector = %connector.kind,
                    "inproc connection refused: incompatible socket types");
                continue;
            }
            let binder_end = pending.binder_end;
            binder_end.set_outbound_capacity(summed(
                binder.options.send_high_water_mark,
                connector.options.receive_high_water_mark,
            ));
            binder_end.set_inbound_capacity(summed(
                connector.options.send_high_water_mark,
                binder.options.receive_high_water_mark,
            ));
            connector.mailbox.send(SocketCommand::PeerReady {
                pipe: binder_end.id(),
                peer: peer_info(&binder),
            });
            attached.push((binder_end, peer_info(connector)));
        }
        self.entries.insert(name.to_owned(), Entry::Bound(binder));
        Ok(attached)
    }

    /// Connects to `name`; returns the connector's end and, if bound, the binder.
    pub(crate) fn connect(
        &mut self,
        name: &str,
        connector: Arc<SocketLink>,
    ) -> Result<(PipeEnd, Option<PeerInfo>)> {
        match self.entries.get_mut(name) {
            Some(Entry::Bound(binder)) => {
                if !connector.kind.is_compatible(binder.kind) {
                    return Err(Error::InvalidEndpoint {
                        endpoint: format!("inproc://{name}"),
                        reason: format!(
                            "a {} socket cannot talk to the {} socket bound there",
                            connector.kind, binder.kind
                        ),
                    });
                }
                let (ours, theirs) = pipe_pair(
                    summed(
                        connector.options.send_high_water_mark,
                        binder.options.receive_high_water_mark,
                    ),
                    summed(
                        binder.options.send_high_water_mark,
                        connector.options.receive_high_water_mark,
                    ),
                );
                binder.mailbox.send(SocketCommand::Attach {
                    pipe: theirs,
                    peer: Some(peer_info(&connector)),
                });
                Ok((ours, Some(peer_info(binder))))
            }
            Some(Entry::Pending(waiting)) => {
                let (ours, theirs) = pipe_pair(
                    connector.options.send_high_water_mark,
                    connector.options.receive_high_water_mark,
                );
                waiting.push(Pending {
                    binder_end: theirs,
                    connector,
                });
                Ok((ours, None))
            }
            None => {
                let (ours, theirs) = pipe_pair(
                    connector.options.send_high_water_mark,
                    connector.options.receive_high_water_mark,
                );
                self.entries.insert(
                    name.to_owned(),
                    Entry::Pending(vec![Pending {
                        binder_end: theirs,
                        connector,
                    }]),
                );
                Ok((ours, None))
            }
        }
    }

    /// A pipe to the ZAP handler, attached to it now, as libzmq's
    /// `zap_connect` makes one: without a high-water mark either way, and only to
    /// a REP or a ROUTER (the handler sees the requester as a DEALER: a request
    /// starts with the empty delimiter). `None` if no such socket is bound.
    fn connect_zap(&self) -> Option<PipeEnd> {
        let Some(Entry::Bound(handler)) = self.entries.get(ZAP_NAME) else {
            return None;
        };
        if !matches!(handler.kind, SocketType::Reply | SocketType::Router) {
            tracing::warn!(kind = %handler.kind, "the socket bound at inproc://{ZAP_NAME} is no REP or ROUTER; no ZAP handler is asked");
            return None;
        }
        let (ours, theirs) = pipe_pair(0, 0);
        handler.mailbox.send(SocketCommand::Attach {
            pipe: theirs,
            peer: Some(PeerInfo {
                socket_type: SocketType::Dealer,
                routing_id: None,
                metadata: Metadata::new(),
                revision: Revision::V3_1,
            }),
        });
        Some(ours)
    }

    /// Removes `name` if `socket` bound it.
    pub(crate) fn unbind(&mut self, name: &str, socket: SocketId) {
        if matches!(self.entries.get(name), Some(Entry::Bound(binder)) if binder.id == socket) {
            self.entries.remove(name);
        }
    }

    /// Removes every name `socket` bound, and its connections still waiting.
    pub(crate) fn remove_socket(&mut self, socket: SocketId) {
        self.entries.retain(|_, entry| match entry {
            Entry::Bound(binder) => binder.id != socket,
            Entry::Pending(waiting) => {
                waiting.retain(|pending| pending.connector.id != socket);
                !waiting.is_empty()
            }
        });
    }
}
