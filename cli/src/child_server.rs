//! A server a benchmark starts as a child process (sinew-broker, nats-server):
//! spawned with its log on a pipe, ready once the log has shown where it listens
//! (and, if different, that it is ready), killed by `stop` or when dropped, with
//! its data directory removed.
//!
//! The log is read to its end on a thread of its own, so the server never blocks
//! on a full pipe; lines about slow consumers are passed on to this program's
//! stderr. This file must never leave a server running or its data behind.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running child server.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    data: Option<PathBuf>,
}

impl ChildServer {
    /// Spawns `command` and waits up to `timeout` until its log has shown a line
    /// containing `address_line`, then one containing `ready_line` (the same line
    /// when they are equal). Returns the server and the address line. `data` is
    /// removed when the server is dropped.
    pub fn start(
        mut command: Command,
        address_line: &'static str,
        ready_line: &'static str,
        data: Option<PathBuf>,
        timeout: Duration,
    ) -> Result<(ChildServer, String), String> {
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start {program}: {error}"))?;
        let stderr = child.stderr.take();
        let server = ChildServer { child, data };
        let Some(stderr) = stderr else {
            return Err(format!("{program}: no log"));
        };
        let (sender, receiver) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut address = None;
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if address.is_none() && line.contains(address_line) {
                    address = Some(line.clone());
                }
                if !sent
                    && line.contains(ready_line)
                    && let Some(address) = &address
                {
                    sent = true;
                    let _ = sender.send(address.clone());
                }
                if line.to_ascii_lowercase().contains("slow consumer") {
                    eprintln!("  server: {line}");
                }
            }
        });
        match receiver.recv_timeout(timeout) {
            Ok(line) => Ok((server, line)),
            Err(_) => Err(format!("{program} did not become ready")),
        }
    }

    /// Kills the server; an error if it had already exited (it crashed).
    pub fn stop(mut self) -> Result<(), String> {
        let exited = self.child.try_wait().ok().flatten();
        let _ = self.child.kill();
        let _ = self.child.wait();
        match exited {
            Some(status) => Err(format!("the server exited during the run ({status})")),
            None => Ok(()),
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(data) = &self.data {
            let _ = std::fs::remove_dir_all(data);
        }
    }
}
