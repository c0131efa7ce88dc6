//! `sinew log` as scripts use it: append from standard input, read, verify and
//! info, their exit codes, that the read-only commands leave the directory exactly
//! as it was, that offsets printed by `append` survive SIGKILL, that `compact`
//! keeps the newest record per key and that `append` applies retention settings.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct TempDirectory(PathBuf);

impl TempDirectory {
    fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!("sinew-cli-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDirectory(path)
    }

    fn log(&self) -> PathBuf {
        self.0.join("log")
    }
}

impl Drop for TempDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sinew() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sinew"))
}

fn run(arguments: &[&str], directory: &Path, input: &str) -> Output {
    let mut child = sinew()
        .args(["log"])
        .args(arguments)
        .arg("--dir")
        .arg(directory)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sinew");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for sinew")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file's name and bytes.
fn snapshot(directory: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(directory)
        .expect("list")
        .map(|entry| {
            let entry = entry.expect("entry");
            let bytes = std::fs::read(entry.path()).expect("read");
            (entry.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn append_then_read_verify_and_info() {
    let temporary = TempDirectory::new("roundtrip");
    let directory = temporary.log();
    let output = run(
        &["append", "--key-delimiter", ":"],
        &directory,
        "alice:hello\nbob:world\nno key here\n",
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "0\n1\n2\n");
    let output = run(&["append", "--fsync", "never"], &directory, "more\n");
    assert_eq!(stdout(&output), "3\n");

    let before = snapshot(&directory);
    let output = run(&["read"], &directory, "");
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        "0\thello\n1\tworld\n2\tno key here\n3\tmore\n"
    );
    let output = run(
        &["read", "--from", "1", "--count", "2", "--keys"],
        &directory,
        "",
    );
    assert_eq!(stdout(&output), "1\tbob\tworld\n2\t\tno key here\n");
    let output = run(&["read", "--from", "4"], &directory, "");
    assert!(output.status.success());
    assert_eq!(stdout(&output), "");
    let output = run(&["read", "--from", "9"], &directory, "");
    assert!(
        !output.status.success(),
        "an offset past the end is an error"
    );

    let output = run(&["verify"], &directory, "");
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("4 records"), "{}", stdout(&output));
    let output = run(&["info"], &directory, "");
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("clean shutdown: yes"), "{text}");
    assert!(text.contains("end offset: 4"), "{text}");
    assert!(text.contains("00000000000000000000.log"), "{text}");
    assert_eq!(
        snapshot(&directory),
        before,
        "read, verify and info changed the directory"
    );
}

#[test]
fn verify_exits_1_on_damage_and_read_stops_before_it() {
    let temporary = TempDirectory::new("damage");
    let directory = temporary.log();
    let lines: String = (0..50).map(|line| format!("line {line}\n")).collect();
    assert!(run(&["append"], &directory, &lines).status.success());
    let segment = directory.join("00000000000000000000.log");
    let mut bytes = std::fs::read(&segment).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&segment, bytes).expect("write");
    let before = snapshot(&directory);
    let output = run(&["verify"], &directory, "");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stdout(&output).contains("problem:"), "{}", stdout(&output));
    let output = run(&["read"], &directory, "");
    assert!(!output.status.success(), "reading into damage is reported");
    let info = run(&["info"], &directory, "");
    assert!(info.status.success());
    assert_eq!(snapshot(&directory), before);
}

#[test]
fn printed_offsets_survive_sigkill() {
    let temporary = TempDirectory::new("kill");
    let directory = temporary.log();
    let mut sequence = 0u64;
    let mut acknowledged: Vec<u64> = Vec::new();
    for kill in 0..10u64 {
        let mut child = sinew()
            .args(["log", "append", "--dir"])
            .arg(&directory)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sinew");
        let mut stdin = child.stdin.take().expect("stdin");
        let first = sequence;
        let feeder = std::thread::spawn(move || {
            let mut next = first;
            while writeln!(stdin, "value {next:012}").is_ok() {
                next += 1;
                if next - first > 100_000 {
                    break;
                }
            }
            next
        });
        let output = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        let lines = std::thread::spawn(move || {
            for line in BufReader::new(output).lines() {
                let Ok(line) = line else { break };
                if let Ok(offset) = line.trim().parse::<u64>()
                    && sender.send(offset).is_err()
                {
                    break;
                }
            }
        });
        let wanted = 1 + (kill * 7) % 30;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = 0;
        while seen < wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            let offset = receiver
                .recv_timeout(left)
                .unwrap_or_else(|error| panic!("kill {kill}: no acknowledgement: {error}"));
            acknowledged.push(offset);
            seen += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        lines.join().expect("stdout reader");
        acknowledged.extend(receiver.try_iter());
        sequence = feeder.join().expect("feeder");
        // Every printed offset is there, and the values run in the order they were fed.
        let output = run(&["read"], &directory, "");
        assert!(output.status.success(), "kill {kill}: {output:?}");
        let mut stored = Vec::new();
        for line in stdout(&output).lines() {
            let (offset, value) = line.split_once('\t').expect("OFFSET<TAB>VALUE");
            let offset: u64 = offset.parse().expect("offset");
            assert_eq!(
                offset,
                stored.len() as u64,
                "kill {kill}: offsets out of order"
            );
            let number: u64 = value
                .strip_prefix("value ")
                .and_then(|number| number.parse().ok())
                .unwrap_or_else(|| panic!("kill {kill}: a value that was never fed: {value}"));
            stored.push(number);
        }
        assert!(
            stored.windows(2).all(|pair| pair[0] < pair[1]),
            "kill {kill}: values out of order"
        );
        for offset in &acknowledged {
            assert!(
                (*offset as usize) < stored.len(),
                "kill {kill}: offset {offset} was printed, then lost"
            );
        }
    }
    // The log still takes appends, and verifies clean afterwards.
    let output = run(&["append"], &directory, "last\n");
    assert!(output.status.success(), "{output:?}");
    assert!(run(&["verify"], &directory, "").status.success());
}

fn info_field(directory: &Path, field: &str) -> u64 {
    let output = run(&["info"], directory, "");
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

#[test]
fn compact_keeps_the_newest_record_per_key() {
    let temporary = TempDirectory::new("compact");
    let directory = temporary.log();
    let output = run(
        &["append", "--key-delimiter", ":"],
        &directory,
        "a:1\nb:1\na:2\nc:1\nb:2\n",
    );
    assert_eq!(stdout(&output), "0\n1\n2\n3\n4\n");
    let output = run(&["compact"], &directory, "");
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output).contains("removed 2 superseded records"),
        "{}",
        stdout(&output)
    );
    let output = run(&["read", "--keys"], &directory, "");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "2\ta\t2\n3\tc\t1\n4\tb\t2\n");
    assert!(run(&["verify"], &directory, "").status.success());
    // Offsets never change: the next record follows the old end.
    let output = run(&["append", "--key-delimiter", ":"], &directory, "a:3\n");
    assert_eq!(stdout(&output), "5\n");
    let output = run(&["compact"], &directory, "");
    assert!(output.status.success(), "{output:?}");
    let output = run(&["read", "--keys"], &directory, "");
    assert_eq!(stdout(&output), "3\tc\t1\n4\tb\t2\n5\ta\t3\n");
    // Compacting an empty or missing log is harmless.
    let empty = temporary.0.join("empty");
    assert!(run(&["compact"], &empty, "").status.success());
}

#[test]
fn append_applies_retention_by_size() {
    let temporary = TempDirectory::new("retention-bytes");
    let directory = temporary.log();
    // Each run appends its lines as one batch; runs of 25 lines roll segments.
    for run_number in 0..12 {
        let lines: String = (run_number * 25..run_number * 25 + 25)
            .map(|line| format!("line {line:05}\n"))
            .collect();
        let output = run(
            &[
                "append",
                "--segment-bytes",
                "1000",
                "--retention-bytes",
                "3000",
                "--fsync",
                "never",
            ],
            &directory,
            &lines,
        );
        assert!(output.status.success(), "{output:?}");
    }
    let start = info_field(&directory, "start offset:");
    assert!(start > 0, "nothing was deleted");
    let segments = std::fs::read_dir(&directory)
        .expect("list")
        .filter(|entry| {
            entry
                .as_ref()
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .ends_with(".log")
        })
        .count();
    assert!(segments >= 3, "{segments} segments left");
    // Reading before the start says where the log starts now.
    let output = run(&["read", "--from", "0"], &directory, "");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains(&format!("earliest available is {start}")),
        "{error}"
    );
    let output = run(&["read"], &directory, "");
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert_eq!(
        text.lines().next(),
        Some(format!("{start}\tline {start:05}").as_str())
    );
    assert_eq!(text.lines().count() as u64, 300 - start);
    assert!(run(&["verify"], &directory, "").status.success());
}

#[test]
fn append_applies_retention_by_age() {
    let temporary = TempDirectory::new("retention-ms");
    let directory = temporary.log();
    for run_number in 0..4 {
        let lines: String = (run_number * 25..run_number * 25 + 25)
            .map(|line| format!("line {line:05}\n"))
            .collect();
        let output = run(
            &["append", "--segment-bytes", "500", "--fsync", "never"],
            &directory,
            &lines,
        );
        assert!(output.status.success(), "{output:?}");
    }
    // An hour keeps everything.
    let output = run(&["append", "--retention-ms", "3600000"], &directory, "");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(info_field(&directory, "start offset:"), 0);
    // Zero deletes every sealed segment as soon as the clock has moved past the
    // records' timestamps (a millisecond at most; the loop only covers that).
    let segments = || -> Vec<u64> {
        let mut bases: Vec<u64> = std::fs::read_dir(&directory)
            .expect("list")
            .filter_map(|entry| {
                let name = entry.expect("entry").file_name();
                let name = name.to_string_lossy();
                name.strip_suffix(".log")?.parse().ok()
            })
            .collect();
        bases.sort_unstable();
        bases
    };
    assert!(segments().len() > 1, "{:?}", segments());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let output = run(&["append", "--retention-ms", "0"], &directory, "");
        assert!(output.status.success(), "{output:?}");
        if segments().len() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "retention never deleted");
    }
    // Only the active segment is left, and the log starts at its base.
    let start = segments()[0];
    assert!(start > 0);
    assert_eq!(info_field(&directory, "start offset:"), start);
    let output = run(&["read"], &directory, "");
    assert_eq!(stdout(&output).lines().count() as u64, 100 - start);
    let output = run(&["append"], &directory, "next\n");
    assert_eq!(stdout(&output), "100\n");
}
