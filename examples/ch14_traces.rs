//! Chapter 14: processes, their traces, and trace refinement, computed by
//! the book's CSP kernel (`csp-models`).

use std::collections::BTreeSet;

use otlp_csp::models::csp::{
    Definitions, Process, Trace, alphabet, call, parallel, prefix, show, stop,
};
use otlp_csp::models::lts::{Lts, trace_refines};
use otlp_csp::models::merc::{self, Model};

fn traces(p: &Process, defs: &Definitions, bound: usize) -> BTreeSet<Trace> {
    Lts::explore(p, defs)
        .expect("a finite process")
        .traces(bound)
}

fn print(name: &str, set: &BTreeSet<Trace>) {
    let shown: Vec<String> = set.iter().map(|t| show(t)).collect();
    println!("{name:<10} {}", shown.join(" "));
}

fn main() {
    let none = Definitions::new();
    // ANCHOR: choice
    // Two ways to offer b or c after a, and the process choosing by itself.
    let late = prefix("a", prefix("b", stop()).ext(prefix("c", stop())));
    let early =
        prefix("a", prefix("b", stop())).ext(prefix("a", prefix("c", stop())));
    let internal = prefix("a", prefix("b", stop()).int(prefix("c", stop())));
    for (name, p) in [("late", &late), ("early", &early), ("internal", &internal)] {
        print(name, &traces(p, &none, 3));
    }
    // ANCHOR_END: choice

    // ANCHOR: parallel
    // P and Q share c: c happens only when both are ready for it.
    let p = prefix("a", prefix("c", stop()));
    let q = prefix("b", prefix("c", stop()));
    let both = parallel(p, alphabet(["a", "c"]), alphabet(["b", "c"]), q);
    print("P [A||B] Q", &traces(&both, &none, 4));
    print("hide c", &traces(&both.hide(alphabet(["c"])), &none, 4));
    // ANCHOR_END: parallel

    // ANCHOR: refinement
    // The specification: a machine that sells coffee. The implementation may
    // also decide, by itself, to serve tea.
    let defs = Definitions::new()
        .define("SPEC", prefix("coin", prefix("coffee", call("SPEC"))))
        .define(
            "VM",
            prefix(
                "coin",
                prefix("coffee", call("VM")).int(prefix("tea", call("VM"))),
            ),
        )
        .define("GOOD", prefix("coin", prefix("coffee", call("GOOD"))));
    let lts = |name: &str| Lts::explore(&call(name), &defs).unwrap();
    let (spec, vm, good) = (lts("SPEC"), lts("VM"), lts("GOOD"));
    for (name, imp) in [("VM", &vm), ("GOOD", &good)] {
        match trace_refines(&spec, imp).counterexample {
            None => println!("SPEC ⊑T {name}: holds"),
            Some(t) => println!("SPEC ⊑T {name}: fails, {name} can do {}", show(&t)),
        }
    }
    // ANCHOR_END: refinement

    // ANCHOR: failures
    // Same traces, different promises: □ lets the environment pick, ⊓ does not.
    let ext = prefix("a", stop()).ext(prefix("b", stop()));
    let int = prefix("a", stop()).int(prefix("b", stop()));
    let (ext, int) = (
        Lts::explore(&ext, &none).unwrap(),
        Lts::explore(&int, &none).unwrap(),
    );
    println!("same traces: {}", ext.traces(2) == int.traces(2));
    let traces = merc::check(&ext, &int, Model::Traces).unwrap();
    let failures = merc::check(&ext, &int, Model::FailuresDivergences).unwrap();
    println!("□ ⊑T ⊓: {}", traces.holds);
    println!("□ ⊑FD ⊓: {}", failures.holds);
    println!("merc: {}", failures.counterexample.unwrap_or_default());
    // ANCHOR_END: failures
}
