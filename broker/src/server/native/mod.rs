//! The native door's I/O: a sinew ROUTER socket in the server's mio loop (through
//! its readiness descriptor), in front of the partition store the server owns.
//!
//! On readiness it drains requests (`[routing id, frames...]`), decodes them with
//! the native codec (an error is answered with the codec's error response), turns
//! each into a store request and submits it with an id that maps back to the
//! client's routing id and correlation id (ids below the server's
//! [`super::KAFKA_IDS`]); the server hands it the completions of those ids,
//! which it encodes and sends back. Pending requests are bounded per
//! connection and overall (over the bound: `TOO_MANY_PENDING`). A FETCH that
//! finds fewer than `min_bytes` with `max_wait_ms` left is parked (`parked.rs`)
//! until a store notice says its partition's visible end moved, or its wait ends
//! on the loop's clock, and then reads once more. Group commands go to the
//! coordinator every door shares (`groups.rs`), the broker running the
//! assignor for its members.
//!
//! This module must never block: the store's `submit` never waits, and replies go
//! out with `try_send` (a reply the ROUTER refuses is dropped with a debug log, as
//! a ROUTER drops a message for a peer that is gone). It must never wait on the
//! disk and never panic on what a client sends.

mod convert;
mod groups;
mod parked;
mod stage;

use crate::doors::native as wire;
use crate::groups::Token as GroupToken;
use crate::server::groups::SharedGroups;
use crate::store::{Completion, PartitionNotice, Reply, Request, RequestId, Store};
use bytes::Bytes;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use rustc_hash::{FxHashMap, FxHashSet};
use sinew::{Context, Message, Socket, SocketFd, SocketType};
use stage::{Pending, Stage, stage_command, to_store};
use std::os::fd::AsRawFd;
use std::time::Instant;

/// The most requests one connection may have waiting for the store
/// (`protocol.md`, "Limits").
pub const MAX_PENDING_PER_CONNECTION: usize = 64;
/// The most replies queued for one connection; a client that lets more pile up
/// (it does not read them) is cut off (`protocol.md`, "Limits").
pub const REPLY_QUEUE: usize = 2 * MAX_PENDING_PER_CONNECTION;
/// The most requests all connections together may have waiting for the store.
pub const MAX_PENDING: usize = 16 * 1024;
/// What one message may hold beyond the largest request before the ROUTER drops
/// the connection rather than hold it (`protocol.md`, "Limits").
const MESSAGE_SLACK: usize = 1 << 20;
/// How long replies queued when the broker stops have to reach their clients.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
/// The most requests taken from the ROUTER before the loop turns again.
const RECEIVE_BUDGET: usize = 1024;

/// Why the native door could not start.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// The ROUTER socket could not be made or bound.
    #[error("cannot listen on {endpoint} (native): {source}")]
    Bind {
        /// The endpoint.
        endpoint: String,
        /// Why.
        source: sinew::Error,
    },
}

/// The ROUTER and the requests it has waiting for the store.
pub struct NativeDoor {
    router: Socket,
    fd: SocketFd,
    endpoint: String,
    pending: FxHashMap<RequestId, Pending>,
    /// LIST_TOPICS' descriptions: the request id of each to its parent's.
    children: FxHashMap<RequestId, RequestId>,
    per_connection: FxHashMap<Bytes, usize>,
    /// Request bytes held by pending requests, all connections together.
    pending_bytes: usize,
    /// The most `pending_bytes` may reach before requests are refused.
    max_pending_bytes: usize,
    /// Connections that went away (or sent an empty message) with requests still
    /// pending: their fetches are answered, never parked, until none is left.
    gone: FxHashSet<Bytes>,
    /// The broker is stopping: no fetch is parked any more.
    stopping: bool,
    parked: parked::Parked<Pending>,
    /// The broker's consumer groups (shared with the other doors).
    groups: SharedGroups,
    /// JOIN_GROUPs waiting for the coordinator, by token.
    joins: FxHashMap<GroupToken, (Pending, groups::Joining)>,
    next_id: RequestId,
    _context: Context,
}

impl NativeDoor {
    /// Binds a ROUTER of `context` on `endpoint`; its group commands use
    /// `groups`.
    pub fn bind(
        context: &Context,
        endpoint: &str,
        groups: SharedGroups,
    ) -> Result<NativeDoor, NativeError> {
        let bind_error = |source| NativeError::Bind {
            endpoint: endpoint.to_owned(),
            source,
        };
        let router = context.socket(SocketType::Router).map_err(bind_error)?;
        // Room for every reply a connection's pending requests can get at once,
        // and as many again: a client that reads its replies loses none of them.
        // Past that a send fails (ROUTER_MANDATORY) and the client is cut off.
        let room = u32::try_from(REPLY_QUEUE).unwrap_or(u32::MAX);
        router.set_send_high_water_mark(room).map_err(bind_error)?;
        router.set_router_mandatory(true).map_err(bind_error)?;
        let largest = wire::Limits::default().max_request_bytes + MESSAGE_SLACK;
        router
            .set_max_message_size(Some(largest as u64))
            .map_err(bind_error)?;
        router.bind(endpoint).map_err(bind_error)?;
        // What is queued when the broker stops has this long to reach its peers.
        router.set_linger(Some(LINGER)).map_err(bind_error)?;
        // A peer's disconnection arrives as [routing id, ""].
        router
            .set_router_notify(sinew::RouterNotify {
                connect: false,
                disconnect: true,
            })
            .map_err(bind_error)?;
        let fd = router.fd().map_err(bind_error)?;
        let endpoint = router
            .last_endpoint()
            .unwrap_or_else(|| endpoint.to_owned());
        Ok(NativeDoor {
            router,
            fd,
            endpoint,
            pending: FxHashMap::default(),
            children: FxHashMap::default(),
            per_connection: FxHashMap::default(),
            pending_bytes: 0,
            max_pending_bytes: crate::config::DEFAULT_NATIVE_PENDING_BYTES,
            gone: FxHashSet::default(),
            stopping: false,
            parked: parked::Parked::default(),
            groups,
            joins: FxHashMap::default(),
            next_id: 1,
            _context: context.clone(),
        })
    }

    /// Bounds the request bytes all connections together may have waiting for
    /// the store (the broker's `native_pending_bytes`).
    pub fn with_pending_bytes(mut self, bytes: usize) -> NativeDoor {
        self.max_pending_bytes = bytes;
        self
    }

    /// Where the door listens (with the port filled in).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Registers the ROUTER's readiness descriptor with the loop.
    pub fn register(&self, registry: &Registry, token: Token) -> std::io::Result<()> {
        let raw = self.fd.as_raw_fd();
        registry.register(&mut SourceFd(&raw), token, Interest::READABLE)
    }

    /// Serves the ROUTER's requests (within a budget) until it has nothing more
    /// to read. Returns whether requests were left for the next turn.
    pub fn serve(&mut self, store: &Store, now: Instant) -> bool {
        let mut budget = RECEIVE_BUDGET;
        while self.router.events().readable {
            loop {
                if budget == 0 {
                    return true;
                }
                match self.router.try_recv() {
                    Ok(message) => {
                        budget -= 1;
                        self.on_message(store, message, now);
                    }
                    Err(sinew::Error::WouldBlock) => break,
                    Err(error) => {
                        tracing::warn!(%error, "native door: receive failed");
                        return false;
                    }
                }
            }
        }
        false
    }

    /// Parked fetches whose partition's visible end moved read again.
    pub fn on_notices(&mut self, store: &Store, notices: &[PartitionNotice]) {
        for notice in notices {
            let Some(end) = notice.visible_end else {
                continue;
            };
            let key = (notice.topic.to_string(), notice.partition);
            for waiter in self.parked.notice(key, end) {
                self.refetch(store, waiter.item, false);
            }
        }
    }

    /// Parked fetches whose wait ended read once more and are answered.
    /// Returns whether any wait ended.
    pub fn expire(&mut self, store: &Store, now: Instant) -> bool {
        let expired = self.parked.expire(now);
        let any = !expired.is_empty();
        for waiter in expired {
            self.refetch(store, waiter.item, true);
        }
        any
    }

    /// Answers every parked fetch now (one more read each): the broker is
    /// stopping. Requests still arriving are served until the loop ends.
    pub fn shut_down(&mut self, store: &Store) {
        self.stopping = true;
        for waiter in self.parked.take_where(|_| true) {
            self.refetch(store, waiter.item, true);
        }
        // Joins waiting for a rebalance will not see it end here.
        for (_, (pending, _)) in std::mem::take(&mut self.joins) {
            let body = convert::error(
                wire::Command::JoinGroup.code(),
                wire::ErrorCode::Timeout,
                [0, 0],
                "the broker is stopping".to_owned(),
            );
            self.finish(pending, Some(body));
        }
    }

    /// Whether no request waits for the store or for data.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.parked.is_empty() && self.joins.is_empty()
    }

    /// When the next parked fetch's wait ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.parked.next_deadline()
    }

    /// Reads again for a fetch that was parked; `last` answers whatever it finds.
    fn refetch(&mut self, store: &Store, mut pending: Pending, last: bool) {
        let Stage::Fetch {
            fetch,
            offset,
            deadline,
            ..
        } = pending.stage.take()
        else {
            return;
        };
        let deadline = if last { None } else { deadline };
        self.fetch_from(store, pending, fetch, offset, deadline, None);
    }

    fn on_message(&mut self, store: &Store, message: Message, now: Instant) {
        let size = message.size_bytes();
        let frames = message.frames();
        let Some((routing, frames)) = frames.split_first() else {
            return;
        };
        let routing = routing.clone();
        if let [only] = frames
            && only.is_empty()
        {
            // ZMQ_ROUTER_NOTIFY's disconnect (or a client's empty message, which
            // is also answered below as MALFORMED): its parked fetches are
            // answered now rather than held until their wait ends.
            if self.per_connection.contains_key(&routing) {
                self.gone.insert(routing.clone());
            }
            let gone = self.parked.take_where(|pending| pending.routing == routing);
            for waiter in gone {
                self.refetch(store, waiter.item, true);
            }
        }
        let request = match wire::decode_request(frames) {
            Ok(request) => request,
            Err(error) => {
                tracing::debug!(%error, "native door: refused a request");
                self.send(&routing, &error.to_response());
                return;
            }
        };
        let correlation_id = request.correlation_id;
        let command = request.body.command().code();
        let waiting = self.per_connection.get(&routing).copied().unwrap_or(0);
        let limit = if waiting >= MAX_PENDING_PER_CONNECTION {
            Some(MAX_PENDING_PER_CONNECTION)
        } else if self.pending.len() + self.parked.len() >= MAX_PENDING {
            Some(MAX_PENDING)
        } else if self.pending_bytes.saturating_add(size) > self.max_pending_bytes {
            Some(self.max_pending_bytes)
        } else {
            None
        };
        if let Some(limit) = limit {
            let body = convert::error(
                command,
                wire::ErrorCode::TooManyPending,
                [limit as u64, 0],
                format!("{limit} requests are pending already"),
            );
            self.answer(&routing, correlation_id, body);
            return;
        }
        *self.per_connection.entry(routing.clone()).or_insert(0) += 1;
        self.pending_bytes += size;
        let pending = Pending {
            routing,
            correlation_id,
            bytes: size,
            stage: Stage::Simple(request.body.command()),
        };
        if groups::is_group_command(&request.body) {
            self.group_request(store, pending, request.body, now);
            return self.deliver_groups(store, now);
        }
        let mut pending = pending;
        let (store_request, stage) = match to_store(request.body, now) {
            Ok(converted) => converted,
            Err(body) => {
                self.finish(pending, Some(body));
                return;
            }
        };
        pending.stage = stage;
        self.submit(store, pending, store_request);
    }

    /// Queues a request for the store under a new id; a refusal is answered.
    fn submit(&mut self, store: &Store, pending: Pending, request: Request) {
        let id = self.next_id;
        self.next_id += 1;
        debug_assert!(
            id < super::KAFKA_IDS,
            "the native door's ids stay below the Kafka door's"
        );
        match store.submit(id, request) {
            Ok(()) => {
                self.pending.insert(id, pending);
            }
            Err(error) => {
                let body = convert::store_error(stage_command(&pending.stage), &error);
                self.finish(pending, Some(body));
            }
        }
    }

    /// One of this door's requests completed.
    pub fn on_completion(&mut self, store: &Store, completion: Completion, now: Instant) {
        if let Some(parent) = self.children.remove(&completion.id) {
            self.on_list_entry(parent, completion);
            return;
        }
        let Some(mut pending) = self.pending.remove(&completion.id) else {
            return;
        };
        match pending.stage.take() {
            Stage::GroupWrite(write) => {
                return self.on_group_write(store, pending, write, completion.result);
            }
            Stage::GroupAssign(joining) => {
                self.on_group_assign(pending, *joining, completion.result, now);
                return self.deliver_groups(store, now);
            }
            stage => pending.stage = stage,
        }
        let reply = match completion.result {
            Ok(reply) => reply,
            Err(error) => {
                let silent = matches!(pending.stage, Stage::Produce { silent: true });
                let body = convert::store_error(stage_command(&pending.stage), &error);
                self.finish(pending, (!silent).then_some(body));
                return;
            }
        };
        let mut pending = pending;
        let body = match (pending.stage.take(), reply) {
            (Stage::Produce { silent }, Reply::Produced(produced)) => {
                (!silent).then(|| convert::produced(&produced))
            }
            (Stage::FetchLookup { fetch, deadline }, Reply::Offset(offset)) => {
                let Some(offset) = offset else {
                    // No record at or after the timestamp: read from the end.
                    let request = Request::ListOffsets {
                        topic: fetch.topic.as_str().to_owned(),
                        partition: fetch.partition,
                        position: crate::store::OffsetPosition::Latest,
                    };
                    pending.stage = Stage::FetchLookup { fetch, deadline };
                    return self.submit(store, pending, request);
                };
                return self.fetch_from(store, pending, fetch, offset, deadline, None);
            }
            (
                Stage::Fetch {
                    fetch,
                    offset,
                    deadline,
                    reread_for,
                },
                Reply::Fetched(fetched),
            ) => {
                let short = (fetched.batches.bytes().len() as u64) < u64::from(fetch.min_bytes)
                    && !self.stopping
                    && !self.gone.contains(&pending.routing);
                if let Some(deadline) = deadline.filter(|deadline| short && now < *deadline) {
                    let key = (fetch.topic.as_str().to_owned(), fetch.partition);
                    let noticed = self
                        .parked
                        .known_end(&key)
                        .filter(|&end| end > fetched.visible_end);
                    if let Some(end) = noticed
                        && reread_for.is_none_or(|before| end > before)
                    {
                        // A notice came before this read's answer: read again.
                        // Again only for a later notice, so a stale noticed end
                        // (of a topic made again) cannot make it read forever.
                        // The noticed end is kept for the partition's other
                        // reads in flight: forgetting it here left them parked
                        // after the notice had passed, until their wait ended
                        // (seen in CI).
                        let again = Some(end);
                        return self.fetch_from(
                            store,
                            pending,
                            fetch,
                            offset,
                            Some(deadline),
                            again,
                        );
                    }
                    pending.stage = Stage::Fetch {
                        fetch,
                        offset,
                        deadline: Some(deadline),
                        reread_for: None,
                    };
                    return self.parked.park(key, deadline, pending);
                }
                Some(convert::fetched(&fetch, offset, fetched))
            }
            (Stage::ListOffsets { partition }, Reply::Offset(offset)) => {
                Some(wire::ResponseBody::ListOffsets(wire::OffsetResult {
                    partition,
                    offset,
                    timestamp: -1,
                }))
            }
            (Stage::ListTopics, Reply::Topics(names)) => {
                return self.gather_topics(store, pending, completion.id, names);
            }
            (Stage::Simple(_), Reply::TopicCreated(_)) => Some(wire::ResponseBody::CreateTopic),
            (Stage::Simple(_), Reply::TopicDeleted) => Some(wire::ResponseBody::DeleteTopic),
            (Stage::Simple(_), Reply::Topic(description)) => Some(convert::described(&description)),
            (Stage::Simple(_), Reply::ProducerId { id, epoch }) => {
                Some(wire::ResponseBody::InitProducerId(wire::ProducerGrant {
                    id,
                    epoch,
                }))
            }
            (stage, reply) => {
                tracing::warn!(?stage, ?reply, "native door: an unexpected reply");
                let command = stage_command(&stage);
                pending.stage = stage;
                Some(convert::error(
                    command,
                    wire::ErrorCode::StorageFailed,
                    [0, 0],
                    "the store gave an unexpected reply".to_owned(),
                ))
            }
        };
        self.finish(pending, body);
    }

    /// A FETCH whose start offset is known: read from there.
    fn fetch_from(
        &mut self,
        store: &Store,
        mut pending: Pending,
        fetch: wire::Fetch,
        offset: u64,
        deadline: Option<Instant>,
        reread_for: Option<u64>,
    ) {
        let request = Request::Fetch(convert::fetch(&fetch, offset));
        pending.stage = Stage::Fetch {
            fetch,
            offset,
            deadline,
            reread_for,
        };
        self.submit(store, pending, request);
    }

    /// LIST_TOPICS has the names: describe each, for its partitions.
    fn gather_topics(
        &mut self,
        store: &Store,
        mut pending: Pending,
        id: RequestId,
        names: Vec<String>,
    ) {
        if names.is_empty() {
            return self.finish(pending, Some(wire::ResponseBody::ListTopics(Vec::new())));
        }
        let mut batch = Vec::with_capacity(names.len());
        for topic in names {
            let child = self.next_id;
            self.next_id += 1;
            batch.push((child, Request::DescribeTopic { topic }));
        }
        let children: Vec<RequestId> = batch.iter().map(|(child, _)| *child).collect();
        match store.submit_batch(batch) {
            Ok(()) => {
                pending.stage = Stage::ListGather {
                    remaining: children.len(),
                    summaries: Vec::with_capacity(children.len()),
                };
                for child in children {
                    self.children.insert(child, id);
                }
                self.pending.insert(id, pending);
            }
            Err(error) => {
                let body = convert::store_error(wire::Command::ListTopics.code(), &error);
                self.finish(pending, Some(body));
            }
        }
    }

    /// One description for a LIST_TOPICS; the answer once all are in.
    fn on_list_entry(&mut self, parent: RequestId, completion: Completion) {
        let Some(pending) = self.pending.get_mut(&parent) else {
            return;
        };
        let Stage::ListGather {
            remaining,
            summaries,
        } = &mut pending.stage
        else {
            return;
        };
        // A topic deleted in between is left out.
        if let Ok(Reply::Topic(description)) = &completion.result
            && let Some(summary) = convert::summary(description)
        {
            summaries.push(summary);
        }
        *remaining = remaining.saturating_sub(1);
        if *remaining > 0 {
            return;
        }
        let mut summaries = std::mem::take(summaries);
        summaries.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        if let Some(pending) = self.pending.remove(&parent) {
            self.finish(pending, Some(wire::ResponseBody::ListTopics(summaries)));
        }
    }

    /// Ends a client's request: answers it (unless `body` is `None`) and releases
    /// its place in the bounds.
    fn finish(&mut self, pending: Pending, body: Option<wire::ResponseBody>) {
        self.pending_bytes = self.pending_bytes.saturating_sub(pending.bytes);
        if let Some(count) = self.per_connection.get_mut(&pending.routing) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_connection.remove(&pending.routing);
                self.gone.remove(&pending.routing);
            }
        }
        if let Some(body) = body {
            self.answer(&pending.routing, pending.correlation_id, body);
        }
    }

    fn answer(&self, routing: &Bytes, correlation_id: u64, body: wire::ResponseBody) {
        self.send(
            routing,
            &wire::Response {
                correlation_id,
                body,
            },
        );
    }

    /// Queues a reply. A client whose replies fill its queue (it does not read
    /// them) is cut off: its connection is closed, so it sees a disconnection
    /// rather than waiting for replies that were dropped, and nobody else waits.
    fn send(&self, routing: &Bytes, response: &wire::Response) {
        let frames = std::iter::once(routing.clone()).chain(wire::encode_response(response));
        match self.router.try_send(Message::from_frames(frames)) {
            Ok(()) => {}
            Err(failure) if matches!(failure.error, sinew::Error::WouldBlock) => {
                tracing::info!(
                    replies = REPLY_QUEUE,
                    "native door: cut off a client that does not read its replies"
                );
                if let Err(error) = self.router.disconnect_peer(routing) {
                    tracing::debug!(%error, "native door: could not cut off a client");
                }
            }
            Err(failure) => {
                tracing::debug!(error = %failure.error, "native door: a reply was dropped");
            }
        }
    }
}

impl std::fmt::Debug for NativeDoor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NativeDoor")
            .field("endpoint", &self.endpoint)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}
