//! `sinew keygen`: a fresh CURVE key pair, as libzmq's `curve_keygen` tool makes
//! one: `public <Z85>` and `secret <Z85>` on two lines, 40 characters each.
//!
//! The secret goes to standard output only, for the caller to keep; this file must
//! never write it anywhere else (no log, no file, no error message).

use clap::Args;
use sinew::curve::KeyPair;
use std::io::Write;
use std::process::ExitCode;

/// `sinew keygen` takes no arguments.
#[derive(Debug, Args)]
pub struct KeygenArgs {}

/// Prints a fresh key pair.
pub fn run(_: KeygenArgs) -> ExitCode {
    let pair = match KeyPair::generate() {
        Ok(pair) => pair,
        Err(error) => {
            eprintln!("sinew: {error}");
            return ExitCode::FAILURE;
        }
    };
    let secret = pair.secret().to_z85();
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "public {}", pair.public())
        .and_then(|()| writeln!(out, "secret {}", secret.as_str()))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`sinew keygen | head -1`) is not a failure.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sinew: cannot write the key pair: {error}");
            ExitCode::FAILURE
        }
    }
}
