//! `sinew_broker::Broker` inside the test's own process: started on a temporary
//! data directory with its native door on `inproc://`, reached by a DEALER of the
//! same sinew `Context`; topics created, records produced with durable acks and
//! fetched back through the codec's client side; shut down and started again on
//! the same directory (and the same inproc name) with the records still there.
//! Dropping a broker stops it and frees its directory; a second broker on a
//! directory in use, a bad setting and a bad endpoint are clear errors; the NATS
//! door, monitoring and a tcp native door open on port 0 when asked; a parked long
//! poll is answered when the broker shuts down.
//!
//! Every reply is awaited with a deadline (`util::TIMEOUT`); nothing sleeps.

mod native_client;
mod util;

use bytes::Bytes;
use native_client::{Client, create, error_of, fetch, records, topic};
use sinew::Context;
use sinew_broker::config::{Config, ConfigError};
use sinew_broker::data_dir::DataDirError;
use sinew_broker::doors::native::{
    Acknowledged, ErrorCode, FetchData, FetchMode, FetchedRecord, PartitionChoice, Position,
    ProduceRecord, RecordHeader, RequestBody, ResponseBody,
};
use sinew_broker::{Broker, BrokerError};
use util::TempDir;

/// The records the tests produce: keys, values (one null), headers (one null).
fn produced() -> Vec<ProduceRecord> {
    let header = |name: &str, value: Option<&'static [u8]>| {
        RecordHeader::new(name.to_owned(), value.map(Bytes::from_static)).expect("a header")
    };
    vec![
        ProduceRecord {
            timestamp: 1_700_000_000_000,
            key: Some(Bytes::from_static(b"user-1")),
            value: Some(Bytes::from_static(b"hello")),
            headers: vec![header("trace", Some(b"ab"))],
        },
        ProduceRecord {
            timestamp: 1_700_000_000_001,
            key: Some(Bytes::from_static(b"user-2")),
            value: None,
            headers: vec![header("trace", Some(b"cd")), header("origin", None)],
        },
        ProduceRecord {
            timestamp: 1_700_000_000_002,
            key: None,
            value: Some(Bytes::from_static(b"no key")),
            headers: Vec::new(),
        },
    ]
}

/// Produces `records` durably to partition 0 of `name`; returns (base, last).
fn produce_durably(client: &mut Client, name: &str, records_: Vec<ProduceRecord>) -> (u64, u64) {
    let ResponseBody::Produce(result) =
        client.call(records(name, PartitionChoice::Index(0), records_))
    else {
        panic!("expected a produce result");
    };
    assert_eq!(result.acknowledged, Acknowledged::Durable);
    assert!(!result.duplicate);
    (result.base_offset, result.last_offset)
}

/// Every record of partition 0 of `name`, from the earliest offset.
fn fetch_all(client: &mut Client, name: &str) -> Vec<FetchedRecord> {
    let ResponseBody::Fetch(result) =
        client.call(fetch(name, Position::Earliest, FetchMode::Records))
    else {
        panic!("expected a fetch result");
    };
    let FetchData::Records(records) = result.data else {
        panic!("expected records");
    };
    records
}

/// Checks that `fetched` are `expected`, from offset `first` on.
fn assert_records(fetched: &[FetchedRecord], first: u64, expected: &[ProduceRecord]) {
    assert_eq!(fetched.len(), expected.len(), "{fetched:?}");
    for ((offset, record), wanted) in (first..).zip(fetched).zip(expected) {
        assert_eq!(record.offset, offset);
        assert_eq!(record.timestamp, wanted.timestamp);
        assert_eq!(record.key, wanted.key);
        assert_eq!(record.value, wanted.value);
        assert_eq!(record.headers, wanted.headers);
    }
}

fn inproc_config(data: &TempDir, name: &str) -> Config {
    Config {
        listen: format!("inproc://{name}"),
        ..Config::embedded(&data.0)
    }
}

#[test]
fn an_embedded_broker_serves_inproc_and_keeps_its_records_across_a_restart() {
    let data = TempDir::new("embedded-restart");
    let context = Context::new();
    let config = inproc_config(&data, "embedded-restart");

    let broker = Broker::start_in(&config, &context).expect("the broker starts");
    assert_eq!(broker.native_endpoint(), "inproc://embedded-restart");
    assert_eq!(broker.nats_address(), None);
    assert_eq!(broker.http_address(), None);
    assert_eq!(broker.data_dir(), data.0.as_path());
    let mut client = Client::connect_in(&context, broker.native_endpoint());
    assert_eq!(client.call(create("events", 1)), ResponseBody::CreateTopic);
    assert_eq!(produce_durably(&mut client, "events", produced()), (0, 2));
    assert_records(&fetch_all(&mut client, "events"), 0, &produced());
    drop(client);
    broker.shutdown().expect("a clean shutdown");

    // The same directory, the same context, the same inproc name.
    let broker = Broker::start_in(&config, &context).expect("the broker starts again");
    let mut client = Client::connect_in(&context, broker.native_endpoint());
    assert_records(&fetch_all(&mut client, "events"), 0, &produced());
    let more = produced().split_off(2);
    assert_eq!(produce_durably(&mut client, "events", more.clone()), (3, 3));
    let mut everything = produced();
    everything.extend(more);
    assert_records(&fetch_all(&mut client, "events"), 0, &everything);
    drop(client);
    broker.shutdown().expect("a clean shutdown");
}

#[test]
fn dropping_an_embedded_broker_stops_it_and_frees_its_data_directory() {
    let data = TempDir::new("embedded-drop");
    let config = inproc_config(&data, "embedded-drop");
    {
        // Its own context, reached through `context()`.
        let broker = Broker::start(&config).expect("the broker starts");
        let mut client = Client::connect_in(broker.context(), broker.native_endpoint());
        assert_eq!(client.call(create("kept", 2)), ResponseBody::CreateTopic);
        assert_eq!(produce_durably(&mut client, "kept", produced()), (0, 2));
    }
    let broker = Broker::start(&config).expect("the directory was freed");
    let mut client = Client::connect_in(broker.context(), broker.native_endpoint());
    let ResponseBody::DescribeTopic(description) =
        client.call(RequestBody::DescribeTopic(topic("kept")))
    else {
        panic!("expected a description");
    };
    assert_eq!(description.config.partitions, 2);
    assert_eq!(description.partitions[0].end_offset, 3);
    assert_eq!(description.partitions[0].durable_offset, 3);
}

#[test]
fn a_directory_in_use_a_bad_setting_and_a_bad_endpoint_are_clear_errors() {
    let data = TempDir::new("embedded-errors");
    let config = inproc_config(&data, "embedded-errors");
    let first = Broker::start(&config).expect("the broker starts");
    let second = Broker::start(&inproc_config(&data, "embedded-errors-2"));
    assert!(
        matches!(second, Err(BrokerError::DataDir(DataDirError::InUse(_)))),
        "{second:?}"
    );
    first.shutdown().expect("a clean shutdown");

    let empty = Config {
        listen: String::new(),
        ..config.clone()
    };
    let refused = Broker::start(&empty).expect_err("an empty endpoint is refused");
    assert!(matches!(
        refused,
        BrokerError::Config(ConfigError::Invalid(_))
    ));
    assert!(refused.to_string().contains("listen"), "{refused}");

    let bogus = Config {
        listen: "bogus://nowhere".to_owned(),
        ..config.clone()
    };
    let refused = Broker::start(&bogus).expect_err("an unknown transport is refused");
    assert!(matches!(refused, BrokerError::Start(_)), "{refused:?}");
    assert!(
        refused
            .to_string()
            .starts_with("cannot listen on bogus://nowhere (native): "),
        "{refused}"
    );
    // Failing to start left the directory free.
    Broker::start(&config)
        .expect("the directory is free")
        .shutdown()
        .expect("a clean shutdown");
}

#[test]
fn an_embedded_broker_opens_nats_monitoring_and_tcp_on_port_0_when_asked() {
    let data = TempDir::new("embedded-doors");
    let loopback = "127.0.0.1:0".parse().ok();
    let config = Config {
        nats: loopback,
        http: loopback,
        listen: "tcp://127.0.0.1:0".to_owned(),
        ..Config::embedded(&data.0)
    };
    let broker = Broker::start(&config).expect("the broker starts");
    let nats = broker.nats_address().expect("the NATS door is open");
    let http = broker.http_address().expect("monitoring is open");
    assert_ne!(nats.port(), 0);
    assert_ne!(http.port(), 0);
    let (_, info) = util::raw(nats);
    assert!(info.starts_with("INFO {"), "{info}");
    let varz = util::http_get(http, "/varz");
    assert!(
        varz.contains(&format!("\"port\": {},", nats.port())),
        "{varz}"
    );
    let endpoint = broker.native_endpoint().to_owned();
    assert!(endpoint.starts_with("tcp://127.0.0.1:"), "{endpoint}");
    assert_ne!(endpoint, "tcp://127.0.0.1:0");
    // Over tcp a client needs no shared context.
    let mut client = Client::connect_in(&Context::new(), &endpoint);
    assert_eq!(
        client.call(create("over-tcp", 1)),
        ResponseBody::CreateTopic
    );
    let exists = error_of(client.call(create("over-tcp", 1)));
    assert_eq!(exists.code, ErrorCode::TopicExists);
    broker.shutdown().expect("a clean shutdown");
}

#[test]
fn shutting_down_answers_a_parked_long_poll() {
    let data = TempDir::new("embedded-poll");
    let context = Context::new();
    let broker =
        Broker::start_in(&inproc_config(&data, "embedded-poll"), &context).expect("starts");
    let mut client = Client::connect_in(&context, broker.native_endpoint());
    assert_eq!(client.call(create("quiet", 1)), ResponseBody::CreateTopic);
    // A minute's wait for data that never comes...
    let polling = client.send(native_client::long_poll("quiet", 0, 60_000));
    // ...is parked once a request sent after it is answered (a connection's
    // requests are handled in order; the waiting fetch does not hold this one).
    assert!(matches!(
        client.call(RequestBody::ListTopics),
        ResponseBody::ListTopics(_)
    ));
    broker.shutdown().expect("a clean shutdown");
    let answer = client.receive();
    assert_eq!(answer.correlation_id, polling);
    let ResponseBody::Fetch(result) = answer.body else {
        panic!("expected an empty fetch result, got {:?}", answer.body);
    };
    assert_eq!(result.data, FetchData::Records(Vec::new()));
    assert_eq!(result.next_offset, 0);
}
