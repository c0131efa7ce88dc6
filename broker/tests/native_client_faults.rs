//! The native client against a fake broker that answers wrongly: frames that do
//! not decode, an answer of another command, an error code no version defines,
//! offsets that do not fit the batch, batches where records were asked for, a
//! stray answer to no request. Each must come back as an `Error` (or be
//! ignored, for the stray answer), never a panic or a hang. And one that keeps
//! idempotent sequences as the broker does but refuses the first PRODUCE with
//! TOO_MANY_PENDING, or loses it: the batches behind it get
//! OUT_OF_ORDER_SEQUENCE, and the producer must send them all again, in order,
//! with the same sequences.
//!
//! The fake is a ROUTER on a free loopback port in a thread of the test (or on
//! `inproc://`, to check that the clients reach a broker of their own program's
//! context there); every wait has a deadline.

mod util;

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use sinew::{Context, Message, SocketType};
use sinew_broker::client::native::*;
use sinew_broker::doors::native::{
    ErrorResponse, FetchData, FetchResult, PartitionDescription, ProducePayload, ProduceResult,
    ProducerGrant, Request, RequestBody, Response, ResponseBody, TopicConfig, decode_request,
    encode_response,
};
use util::TIMEOUT;

/// Answers each request with the frames `answer` gives (none: no answer), until
/// the test ends.
fn fake_broker(
    answer: impl FnMut(&Request) -> Vec<Vec<Bytes>> + Send + 'static,
) -> (String, JoinHandle<()>, mpsc::Sender<()>) {
    fake_broker_in(Context::new(), "tcp://127.0.0.1:0", answer)
}

/// [`fake_broker`] bound on `endpoint` with a socket of `context`.
fn fake_broker_in(
    context: Context,
    endpoint: &str,
    mut answer: impl FnMut(&Request) -> Vec<Vec<Bytes>> + Send + 'static,
) -> (String, JoinHandle<()>, mpsc::Sender<()>) {
    let (endpoint_sender, bound) = mpsc::channel();
    let (stop, stopped) = mpsc::channel::<()>();
    let endpoint = endpoint.to_owned();
    let thread = std::thread::spawn(move || {
        let router = context.socket(SocketType::Router).expect("a ROUTER");
        router.set_linger(Some(Duration::ZERO)).expect("linger");
        router.bind(&endpoint).expect("bind");
        endpoint_sender
            .send(router.last_endpoint().expect("endpoint"))
            .expect("the test waits");
        loop {
            if !matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                return;
            }
            // The timeout only bounds how late the stop is seen.
            let Ok(mut message) = router.recv_with_timeout(Some(Duration::from_millis(20))) else {
                continue;
            };
            let Some(peer) = message.pop_front() else {
                continue;
            };
            let request = decode_request(message.frames()).expect("the client's request decodes");
            for frames in answer(&request) {
                let mut reply = Message::from_frames(frames);
                reply.push_front(peer.clone());
                router.send(reply).expect("send");
            }
        }
    });
    let endpoint = bound.recv_timeout(TIMEOUT).expect("the fake listens");
    (endpoint, thread, stop)
}

fn frames(correlation_id: u64, body: ResponseBody) -> Vec<Bytes> {
    encode_response(&Response {
        correlation_id,
        body,
    })
}

fn config(partitions: u32) -> TopicConfig {
    TopicConfig {
        partitions,
        compact: false,
        ack_policy: Acks::None,
        visibility: Visibility::Written,
        retention_ms: None,
        retention_bytes: None,
        flush_interval_ms: 0,
    }
}

fn description(partitions: u32) -> ResponseBody {
    ResponseBody::DescribeTopic(TopicDescription {
        config: config(partitions),
        partitions: (0..partitions)
            .map(|partition| PartitionDescription {
                partition,
                start_offset: 0,
                end_offset: 0,
                durable_offset: 0,
                size_bytes: 0,
            })
            .collect(),
    })
}

#[test]
fn admin_answers_that_are_wrong_are_errors() {
    let (endpoint, thread, stop) = fake_broker(|request| match &request.body {
        // Not the protocol at all.
        RequestBody::ListTopics => vec![vec![Bytes::from_static(b"garbage")]],
        // Another command's answer, after a stray answer to no request.
        RequestBody::CreateTopic(_) => vec![
            frames(9_999, ResponseBody::CreateTopic),
            frames(request.correlation_id, ResponseBody::DeleteTopic),
        ],
        // An error code no version defines, with a message.
        RequestBody::DeleteTopic(_) => vec![frames(
            request.correlation_id,
            ResponseBody::Error(ErrorResponse {
                command: 0x0011,
                code: ErrorCode::Other(999),
                details: [1, 2],
                message: Some("from the future".to_owned()),
            }),
        )],
        // No answer at all.
        _ => Vec::new(),
    });
    let mut admin = Admin::connect(&endpoint).expect("connect");
    admin.set_timeout(Duration::from_millis(300));
    let garbage = admin.list_topics().expect_err("garbage");
    assert!(matches!(garbage, Error::Protocol(_)), "{garbage}");
    let other = admin
        .create_topic("t", TopicSettings::new(1))
        .expect_err("another command's answer");
    assert!(matches!(other, Error::Protocol(_)), "{other}");
    let future = admin.delete_topic("t").expect_err("an unknown code");
    assert_eq!(future.code().map(ErrorCode::code), Some(999));
    assert!(!future.is_retriable());
    assert!(future.to_string().contains("from the future"), "{future}");
    let silent = admin.describe_topic("t").expect_err("no answer");
    assert!(matches!(silent, Error::TimedOut(_)), "{silent}");
    assert!(silent.is_retriable());
    let _ = stop.send(());
    thread.join().expect("the fake");
}

#[test]
fn produce_answers_whose_offsets_do_not_fit_the_batch_are_errors() {
    let (endpoint, thread, stop) = fake_broker(|request| {
        let body = match &request.body {
            RequestBody::InitProducerId(_) => {
                ResponseBody::InitProducerId(ProducerGrant { id: 7, epoch: 0 })
            }
            RequestBody::DescribeTopic(_) => description(1),
            // Five offsets for a batch of one or two records.
            RequestBody::Produce(_) => ResponseBody::Produce(ProduceResult {
                partition: 0,
                acknowledged: Acknowledged::Durable,
                duplicate: false,
                base_offset: 5,
                last_offset: 9,
            }),
            _ => return Vec::new(),
        };
        vec![frames(request.correlation_id, body)]
    });
    let mut producer = Producer::connect(&endpoint, ProducerConfig::default()).expect("connect");
    assert_eq!(producer.producer_id(), Some((7, 0)));
    producer.send(ProducerRecord::new("t", "a")).expect("send");
    producer.send(ProducerRecord::new("t", "b")).expect("send");
    let deliveries = producer.flush(TIMEOUT).expect("flush");
    assert_eq!(deliveries.len(), 2);
    for delivery in deliveries {
        let error = delivery.result.expect_err("offsets that do not fit");
        assert!(matches!(error, Error::Protocol(_)), "{error}");
    }
    let _ = stop.send(());
    thread.join().expect("the fake");
}

#[test]
fn fetch_answers_of_the_wrong_mode_are_errors() {
    let (endpoint, thread, stop) = fake_broker(|request| {
        let body = match &request.body {
            RequestBody::DescribeTopic(_) => description(1),
            RequestBody::Fetch(_) => ResponseBody::Fetch(FetchResult {
                partition: 0,
                next_offset: 0,
                end_offset: 0,
                durable_offset: 0,
                log_start_offset: 0,
                data: FetchData::Batches(Vec::new()),
            }),
            _ => return Vec::new(),
        };
        vec![frames(request.correlation_id, body)]
    });
    let mut consumer = Consumer::connect(&endpoint, ConsumerConfig::default()).expect("connect");
    assert_eq!(consumer.assign("t", &[]).expect("assign"), [0]);
    let error = consumer
        .poll(TIMEOUT)
        .expect_err("batches where records were asked");
    assert!(matches!(error, Error::Protocol(_)), "{error}");
    let _ = stop.send(());
    thread.join().expect("the fake");
}

#[test]
fn batches_behind_a_refused_one_are_sent_again_in_order_with_their_sequences() {
    resend_behind_the_first(false);
}

/// The first PRODUCE's request is lost (never answered): the batches behind it get
/// OUT_OF_ORDER_SEQUENCE, which must make the producer send everything from the
/// lost one on again at once (its own time-out, 30 s, is past the flush's).
#[test]
fn batches_behind_a_lost_one_are_sent_again_in_order_with_their_sequences() {
    resend_behind_the_first(true);
}

fn resend_behind_the_first(lose_first: bool) {
    // (sequence, value) of every PRODUCE the fake saw.
    let seen = Arc::new(Mutex::new(Vec::<(i32, String)>::new()));
    let log = Arc::clone(&seen);
    let mut expected = 0i32;
    let mut refused_once = false;
    let (endpoint, thread, stop) = fake_broker(move |request| {
        let body = match &request.body {
            RequestBody::InitProducerId(_) => {
                ResponseBody::InitProducerId(ProducerGrant { id: 7, epoch: 0 })
            }
            RequestBody::DescribeTopic(_) => description(1),
            RequestBody::Produce(produce) => {
                let ProducePayload::Records { producer, records } = &produce.payload else {
                    panic!("the client sends records");
                };
                let sequence = producer.expect("idempotent").base_sequence;
                let value = records[0].value.clone().unwrap_or_default();
                log.lock()
                    .expect("log")
                    .push((sequence, String::from_utf8_lossy(&value).into_owned()));
                let answer = |code, details| {
                    ResponseBody::Error(ErrorResponse {
                        command: 0x0001,
                        code,
                        details,
                        message: None,
                    })
                };
                if !refused_once {
                    refused_once = true;
                    if lose_first {
                        return Vec::new();
                    }
                    answer(ErrorCode::TooManyPending, [64, 0])
                } else if sequence == expected {
                    expected += 1;
                    ResponseBody::Produce(ProduceResult {
                        partition: 0,
                        acknowledged: Acknowledged::Durable,
                        duplicate: false,
                        base_offset: sequence as u64,
                        last_offset: sequence as u64,
                    })
                } else if sequence < expected {
                    ResponseBody::Produce(ProduceResult {
                        partition: 0,
                        acknowledged: Acknowledged::Durable,
                        duplicate: true,
                        base_offset: sequence as u64,
                        last_offset: sequence as u64,
                    })
                } else {
                    answer(
                        ErrorCode::OutOfOrderSequence,
                        [expected as u64, sequence as u64],
                    )
                }
            }
            _ => return Vec::new(),
        };
        vec![frames(request.correlation_id, body)]
    });
    let config = ProducerConfig {
        batch_records: 1,
        linger: Duration::from_secs(60),
        ..ProducerConfig::default()
    };
    let mut producer = Producer::connect(&endpoint, config).expect("connect");
    for index in 0..3 {
        producer
            .send(ProducerRecord::new("t", format!("v{index}")).partition(0))
            .expect("send");
    }
    let mut deliveries = producer.flush(TIMEOUT).expect("flush");
    deliveries.sort_by_key(|delivery| delivery.id);
    let offsets: Vec<Option<u64>> = deliveries
        .iter()
        .map(|delivery| delivery.result.as_ref().expect("acknowledged").offset)
        .collect();
    assert_eq!(offsets, [Some(0), Some(1), Some(2)]);
    let seen = seen.lock().expect("log").clone();
    // Each sequence always carried the same record, and the refused first batch
    // was sent again.
    for (sequence, value) in &seen {
        assert_eq!(value, &format!("v{sequence}"), "{seen:?}");
    }
    assert!(
        seen.iter().filter(|(sequence, _)| *sequence == 0).count() >= 2,
        "{seen:?}"
    );
    let _ = stop.send(());
    thread.join().expect("the fake");
}

#[test]
fn clients_reach_a_broker_of_the_same_context_over_inproc() {
    let context = Context::new();
    let (endpoint, thread, stop) =
        fake_broker_in(context.clone(), "inproc://native-fake", |request| {
            let body = match &request.body {
                RequestBody::ListTopics => ResponseBody::ListTopics(Vec::new()),
                RequestBody::InitProducerId(_) => {
                    ResponseBody::InitProducerId(ProducerGrant { id: 1, epoch: 0 })
                }
                RequestBody::DescribeTopic(_) => description(1),
                RequestBody::Produce(_) => ResponseBody::Produce(ProduceResult {
                    partition: 0,
                    acknowledged: Acknowledged::Durable,
                    duplicate: false,
                    base_offset: 0,
                    last_offset: 0,
                }),
                RequestBody::Fetch(_) => ResponseBody::Fetch(FetchResult {
                    partition: 0,
                    next_offset: 0,
                    end_offset: 0,
                    durable_offset: 0,
                    log_start_offset: 0,
                    data: FetchData::Records(Vec::new()),
                }),
                _ => return Vec::new(),
            };
            vec![frames(request.correlation_id, body)]
        });
    assert_eq!(endpoint, "inproc://native-fake");
    let mut admin = Admin::connect_in(&context, &endpoint).expect("connect");
    assert!(admin.list_topics().expect("list").is_empty());
    let mut producer =
        Producer::connect_in(&context, &endpoint, ProducerConfig::default()).expect("connect");
    producer.send(ProducerRecord::new("t", "a")).expect("send");
    let deliveries = producer.flush(TIMEOUT).expect("flush");
    assert_eq!(deliveries[0].result.as_ref().expect("ok").offset, Some(0));
    let mut consumer =
        Consumer::connect_in(&context, &endpoint, ConsumerConfig::default()).expect("connect");
    consumer.assign("t", &[]).expect("assign");
    assert!(consumer.poll(Duration::ZERO).expect("poll").is_empty());
    let _ = stop.send(());
    thread.join().expect("the fake");
}
