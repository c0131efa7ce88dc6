//! Closing a monitored socket after its context and monitor reader are gone:
//! the I/O thread that stops the monitor may then drop the context's last
//! handle (the monitor's PAIR socket holds one). It must not try to join
//! itself (that panicked with "Resource deadlock avoided"); it ends on its own.
//!
//! The only test in its binary: it counts panics on every thread and waits
//! (with a deadline) for this process's I/O threads to end.

use sinew::{Context, EventMask, SocketEvent, SocketType};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// How many of this process's threads are Sinew I/O threads.
fn io_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("sinew-io-"))
        .count()
}

#[test]
fn an_io_thread_dropping_the_last_context_handle_ends_without_panicking() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    for _ in 0..50 {
        let context = Context::new();
        let socket = context.socket(SocketType::Pull).unwrap();
        let monitor = socket.monitor_events(EventMask::ALL).unwrap();
        socket.bind("tcp://127.0.0.1:0").unwrap();
        assert_eq!(
            monitor
                .recv_with_timeout(Some(Duration::from_secs(10)))
                .unwrap()
                .event,
            SocketEvent::Listening
        );
        // The reader and the context go first; the socket's close reaches the
        // I/O thread, which stops the monitor and drops its PAIR socket, often
        // holding the last handle by then.
        drop(monitor);
        drop(context);
        drop(socket);
    }
    // Every context was dropped: its I/O thread ends, joined or on its own.
    let deadline = Instant::now() + Duration::from_secs(20);
    while io_threads() > 0 {
        assert!(Instant::now() < deadline, "I/O threads still running");
        std::thread::yield_now();
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a thread panicked");
}
