//! `proxy`: forward messages between a frontend and a backend socket until the
//! context is shut down, like `zmq_proxy`.
//!
//! Both directions are served in turn by one thread that polls both sockets; each
//! message is forwarded whole. A send that would block waits (so high-water marks
//! push back through the proxy), as libzmq's proxy does. With a capture socket,
//! every forwarded message is also sent there, without waiting. This file must
//! never reorder the messages of one direction.

use sinew::{Error, PollEvents, PollItem, Result, Socket, poll};
use std::time::Duration;

/// How long one poll waits before checking again (the context's shutdown also
/// wakes it).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Forwards between `frontend` and `backend` until the context is shut down
/// (then returns `Error::Terminated`) or a socket fails.
pub fn proxy(frontend: &Socket, backend: &Socket) -> Result<()> {
    run(frontend, backend, None)
}

/// As [`proxy`], also sending a copy of every forwarded message to `capture`.
pub fn proxy_with_capture(frontend: &Socket, backend: &Socket, capture: &Socket) -> Result<()> {
    run(frontend, backend, Some(capture))
}

fn run(frontend: &Socket, backend: &Socket, capture: Option<&Socket>) -> Result<()> {
    loop {
        let mut items = [
            PollItem::new(frontend, PollEvents::READABLE),
            PollItem::new(backend, PollEvents::READABLE),
        ];
        poll(&mut items, Some(POLL_INTERVAL))?;
        let ready = [items[0].is_readable(), items[1].is_readable()];
        if ready[0] {
            forward(frontend, backend, capture)?;
        }
        if ready[1] {
            forward(backend, frontend, capture)?;
        }
    }
}

/// Moves every message that is waiting on `from` to `to`.
fn forward(from: &Socket, to: &Socket, capture: Option<&Socket>) -> Result<()> {
    loop {
        let message = match from.try_recv() {
            Ok(message) => message,
            Err(Error::WouldBlock) => return Ok(()),
            Err(error) => return Err(error),
        };
        if let Some(capture) = capture {
            // The capture is best effort: it never slows the proxy down.
            let _ = capture.try_send(message.clone());
        }
        to.send(message)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sinew::{Context, SocketType};

    #[test]
    fn a_shared_queue_serves_requests_until_the_context_shuts_down() {
        let context = Context::new();
        let frontend = context.socket(SocketType::Router).unwrap();
        frontend.bind("inproc://proxy-front").unwrap();
        let backend = context.socket(SocketType::Dealer).unwrap();
        backend.bind("inproc://proxy-back").unwrap();
        let capture = context.socket(SocketType::Push).unwrap();
        capture.bind("inproc://proxy-capture").unwrap();
        let captured = context.socket(SocketType::Pull).unwrap();
        captured.connect("inproc://proxy-capture").unwrap();
        let device = std::thread::spawn(move || proxy_with_capture(&frontend, &backend, &capture));
        let worker_context = context.clone();
        let worker = std::thread::spawn(move || {
            let rep = worker_context.socket(SocketType::Reply).unwrap();
            rep.connect("inproc://proxy-back").unwrap();
            while let Ok(request) = rep.recv() {
                let mut reply = request.clone();
                reply.push_back("done");
                if rep.send(reply).is_err() {
                    break;
                }
            }
        });
        let req = context.socket(SocketType::Request).unwrap();
        req.set_receive_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        req.connect("inproc://proxy-front").unwrap();
        for round in 0..5 {
            req.send(format!("job {round}")).unwrap();
            let reply = req.recv().unwrap();
            assert_eq!(reply.frames()[0], format!("job {round}"));
            assert_eq!(reply.frames()[1], "done");
        }
        // Each request and each reply passed the capture, envelope and all.
        for _ in 0..10 {
            assert!(
                captured
                    .recv_with_timeout(Some(Duration::from_secs(10)))
                    .is_ok()
            );
        }
        context.shutdown();
        assert!(matches!(device.join().unwrap(), Err(Error::Terminated)));
        worker.join().unwrap();
    }
}
