//! Time as an injected dependency (STYLE §2.7).
//!
//! Only the binary and the service crate provide a clock reading the system time;
//! everything else receives "now" from a `Clock`.

use std::sync::atomic::{AtomicI64, Ordering};

/// Unix time in milliseconds, UTC: the one time representation of the domain and both databases.
pub type Millis = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current Unix time in milliseconds.
    fn now_ms(&self) -> Millis;
}

/// A clock that only moves when told to; used by tests so that expiry is deterministic.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock stopped at `now_ms`.
    pub fn new(now_ms: Millis) -> Self {
        Self(AtomicI64::new(now_ms))
    }

    /// Moves the clock forward by `delta_ms`.
    pub fn advance(&self, delta_ms: Millis) {
        self.0.fetch_add(delta_ms, Ordering::SeqCst);
    }

    /// Sets the clock to `now_ms`.
    pub fn set(&self, now_ms: Millis) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}
