//! Fuzz target: the CURVE handshake, in both roles, and traffic after it, fed
//! arbitrary bytes after a well-formed CURVE greeting (the first input byte
//! picks role, socket type, whether a server asks ZAP and the handler's
//! verdict, `zap_verdict.rs`). CURVE's
//! boxes do not open for bytes the fuzzer makes up, so it reaches the framing
//! and length checks before the crypto, and each box's refusal.
//!
//! Whatever the peer sends, nothing may panic and our output must stay bounded
//! (the greeting, one command per step, an ERROR).
#![no_main]

#[path = "zap_verdict.rs"]
mod zap_verdict;

use libfuzzer_sys::fuzz_target;
use sinew::curve::{KeyPair, SecretKey};
use sinew::zmtp::{Config, Connection, Security, SocketType};
use std::time::{Duration, Instant};

/// Far above what a handshake step and one ERROR take.
const OUTPUT_BOUND: usize = 4096;

fn greeting(mechanism: &[u8], as_server: bool) -> Vec<u8> {
    let mut bytes = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1];
    bytes.extend_from_slice(mechanism);
    bytes.resize(32, 0);
    bytes.push(u8::from(as_server));
    bytes.resize(64, 0);
    bytes
}

fn keys(seed: u8) -> KeyPair {
    KeyPair::from_secret(SecretKey::from_bytes([seed; 32]))
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let kind = SocketType::ALL[usize::from(control >> 1) % SocketType::ALL.len()];
    let server = control & 1 != 0;
    let mut config = Config::new(kind);
    config.security = match server {
        true => Security::curve_server(keys(1), control & 0x80 != 0),
        false => Security::curve_client(keys(2), *keys(1).public()),
    };
    let mechanism: &[u8] = b"CURVE";
    let now = Instant::now();
    let mut connection = Connection::new(config, now);
    if connection
        .handle_input(&greeting(mechanism, !server), now)
        .is_err()
    {
        return;
    }
    for piece in rest.chunks(64) {
        if connection.handle_input(piece, now).is_err() {
            return;
        }
        // A server that asked ZAP gets a verdict the fuzzer chose, and goes on.
        if zap_verdict::answer(&mut connection, control >> 5, now).is_err() {
            return;
        }
        while let Ok(Some(_)) = connection.poll_event(now) {}
        assert!(
            connection.pending_output() <= OUTPUT_BOUND,
            "output piled up: {}",
            connection.pending_output()
        );
    }
    let _ = connection.handle_timeout(now + Duration::from_secs(60));
});
