//! A test driver for the partition store: it plays the loop's part (submits
//! requests with ids, is woken by the store, takes completions and notices) and
//! waits for each answer with a deadline, never by sleeping.

#![allow(dead_code)]

use bytes::Bytes;
use sinew_broker::store::{
    Acks, Completion, Fetch, PartitionNotice, Payload, Produce, ProduceRecord, Produced, Reply,
    Request, RequestId, Store, StoreError, StoreSettings, Target,
};
use sinew_log::Producer;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long any wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Set by the store's wake-up, cleared by the client.
#[derive(Debug, Default)]
struct Signal {
    woken: Mutex<bool>,
    changed: Condvar,
}

/// The store, and the loop's side of it.
#[derive(Debug)]
pub struct Client {
    pub store: Store,
    signal: Arc<Signal>,
    next_id: RequestId,
    done: HashMap<RequestId, Result<Reply, StoreError>>,
    pub notices: Vec<PartitionNotice>,
}

impl Client {
    pub fn open(settings: StoreSettings) -> Result<Client, StoreError> {
        let signal = Arc::new(Signal::default());
        let woken = signal.clone();
        let store = Store::open(settings, move || {
            *woken
                .woken
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
            woken.changed.notify_all();
        })?;
        Ok(Client {
            store,
            signal,
            next_id: 1,
            done: HashMap::new(),
            notices: Vec::new(),
        })
    }

    /// Queues `requests` as one batch; their ids.
    pub fn submit_batch(&mut self, requests: Vec<Request>) -> Vec<RequestId> {
        let mut ids = Vec::new();
        let batch = requests
            .into_iter()
            .map(|request| {
                let id = self.next_id;
                self.next_id += 1;
                ids.push(id);
                (id, request)
            })
            .collect();
        self.store.submit_batch(batch).expect("submit");
        ids
    }

    /// Takes what the store has finished; waits (up to the deadline) to be woken
    /// if it has nothing.
    fn pump(&mut self, deadline: Instant) {
        let mut completions: Vec<Completion> = Vec::new();
        self.store.take_completions(&mut completions);
        let notices = self.notices.len();
        self.store.take_notices(&mut self.notices);
        if completions.is_empty() && self.notices.len() == notices {
            let mut woken = self.signal.woken.lock().unwrap();
            while !*woken {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(!left.is_zero(), "no completion before the deadline");
                woken = self.signal.changed.wait_timeout(woken, left).unwrap().0;
            }
            *woken = false;
            return;
        }
        for completion in completions {
            self.done.insert(completion.id, completion.result);
        }
    }

    /// Waits for the store to hand over anything (a completion or a notice).
    pub fn wait_for_output(&mut self, deadline: Instant) {
        self.pump(deadline);
    }

    /// The next completion of any request.
    pub fn wait_any(&mut self) -> (RequestId, Result<Reply, StoreError>) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(id) = self.done.keys().next().copied()
                && let Some(result) = self.done.remove(&id)
            {
                return (id, result);
            }
            self.pump(deadline);
        }
    }

    pub fn wait(&mut self, id: RequestId) -> Result<Reply, StoreError> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(result) = self.done.remove(&id) {
                return result;
            }
            self.pump(deadline);
        }
    }

    pub fn call(&mut self, request: Request) -> Result<Reply, StoreError> {
        let ids = self.submit_batch(vec![request]);
        self.wait(ids[0])
    }

    pub fn call_batch(&mut self, requests: Vec<Request>) -> Vec<Result<Reply, StoreError>> {
        let ids = self.submit_batch(requests);
        ids.into_iter().map(|id| self.wait(id)).collect()
    }

    pub fn produce(&mut self, produce: Produce) -> Result<Produced, StoreError> {
        match self.call(Request::Produce(produce))? {
            Reply::Produced(produced) => Ok(produced),
            other => panic!("a produce answered {other:?}"),
        }
    }

    /// Every record from `offset` on that consumers can see: (offset, value).
    pub fn read_all(
        &mut self,
        topic: &str,
        partition: u32,
        mut offset: u64,
    ) -> Vec<(u64, Vec<u8>)> {
        let mut records = Vec::new();
        loop {
            let reply = self.call(Request::Fetch(Fetch {
                topic: topic.to_owned(),
                partition,
                offset,
                max_bytes: 1 << 20,
                decode: false,
            }));
            let Ok(Reply::Fetched(fetched)) = reply else {
                panic!("fetch: {reply:?}");
            };
            if fetched.batches.is_empty() {
                return records;
            }
            for record in fetched.batches.records().expect("records") {
                if record.offset >= offset {
                    records.push((record.offset, record.value.unwrap_or_default()));
                }
            }
            offset = fetched.batches.next_offset().expect("an offset");
        }
    }

    pub fn close(mut self) {
        self.store.close().expect("close");
    }
}

/// A produce of `values` to `topic`/`partition` with `acks`.
pub fn produce(topic: &str, partition: u32, values: &[&str], acks: Acks) -> Produce {
    Produce {
        topic: topic.to_owned(),
        partition: Target::Partition(partition),
        payload: Payload::Records(
            values
                .iter()
                .map(|value| {
                    ProduceRecord::new(None, Bytes::copy_from_slice(value.as_bytes()), 1_000)
                })
                .collect(),
        ),
        producer: None,
        acks: Some(acks),
    }
}

/// The same, from an idempotent producer.
pub fn produce_as(
    topic: &str,
    partition: u32,
    values: &[&str],
    id: i64,
    epoch: i16,
    base_sequence: i32,
) -> Produce {
    Produce {
        producer: Some(Producer {
            id,
            epoch,
            base_sequence,
        }),
        ..produce(topic, partition, values, Acks::Durable)
    }
}
