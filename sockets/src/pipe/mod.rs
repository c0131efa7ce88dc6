//! The pipe: a pair of bounded queues between a socket and one peer (a connection's
//! session, or another socket over inproc).
//!
//! Each direction is a lock-free single-producer single-consumer queue (`queue.rs`)
//! of items (messages, subscribe and cancel items; a conflating queue keeps its
//! newest message under a lock instead, as libzmq's dbuffer does) with a
//! high-water mark counted in items, as libzmq counts them (a
//! subscription is a message in libzmq's pipes, so a peer's flood of SUBSCRIBE
//! commands stops at the mark like any other input): the writer counts an item when
//! it writes it, the reader publishes its count every (mark + 1) / 2 items and
//! whenever it runs dry. Only `force_write`, for a socket's own subscriptions, may
//! pass the mark; whatever a peer sends goes through `write`. Wake-ups are sent only on
//! transitions: to the reader when the queue goes from empty (and the reader asleep)
//! to non-empty, to the writer when it was stopped at the mark and the reader has
//! drained to the low-water mark. Either end may close; the other end still reads
//! what was queued before the close. This file must never block, never lock on the
//! per-message path, and never let a writer pass the mark.

mod queue;

use crate::message::Message;
use bytes::Bytes;
use queue::{Consumer, Producer};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex};

/// A pipe's identity, unique within the process; both ends share it.
pub type PipeId = u64;

static NEXT_PIPE_ID: AtomicU64 = AtomicU64::new(1);

/// A map keyed by pipe id. Pipe ids come from this process's counter, never from a
/// peer, so a fast non-keyed hash is safe; SipHash here was 14 % of a PUSH
/// sender's instructions at 1-byte messages (one lookup per message, callgrind).
pub type PipeMap<V> = rustc_hash::FxHashMap<PipeId, V>;

/// A set of pipe ids (see `PipeMap`).
pub type PipeIdSet = rustc_hash::FxHashSet<PipeId>;

/// What travels through a pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A whole message.
    Message(Message),
    /// A subscription to a prefix (PUB/SUB families).
    Subscribe(Bytes),
    /// A cancelled subscription.
    Cancel(Bytes),
}

impl Item {
    fn is_message(&self) -> bool {
        matches!(self, Item::Message(_))
    }
}

/// Why an end is being woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeEvent {
    /// Items arrived in a pipe its reader had found empty.
    Readable,
    /// A pipe its writer had found full drained to the low-water mark.
    Writable,
    /// The other end closed the pipe.
    Closed,
}

/// Whoever owns an end and must be woken: a socket's mailbox or an I/O thread.
pub trait Activate: Send + Sync + fmt::Debug {
    /// Wakes the owner of `pipe`'s end about `event`.
    fn activate(&self, pipe: PipeId, event: PipeEvent);
}

/// A write that did not happen, with the item handed back.
#[derive(Debug)]
pub enum WriteError {
    /// The pipe is at its high-water mark.
    Full(Item),
    /// The reader closed the pipe.
    Closed(Item),
}

/// What a read found.
#[derive(Debug)]
pub enum Read {
    /// The next item.
    Item(Item),
    /// Nothing now; the reader will be woken when something arrives.
    Empty,
    /// Nothing, ever again: the writer closed the pipe and it is drained.
    Closed,
}

/// One direction of a pipe: what both ends share besides the items (which
/// travel through the `queue` halves each end owns).
struct Queue {
    /// The high-water mark in messages; 0 means no limit.
    capacity: AtomicU64,
    /// Items read, as last published by the reader.
    read_count: AtomicU64,
    reader_sleeping: AtomicBool,
    writer_sleeping: AtomicBool,
    writer_closed: AtomicBool,
    reader_closed: AtomicBool,
    /// ZMQ_CONFLATE: each message written replaces the one in `latest`.
    conflate: AtomicBool,
    /// The newest message of a conflating queue (libzmq's dbuffer also locks).
    latest: Mutex<Option<Item>>,
    /// Who reads this queue, to wake when it becomes readable or closed.
    reader: Mutex<Option<Arc<dyn Activate>>>,
    /// Who writes this queue, to wake when it becomes writable or closed.
    writer: Mutex<Option<Arc<dyn Activate>>>,
}

impl Queue {
    fn new(capacity: u32) -> Queue {
        Queue {
            capacity: AtomicU64::new(u64::from(capacity)),
            read_count: AtomicU64::new(0),
            reader_sleeping: AtomicBool::new(false),
            writer_sleeping: AtomicBool::new(false),
            writer_closed: AtomicBool::new(false),
            reader_closed: AtomicBool::new(false),
            conflate: AtomicBool::new(false),
            latest: Mutex::new(None),
            reader: Mutex::new(None),
            writer: Mutex::new(None),
        }
    }

    fn wake(slot: &Mutex<Option<Arc<dyn Activate>>>, pipe: PipeId, event: PipeEvent) {
        let activator = match slot.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some(activator) = activator {
            activator.activate(pipe, event);
        }
    }

    fn set(slot: &Mutex<Option<Arc<dyn Activate>>>, activator: Option<Arc<dyn Activate>>) {
        match slot.lock() {
            Ok(mut guard) => *guard = activator,
            Err(poisoned) => *poisoned.into_inner() = activator,
        }
    }

    /// Takes the conflated message.
    fn take_latest(&self) -> Option<Item> {
        match self.latest.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    fn has_latest(&self) -> bool {
        self.conflate.load(Ordering::Acquire)
            && match self.latest.lock() {
                Ok(guard) => guard.is_some(),
                Err(poisoned) => poisoned.into_inner().is_some(),
            }
    }
}

impl fmt::Debug for Queue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Queue")
            .field("capacity", &self.capacity.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// One end of a pipe: it reads one queue and writes the other.
pub struct PipeEnd {
    id: PipeId,
    inbound: Arc<Queue>,
    outbound: Arc<Queue>,
    /// The items this end reads (the inbound queue's only consumer).
    receiver: Consumer<Item>,
    /// The items this end writes (the outbound queue's only producer).
    sender: Producer<Item>,
    /// Items written to `outbound`.
    written: u64,
    /// Items read from `inbound`.
    read: u64,
    /// Reads left until the read count is next published to the writer.
    publish_in: u64,
    /// Items written since the last flush.
    unflushed: bool,
    closed: bool,
}

/// A new pipe: the first end writes to the second with mark `first_to_second` and
/// reads from it with mark `second_to_first`.
pub fn pipe_pair(first_to_second: u32, second_to_first: u32) -> (PipeEnd, PipeEnd) {
    let id = NEXT_PIPE_ID.fetch_add(1, Ordering::Relaxed);
    let forward = Arc::new(Queue::new(first_to_second));
    let backward = Arc::new(Queue::new(second_to_first));
    let (forward_sender, forward_receiver) = queue::channel();
    let (backward_sender, backward_receiver) = queue::channel();
    let first = PipeEnd::new(
        id,
        (Arc::clone(&backward), backward_receiver),
        (Arc::clone(&forward), forward_sender),
    );
    let second = PipeEnd::new(id, (forward, forward_receiver), (backward, backward_sender));
    (first, second)
}

impl PipeEnd {
    fn new(
        id: PipeId,
        (inbound, receiver): (Arc<Queue>, Consumer<Item>),
        (outbound, sender): (Arc<Queue>, Producer<Item>),
    ) -> PipeEnd {
        PipeEnd {
            id,
            inbound,
            outbound,
            receiver,
            sender,
            written: 0,
            read: 0,
            publish_in: 0,
            unflushed: false,
            closed: false,
        }
    }

    /// The pipe's identity.
    pub fn id(&self) -> PipeId {
        self.id
    }

    /// Names who owns this end: it is woken when the inbound queue becomes
    /// readable, when the outbound queue drains, and when the other end closes.
    pub fn set_activator(&self, activator: Arc<dyn Activate>) {
        Queue::set(&self.inbound.reader, Some(Arc::clone(&activator)));
        Queue::set(&self.outbound.writer, Some(activator));
    }

    /// Raises the outbound high-water mark (inproc adds the binder's receive mark).
    pub fn set_outbound_capacity(&self, capacity: u32) {
        self.outbound
            .capacity
            .store(u64::from(capacity), Ordering::Release);
    }

    /// Raises the inbound high-water mark (inproc adds the binder's send mark).
    pub fn set_inbound_capacity(&self, capacity: u32) {
        self.inbound
            .capacity
            .store(u64::from(capacity), Ordering::Release);
    }

    /// From now on the inbound queue keeps only the newest item (ZMQ_CONFLATE):
    /// each message written replaces what the reader has not taken yet, and the
    /// writer never stops at the mark.
    pub fn set_inbound_conflate(&self) {
        self.inbound.conflate.store(true, Ordering::Release);
    }

    /// Queues an item for the other end, unless the pipe is at its mark; call
    /// `flush` to wake the reader.
    pub fn write(&mut self, item: Item) -> Result<(), WriteError> {
        self.write_item(item, false)
    }

    /// Queues an item even past the mark (it still counts). Only for what a socket
    /// generates itself and must not lose, such as its own subscriptions, which
    /// the application bounds; never for anything a peer sent.
    pub fn force_write(&mut self, item: Item) -> Result<(), WriteError> {
        self.write_item(item, true)
    }

    fn write_item(&mut self, item: Item, force: bool) -> Result<(), WriteError> {
        let queue = &self.outbound;
        if queue.reader_closed.load(Ordering::Acquire) {
            return Err(WriteError::Closed(item));
        }
        if item.is_message() && queue.conflate.load(Ordering::Acquire) {
            // A conflating queue keeps only the newest message and never stops at
            // the mark (`has_room` ignores the count), so what is replaced here
            // need not be counted as read.
            match queue.latest.lock() {
                Ok(mut latest) => *latest = Some(item),
                Err(poisoned) => *poisoned.into_inner() = Some(item),
            }
            self.written += 1;
            self.unflushed = true;
            return Ok(());
        }
        if !force && !self.has_room() {
            return Err(WriteError::Full(item));
        }
        self.written += 1;
        self.sender.push(item);
        self.unflushed = true;
        Ok(())
    }

    /// Whether an item would fit now; if not, the writer is woken when one will.
    pub fn has_room(&self) -> bool {
        let queue = &self.outbound;
        let capacity = queue.capacity.load(Ordering::Relaxed);
        if capacity == 0
            || queue.conflate.load(Ordering::Relaxed)
            || self.written - queue.read_count.load(Ordering::Acquire) < capacity
        {
            return true;
        }
        queue.writer_sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.written - queue.read_count.load(Ordering::Acquire) < capacity {
            queue.writer_sleeping.store(false, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Wakes the reader if it found the pipe empty and went to sleep.
    pub fn flush(&mut self) {
        if !self.unflushed {
            return;
        }
        self.unflushed = false;
        let queue = &self.outbound;
        fence(Ordering::SeqCst);
        if queue.reader_sleeping.load(Ordering::Relaxed)
            && queue.reader_sleeping.swap(false, Ordering::SeqCst)
        {
            Queue::wake(&queue.reader, self.id, PipeEvent::Readable);
        }
    }

    /// Takes the next item, or says why there is none.
    pub fn read(&mut self) -> Read {
        let item = match self.take() {
            Some(item) => item,
            None => {
                let queue = &self.inbound;
                queue.reader_sleeping.store(true, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                self.publish_read();
                match self.take() {
                    Some(item) => {
                        self.inbound.reader_sleeping.store(false, Ordering::Relaxed);
                        item
                    }
                    None if self.inbound.writer_closed.load(Ordering::Acquire) => {
                        // Items pushed before the close are visible now.
                        match self.take() {
                            Some(item) => item,
                            None => return Read::Closed,
                        }
                    }
                    None => return Read::Empty,
                }
            }
        };
        self.read += 1;
        let queue = &self.inbound;
        let capacity = queue.capacity.load(Ordering::Relaxed);
        if capacity > 0 {
            // Every low-water mark's worth of reads, counted down rather than
            // found with a division on every read.
            if self.publish_in == 0 {
                self.publish_in = capacity.div_ceil(2).max(1);
            }
            self.publish_in -= 1;
            if self.publish_in == 0 {
                self.publish_read();
            }
        }
        Read::Item(item)
    }

    /// The next item: what was queued first, then a conflated message.
    fn take(&mut self) -> Option<Item> {
        match self.receiver.pop() {
            Some(item) => Some(item),
            None if self.inbound.conflate.load(Ordering::Acquire) => self.inbound.take_latest(),
            None => None,
        }
    }

    /// Whether an item is waiting (without taking it).
    pub fn has_items(&self) -> bool {
        !self.receiver.is_empty() || self.inbound.has_latest()
    }

    /// Whether an item is waiting; if not, the reader is woken when one arrives
    /// (as after a read that found the pipe empty).
    pub fn check_readable(&self) -> bool {
        let queue = &self.inbound;
        if self.has_items() {
            return true;
        }
        queue.reader_sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.publish_read();
        if !self.has_items() {
            false
        } else {
            queue.reader_sleeping.store(false, Ordering::Relaxed);
            true
        }
    }

    /// Whether the other end closed the pipe.
    pub fn is_peer_closed(&self) -> bool {
        self.inbound.writer_closed.load(Ordering::Acquire)
            || self.outbound.reader_closed.load(Ordering::Acquire)
    }

    /// Items queued outbound and not yet read by the other end.
    pub fn outbound_messages(&self) -> u64 {
        self.written
            .saturating_sub(self.outbound.read_count.load(Ordering::Acquire))
    }

    /// Whether every item written outbound has been taken by the other end.
    pub fn is_outbound_empty(&self) -> bool {
        self.sender.is_drained() && !self.outbound.has_latest()
    }

    /// Stops the other end from writing: its writes fail as closed from now on,
    /// and it is woken to notice. This end still reads what was already queued
    /// (a disconnect or unbind flushes it within the linger time).
    pub fn refuse_writes(&mut self) {
        self.inbound.reader_closed.store(true, Ordering::Release);
        fence(Ordering::SeqCst);
        Queue::wake(&self.inbound.writer, self.id, PipeEvent::Closed);
    }

    /// Closes both directions: the other end still reads what was queued.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.inbound.reader_closed.store(true, Ordering::Release);
        self.outbound.writer_closed.store(true, Ordering::Release);
        fence(Ordering::SeqCst);
        Queue::set(&self.inbound.reader, None);
        Queue::set(&self.outbound.writer, None);
        Queue::wake(&self.outbound.reader, self.id, PipeEvent::Closed);
    }

    fn publish_read(&self) {
        let queue = &self.inbound;
        queue.read_count.store(self.read, Ordering::Release);
        fence(Ordering::SeqCst);
        if queue.writer_sleeping.load(Ordering::Relaxed)
            && queue.writer_sleeping.swap(false, Ordering::SeqCst)
        {
            Queue::wake(&queue.writer, self.id, PipeEvent::Writable);
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for PipeEnd {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PipeEnd")
            .field("id", &self.id)
            .field("written", &self.written)
            .field("read", &self.read)
            .field("inbound_queued", &self.receiver.len())
            .field("outbound_queued", &self.sender.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[derive(Debug, Default)]
    struct Recorder(StdMutex<Vec<(PipeId, PipeEvent)>>);

    impl Activate for Recorder {
        fn activate(&self, pipe: PipeId, event: PipeEvent) {
            self.0.lock().unwrap().push((pipe, event));
        }
    }

    impl Recorder {
        fn take(&self) -> Vec<PipeEvent> {
            self.0
                .lock()
                .unwrap()
                .drain(..)
                .map(|(_, event)| event)
                .collect()
        }
    }

    fn message(text: &str) -> Item {
        Item::Message(Message::from(text))
    }

    #[test]
    fn wakes_the_reader_only_on_empty_to_non_empty() {
        let (mut writer, mut reader) = pipe_pair(10, 10);
        let woken = Arc::new(Recorder::default());
        reader.set_activator(woken.clone());
        assert!(matches!(reader.read(), Read::Empty));
        writer.write(message("a")).unwrap();
        writer.write(message("b")).unwrap();
        writer.flush();
        writer.write(message("c")).unwrap();
        writer.flush();
        assert_eq!(
            woken.take(),
            vec![PipeEvent::Readable],
            "one wake for three"
        );
        for expected in ["a", "b", "c"] {
            let Read::Item(item) = reader.read() else {
                panic!()
            };
            assert_eq!(item, message(expected));
        }
    }

    #[test]
    fn writer_stops_at_the_mark_and_is_woken_at_the_low_water_mark() {
        let (mut writer, mut reader) = pipe_pair(4, 4);
        let woken = Arc::new(Recorder::default());
        writer.set_activator(woken.clone());
        for index in 0..4 {
            writer.write(message(&index.to_string())).unwrap();
        }
        // Subscriptions count against the mark too, as in libzmq.
        assert!(matches!(
            writer.write(Item::Subscribe(Bytes::from_static(b"x"))),
            Err(WriteError::Full(_))
        ));
        assert!(matches!(
            writer.write(message("over")),
            Err(WriteError::Full(_))
        ));
        assert!(matches!(reader.read(), Read::Item(_)));
        assert!(
            woken.take().is_empty(),
            "one read is above the low-water mark"
        );
        assert!(matches!(reader.read(), Read::Item(_)));
        assert_eq!(woken.take(), vec![PipeEvent::Writable]);
        writer.write(message("4")).unwrap();
        writer.write(message("5")).unwrap();
        assert!(matches!(
            writer.write(message("6")),
            Err(WriteError::Full(_))
        ));
    }

    #[test]
    fn a_conflating_queue_keeps_only_the_newest_message() {
        let (mut writer, mut reader) = pipe_pair(2, 2);
        reader.set_inbound_conflate();
        for index in 0..10 {
            writer.write(message(&index.to_string())).unwrap();
        }
        assert!(writer.has_room(), "never stops at the mark");
        let Read::Item(item) = reader.read() else {
            panic!("one message")
        };
        assert_eq!(item, message("9"));
        assert!(matches!(reader.read(), Read::Empty));
    }

    #[test]
    fn closing_keeps_queued_items_for_the_reader() {
        let (mut writer, mut reader) = pipe_pair(0, 0);
        let woken = Arc::new(Recorder::default());
        reader.set_activator(woken.clone());
        writer.write(message("last")).unwrap();
        writer.flush();
        drop(writer);
        assert_eq!(woken.take(), vec![PipeEvent::Closed]);
        assert!(reader.is_peer_closed());
        assert!(matches!(reader.read(), Read::Item(_)));
        assert!(matches!(reader.read(), Read::Closed));
        let (mut writer, reader) = pipe_pair(0, 0);
        drop(reader);
        assert!(matches!(
            writer.write(message("x")),
            Err(WriteError::Closed(_))
        ));
    }

    #[test]
    fn forced_writes_pass_the_mark_and_still_count() {
        let (mut writer, mut reader) = pipe_pair(2, 2);
        writer.write(message("a")).unwrap();
        writer.write(message("b")).unwrap();
        assert!(matches!(
            writer.write(Item::Cancel(Bytes::from_static(b"x"))),
            Err(WriteError::Full(_))
        ));
        writer
            .force_write(Item::Subscribe(Bytes::from_static(b"x")))
            .unwrap();
        assert_eq!(writer.outbound_messages(), 3);
        for _ in 0..3 {
            assert!(matches!(reader.read(), Read::Item(_)));
        }
        assert!(matches!(reader.read(), Read::Empty));
        assert!(writer.has_room(), "all three were counted as read");
    }

    #[test]
    fn refusing_writes_keeps_what_was_queued_for_the_reader() {
        let (mut writer, mut reader) = pipe_pair(0, 0);
        let woken = Arc::new(Recorder::default());
        writer.set_activator(woken.clone());
        writer.write(message("queued")).unwrap();
        reader.refuse_writes();
        assert_eq!(woken.take(), vec![PipeEvent::Closed]);
        assert!(writer.is_peer_closed());
        assert!(matches!(
            writer.write(message("late")),
            Err(WriteError::Closed(_))
        ));
        assert!(matches!(reader.read(), Read::Item(Item::Message(_))));
        assert!(matches!(reader.read(), Read::Empty));
    }

    #[test]
    fn threads_pass_many_messages_in_order_without_passing_the_mark() {
        const COUNT: u64 = 200_000;
        const MARK: u32 = 100;
        let (mut writer, mut reader) = pipe_pair(MARK, MARK);
        let parked = Arc::new(ThreadWaker::default());
        reader.set_activator(parked.clone());
        let writer_waker = Arc::new(ThreadWaker::default());
        writer.set_activator(writer_waker.clone());
        let (writer_thread, reader_thread) = (writer_waker.clone(), parked.clone());
        let sender = std::thread::spawn(move || {
            writer_thread.register();
            let mut next = 0u64;
            while next < COUNT {
                match writer.write(Item::Message(Message::from(next.to_be_bytes().to_vec()))) {
                    Ok(()) => {
                        writer.flush();
                        assert!(writer.outbound_messages() <= u64::from(MARK));
                        next += 1;
                    }
                    Err(WriteError::Full(_)) => writer_thread.wait(),
                    Err(WriteError::Closed(_)) => panic!("closed"),
                }
            }
        });
        reader_thread.register();
        let mut expected = 0u64;
        while expected < COUNT {
            match reader.read() {
                Read::Item(Item::Message(message)) => {
                    let bytes: [u8; 8] = message.frames()[0][..].try_into().unwrap();
                    assert_eq!(u64::from_be_bytes(bytes), expected);
                    expected += 1;
                }
                Read::Item(_) => panic!("unexpected item"),
                Read::Empty => reader_thread.wait(),
                Read::Closed => panic!("closed early"),
            }
        }
        sender.join().unwrap();
    }

    /// Parks a thread until its pipe wakes it.
    #[derive(Debug, Default)]
    struct ThreadWaker(StdMutex<Option<std::thread::Thread>>);

    impl ThreadWaker {
        fn register(&self) {
            *self.0.lock().unwrap() = Some(std::thread::current());
        }
        /// Parks until woken; a wake-up that never comes fails the test.
        fn wait(&self) {
            let start = std::time::Instant::now();
            std::thread::park_timeout(std::time::Duration::from_secs(10));
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "lost wake-up"
            );
        }
    }

    impl Activate for ThreadWaker {
        fn activate(&self, _: PipeId, _: PipeEvent) {
            if let Some(thread) = &*self.0.lock().unwrap() {
                thread.unpark();
            }
        }
    }
}
