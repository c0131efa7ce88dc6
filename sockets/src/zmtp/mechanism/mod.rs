//! Security mechanisms: each runs its part of the handshake and then encodes and
//! decodes every frame of the connection.
//!
//! NULL, PLAIN and CURVE are here, behind one trait. CURVE boxes
//! every frame, carrying MORE and COMMAND inside its encryption, which is why
//! encoding and decoding go through the mechanism. A mechanism never sees the
//! greeting and never touches a socket; it must never let traffic through before
//! its handshake is complete.

pub mod curve;
mod null;
mod plain;
mod zap;

pub use curve::{CurveClient, CurveRole, CurveServer};
pub use null::Null;
pub use plain::{MAX_CREDENTIAL_LENGTH, Plain, PlainClient, PlainServer};
pub use zap::{USER_ID_PROPERTY, ZapReply, ZapRequest, authenticated_metadata};

use super::ProtocolError;
use super::command::Metadata;
use super::encoder::Encoder;
use super::frame::Frame;
use super::greeting::MechanismName;
use crate::curve::{KeyPair, PublicKey};
use bytes::Bytes;
use std::fmt;

/// How far a mechanism's handshake has come after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// More commands are needed.
    Continue,
    /// The handshake is complete; the peer's metadata is attached.
    Ready(Metadata),
    /// A server needs the ZAP handler's verdict on the client before it goes on
    /// (RFC 27): the connection's owner asks and calls
    /// [`Mechanism::handle_zap_reply`] with the reply.
    Authenticate(ZapRequest),
}

/// A security mechanism (RFC 23 "Security mechanisms").
pub trait Mechanism: Send + fmt::Debug {
    /// The name announced in the greeting.
    fn name(&self) -> MechanismName;

    /// Whether we act as this mechanism's server (the greeting's as-server bit).
    fn as_server(&self) -> bool;

    /// Starts the handshake once both greetings are complete; queues our first
    /// commands, or asks the ZAP handler first (NULL with a ZAP domain).
    fn handle_start(&mut self, out: &mut Encoder) -> Result<Progress, ProtocolError>;

    /// Handles one command the peer sent during the handshake (the frame body).
    fn handle_command(
        &mut self,
        body: &Bytes,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError>;

    /// The ZAP handler's reply to the request this mechanism made; queues the
    /// mechanism's next commands (a WELCOME, READY or ERROR). Only a server
    /// mechanism that asked may be given one.
    fn handle_zap_reply(
        &mut self,
        reply: ZapReply,
        out: &mut Encoder,
    ) -> Result<Progress, ProtocolError> {
        let _ = (reply, out);
        Err(ProtocolError::UnexpectedZapReply)
    }

    /// No ZAP handler is bound to answer the request this mechanism made: it
    /// goes on as libzmq does then (PLAIN refuses the client; CURVE admits it
    /// unless ZMQ_ZAP_ENFORCE_DOMAIN is set). Only a server mechanism that asked
    /// may be told so.
    fn handle_zap_unavailable(&mut self, out: &mut Encoder) -> Result<Progress, ProtocolError> {
        let _ = out;
        Err(ProtocolError::UnexpectedZapReply)
    }

    /// Encodes one frame of traffic.
    fn encode_frame(&mut self, more: bool, command: bool, body: &Bytes, out: &mut Encoder) {
        out.frame(more, command, body);
    }

    /// Decodes one frame of traffic.
    fn decode_frame(&mut self, frame: Frame) -> Result<Frame, ProtocolError> {
        Ok(frame)
    }
}

/// Which mechanism a connection uses, and its settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Security {
    /// No security (RFC 23's NULL mechanism).
    #[default]
    Null,
    /// NULL on a socket with a ZAP domain: the ZAP handler is asked about each
    /// peer; with none bound the peer is admitted unless `enforce_domain`.
    NullWithZap {
        /// ZMQ_ZAP_ENFORCE_DOMAIN.
        enforce_domain: bool,
    },
    /// PLAIN (RFC 24): a user name and a password in clear text, checked by the
    /// server's ZAP handler.
    Plain(Plain),
    /// CURVE (RFC 25): encryption and authentication with CurveZMQ (RFC 26).
    Curve(CurveRole),
}

impl Security {
    /// A fresh mechanism for one connection that will announce `metadata`.
    pub fn mechanism(&self, metadata: Metadata) -> Box<dyn Mechanism> {
        match self {
            Security::Null => Box::new(Null::new(metadata)),
            Security::NullWithZap { enforce_domain } => {
                Box::new(Null::with_zap(metadata, *enforce_domain))
            }
            Security::Plain(plain) => plain.mechanism(metadata),
            Security::Curve(CurveRole::Client { keys, server_key }) => {
                Box::new(CurveClient::new(keys.clone(), *server_key, metadata))
            }
            Security::Curve(CurveRole::Server {
                keys,
                zap,
                enforce_domain,
            }) => Box::new(
                CurveServer::new(keys.clone(), *zap, metadata).enforcing_domain(*enforce_domain),
            ),
        }
    }

    /// The mechanism's name in the greeting.
    pub fn name(&self) -> MechanismName {
        match self {
            Security::Null | Security::NullWithZap { .. } => MechanismName::NULL,
            Security::Plain(_) => MechanismName::PLAIN,
            Security::Curve(_) => MechanismName::CURVE,
        }
    }

    /// A CURVE client with long-term `keys`, for the server whose long-term
    /// public key is `server_key`.
    pub fn curve_client(keys: KeyPair, server_key: PublicKey) -> Security {
        Security::Curve(CurveRole::Client { keys, server_key })
    }

    /// A CURVE server with long-term `keys`; `zap` says whether each client is
    /// put to the ZAP handler (`Progress::Authenticate`) or admitted at once.
    pub fn curve_server(keys: KeyPair, zap: bool) -> Security {
        Security::Curve(CurveRole::Server {
            keys,
            zap,
            enforce_domain: false,
        })
    }
}
