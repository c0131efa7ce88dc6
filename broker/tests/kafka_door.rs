//! The Kafka door over raw sockets: what it does with bad input (a 2 GiB size
//! prefix, an unknown api key, a truncated request, unsupported versions), and
//! that answers keep request order when a Fetch long-polls ahead of a quick
//! request. Each case ends in Kafka's answer or a closed connection, and the
//! broker serves a new connection afterwards. Waits have deadlines.

mod util;

use bytes::Bytes;
use sinew_broker::doors::kafka::{
    ApiKey, ApiVersionsRequest, FetchPartition, FetchRequest, FetchTopic, MetadataRequest,
    MetadataRequestTopic, RequestBody, RequestHeader, encode_request, join,
};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use util::{TIMEOUT, sinew_broker};

fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

fn request(api_key: ApiKey, api_version: i16, correlation_id: i32, body: RequestBody) -> Bytes {
    let header = RequestHeader {
        api_key,
        api_version,
        correlation_id,
        client_id: Some("raw".to_owned()),
    };
    join(&encode_request(&header, &body))
}

fn api_versions(correlation_id: i32) -> Bytes {
    request(
        ApiKey::ApiVersions,
        0,
        correlation_id,
        RequestBody::ApiVersions(ApiVersionsRequest {
            client_software_name: None,
            client_software_version: None,
        }),
    )
}

/// One response frame (without its size prefix); fails on a close or the deadline.
fn response(stream: &mut TcpStream) -> Vec<u8> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).expect("a response");
    let mut frame = vec![0u8; u32::from_be_bytes(size) as usize];
    stream.read_exact(&mut frame).expect("a whole response");
    frame
}

fn correlation(frame: &[u8]) -> i32 {
    i32::from_be_bytes(frame[..4].try_into().unwrap())
}

/// Asserts the broker closes the connection (before the deadline).
fn assert_closed(stream: &mut TcpStream, case: &str) {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Err(error) if error.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("{case}: expected the connection closed, got {other:?}"),
    }
}

/// The broker still answers a new client.
fn assert_serving(address: SocketAddr) {
    let mut stream = connect(address);
    stream.write_all(&api_versions(77)).unwrap();
    let frame = response(&mut stream);
    assert_eq!(correlation(&frame), 77);
    assert_eq!(&frame[4..6], &[0, 0], "no error");
}

/// The broker's resident memory, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn bad_input_gets_kafkas_answer_or_a_closed_connection() {
    let server = sinew_broker(&[]);
    let address = server.kafka.unwrap();
    let before = resident_kib(server.child.id());

    // A size prefix of 2 GiB - 1 (and of 2 GiB, negative as an int32): closed
    // before a byte of the body is held.
    for size in [i32::MAX as u32, 1u32 << 31] {
        let mut stream = connect(address);
        stream.write_all(&size.to_be_bytes()).unwrap();
        stream.write_all(&[0u8; 1024]).unwrap();
        assert_closed(&mut stream, "a 2 GiB size prefix");
    }

    // An unknown api key.
    let mut stream = connect(address);
    let mut unknown = api_versions(1).to_vec();
    unknown[4..6].copy_from_slice(&999i16.to_be_bytes());
    stream.write_all(&unknown).unwrap();
    assert_closed(&mut stream, "an unknown api key");

    // A truncated request: a Metadata v1 whose topic array claims three topics
    // and holds none (the size prefix matches the bytes sent).
    let mut stream = connect(address);
    let mut truncated = request(
        ApiKey::Metadata,
        1,
        2,
        RequestBody::Metadata(MetadataRequest {
            topics: Some(Vec::new()),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }),
    )
    .to_vec();
    let length = truncated.len();
    truncated[length - 4..].copy_from_slice(&3i32.to_be_bytes());
    stream.write_all(&truncated).unwrap();
    assert_closed(&mut stream, "a truncated request");

    // A frame too short for a header.
    let mut stream = connect(address);
    stream.write_all(&[0, 0, 0, 2, 0, 18]).unwrap();
    assert_closed(&mut stream, "a frame too short for its header");

    // ApiVersions of a version the door does not know: error 35 in a v0 body,
    // and the connection goes on.
    let mut stream = connect(address);
    let mut future = api_versions(3).to_vec();
    future[6..8].copy_from_slice(&99i16.to_be_bytes());
    stream.write_all(&future).unwrap();
    let frame = response(&mut stream);
    assert_eq!(correlation(&frame), 3);
    assert_eq!(i16::from_be_bytes([frame[4], frame[5]]), 35);
    stream.write_all(&api_versions(4)).unwrap();
    assert_eq!(correlation(&response(&mut stream)), 4);

    // Any other API at an unsupported version: closed.
    let mut metadata = request(
        ApiKey::Metadata,
        1,
        5,
        RequestBody::Metadata(MetadataRequest {
            topics: None,
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }),
    )
    .to_vec();
    metadata[6..8].copy_from_slice(&99i16.to_be_bytes());
    stream.write_all(&metadata).unwrap();
    assert_closed(&mut stream, "Metadata v99");

    // Half a request, then the client goes away.
    let mut stream = connect(address);
    stream.write_all(&api_versions(6)[..7]).unwrap();
    drop(stream);

    assert_serving(address);
    let after = resident_kib(server.child.id());
    assert!(
        after < before + 64 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
}

#[test]
fn answers_keep_request_order_behind_a_long_poll() {
    let server = sinew_broker(&[]);
    let address = server.kafka.unwrap();
    let mut stream = connect(address);
    // Metadata creates the topic; a Fetch at its end waits up to 300 ms for a
    // byte; the ApiVersions sent after it is answered after it.
    let metadata = request(
        ApiKey::Metadata,
        4,
        1,
        RequestBody::Metadata(MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                topic_id: [0; 16],
                name: Some("order".to_owned()),
            }]),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }),
    );
    let fetch = request(
        ApiKey::Fetch,
        4,
        2,
        RequestBody::Fetch(FetchRequest {
            replica_id: -1,
            max_wait_ms: 300,
            min_bytes: 1,
            max_bytes: 1 << 20,
            isolation_level: 0,
            session_id: 0,
            session_epoch: -1,
            topics: vec![FetchTopic {
                topic: "order".to_owned(),
                partitions: vec![FetchPartition {
                    partition: 0,
                    current_leader_epoch: -1,
                    fetch_offset: 0,
                    last_fetched_epoch: -1,
                    log_start_offset: -1,
                    partition_max_bytes: 1 << 20,
                }],
            }],
            forgotten_topics: Vec::new(),
            rack_id: String::new(),
        }),
    );
    let mut pipelined = metadata.to_vec();
    pipelined.extend_from_slice(&fetch);
    pipelined.extend_from_slice(&api_versions(3));
    stream.write_all(&pipelined).unwrap();
    let answers: Vec<Vec<u8>> = (0..3).map(|_| response(&mut stream)).collect();
    let order: Vec<i32> = answers.iter().map(|frame| correlation(frame)).collect();
    assert_eq!(order, [1, 2, 3]);
    // The Fetch found the topic the Metadata before it created (v4: correlation,
    // throttle, one topic "order", one partition, its error code).
    let partition_error = 4 + 4 + 4 + 2 + "order".len() + 4 + 4;
    let fetch = &answers[1];
    assert_eq!(
        &fetch[partition_error..partition_error + 2],
        &[0, 0],
        "{fetch:?}"
    );
}
