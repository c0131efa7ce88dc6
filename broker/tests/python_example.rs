//! The Python example `examples/python/native_topics.py` (pyzmq, written from
//! `broker/docs/protocol.md` alone) against the real `sinew-broker` binary: its
//! printed offsets and records must be what it produced, and what the broker
//! holds, read back independently through the codec's client side (so a record
//! the example encoded wrongly, or decoded wrongly, fails the test). A second run
//! on the same topic uses the existing topic and goes on from offset 3; a bad
//! topic name makes it print the broker's error code and message and exit 1.
//!
//! The test lives in the broker's package because only it can run the broker
//! binary (`CARGO_BIN_EXE_sinew-broker`). pyzmq comes from
//! `interop-tests/requirements.txt`; without it the test fails, it never skips.
//! Every wait has a deadline: the example's own (10 s per response) and a
//! watchdog that kills it after 60 s.

mod native_client;
mod util;

use native_client::{Client, fetch};
use sinew_broker::doors::native::{FetchData, FetchMode, Position, ResponseBody};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use util::sinew_broker;

/// The example, found from this package's directory.
fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/python/native_topics.py")
}

/// Runs the example with `args`; kills it and fails if it outlives 60 seconds.
fn run_example(args: &[&str]) -> Output {
    let child = Command::new("python3")
        .arg(example_path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let pid = child.id().to_string();
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match outcome.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.expect("the example's output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!("the example did not finish within 60 seconds");
        }
    }
}

/// What the example produces, as Python prints it: key, value, headers.
const PRODUCED: [(&str, &str, &str); 3] = [
    ("b'user-1'", "b'hello'", "[('trace', b'ab')]"),
    ("b'user-2'", "b''", "[('trace', b'cd'), ('origin', None)]"),
    ("None", "b'no key'", "[]"),
];

/// The records the broker holds in partition 0 of `name`, each as
/// (offset, timestamp, key, value, headers) with Python's spelling, fetched by
/// the Rust codec rather than by the example.
fn stored(client: &mut Client, name: &str) -> Vec<(u64, i64, String, String, String)> {
    let python_bytes = |bytes: Option<&[u8]>| match bytes {
        None => "None".to_owned(),
        // The example's records are printable ASCII without quotes or
        // backslashes, which Python prints as they are.
        Some(bytes) => format!("b'{}'", String::from_utf8_lossy(bytes)),
    };
    let ResponseBody::Fetch(result) =
        client.call(fetch(name, Position::Earliest, FetchMode::Records))
    else {
        panic!("expected a fetch result");
    };
    let FetchData::Records(records) = result.data else {
        panic!("expected records");
    };
    records
        .iter()
        .map(|record| {
            let headers: Vec<String> = record
                .headers
                .iter()
                .map(|header| {
                    format!(
                        "('{}', {})",
                        header.name(),
                        python_bytes(header.value().map(|value| &value[..]))
                    )
                })
                .collect();
            (
                record.offset,
                record.timestamp,
                python_bytes(record.key.as_deref()),
                python_bytes(record.value.as_deref()),
                format!("[{}]", headers.join(", ")),
            )
        })
        .collect()
}

fn record_line(offset: u64, timestamp: i64, key: &str, value: &str, headers: &str) -> String {
    format!(
        "record offset={offset} timestamp={timestamp} key={key} value={value} headers={headers}"
    )
}

#[test]
fn the_python_example_produces_and_fetches_back_its_records() {
    let server = sinew_broker(&[]);
    let endpoint = server.native.clone().expect("the native endpoint");

    let first = run_example(&[&endpoint, "python-demo"]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        first.status.success(),
        "the example failed:\n{stdout}\n{stderr}"
    );

    // What the broker holds is what the example meant to produce.
    let mut client = Client::connect(&server);
    let held = stored(&mut client, "python-demo");
    let contents: Vec<(u64, &str, &str, &str)> = held
        .iter()
        .map(|(offset, _, key, value, headers)| {
            (*offset, key.as_str(), value.as_str(), headers.as_str())
        })
        .collect();
    let expected: Vec<(u64, &str, &str, &str)> = (0..)
        .zip(PRODUCED)
        .map(|(offset, (key, value, headers))| (offset, key, value, headers))
        .collect();
    assert_eq!(contents, expected);

    // And the example printed exactly that, timestamps included.
    let mut lines = vec![
        "topic python-demo: created".to_owned(),
        "produced partition 0 offsets 0..2 acknowledged durable".to_owned(),
    ];
    lines.extend(held.iter().map(|(offset, timestamp, key, value, headers)| {
        record_line(*offset, *timestamp, key, value, headers)
    }));
    assert_eq!(stdout.lines().collect::<Vec<_>>(), lines, "{stderr}");

    // Again on the same topic: it is used as it is, the new records follow the old,
    // and the fetch from the earliest offset prints all six.
    let second = run_example(&[&endpoint, "python-demo"]);
    let stdout = String::from_utf8_lossy(&second.stdout);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        second.status.success(),
        "the second run failed:\n{stdout}\n{stderr}"
    );
    let held = stored(&mut client, "python-demo");
    assert_eq!(held.len(), 6, "{held:?}");
    let mut lines = vec![
        "topic python-demo: exists, using it".to_owned(),
        "produced partition 0 offsets 3..5 acknowledged durable".to_owned(),
    ];
    lines.extend(held.iter().map(|(offset, timestamp, key, value, headers)| {
        record_line(*offset, *timestamp, key, value, headers)
    }));
    assert_eq!(stdout.lines().collect::<Vec<_>>(), lines, "{stderr}");
    let repeated: Vec<(&str, &str, &str)> = held[3..]
        .iter()
        .map(|(_, _, key, value, headers)| (key.as_str(), value.as_str(), headers.as_str()))
        .collect();
    assert_eq!(repeated, PRODUCED);

    // An error response: its code and message, and exit status 1.
    let refused = run_example(&[&endpoint, "no spaces allowed"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(refused.stdout.is_empty(), "{stderr}");
    assert!(stderr.starts_with("failed: error 23 "), "{stderr}");
    assert!(
        stderr.contains("Topic name \"no spaces allowed\" is illegal"),
        "{stderr}"
    );
}
