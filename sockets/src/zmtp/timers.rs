//! A small table of named timers for one connection.
//!
//! Time is passed in, never read: the connection is told `now` and answers with its
//! next deadline, so tests run it on a virtual clock. Each name holds at most one
//! deadline. This file must never read a clock.

use std::time::{Duration, Instant};

/// The timers a connection can have running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The handshake must be complete by then (ZMQ_HANDSHAKE_IVL).
    Handshake,
    /// Time to send the next PING (ZMQ_HEARTBEAT_IVL).
    HeartbeatInterval,
    /// A PING went unanswered by then (ZMQ_HEARTBEAT_TIMEOUT).
    HeartbeatTimeout,
    /// The peer's PING promised traffic by then (its TTL, ZMQ_HEARTBEAT_TTL).
    HeartbeatTtl,
}

impl Timer {
    const ALL: [Timer; 4] = [
        Timer::Handshake,
        Timer::HeartbeatInterval,
        Timer::HeartbeatTimeout,
        Timer::HeartbeatTtl,
    ];

    fn slot(self) -> usize {
        match self {
            Timer::Handshake => 0,
            Timer::HeartbeatInterval => 1,
            Timer::HeartbeatTimeout => 2,
            Timer::HeartbeatTtl => 3,
        }
    }
}

/// Deadlines by timer name.
#[derive(Debug, Default, Clone)]
pub struct Timers {
    deadlines: [Option<Instant>; 4],
}

impl Timers {
    /// Starts (or restarts) `timer` to fire at `deadline`.
    pub fn set(&mut self, timer: Timer, deadline: Instant) {
        if let Some(slot) = self.deadlines.get_mut(timer.slot()) {
            *slot = Some(deadline);
        }
    }

    /// Starts (or restarts) `timer` to fire `delay` after `now`. A delay so long
    /// that the time cannot be represented never fires: the timer is stopped.
    pub fn set_after(&mut self, timer: Timer, now: Instant, delay: Duration) {
        match now.checked_add(delay) {
            Some(deadline) => self.set(timer, deadline),
            None => self.cancel(timer),
        }
    }

    /// Stops `timer`.
    pub fn cancel(&mut self, timer: Timer) {
        if let Some(slot) = self.deadlines.get_mut(timer.slot()) {
            *slot = None;
        }
    }

    /// Whether `timer` is running.
    pub fn is_set(&self, timer: Timer) -> bool {
        self.deadlines
            .get(timer.slot())
            .is_some_and(Option::is_some)
    }

    /// The earliest deadline of any running timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Stops and returns one timer whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let timer = Timer::ALL.into_iter().find(|timer| {
            self.deadlines
                .get(timer.slot())
                .copied()
                .flatten()
                .is_some_and(|deadline| deadline <= now)
        })?;
        self.cancel(timer);
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_fire_in_order_and_once() {
        let start = Instant::now();
        let mut timers = Timers::default();
        timers.set(Timer::HeartbeatTimeout, start + Duration::from_secs(2));
        timers.set(Timer::Handshake, start + Duration::from_secs(1));
        assert_eq!(timers.next_deadline(), Some(start + Duration::from_secs(1)));
        assert_eq!(timers.pop_expired(start), None);
        assert_eq!(
            timers.pop_expired(start + Duration::from_secs(1)),
            Some(Timer::Handshake)
        );
        assert!(!timers.is_set(Timer::Handshake));
        timers.cancel(Timer::HeartbeatTimeout);
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn a_delay_past_the_end_of_time_never_fires() {
        let start = Instant::now();
        let mut timers = Timers::default();
        timers.set_after(Timer::Handshake, start, Duration::from_secs(1));
        timers.set_after(Timer::Handshake, start, Duration::MAX);
        assert_eq!(timers.next_deadline(), None, "stopped, not panicking");
    }
}
