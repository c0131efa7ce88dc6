//! Runnable topologies, one program per pattern, under `src/bin/`.
//!
//! Each example must run as written with one `cargo run` command and show one
//! pattern clearly; shared helpers (argument parsing, logging) live here.
