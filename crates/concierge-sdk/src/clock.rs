//! The time source used for every token check, injectable so that tests (and servers with their
//! own notion of time) decide what "now" is. Nothing else in the crate reads the system clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in Unix milliseconds.
///
/// The SDK reads it for `exp`/`nbf`/`iat` checks and the JWKS cache TTL. Implement it to drive
/// verification from a test clock:
///
/// ```
/// use concierge_sdk::Clock;
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// struct TestClock(AtomicI64);
/// impl Clock for TestClock {
///     fn now_ms(&self) -> i64 {
///         self.0.load(Ordering::Relaxed)
///     }
/// }
/// assert_eq!(TestClock(AtomicI64::new(42)).now_ms(), 42);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> i64;
}

/// The system clock (the default).
///
/// ```
/// use concierge_sdk::{Clock, SystemClock};
///
/// assert!(SystemClock.now_ms() > 1_704_067_200_000, "after 2024-01-01");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one reader of the system time (STYLE §2.7).
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock.now_ms() > 1_704_067_200_000);
    }
}
