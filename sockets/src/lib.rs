//! Sinew: a ZeroMQ-compatible, brokerless socket toolkit.
#![forbid(unsafe_code)]

pub mod zmtp;
