//! A native-protocol client for the broker's end-to-end tests: a sinew DEALER
//! speaking the protocol through the codec's client side, and builders for the
//! requests the tests send.
//!
//! Every receive has a deadline (`util::TIMEOUT`); nothing here sleeps.

#![allow(dead_code)]

use crate::util::{self, TIMEOUT};
use bytes::Bytes;
use sinew::{Context, Message, Socket, SocketType};
use sinew_broker::doors::native::{
    Acks, CreateTopic, ErrorResponse, Fetch, FetchData, FetchMode, PartitionChoice, Position,
    Produce, ProducePayload, ProduceRecord, Request, RequestBody, Response, ResponseBody,
    TopicConfig, TopicName, decode_response, encode_request,
};

/// A native client: a DEALER connected to the broker's door.
pub struct Client {
    pub dealer: Socket,
    next: u64,
    _context: Context,
}

impl Client {
    pub fn connect(server: &util::Server) -> Client {
        let endpoint = server.native.as_deref().expect("the native endpoint");
        Client::connect_in(&Context::new(), endpoint)
    }

    /// A DEALER of `context` connected to `endpoint` (an `inproc://` one reaches
    /// a broker embedded with that context).
    pub fn connect_in(context: &Context, endpoint: &str) -> Client {
        let dealer = context.socket(SocketType::Dealer).expect("a DEALER");
        dealer.connect(endpoint).expect("connect");
        Client {
            dealer,
            next: 1,
            _context: context.clone(),
        }
    }

    /// Sends `body` with a fresh correlation id; returns that id.
    pub fn send(&mut self, body: RequestBody) -> u64 {
        let correlation_id = self.next;
        self.next += 1;
        let frames = encode_request(&Request {
            correlation_id,
            body,
        });
        self.send_frames(frames);
        correlation_id
    }

    pub fn send_frames(&self, frames: Vec<Bytes>) {
        self.dealer
            .send(Message::from_frames(frames))
            .expect("send");
    }

    /// The next response, within the deadline.
    pub fn receive(&self) -> Response {
        let message = self
            .dealer
            .recv_with_timeout(Some(TIMEOUT))
            .expect("a response before the deadline");
        decode_response(message.frames()).expect("a response that decodes")
    }

    /// Sends `body` and waits for its response.
    pub fn call(&mut self, body: RequestBody) -> ResponseBody {
        let id = self.send(body);
        let response = self.receive();
        assert_eq!(response.correlation_id, id, "{response:?}");
        response.body
    }
}

pub fn topic(name: &str) -> TopicName {
    TopicName::new(name.to_owned()).expect("a valid topic name")
}

pub fn create(name: &str, partitions: u32) -> RequestBody {
    RequestBody::CreateTopic(CreateTopic {
        topic: topic(name),
        config: TopicConfig::new(partitions),
    })
}

pub fn produce(name: &str, acks: Acks, values: &[&str]) -> RequestBody {
    RequestBody::Produce(Produce {
        topic: topic(name),
        partition: PartitionChoice::Index(0),
        acks,
        payload: ProducePayload::Records {
            producer: None,
            records: values
                .iter()
                .map(|value| ProduceRecord {
                    timestamp: -1,
                    key: Some(Bytes::from_static(b"k")),
                    value: Some(Bytes::copy_from_slice(value.as_bytes())),
                    headers: Vec::new(),
                })
                .collect(),
        },
    })
}

pub fn fetch(name: &str, start: Position, mode: FetchMode) -> RequestBody {
    RequestBody::Fetch(Fetch {
        topic: topic(name),
        partition: 0,
        start,
        mode,
        max_bytes: 1 << 20,
        max_records: 0,
        max_wait_ms: 0,
        min_bytes: 0,
    })
}

/// The error a response carries; fails on a success.
pub fn error_of(body: ResponseBody) -> ErrorResponse {
    match body {
        ResponseBody::Error(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The values a records-mode fetch returned, with their offsets.
pub fn values(body: ResponseBody) -> Vec<(u64, String)> {
    let ResponseBody::Fetch(result) = body else {
        panic!("expected a fetch result, got {body:?}");
    };
    let FetchData::Records(records) = result.data else {
        panic!("expected records");
    };
    records
        .into_iter()
        .map(|record| {
            let value = record.value.unwrap_or_default();
            (record.offset, String::from_utf8_lossy(&value).into_owned())
        })
        .collect()
}

pub fn long_poll(name: &str, offset: u64, max_wait_ms: u32) -> RequestBody {
    RequestBody::Fetch(Fetch {
        topic: topic(name),
        partition: 0,
        start: Position::Offset(offset),
        mode: FetchMode::Records,
        max_bytes: 1 << 20,
        max_records: 0,
        max_wait_ms,
        min_bytes: 1,
    })
}

pub fn record(key: &str, value: &str, timestamp: i64) -> ProduceRecord {
    ProduceRecord {
        timestamp,
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
    }
}

pub fn records(name: &str, partition: PartitionChoice, records: Vec<ProduceRecord>) -> RequestBody {
    RequestBody::Produce(Produce {
        topic: topic(name),
        partition,
        acks: Acks::Durable,
        payload: ProducePayload::Records {
            producer: None,
            records,
        },
    })
}
