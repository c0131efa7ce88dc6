//! The servers `sinew bench topics` measures, started fresh for each run and
//! killed after it: sinew-broker (its native and Kafka doors and monitoring port) and
//! nats-server with JetStream on file storage, each on free loopback ports and a
//! data directory of its own under the bench's scratch directory.
//!
//! A server is ready when its log says where it listens (`ChildServer`). This file
//! must never leave a server running or its data behind (both go on drop).

use crate::child_server::ChildServer;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a server may take to say it is ready.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// When JetStream fsyncs its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JetStreamSync {
    /// `sync_interval: always`: after every write.
    Always,
    /// nats-server's default (every two minutes, and on shutdown).
    Default,
}

/// A running server, killed (and its data removed) on drop.
pub struct Server {
    process: ChildServer,
    /// sinew-broker's native endpoint, or nats-server's client address.
    pub endpoint: String,
    /// sinew-broker's monitoring address.
    pub http: Option<SocketAddr>,
    /// sinew-broker's Kafka door (`host:port`, a Kafka client's bootstrap).
    pub kafka: Option<String>,
}

impl Server {
    /// Starts sinew-broker on a fresh data directory `data`.
    pub fn sinew(binary: &Path, data: PathBuf) -> Result<Server, String> {
        let mut command = Command::new(binary);
        command
            .args(["--nats", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .args([
                "--listen",
                "tcp://127.0.0.1:0",
                "--kafka",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&data);
        let line = "sinew-broker ready";
        let (process, announced) =
            ChildServer::start(command, line, line, Some(data), START_TIMEOUT)?;
        let word = |name: &str| {
            announced
                .split_whitespace()
                .find_map(|word| word.strip_prefix(name))
                .map(str::to_owned)
        };
        let endpoint = word("native=").ok_or("sinew-broker did not name its native endpoint")?;
        let http = word("http=")
            .and_then(|address| address.parse().ok())
            .ok_or("sinew-broker did not name its monitoring address")?;
        let kafka = word("kafka=").ok_or("sinew-broker did not name its Kafka door")?;
        Ok(Server {
            process,
            endpoint,
            http: Some(http),
            kafka: Some(kafka),
        })
    }

    /// Starts nats-server with JetStream storing under `data` (a config file is
    /// written next to it).
    pub fn nats(binary: &Path, data: PathBuf, sync: JetStreamSync) -> Result<Server, String> {
        std::fs::create_dir_all(&data)
            .map_err(|error| format!("cannot create {}: {error}", data.display()))?;
        let config = data.join("nats.conf");
        let sync_line = match sync {
            JetStreamSync::Always => "  sync_interval: always\n",
            JetStreamSync::Default => "",
        };
        let text = format!(
            "jetstream {{\n  store_dir: {:?}\n{sync_line}}}\n",
            data.join("jetstream").display().to_string()
        );
        std::fs::write(&config, text)
            .map_err(|error| format!("cannot write {}: {error}", config.display()))?;
        let mut command = Command::new(binary);
        command
            .arg("-c")
            .arg(&config)
            .args(["-a", "127.0.0.1", "-p", "-1"]);
        let marker = "Listening for client connections on ";
        let (process, announced) = ChildServer::start(
            command,
            marker,
            "Server is ready",
            Some(data),
            START_TIMEOUT,
        )?;
        let endpoint = announced
            .split_once(marker)
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .ok_or("nats-server did not say where it listens")?
            .to_owned();
        Ok(Server {
            process,
            endpoint,
            http: None,
            kafka: None,
        })
    }

    /// A counter from sinew-broker's `/metrics` (the name without `sinew_` and
    /// `_total`).
    pub fn counter(&self, name: &str) -> Result<u64, String> {
        let http = self.http.ok_or("no monitoring port")?;
        let mut stream = TcpStream::connect(http).map_err(|error| error.to_string())?;
        stream
            .set_read_timeout(Some(START_TIMEOUT))
            .map_err(|error| error.to_string())?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: sinew\r\n\r\n")
            .map_err(|error| error.to_string())?;
        let mut text = String::new();
        stream
            .read_to_string(&mut text)
            .map_err(|error| error.to_string())?;
        let prefix = format!("sinew_{name}_total ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|value| value.trim().parse().ok())
            .ok_or_else(|| format!("/metrics has no {prefix}"))
    }

    /// Kills the server; an error if it had already exited (it crashed).
    pub fn stop(self) -> Result<(), String> {
        self.process.stop()
    }
}
