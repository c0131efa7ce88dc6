//! Helpers shared by the integration tests: endpoints for every transport, and
//! waits with deadlines (never plain sleeps).

#![allow(dead_code)]

use sinew::{PollEvents, PollItem, Socket, poll};
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

/// A loopback endpoint on a port that was free a moment ago, for a test that
/// must connect before anything binds there.
pub fn free_tcp_endpoint() -> String {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = probe.local_addr().expect("its address");
    format!("tcp://{address}")
}

/// Receives one single-frame message as text.
pub fn recv_text(socket: &Socket) -> String {
    let message = socket.recv().expect("a message before the timeout");
    assert_eq!(message.len(), 1, "{message:?}");
    String::from_utf8(message.frames()[0].to_vec()).expect("text")
}

/// Polls `condition` until it holds, failing the test after `TIMEOUT`.
///
/// For conditions no event reports (a ROUTER learning a peer's id, say). Between
/// checks the thread parks, first for 50 µs and then twice as long each time up
/// to 5 ms, so a wait neither spins a core nor adds more than a few milliseconds
/// once the condition holds. Where an event exists, wait on it instead:
/// [`wait_writable`], [`wait_readable`], or a receive with a timeout.
pub fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    let mut backoff = Backoff::new();
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met in time");
        backoff.wait(deadline);
    }
}

/// Parks between the checks of a polling wait, for growing intervals capped at a
/// few milliseconds, never past the deadline.
struct Backoff {
    interval: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_micros(50);
    const MOST: Duration = Duration::from_millis(5);

    fn new() -> Backoff {
        Backoff {
            interval: Backoff::FIRST,
        }
    }

    fn wait(&mut self, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        std::thread::park_timeout(self.interval.min(left));
        self.interval = (self.interval * 2).min(Backoff::MOST);
    }
}

/// Waits until `socket` can send (a peer is attached with room), failing the test
/// after `TIMEOUT`. Parks on the socket's wake-ups, as `poll` does: no polling.
pub fn wait_writable(socket: &Socket) {
    wait_for(socket, PollEvents::WRITABLE);
}

/// Waits until `socket` has a message to receive, failing the test after
/// `TIMEOUT`. Parks on the socket's wake-ups, as `poll` does: no polling.
pub fn wait_readable(socket: &Socket) {
    wait_for(socket, PollEvents::READABLE);
}

fn wait_for(socket: &Socket, events: PollEvents) {
    let mut items = [PollItem::new(socket, events)];
    let ready = poll(&mut items, Some(TIMEOUT)).expect("poll");
    assert_eq!(ready, 1, "{events:?} not reached within {TIMEOUT:?}");
}

/// Binds, retrying while the port is still held by a closing listener.
pub fn bind_retrying(socket: &Socket, endpoint: &str) {
    let deadline = Instant::now() + TIMEOUT;
    let mut backoff = Backoff::new();
    loop {
        match socket.bind(endpoint) {
            Ok(()) => return,
            Err(error) => {
                assert!(Instant::now() < deadline, "bind {endpoint}: {error}");
                backoff.wait(deadline);
            }
        }
    }
}
