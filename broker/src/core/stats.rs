//! Counters the core keeps for monitoring (`/varz`, `/connz`, `/subsz`,
//! `/metrics`), in nats-server's terms.
//!
//! Counting is a few additions per message; reading them is a snapshot taken by
//! the server when a monitoring request arrives. This file must never allocate on
//! the per-message path.

/// Totals for the whole broker.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Messages received from clients.
    pub in_msgs: u64,
    /// Messages delivered to clients.
    pub out_msgs: u64,
    /// Payload bytes received from clients.
    pub in_bytes: u64,
    /// Payload bytes delivered to clients.
    pub out_bytes: u64,
    /// Clients closed because too much waited to be written to them.
    pub slow_consumers: u64,
    /// Clients accepted since the start.
    pub total_connections: u64,
}

/// Counters for one client.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClientStats {
    /// Messages it published.
    pub in_msgs: u64,
    /// Messages delivered to it.
    pub out_msgs: u64,
    /// Payload bytes it published.
    pub in_bytes: u64,
    /// Payload bytes delivered to it.
    pub out_bytes: u64,
}

impl ClientStats {
    /// Counts one message published by this client.
    pub fn published(&mut self, bytes: usize) {
        self.in_msgs += 1;
        self.in_bytes += bytes as u64;
    }

    /// Counts one message delivered to this client.
    pub fn delivered(&mut self, bytes: usize) {
        self.out_msgs += 1;
        self.out_bytes += bytes as u64;
    }
}
