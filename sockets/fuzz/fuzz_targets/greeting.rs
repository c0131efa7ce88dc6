//! Fuzz target: a connection fed an arbitrary greeting (and whatever follows), one
//! byte at a time or all at once.
//!
//! It must either wait, reach the handshake, or fail with a protocol error; never
//! panic, and never send more than its first 11 bytes before the peer's 11th byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinew::zmtp::{Config, Connection, SocketType};
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut connection = Connection::new(Config::new(SocketType::Pull), now);
    let byte_at_a_time = data.first().is_some_and(|byte| byte & 1 == 1);
    let pieces: Vec<&[u8]> = if byte_at_a_time {
        data.chunks(1).collect()
    } else {
        vec![data]
    };
    let mut fed = 0;
    for piece in pieces {
        if connection.handle_input(piece, now).is_err() {
            return;
        }
        fed += piece.len();
        if fed < 11 {
            assert!(connection.pending_output() <= 11);
        }
    }
    while let Ok(Some(_)) = connection.poll_event(now) {}
});
