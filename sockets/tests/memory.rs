//! A long PUSH/PULL run keeps memory flat after warm-up: nothing per message is
//! kept or leaked. The default count keeps `cargo test` quick; set
//! SINEW_MEMORY_MESSAGES (e.g. 10000000, with --release) for the full run, which
//! prints its figures.

mod util;

use sinew::{Context, SocketType};
use util::TIMEOUT;

/// Resident memory of this process, in bytes (Linux: /proc/self/statm).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages");
    pages * 4096
}

#[test]
fn receiver_memory_stays_flat() {
    let count: u64 = std::env::var("SINEW_MEMORY_MESSAGES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(300_000);
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.set_receive_timeout(Some(TIMEOUT)).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let sender = std::thread::spawn(move || {
        let context = Context::new();
        let push = context.socket(SocketType::Push).unwrap();
        push.connect(&endpoint).unwrap();
        let payload = bytes::Bytes::from(vec![0x42u8; 100]);
        for _ in 0..count {
            push.send(payload.clone()).unwrap();
        }
    });
    let warm_up = count / 10;
    let mut baseline = 0;
    let mut peak = 0;
    for index in 0..count {
        let message = pull.recv().unwrap();
        assert_eq!(message.frames()[0].len(), 100);
        if index == warm_up {
            baseline = resident_bytes();
        }
        if index > warm_up && index % (count / 20).max(1) == 0 {
            peak = peak.max(resident_bytes());
        }
    }
    sender.join().unwrap();
    let end = resident_bytes();
    peak = peak.max(end);
    eprintln!(
        "{count} messages: resident after warm-up {} KiB, peak after {} KiB, at the end {} KiB",
        baseline / 1024,
        peak / 1024,
        end / 1024
    );
    // Flat: the peak stays within a few MiB of the baseline (allocator noise),
    // whatever the count.
    let growth = peak.saturating_sub(baseline);
    assert!(growth < 16 << 20, "memory grew by {} KiB", growth / 1024);
}
