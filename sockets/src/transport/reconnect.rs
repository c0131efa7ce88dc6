//! Reconnection backoff: libzmq's ZMQ_RECONNECT_IVL and ZMQ_RECONNECT_IVL_MAX.
//!
//! Each wait is the current interval plus a random jitter below the base interval
//! (as libzmq adds); with a maximum set, the interval doubles after each failure up
//! to it, and a successful handshake resets it. Time is passed in; this file must
//! never sleep or read a clock.

use std::time::Duration;

/// The waits between connection attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Option<Duration>,
    current: Duration,
    random: u64,
}

impl Backoff {
    /// Starts at `base`, doubling up to `max` if given.
    pub fn new(base: Duration, max: Option<Duration>, seed: u64) -> Backoff {
        Backoff {
            base,
            max,
            current: base,
            random: seed | 1,
        }
    }

    /// The wait before the next attempt, and the one after grows.
    pub fn next_delay(&mut self) -> Duration {
        let base_millis = u64::try_from(self.base.as_millis()).unwrap_or(u64::MAX);
        let jitter = if base_millis > 0 {
            Duration::from_millis(self.next_random() % base_millis)
        } else {
            Duration::ZERO
        };
        let delay = self.current.saturating_add(jitter);
        if let Some(max) = self.max
            && max > self.base
        {
            self.current = self.current.saturating_mul(2).min(max);
        }
        delay
    }

    /// A connection succeeded: start again from the base interval.
    pub fn reset(&mut self) {
        self.current = self.base;
    }

    /// xorshift64: enough randomness for jitter, with no dependency.
    fn next_random(&mut self) -> u64 {
        let mut value = self.random;
        value ^= value << 13;
        value ^= value >> 7;
        value ^= value << 17;
        self.random = value;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_with_jitter_up_to_the_maximum_and_reset() {
        let base = Duration::from_millis(100);
        let mut backoff = Backoff::new(base, Some(Duration::from_millis(400)), 42);
        let delays: Vec<Duration> = (0..5).map(|_| backoff.next_delay()).collect();
        let floors = [100, 200, 400, 400, 400];
        for (delay, floor) in delays.iter().zip(floors) {
            let floor = Duration::from_millis(floor);
            assert!(
                *delay >= floor && *delay < floor + base,
                "{delay:?} vs {floor:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() < Duration::from_millis(200));
        let mut steady = Backoff::new(base, None, 7);
        for _ in 0..4 {
            assert!(steady.next_delay() < Duration::from_millis(200));
        }
    }
}
