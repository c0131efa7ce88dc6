//! Publishing: one match against the trie, then one MSG (or HMSG) per recipient,
//! every recipient sharing the payload's bytes.
//!
//! Plain subscribers each get the message; each queue group gives it to one
//! member, starting from a rotating position (nats-server starts at a random
//! member; nothing here promises round-robin). A client that asked not to hear its
//! own messages (`echo: false`) is skipped, in queue groups too. A subscription
//! with a maximum ends once it is reached. A request nobody can answer gets the
//! no-responders status on the requester's own reply subscription, as nats-server
//! 2.12+ sends it. This file must never copy a payload and never let one slow
//! client hold up the others: a client over its pending limit is closed.

use super::client::Subscriber;
use super::{ClientId, CloseReason, Core};
use crate::doors::nats::{self as door, Publish};
use crate::subjects;
use bytes::Bytes;
use std::time::Instant;

impl Core {
    /// Routes one PUB or HPUB from client `id`.
    pub(super) fn publish(&mut self, id: ClientId, message: &Publish, _now: Instant) {
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

        let mut targets = std::mem::take(&mut self.targets);
        targets.clear();
        let rotation = self.queue_cursor;
        self.queue_cursor = self.queue_cursor.wrapping_add(1);
        {
            let clients = &self.clients;
            let wanted = |subscriber: &Subscriber| {
                (echo || subscriber.client != id)
                    && clients
                        .get(&subscriber.client)
                        .is_some_and(|client| !client.closing)
            };
            let matches = self.subjects.matches(&message.subject);
            targets.extend(matches.plain().iter().filter(|s| wanted(s)).cloned());
            for group in matches.groups() {
                let members = group.members();
                let chosen = (0..members.len())
                    .filter_map(|step| members.get((rotation + step) % members.len()))
                    .find(|s| wanted(s));
                if let Some(member) = chosen {
                    targets.push(member.clone());
                }
            }
        }
        for target in &targets {
            self.deliver(target, message);
        }
        let delivered = !targets.is_empty();
        self.targets = targets;
        if !delivered
            && no_responders
            && let Some(reply) = &message.reply
        {
            self.no_responders(id, &message.subject, reply);
        }
    }

    /// Queues one message for one subscriber.
    fn deliver(&mut self, target: &Subscriber, message: &Publish) {
        let Some(client) = self.clients.get_mut(&target.client) else {
            return;
        };
        let before = client.outbox.lines().len();
        let reply = message.reply.as_deref();
        let size = match message.header_size {
            Some(header_size) if client.options.headers => {
                door::encode_hmsg_header(
                    &message.subject,
                    &target.sid,
                    reply,
                    header_size,
                    message.payload.len(),
                    client.outbox.lines(),
                );
                client.count_lines(before);
                client.outbox.payload(&message.payload);
                message.payload.len()
            }
            _ => {
                // A client without header support gets the body alone, as MSG.
                let body = message.body();
                door::encode_msg_header(
                    &message.subject,
                    &target.sid,
                    reply,
                    body.len(),
                    client.outbox.lines(),
                );
                client.count_lines(before);
                client.outbox.payload(&body);
                body.len()
            }
        };
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

        let mut finished = None;
        if let Some(subscription) = client.subscriptions.slot_mut(target.slot) {
            subscription.delivered += 1;
            if subscription
                .max
                .is_some_and(|max| subscription.delivered >= max)
            {
                finished = client.subscriptions.remove(&target.sid);
            }
        }
        let slow = client.outbox.pending() > client.max_pending;
        if let Some(subscription) = finished {
            self.subjects.remove(subscription.key);
        }
        if slow {
            tracing::info!(client = target.client, "slow consumer: closed");
            self.stats.slow_consumers += 1;
            self.close(target.client, CloseReason::SlowConsumer);
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
