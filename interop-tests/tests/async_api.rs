//! The async API against libzmq 4.3 peers, on two executors (tokio's
//! multi-threaded runtime and futures' own executor), and mixed with the
//! blocking API in one context; and tokio's `AsyncFd` watching a socket's
//! readiness descriptor.
//!
//! libzmq peers run on their own threads with the blocking `zmq` crate. Every
//! wait has a deadline: libzmq sockets get receive timeouts, futures run under
//! tokio's timeout or finish by themselves.

use futures_executor::block_on;
use sinew::{AsyncSocket, Context, SocketType};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);
const COUNT: u32 = 2_000;

fn libzmq(context: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let socket = context.socket(kind).expect("a libzmq socket");
    socket.set_rcvtimeo(20_000).expect("rcvtimeo");
    socket.set_sndtimeo(20_000).expect("sndtimeo");
    socket.set_linger(1_000).expect("linger");
    socket
}

/// Runs `work` on its own thread and fails the test if it has not finished
/// within the deadline (a future that is never woken would otherwise hang the
/// test forever).
fn within_deadline<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    finished
        .recv_timeout(DEADLINE)
        .expect("the futures finished within the deadline")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

#[test]
fn push_pull_with_libzmq_under_tokio_both_ways() {
    let context = Context::new();
    let zmq_context = zmq::Context::new();

    // libzmq PUSH -> Sinew PULL, received by a task that may move between
    // tokio's worker threads.
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let mut pull = AsyncSocket::new(pull);
    let push = libzmq(&zmq_context, zmq::PUSH);
    push.connect(&endpoint).unwrap();
    let sender = std::thread::spawn(move || {
        for index in 0..COUNT {
            push.send_multipart([&b"n"[..], &index.to_be_bytes()], 0)
                .unwrap();
        }
        push
    });
    let runtime = runtime();
    let received = runtime.block_on(async move {
        let task = tokio::spawn(async move {
            let mut next = 0u32;
            while next < COUNT {
                let frames = pull.recv_multipart().await.expect("a message");
                assert_eq!(frames[0], "n");
                assert_eq!(frames[1][..], next.to_be_bytes());
                next += 1;
            }
            next
        });
        tokio::time::timeout(DEADLINE, task)
            .await
            .expect("within the deadline")
            .expect("the task")
    });
    assert_eq!(received, COUNT);
    drop(sender.join().unwrap());

    // Sinew PUSH -> libzmq PULL, sent from a task.
    let pull = libzmq(&zmq_context, zmq::PULL);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = pull.get_last_endpoint().unwrap().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_send_high_water_mark(10).unwrap();
    push.connect(&endpoint).unwrap();
    let mut push = AsyncSocket::new(push);
    let receiver = std::thread::spawn(move || {
        (0..COUNT)
            .map(|_| {
                pull.recv_multipart(0)
                    .expect("a message within the deadline")
            })
            .collect::<Vec<_>>()
    });
    runtime.block_on(async move {
        tokio::time::timeout(
            DEADLINE,
            tokio::spawn(async move {
                for index in 0..COUNT {
                    // A high-water mark of 10: most sends wait for room.
                    let number = index.to_be_bytes().to_vec();
                    push.send_multipart([b"m".to_vec(), number])
                        .await
                        .expect("sent");
                }
                push
            }),
        )
        .await
        .expect("within the deadline")
        .expect("the task")
    });
    let messages = receiver.join().unwrap();
    for (index, frames) in (0..COUNT).zip(&messages) {
        assert_eq!(frames[0], b"m");
        assert_eq!(frames[1], index.to_be_bytes());
    }
}

#[test]
fn request_reply_with_libzmq_on_futures_executor_both_ways() {
    let context = Context::new();
    let zmq_context = zmq::Context::new();

    // Sinew REQ (async) -> libzmq REP.
    let rep = libzmq(&zmq_context, zmq::REP);
    rep.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = rep.get_last_endpoint().unwrap().unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..100 {
            let request = rep.recv_bytes(0).expect("a request");
            let mut reply = b"re:".to_vec();
            reply.extend_from_slice(&request);
            rep.send(reply, 0).unwrap();
        }
        rep
    });
    let request = context.socket(SocketType::Request).unwrap();
    request.connect(&endpoint).unwrap();
    let mut request = AsyncSocket::new(request);
    within_deadline(move || {
        block_on(async {
            for index in 0..100u32 {
                request.send(index.to_string()).await.expect("sent");
                let reply = request.recv().await.expect("a reply");
                assert_eq!(reply.frames()[0], format!("re:{index}"));
            }
        })
    });
    drop(server.join().unwrap());

    // libzmq REQ -> Sinew REP (async).
    let reply = context.socket(SocketType::Reply).unwrap();
    reply.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = reply.last_endpoint().unwrap();
    let mut reply = AsyncSocket::new(reply);
    let client = std::thread::spawn(move || {
        let req = libzmq(&zmq_context, zmq::REQ);
        req.connect(&endpoint).unwrap();
        for index in 0..100u32 {
            req.send(index.to_string().as_bytes(), 0).unwrap();
            let answer = req.recv_bytes(0).expect("an answer");
            assert_eq!(answer, format!("{}", index * 2).into_bytes());
        }
    });
    within_deadline(move || {
        block_on(async {
            for _ in 0..100 {
                let request = reply.recv().await.expect("a request");
                let number: u32 = std::str::from_utf8(&request.frames()[0])
                    .unwrap()
                    .parse()
                    .unwrap();
                reply.send((number * 2).to_string()).await.expect("sent");
            }
        })
    });
    client.join().unwrap();
}

#[test]
fn request_reply_with_libzmq_under_tokio_and_push_pull_on_futures_executor() {
    let context = Context::new();
    let zmq_context = zmq::Context::new();

    // Sinew REQ on a tokio task -> libzmq REP.
    let rep = libzmq(&zmq_context, zmq::REP);
    rep.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = rep.get_last_endpoint().unwrap().unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..100 {
            let request = rep.recv_bytes(0).expect("a request");
            rep.send(request.repeat(2), 0).unwrap();
        }
        rep
    });
    let request = context.socket(SocketType::Request).unwrap();
    request.connect(&endpoint).unwrap();
    let mut request = AsyncSocket::new(request);
    runtime().block_on(async move {
        let task = tokio::spawn(async move {
            for index in 0..100u32 {
                request.send(index.to_string()).await.expect("sent");
                let reply = request.recv().await.expect("a reply");
                assert_eq!(reply.frames()[0], index.to_string().repeat(2));
            }
        });
        tokio::time::timeout(DEADLINE, task)
            .await
            .expect("within the deadline")
            .expect("the task");
    });
    drop(server.join().unwrap());

    // libzmq PUSH -> Sinew PULL, and Sinew PUSH -> libzmq PULL, on futures'
    // executor.
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let sinew_endpoint = pull.last_endpoint().unwrap();
    let mut pull = AsyncSocket::new(pull);
    let zmq_pull = libzmq(&zmq_context, zmq::PULL);
    zmq_pull.bind("tcp://127.0.0.1:*").unwrap();
    let zmq_endpoint = zmq_pull.get_last_endpoint().unwrap().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    push.set_send_high_water_mark(10).unwrap();
    push.connect(&zmq_endpoint).unwrap();
    let mut push = AsyncSocket::new(push);
    let zmq_push = libzmq(&zmq_context, zmq::PUSH);
    zmq_push.connect(&sinew_endpoint).unwrap();
    let libzmq_side = std::thread::spawn(move || {
        for index in 0..COUNT {
            zmq_push.send(&index.to_be_bytes()[..], 0).unwrap();
        }
        (0..COUNT)
            .map(|_| {
                zmq_pull
                    .recv_bytes(0)
                    .expect("a message within the deadline")
            })
            .collect::<Vec<_>>()
    });
    within_deadline(move || {
        block_on(async {
            for index in 0..COUNT {
                let message = pull.recv().await.expect("a message");
                assert_eq!(message.frames()[0][..], index.to_be_bytes());
                push.send(index.to_be_bytes().to_vec()).await.expect("sent");
            }
        })
    });
    let echoed = libzmq_side.join().unwrap();
    for (index, message) in (0..COUNT).zip(&echoed) {
        assert_eq!(message[..], index.to_be_bytes());
    }
}

#[test]
fn blocking_and_async_sockets_of_one_context_talk_both_ways() {
    let context = Context::new();
    for endpoint in ["inproc://mixed", "tcp://127.0.0.1:0"] {
        let reply = context.socket(SocketType::Reply).unwrap();
        reply.bind(endpoint).unwrap();
        let bound = reply.last_endpoint().unwrap_or_else(|| endpoint.to_owned());
        let mut reply = AsyncSocket::new(reply);
        let request = context.socket(SocketType::Request).unwrap();
        request.set_receive_timeout(Some(DEADLINE)).unwrap();
        request.connect(&bound).unwrap();
        // The blocking side asks from a thread; the async side answers on tokio.
        let asker = std::thread::spawn(move || {
            for index in 0..50u32 {
                request.send(index.to_be_bytes().to_vec()).unwrap();
                let answer = request.recv().expect("an answer within the deadline");
                assert_eq!(answer.frames()[0][..], (index + 1).to_be_bytes());
            }
            request
        });
        runtime().block_on(async {
            let answers = async {
                for _ in 0..50 {
                    let question = reply.recv().await.unwrap();
                    let number = u32::from_be_bytes(question.frames()[0][..].try_into().unwrap());
                    reply
                        .send((number + 1).to_be_bytes().to_vec())
                        .await
                        .unwrap();
                }
            };
            tokio::time::timeout(DEADLINE, answers)
                .await
                .expect("within the deadline");
        });
        drop(asker.join().unwrap());
    }
}

#[test]
fn tokio_async_fd_watches_the_readiness_descriptor() {
    let context = Context::new();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().unwrap();
    let zmq_context = zmq::Context::new();
    let sender = std::thread::spawn(move || {
        let push = libzmq(&zmq_context, zmq::PUSH);
        push.connect(&endpoint).unwrap();
        for index in 0..COUNT {
            push.send(&index.to_be_bytes()[..], 0).unwrap();
        }
        push
    });
    let received = runtime().block_on(async move {
        // SAFETY: a `SocketFd` owns its descriptor (it holds the signal that
        // owns it) and always returns the same one, so it stays open and the
        // same for as long as the `AsyncFd` holds it.
        let fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(
                pull.fd().unwrap(),
                tokio::io::Interest::READABLE,
            )
        }
        .map_err(|error| error.to_string())
        .unwrap();
        let mut next = 0u32;
        tokio::time::timeout(DEADLINE, async {
            while next < COUNT {
                // ZMQ_FD's rule: look with events, drain, then wait for the fd.
                if pull.events().readable {
                    while let Ok(message) = pull.try_recv() {
                        assert_eq!(message.frames()[0][..], next.to_be_bytes());
                        next += 1;
                    }
                    continue;
                }
                let mut guard = fd.readable().await.unwrap();
                guard.clear_ready();
            }
        })
        .await
        .expect("every message within the deadline");
        next
    });
    assert_eq!(received, COUNT);
    drop(sender.join().unwrap());
}
