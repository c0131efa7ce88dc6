//! Sinew: a ZeroMQ-compatible, brokerless socket toolkit that speaks ZMTP 3.x byte
//! for byte, so libzmq peers in any language interoperate with it.
//!
//! # A five-minute tour
//!
//! ```
//! use sinew::{Context, SocketType};
//!
//! let context = Context::new();
//! let pull = context.socket(SocketType::Pull)?;
//! pull.bind("tcp://127.0.0.1:0")?;
//! let endpoint = pull.last_endpoint().expect("bound");
//!
//! let push = context.socket(SocketType::Push)?;
//! push.connect(&endpoint)?;
//! push.send("hello")?;
//! assert_eq!(pull.recv()?.frames()[0], "hello");
//! # Ok::<(), sinew::Error>(())
//! ```
//!
//! - A [`Context`] owns the I/O threads; a [`Socket`] belongs to one thread at a
//!   time; a [`Message`] is one or more frames, sent and received whole.
//! - Every ZeroMQ socket type: PAIR, PUSH/PULL, REQ/REP, DEALER/ROUTER, PUB/SUB,
//!   XPUB/XSUB and STREAM (raw TCP and ipc, for plain byte-stream peers), with
//!   libzmq 4.3's semantics (what happens at the high-water mark, envelopes,
//!   routing ids, subscription forwarding).
//! - Endpoints are `tcp://host:port`, `ipc://path` (or `ipc://@abstract`) and
//!   `inproc://name`; connecting before the peer binds works and reconnects.
//! - Options are typed methods on `Socket`, each naming its libzmq option.
//! - The wire protocol lives in [`zmtp`], a sans-IO state machine.
// `unsafe` is denied everywhere but in transport/send_queue.rs, for one ioctl no
// dependency wraps; in CURVE's SSE2 and AVX2 Salsa20 modules
// (zmtp/mechanism/curve/secretbox.rs), for the intrinsics; and in pipe/queue.rs,
// the pipes' chunked queue (checked by Miri: `cargo +nightly miri test -p sinew
// --lib pipe::queue`).
#![deny(unsafe_code)]
// A failed send hands the message back by value, as libzmq leaves it with its
// caller; boxing it would allocate on every "would block".
#![allow(clippy::result_large_err)]

pub mod asynchronous;
mod command;
pub mod context;
pub mod curve;
mod engine;
pub mod error;
pub mod event;
pub mod message;
pub mod monitor;
pub mod options;
pub mod pipe;
pub mod poll;
mod raw;
mod reactor;
pub mod readiness;
pub mod routing;
mod session;
pub mod socket;
pub mod transport;
pub mod z85;
pub mod zap;
pub mod zap_handler;
pub mod zmtp;

pub use asynchronous::AsyncSocket;
pub use context::Context;
pub use error::{Error, Result, SendError};
pub use event::{EventMask, SocketEvent};
pub use message::{Message, Properties};
pub use monitor::{Monitor, MonitorEvent};
pub use options::{RouterNotify, TypeOption};
pub use poll::{PollEvents, PollItem, poll};
pub use readiness::SocketFd;
pub use routing::subscriptions::SubscriptionLimit;
pub use socket::Socket;
pub use zap_handler::ZapHandler;
pub use zmtp::SocketType;
