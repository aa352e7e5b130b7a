//! The circuit breaker as a pure state machine: no clock, no lock, no I/O.
//!
//! Every method that depends on time takes `now`, a [`Duration`] since an
//! origin the caller chooses (the thread-safe [`crate::Breaker`] uses the
//! instant it was created). Callers must pass non-decreasing values; a value
//! that goes backwards is treated as "no time has passed".

use std::time::Duration;

use thiserror::Error;

/// How a [`CircuitBreaker`] trips and recovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BreakerConfig {
    failure_threshold: u32,
    cool_down: Duration,
    max_probes: u32,
    jitter_percent: u32,
}

/// A [`BreakerConfig`] that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The breaker would open before any call failed.
    #[error("the failure threshold must be at least 1 consecutive failure")]
    ZeroFailureThreshold,
    /// The breaker could never leave the half-open state.
    #[error("the half-open state must admit at least 1 probe")]
    ZeroProbes,
    /// A cool-down jitter above 100 % of the cool-down.
    #[error("the cool-down jitter must be at most 100 %, not {0} %")]
    JitterOver100(u32),
}

impl BreakerConfig {
    /// Opens after `failure_threshold` consecutive failed calls, stays open
    /// for `cool_down`, then admits at most `max_probes` trial calls at once.
    pub fn new(
        failure_threshold: u32,
        cool_down: Duration,
        max_probes: u32,
    ) -> Result<Self, ConfigError> {
        if failure_threshold == 0 {
            return Err(ConfigError::ZeroFailureThreshold);
        }
        if max_probes == 0 {
            return Err(ConfigError::ZeroProbes);
        }
        Ok(Self {
            failure_threshold,
            cool_down,
            max_probes,
            jitter_percent: 0,
        })
    }

    // ANCHOR: jitter
    /// Each time the breaker opens, it stays open for the cool-down plus a
    /// uniform draw of up to `percent` % of it. Breakers that opened together
    /// (every caller of a peer that failed at once) then probe at different
    /// moments instead of all at once. Never shorter than the cool-down.
    pub fn with_jitter(self, percent: u32) -> Result<Self, ConfigError> {
        if percent > 100 {
            return Err(ConfigError::JitterOver100(percent));
        }
        Ok(Self {
            jitter_percent: percent,
            ..self
        })
    }
    // ANCHOR_END: jitter

    /// The cool-down jitter, in percent of the cool-down.
    pub fn jitter_percent(&self) -> u32 {
        self.jitter_percent
    }

    /// Consecutive failures that open the breaker.
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    /// How long the breaker stays open before it admits a probe.
    pub fn cool_down(&self) -> Duration {
        self.cool_down
    }

    /// Most probes in flight while half-open.
    pub fn max_probes(&self) -> u32 {
        self.max_probes
    }
}

/// Where the breaker is. Compare with [`State::kind`] when the numbers
/// inside do not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls pass; `consecutive_failures` is the current run of failures.
    Closed {
        /// Failures since the last success (always below the threshold).
        consecutive_failures: u32,
    },
    /// Calls are refused until `until`.
    Open {
        /// The `now` from which a probe may be admitted.
        until: Duration,
    },
    /// A few trial calls (probes) may pass; the first verdict decides.
    HalfOpen,
}

/// The three states without their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// See [`State::Closed`].
    Closed,
    /// See [`State::Open`].
    Open,
    /// See [`State::HalfOpen`].
    HalfOpen,
}

impl State {
    /// The state without its data.
    pub fn kind(&self) -> StateKind {
        match self {
            State::Closed { .. } => StateKind::Closed,
            State::Open { .. } => StateKind::Open,
            State::HalfOpen => StateKind::HalfOpen,
        }
    }
}

/// Why a call was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Rejected {
    /// The breaker is open; no call is admitted before `retry_after` has passed.
    #[error("circuit breaker open: retry after {retry_after:?}")]
    Open {
        /// Time left in the cool-down.
        retry_after: Duration,
    },
    /// The breaker is half-open and already has its quota of probes in flight.
    #[error("circuit breaker half-open: {in_flight} probe(s) already in flight")]
    ProbesInFlight {
        /// Probes admitted and not yet reported.
        in_flight: u32,
    },
}

/// The right to make one call, returned by [`CircuitBreaker::try_acquire`].
/// Report it exactly once: [`CircuitBreaker::on_success`],
/// [`CircuitBreaker::on_failure`] or, when the call was abandoned without a
/// verdict, [`CircuitBreaker::release`]. (It is `Clone` so that a model
/// checker can copy whole states; [`crate::Call`] makes a second report
/// impossible.)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Permit {
    epoch: u64,
    probe: bool,
}

impl Permit {
    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

/// A state change, for logging or a span event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state left.
    pub from: StateKind,
    /// The state entered.
    pub to: StateKind,
}

/// The circuit breaker: Closed → Open after `failure_threshold` consecutive
/// failures → HalfOpen once the cool-down has passed → Closed after a
/// successful probe, or Open again after a failed one.
///
/// Each state change starts a new *epoch*. A verdict on a permit from an
/// earlier epoch (a slow call admitted before the breaker opened) changes
/// nothing, except that a probe still counts against the half-open quota
/// until it is reported: the breaker never has more than `max_probes`
/// probes in flight, even across a HalfOpen → Open → HalfOpen cycle.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: State,
    epoch: u64,
    /// Probes admitted and not yet reported, from any epoch.
    probes: u32,
    /// State of the generator the cool-down jitter draws from; it moves only
    /// when the configuration has a jitter.
    draws: u64,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self::with_seed(config, 0)
    }

    /// A closed breaker whose cool-down jitter draws from `seed`: breakers
    /// meant to probe apart need different seeds.
    pub fn with_seed(config: BreakerConfig, seed: u64) -> Self {
        Self {
            config,
            state: State::Closed {
                consecutive_failures: 0,
            },
            epoch: 0,
            probes: 0,
            draws: seed,
        }
    }

    /// The open state entered at `now`.
    fn opened(&mut self, now: Duration) -> State {
        State::Open {
            until: now.saturating_add(self.cool_down()),
        }
    }

    /// The cool-down for this opening: the configured one, plus the jitter.
    fn cool_down(&mut self) -> Duration {
        let base = self.config.cool_down;
        if self.config.jitter_percent == 0 {
            return base;
        }
        // splitmix64: small, and good enough to spread a few probes.
        self.draws = self.draws.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.draws;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let unit = (z ^ (z >> 31)) as f64 / u64::MAX as f64;
        base + base.mul_f64(unit * f64::from(self.config.jitter_percent) / 100.0)
    }

    /// The configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The state as of the last call. An open breaker whose cool-down has
    /// passed still says `Open` until the next [`try_acquire`](Self::try_acquire).
    pub fn state(&self) -> State {
        self.state
    }

    /// Probes admitted and not yet reported (from any epoch).
    pub fn probes_in_flight(&self) -> u32 {
        self.probes
    }

    // ANCHOR: acquire_open
    /// Asks to make a call at `now`.
    pub fn try_acquire(&mut self, now: Duration) -> Result<Permit, Rejected> {
        if let State::Open { until } = self.state {
            if now < until {
                return Err(Rejected::Open {
                    retry_after: until - now,
                });
            }
            self.enter(State::HalfOpen);
        }
        // ANCHOR_END: acquire_open
        // ANCHOR: acquire_admit
        match self.state {
            State::Closed { .. } => Ok(Permit {
                epoch: self.epoch,
                probe: false,
            }),
            State::HalfOpen => {
                let in_flight = self.probes_in_flight();
                if in_flight >= self.config.max_probes {
                    return Err(Rejected::ProbesInFlight { in_flight });
                }
                self.probes += 1;
                Ok(Permit {
                    epoch: self.epoch,
                    probe: true,
                })
            }
            State::Open { .. } => {
                unreachable!("an open breaker was moved to half-open above")
            }
        }
    }
    // ANCHOR_END: acquire_admit

    /// Reports that the call of `permit` succeeded.
    pub fn on_success(
        &mut self,
        permit: Permit,
        _now: Duration,
    ) -> Option<Transition> {
        if !self.settle(&permit) {
            return None;
        }
        match self.state {
            State::Closed { .. } => {
                self.state = State::Closed {
                    consecutive_failures: 0,
                };
                None
            }
            State::HalfOpen if permit.is_probe() => {
                Some(self.enter(State::Closed {
                    consecutive_failures: 0,
                }))
            }
            _ => None,
        }
    }

    // ANCHOR: failure
    /// Reports that the call of `permit` failed.
    pub fn on_failure(
        &mut self,
        permit: Permit,
        now: Duration,
    ) -> Option<Transition> {
        if !self.settle(&permit) {
            return None;
        }
        match self.state {
            State::Closed {
                consecutive_failures,
            } => {
                let failures = consecutive_failures + 1;
                if failures >= self.config.failure_threshold {
                    let open = self.opened(now);
                    Some(self.enter(open))
                } else {
                    self.state = State::Closed {
                        consecutive_failures: failures,
                    };
                    None
                }
            }
            State::HalfOpen if permit.is_probe() => {
                let open = self.opened(now);
                Some(self.enter(open))
            }
            _ => None,
        }
    }

    // ANCHOR_END: failure

    /// Reports that the call of `permit` was abandoned without a verdict
    /// (cancelled, timed out by the caller): it frees a probe slot and
    /// changes nothing else.
    pub fn release(&mut self, permit: Permit) {
        self.settle(&permit);
    }

    // ANCHOR: settle
    /// Frees the permit's probe slot; true if its verdict may change the state.
    fn settle(&mut self, permit: &Permit) -> bool {
        if permit.probe {
            self.probes = self.probes.saturating_sub(1);
        }
        permit.epoch == self.epoch
    }
    // ANCHOR_END: settle

    fn enter(&mut self, state: State) -> Transition {
        let from = self.state.kind();
        self.state = state;
        self.epoch += 1;
        Transition {
            from,
            to: state.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn breaker(f: u32, cool: u64, k: u32) -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig::new(f, secs(cool), k).unwrap())
    }

    /// Where breaker `seed`, opened at 0 by one failure, stays open until.
    fn reopens_at(config: BreakerConfig, seed: u64) -> Duration {
        let mut b = CircuitBreaker::with_seed(config, seed);
        let permit = b.try_acquire(Duration::ZERO).unwrap();
        b.on_failure(permit, Duration::ZERO);
        match b.state() {
            State::Open { until } => until,
            other => panic!("not open: {other:?}"),
        }
    }

    #[test]
    fn jitter_lengthens_cool_downs_by_at_most_its_share_and_spreads_them() {
        let plain = BreakerConfig::new(1, secs(1), 1).unwrap();
        assert_eq!(plain.with_jitter(101), Err(ConfigError::JitterOver100(101)));
        let jittered = plain.with_jitter(50).unwrap();
        let untils: Vec<Duration> =
            (0..64).map(|seed| reopens_at(jittered, seed)).collect();
        assert!(
            untils
                .iter()
                .all(|u| *u >= secs(1) && *u <= secs(1) * 3 / 2)
        );
        let (lo, hi) = (untils.iter().min().unwrap(), untils.iter().max().unwrap());
        assert!(*hi - *lo > Duration::from_millis(300), "{lo:?}..{hi:?}");
        // The planted bug this rules out: every breaker opening for exactly
        // the cool-down, as without jitter (and as the model checks it).
        let lockstep: Vec<Duration> =
            (0..64).map(|seed| reopens_at(plain, seed)).collect();
        assert!(lockstep.iter().all(|u| *u == secs(1)));
    }

    #[test]
    fn rejects_configurations_that_cannot_work() {
        assert_eq!(
            BreakerConfig::new(0, secs(1), 1),
            Err(ConfigError::ZeroFailureThreshold)
        );
        assert_eq!(
            BreakerConfig::new(1, secs(1), 0),
            Err(ConfigError::ZeroProbes)
        );
    }

    #[test]
    fn opens_after_threshold_consecutive_failures_only() {
        let mut b = breaker(3, 10, 1);
        for _ in 0..2 {
            let p = b.try_acquire(secs(0)).unwrap();
            assert_eq!(b.on_failure(p, secs(0)), None);
        }
        // A success breaks the run.
        let p = b.try_acquire(secs(0)).unwrap();
        b.on_success(p, secs(0));
        for _ in 0..2 {
            let p = b.try_acquire(secs(1)).unwrap();
            b.on_failure(p, secs(1));
        }
        assert_eq!(b.state().kind(), StateKind::Closed);
        let p = b.try_acquire(secs(1)).unwrap();
        assert_eq!(
            b.on_failure(p, secs(1)),
            Some(Transition {
                from: StateKind::Closed,
                to: StateKind::Open
            })
        );
        assert_eq!(
            b.try_acquire(secs(4)),
            Err(Rejected::Open {
                retry_after: secs(7)
            })
        );
    }

    #[test]
    fn half_open_admits_k_probes_and_closes_on_success() {
        let mut b = breaker(1, 5, 2);
        let p = b.try_acquire(secs(0)).unwrap();
        b.on_failure(p, secs(0));
        let p1 = b.try_acquire(secs(5)).unwrap();
        let p2 = b.try_acquire(secs(5)).unwrap();
        assert!(p1.is_probe() && p2.is_probe());
        assert_eq!(
            b.try_acquire(secs(5)),
            Err(Rejected::ProbesInFlight { in_flight: 2 })
        );
        assert_eq!(
            b.on_success(p1, secs(6)).map(|t| t.to),
            Some(StateKind::Closed)
        );
        // The other probe's failure is stale: the breaker stays closed.
        assert_eq!(b.on_failure(p2, secs(6)), None);
        assert_eq!(
            b.state(),
            State::Closed {
                consecutive_failures: 0
            }
        );
    }

    #[test]
    fn failed_probe_reopens_for_a_full_cool_down() {
        let mut b = breaker(1, 5, 1);
        let p = b.try_acquire(secs(0)).unwrap();
        b.on_failure(p, secs(0));
        let probe = b.try_acquire(secs(7)).unwrap();
        b.on_failure(probe, secs(8));
        assert_eq!(b.state(), State::Open { until: secs(13) });
    }

    #[test]
    fn a_slow_old_probe_still_counts_against_the_quota() {
        let mut b = breaker(1, 1, 2);
        let p = b.try_acquire(secs(0)).unwrap();
        b.on_failure(p, secs(0));
        let slow = b.try_acquire(secs(1)).unwrap();
        let fast = b.try_acquire(secs(1)).unwrap();
        b.on_failure(fast, secs(1));
        // Half-open again; `slow` is still out, so one slot is left.
        let again = b.try_acquire(secs(2)).unwrap();
        assert!(again.is_probe());
        assert_eq!(
            b.try_acquire(secs(2)),
            Err(Rejected::ProbesInFlight { in_flight: 2 })
        );
        // The stale probe's success frees its slot but does not close.
        assert_eq!(b.on_success(slow, secs(2)), None);
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(b.probes_in_flight(), 1);
    }

    #[test]
    fn late_failures_from_before_the_trip_are_ignored() {
        let mut b = breaker(2, 5, 1);
        let early = b.try_acquire(secs(0)).unwrap();
        let a = b.try_acquire(secs(0)).unwrap();
        let c = b.try_acquire(secs(0)).unwrap();
        b.on_failure(a, secs(0));
        b.on_failure(c, secs(0));
        let probe = b.try_acquire(secs(5)).unwrap();
        assert_eq!(b.on_failure(early, secs(5)), None);
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(
            b.on_success(probe, secs(5)).map(|t| t.to),
            Some(StateKind::Closed)
        );
    }
}
