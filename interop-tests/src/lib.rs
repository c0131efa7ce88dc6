//! Shared helpers for the interop tests under `tests/`, which run Sinew against
//! real libzmq (the `zmq` crate builds libzmq 4.3.4 from vendored source; pyzmq
//! bundles libzmq 4.3.5 with CURVE).
//!
//! Tests here must never skip silently: a missing peer is a failure, and every known
//! difference from libzmq is written down in `KNOWN_DIFFERENCES.md`.
