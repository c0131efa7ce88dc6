//! Devices and reliability patterns composed only from `sinew`'s public API.
//!
//! This crate will hold the proxy (XSUB/XPUB and ROUTER/DEALER devices) and the
//! well-known reliability patterns (lazy pirate, paranoid pirate, majordomo).
//! It must never reach into `sinew`'s internals: anything it needs that the public
//! API lacks is a gap in the toolkit, fixed there.
