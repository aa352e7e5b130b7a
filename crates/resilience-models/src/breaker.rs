//! The circuit breaker, model-checked: the real [`CircuitBreaker`] driven by
//! a few callers and a clock that ticks up to a horizon, every interleaving.

use std::time::Duration;

use stateright::{Model, Property};

use otlp_csp_resilience::{
    BreakerConfig, CircuitBreaker, Permit, Rejected, StateKind,
};

/// Callers that acquire, succeed, fail or abandon in any order while the
/// clock ticks from 0 to `horizon` (one tick = one second of `now`).
#[derive(Debug, Clone)]
pub struct BreakerModel {
    /// The breaker under test.
    pub config: BreakerConfig,
    /// How many callers act concurrently.
    pub callers: usize,
    /// The last tick.
    pub horizon: u64,
    /// The probe limit the safety property asserts (the configured one,
    /// unless a test lowers it to watch the checker find a violation).
    pub asserted_probe_limit: u32,
}

// ANCHOR: state
/// One state: the breaker, what each caller holds, and ghost variables
/// that record history the breaker itself does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BreakerState {
    /// The current tick.
    pub now: u64,
    /// The real breaker.
    pub breaker: CircuitBreaker,
    /// Each caller's permit, if it holds one.
    pub callers: Vec<Option<Permit>>,
    /// Ghost: the tick at which the breaker last opened.
    pub opened_at: Option<u64>,
    /// Ghost: a call was admitted before the cool-down had passed.
    pub admitted_too_early: bool,
    /// Ghost: some call has been rejected with [`Rejected::Open`].
    pub rejected_open: bool,
}
// ANCHOR_END: state

/// What can happen next.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BreakerAction {
    /// Time passes by one tick.
    Tick,
    /// Caller `i` asks to make a call.
    Acquire(usize),
    /// Caller `i`'s call succeeds.
    Succeed(usize),
    /// Caller `i`'s call fails.
    Fail(usize),
    /// Caller `i` gives up without a verdict.
    Abandon(usize),
}

fn at(tick: u64) -> Duration {
    Duration::from_secs(tick)
}

impl Model for BreakerModel {
    type State = BreakerState;
    type Action = BreakerAction;

    fn init_states(&self) -> Vec<BreakerState> {
        vec![BreakerState {
            now: 0,
            breaker: CircuitBreaker::new(self.config),
            callers: vec![None; self.callers],
            opened_at: None,
            admitted_too_early: false,
            rejected_open: false,
        }]
    }

    // ANCHOR: actions
    fn actions(&self, state: &BreakerState, actions: &mut Vec<BreakerAction>) {
        if state.now < self.horizon {
            actions.push(BreakerAction::Tick);
        }
        for (i, held) in state.callers.iter().enumerate() {
            if held.is_some() {
                actions.push(BreakerAction::Succeed(i));
                actions.push(BreakerAction::Fail(i));
                actions.push(BreakerAction::Abandon(i));
            } else {
                actions.push(BreakerAction::Acquire(i));
            }
        }
    }
    // ANCHOR_END: actions

    // ANCHOR: acquire
    fn next_state(
        &self,
        last: &BreakerState,
        action: BreakerAction,
    ) -> Option<BreakerState> {
        let mut s = last.clone();
        let now = at(s.now);
        match action {
            BreakerAction::Tick => s.now += 1,
            BreakerAction::Acquire(i) => match s.breaker.try_acquire(now) {
                Ok(permit) => {
                    let cool_down_over = s.opened_at.is_none_or(|t| {
                        at(s.now) >= at(t) + self.config.cool_down()
                    });
                    s.admitted_too_early |= !cool_down_over;
                    s.callers[i] = Some(permit);
                }
                Err(Rejected::Open { .. }) => s.rejected_open = true,
                Err(Rejected::ProbesInFlight { .. }) => {
                    // A refused probe changes nothing: no new state.
                    return None;
                }
            },
            // ANCHOR_END: acquire
            // ANCHOR: verdicts
            BreakerAction::Succeed(i) => {
                let permit = s.callers[i].take()?;
                s.breaker.on_success(permit, now);
            }
            BreakerAction::Fail(i) => {
                let permit = s.callers[i].take()?;
                if let Some(t) = s.breaker.on_failure(permit, now)
                    && t.to == StateKind::Open
                {
                    s.opened_at = Some(s.now);
                }
            }
            BreakerAction::Abandon(i) => {
                let permit = s.callers[i].take()?;
                s.breaker.release(permit);
            }
        }
        Some(s)
    }
    // ANCHOR_END: verdicts

    // ANCHOR: safety
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::<Self>::always("at most K probes while half-open", |m, s| {
                let probes =
                    s.callers.iter().flatten().filter(|p| p.is_probe()).count();
                s.breaker.state().kind() != StateKind::HalfOpen
                    || probes <= m.asserted_probe_limit as usize
            }),
            Property::<Self>::always(
                "no call admitted during the cool-down",
                |_, s| !s.admitted_too_early,
            ),
            // ANCHOR_END: safety
            // ANCHOR: reachable
            Property::<Self>::sometimes("open", |_, s| {
                s.breaker.state().kind() == StateKind::Open
            }),
            Property::<Self>::sometimes("rejected while open", |_, s| {
                s.rejected_open
            }),
            Property::<Self>::sometimes("half-open with K probes", |m, s| {
                s.breaker.state().kind() == StateKind::HalfOpen
                    && s.breaker.probes_in_flight() == m.config.max_probes()
            }),
            Property::<Self>::sometimes("closed again after a probe", |_, s| {
                s.opened_at.is_some()
                    && s.breaker.state().kind() == StateKind::Closed
            }),
        ]
    }
    // ANCHOR_END: reachable
}

impl BreakerModel {
    /// The configuration the chapter checks: 2 failures open the breaker for
    /// 2 ticks, 2 probes at most, 3 callers, 6 ticks.
    pub fn chapter() -> Self {
        let config = BreakerConfig::new(2, Duration::from_secs(2), 2)
            .expect("a valid configuration");
        Self {
            config,
            callers: 3,
            horizon: 6,
            asserted_probe_limit: config.max_probes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Checker;

    #[test]
    fn the_breaker_is_safe_and_every_state_is_reachable() {
        let checker = BreakerModel::chapter().checker().spawn_bfs().join();
        checker.assert_properties();
        assert!(checker.unique_state_count() > 1000);
    }

    #[test]
    fn the_checker_finds_k_plus_one_probes_when_told_the_limit_is_lower() {
        let mut model = BreakerModel::chapter();
        model.asserted_probe_limit = 1;
        let checker = model.checker().spawn_bfs().join();
        let path = checker.assert_any_discovery("at most K probes while half-open");
        let last = path.last_state();
        assert_eq!(
            last.callers
                .iter()
                .flatten()
                .filter(|p| p.is_probe())
                .count(),
            2
        );
    }
}
