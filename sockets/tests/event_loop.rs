//! One mio loop, owned by the test, serves a Sinew ROUTER socket (through its
//! readiness descriptor) and a raw TCP listener together; idle, it does not wake
//! and the process uses no CPU.
//!
//! This is the only test in its binary, so the process's CPU time is this
//! test's: the idle window measures the I/O thread and the loop, not other
//! tests. The window's length only bounds how long we look; nothing is inferred
//! from a short silence: the loop's wake-ups are counted, and CPU time is read
//! from the kernel.

use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use sinew::{Context, Message, SocketType};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

const ROUTER: Token = Token(0);
const LISTENER: Token = Token(1);
const STREAM: Token = Token(2);
const DEADLINE: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(3);

/// The loop: a ROUTER answering "pong" to every request and a TCP echo server.
struct Server {
    poll: Poll,
    router: sinew::Socket,
    listener: TcpListener,
    stream: Option<TcpStream>,
    /// Requests answered, and bytes echoed.
    answered: usize,
    echoed: usize,
}

impl Server {
    /// One turn of the loop; returns how many events woke it.
    fn turn(&mut self, events: &mut Events, timeout: Duration) -> usize {
        self.poll.poll(events, Some(timeout)).expect("poll");
        let woken = events.iter().count();
        let tokens: Vec<Token> = events.iter().map(|event| event.token()).collect();
        for token in tokens {
            match token {
                ROUTER => self.serve_router(),
                LISTENER => {
                    let (mut stream, _) = self.listener.accept().expect("accept");
                    self.poll
                        .registry()
                        .register(&mut stream, STREAM, Interest::READABLE)
                        .expect("register the stream");
                    self.stream = Some(stream);
                }
                STREAM => self.echo(),
                _ => unreachable!("only three tokens are registered"),
            }
        }
        woken
    }

    /// ZMQ_FD's rule: on each signal, look with `events`, then receive until
    /// `WouldBlock`.
    fn serve_router(&mut self) {
        while self.router.events().readable {
            loop {
                match self.router.try_recv() {
                    Ok(request) => {
                        let id = request.frames()[0].clone();
                        let reply = Message::from_frames([id, bytes::Bytes::from_static(b"pong")]);
                        self.router.try_send(reply).expect("a ROUTER never blocks");
                        self.answered += 1;
                    }
                    Err(sinew::Error::WouldBlock) => break,
                    Err(error) => panic!("{error}"),
                }
            }
        }
    }

    fn echo(&mut self) {
        let Some(stream) = &mut self.stream else {
            return;
        };
        let mut buffer = [0u8; 1024];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => return,
                Ok(count) => {
                    stream.write_all(&buffer[..count]).expect("echo");
                    self.echoed += count;
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(error) => panic!("{error}"),
            }
        }
    }

    /// Turns until `done` holds, failing after the deadline.
    fn until(&mut self, events: &mut Events, done: impl Fn(&Server) -> bool) {
        let start = std::time::Instant::now();
        while !done(self) {
            assert!(start.elapsed() < DEADLINE, "the loop did not get there");
            self.turn(events, DEADLINE);
        }
    }
}

/// This process's CPU time so far, in nanoseconds: the sum over its threads of
/// the time each spent on a CPU (`/proc/self/task/*/schedstat`, first field).
fn cpu_nanoseconds() -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = entry.expect("a thread").path().join("schedstat");
        // A thread that ended between the listing and the read no longer counts.
        if let Ok(text) = std::fs::read_to_string(path) {
            let first = text.split_whitespace().next().unwrap_or("0");
            total += first.parse::<u64>().expect("nanoseconds on a CPU");
        }
    }
    total
}

#[test]
fn one_mio_loop_serves_a_router_and_a_tcp_listener_and_sleeps_when_idle() {
    let context = Context::new();
    let router = context.socket(SocketType::Router).unwrap();
    router.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = router.last_endpoint().unwrap();
    let fd = router.fd().unwrap();
    let poll = Poll::new().unwrap();
    let raw = fd.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&raw), ROUTER, Interest::READABLE)
        .unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let mut server = Server {
        poll,
        router,
        listener,
        stream: None,
        answered: 0,
        echoed: 0,
    };
    let mut events = Events::with_capacity(16);

    // A DEALER asks three times; a plain TCP client sends a line.
    let dealer = context.socket(SocketType::Dealer).unwrap();
    dealer.connect(&endpoint).unwrap();
    let mut client = std::net::TcpStream::connect(address).unwrap();
    client.write_all(b"hello\n").unwrap();
    for _ in 0..3 {
        dealer.send("ping").unwrap();
    }
    server.until(&mut events, |server| {
        server.answered == 3 && server.echoed == 6
    });
    for _ in 0..3 {
        assert_eq!(dealer.recv().unwrap().frames()[0], "pong");
    }
    let mut line = [0u8; 6];
    client.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"hello\n");

    // Idle, with both peers still connected: the loop's poll returns with no
    // event, and the process (the loop and Sinew's I/O thread) uses no CPU: about
    // 0.1 ms when measured. An I/O thread made to poll every millisecond used
    // 58 ms in 2 s, and fails this.
    let before = cpu_nanoseconds();
    let woken = server.turn(&mut events, IDLE);
    let used = cpu_nanoseconds() - before;
    eprintln!("idle for {IDLE:?}: {woken} wake-ups, {used} ns of CPU");
    assert_eq!(woken, 0, "idle, nothing woke the loop");
    assert!(
        used < 2_000_000,
        "idle, the process used {used} ns of CPU in {IDLE:?}"
    );

    // And it still serves both after the pause.
    dealer.send("ping").unwrap();
    client.write_all(b"again\n").unwrap();
    server.until(&mut events, |server| {
        server.answered == 4 && server.echoed == 12
    });
    assert_eq!(dealer.recv().unwrap().frames()[0], "pong");
    let mut line = [0u8; 6];
    client.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"again\n");
}
