//! The monitoring endpoint: one HTTP/1.1 request per connection, answered from a
//! snapshot of the core (and the partition store's counters) and closed.
//!
//! `/healthz` (200 while serving), `/varz`, `/connz` and `/subsz` in nats-server's
//! JSON shapes (the fields monitoring tools read), and `/metrics` in Prometheus
//! text format. Requests are parsed with httparse and limited in size; anything
//! else gets 404, a malformed request 400. This file must never block and never
//! change the core.

use crate::core::Core;
use crate::store::StoreStats;
use mio::net::TcpStream;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The largest request head accepted.
const MAX_REQUEST: usize = 16 * 1024;

/// One monitoring connection: reading its request, then writing the response.
#[derive(Debug)]
pub(super) struct Request {
    stream: TcpStream,
    input: Vec<u8>,
    response: Option<(Vec<u8>, usize)>,
}

impl Request {
    pub(super) fn new(stream: TcpStream) -> Request {
        Request {
            stream,
            input: Vec::new(),
            response: None,
        }
    }

    pub(super) fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Reads, answers and writes as far as the socket allows; true once done (the
    /// connection should be closed).
    pub(super) fn advance(
        &mut self,
        core: &Core,
        store: &StoreStats,
        http: SocketAddr,
        now: Instant,
    ) -> bool {
        if self.response.is_none() {
            let mut buffer = [0u8; 4096];
            loop {
                match self.stream.read(&mut buffer) {
                    Ok(0) => return true,
                    Ok(count) => {
                        self.input
                            .extend_from_slice(buffer.get(..count).unwrap_or(&[]));
                        if self.input.len() > MAX_REQUEST {
                            self.response = Some((status(431, "text/plain", b"too large\n"), 0));
                            break;
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return true,
                }
            }
            if self.response.is_none() {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut request = httparse::Request::new(&mut headers);
                match request.parse(&self.input) {
                    Ok(httparse::Status::Complete(_)) => {
                        let path = request.path.unwrap_or("/");
                        let response = respond(request.method, path, core, store, http, now);
                        self.response = Some((response, 0));
                    }
                    Ok(httparse::Status::Partial) => return false,
                    Err(_) => {
                        self.response = Some((status(400, "text/plain", b"bad request\n"), 0))
                    }
                }
            }
        }
        let Some((response, written)) = &mut self.response else {
            return false;
        };
        while *written < response.len() {
            match self.stream.write(response.get(*written..).unwrap_or(&[])) {
                Ok(0) => return true,
                Ok(count) => *written += count,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return false,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
        true
    }
}

fn status(code: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let mut response = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

fn json_response(value: &Value) -> Vec<u8> {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    status(200, "application/json", &body)
}

fn respond(
    method: Option<&str>,
    path: &str,
    core: &Core,
    store: &StoreStats,
    http: SocketAddr,
    now: Instant,
) -> Vec<u8> {
    if method != Some("GET") {
        return status(405, "text/plain", b"only GET\n");
    }
    let path = path.split('?').next().unwrap_or(path);
    match path {
        "/healthz" => json_response(&json!({ "status": "ok" })),
        "/varz" => json_response(&varz(core, http, now)),
        "/connz" => json_response(&connz(core, now)),
        "/subsz" => json_response(&subsz(core)),
        "/metrics" => status(
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics(core, store, now).as_bytes(),
        ),
        _ => status(404, "text/plain", b"not found\n"),
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

/// Resident memory of this process in bytes (Linux), as nats-server's `mem`.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn uptime(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (hours, rest) = (rest / 3600, rest % 3600);
    let (minutes, seconds) = (rest / 60, rest % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, _) => format!("{minutes}m{seconds}s"),
        (0, _, _) => format!("{hours}h{minutes}m{seconds}s"),
        _ => format!("{days}d{hours}h{minutes}m{seconds}s"),
    }
}

fn varz(core: &Core, http: SocketAddr, now: Instant) -> Value {
    let settings = core.settings();
    let stats = core.stats();
    json!({
        "server_id": settings.server_id,
        "server_name": settings.server_name,
        "version": crate::core::NATS_PROTOCOL_LEVEL,
        "sinew_version": env!("CARGO_PKG_VERSION"),
        "proto": 1,
        "host": settings.address.ip().to_string(),
        "port": settings.address.port(),
        "http_host": http.ip().to_string(),
        "http_port": http.port(),
        "auth_required": settings.authorization.required(),
        "max_connections": settings.limits.max_connections,
        "max_payload": settings.limits.max_payload,
        "max_control_line": settings.limits.max_control_line,
        "max_pending": settings.limits.max_pending,
        "ping_interval": settings.ping.interval.as_nanos() as u64,
        "ping_max": settings.ping.max_outstanding,
        "now": unix_now(),
        "uptime": uptime(now.saturating_duration_since(core.started()).as_secs()),
        "mem": resident_bytes(),
        "cores": std::thread::available_parallelism().map_or(1, usize::from),
        "connections": core.client_count(),
        "total_connections": stats.total_connections,
        "in_msgs": stats.in_msgs,
        "out_msgs": stats.out_msgs,
        "in_bytes": stats.in_bytes,
        "out_bytes": stats.out_bytes,
        "slow_consumers": stats.slow_consumers,
        "subscriptions": core.subject_stats().subscriptions,
    })
}

fn connz(core: &Core, now: Instant) -> Value {
    let mut connections: Vec<(u64, Value)> = core
        .clients()
        .map(|(id, client)| {
            let stats = client.stats();
            let (name, lang, version) = client.identity();
            let since = |at: Instant| now.saturating_duration_since(at);
            (
                id,
                json!({
                    "cid": id,
                    "ip": client.address().ip().to_string(),
                    "port": client.address().port(),
                    "uptime": uptime(since(client.started()).as_secs()),
                    "idle": uptime(since(client.last_activity()).as_secs()),
                    "pending_bytes": client.pending_bytes(),
                    "in_msgs": stats.in_msgs,
                    "out_msgs": stats.out_msgs,
                    "in_bytes": stats.in_bytes,
                    "out_bytes": stats.out_bytes,
                    "subscriptions": client.subscription_count(),
                    "name": name,
                    "lang": lang,
                    "version": version,
                }),
            )
        })
        .collect();
    connections.sort_by_key(|(id, _)| *id);
    let list: Vec<Value> = connections.into_iter().map(|(_, value)| value).collect();
    json!({
        "server_id": core.settings().server_id,
        "now": unix_now(),
        "num_connections": list.len(),
        "total": list.len(),
        "offset": 0,
        "limit": list.len(),
        "connections": list,
    })
}

fn subsz(core: &Core) -> Value {
    let stats = core.subject_stats();
    json!({
        "num_subscriptions": stats.subscriptions,
        "num_cache": stats.cached,
        "num_inserts": stats.inserts,
        "num_removes": stats.removes,
        "num_matches": stats.matches,
        "cache_hit_rate": stats.cache_hit_rate,
        "max_fanout": stats.max_fanout,
        "avg_fanout": stats.average_fanout,
    })
}

fn metrics(core: &Core, store: &StoreStats, now: Instant) -> String {
    let mut registry = Registry::with_prefix("sinew");
    let stats = core.stats();
    let counters: [(&str, &str, u64); 9] = [
        ("in_msgs", "Messages received from clients", stats.in_msgs),
        ("out_msgs", "Messages delivered to clients", stats.out_msgs),
        (
            "in_bytes",
            "Payload bytes received from clients",
            stats.in_bytes,
        ),
        (
            "out_bytes",
            "Payload bytes delivered to clients",
            stats.out_bytes,
        ),
        (
            "slow_consumers",
            "Clients closed as slow consumers",
            stats.slow_consumers,
        ),
        (
            "connections",
            "Clients accepted since the start",
            stats.total_connections,
        ),
        (
            "store_batches",
            "Batches of requests the partition store handled",
            store.batches.load(Ordering::Relaxed),
        ),
        (
            "store_requests",
            "Requests the partition store handled",
            store.requests.load(Ordering::Relaxed),
        ),
        (
            "store_fsyncs",
            "Partition fsyncs the store made (one per dirty partition per batch)",
            store.syncs.load(Ordering::Relaxed),
        ),
    ];
    for (name, help, value) in counters {
        let counter: Counter<u64, AtomicU64> = Counter::default();
        counter.inc_by(value);
        registry.register(name, help, counter);
    }
    let gauges: [(&str, &str, i64); 4] = [
        (
            "clients",
            "Clients connected now",
            core.client_count() as i64,
        ),
        (
            "subscriptions",
            "Subscriptions held now",
            core.subject_stats().subscriptions as i64,
        ),
        (
            "resident_memory_bytes",
            "Resident memory",
            resident_bytes() as i64,
        ),
        (
            "uptime_seconds",
            "Seconds since the broker started",
            now.saturating_duration_since(core.started()).as_secs() as i64,
        ),
    ];
    for (name, help, value) in gauges {
        let gauge: Gauge = Gauge::default();
        gauge.set(value);
        registry.register(name, help, gauge);
    }
    let mut text = String::new();
    if encode(&mut text, &registry).is_err() {
        text.clear();
    }
    text
}
