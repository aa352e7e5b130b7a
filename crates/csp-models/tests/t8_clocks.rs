//! T8: vector clocks characterise happens-before exactly; Lamport clocks
//! only one way.

mod common;

use std::collections::VecDeque;

use book_results::{Measurement, record};
use common::{lines, runner};
use csp_models::clocks::{Action, Execution, Step};
use proptest::prelude::*;
use proptest::test_runner::TestError;

const CASES: u32 = 500;

/// Random executions: each step names a process and whether it does a
/// local event, sends to another process, or receives its oldest pending
/// message (a receive with nothing pending becomes a local event).
fn execution() -> impl Strategy<Value = Execution> {
    (2usize..=4).prop_flat_map(|n| {
        proptest::collection::vec((0..n, 0u8..3, 0..n), 1..14).prop_map(move |raw| {
            let mut pending: Vec<VecDeque<usize>> = vec![VecDeque::new(); n];
            let mut steps = Vec::new();
            let mut next_msg = 0;
            for (p, kind, to) in raw {
                let action = match kind {
                    1 if to != p => {
                        pending[to].push_back(next_msg);
                        next_msg += 1;
                        Action::Send(next_msg - 1)
                    }
                    2 => match pending[p].pop_front() {
                        Some(m) => Action::Receive(m),
                        None => Action::Local,
                    },
                    _ => Action::Local,
                };
                steps.push(Step { process: p, action });
            }
            Execution::new(steps).expect("well formed by construction")
        })
    })
}

// ANCHOR: t8_vector
#[test]
fn t8_vector_clocks_characterise_happens_before() {
    let pairs = std::cell::Cell::new(0usize);
    runner(CASES)
        .run(&execution(), |x| {
            let (hb, vc, lamport) = (x.happens_before(), x.vector(), x.lamport());
            for i in 0..hb.len() {
                for j in 0..hb.len() {
                    // e → f  iff  VC(e) < VC(f)
                    prop_assert_eq!(
                        hb[i][j],
                        vc[i].before(&vc[j]),
                        "events {} {} in {}",
                        i,
                        j,
                        x
                    );
                    // e → f  implies  L(e) < L(f)
                    if hb[i][j] {
                        prop_assert!(lamport[i] < lamport[j]);
                    }
                }
            }
            pairs.set(pairs.get() + hb.len() * hb.len());
            Ok(())
        })
        .expect("vector clocks are exact");
    // ANCHOR_END: t8_vector
    record(
        "ch16_t8_vector",
        vec![
            Measurement::count(
                "ch16_t8_vector/cases",
                CASES as f64,
                "random executions",
            ),
            Measurement::count(
                "ch16_t8_vector/pairs",
                pairs.get() as f64,
                "pairs of events",
            ),
        ],
    )
    .unwrap();
}

// ANCHOR: t8_lamport
/// The converse of the clock condition, L(e) < L(f) ⇒ e → f, is false, and
/// proptest must find (and shrink) a counterexample.
#[test]
fn t8_lamport_clocks_do_not_characterise_it() {
    let result = runner(CASES).run(&execution(), |x| {
        let (hb, lamport) = (x.happens_before(), x.lamport());
        for i in 0..hb.len() {
            for j in 0..hb.len() {
                if lamport[i] < lamport[j] {
                    prop_assert!(hb[i][j]);
                }
            }
        }
        Ok(())
    });
    let Err(TestError::Fail(_, x)) = result else {
        panic!("expected a counterexample, got {result:?}");
    };
    // ANCHOR_END: t8_lamport
    let (hb, lamport, vc) = (x.happens_before(), x.lamport(), x.vector());
    let n = hb.len();
    let (i, j) = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .find(|&(i, j)| lamport[i] < lamport[j] && !hb[i][j])
        .expect("the failing pair");
    let text = lines(&[
        format!("execution: {x}"),
        format!("e = event {i}: L(e) = {}, VC(e) = {}", lamport[i], vc[i]),
        format!("f = event {j}: L(f) = {}, VC(f) = {}", lamport[j], vc[j]),
        "L(e) < L(f), yet e does not happen before f (the vector clocks are incomparable)".into(),
    ]);
    record(
        "ch16_t8_lamport",
        vec![
            Measurement::count(
                "ch16_t8_lamport/counterexample",
                x.steps().len() as f64,
                "events",
            )
            .with_text(text),
        ],
    )
    .unwrap();
}
