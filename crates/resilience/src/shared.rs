//! The thread-safe breaker: the pure [`CircuitBreaker`] behind a mutex, with
//! a clock and a guard that reports the call's verdict.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::breaker::{
    BreakerConfig, CircuitBreaker, Permit, Rejected, State, Transition,
};

/// Where a [`Breaker`] reads the time: a monotonic [`Duration`] since any
/// fixed origin.
pub trait Clock: Send + Sync + 'static {
    /// The time now.
    fn now(&self) -> Duration;
}

/// [`Clock`] on [`std::time::Instant`], counting from its creation.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A seed for the cool-down jitter that differs between breakers and
/// between processes: std's per-process random hasher keys, and a counter.
fn seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(NEXT.fetch_add(1, Ordering::Relaxed))
}

struct Shared<C> {
    machine: Mutex<CircuitBreaker>,
    clock: C,
}

/// A circuit breaker shared between threads or tasks; clones share one state.
pub struct Breaker<C: Clock = MonotonicClock> {
    shared: Arc<Shared<C>>,
}

impl<C: Clock> Clone for Breaker<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Breaker {
    /// A closed breaker on the monotonic clock.
    pub fn new(config: BreakerConfig) -> Self {
        Self::with_clock(config, MonotonicClock::default())
    }
}

/// The error of [`Breaker::call`]: refused, or the call itself failed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CallError<E> {
    /// The breaker did not admit the call.
    #[error(transparent)]
    Rejected(Rejected),
    /// The call ran and failed; the breaker counted the failure.
    #[error("the call failed: {0}")]
    Failed(E),
}

impl<C: Clock> Breaker<C> {
    /// A closed breaker reading time from `clock`.
    pub fn with_clock(config: BreakerConfig, clock: C) -> Self {
        Self {
            shared: Arc::new(Shared {
                machine: Mutex::new(CircuitBreaker::with_seed(config, seed())),
                clock,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CircuitBreaker> {
        // The machine never panics while locked; a poisoned lock still holds
        // a consistent state.
        self.shared
            .machine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.lock().state()
    }

    /// Asks to make a call. Report the verdict on the returned [`Call`];
    /// dropping it without a verdict releases its slot.
    pub fn try_acquire(&self) -> Result<Call<C>, Rejected> {
        let now = self.shared.clock.now();
        let permit = self.lock().try_acquire(now)?;
        Ok(Call {
            breaker: self.clone(),
            permit: Some(permit),
        })
    }

    /// Runs `f` if the breaker admits it and reports its result.
    pub fn call<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CallError<E>> {
        let call = self.try_acquire().map_err(CallError::Rejected)?;
        match f() {
            Ok(value) => {
                call.success();
                Ok(value)
            }
            Err(e) => {
                call.failure();
                Err(CallError::Failed(e))
            }
        }
    }
}

/// An admitted call. Say how it went with [`Call::success`] or
/// [`Call::failure`]; dropping it says nothing (the call was abandoned).
pub struct Call<C: Clock = MonotonicClock> {
    breaker: Breaker<C>,
    permit: Option<Permit>,
}

impl<C: Clock> Call<C> {
    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.permit.as_ref().is_some_and(Permit::is_probe)
    }

    /// The call succeeded; returns the state change it caused, if any.
    pub fn success(mut self) -> Option<Transition> {
        let permit = self.permit.take()?;
        let now = self.breaker.shared.clock.now();
        self.breaker.lock().on_success(permit, now)
    }

    /// The call failed; returns the state change it caused, if any.
    pub fn failure(mut self) -> Option<Transition> {
        let permit = self.permit.take()?;
        let now = self.breaker.shared.clock.now();
        self.breaker.lock().on_failure(permit, now)
    }
}

impl<C: Clock> Drop for Call<C> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.breaker.lock().release(permit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::StateKind;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A clock the test moves by hand.
    #[derive(Clone, Default)]
    struct Manual(Arc<AtomicU64>);

    impl Clock for Manual {
        fn now(&self) -> Duration {
            Duration::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    #[test]
    fn trips_rejects_probes_and_recovers() {
        let clock = Manual::default();
        let config = BreakerConfig::new(2, Duration::from_millis(100), 1).unwrap();
        let breaker = Breaker::with_clock(config, clock.clone());
        for _ in 0..2 {
            assert_eq!(
                breaker.call(|| Err::<(), _>("down")),
                Err(CallError::Failed("down"))
            );
        }
        clock.0.store(40, Ordering::SeqCst);
        assert_eq!(
            breaker.call(|| Ok::<_, &str>(1)),
            Err(CallError::Rejected(Rejected::Open {
                retry_after: Duration::from_millis(60)
            }))
        );
        clock.0.store(100, Ordering::SeqCst);
        let probe = breaker.try_acquire().unwrap();
        assert!(probe.is_probe());
        assert!(matches!(
            breaker.try_acquire().err(),
            Some(Rejected::ProbesInFlight { in_flight: 1 })
        ));
        assert_eq!(probe.success().map(|t| t.to), Some(StateKind::Closed));
        assert_eq!(breaker.call(|| Ok::<_, &str>(7)), Ok(7));
    }

    #[test]
    fn a_dropped_probe_frees_its_slot() {
        let clock = Manual::default();
        let config = BreakerConfig::new(1, Duration::ZERO, 1).unwrap();
        let breaker = Breaker::with_clock(config, clock);
        let _ = breaker.call(|| Err::<(), _>(()));
        let probe = breaker.try_acquire().unwrap();
        drop(probe);
        assert!(breaker.try_acquire().unwrap().is_probe());
    }

    #[test]
    fn clones_share_one_state_across_threads() {
        let config = BreakerConfig::new(4, Duration::from_secs(3600), 1).unwrap();
        let breaker = Breaker::new(config);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = breaker.clone();
                std::thread::spawn(move || b.call(|| Err::<(), _>(())))
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), Err(CallError::Failed(())));
        }
        assert_eq!(breaker.state().kind(), StateKind::Open);
    }
}
