//! Runs the pyzmq interop script (`interop-tests/python/cat_interop.py`) against
//! this build's `sinew` binary: libzmq 4.3.5, as bundled by pyzmq, talking to
//! `sinew cat` from outside the Rust test suite.
//!
//! pyzmq is installed by the README's test command (`interop-tests/requirements.txt`).
//! A missing interpreter or module fails this test; it is never skipped.

use std::path::Path;
use std::process::Command;

#[test]
fn pyzmq_against_sinew_cat() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("interop-tests")
        .join("python")
        .join("cat_interop.py");
    let output = Command::new("python3")
        .arg(&script)
        .env("SINEW_BIN", env!("CARGO_BIN_EXE_sinew"))
        .output()
        .expect("python3 runs (install it and `pip install -r interop-tests/requirements.txt`)");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the pyzmq interop script failed:\n{report}"
    );
    assert!(report.contains("\nOK"), "no unittest summary:\n{report}");
}
