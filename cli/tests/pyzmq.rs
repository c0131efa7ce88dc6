//! Runs the pyzmq interop scripts (`interop-tests/python/*.py`) against this
//! build's `sinew` binary: libzmq 4.3.5, as bundled by pyzmq, talking to `sinew
//! cat` from outside the Rust test suite.
//!
//! pyzmq is installed by the README's test command (`interop-tests/requirements.txt`).
//! A missing interpreter or module fails these tests; they are never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("interop-tests")
        .join("python")
        .join(name)
}

fn run(name: &str) {
    let output = Command::new("python3")
        .arg(script(name))
        .env("SINEW_BIN", env!("CARGO_BIN_EXE_sinew"))
        .output()
        .expect("python3 runs (install it and `pip install -r interop-tests/requirements.txt`)");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{name} failed:\n{report}");
    assert!(
        report.contains("\nOK"),
        "{name}: no unittest summary:\n{report}"
    );
}

#[test]
fn pyzmq_against_sinew_cat_pipeline_and_pair() {
    run("cat_interop.py");
}

#[test]
fn pyzmq_against_sinew_cat_request_reply() {
    run("cat_request_reply.py");
}

#[test]
fn hostile_raw_peers_against_sinew_cat_and_libzmq() {
    run("hostile_memory.py");
}
