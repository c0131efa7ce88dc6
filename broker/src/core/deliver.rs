//! Publishing: one match against the trie, then one MSG (or HMSG) per recipient,
//! every recipient sharing the payload's bytes: the payload joins the turn's
//! payloads and each outbox splices it in by its number there (`outbox.rs`).
//!
//! Plain subscribers each get the message; each queue group gives it to one
//! member, starting from a rotating position (nats-server starts at a random
//! member; nothing here promises round-robin). A client that asked not to hear its
//! own messages (`echo: false`) is skipped, in queue groups too. A subscription
//! with a maximum ends once it is reached. A request nobody can answer gets the
//! no-responders status on the requester's own reply subscription, as nats-server
//! 2.12+ sends it. This file must never copy a payload and never let one slow
//! client hold up the others: a client over its pending limit is closed.

use super::client::{Client, Subscriber};
use super::outbox::SPLICE_PAYLOAD;
use super::stats::Stats;
use super::{ClientId, CloseReason, Core, TURN_BYTES, TURN_PAYLOADS};
use crate::doors::nats::{self as door, Publish};
use crate::subjects::{self, SubscriptionKey};
use bytes::Bytes;
use rustc_hash::FxHashMap;
use std::time::Instant;

impl Core {
    /// Routes one PUB or HPUB from client `id`.
    pub(super) fn publish(&mut self, id: ClientId, mut message: Publish, _now: Instant) {
        let Some(publisher) = self.clients.get_mut(&id) else {
            return;
        };
        // (A pedantic client's invalid subject was answered by the parser; it is
        // still delivered, as nats-server delivers it.)
        let size = message.payload.len();
        publisher.stats.published(size);
        self.stats.in_msgs += 1;
        self.stats.in_bytes += size as u64;
        let echo = publisher.options.echo;
        let verbose = publisher.options.verbose;
        let no_responders = publisher.options.no_responders;
        if verbose {
            // nats-server acknowledges before it delivers.
            self.ok(id);
        }
        if self.turn.len() >= TURN_PAYLOADS || self.turn_bytes >= TURN_BYTES {
            // A server that ends no turns still holds a bounded amount.
            self.end_turn();
        }
        // The payload joins the turn's; the message keeps an empty one.
        let slot = self.turn.len();
        self.turn_bytes += size;
        self.turn.push(std::mem::take(&mut message.payload));
        let Some(payload) = self.turn.last() else {
            return;
        };

        let rotation = self.queue_cursor;
        self.queue_cursor = self.queue_cursor.wrapping_add(1);
        let mut endings = std::mem::take(&mut self.endings);
        let mut recipients = Recipients {
            clients: &mut self.clients,
            stats: &mut self.stats,
            dirty: &mut self.dirty,
            spliced: &mut self.spliced,
            endings: &mut endings,
            publisher: id,
            echo,
            payload,
            slot,
        };
        // Delivered straight from the match (cached by the trie), each recipient
        // found once: the trie is not changed until the match is done, so ended
        // subscriptions and slow consumers are dealt with after it.
        let matches = self.subjects.matches(&message.subject);
        let mut delivered = false;
        for subscriber in matches.plain() {
            delivered |= recipients.deliver(subscriber, &message);
        }
        for group in matches.groups() {
            let members = group.members();
            for step in 0..members.len() {
                if let Some(member) = members.get((rotation + step) % members.len())
                    && recipients.deliver(member, &message)
                {
                    delivered = true;
                    break;
                }
            }
        }
        for ending in endings.drain(..) {
            match ending {
                Ending::Finished(key) => {
                    self.subjects.remove(key);
                }
                Ending::SlowConsumer(client) => {
                    if self.clients.get(&client).is_none_or(|c| c.closing) {
                        // Over its limit on two subscriptions: closed once.
                        continue;
                    }
                    tracing::info!(client, "slow consumer: closed");
                    self.stats.slow_consumers += 1;
                    self.close(client, CloseReason::SlowConsumer);
                }
            }
        }
        self.endings = endings;
        if !delivered
            && no_responders
            && let Some(reply) = &message.reply
        {
            self.no_responders(id, &message.subject, reply);
        }
    }

    /// Tells a requester that nobody subscribes to `subject`, on its own
    /// subscription to `reply` (if it has one).
    fn no_responders(&mut self, id: ClientId, subject: &Bytes, reply: &Bytes) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        let Some(sid) = client
            .subscriptions
            .iter()
            .find(|(_, subscription)| {
                subjects::subject_matches_filter(reply, &subscription.subject)
            })
            .map(|(sid, _)| sid.clone())
        else {
            return;
        };
        let before = client.outbox.lines().len();
        door::encode_no_responders(reply, &sid, subject, client.outbox.lines());
        client.count_lines(before);
        self.dirty.push(id);
    }
}

/// What a publish changes besides outboxes, done once the match is no longer
/// borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// A subscription reached its maximum: out of the trie.
    Finished(SubscriptionKey),
    /// A client passed its pending limit.
    SlowConsumer(ClientId),
}

/// The parts of the core one delivery writes, borrowed apart from the trie whose
/// match is being delivered.
struct Recipients<'a> {
    clients: &'a mut FxHashMap<ClientId, Client>,
    stats: &'a mut Stats,
    dirty: &'a mut Vec<ClientId>,
    /// Clients whose outboxes splice in the turn's payloads.
    spliced: &'a mut Vec<ClientId>,
    endings: &'a mut Vec<Ending>,
    publisher: ClientId,
    echo: bool,
    /// The message's payload, the turn's payload number `slot`.
    payload: &'a Bytes,
    slot: usize,
}

impl Recipients<'_> {
    /// Queues one message for one subscriber, unless it is the publisher that
    /// asked not to hear itself, or a client on its way out; says whether it did.
    fn deliver(&mut self, target: &Subscriber, message: &Publish) -> bool {
        if !self.echo && target.client == self.publisher {
            return false;
        }
        let Some(client) = self.clients.get_mut(&target.client) else {
            return false;
        };
        if client.closing {
            return false;
        }
        let before = client.outbox.lines().len();
        let reply = message.reply.as_deref();
        let payload = self.payload;
        let start = match message.header_size {
            Some(header_size) if client.options.headers => {
                door::encode_hmsg_header(
                    &message.subject,
                    &target.sid,
                    reply,
                    header_size,
                    payload.len(),
                    client.outbox.lines(),
                );
                0
            }
            _ => {
                // A client without header support gets the body alone, as MSG.
                let start = door::body_start(message.header_size, payload.len());
                door::encode_msg_header(
                    &message.subject,
                    &target.sid,
                    reply,
                    payload.len() - start,
                    client.outbox.lines(),
                );
                start
            }
        };
        client.count_lines(before);
        let size = payload.len() - start;
        if size < SPLICE_PAYLOAD {
            client.outbox.payload_from(payload, start);
        } else if client.outbox.splice(self.slot, payload, start) {
            self.spliced.push(target.client);
        }
        let before = client.outbox.lines().len();
        client.outbox.lines().extend_from_slice(b"\r\n");
        client.count_lines(before);
        client.stats.delivered(size);
        self.stats.out_msgs += 1;
        self.stats.out_bytes += size as u64;
        if !client.listed_dirty {
            client.listed_dirty = true;
            self.dirty.push(target.client);
        }
        if let Some(subscription) = client.subscriptions.slot_mut(target.slot) {
            subscription.delivered += 1;
            if subscription
                .max
                .is_some_and(|max| subscription.delivered >= max)
                && let Some(finished) = client.subscriptions.remove(&target.sid)
            {
                self.endings.push(Ending::Finished(finished.key));
            }
        }
        if client.outbox.pending() > client.max_pending {
            self.endings.push(Ending::SlowConsumer(target.client));
        }
        true
    }
}
