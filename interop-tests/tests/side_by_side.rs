//! A smoke test of the side-by-side harness: `--quick --json` runs a slice of the
//! matrix (every transport and workload, two sizes) with Sinew, libzmq and the raw
//! floor, and prints one JSON object with every row, both floors and the targets.
//!
//! It must never assert on a figure beyond "positive and finite": it checks that
//! the instrument works, not how fast anything is.

use serde_json::Value;
use std::process::Command;

fn positive(value: &Value, context: &str) {
    let number = value
        .as_f64()
        .unwrap_or_else(|| panic!("{context}: not a number: {value}"));
    assert!(number.is_finite() && number > 0.0, "{context}: {number}");
}

#[test]
fn quick_run_prints_every_row_as_json() {
    let output = Command::new(env!("CARGO_BIN_EXE_side_by_side"))
        .args(["--quick", "--json", "--sizes", "1,65536"])
        .output()
        .expect("run side_by_side");
    assert!(
        output.status.success(),
        "side_by_side failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let rows = report["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3 * 2 * 2, "transports x sizes x workloads");
    for row in rows {
        let context = format!("{} {} {}", row["transport"], row["size"], row["workload"]);
        for side in ["sinew", "libzmq"] {
            match row["workload"].as_str() {
                Some("thr") => positive(&row[side]["msgs_per_sec"]["median"], &context),
                Some("lat") => positive(&row[side]["p50_us"]["median"], &context),
                other => panic!("unknown workload {other:?}"),
            }
        }
        positive(&row["ratio"], &context);
    }
    let floors = report["floors"].as_array().expect("floors");
    assert_eq!(floors.len(), 2, "raw TCP and raw Unix socket");
    for floor in floors {
        positive(&floor["bandwidth_mb_per_sec"]["median"], "raw bandwidth");
        positive(&floor["ping_pong"]["p50_us"]["median"], "raw ping-pong");
    }
    assert!(!report["targets"].as_array().expect("targets").is_empty());
    assert_eq!(
        report["machine"]["libzmq"].as_str().map(|text| &text[..5]),
        Some("4.3.4")
    );
}
