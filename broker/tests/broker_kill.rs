//! SIGKILL of the whole broker under durable load: the real `sinew-broker` binary,
//! on a temporary data directory with its native door on `tcp://127.0.0.1:0`, is
//! killed again and again while several producers (each its own DEALER, with
//! pipelined PRODUCE requests asking for durable acknowledgements, one of them
//! idempotent) write to a three-partition topic with durable visibility, and two
//! consumers long-poll every partition: one from offset 0, one from where the
//! round began, following the records as they become durable. Each round kills
//! the broker after a different number of acknowledgements (some rounds also kill
//! one that is still starting), restarts it on the same directory and checks that:
//!
//! - every acknowledged record is at exactly its acknowledged partition and offset;
//! - every record a consumer (or an earlier check) saw is still where it was seen;
//! - every partition's offsets are dense from 0, and each record in it is one a
//!   producer sent, found once only;
//! - the idempotent producer's retries after the restart are not written twice: its
//!   last acknowledged batch is answered as a duplicate with its original offsets,
//!   and a batch it had in flight is either a duplicate at the offsets where its
//!   records already are, or written now for the first time.
//!
//! The topic's segments are made small (its `topic.json` gets `segment_bytes`
//! before the first round), and values are padded more in some rounds than in
//! others, so that segments roll every few batches or every few dozen. Records
//! sent but never acknowledged may or may not survive. This test must never
//! sleep or time anything: the kill waits for a count of acknowledgements, every
//! wait has a deadline, and the client threads stop when their context is shut
//! down.

mod native_client;
mod util;

use bytes::Bytes;
use native_client::{Client, topic};
use sinew::{Context, Message, Socket, SocketType};
use sinew_broker::doors::native::*;
use std::collections::{HashMap, HashSet, VecDeque};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use util::{TIMEOUT, TempDir, sinew_broker_in};

const TOPIC: &str = "crash";
const PARTITIONS: u32 = 3;
/// Rounds that end with a SIGKILL (a last restart checks the last one).
const ROUNDS: u64 = 20;
/// Producers without a producer id, each writing to every partition in turn.
const PRODUCERS: u64 = 3;
/// PRODUCE requests each of them keeps in flight.
const IN_FLIGHT: usize = 8;
/// The idempotent producer's requests in flight: with its last acknowledged batch,
/// no more than the five batches a partition remembers per producer (sinew-log's
/// `RETAINED_BATCHES`, Kafka's too), so that every retry is recognised.
const IDEMPOTENT_IN_FLIGHT: usize = 4;
const IDEMPOTENT_PARTITION: u32 = 0;
/// The topic's segment size: a few dozen batches.
const SEGMENT_BYTES: u64 = 4096;

/// A partition and an offset.
type Place = (u32, u64);

#[test]
fn acknowledged_and_seen_records_survive_sigkill_of_the_broker() {
    let data = TempDir::new("broker-kill");
    let mut checks = Checks::default();
    // The topic and the producer id, on a broker killed (dropped) before it
    // stores anything; then the topic gets its small segments.
    let mut idempotent = {
        let server = sinew_broker_in(&data.0, &[]);
        let mut admin = Client::connect(&server);
        assert_eq!(admin.call(create_topic()), ResponseBody::CreateTopic);
        let ResponseBody::InitProducerId(grant) =
            admin.call(RequestBody::InitProducerId(InitProducerId {
                existing: None,
            }))
        else {
            panic!("expected a producer id");
        };
        Some(Idempotent::new(grant))
    };
    small_segments(&data.0);
    let mut random = 0x5eed_u64;
    for round in 0..=ROUNDS {
        if round % 5 == 4 {
            kill_while_starting(&data.0);
        }
        let mut server = sinew_broker_in(&data.0, &[]);
        let endpoint = server.native.clone().expect("the native endpoint");
        let mut admin = Client::connect(&server);
        let log = checks.verify(&mut admin, round);
        let unacknowledged = log
            .places
            .values()
            .filter(|place| !checks.acknowledged.contains_key(place))
            .count();
        eprintln!(
            "round {round}: {} records stored after the restart, {unacknowledged} of them never acknowledged",
            log.places.len()
        );
        let idempotent_state = idempotent.as_mut().expect("the idempotent producer");
        checks.retry(&mut admin, round, idempotent_state, &log);
        if round == ROUNDS {
            // The retries' records are where they were acknowledged.
            checks.verify(&mut admin, round);
            break;
        }

        random = random
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // From the first acknowledgement to a few hundred: the kill lands on
        // producers at every stage of their pipelines.
        let wanted = 1 + (random >> 33) % 250;
        let context = Context::new();
        let (acks, ack_events) = mpsc::channel::<()>();
        let mut plain = Vec::new();
        for producer in 0..PRODUCERS {
            let (context, endpoint, acks) = (context.clone(), endpoint.clone(), acks.clone());
            plain.push(std::thread::spawn(move || {
                plain_producer(&context, &endpoint, round, producer, &acks)
            }));
        }
        let state = idempotent.take().expect("the idempotent producer");
        let idempotent_thread = {
            let (context, endpoint, acks) = (context.clone(), endpoint.clone(), acks.clone());
            std::thread::spawn(move || {
                idempotent_producer(&context, &endpoint, round, state, &acks)
            })
        };
        // One consumer reads everything again from offset 0, as stored batches
        // (decoded here); the other follows, as records, what becomes durable in
        // this round, up to the kill.
        let consumer_threads = [
            (FetchMode::Batches, vec![0; PARTITIONS as usize]),
            (FetchMode::Records, log.ends.clone()),
        ]
        .map(|(mode, start)| {
            let (context, endpoint) = (context.clone(), endpoint.clone());
            std::thread::spawn(move || consumer(&context, &endpoint, mode, start))
        });
        drop(acks);

        let deadline = Instant::now() + TIMEOUT;
        let mut counted = 0;
        while counted < wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            if ack_events.recv_timeout(left).is_err() {
                break;
            }
            counted += 1;
        }
        server.child.kill().expect("SIGKILL the broker");
        let status = server.child.wait().expect("wait for the broker");
        assert!(
            !status.success(),
            "round {round}: the broker ended by itself"
        );
        // Every blocked send and receive of the clients returns now.
        context.shutdown();
        let mut reports = Vec::new();
        for thread in plain {
            reports.push(join(thread));
        }
        let (state, report) = join(idempotent_thread);
        idempotent = Some(state);
        reports.push(report);
        let [replayed, followed] = consumer_threads.map(join);
        assert!(
            counted == wanted,
            "round {round}: only {counted} of {wanted} acknowledgements before the deadline"
        );
        eprintln!(
            "round {round}: killed after {counted} acknowledgements were counted; {} acknowledged batches reported; consumers saw {} records from offset 0 and {} new ones",
            reports
                .iter()
                .map(|report| report.acked.len())
                .sum::<usize>(),
            replayed.len(),
            followed.len()
        );
        for report in &reports {
            checks.sent.extend(report.sent.iter().cloned());
            for acked in &report.acked {
                checks.acknowledge(round, acked);
            }
        }
        for (partition, offset, value) in replayed.into_iter().chain(followed) {
            checks.see(round, (partition, offset), value);
        }
    }
    // Enough happened for the checks to mean something.
    assert!(
        checks.acknowledged.len() > 500,
        "only {} acknowledged records",
        checks.acknowledged.len()
    );
    assert!(checks.duplicates > 0, "no idempotent retry was a duplicate");
    let segments = std::fs::read_dir(data.0.join("topics").join(TOPIC).join("0"))
        .expect("partition 0's directory")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.path().extension() == Some(std::ffi::OsStr::new("log")))
        })
        .count();
    assert!(
        segments > 10,
        "only {segments} segments: the small segments were not taken"
    );
}

/// What the rounds found so far.
#[derive(Default)]
struct Checks {
    /// Every record acknowledged, where it was acknowledged.
    acknowledged: HashMap<Place, String>,
    /// Every record a consumer or a check read, where it was read.
    seen: HashMap<Place, String>,
    /// Every value a producer meant to send.
    sent: HashSet<String>,
    /// Idempotent retries answered as duplicates.
    duplicates: usize,
}

/// The topic as read after a restart.
struct Log {
    /// Where each value is.
    places: HashMap<String, Place>,
    /// Each partition's visible end.
    ends: Vec<u64>,
}

impl Checks {
    fn acknowledge(&mut self, round: u64, acked: &Acked) {
        for (index, value) in acked.values.iter().enumerate() {
            let place = (acked.partition, acked.base_offset + index as u64);
            if let Some(earlier) = self.acknowledged.insert(place, value.clone()) {
                assert_eq!(
                    &earlier, value,
                    "round {round}: {place:?} acknowledged for two records"
                );
            }
        }
    }

    fn see(&mut self, round: u64, place: Place, value: String) {
        if let Some(earlier) = self.seen.get(&place) {
            assert_eq!(
                earlier, &value,
                "round {round}: {place:?} held {earlier} when read before and {value} now"
            );
        }
        self.seen.insert(place, value);
    }

    /// Reads the whole topic after a restart and checks it against everything
    /// acknowledged, seen and sent before; what it read counts as seen.
    fn verify(&mut self, client: &mut Client, round: u64) -> Log {
        let partitions: Vec<Vec<String>> = (0..PARTITIONS)
            .map(|partition| read_partition(client, partition))
            .collect();
        let at = |place: Place| -> Option<&String> {
            partitions
                .get(place.0 as usize)
                .and_then(|values| values.get(usize::try_from(place.1).ok()?))
        };
        for (place, value) in &self.acknowledged {
            assert_eq!(
                at(*place),
                Some(value),
                "round {round}: the acknowledged record {value} at {place:?} was lost or changed"
            );
        }
        for (place, value) in &self.seen {
            assert_eq!(
                at(*place),
                Some(value),
                "round {round}: the record {value} seen at {place:?} was lost or changed"
            );
        }
        let mut places = HashMap::new();
        for (partition, values) in (0u32..).zip(&partitions) {
            for (offset, value) in (0u64..).zip(values) {
                assert!(
                    self.sent.contains(value),
                    "round {round}: {value} at {:?} was never sent",
                    (partition, offset)
                );
                if let Some(other) = places.insert(value.clone(), (partition, offset)) {
                    panic!(
                        "round {round}: {value} is stored twice, at {other:?} and {:?}",
                        (partition, offset)
                    );
                }
                self.seen.insert((partition, offset), value.clone());
            }
        }
        let ends = partitions
            .iter()
            .map(|values| values.len() as u64)
            .collect();
        Log { places, ends }
    }

    /// The idempotent producer after a restart: its last acknowledged batch again,
    /// then every batch that was in flight when the broker died, in order.
    fn retry(&mut self, client: &mut Client, round: u64, state: &mut Idempotent, log: &Log) {
        if let Some((batch, base_offset, last_offset)) = state.last_acked.clone() {
            let result = produce_result(client.call(state.request(&batch)));
            assert!(
                result.duplicate,
                "round {round}: the acknowledged batch {batch:?} was accepted again"
            );
            assert_eq!(
                (result.base_offset, result.last_offset),
                (base_offset, last_offset),
                "round {round}: a retry of {batch:?} got other offsets"
            );
            self.duplicates += 1;
        }
        let retried = state.unacknowledged.len();
        let duplicates = self.duplicates;
        for batch in std::mem::take(&mut state.unacknowledged) {
            let result = produce_result(client.call(state.request(&batch)));
            assert_eq!(result.partition, IDEMPOTENT_PARTITION);
            assert_eq!(
                result.last_offset - result.base_offset + 1,
                batch.values.len() as u64,
                "round {round}: {batch:?} got {result:?}"
            );
            let stored: Vec<Option<Place>> = batch
                .values
                .iter()
                .map(|value| log.places.get(value).copied())
                .collect();
            if result.duplicate {
                // It survived the kill: its original offsets are where it is.
                let original: Vec<Option<Place>> = (result.base_offset..=result.last_offset)
                    .map(|offset| Some((IDEMPOTENT_PARTITION, offset)))
                    .collect();
                assert_eq!(
                    stored, original,
                    "round {round}: the duplicate {batch:?} is not where its records are"
                );
                self.duplicates += 1;
            } else {
                assert!(
                    stored.iter().all(Option::is_none),
                    "round {round}: {batch:?} was in the log already ({stored:?}) and written again"
                );
            }
            self.acknowledge(
                round,
                &Acked {
                    partition: IDEMPOTENT_PARTITION,
                    base_offset: result.base_offset,
                    values: batch.values.clone(),
                },
            );
            state.last_acked = Some((batch, result.base_offset, result.last_offset));
        }
        eprintln!(
            "round {round}: of {retried} idempotent batches in flight at the kill, {} had been stored",
            self.duplicates - duplicates
        );
    }
}

/// Reads a partition from offset 0 to its visible end, checking offsets are dense.
fn read_partition(client: &mut Client, partition: u32) -> Vec<String> {
    let mut values = Vec::new();
    loop {
        let body = client.call(fetch(partition, values.len() as u64, 0, FetchMode::Records));
        let ResponseBody::Fetch(result) = body else {
            panic!("partition {partition}: expected a fetch result, got {body:?}");
        };
        assert_eq!(result.log_start_offset, 0, "nothing is ever deleted here");
        let FetchData::Records(records) = result.data else {
            panic!("expected records");
        };
        if records.is_empty() {
            assert_eq!(
                values.len() as u64,
                result.durable_offset,
                "partition {partition}: the read stopped before the visible end"
            );
            return values;
        }
        for record in records {
            assert_eq!(
                record.offset,
                values.len() as u64,
                "partition {partition}: offsets are not dense"
            );
            values.push(text(record.value));
        }
    }
}

fn text(value: Option<Bytes>) -> String {
    String::from_utf8(value.expect("every record has a value").to_vec()).expect("UTF-8 values")
}

/// Gives the topic segments of `SEGMENT_BYTES` (a setting of its `topic.json` that
/// the native door does not offer), so that they roll every few dozen batches and
/// kills land on either side of rolls.
fn small_segments(data: &std::path::Path) {
    let path = data.join("topics").join(TOPIC).join("topic.json");
    let text = std::fs::read(&path).expect("the topic's topic.json");
    let mut settings: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    settings["segment_bytes"] = serde_json::Value::from(SEGMENT_BYTES);
    std::fs::write(&path, serde_json::to_vec(&settings).expect("JSON"))
        .expect("rewrite topic.json");
}

/// Starts the broker on the directory and kills it at once, while it is starting
/// (perhaps while it recovers the partitions the last kill left).
fn kill_while_starting(data: &std::path::Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sinew-broker"))
        .args([
            "--nats",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--listen",
            "tcp://127.0.0.1:0",
            "--kafka",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sinew-broker starts");
    child.kill().expect("SIGKILL the starting broker");
    child.wait().expect("wait for the starting broker");
}

fn create_topic() -> RequestBody {
    RequestBody::CreateTopic(CreateTopic {
        topic: topic(TOPIC),
        config: TopicConfig {
            ack_policy: Acks::Durable,
            ..TopicConfig::new(PARTITIONS)
        },
    })
}

fn fetch(partition: u32, offset: u64, max_wait_ms: u32, mode: FetchMode) -> RequestBody {
    RequestBody::Fetch(Fetch {
        topic: topic(TOPIC),
        partition,
        start: Position::Offset(offset),
        mode,
        max_bytes: 1 << 20,
        max_records: 0,
        max_wait_ms,
        min_bytes: u32::from(max_wait_ms > 0),
    })
}

fn produce(partition: u32, values: &[String], producer: Option<ProducerIdentity>) -> RequestBody {
    RequestBody::Produce(Produce {
        topic: topic(TOPIC),
        partition: PartitionChoice::Index(partition),
        acks: Acks::Durable,
        payload: ProducePayload::Records {
            producer,
            records: values
                .iter()
                .map(|value| ProduceRecord {
                    timestamp: -1,
                    key: None,
                    value: Some(Bytes::from(value.clone().into_bytes())),
                    headers: Vec::new(),
                })
                .collect(),
        },
    })
}

fn produce_result(body: ResponseBody) -> ProduceResult {
    match body {
        ResponseBody::Produce(result) => {
            assert_eq!(result.acknowledged, Acknowledged::Durable, "{result:?}");
            result
        }
        other => panic!("expected a produce result, got {other:?}"),
    }
}

/// A DEALER of `context` connected to the broker; `None` if the context was shut
/// down first (the round ended before this thread began).
fn connect(context: &Context, endpoint: &str) -> Option<Socket> {
    let made = context.socket(SocketType::Dealer).and_then(|dealer| {
        // No linger: the broker may be dead when the socket closes.
        dealer.set_linger(Some(Duration::ZERO))?;
        dealer.connect(endpoint)?;
        Ok(dealer)
    });
    match made {
        Ok(dealer) => Some(dealer),
        Err(sinew::Error::Terminated) => None,
        Err(error) => panic!("a DEALER connected to {endpoint}: {error}"),
    }
}

/// Sends a request; `false` once the context is shut down.
fn send(dealer: &Socket, correlation_id: u64, body: RequestBody) -> bool {
    let frames = encode_request(&Request {
        correlation_id,
        body,
    });
    match dealer.send(Message::from_frames(frames)) {
        Ok(()) => true,
        Err(error) if matches!(error.error, sinew::Error::Terminated) => false,
        Err(error) => panic!("send: {}", error.error),
    }
}

/// The next response; `None` once the context is shut down.
fn receive(dealer: &Socket) -> Option<Response> {
    match dealer.recv_with_timeout(None) {
        Ok(message) => Some(decode_response(message.frames()).expect("a response that decodes")),
        Err(sinew::Error::Terminated) => None,
        Err(error) => panic!("receive: {error}"),
    }
}

/// Joins a client thread, failing the test with its panic.
fn join<T>(thread: std::thread::JoinHandle<T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A record's value: its name, then padding that depends on the round, so that
/// some rounds write batches of a few dozen bytes and others batches about as
/// large as a segment (a roll at nearly every batch, and larger writes to cut).
fn value(round: u64, name: String) -> String {
    let padding = [0, 150, 1400][(round % 3) as usize];
    format!("{name}:{}", ".".repeat(padding))
}

/// Records acknowledged together.
#[derive(Debug)]
struct Acked {
    partition: u32,
    base_offset: u64,
    values: Vec<String>,
}

/// What a producer thread did in a round.
#[derive(Default)]
struct ProducerReport {
    acked: Vec<Acked>,
    /// Every value it made, sent or about to be.
    sent: Vec<String>,
}

/// A producer without a producer id: batches of one to three records, to each
/// partition in turn, `IN_FLIGHT` at a time, until its context is shut down.
fn plain_producer(
    context: &Context,
    endpoint: &str,
    round: u64,
    producer: u64,
    acks: &mpsc::Sender<()>,
) -> ProducerReport {
    let mut report = ProducerReport::default();
    let Some(dealer) = connect(context, endpoint) else {
        return report;
    };
    let mut in_flight: HashMap<u64, (u32, Vec<String>)> = HashMap::new();
    let mut next = 0u64;
    loop {
        while in_flight.len() < IN_FLIGHT {
            next += 1;
            let partition = ((producer + next) % u64::from(PARTITIONS)) as u32;
            let values: Vec<String> = (0..1 + next % 3)
                .map(|index| value(round, format!("r{round}-p{producer}-b{next}-{index}")))
                .collect();
            report.sent.extend(values.iter().cloned());
            if !send(&dealer, next, produce(partition, &values, None)) {
                return report;
            }
            in_flight.insert(next, (partition, values));
        }
        let Some(response) = receive(&dealer) else {
            return report;
        };
        let (partition, values) = in_flight
            .remove(&response.correlation_id)
            .unwrap_or_else(|| panic!("an answer to no request: {response:?}"));
        let result = produce_result(response.body);
        assert_eq!(result.partition, partition);
        assert!(!result.duplicate, "{result:?}");
        assert_eq!(
            result.last_offset - result.base_offset + 1,
            values.len() as u64,
            "{result:?}"
        );
        report.acked.push(Acked {
            partition,
            base_offset: result.base_offset,
            values,
        });
        let _ = acks.send(());
    }
}

/// One idempotent batch: its first sequence number and its records.
#[derive(Clone, Debug)]
struct Batch {
    sequence: i32,
    values: Vec<String>,
}

/// The idempotent producer, across rounds.
struct Idempotent {
    id: i64,
    epoch: i16,
    next_sequence: i32,
    /// Batches sent (or about to be) and not acknowledged when the broker died,
    /// oldest first.
    unacknowledged: Vec<Batch>,
    /// The last batch acknowledged, with its offsets.
    last_acked: Option<(Batch, u64, u64)>,
}

impl Idempotent {
    fn new(grant: ProducerGrant) -> Idempotent {
        Idempotent {
            id: grant.id,
            epoch: grant.epoch,
            next_sequence: 0,
            unacknowledged: Vec::new(),
            last_acked: None,
        }
    }

    fn request(&self, batch: &Batch) -> RequestBody {
        let identity = ProducerIdentity {
            id: self.id,
            epoch: self.epoch,
            base_sequence: batch.sequence,
        };
        produce(IDEMPOTENT_PARTITION, &batch.values, Some(identity))
    }
}

/// The idempotent producer's round: batches of one or two records to one
/// partition, `IDEMPOTENT_IN_FLIGHT` at a time, until its context is shut down.
fn idempotent_producer(
    context: &Context,
    endpoint: &str,
    round: u64,
    mut state: Idempotent,
    acks: &mpsc::Sender<()>,
) -> (Idempotent, ProducerReport) {
    let mut report = ProducerReport::default();
    let Some(dealer) = connect(context, endpoint) else {
        return (state, report);
    };
    let mut in_flight: VecDeque<(u64, Batch)> = VecDeque::new();
    let mut next = 0u64;
    'round: loop {
        while in_flight.len() < IDEMPOTENT_IN_FLIGHT {
            next += 1;
            let sequence = state.next_sequence;
            let values: Vec<String> = (0..1 + next % 2)
                .map(|index| value(round, format!("r{round}-idempotent-s{sequence}-{index}")))
                .collect();
            state.next_sequence += values.len() as i32;
            report.sent.extend(values.iter().cloned());
            let batch = Batch { sequence, values };
            let request = state.request(&batch);
            // In flight from here: if the send fails, the retry is simply its first.
            in_flight.push_back((next, batch));
            if !send(&dealer, next, request) {
                break 'round;
            }
        }
        let Some(response) = receive(&dealer) else {
            break;
        };
        let (id, batch) = in_flight.pop_front().expect("a request in flight");
        assert_eq!(
            response.correlation_id, id,
            "one partition's acknowledgements come in order"
        );
        let result = produce_result(response.body);
        assert!(!result.duplicate, "{result:?}");
        assert_eq!(
            result.last_offset - result.base_offset + 1,
            batch.values.len() as u64
        );
        report.acked.push(Acked {
            partition: IDEMPOTENT_PARTITION,
            base_offset: result.base_offset,
            values: batch.values.clone(),
        });
        state.last_acked = Some((batch, result.base_offset, result.last_offset));
        let _ = acks.send(());
    }
    state.unacknowledged = in_flight.into_iter().map(|(_, batch)| batch).collect();
    (state, report)
}

/// A consumer long-polling every partition from `next` (an offset per partition)
/// until its context is shut down; returns every record it was given.
fn consumer(
    context: &Context,
    endpoint: &str,
    mode: FetchMode,
    mut next: Vec<u64>,
) -> Vec<(u32, u64, String)> {
    let mut seen = Vec::new();
    let Some(dealer) = connect(context, endpoint) else {
        return seen;
    };
    let mut asked: HashMap<u64, u32> = HashMap::new();
    let mut correlation_id = 0u64;
    for partition in 0..PARTITIONS {
        correlation_id += 1;
        if !send(
            &dealer,
            correlation_id,
            fetch(partition, next[partition as usize], 5_000, mode),
        ) {
            return seen;
        }
        asked.insert(correlation_id, partition);
    }
    loop {
        let Some(response) = receive(&dealer) else {
            return seen;
        };
        let partition = asked
            .remove(&response.correlation_id)
            .unwrap_or_else(|| panic!("an answer to no request: {response:?}"));
        let ResponseBody::Fetch(result) = response.body else {
            panic!("partition {partition}: a fetch failed: {:?}", response.body);
        };
        let position = &mut next[partition as usize];
        let records: Vec<(u64, Option<Bytes>)> = match result.data {
            FetchData::Records(records) => records
                .into_iter()
                .map(|record| (record.offset, record.value))
                .collect(),
            // Stored batches: the first may start before the offset asked for.
            FetchData::Batches(batches) => batches
                .iter()
                .flat_map(|batch| sinew_log::decode_records(batch).expect("a stored batch decodes"))
                .filter(|record| record.offset >= *position)
                .map(|record| (record.offset, record.value.map(Bytes::from)))
                .collect(),
        };
        for (offset, value) in records {
            assert_eq!(offset, *position, "partition {partition}: a gap");
            seen.push((partition, offset, text(value)));
            *position += 1;
        }
        assert_eq!(result.next_offset, *position);
        assert!(
            *position <= result.durable_offset,
            "partition {partition}: a record at or past the durable offset {} was served",
            result.durable_offset
        );
        correlation_id += 1;
        if !send(
            &dealer,
            correlation_id,
            fetch(partition, *position, 5_000, mode),
        ) {
            return seen;
        }
        asked.insert(correlation_id, partition);
    }
}
