//! Devices and reliability patterns composed only from `sinew`'s public API.
//!
//! Today: [`proxy`], the device that joins a frontend and a backend socket (ROUTER
//! to DEALER for a shared queue, XSUB to XPUB for a forwarder, PULL to PUSH for a
//! streamer), as `zmq_proxy` does. Later: the reliability patterns (lazy pirate,
//! paranoid pirate, majordomo). This crate must never reach into `sinew`'s
//! internals: anything it needs that the public API lacks is a gap in the toolkit,
//! fixed there.

pub mod proxy;

pub use proxy::{proxy, proxy_with_capture};
