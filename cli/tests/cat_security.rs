//! `sinew cat` with CURVE keys from `sinew keygen`, against libzmq 4.3.5
//! (pyzmq, `interop-tests/python/security_peer.py`), from outside the library:
//! a libzmq CURVE client delivers to `sinew cat pull --curve-server`, `sinew cat
//! push` with CURVE client keys delivers a multipart message to a libzmq CURVE
//! server, and one holding the wrong server key is refused (libzmq's monitor
//! says so); `--curve-allow` admits only the listed client key and
//! `--plain-allow` only the right password (libzmq's monitors say which were
//! refused, and only the admitted client's message comes out). Every wait has
//! a deadline.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

fn sinew() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sinew"))
}

/// A key pair from `sinew keygen`: (public, secret), Z85.
fn keygen() -> (String, String) {
    let output = sinew().arg("keygen").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    (field("public "), field("secret "))
}

/// A process's stdout lines, as they come.
fn lines(child: &mut Child) -> Receiver<String> {
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

fn libzmq(arguments: &[&str]) -> (Child, Receiver<String>) {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-tests/python/security_peer.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs (pip install -r interop-tests/requirements.txt)");
    let lines = lines(&mut child);
    (child, lines)
}

/// Ends a pushing peer after its handshake `outcome`. An admitted peer closes its
/// socket and exits once its "hello" is written (its linger bounds that), so it
/// is waited for: killing it at once could stop the message before it left (a CI
/// run failed so). A refused one is killed.
fn end_peer(mut peer: Child, outcome: &str) {
    if outcome.starts_with("HANDSHAKE_SUCCEEDED") {
        assert!(peer.wait().unwrap().success());
    } else {
        let _ = peer.kill();
        let _ = peer.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for a process to end (a thread that owns it reports the end), killing
/// it at the deadline; its exit status.
fn finish(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let (sender, ended) = channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait());
    });
    let Ok(status) = ended.recv_timeout(DEADLINE) else {
        let _ = Command::new("kill").args(["-9", &pid]).status();
        panic!("a process outlived its deadline");
    };
    status.unwrap()
}

#[test]
fn a_libzmq_curve_client_delivers_to_sinew_cat_pull() {
    let (server_public, server_secret) = keygen();
    let (client_public, client_secret) = keygen();
    let port = free_port();
    let mut cat = sinew()
        .args(["cat", "pull", "--bind", &format!("tcp://127.0.0.1:{port}")])
        .args(["--curve-server", "--curve-secret-key", &server_secret])
        .args(["--count", "2", "--timeout", "15000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let received = lines(&mut cat);
    let (mut peer, said) = libzmq(&[
        "curve-push",
        &client_public,
        &client_secret,
        &server_public,
        &port.to_string(),
    ]);
    assert_eq!(received.recv_timeout(DEADLINE).unwrap(), "one||three");
    let large = received.recv_timeout(DEADLINE).unwrap();
    assert_eq!(large.len(), 1 << 20);
    assert!(finish(cat).success());
    assert_eq!(said.recv_timeout(DEADLINE).unwrap(), "sent");
    let _ = peer.kill();
}

#[test]
fn sinew_cat_push_delivers_to_a_libzmq_curve_server_and_a_wrong_key_is_refused() {
    let (server_public, server_secret) = keygen();
    let (client_public, client_secret) = keygen();
    let (mut peer, said) = libzmq(&["curve-pull", &server_public, &server_secret, "1"]);
    let port = said.recv_timeout(DEADLINE).unwrap();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let cat = sinew()
        .args(["cat", "push", "--connect", &endpoint, "--send", "a|b|c"])
        .args(["--curve-server-key", &server_public])
        .args(["--curve-public-key", &client_public])
        .args(["--curve-secret-key", &client_secret])
        .spawn()
        .unwrap();
    assert_eq!(said.recv_timeout(DEADLINE).unwrap(), "got 3 1,1,1");
    assert_eq!(said.recv_timeout(DEADLINE).unwrap(), "done");
    assert!(finish(cat).success());
    let _ = peer.kill();

    // With another server's public key, libzmq cannot open the HELLO.
    let (stranger_public, _) = keygen();
    let (mut watcher, said) = libzmq(&["curve-pull-watch", &server_public, &server_secret]);
    let port = said.recv_timeout(DEADLINE).unwrap();
    let mut cat = sinew()
        .args([
            "cat",
            "push",
            "--connect",
            &format!("tcp://127.0.0.1:{port}"),
        ])
        .args(["--send", "secret"])
        .args(["--curve-server-key", &stranger_public])
        .args(["--curve-secret-key", &client_secret])
        .spawn()
        .unwrap();
    assert_eq!(
        said.recv_timeout(DEADLINE).unwrap(),
        format!("event HANDSHAKE_FAILED_PROTOCOL {}", 0x1100_0001)
    );
    let _ = cat.kill();
    let _ = cat.wait();
    let _ = watcher.kill();
}

#[test]
fn a_key_that_is_not_z85_is_one_clear_line() {
    let output = sinew()
        .args(["cat", "pull", "--bind", "tcp://127.0.0.1:0"])
        .args(["--curve-server", "--curve-secret-key", "not a key"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--curve-secret-key"), "{stderr}");
}

/// `sinew cat pull` bound on a free port with `flags`, printing one message.
fn cat_pull(flags: &[&str]) -> (Child, Receiver<String>, String) {
    let port = free_port().to_string();
    let mut cat = sinew()
        .args(["cat", "pull", "--bind", &format!("tcp://127.0.0.1:{port}")])
        .args(flags)
        .args(["--count", "1", "--timeout", "15000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let received = lines(&mut cat);
    (cat, received, port)
}

#[test]
fn curve_allow_admits_only_the_listed_client_key() {
    let (server_public, server_secret) = keygen();
    let (allowed_public, allowed_secret) = keygen();
    let (stranger_public, stranger_secret) = keygen();
    let (cat, received, port) = cat_pull(&[
        "--curve-server",
        "--curve-secret-key",
        &server_secret,
        "--curve-allow",
        &allowed_public,
    ]);
    for (public, secret, outcome) in [
        (
            &stranger_public,
            &stranger_secret,
            "HANDSHAKE_FAILED_AUTH 400",
        ),
        (&allowed_public, &allowed_secret, "HANDSHAKE_SUCCEEDED 0"),
    ] {
        let (peer, said) = libzmq(&["curve-push-watch", public, secret, &server_public, &port]);
        assert_eq!(
            said.recv_timeout(DEADLINE).unwrap(),
            format!("event {outcome}")
        );
        end_peer(peer, outcome);
    }
    // The one message printed is the admitted client's: the stranger's never
    // got past the handshake.
    assert_eq!(received.recv_timeout(DEADLINE).unwrap(), "hello");
    assert!(finish(cat).success());
}

#[test]
fn plain_allow_admits_the_right_password_only() {
    let (cat, received, port) = cat_pull(&["--plain-server", "--plain-allow", "alice:s3cret"]);
    // libzmq 4.3's PLAIN client knows only its own misspelt ERROR, so a refusal
    // by RFC 23's ERROR "400" is an unexpected command to it.
    let refused = format!("HANDSHAKE_FAILED_PROTOCOL {}", 0x1000_0001);
    for (password, outcome) in [
        ("wrong", refused.as_str()),
        ("s3cret", "HANDSHAKE_SUCCEEDED 0"),
    ] {
        let (peer, said) = libzmq(&["plain-push", "alice", password, &port]);
        assert_eq!(
            said.recv_timeout(DEADLINE).unwrap(),
            format!("event {outcome}")
        );
        end_peer(peer, outcome);
    }
    assert_eq!(received.recv_timeout(DEADLINE).unwrap(), "hello");
    assert!(finish(cat).success());
}

#[test]
fn an_allow_flag_without_its_server_flag_is_one_clear_line() {
    for (flags, named) in [
        (&["--plain-allow", "alice:s3cret"][..], "--plain-server"),
        (&["--curve-allow", "*"][..], "--curve-server"),
        (
            &["--plain-server", "--plain-allow", "alice"][..],
            "USER:PASSWORD",
        ),
    ] {
        let output = sinew()
            .args(["cat", "pull", "--bind", "tcp://127.0.0.1:0"])
            .args(flags)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{flags:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{flags:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn a_key_that_starts_with_a_hyphen_is_taken_as_a_key() {
    // Z85 has '-': a secret key whose first four bytes are c4 10 00 00
    // encodes to text that starts with it, as about one key in 85 does.
    let mut bytes = [0u8; 32];
    bytes[..2].copy_from_slice(&[0xc4, 0x10]);
    let secret = sinew::curve::SecretKey::from_bytes(bytes).to_z85();
    assert!(secret.starts_with('-'), "{}", secret.as_str());
    let output = sinew()
        .args(["cat", "pull", "--bind", "tcp://127.0.0.1:0"])
        .args(["--curve-server", "--curve-secret-key", secret.as_str()])
        .args(["--curve-allow", secret.as_str()])
        .args(["--count", "1", "--timeout", "100"])
        .output()
        .unwrap();
    // Exit 2: it ran and waited for a peer in vain; a flag it could not parse
    // would be exit 1.
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
