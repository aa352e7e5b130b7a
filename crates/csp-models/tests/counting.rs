//! The counting argument of chapter 16: for k ≥ 2 events and n ≥ 1 there
//! are more trace sets of depth n than span forests with at most n spans,
//! so no map from the first to the second is one-to-one.
//!
//! The closed-form counts of `csp_models::counting` are checked against
//! brute-force enumeration, each trace set counted is checked to be the
//! trace set of a process of the book's kernel, and two planted bugs (a
//! count that forgets prefix closure, one that orders siblings) are shown
//! to be rejected by the same enumeration.

use std::collections::{BTreeSet, HashSet};

use csp_models::counting::{
    more_trace_sets_than_forests, span_forests, span_forests_by_size, trace_sets,
};
use csp_models::csp::{Definitions, Process, prefix, stop};
use csp_models::lts::Lts;

const NAMES: [&str; 3] = ["a", "b", "c"];

/// Every trace over `k` events of at most `n` events, shortest first.
fn all_traces(k: u32, n: u32) -> Vec<Vec<u8>> {
    let mut all = vec![Vec::new()];
    let mut layer = vec![Vec::new()];
    for _ in 0..n {
        layer = layer
            .iter()
            .flat_map(|t: &Vec<u8>| {
                (0..k as u8).map(move |e| [t.as_slice(), &[e]].concat())
            })
            .collect();
        all.extend(layer.iter().cloned());
    }
    all
}

/// Every trace set of depth `n` over `k` events, by trying every subset.
fn enumerate_trace_sets(k: u32, n: u32) -> Vec<BTreeSet<Vec<u8>>> {
    let traces = all_traces(k, n);
    assert!(traces.len() <= 16, "too many subsets to try");
    (0u32..1 << traces.len())
        .map(|mask| {
            (0..traces.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| traces[i].clone())
                .collect::<BTreeSet<_>>()
        })
        .filter(|set| {
            set.contains(&Vec::new())
                && set
                    .iter()
                    .all(|t| t.is_empty() || set.contains(&t[..t.len() - 1]))
        })
        .collect()
}

/// Every span forest of exactly `m` spans named from `k` events, each in a
/// canonical form (children sorted), found by trying every parent array in
/// which a parent comes before its children and every naming.
fn enumerate_forests(k: u32, m: usize) -> HashSet<String> {
    fn canon(node: usize, parent: &[Option<usize>], name: &[u32]) -> String {
        let mut kids: Vec<String> = (0..parent.len())
            .filter(|&c| parent[c] == Some(node))
            .map(|c| canon(c, parent, name))
            .collect();
        kids.sort();
        format!("{}({})", name[node], kids.join(","))
    }
    let parents: usize = (1..=m).product(); // node i has i + 1 choices
    let names = (k as usize).pow(m as u32);
    let mut found = HashSet::new();
    for p in 0..parents {
        let mut rest = p;
        let parent: Vec<Option<usize>> = (0..m)
            .map(|i| {
                let choice = rest % (i + 1);
                rest /= i + 1;
                choice.checked_sub(1) // 0: a root; j: node j − 1
            })
            .collect();
        for l in 0..names {
            let name: Vec<u32> = (0..m)
                .map(|i| (l / (k as usize).pow(i as u32) % k as usize) as u32)
                .collect();
            let mut roots: Vec<String> = (0..m)
                .filter(|&i| parent[i].is_none())
                .map(|i| canon(i, &parent, &name))
                .collect();
            roots.sort();
            found.insert(roots.join(";"));
        }
    }
    found
}

type Count = fn(u32, u32) -> Option<u128>;

/// The cases small enough to enumerate: (k, n) with at most 16 traces.
const SMALL: [(u32, u32); 5] = [(1, 4), (2, 1), (2, 2), (2, 3), (3, 2)];

fn trace_count_agrees(count: Count) -> Result<(), String> {
    for (k, n) in SMALL {
        let enumerated = enumerate_trace_sets(k, n).len() as u128;
        if count(k, n) != Some(enumerated) {
            return Err(format!(
                "k = {k}, n = {n}: {:?} counted, {enumerated} enumerated",
                count(k, n)
            ));
        }
    }
    Ok(())
}

fn forest_count_agrees(count: Count) -> Result<(), String> {
    for (k, max) in [(1, 5), (2, 4), (3, 3)] {
        let enumerated: u128 = (0..=max)
            .map(|m| enumerate_forests(k, m).len() as u128)
            .sum();
        if count(k, max as u32) != Some(enumerated) {
            return Err(format!(
                "k = {k}, at most {max} spans: {:?} counted, {enumerated} enumerated",
                count(k, max as u32)
            ));
        }
    }
    Ok(())
}

#[test]
fn the_counts_agree_with_enumeration() {
    trace_count_agrees(trace_sets).unwrap();
    forest_count_agrees(span_forests).unwrap();
    assert_eq!(
        span_forests_by_size(2, 4).unwrap(),
        (0..=4)
            .map(|m| enumerate_forests(2, m).len() as u128)
            .collect::<Vec<_>>()
    );
}

/// Each trace set counted is the trace set of a process: external choice
/// over the first events, each followed by the process of what may follow.
#[test]
fn every_trace_set_is_a_process() {
    fn process(set: &BTreeSet<Vec<u8>>, done: &[u8], k: u32) -> Process {
        (0..k as u8)
            .filter(|&e| set.contains(&[done, &[e]].concat()))
            .map(|e| {
                let after = process(set, &[done, &[e]].concat(), k);
                prefix(NAMES[e as usize], after)
            })
            .reduce(Process::ext)
            .unwrap_or_else(stop)
    }
    for (k, n) in [(2, 2), (3, 2)] {
        for set in enumerate_trace_sets(k, n) {
            let p = process(&set, &[], k);
            let lts = Lts::explore(&p, &Definitions::new()).unwrap();
            let traces: BTreeSet<Vec<u8>> = lts
                .traces(n as usize + 1)
                .iter()
                .map(|t| {
                    t.iter()
                        .map(|e| {
                            NAMES.iter().position(|x| *x == e.name()).unwrap() as u8
                        })
                        .collect()
                })
                .collect();
            assert_eq!(traces, set, "k = {k}, n = {n}");
        }
    }
}

// ANCHOR: theorem
#[test]
fn more_trace_sets_than_small_span_forests() {
    for k in 2..=6 {
        for n in 1..=6 {
            assert_eq!(more_trace_sets_than_forests(k, n), Some(true), "{k} {n}");
            // The two bounds of the proof: N ≥ 2^(kⁿ), S < 2·(4k)ⁿ.
            let forests = span_forests(k, n).unwrap();
            assert!(forests < 2 * u128::from(4 * k).pow(n), "{k} {n}");
            if let (Some(sets), Some(e)) = (trace_sets(k, n), k.checked_pow(n))
                && e < 128
            {
                assert!(sets >= 1 << e, "{k} {n}");
            }
        }
    }
}

#[test]
fn with_one_event_the_inequality_fails() {
    // ⟨⟩, ⟨a⟩, …, ⟨aⁿ⟩: n + 1 trace sets, and at least as many forests.
    for n in 1..=10 {
        assert_eq!(more_trace_sets_than_forests(1, n), Some(false), "{n}");
    }
}
// ANCHOR_END: theorem

/// Planted bug: counting every set of traces that contains ⟨⟩, prefix
/// closed or not, makes the argument look stronger than it is.
#[test]
fn a_count_that_forgets_prefix_closure_is_rejected() {
    fn without_closure(k: u32, n: u32) -> Option<u128> {
        let traces = all_traces(k, n).len() as u32;
        1u128.checked_shl(traces - 1)
    }
    let err = trace_count_agrees(without_closure).unwrap_err();
    assert!(err.contains("enumerated"), "{err}");
}

/// Planted bug: counting forests whose siblings are ordered (Catalan
/// numbers times kᵐ) counts one OTLP forest several times.
#[test]
fn a_count_that_orders_siblings_is_rejected() {
    fn ordered(k: u32, n: u32) -> Option<u128> {
        let mut catalan: u128 = 1;
        let mut total: u128 = 0;
        for m in 0..=u128::from(n) {
            total += catalan * u128::from(k).pow(m as u32);
            catalan = catalan * 2 * (2 * m + 1) / (m + 2);
        }
        Some(total)
    }
    let err = forest_count_agrees(ordered).unwrap_err();
    assert!(err.contains("enumerated"), "{err}");
}
