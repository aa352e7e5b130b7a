//! Strategies and helpers shared by the checks of Part III.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeSet;

use csp_models::csp::{
    Alphabet, Definitions, Event, Process, Trace, alphabet, call, prefix, skip, stop,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A runner with a fixed seed, so that the figures and counterexamples the
/// book prints are the same on every run, and no regression files.
pub fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

/// A random process over `events` in which the name `name` may appear, always
/// right after an event and at the end (tail recursion), so that the state
/// space stays finite.
pub fn term(
    events: Vec<&'static str>,
    name: &'static str,
) -> BoxedStrategy<Process> {
    let ev = proptest::sample::select(events.clone());
    let plain = call_free(events);
    let leaf = prop_oneof![
        Just(stop()),
        Just(skip()),
        ev.clone().prop_map(move |e| prefix(e, call(name))),
    ];
    leaf.prop_recursive(3, 12, 2, move |inner| {
        prop_oneof![
            (ev.clone(), inner.clone()).prop_map(|(e, p)| prefix(e, p)),
            (inner.clone(), inner.clone()).prop_map(|(p, q)| p.ext(q)),
            (inner.clone(), inner.clone()).prop_map(|(p, q)| p.int(q)),
            (plain.clone(), inner).prop_map(|(p, q)| p.then(q)),
        ]
    })
    .boxed()
}

/// A random process over `events` without names.
pub fn call_free(events: Vec<&'static str>) -> BoxedStrategy<Process> {
    let ev = proptest::sample::select(events);
    let leaf = prop_oneof![
        Just(stop()),
        Just(skip()),
        ev.clone().prop_map(|e| prefix(e, stop()))
    ];
    leaf.prop_recursive(2, 6, 2, move |inner| {
        prop_oneof![
            (ev.clone(), inner.clone()).prop_map(|(e, p)| prefix(e, p)),
            (inner.clone(), inner.clone()).prop_map(|(p, q)| p.ext(q)),
            (inner.clone(), inner).prop_map(|(p, q)| p.then(q)),
        ]
    })
    .boxed()
}

/// One component of a network: its alphabet (a non-empty part of `pool`),
/// and a process over it that may recurse through `name`.
#[derive(Clone, Debug)]
pub struct Component {
    pub alphabet: Alphabet,
    pub body: Process,
    pub main: Process,
    pub name: &'static str,
}

pub fn component(
    pool: &'static [&'static str],
    name: &'static str,
) -> impl Strategy<Value = Component> {
    proptest::sample::subsequence(pool.to_vec(), 1..=pool.len()).prop_flat_map(
        move |events| {
            let alpha = alphabet(events.iter().copied());
            (Just(alpha), term(events.clone(), name), term(events, name)).prop_map(
                move |(alphabet, body, main)| Component {
                    alphabet,
                    body,
                    main,
                    name,
                },
            )
        },
    )
}

/// The definitions of several components together.
pub fn definitions(components: &[&Component]) -> Definitions {
    components
        .iter()
        .fold(Definitions::new(), |d, c| d.define(c.name, c.body.clone()))
}

/// `s ↾ a`: the events of `s` in `a`, and ✓.
pub fn project(s: &[Event], a: &Alphabet) -> Trace {
    s.iter()
        .filter(|e| e.is_tick() || a.contains(*e))
        .cloned()
        .collect()
}

/// Every sequence over `events` of at most `bound` events, optionally
/// ending in ✓ (which counts towards the bound).
pub fn all_words(events: &Alphabet, bound: usize) -> BTreeSet<Trace> {
    let mut out = BTreeSet::from([vec![]]);
    let mut frontier = vec![Trace::new()];
    for _ in 0..bound {
        let mut next = Vec::new();
        for w in &frontier {
            let mut ticked = w.clone();
            ticked.push(Event::tick());
            out.insert(ticked);
            for e in events {
                let mut longer = w.clone();
                longer.push(e.clone());
                out.insert(longer.clone());
                next.push(longer);
            }
        }
        frontier = next;
    }
    out
}

/// The traces in `set` that no trace in `set` extends.
pub fn maximal(set: &BTreeSet<Trace>) -> BTreeSet<Trace> {
    // Sets of traces are prefix-closed: t is extended iff some t·e is in the set.
    let extended: BTreeSet<&[Event]> = set
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| &t[..t.len() - 1])
        .collect();
    set.iter()
        .filter(|t| !extended.contains(t.as_slice()))
        .cloned()
        .collect()
}

/// The text of a shrunk counterexample, on one line per part.
pub fn lines(parts: &[String]) -> String {
    parts.join("\n")
}
