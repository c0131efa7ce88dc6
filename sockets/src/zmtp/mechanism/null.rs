//! The NULL mechanism (RFC 23): each side sends READY with its metadata.
//!
//! NULL is symmetric, as in libzmq: READY goes out as soon as the greetings are
//! complete, and the peer's READY is accepted at any moment after that. Any other
//! command before READY is a protocol error (libzmq's "unexpected command").
//!
//! A socket with a ZAP domain asks the ZAP handler first, as libzmq 4.3's
//! `null_mechanism.cpp` does: READY goes out only once the handler admitted the
//! peer (its user id and metadata join the peer's), a refusal sends ERROR with
//! the status code (nothing for 300), and without a handler the peer is admitted
//! unless ZAP_ENFORCE_DOMAIN is set. This file must never accept a second READY,
//! let traffic through before READY, or send READY before the handler's 200.

use super::zap::{error_from_peer, refuse};
use super::{Mechanism, Progress, ZapReply, ZapRequest, authenticated_metadata};
use crate::zmtp::ProtocolError;
use crate::zmtp::command::{Command, Metadata, split_name};
use crate::zmtp::encoder::Encoder;
use crate::zmtp::error::printable;
use crate::zmtp::greeting::MechanismName;
use bytes::Bytes;

/// The NULL mechanism's handshake.
#[derive(Debug)]
pub struct Null {
    /// Our metadata, sent in READY.
    metadata: Metadata,
    /// Whether the peer's READY has arrived.
    done: bool,
    /// With a ZAP domain: where asking the handler stands.
    zap: Option<Zap>,
}

/// Asking the ZAP handler about the peer (NULL with a ZAP domain).
#[derive(Debug)]
enum Zap {
    /// Not asked yet; `enforce_domain`: refuse if no handler is bound.
    Ask { enforce_domain: bool },
    /// The request is out.
    Asked { enforce_domain: bool },
    /// Admitted: the handler's user id and metadata (none without a handler).
    Admitted(Option<(Bytes, Metadata)>),
}

impl Null {
    /// A NULL handshake that will announce `metadata`.
    pub fn new(metadata: Metadata) -> Null {
        Null {
            metadata,
            done: false,
            zap: None,
        }
    }

    /// A NULL handshake that asks the ZAP handler about the peer before its
    /// READY (a socket with a ZAP domain); without a handler it admits the
    /// peer, unless `enforce_domain`.
    pub fn with_zap(metadata: Metadata, enforce_domain: bool) -> Null {
        Null {
            metadata,
            done: false,
            zap: Some(Zap::Ask { enforce_domain }),
        }
    }

    /// Sends READY and records the verdict.
    fn admit(&mut self, verdict: Option<(Bytes, Metadata)>, out: &mut Encoder) -> Progress {
        Command::Ready(std::mem::take(&mut self.metadata)).encode(out);
        self.zap = Some(Zap::Admitted(verdict));
        Progress::Continue
    }

    /// The ZAP request, if one is out (else the reply is unexpected).
    fn asked(&self) -> Result<bool, ProtocolError> {
        match self.zap {
            Some(Zap::Asked { enforce_domain }) => Ok(enforce_domain),
            _ => Err(ProtocolError::UnexpectedZapReply),
        }
    }
}

impl Mechanism for Null {
    fn name(&self) -> MechanismName {
        MechanismName::NULL
    }

    fn as_server(&self) -> bool {
        false
    }

    fn handle_start(&mut self, out: &mut Encoder) -> Result<Progress, ProtocolError> {
        if let Some(Zap::Ask { enforce_domain }) = self.zap {
            self.zap = Some(Zap::Asked { enforce_domain });
            return Ok(Progress::Authenticate(ZapRequest {
                domain: Bytes::new(),
                address: Bytes::new(),
                identity: Bytes::new(),
                mechanism: MechanismName::NULL,
                credentials: Vec::new(),
            }));
        }
        Command::Ready(std::mem::take(&mut self.metadata)).encode(out);
        Ok(Progress::Continue)
    }

    fn handle_zap_reply(
        &mut self,
        reply: ZapReply,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        self.asked()?;
        if reply.allowed() {
            return Ok(self.admit(Some((reply.user_id, reply.metadata)), out));
        }
        self.zap = None;
        Err(refuse(&reply, out))
    }

    fn handle_zap_unavailable(&mut self, out: &mut Encoder) -> Result<Progress, ProtocolError> {
        if self.asked()? {
            self.zap = None;
            return Err(ProtocolError::NoZapHandler);
        }
        Ok(self.admit(None, out))
    }

    fn handle_command(
        &mut self,
        body: &Bytes,
        _out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        let (name, _) = split_name(body)?;
        if self.done || name.as_ref() != b"READY" {
            if name.as_ref() == b"ERROR"
                && let Ok(Command::Error { reason }) = Command::parse(body)
            {
                return Err(error_from_peer(&reason));
            }
            return Err(ProtocolError::UnexpectedCommand {
                mechanism: "NULL",
                command: printable(&name),
                expected: "READY",
            });
        }
        match Command::parse(body)? {
            Command::Ready(metadata) => {
                self.done = true;
                match &self.zap {
                    None | Some(Zap::Admitted(None)) => Ok(Progress::Ready(metadata)),
                    Some(Zap::Admitted(Some((user_id, zap)))) => Ok(Progress::Ready(
                        authenticated_metadata(&metadata, user_id, zap),
                    )),
                    // Input waits while the handler decides.
                    Some(Zap::Ask { .. } | Zap::Asked { .. }) => {
                        Err(ProtocolError::UnexpectedCommand {
                            mechanism: "NULL",
                            command: "READY".to_owned(),
                            expected: "nothing before ZAP's reply",
                        })
                    }
                }
            }
            _ => Err(ProtocolError::MalformedCommand {
                command: "READY",
                reason: "not a READY command",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::zmtp::harness::{Pair, take_output};
    use crate::zmtp::mechanism::{Security, USER_ID_PROPERTY, ZapReply};
    use crate::zmtp::{Config, MechanismName, ProtocolError, SocketType};

    fn asking(socket_type: SocketType, enforce_domain: bool) -> Config {
        let mut config = Config::new(socket_type);
        config.security = Security::NullWithZap { enforce_domain };
        config
    }

    #[test]
    fn two_sides_that_both_ask_zap_each_get_their_verdict_and_meet() {
        let mut pair = Pair::new(
            asking(SocketType::Dealer, false),
            asking(SocketType::Router, false),
        );
        pair.pump().unwrap();
        assert!(!pair.left.is_ready() && !pair.right.is_ready());
        for side in [&mut pair.left, &mut pair.right] {
            let request = side.take_zap_request().expect("each side asks");
            assert_eq!(request.mechanism, MechanismName::NULL);
            assert!(request.credentials.is_empty());
        }
        let mut reply = ZapReply::allow();
        reply.user_id = bytes::Bytes::from_static(b"router-side");
        pair.right.handle_zap_reply(reply, pair.now).unwrap();
        pair.left.handle_zap_unavailable(pair.now).unwrap();
        pair.pump().unwrap();
        assert!(pair.left.is_ready() && pair.right.is_ready());
        let seen_by_right = &pair.right.peer().unwrap().metadata;
        assert_eq!(
            seen_by_right.get(USER_ID_PROPERTY).map(|id| id.as_ref()),
            Some(&b"router-side"[..])
        );
        assert_eq!(
            pair.left.peer().unwrap().metadata.get(USER_ID_PROPERTY),
            None,
            "no handler, no user"
        );
    }

    #[test]
    fn a_refusal_sends_error_with_the_status_and_enforcing_without_a_handler_sends_nothing() {
        let mut pair = Pair::new(
            Config::new(SocketType::Dealer),
            asking(SocketType::Router, true),
        );
        pair.pump().unwrap();
        assert!(pair.right.take_zap_request().is_some());
        let mut refusal = ZapReply::allow();
        refusal.status_code = bytes::Bytes::from_static(b"400");
        assert!(matches!(
            pair.right.handle_zap_reply(refusal, pair.now),
            Err(ProtocolError::AuthenticationFailed { .. })
        ));
        let error = take_output(&mut pair.right);
        assert_eq!(
            pair.left.handle_input(&error, pair.now),
            Err(ProtocolError::AuthenticationFailed {
                status_code: "400".to_owned(),
                status_text: "refused by the server's ZAP handler".to_owned(),
            })
        );

        let mut pair = Pair::new(
            Config::new(SocketType::Dealer),
            asking(SocketType::Router, true),
        );
        pair.pump().unwrap();
        assert!(pair.right.take_zap_request().is_some());
        assert_eq!(
            pair.right.handle_zap_unavailable(pair.now),
            Err(ProtocolError::NoZapHandler)
        );
        assert!(
            take_output(&mut pair.right).is_empty(),
            "no READY, no ERROR"
        );
    }
}
