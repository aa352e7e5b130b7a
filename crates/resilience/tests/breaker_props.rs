//! Random call sequences against the pure breaker, checked against facts
//! stated independently of its code.

use std::time::Duration;

use otlp_csp_resilience::{
    BreakerConfig, CircuitBreaker, Permit, Rejected, State, StateKind,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Wait(u64),
    Acquire,
    Succeed(usize),
    Fail(usize),
    Abandon(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u64..4).prop_map(Op::Wait),
        Just(Op::Acquire),
        any::<usize>().prop_map(Op::Succeed),
        any::<usize>().prop_map(Op::Fail),
        any::<usize>().prop_map(Op::Abandon),
    ]
}

proptest! {
    #[test]
    fn breaker_invariants_hold(
        threshold in 1u32..4,
        cool_down in 0u64..5,
        probes in 1u32..3,
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let config = BreakerConfig::new(threshold, Duration::from_secs(cool_down), probes).unwrap();
        let mut breaker = CircuitBreaker::new(config);
        let mut now = 0u64;
        let mut held: Vec<Permit> = Vec::new();
        let mut opened_at: Option<u64> = None;
        for op in ops {
            let t = Duration::from_secs(now);
            match op {
                Op::Wait(d) => now += d,
                Op::Acquire => match breaker.try_acquire(t) {
                    Ok(p) => {
                        if let Some(o) = opened_at {
                            prop_assert!(now >= o + cool_down, "admitted at {now}, opened at {o}");
                        }
                        held.push(p);
                    }
                    Err(Rejected::Open { retry_after }) => {
                        let o = opened_at.expect("open without having opened");
                        prop_assert_eq!(Duration::from_secs(o + cool_down), t + retry_after);
                    }
                    Err(Rejected::ProbesInFlight { in_flight }) => {
                        prop_assert_eq!(in_flight, probes);
                        prop_assert_eq!(breaker.state(), State::HalfOpen);
                    }
                },
                Op::Succeed(i) | Op::Fail(i) | Op::Abandon(i) if !held.is_empty() => {
                    let permit = held.swap_remove(i % held.len());
                    let before = breaker.state();
                    let transition = match op {
                        Op::Succeed(_) => breaker.on_success(permit, t),
                        Op::Fail(_) => breaker.on_failure(permit, t),
                        _ => {
                            breaker.release(permit);
                            None
                        }
                    };
                    if let Some(tr) = transition {
                        prop_assert!(tr.from != tr.to);
                        if tr.to == StateKind::Open {
                            opened_at = Some(now);
                            // From closed only on the threshold-th failure in a row.
                            if let State::Closed { consecutive_failures } = before {
                                prop_assert_eq!(consecutive_failures + 1, threshold);
                            }
                        }
                    }
                }
                _ => {}
            }
            let probes_held = held.iter().filter(|p| p.is_probe()).count() as u32;
            prop_assert_eq!(breaker.probes_in_flight(), probes_held);
            prop_assert!(probes_held <= probes);
            if let State::Closed { consecutive_failures } = breaker.state() {
                prop_assert!(consecutive_failures < threshold);
            }
        }
    }
}
