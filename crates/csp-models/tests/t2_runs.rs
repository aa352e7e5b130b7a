//! T2: a choice-free network has one run, a partial order whose
//! linearisations are exactly its maximal traces; with choice it has several.
//! Also: a Mazurkiewicz trace is the set of linearisations of its pomset.

mod common;

use std::collections::BTreeSet;

use book_results::{Measurement, record};
use common::{lines, maximal, runner};
use csp_models::csp::{
    Alphabet, Definitions, Event, Process, Trace, alphabet, parallel, prefix,
    sequence, show, stop,
};
use csp_models::lts::Lts;
use csp_models::order::{Independence, Pomset, equivalence_class, network_run};
use proptest::prelude::*;

const CASES: u32 = 300;
const POOL: &[&str] = &["a", "b", "c", "d", "e"];

/// A choice-free component: an alphabet and a fixed sequence over it.
fn straight_line() -> impl Strategy<Value = (Trace, Alphabet)> {
    proptest::sample::subsequence(POOL.to_vec(), 1..=3).prop_flat_map(|events| {
        let alpha = alphabet(events.iter().copied());
        proptest::collection::vec(proptest::sample::select(events), 0..=3).prop_map(
            move |seq| (seq.into_iter().map(Event::new).collect(), alpha.clone()),
        )
    })
}

/// `P₁ [A₁||A₂] P₂`, then `[A₁∪A₂||A₃] P₃`, … as one process.
fn compose(components: &[(Process, Alphabet)]) -> Process {
    let (first, rest) = components.split_first().expect("at least one");
    let (mut p, mut a) = first.clone();
    for (q, b) in rest {
        p = parallel(p, a.clone(), b.clone(), q.clone());
        a = a.union(b).cloned().collect();
    }
    p
}

fn as_process(seq: &Trace) -> Process {
    sequence(seq.iter().map(Event::name), stop())
}

fn traces_of(p: &Process) -> BTreeSet<Trace> {
    Lts::explore(p, &Definitions::new()).unwrap().traces(64)
}

// ANCHOR: t2_one_run
#[test]
fn t2_a_choice_free_network_has_one_run() {
    let events = std::cell::Cell::new(0usize);
    let network = proptest::collection::vec(straight_line(), 1..=3);
    runner(CASES)
        .run(&network, |components| {
            let run = network_run(&components).unwrap();
            let procs: Vec<_> = components
                .iter()
                .map(|(s, a)| (as_process(s), a.clone()))
                .collect();
            let traces = traces_of(&compose(&procs));
            // The maximal traces are exactly the run's linearisations...
            prop_assert_eq!(maximal(&traces), run.linearisations());
            // ...and every trace is a prefix of one.
            let prefixes: BTreeSet<Trace> = run
                .linearisations()
                .iter()
                .flat_map(|w| (0..=w.len()).map(|k| w[..k].to_vec()))
                .collect();
            prop_assert_eq!(traces, prefixes);
            events.set(events.get() + run.len());
            Ok(())
        })
        .expect("one run per choice-free network");
    // ANCHOR_END: t2_one_run
    record(
        "ch16_t2_one_run",
        vec![
            Measurement::count(
                "ch16_t2_one_run/cases",
                CASES as f64,
                "random networks",
            ),
            Measurement::count(
                "ch16_t2_one_run/events",
                events.get() as f64,
                "event occurrences",
            ),
        ],
    )
    .unwrap();
}

// ANCHOR: t2_choice_inputs
/// A component that chooses between two straight lines (`l → s₁ □ r → s₂`),
/// beside a choice-free one it shares nothing with: the maximal traces are
/// the linearisations of two different runs, and of no single partial order
/// (the runs do not even have the same events).
#[test]
fn t2_with_choice_there_are_several_runs() {
    let example = std::cell::RefCell::new(String::new());
    let side = || {
        proptest::collection::vec(proptest::sample::select(vec!["a", "b"]), 0..=3)
    };
    let other =
        proptest::collection::vec(proptest::sample::select(vec!["c", "d"]), 0..=3);
    // ANCHOR_END: t2_choice_inputs
    // ANCHOR: t2_choice_system
    runner(CASES)
        .run(&(side(), side(), other), |(left, right, other)| {
            let ab = alphabet(["l", "r", "a", "b"]);
            let cd = alphabet(["c", "d"]);
            let line = |first: &str, rest: &[&str]| {
                let seq: Trace = std::iter::once(first)
                    .chain(rest.iter().copied())
                    .map(Event::new)
                    .collect();
                seq
            };
            let (l, r) = (line("l", &left), line("r", &right));
            let o: Trace = other.iter().map(|e| Event::new(e)).collect();
            let chooser = prefix("l", as_process(&l[1..].to_vec()))
                .ext(prefix("r", as_process(&r[1..].to_vec())));
            let system =
                parallel(chooser.clone(), ab.clone(), cd.clone(), as_process(&o));
            // ANCHOR_END: t2_choice_system
            // ANCHOR: t2_choice_runs
            let runs = [
                network_run(&[(l, ab.clone()), (o.clone(), cd.clone())]).unwrap(),
                network_run(&[(r, ab.clone()), (o, cd.clone())]).unwrap(),
            ];
            let union: BTreeSet<Trace> =
                runs.iter().flat_map(Pomset::linearisations).collect();
            prop_assert_eq!(maximal(&traces_of(&system)), union);
            prop_assert!(!runs[0].same_run(&runs[1]));
            if example.borrow().is_empty() && runs.iter().all(|r| r.len() >= 3) {
                *example.borrow_mut() = lines(&[
                    format!("process: {system}"),
                    format!("run 1: {}", runs[0]),
                    format!("run 2: {}", runs[1]),
                ]);
            }
            Ok(())
        })
        .expect("several runs");
    // ANCHOR_END: t2_choice_runs
    record(
        "ch16_t2_choice",
        vec![
            Measurement::count(
                "ch16_t2_choice/cases",
                CASES as f64,
                "random networks",
            )
            .with_text(example.into_inner()),
        ],
    )
    .unwrap();
}

// ANCHOR: t2_mazurkiewicz
/// The words equivalent to w under swaps of independent neighbours are
/// exactly the linearisations of w's dependency order.
#[test]
fn t2_a_mazurkiewicz_trace_is_the_linearisations_of_its_pomset() {
    let words =
        proptest::collection::vec(proptest::sample::select(POOL.to_vec()), 0..=6);
    let pairs = proptest::collection::vec(
        (
            proptest::sample::select(POOL.to_vec()),
            proptest::sample::select(POOL.to_vec()),
        ),
        0..=6,
    );
    runner(CASES)
        .run(&(words, pairs), |(word, pairs)| {
            let ind = Independence::from_pairs(
                pairs
                    .into_iter()
                    .filter(|(a, b)| a != b)
                    .map(|(a, b)| (Event::new(a), Event::new(b))),
            )
            .unwrap();
            let w: Trace = word.iter().map(|e| Event::new(e)).collect();
            prop_assert_eq!(
                equivalence_class(&w, &ind),
                Pomset::from_word(&w, &ind).linearisations(),
                "{}",
                show(&w)
            );
            Ok(())
        })
        .expect("Mazurkiewicz classes are pomsets");
    // ANCHOR_END: t2_mazurkiewicz
    record(
        "ch16_t2_mazurkiewicz",
        vec![Measurement::count(
            "ch16_t2_mazurkiewicz/cases",
            CASES as f64,
            "random words and relations",
        )],
    )
    .unwrap();
}
