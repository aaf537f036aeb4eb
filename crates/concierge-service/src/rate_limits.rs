//! Rate limits that every node on the database shares: a quota of `limit` requests per
//! `period`, enforced with the generic cell rate algorithm on one row per bucket (see
//! `Tx::admit_rate_limited`). A burst of `limit` requests is admitted at once, then one more
//! every `period / limit`, which is how the per-node limiter it replaces behaved.

use crate::{Result, Service};
use concierge_core::{InstanceId, Millis};
use std::sync::atomic::Ordering;

/// How many admissions a node makes between two purges of an instance's passed buckets.
const PURGE_EVERY: u64 = 256;

/// `limit` requests per `period_ms` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests admitted in one period (and in one burst).
    pub limit: u32,
    /// The period, in milliseconds.
    pub period_ms: Millis,
}

impl Quota {
    /// `limit` requests per 10 seconds.
    pub fn per_ten_seconds(limit: u32) -> Self {
        Self {
            limit,
            period_ms: 10_000,
        }
    }

    /// `limit` requests per hour.
    pub fn per_hour(limit: u32) -> Self {
        Self {
            limit,
            period_ms: 3_600_000,
        }
    }

    /// The emission interval: the time one admitted request uses up (at least 1 ms).
    pub fn interval(self) -> Millis {
        (self.period_ms / Millis::from(self.limit.max(1))).max(1)
    }

    /// Milliseconds from `now` until a bucket whose time is `tat` admits one request again.
    fn wait_ms(self, tat: Millis, now: Millis) -> Millis {
        tat + self.interval() - self.period_ms - now
    }
}

/// A wait in milliseconds as whole seconds for `Retry-After` (at least 1).
pub fn retry_after_seconds(wait_ms: Millis) -> u64 {
    u64::try_from(wait_ms.max(1)).unwrap_or(1).div_ceil(1000)
}

impl Service {
    /// Admits one request of `bucket` in `instance` under `quota`, counted for every node on
    /// the database. `Ok(None)` when admitted; `Ok(Some(seconds))` when refused, with the
    /// seconds to wait (`Retry-After`). A quota of 0 requests admits everything.
    pub async fn admit_rate_limited(
        &self,
        instance: &InstanceId,
        bucket: &str,
        quota: Quota,
    ) -> Result<Option<u64>> {
        Ok(self
            .take_rate_limited(instance, bucket, quota, 1)
            .await?
            .map(retry_after_seconds))
    }

    /// Takes `cells` admissions of `bucket` at once (at most the quota's limit), as if that
    /// many requests had arrived now: a node leases them and admits its next requests without
    /// asking the database. `Ok(None)` when taken; `Ok(Some(ms))` when they do not all fit,
    /// with the milliseconds until one request would (nothing is taken then).
    pub async fn take_rate_limited(
        &self,
        instance: &InstanceId,
        bucket: &str,
        quota: Quota,
        cells: u32,
    ) -> Result<Option<Millis>> {
        if quota.limit == 0 {
            return Ok(None);
        }
        let cells = Millis::from(cells.clamp(1, quota.limit));
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        if self
            .inner
            .rate_limit_admissions
            .fetch_add(1, Ordering::Relaxed)
            % PURGE_EVERY
            == PURGE_EVERY - 1
        {
            tx.purge_rate_limits(instance, now).await?;
        }
        // Under GCRA, `cells` requests at one moment move the bucket by `cells` intervals.
        let refused = tx
            .admit_rate_limited(
                instance,
                bucket,
                now,
                quota.interval() * cells,
                quota.period_ms,
            )
            .await?;
        tx.commit().await?;
        Ok(refused.map(|tat| quota.wait_ms(tat, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_and_retry_after() {
        let five = Quota::per_ten_seconds(5);
        assert_eq!(five.interval(), 2_000);
        // Five admitted at t = 0: the bucket is at 10 s; the next one fits at 2 s.
        assert_eq!(retry_after_seconds(five.wait_ms(10_000, 0)), 2);
        assert_eq!(retry_after_seconds(five.wait_ms(10_000, 1_500)), 1);
        // Never less than one second, even when the wait is a few milliseconds.
        assert_eq!(retry_after_seconds(five.wait_ms(10_000, 1_999)), 1);
        let hourly = Quota::per_hour(250);
        assert_eq!(hourly.interval(), 14_400);
        assert_eq!(retry_after_seconds(hourly.wait_ms(3_600_000, 0)), 15);
        // A limit above the period in ms still moves the bucket.
        assert_eq!(
            Quota {
                limit: 50_000,
                period_ms: 10_000
            }
            .interval(),
            1
        );
    }
}
