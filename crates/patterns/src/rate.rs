//! A rate limit on the GCRA algorithm of the `governor` crate, usable from
//! threads (blocking) and from tasks (async).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::error::BuildError;

/// At most `per_second` cells a second on average, with bursts of up to
/// `burst` at once. Clones share one budget.
#[derive(Clone, Debug)]
pub struct Rate {
    limiter: Arc<DefaultDirectRateLimiter>,
}

/// [`Rate::try_acquire`] found the budget spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limited: next cell in {retry_after:?}")]
pub struct RateLimited {
    /// How long until a cell is available.
    pub retry_after: Duration,
}

impl Rate {
    /// A limit of `per_second` cells a second with bursts of `burst`;
    /// zero for either is an error (nothing would ever pass).
    pub fn per_second(per_second: u32, burst: u32) -> Result<Self, BuildError> {
        let rate = NonZeroU32::new(per_second).ok_or(BuildError::Zero {
            what: "rate per second",
        })?;
        let burst =
            NonZeroU32::new(burst).ok_or(BuildError::Zero { what: "rate burst" })?;
        let quota = Quota::per_second(rate).allow_burst(burst);
        Ok(Self {
            limiter: Arc::new(RateLimiter::direct(quota)),
        })
    }

    /// Takes a cell now, or says how long to wait for one.
    pub fn try_acquire(&self) -> Result<(), RateLimited> {
        self.limiter.check().map_err(|not_until| RateLimited {
            retry_after: not_until.wait_time_from(self.limiter.clock().now()),
        })
    }

    /// Waits (asynchronously) for a cell and takes it.
    pub async fn acquire(&self) {
        self.limiter.until_ready().await;
    }

    /// Blocks the thread until a cell is available and takes it.
    pub fn acquire_blocking(&self) {
        while let Err(limited) = self.try_acquire() {
            std::thread::sleep(limited.retry_after);
        }
    }
}
