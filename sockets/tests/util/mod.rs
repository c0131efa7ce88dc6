//! Helpers shared by the integration tests: endpoints for every transport, and
//! waits with deadlines (never plain sleeps).

#![allow(dead_code)]

use sinew::Socket;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long any single wait in a test may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

static NEXT: AtomicU64 = AtomicU64::new(0);

/// One endpoint per transport, unique to this test run.
pub fn endpoints(name: &str) -> Vec<String> {
    let unique = format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    vec![
        "tcp://127.0.0.1:0".to_owned(),
        format!(
            "ipc://{}",
            std::env::temp_dir()
                .join(format!("sinew-{unique}.ipc"))
                .display()
        ),
        format!("ipc://@sinew-{unique}"),
        format!("inproc://{unique}"),
    ]
}

/// Receives one single-frame message as text.
pub fn recv_text(socket: &Socket) -> String {
    let message = socket.recv().expect("a message before the timeout");
    assert_eq!(message.len(), 1, "{message:?}");
    String::from_utf8(message.frames()[0].to_vec()).expect("text")
}

/// Polls `condition` until it holds, failing the test after `TIMEOUT`.
pub fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met in time");
        std::thread::yield_now();
    }
}

/// Binds, retrying while the port is still held by a closing listener.
pub fn bind_retrying(socket: &Socket, endpoint: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match socket.bind(endpoint) {
            Ok(()) => return,
            Err(error) => {
                assert!(Instant::now() < deadline, "bind {endpoint}: {error}");
                std::thread::yield_now();
            }
        }
    }
}
