//! Fuzz target: the NULL handshake and traffic after a valid greeting.
//!
//! The input follows a well-formed libzmq greeting, so the fuzzer spends its time on
//! READY, metadata, commands and frames. The peer never reads our output, and the
//! output must stay bounded (the greeting, READY, at most one PONG and an ERROR),
//! whatever the peer sends: this is where a PONG per PING would show. It must
//! never panic. Some inputs make the socket one with a ZAP domain, whose
//! handler's verdict the first byte picks (`zap_verdict.rs`).
#![no_main]

#[path = "zap_verdict.rs"]
mod zap_verdict;

use libfuzzer_sys::fuzz_target;
use sinew::zmtp::{Config, Connection, Security, SocketType};
use std::time::{Duration, Instant};

/// Far above what the handshake, one PONG and one ERROR take.
const OUTPUT_BOUND: usize = 2048;

fn greeting() -> Vec<u8> {
    let mut bytes = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1];
    bytes.extend_from_slice(b"NULL");
    bytes.resize(64, 0);
    bytes
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let kind = SocketType::ALL[usize::from(control) % SocketType::ALL.len()];
    let mut config = Config::new(kind);
    if control & 0x80 != 0 {
        config.max_message_size = Some(4096);
    }
    if control & 0x40 != 0 {
        config.security = Security::NullWithZap {
            enforce_domain: control & 0x20 != 0,
        };
    }
    let now = Instant::now();
    let mut connection = Connection::new(config, now);
    if connection.handle_input(&greeting(), now).is_err() {
        return;
    }
    for piece in rest.chunks(64) {
        if zap_verdict::answer(&mut connection, control >> 3, now).is_err() {
            return;
        }
        if connection.handle_input(piece, now).is_err() {
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
