//! The connection against a scripted broker on the loopback (the door's codec
//! on its side too): versions negotiated down from an ApiVersions error, each
//! API at the highest common version, and every way an answer can go wrong (a
//! close, another correlation id, a size over the limit, silence) an error.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::BytesMut;

use super::*;
use crate::doors::kafka::{
    ApiKey, ApiVersionRange, ApiVersionsResponse, ListGroupsRequest, ListGroupsResponse,
    MAX_REQUEST_BYTES, Request, RequestBody, ResponseBody, decode_request, encode_response, join,
    split_frame,
};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A broker that runs `script` on its first connection.
fn broker(script: impl FnOnce(&mut TcpStream) + Send + 'static) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        script(&mut stream);
    });
    (address, handle)
}

/// The next request on `stream`.
fn request(stream: &mut TcpStream) -> Request {
    let mut buffer = BytesMut::new();
    loop {
        if let Some(frame) = split_frame(&mut buffer, MAX_REQUEST_BYTES).unwrap() {
            return decode_request(frame).unwrap();
        }
        let mut chunk = [0; 4096];
        let read = stream.read(&mut chunk).unwrap();
        assert!(read > 0, "the client closed");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn answer(stream: &mut TcpStream, correlation_id: i32, version: i16, body: ResponseBody) {
    stream
        .write_all(&join(&encode_response(correlation_id, version, &body)))
        .unwrap();
}

/// Answers ApiVersions with the door's table.
fn versions(stream: &mut TcpStream) {
    let asked = request(stream);
    let body = ResponseBody::ApiVersions(ApiVersionsResponse::supported());
    answer(
        stream,
        asked.header.correlation_id,
        asked.header.api_version,
        body,
    );
}

fn list_groups() -> RequestBody {
    RequestBody::ListGroups(ListGroupsRequest {
        states_filter: Vec::new(),
        types_filter: Vec::new(),
    })
}

#[test]
fn versions_are_negotiated_down_and_each_api_asked_at_the_highest_common() {
    let (address, script) = broker(|stream| {
        let first = request(stream);
        assert_eq!(first.header.api_version, 4, "the codec's highest first");
        let refused = ResponseBody::ApiVersions(ApiVersionsResponse {
            error_code: ErrorCode::UnsupportedVersion,
            api_keys: vec![ApiVersionRange {
                api_key: 18,
                min_version: 0,
                max_version: 2,
            }],
            throttle_time_ms: 0,
        });
        answer(stream, first.header.correlation_id, 4, refused);
        let second = request(stream);
        assert_eq!(
            second.header.api_version, 2,
            "again within the broker's range"
        );
        let table = ResponseBody::ApiVersions(ApiVersionsResponse {
            error_code: ErrorCode::None,
            api_keys: vec![
                ApiVersionRange {
                    api_key: 18,
                    min_version: 0,
                    max_version: 2,
                },
                ApiVersionRange {
                    api_key: 16,
                    min_version: 0,
                    max_version: 3,
                },
            ],
            throttle_time_ms: 0,
        });
        answer(stream, second.header.correlation_id, 2, table);
        let listed = request(stream);
        assert_eq!(listed.header.api_key, ApiKey::ListGroups);
        assert_eq!(listed.header.api_version, 3);
        assert_eq!(listed.header.client_id.as_deref(), Some("test"));
        let groups = ResponseBody::ListGroups(ListGroupsResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            groups: Vec::new(),
        });
        answer(stream, listed.header.correlation_id, 3, groups);
    });
    let mut connection = Connection::connect(&address, "test", TIMEOUT).unwrap();
    assert_eq!(connection.version(ApiKey::ListGroups).unwrap(), 3);
    assert!(matches!(
        connection.version(ApiKey::OffsetFetch),
        Err(Error::UnsupportedVersion {
            api: ApiKey::OffsetFetch,
            ..
        })
    ));
    let answer = connection.send(&list_groups()).unwrap();
    assert!(matches!(answer, ResponseBody::ListGroups(_)), "{answer:?}");
    script.join().unwrap();
}

#[test]
fn another_correlation_id_is_an_error() {
    let (address, script) = broker(|stream| {
        versions(stream);
        let asked = request(stream);
        let groups = ResponseBody::ListGroups(ListGroupsResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            groups: Vec::new(),
        });
        answer(stream, asked.header.correlation_id + 5, 5, groups);
    });
    let mut connection = Connection::connect(&address, "test", TIMEOUT).unwrap();
    let error = connection.send(&list_groups()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::CorrelationId {
                sent: 1,
                received: 6,
                ..
            }
        ),
        "{error}"
    );
    script.join().unwrap();
}

#[test]
fn a_close_an_oversized_answer_and_silence_are_errors() {
    let (address, script) = broker(|stream| {
        versions(stream);
        request(stream);
    });
    let mut connection = Connection::connect(&address, "test", TIMEOUT).unwrap();
    let error = connection.send(&list_groups()).unwrap_err();
    assert!(matches!(error, Error::Closed { .. }), "{error}");
    script.join().unwrap();

    let (address, script) = broker(|stream| {
        versions(stream);
        request(stream);
        stream.write_all(&[0x7f, 0xff, 0xff, 0xff]).unwrap();
    });
    let mut connection = Connection::connect(&address, "test", TIMEOUT).unwrap();
    let error = connection.send(&list_groups()).unwrap_err();
    assert!(matches!(error, Error::Frame { .. }), "{error}");
    script.join().unwrap();

    let (done, finished) = std::sync::mpsc::channel::<()>();
    let (address, script) = broker(move |stream| {
        versions(stream);
        request(stream);
        // Silent until the client has given up.
        let _ = finished.recv();
    });
    let mut connection = Connection::connect(&address, "test", Duration::from_millis(200)).unwrap();
    let error = connection.send(&list_groups()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::TimedOut {
                api: ApiKey::ListGroups,
                ..
            }
        ),
        "{error}"
    );
    drop(done);
    script.join().unwrap();
}

#[test]
fn addresses_that_are_not_host_and_port_are_refused() {
    for address in ["nowhere", ":9092", "host:port", "host:70000"] {
        let error = Connection::connect(address, "test", TIMEOUT).unwrap_err();
        assert!(
            matches!(error, Error::InvalidAddress { .. }),
            "{address}: {error}"
        );
    }
}
