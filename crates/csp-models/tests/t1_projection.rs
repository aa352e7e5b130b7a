//! T1: Hoare's projection law for alphabetised parallel composition, and
//! when a trace set is closed under swapping independent neighbours.

mod common;

use std::collections::BTreeSet;

use book_results::{Measurement, record};
use common::{Component, all_words, component, definitions, lines, project, runner};
use csp_models::csp::{Alphabet, Event, Process, parallel, show};
use csp_models::lts::Lts;
use csp_models::order::{Independence, closed_under_swaps};
use proptest::prelude::*;
use proptest::test_runner::TestError;

/// Traces are compared up to this many events.
const BOUND: usize = 4;
const CASES: u32 = 300;
const POOL: &[&str] = &["a", "b", "c", "d"];

fn network(p: &Component, q: &Component) -> (Process, Lts, Lts, Lts) {
    let defs = definitions(&[p, q]);
    let system = parallel(
        p.main.clone(),
        p.alphabet.clone(),
        q.alphabet.clone(),
        q.main.clone(),
    );
    let explore =
        |x: &Process| Lts::explore(x, &defs).expect("finite by construction");
    (
        system.clone(),
        explore(&system),
        explore(&p.main),
        explore(&q.main),
    )
}

// ANCHOR: t1_law
/// traces≤n(P [A||B] Q) = { s ∈ (A ∪ B)^≤n, optionally ending in ✓ |
///                          s↾A ∈ traces≤n(P) and s↾B ∈ traces≤n(Q) }
/// where s↾X keeps the events in X and ✓.
#[test]
fn t1_projection_law() {
    let compared = std::cell::Cell::new(0usize);
    let pair = (component(POOL, "X"), component(POOL, "Y"));
    runner(CASES)
        .run(&pair, |(p, q)| {
            let (_, both, left, right) = network(&p, &q);
            let (tp, tq) = (left.traces(BOUND), right.traces(BOUND));
            let union: Alphabet = p.alphabet.union(&q.alphabet).cloned().collect();
            let law: BTreeSet<_> = all_words(&union, BOUND)
                .into_iter()
                .filter(|s| {
                    tp.contains(&project(s, &p.alphabet))
                        && tq.contains(&project(s, &q.alphabet))
                })
                .collect();
            let traces = both.traces(BOUND);
            compared.set(compared.get() + traces.len());
            prop_assert_eq!(traces, law);
            Ok(())
        })
        .expect("the projection law holds");
    // ANCHOR_END: t1_law
    record(
        "ch16_t1_law",
        vec![
            Measurement::count(
                "ch16_t1_law/cases",
                CASES as f64,
                "random pairs of processes",
            ),
            Measurement::count(
                "ch16_t1_law/traces",
                compared.get() as f64,
                "traces",
            ),
            Measurement::count("ch16_t1_law/bound", BOUND as f64, "events"),
        ],
    )
    .unwrap();
}

// ANCHOR: t1_swaps
/// With the independence of the alphabets (a and b independent when no
/// component has both), the traces of P [A||B] Q are closed under swapping
/// adjacent independent events: whatever A and B are. When A ∩ B = ∅ that
/// relation is "a and b belong to different components".
#[test]
fn t1_swap_closure() {
    let overlapping = std::cell::Cell::new(0u32);
    let pair = (component(POOL, "X"), component(POOL, "Y"));
    runner(CASES)
        .run(&pair, |(p, q)| {
            let (_, both, _, _) = network(&p, &q);
            let ind = Independence::of_alphabets(&[
                p.alphabet.clone(),
                q.alphabet.clone(),
            ]);
            if !p.alphabet.is_disjoint(&q.alphabet) {
                overlapping.set(overlapping.get() + 1);
            }
            let closed = closed_under_swaps(&both.traces(BOUND), &ind);
            prop_assert!(closed.is_ok(), "not closed: {:?}", closed);
            Ok(())
        })
        .expect("trace sets are closed under independent swaps");
    // ANCHOR_END: t1_swaps
    record(
        "ch16_t1_swaps",
        vec![
            Measurement::count(
                "ch16_t1_swaps/cases",
                CASES as f64,
                "random pairs of processes",
            ),
            Measurement::count(
                "ch16_t1_swaps/overlapping",
                overlapping.get() as f64,
                "pairs with shared events",
            ),
        ],
    )
    .unwrap();
}

// ANCHOR: t1_naive
/// "Events of different components commute" is not an independence once
/// the alphabets overlap: a shared event belongs to both components.
/// proptest must find a counterexample, and the test fails if it does not.
#[test]
fn t1_naive_swaps_fail_when_alphabets_overlap() {
    let overlapping = (component(POOL, "X"), component(POOL, "Y"))
        .prop_filter("alphabets overlap", |(p, q)| {
            !p.alphabet.is_disjoint(&q.alphabet)
        });
    let naive = |p: &Component, q: &Component| {
        let mut pairs = Vec::new();
        for a in &p.alphabet {
            for b in &q.alphabet {
                if a != b {
                    pairs.push((a.clone(), b.clone()));
                }
            }
        }
        Independence::from_pairs(pairs).unwrap()
    };
    let result = runner(CASES).run(&overlapping, |(p, q)| {
        let (_, both, _, _) = network(&p, &q);
        prop_assert!(
            closed_under_swaps(&both.traces(BOUND), &naive(&p, &q)).is_ok()
        );
        Ok(())
    });
    let Err(TestError::Fail(_, (p, q))) = result else {
        panic!("expected a counterexample, got {result:?}");
    };
    // ANCHOR_END: t1_naive
    let (system, both, _, _) = network(&p, &q);
    let (trace, swapped) =
        closed_under_swaps(&both.traces(BOUND), &naive(&p, &q)).unwrap_err();
    let set = |a: &Alphabet| {
        let names: Vec<&str> = a.iter().map(Event::name).collect();
        format!("{{{}}}", names.join(", "))
    };
    let text = lines(&[
        format!("P [A||B] Q = {system}"),
        // The components may call themselves by name: give both definitions.
        format!("where {} = {} and {} = {}", p.name, p.body, q.name, q.body),
        format!("A = {}, B = {}", set(&p.alphabet), set(&q.alphabet)),
        format!("trace:                 {}", show(&trace)),
        format!("swapped, not a trace:  {}", show(&swapped)),
    ]);
    record(
        "ch16_t1_naive",
        vec![
            Measurement::count(
                "ch16_t1_naive/counterexample",
                trace.len() as f64,
                "events",
            )
            .with_text(text),
        ],
    )
    .unwrap();
}
