//! An HTTP/1.1 server on one STREAM socket: plain TCP clients (a browser, curl,
//! Python's urllib) talk to it with no ZeroMQ on their side.
//!
//! ```text
//! cargo run -p sinew-examples --bin http_server                  # serves http://127.0.0.1:8080/
//! cargo run -p sinew-examples --bin http_server -- --port 0 --requests 3
//! curl http://127.0.0.1:8080/hello
//! ```
//!
//! Its first line of standard output is the address it serves. It answers every
//! request with a short text naming the method and the path, and exits 0 after
//! `--requests` responses (0, the default: it serves until stopped).
//!
//! The pattern: every message is `[routing id, bytes]`, one per read, so a
//! request may come split across several messages, or several requests in one
//! (pipelining). The server keeps a buffer per routing id, answers each complete
//! request, and closes a connection (`[routing id, ""]`) after answering a
//! request that asked for it (`Connection: close`, or HTTP/1.0 without
//! keep-alive) or that it could not parse. `[routing id, ""]` from the socket
//! is a connection opening (an id not seen yet) or closing (a known one). It
//! must stay that one pattern: no threads, no HTTP library, and limits on what a
//! client may make it buffer (16 KiB of headers, 1 MiB of body).

use bytes::Bytes;
use sinew::{Context, Error, Message, Socket, SocketType};
use sinew_examples::number_option;
use std::collections::HashMap;
use std::io::Write;

/// The most bytes a request's line and headers may take.
const MAX_HEAD: usize = 16 * 1024;
/// The most bytes a request's body may take.
const MAX_BODY: usize = 1024 * 1024;

/// A complete request.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    target: String,
    /// The client asked to close the connection after the response.
    close: bool,
    body: Vec<u8>,
}

/// What the start of a connection's buffer holds.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// Not a whole request yet: wait for more bytes.
    Incomplete,
    /// A request, and how many bytes of the buffer it took.
    Request(Request, usize),
    /// Not a request this server takes: answer with this status, then close.
    Invalid(&'static str),
}

/// Parses the request at the start of `buffer`, if it is all there.
fn parse(buffer: &[u8]) -> Parsed {
    let Some(head_end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else {
        if buffer.len() > MAX_HEAD {
            return Parsed::Invalid("431 Request Header Fields Too Large");
        }
        return Parsed::Incomplete;
    };
    if head_end > MAX_HEAD {
        return Parsed::Invalid("431 Request Header Fields Too Large");
    }
    let Ok(head) = std::str::from_utf8(&buffer[..head_end]) else {
        return Parsed::Invalid("400 Bad Request");
    };
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version), None) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Parsed::Invalid("400 Bad Request");
    };
    if method.is_empty() || !target.starts_with('/') {
        return Parsed::Invalid("400 Bad Request");
    }
    // HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 closes it.
    let mut close = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Parsed::Invalid("505 HTTP Version Not Supported"),
    };
    let mut length = 0;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Invalid("400 Bad Request");
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<usize>() {
                Ok(value) if value <= MAX_BODY => length = value,
                Ok(_) => return Parsed::Invalid("413 Content Too Large"),
                Err(_) => return Parsed::Invalid("400 Bad Request"),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Invalid("501 Not Implemented");
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    close = false;
                }
            }
        }
    }
    let body_start = head_end + 4;
    let Some(body) = buffer.get(body_start..body_start + length) else {
        return Parsed::Incomplete;
    };
    Parsed::Request(
        Request {
            method: method.to_owned(),
            target: target.to_owned(),
            close,
            body: body.to_vec(),
        },
        body_start + length,
    )
}

/// A whole response: status line, headers and body.
fn response(status: &str, body: &str, close: bool) -> Bytes {
    let connection = if close { "close" } else { "keep-alive" };
    Bytes::from(format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
        body.len()
    ))
}

/// The answer to a request.
fn answer(request: &Request) -> String {
    let mut text = format!(
        "Hello from a Sinew STREAM socket: {} {}\n",
        request.method, request.target
    );
    if !request.body.is_empty() {
        text.push_str(&format!("You sent {} bytes.\n", request.body.len()));
    }
    text
}

/// Sends `data` to connection `id` (empty data closes it); false if the client
/// is already gone, which any client may be at any moment (curl closes as soon
/// as it has read a `Connection: close` response, so even the close that
/// follows may find it gone).
fn send(stream: &Socket, id: &Bytes, data: Bytes) -> sinew::Result<bool> {
    match stream.send(Message::from_frames([id.clone(), data])) {
        Ok(()) => Ok(true),
        Err(failed) if matches!(failed.error, Error::HostUnreachable) => Ok(false),
        Err(failed) => Err(failed.error),
    }
}

fn main() -> sinew::Result<()> {
    let port = number_option("--port", 8080);
    let requests = number_option("--requests", 0);
    let context = Context::new();
    let stream = context.socket(SocketType::Stream)?;
    stream.bind(&format!("tcp://127.0.0.1:{port}"))?;
    let address = stream.last_endpoint().unwrap_or_default();
    println!("serving http://{}/", address.trim_start_matches("tcp://"));
    let _ = std::io::stdout().flush();

    // What each connection sent that is not a whole request yet.
    let mut buffers: HashMap<Bytes, Vec<u8>> = HashMap::new();
    let mut served = 0;
    while requests == 0 || served < requests {
        let message = stream.recv()?;
        let [id, data] = message.frames() else {
            continue;
        };
        if data.is_empty() {
            // A connection opened, or one we knew closed.
            if buffers.remove(id).is_none() {
                buffers.insert(id.clone(), Vec::new());
            }
            continue;
        }
        let buffer = buffers.entry(id.clone()).or_default();
        buffer.extend_from_slice(data);
        loop {
            let (reply, close) = match parse(buffer) {
                Parsed::Incomplete => break,
                Parsed::Request(request, length) => {
                    buffer.drain(..length);
                    let reply = response("200 OK", &answer(&request), request.close);
                    (reply, request.close)
                }
                Parsed::Invalid(status) => (response(status, &format!("{status}\n"), true), true),
            };
            served += 1;
            let mut gone = !send(&stream, id, reply)?;
            if close && !gone {
                // What was sent first is written, then the connection closes.
                gone = !send(&stream, id, Bytes::new())?;
            }
            if close || gone {
                buffers.remove(id);
                break;
            }
        }
    }
    eprintln!("http_server: served {served} responses");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &[u8] = b"GET /hello HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";

    fn request(parsed: Parsed) -> (Request, usize) {
        match parsed {
            Parsed::Request(request, length) => (request, length),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn a_request_split_anywhere_waits_for_its_last_byte() {
        let post = b"POST /form HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        for whole in [GET, post.as_slice()] {
            for split in 0..whole.len() {
                assert_eq!(parse(&whole[..split]), Parsed::Incomplete, "at {split}");
            }
            let (_, length) = request(parse(whole));
            assert_eq!(length, whole.len());
        }
        let (post, _) = request(parse(post));
        assert_eq!(
            (post.method.as_str(), post.body.as_slice()),
            ("POST", b"hello".as_slice())
        );
    }

    #[test]
    fn pipelined_requests_are_taken_one_at_a_time() {
        let mut buffer = [GET, b"GET /second HTTP/1.1\r\nConnection: close\r\n\r\n"].concat();
        let (first, length) = request(parse(&buffer));
        assert_eq!((first.target.as_str(), first.close), ("/hello", false));
        buffer.drain(..length);
        let (second, length) = request(parse(&buffer));
        assert_eq!((second.target.as_str(), second.close), ("/second", true));
        assert_eq!(length, buffer.len());
    }

    #[test]
    fn connection_headers_and_versions_decide_the_close() {
        let cases: [(&[u8], bool); 4] = [
            (b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", true),
            (
                b"GET / HTTP/1.1\r\nconnection: keep-alive, Upgrade\r\n\r\n",
                false,
            ),
            (b"GET / HTTP/1.0\r\n\r\n", true),
            (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false),
        ];
        for (bytes, close) in cases {
            assert_eq!(request(parse(bytes)).0.close, close, "{bytes:?}");
        }
    }

    #[test]
    fn what_it_cannot_take_is_refused_not_buffered() {
        assert_eq!(
            parse(b"nonsense\r\n\r\n"),
            Parsed::Invalid("400 Bad Request")
        );
        assert_eq!(
            parse(b"GET / HTTP/2.0\r\n\r\n"),
            Parsed::Invalid("505 HTTP Version Not Supported")
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
            Parsed::Invalid("413 Content Too Large")
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Parsed::Invalid("400 Bad Request")
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Parsed::Invalid("501 Not Implemented")
        );
        let endless = vec![b'a'; MAX_HEAD + 1];
        assert_eq!(
            parse(&endless),
            Parsed::Invalid("431 Request Header Fields Too Large")
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n\xff: x\r\n\r\n"),
            Parsed::Invalid("400 Bad Request")
        );
    }

    #[test]
    fn responses_carry_their_length_and_connection() {
        let reply = response("200 OK", "hi\n", true);
        assert_eq!(
            reply,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhi\n"
        );
    }
}
