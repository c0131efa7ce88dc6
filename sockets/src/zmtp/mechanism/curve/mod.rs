//! The CURVE mechanism (RFC 25, ZMTP-CURVE; CurveZMQ, RFC 26), both roles, as
//! libzmq 4.3 speaks it on the wire.
//!
//! The client sends HELLO (its short-term key C' and a box only the server's
//! long-term key S opens); the server answers WELCOME (its short-term key S' and a
//! cookie it can check later without keeping state for the client); the client
//! sends INITIATE (the cookie, its long-term key C, a vouch binding C to C' and S,
//! and its metadata); the server checks all of it, optionally asks ZAP (RFC 27)
//! about C, and answers READY (its metadata) or ERROR. From then on every frame,
//! commands included, travels as a MESSAGE box keyed by C' and S'. `client.rs` and
//! `server.rs` hold the two handshakes, `encoding.rs` the MESSAGE boxes and their
//! nonces, `boxes.rs` the NaCl boxes and nonce layouts.
//!
//! This module must never let a frame through that did not open, never accept a
//! MESSAGE nonce that does not increase, and never keep the cookie key or a
//! short-term secret key past the handshake.

mod boxes;
mod client;
mod encoding;
mod secretbox;
mod server;
#[cfg(test)]
mod tests;

pub use client::CurveClient;
pub use server::CurveServer;

use crate::curve::{KeyPair, PublicKey};

/// HELLO's name, as it starts the command body.
const HELLO: &[u8] = b"\x05HELLO";
/// WELCOME's name.
const WELCOME: &[u8] = b"\x07WELCOME";
/// INITIATE's name.
const INITIATE: &[u8] = b"\x08INITIATE";
/// READY's name.
const READY: &[u8] = b"\x05READY";
/// MESSAGE's name.
const MESSAGE: &[u8] = b"\x07MESSAGE";

/// HELLO's size: name, version, 72 bytes of padding, C', short nonce, box.
const HELLO_SIZE: usize = 200;
/// The anti-amplification padding in HELLO.
const HELLO_PADDING: usize = 72;
/// WELCOME's size: name, long nonce, box of S' and the cookie.
const WELCOME_SIZE: usize = 168;
/// The cookie: a long nonce and the 80-byte box of C' and s'.
const COOKIE_SIZE: usize = 96;
/// The vouch: a long nonce and the 80-byte box of C' and S.
const VOUCH_SIZE: usize = 96;
/// INITIATE's size without metadata: name, cookie, short nonce, box of C + vouch.
const INITIATE_MIN_SIZE: usize = 257;
/// READY's size without metadata: name, short nonce, tag.
const READY_MIN_SIZE: usize = 30;

/// Short-nonce prefixes (RFC 26).
const HELLO_NONCE: &[u8; 16] = b"CurveZMQHELLO---";
const INITIATE_NONCE: &[u8; 16] = b"CurveZMQINITIATE";
const READY_NONCE: &[u8; 16] = b"CurveZMQREADY---";
const MESSAGE_CLIENT_NONCE: &[u8; 16] = b"CurveZMQMESSAGEC";
const MESSAGE_SERVER_NONCE: &[u8; 16] = b"CurveZMQMESSAGES";

/// Long-nonce prefixes (RFC 26).
const WELCOME_NONCE: &[u8; 8] = b"WELCOME-";
const COOKIE_NONCE: &[u8; 8] = b"COOKIE--";
const VOUCH_NONCE: &[u8; 8] = b"VOUCH---";

/// The CurveZMQ version HELLO carries (1.0).
const VERSION: [u8; 2] = [1, 0];

/// The mechanism's name in errors.
const NAME: &str = "CURVE";

/// A CURVE connection's side and its settings (libzmq's ZMQ_CURVE_SERVER,
/// ZMQ_CURVE_SECRETKEY and ZMQ_CURVE_SERVERKEY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurveRole {
    /// The connecting side, which must know the server's public key.
    Client {
        /// Our long-term key pair (C, c).
        keys: KeyPair,
        /// The server's long-term public key (S).
        server_key: PublicKey,
    },
    /// The side that holds the well-known key pair.
    Server {
        /// Our long-term key pair (S, s).
        keys: KeyPair,
        /// Whether to ask the ZAP handler about each client's long-term key
        /// (`Progress::Authenticate`). Without it every client whose vouch checks
        /// out is admitted, as libzmq does when no ZAP handler is bound.
        zap: bool,
        /// When it asks and no handler is bound: refuse every client
        /// (ZMQ_ZAP_ENFORCE_DOMAIN) rather than admit it, as libzmq does.
        enforce_domain: bool,
    },
}
