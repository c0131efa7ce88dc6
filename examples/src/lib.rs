//! Runnable topologies, one program per pattern, under `src/bin/`.
//!
//! Each example must run as written with one `cargo run` command and show one
//! pattern clearly; shared helpers (argument parsing, logging) live here.

/// The value of a numeric command-line option `name` (as in `--workers 4`), or
/// `default`; exits with a one-line error if it is not a number.
pub fn number_option(name: &str, default: usize) -> usize {
    let arguments: Vec<String> = std::env::args().collect();
    arguments
        .iter()
        .position(|argument| argument == name)
        .and_then(|index| arguments.get(index + 1))
        .map(|value| {
            value.parse().unwrap_or_else(|_| {
                eprintln!("{name} takes a number");
                std::process::exit(1)
            })
        })
        .unwrap_or(default)
}
