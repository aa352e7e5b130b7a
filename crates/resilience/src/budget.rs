//! A retry budget: retries may add at most a fixed share to the calls a
//! client makes, however many of them fail.
//!
//! Each call puts `ratio` of a token into a bucket, each retry takes a whole
//! token out, and a retry that finds less than one token is not made. Over
//! any stretch of calls, retries ≤ `ratio` × calls + the bucket's size, so a
//! peer that fails every call gets at most `1 + ratio` attempts per call
//! instead of `max_attempts`: retries cannot multiply the load on a peer
//! that is already struggling. (Finagle's `RetryBudget` and gRPC's retry
//! throttling work the same way.)

use std::sync::Mutex;

/// A retry budget shared by every call a client makes; see the module docs.
#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    capacity: f64,
    tokens: Mutex<f64>,
}

impl RetryBudget {
    // ANCHOR: budget
    /// Retries may add `percent` % to the calls made, plus a burst of at
    /// most `burst` retries when the bucket is full (it starts full).
    pub fn new(percent: u32, burst: u32) -> Self {
        let capacity = f64::from(burst);
        Self {
            ratio: f64::from(percent) / 100.0,
            capacity,
            tokens: Mutex::new(capacity),
        }
    }

    /// A call is made: its share goes into the bucket.
    pub fn deposit(&self) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        *tokens = (*tokens + self.ratio).min(self.capacity);
    }

    /// A retry is wanted: whether the budget allows it (and pays for it).
    pub fn withdraw(&self) -> bool {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let allowed = *tokens >= 1.0;
        if allowed {
            *tokens -= 1.0;
        }
        allowed
    }
    // ANCHOR_END: budget
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attempts made for `calls` calls to a peer that fails every one, with
    /// up to `max_attempts` each, retrying only when `budget` allows (always,
    /// without one).
    fn attempts(calls: u32, max_attempts: u32, budget: Option<&RetryBudget>) -> u32 {
        let retry = || budget.is_none_or(RetryBudget::withdraw);
        (0..calls)
            .map(|_| {
                budget.inspect(|b| b.deposit());
                1 + (1..max_attempts).take_while(|_| retry()).count() as u32
            })
            .sum()
    }

    #[test]
    fn retries_add_at_most_the_share_plus_the_burst() {
        let made = attempts(1000, 3, Some(&RetryBudget::new(10, 10)));
        // 1000 first attempts, at most 100 + 10 retries.
        assert!((1000..=1110).contains(&made), "{made}");
        // Without a budget (the planted bug the bound rules out): 3000.
        assert_eq!(attempts(1000, 3, None), 3000);
    }

    #[test]
    fn a_full_bucket_allows_a_burst_and_no_more() {
        let budget = RetryBudget::new(0, 3);
        assert!((0..3).all(|_| budget.withdraw()));
        assert!(!budget.withdraw());
        budget.deposit();
        assert!(!budget.withdraw(), "0 % adds nothing");
    }
}
