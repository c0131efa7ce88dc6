//! RFC 27's messages as frames, both ways, as libzmq 4.3's `zap_client.cpp`
//! writes and reads them.
//!
//! A request is `version ("1.0"), request id, domain, address, identity,
//! mechanism (its name without padding), credentials...`; a reply is `version,
//! request id, status code, status text, user id, metadata` (ZMTP properties).
//! These are the frames after the envelope: libzmq's side adds the empty
//! delimiter a REQ adds, and a REP handler never sees it.
//!
//! What is refused, and why: a reply must have exactly six frames, version
//! "1.0", the request id that was sent, a status code of 200, 300, 400 or 500
//! (libzmq refuses any other) and well-formed metadata. A request must have
//! version "1.0", a mechanism name of 1 to 20 bytes, and the credentials its
//! mechanism takes (none for NULL, a user name and a password for PLAIN, one
//! 32-byte key for CURVE, one principal for GSSAPI; any for others). This file
//! must never panic on frames from anyone, nor keep a slice of a frame it was
//! given in an error.

use crate::message::Message;
use crate::zmtp::command::Metadata;
use crate::zmtp::error::printable;
use crate::zmtp::greeting::MechanismName;
use crate::zmtp::mechanism::{ZapReply, ZapRequest};
use bytes::{Bytes, BytesMut};

/// Where a ZAP handler binds (a REP socket, or a ROUTER that keeps envelopes).
pub const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// The only version of ZAP (RFC 27).
pub const ZAP_VERSION: &[u8] = b"1.0";

/// The status codes RFC 27 defines, the only ones libzmq accepts.
const STATUS_CODES: [&[u8]; 4] = [b"200", b"300", b"400", b"500"];

/// A ZAP message broke a rule of RFC 27 (or of libzmq's reading of it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZapError {
    /// The message has the wrong number of frames.
    #[error("a ZAP {message} has {expected} frames, not {got}")]
    FrameCount {
        /// "request" or "reply".
        message: &'static str,
        /// How many it must have.
        expected: &'static str,
        /// How many it has.
        got: usize,
    },
    /// The version frame is not "1.0".
    #[error("ZAP version {version:?} is not 1.0")]
    Version {
        /// The version sent, as printable text.
        version: String,
    },
    /// The reply does not echo the request's id.
    #[error("the ZAP reply is for request {got:?}, not {expected:?}")]
    RequestId {
        /// The id that was sent, as printable text.
        expected: String,
        /// The id that came back, as printable text.
        got: String,
    },
    /// The status code is not 200, 300, 400 or 500.
    #[error("ZAP status code {code:?} is not 200, 300, 400 or 500")]
    StatusCode {
        /// The code sent, as printable text.
        code: String,
    },
    /// The reply's metadata is not a run of ZMTP properties.
    #[error("malformed metadata in the ZAP reply: {reason}")]
    Metadata {
        /// What is wrong with it.
        reason: String,
    },
    /// The mechanism frame is empty, longer than 20 bytes or holds a NUL.
    #[error("ZAP mechanism name {name:?} is not 1 to 20 bytes without NUL")]
    Mechanism {
        /// The name sent, as printable text.
        name: String,
    },
    /// The credentials do not fit the mechanism.
    #[error("a ZAP request for {mechanism} takes {expected}")]
    Credentials {
        /// The mechanism's name.
        mechanism: &'static str,
        /// What it takes.
        expected: &'static str,
    },
}

/// RFC 27's request for `request` under `request_id`, as a server sends it.
pub fn encode_request(request_id: &Bytes, request: &ZapRequest) -> Message {
    let mut frames = vec![
        Bytes::from_static(ZAP_VERSION),
        request_id.clone(),
        request.domain.clone(),
        request.address.clone(),
        request.identity.clone(),
        Bytes::copy_from_slice(request.mechanism.trimmed()),
    ];
    frames.extend(request.credentials.iter().cloned());
    Message::from_frames(frames)
}

/// Reads a request as a handler receives it: its id and what it asks.
pub fn decode_request(frames: &[Bytes]) -> Result<(Bytes, ZapRequest), ZapError> {
    let [
        version,
        request_id,
        domain,
        address,
        identity,
        mechanism,
        credentials @ ..,
    ] = frames
    else {
        return Err(ZapError::FrameCount {
            message: "request",
            expected: "at least 6",
            got: frames.len(),
        });
    };
    check_version(version)?;
    let mechanism = MechanismName::from_name(mechanism).ok_or_else(|| ZapError::Mechanism {
        name: printable(mechanism),
    })?;
    check_credentials(mechanism, credentials)?;
    Ok((
        request_id.clone(),
        ZapRequest {
            domain: domain.clone(),
            address: address.clone(),
            identity: identity.clone(),
            mechanism,
            credentials: credentials.to_vec(),
        },
    ))
}

/// RFC 27's reply for `reply` to the request `request_id`, as a handler sends it.
pub fn encode_reply(request_id: &Bytes, reply: &ZapReply) -> Message {
    let mut metadata = BytesMut::new();
    reply.metadata.write(&mut metadata);
    Message::from_frames([
        Bytes::from_static(ZAP_VERSION),
        request_id.clone(),
        reply.status_code.clone(),
        reply.status_text.clone(),
        reply.user_id.clone(),
        metadata.freeze(),
    ])
}

/// Reads the handler's reply to the request sent as `request_id`.
pub fn decode_reply(frames: &[Bytes], request_id: &[u8]) -> Result<ZapReply, ZapError> {
    let [version, id, status_code, status_text, user_id, metadata] = frames else {
        return Err(ZapError::FrameCount {
            message: "reply",
            expected: "exactly 6",
            got: frames.len(),
        });
    };
    check_version(version)?;
    if id.as_ref() != request_id {
        return Err(ZapError::RequestId {
            expected: printable(request_id),
            got: printable(id),
        });
    }
    if !STATUS_CODES.contains(&status_code.as_ref()) {
        return Err(ZapError::StatusCode {
            code: printable(status_code),
        });
    }
    let metadata = Metadata::parse(metadata).map_err(|error| ZapError::Metadata {
        reason: error.to_string(),
    })?;
    Ok(ZapReply {
        status_code: status_code.clone(),
        status_text: status_text.clone(),
        user_id: user_id.clone(),
        metadata,
    })
}

fn check_version(version: &Bytes) -> Result<(), ZapError> {
    if version.as_ref() == ZAP_VERSION {
        Ok(())
    } else {
        Err(ZapError::Version {
            version: printable(version),
        })
    }
}

/// Checks the credentials' count (and CURVE's key length) for the mechanisms
/// RFC 27 describes; other mechanisms' credentials are taken as they come.
fn check_credentials(mechanism: MechanismName, credentials: &[Bytes]) -> Result<(), ZapError> {
    let fits = |name, expected, fits: bool| {
        if fits {
            Ok(())
        } else {
            Err(ZapError::Credentials {
                mechanism: name,
                expected,
            })
        }
    };
    match mechanism.trimmed() {
        b"NULL" => fits("NULL", "no credentials", credentials.is_empty()),
        b"PLAIN" => fits(
            "PLAIN",
            "a user name and a password",
            credentials.len() == 2,
        ),
        b"CURVE" => fits(
            "CURVE",
            "one 32-byte public key",
            matches!(credentials, [key] if key.len() == 32),
        ),
        b"GSSAPI" => fits("GSSAPI", "one principal", credentials.len() == 1),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frames(parts: &[&'static [u8]]) -> Vec<Bytes> {
        parts.iter().map(|part| Bytes::from_static(part)).collect()
    }

    fn plain_request() -> ZapRequest {
        ZapRequest {
            domain: Bytes::from_static(b"global"),
            address: Bytes::from_static(b"127.0.0.1"),
            identity: Bytes::from_static(b"server"),
            mechanism: MechanismName::PLAIN,
            credentials: frames(&[b"admin", b"secret"]),
        }
    }

    #[test]
    fn a_request_is_libzmqs_frames() {
        let message = encode_request(&Bytes::from_static(b"1"), &plain_request());
        assert_eq!(
            message.frames(),
            frames(&[
                b"1.0",
                b"1",
                b"global",
                b"127.0.0.1",
                b"server",
                b"PLAIN",
                b"admin",
                b"secret"
            ]),
            "the mechanism without its padding"
        );
        assert_eq!(
            decode_request(message.frames()),
            Ok((Bytes::from_static(b"1"), plain_request()))
        );
    }

    #[test]
    fn a_reply_is_czmqs_frames() {
        let mut reply = ZapReply::allow();
        reply.user_id = Bytes::from_static(b"admin");
        reply.metadata.insert(&b"Hello"[..], &b"World"[..]);
        let message = encode_reply(&Bytes::from_static(b"7"), &reply);
        assert_eq!(
            message.frames(),
            frames(&[
                b"1.0",
                b"7",
                b"200",
                b"OK",
                b"admin",
                b"\x05Hello\x00\x00\x00\x05World"
            ])
        );
        assert_eq!(decode_reply(message.frames(), b"7"), Ok(reply));
    }

    #[test]
    fn malformed_replies_are_refused_with_the_rule_they_break() {
        let good = [&b"1.0"[..], b"1", b"400", b"No access", b"", b""];
        assert!(decode_reply(&frames(&good), b"1").is_ok());
        let with = |index: usize, value: &'static [u8]| {
            let mut parts = good;
            parts[index] = value;
            frames(&parts)
        };
        assert!(matches!(
            decode_reply(&frames(&good[..5]), b"1"),
            Err(ZapError::FrameCount { got: 5, .. })
        ));
        let mut seven = frames(&good);
        seven.push(Bytes::new());
        assert!(matches!(
            decode_reply(&seven, b"1"),
            Err(ZapError::FrameCount { got: 7, .. })
        ));
        assert!(matches!(
            decode_reply(&with(0, b"2.0"), b"1"),
            Err(ZapError::Version { .. })
        ));
        assert!(matches!(
            decode_reply(&good.map(Bytes::from_static), b"2"),
            Err(ZapError::RequestId { .. })
        ));
        for code in [&b"201"[..], b"600", b"20", b"2000", b"", b"abc"] {
            assert!(
                matches!(
                    decode_reply(&with(2, code), b"1"),
                    Err(ZapError::StatusCode { .. })
                ),
                "{code:?}"
            );
        }
        for code in [&b"200"[..], b"300", b"500"] {
            assert!(decode_reply(&with(2, code), b"1").is_ok());
        }
        assert!(matches!(
            decode_reply(&with(5, b"\x05Hello\x00\x00"), b"1"),
            Err(ZapError::Metadata { .. })
        ));
        let error = decode_reply(&with(0, b"x"), b"1").unwrap_err();
        assert_eq!(error.to_string(), "ZAP version \"x\" is not 1.0");
    }

    #[test]
    fn malformed_requests_are_refused() {
        let request = |parts: &[&'static [u8]]| decode_request(&frames(parts));
        assert!(matches!(
            request(&[b"1.0", b"1", b"", b"", b""]),
            Err(ZapError::FrameCount { got: 5, .. })
        ));
        assert!(matches!(
            request(&[b"0.9", b"1", b"", b"", b"", b"NULL"]),
            Err(ZapError::Version { .. })
        ));
        for mechanism in [&b""[..], b"NU\0LL", &[b'X'; 21]] {
            assert!(matches!(
                request(&[b"1.0", b"1", b"", b"", b"", mechanism]),
                Err(ZapError::Mechanism { .. })
            ));
        }
        for (parts, ok) in [
            (&[&b"1.0"[..], b"1", b"", b"", b"", b"NULL"][..], true),
            (&[b"1.0", b"1", b"", b"", b"", b"NULL", b"x"], false),
            (&[b"1.0", b"1", b"", b"", b"", b"PLAIN", b"user"], false),
            (&[b"1.0", b"1", b"", b"", b"", b"PLAIN", b"", b""], true),
            (&[b"1.0", b"1", b"", b"", b"", b"CURVE", &[7; 31]], false),
            (&[b"1.0", b"1", b"", b"", b"", b"CURVE", &[7; 32]], true),
            (&[b"1.0", b"1", b"", b"", b"", b"GSSAPI"], false),
            (
                &[b"1.0", b"1", b"", b"", b"", b"OTHER", b"a", b"b", b"c"],
                true,
            ),
        ] {
            assert_eq!(request(parts).is_ok(), ok, "{parts:?}");
        }
    }

    fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
        prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
    }

    fn request_strategy() -> impl Strategy<Value = ZapRequest> {
        let mechanism = prop_oneof![
            Just((MechanismName::NULL, 0usize, 8usize)),
            Just((MechanismName::PLAIN, 2, 64)),
            Just((MechanismName::CURVE, 1, 0)),
            "[A-Z]{1,20}".prop_map(|name| (
                MechanismName::from_name(name.as_bytes()).unwrap(),
                3,
                16
            )),
        ];
        (
            mechanism,
            bytes(16),
            bytes(40),
            bytes(255),
            prop::collection::vec(any::<[u8; 32]>(), 1),
        )
            .prop_flat_map(
                |((mechanism, count, size), domain, address, identity, key)| {
                    let credentials = if mechanism == MechanismName::CURVE {
                        Just(vec![Bytes::copy_from_slice(&key[0])]).boxed()
                    } else {
                        prop::collection::vec(bytes(size.max(1)), count..=count).boxed()
                    };
                    credentials.prop_map(move |credentials| ZapRequest {
                        domain: domain.clone(),
                        address: address.clone(),
                        identity: identity.clone(),
                        mechanism,
                        credentials,
                    })
                },
            )
    }

    fn reply_strategy() -> impl Strategy<Value = ZapReply> {
        let code = prop::sample::select(STATUS_CODES.to_vec());
        let property = ("[A-Za-z-]{1,20}", bytes(64));
        (
            code,
            bytes(64),
            bytes(64),
            prop::collection::vec(property, 0..4),
        )
            .prop_map(|(code, status_text, user_id, properties)| {
                let mut metadata = Metadata::new();
                for (name, value) in properties {
                    metadata.insert(name.into_bytes(), value);
                }
                ZapReply {
                    status_code: Bytes::from_static(code),
                    status_text,
                    user_id,
                    metadata,
                }
            })
    }

    fn frames_strategy() -> impl Strategy<Value = Vec<Bytes>> {
        let frame = prop_oneof![
            bytes(48),
            prop::sample::select(vec![
                &b"1.0"[..],
                b"1",
                b"200",
                b"400",
                b"PLAIN",
                b"CURVE",
                b"NULL",
                b"\x01X\x00\x00\x00\x01Y"
            ])
            .prop_map(Bytes::from_static),
        ];
        prop::collection::vec(frame, 0..10)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn requests_round_trip(id in bytes(8), request in request_strategy()) {
            let message = encode_request(&id, &request);
            prop_assert_eq!(decode_request(message.frames()), Ok((id, request)));
        }

        #[test]
        fn replies_round_trip(id in bytes(8), reply in reply_strategy()) {
            let message = encode_reply(&id, &reply);
            prop_assert_eq!(decode_reply(message.frames(), &id), Ok(reply));
        }

        #[test]
        fn random_frames_never_panic(frames in frames_strategy(), id in bytes(2)) {
            if let Ok((request_id, request)) = decode_request(&frames) {
                let again = encode_request(&request_id, &request);
                prop_assert_eq!(again.frames(), &frames[..]);
            }
            if let Ok(reply) = decode_reply(&frames, &id) {
                let again = encode_reply(&id, &reply);
                prop_assert_eq!(again.frames(), &frames[..]);
            }
        }
    }
}
