//! PLAIN end to end through ZAP: the server mechanism's request goes out through
//! the codec, an `Authenticator` decides as a handler would, and the reply comes
//! back through the codec to the mechanism. Test code only: it must never be
//! compiled into the library.

use super::*;
use crate::zmtp::buffer::{ReadRoom, ReceiveBuffer};
use crate::zmtp::command::Metadata;
use crate::zmtp::encoder::Encoder;
use crate::zmtp::frame::Decoder;
use crate::zmtp::mechanism::{Plain, Progress, USER_ID_PROPERTY};
use crate::zmtp::{MechanismName, ProtocolError};
use bytes::Bytes;
use std::io::IoSlice;

/// The one command frame `out` has queued.
fn only_frame(out: &mut Encoder) -> Bytes {
    let mut slices = [IoSlice::new(&[]); 4];
    let count = out.io_slices(&mut slices);
    let bytes: Vec<u8> = slices[..count].iter().flat_map(|s| s.to_vec()).collect();
    out.advance(bytes.len());
    let mut input = ReceiveBuffer::new();
    input.extend_from_slice(&bytes).unwrap();
    let frame = Decoder::new(None).decode(&mut input).unwrap().unwrap();
    assert!(input.is_empty() && frame.command);
    frame.body
}

/// Runs a PLAIN handshake from `address`, the owner asking `authenticator` over
/// the codec; returns the server's outcome and the client's.
fn run(
    authenticator: &Authenticator,
    address: &'static str,
    username: &'static str,
    password: &'static str,
) -> (
    Result<Progress, ProtocolError>,
    Result<Progress, ProtocolError>,
) {
    let mut metadata = Metadata::new();
    metadata.insert(&b"Socket-Type"[..], &b"DEALER"[..]);
    let mut client = Plain::Client {
        username: Bytes::from_static(username.as_bytes()),
        password: Bytes::from_static(password.as_bytes()),
    }
    .mechanism(metadata);
    let mut metadata = Metadata::new();
    metadata.insert(&b"Socket-Type"[..], &b"ROUTER"[..]);
    let mut server = Plain::Server {
        zap_handler: true,
        zap_domain: Bytes::from_static(b"test"),
    }
    .mechanism(metadata);
    let (mut to_server, mut to_client) = (Encoder::new(), Encoder::new());
    client.handle_start(&mut to_server).unwrap();
    server.handle_start(&mut to_client).unwrap();
    let Progress::Authenticate(mut request) = server
        .handle_command(&only_frame(&mut to_server), &mut to_client)
        .unwrap()
    else {
        panic!("no ZAP request");
    };
    // The owner fills in what only it knows, and asks.
    request.address = Bytes::from_static(address.as_bytes());
    request.identity = Bytes::from_static(b"server-id");
    let id = Bytes::from_static(b"1");
    let sent = encode_request(&id, &request);
    let (got_id, got) = decode_request(sent.frames()).unwrap();
    assert_eq!(got.mechanism, MechanismName::PLAIN);
    assert_eq!(got.domain, "test");
    let answer = encode_reply(&got_id, &authenticator.decide(&got));
    let reply = decode_reply(answer.frames(), &id).unwrap();
    let outcome = server.handle_zap_reply(reply, &mut to_client);
    if outcome.is_err() {
        let client_saw = client.handle_command(&only_frame(&mut to_client), &mut to_server);
        return (outcome, client_saw);
    }
    client
        .handle_command(&only_frame(&mut to_client), &mut to_server)
        .unwrap();
    let server_outcome = server.handle_command(&only_frame(&mut to_server), &mut to_client);
    let client_outcome = client.handle_command(&only_frame(&mut to_client), &mut to_server);
    (server_outcome, client_outcome)
}

#[test]
fn plain_through_zap_admits_the_right_password_and_refuses_the_rest() {
    let mut authenticator = Authenticator::new();
    authenticator
        .set_password("admin", "secret")
        .deny("10.0.0.66");
    let (server, client) = run(&authenticator, "10.0.0.1", "admin", "secret");
    let Ok(Progress::Ready(of_client)) = server else {
        panic!("{server:?}");
    };
    assert_eq!(of_client.get(USER_ID_PROPERTY).unwrap(), "admin");
    assert_eq!(of_client.get("Socket-Type").unwrap(), "DEALER");
    assert!(matches!(client, Ok(Progress::Ready(_))));

    for (address, password) in [("10.0.0.1", "wrong"), ("10.0.0.66", "secret")] {
        let (server, client) = run(&authenticator, address, "admin", password);
        assert_eq!(
            server,
            Err(ProtocolError::AuthenticationFailed {
                status_code: "400".to_owned(),
                status_text: "No access".to_owned()
            })
        );
        assert_eq!(
            client,
            Err(ProtocolError::AuthenticationFailed {
                status_code: "400".to_owned(),
                status_text: "refused by the server's ZAP handler".to_owned(),
            })
        );
    }
}
