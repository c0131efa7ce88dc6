//! A durable broker inside this program: `sinew_broker::Broker` started on a data
//! directory with its native door on `inproc://`, a DEALER of the same sinew
//! `Context` creating a topic, producing three records with durable acks and
//! fetching them back; then the broker is shut down, started again on the same
//! directory, and the records are still there.
//!
//! `cargo run -p sinew-examples --bin embedded_broker [-- --data-dir DIR]` (by
//! default a fresh directory under the system's temporary directory, removed at
//! the end; a directory used before keeps its topic and older records). It never waits without a deadline and never panics: any failure,
//! an error response included, is one line on stderr and exit status 1.

use bytes::Bytes;
use sinew::{Message, Socket, SocketType};
use sinew_broker::Broker;
use sinew_broker::config::Config;
use sinew_broker::doors::native::{
    Acks, CreateTopic, ErrorCode, Fetch, FetchData, FetchMode, FetchedRecord, PartitionChoice,
    Position, Produce, ProducePayload, ProduceRecord, RecordHeader, Request, RequestBody,
    ResponseBody, TopicConfig, TopicName, decode_response, encode_request,
};
use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// How long any answer may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one request and waits for its response; an error response is an error.
fn call(dealer: &Socket, correlation_id: u64, body: RequestBody) -> Result<ResponseBody> {
    match answer(dealer, correlation_id, body)? {
        ResponseBody::Error(error) => Err(format!(
            "error {:?}: {}",
            error.code,
            error.message.unwrap_or_default()
        )
        .into()),
        body => Ok(body),
    }
}

/// Sends one request and waits for its response, an error response included.
fn answer(dealer: &Socket, correlation_id: u64, body: RequestBody) -> Result<ResponseBody> {
    let request = Request {
        correlation_id,
        body,
    };
    dealer.send(Message::from_frames(encode_request(&request)))?;
    let reply = dealer.recv_with_timeout(Some(TIMEOUT))?;
    let response = decode_response(reply.frames())?;
    if response.correlation_id != correlation_id {
        return Err(format!("an answer to request {}", response.correlation_id).into());
    }
    Ok(response.body)
}

/// Every record of partition 0 of `topic`, from the earliest offset.
fn fetch_all(
    dealer: &Socket,
    correlation_id: u64,
    topic: &TopicName,
) -> Result<Vec<FetchedRecord>> {
    let fetch = Fetch {
        topic: topic.clone(),
        partition: 0,
        start: Position::Earliest,
        mode: FetchMode::Records,
        max_bytes: 1 << 20,
        max_records: 0,
        max_wait_ms: 0,
        min_bytes: 0,
    };
    match call(dealer, correlation_id, RequestBody::Fetch(fetch))? {
        ResponseBody::Fetch(result) => match result.data {
            FetchData::Records(records) => Ok(records),
            FetchData::Batches(_) => Err("batches where records were asked for".into()),
        },
        other => Err(format!("an unexpected answer {other:?}").into()),
    }
}

fn text(bytes: Option<&Bytes>) -> String {
    bytes.map_or("(null)".to_owned(), |bytes| {
        String::from_utf8_lossy(bytes).into_owned()
    })
}

fn print(record: &FetchedRecord) {
    let headers: Vec<String> = record
        .headers
        .iter()
        .map(|header| format!("{}={}", header.name(), text(header.value())))
        .collect();
    println!(
        "record {} key={} value={} headers=[{}]",
        record.offset,
        text(record.key.as_ref()),
        text(record.value.as_ref()),
        headers.join(",")
    );
}

/// A broker on `data`, and a DEALER of its context connected to its door.
fn start(data: &PathBuf) -> Result<(Broker, Socket)> {
    let broker = Broker::start(&Config::embedded(data))?;
    let dealer = broker.context().socket(SocketType::Dealer)?;
    dealer.connect(broker.native_endpoint())?;
    Ok((broker, dealer))
}

fn run(data: &PathBuf) -> Result<()> {
    let (broker, dealer) = start(data)?;
    println!("broker serving {}", broker.native_endpoint());
    let topic = TopicName::new("greetings".to_owned())?;
    let config = TopicConfig::new(1);
    let create = CreateTopic {
        topic: topic.clone(),
        config,
    };
    match answer(&dealer, 1, RequestBody::CreateTopic(create))? {
        ResponseBody::CreateTopic => println!("topic greetings created"),
        // A --data-dir used before: the topic is there, with older records.
        ResponseBody::Error(error) if error.code == ErrorCode::TopicExists => {
            println!("topic greetings exists, using it");
        }
        other => return Err(format!("an unexpected answer {other:?}").into()),
    }

    let record = |key: &'static str, value: &'static str, trace: &'static str| {
        let header = RecordHeader::new("trace", Some(Bytes::from_static(trace.as_bytes())))?;
        Ok::<_, Box<dyn Error>>(ProduceRecord {
            timestamp: -1,
            key: Some(Bytes::from_static(key.as_bytes())),
            value: Some(Bytes::from_static(value.as_bytes())),
            headers: vec![header],
        })
    };
    let records = vec![
        record("en", "hello", "t1")?,
        record("fr", "bonjour", "t2")?,
        record("de", "hallo", "t3")?,
    ];
    let produce = Produce {
        topic: topic.clone(),
        partition: PartitionChoice::Index(0),
        acks: Acks::Durable,
        payload: ProducePayload::Records {
            producer: None,
            records,
        },
    };
    let ResponseBody::Produce(produced) = call(&dealer, 2, RequestBody::Produce(produce))? else {
        return Err("an unexpected answer to PRODUCE".into());
    };
    println!(
        "produced offsets {}..{} ({:?})",
        produced.base_offset, produced.last_offset, produced.acknowledged
    );
    let before = fetch_all(&dealer, 3, &topic)?;
    before.iter().for_each(print);
    drop(dealer);
    broker.shutdown()?;

    let (broker, dealer) = start(data)?;
    let after = fetch_all(&dealer, 1, &topic)?;
    if after != before {
        return Err(format!("after the restart: {after:?}").into());
    }
    println!("after a restart: the same {} records", after.len());
    drop(dealer);
    broker.shutdown()?;
    Ok(())
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let given = arguments
        .iter()
        .position(|argument| argument == "--data-dir")
        .and_then(|index| arguments.get(index + 1))
        .map(PathBuf::from);
    let data = given.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sinew-embedded-broker-{}", std::process::id()))
    });
    let outcome = run(&data);
    if given.is_none() {
        let _ = std::fs::remove_dir_all(&data);
    }
    if let Err(error) = outcome {
        eprintln!("embedded_broker: {error}");
        std::process::exit(1);
    }
}
