//! Concurrency and rate limits for async work: a tokio semaphore, and
//! optionally a [`Rate`] on top.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::{BuildError, nonzero};
use crate::rate::Rate;

/// At most `max_in_flight` futures run through [`Limiter::run`] at once, and,
/// with a [`Rate`], they start no faster than the rate allows. Clones share
/// the limits.
#[derive(Clone, Debug)]
pub struct Limiter {
    permits: Arc<Semaphore>,
    rate: Option<Rate>,
}

/// The limiter was closed; the future was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the limiter is closed")]
pub struct LimiterClosed;

impl Limiter {
    /// At most `max_in_flight` at once (at least 1, and at most tokio's
    /// `Semaphore::MAX_PERMITS`).
    pub fn new(max_in_flight: usize) -> Result<Self, BuildError> {
        let permits = nonzero(max_in_flight, "limiter permits")?;
        if permits > Semaphore::MAX_PERMITS {
            return Err(BuildError::TooLarge {
                what: "limiter permits",
                max: Semaphore::MAX_PERMITS,
            });
        }
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits)),
            rate: None,
        })
    }

    /// Also limits how fast futures start.
    pub fn with_rate(mut self, rate: Rate) -> Self {
        self.rate = Some(rate);
        self
    }

    // ANCHOR: run
    /// Waits for a permit (and a rate cell), then runs `fut` holding the permit.
    pub async fn run<F: Future>(&self, fut: F) -> Result<F::Output, LimiterClosed> {
        // The permit is released when `_permit` drops, even if `fut` panics.
        let _permit = self.permits.acquire().await.map_err(|_| LimiterClosed)?;
        if let Some(rate) = &self.rate {
            rate.acquire().await;
        }
        Ok(fut.await)
    }
    // ANCHOR_END: run

    /// Refuses every waiting and future [`run`](Self::run); running ones finish.
    pub fn close(&self) {
        self.permits.close();
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}
