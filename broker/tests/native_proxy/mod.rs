//! A man in the middle for the native clients' end-to-end tests: a ROUTER the
//! client connects to, forwarding each request to the broker through a DEALER and
//! each answer back, except the PRODUCE answers it was told to drop (each drop is
//! reported on a channel, so a test waits for it instead of sleeping). Its
//! backend can be pointed at a restarted broker while the client stays connected;
//! told to hold, it keeps the client's requests from the first drop until then, so
//! that a retry surely reaches the restarted broker.
//!
//! It serves one client at a time and never changes a frame it forwards.

#![allow(dead_code)]

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use sinew::{Context, Message, PollEvents, PollItem, SocketType, poll};
use sinew_broker::doors::native::{ResponseBody, decode_response};

use crate::util::TIMEOUT;

enum Control {
    Backend(String),
    Stop,
}

/// A running proxy; stopped when dropped.
pub struct Proxy {
    /// Where the client connects.
    pub endpoint: String,
    control: Sender<Control>,
    /// The correlation id of each PRODUCE answer dropped.
    pub dropped: Receiver<u64>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy to `backend` that drops the first `drop_produce_answers` PRODUCE
    /// answers; with `hold`, requests after the first drop wait for
    /// [`switch_backend`](Self::switch_backend).
    pub fn start(backend: &str, drop_produce_answers: usize, hold: bool) -> Proxy {
        let (control, commands) = mpsc::channel();
        let (dropped_sender, dropped) = mpsc::channel();
        let (endpoint_sender, endpoint) = mpsc::channel();
        let backend = backend.to_owned();
        let thread = std::thread::spawn(move || {
            run(
                &backend,
                drop_produce_answers,
                hold,
                &commands,
                &dropped_sender,
                &endpoint_sender,
            );
        });
        let endpoint = endpoint.recv_timeout(TIMEOUT).expect("the proxy listens");
        Proxy {
            endpoint,
            control,
            dropped,
            thread: Some(thread),
        }
    }

    /// Forwards from now on to `backend` (a restarted broker).
    pub fn switch_backend(&self, backend: &str) {
        self.control
            .send(Control::Backend(backend.to_owned()))
            .expect("the proxy runs");
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    backend: &str,
    mut drops: usize,
    hold: bool,
    commands: &Receiver<Control>,
    dropped: &Sender<u64>,
    endpoint: &Sender<String>,
) {
    let context = Context::new();
    let front = context.socket(SocketType::Router).expect("a ROUTER");
    front.set_linger(Some(Duration::ZERO)).expect("linger");
    front.bind("tcp://127.0.0.1:0").expect("bind");
    endpoint
        .send(front.last_endpoint().expect("an endpoint"))
        .expect("the test waits");
    let connect = |endpoint: &str| {
        let back = context.socket(SocketType::Dealer).expect("a DEALER");
        back.set_linger(Some(Duration::ZERO)).expect("linger");
        back.connect(endpoint).expect("connect");
        back
    };
    let mut back = connect(backend);
    let mut client: Option<Bytes> = None;
    // Requests held from the first drop to the backend switch.
    let mut held: Option<Vec<Message>> = None;
    loop {
        match commands.try_recv() {
            Ok(Control::Backend(endpoint)) => {
                back = connect(&endpoint);
                for message in held.take().unwrap_or_default() {
                    let _ = back.send_with_timeout(message, Some(TIMEOUT));
                }
            }
            Ok(Control::Stop) | Err(mpsc::TryRecvError::Disconnected) => return,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        let mut items = [
            PollItem::new(&front, PollEvents::READABLE),
            PollItem::new(&back, PollEvents::READABLE),
        ];
        // The timeout only bounds how late a control command is seen.
        poll(&mut items, Some(Duration::from_millis(20))).expect("poll");
        let (front_ready, back_ready) = (items[0].is_readable(), items[1].is_readable());
        if front_ready && let Ok(mut message) = front.try_recv() {
            client = message.pop_front();
            match &mut held {
                Some(held) => held.push(message),
                None => {
                    let _ = back.send_with_timeout(message, Some(TIMEOUT));
                }
            }
        }
        if back_ready && let Ok(message) = back.try_recv() {
            if drops > 0
                && let Ok(response) = decode_response(message.frames())
                && matches!(response.body, ResponseBody::Produce(_))
            {
                drops -= 1;
                if hold && held.is_none() {
                    held = Some(Vec::new());
                }
                let _ = dropped.send(response.correlation_id);
                continue;
            }
            if let Some(client) = &client {
                let mut message: Message = message;
                message.push_front(client.clone());
                let _ = front.send_with_timeout(message, Some(TIMEOUT));
            }
        }
    }
}
