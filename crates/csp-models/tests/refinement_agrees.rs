//! The kernel's trace-refinement check agrees with merc's on random pairs
//! of processes, and its counterexamples are real.

mod common;

use std::cell::Cell;

use book_results::{Measurement, record};
use common::{component, definitions, runner};
use csp_models::lts::{Lts, trace_refines};
use csp_models::merc::{self, Model};
use proptest::prelude::*;

const CASES: u32 = 300;
const POOL: &[&str] = &["a", "b", "c"];

// ANCHOR: agrees
#[test]
fn the_kernel_and_merc_agree_on_trace_refinement() {
    let (holds, fails) = (Cell::new(0u32), Cell::new(0u32));
    let pair = (component(POOL, "X"), component(POOL, "Y"));
    runner(CASES)
        .run(&pair, |(spec, imp)| {
            let defs = definitions(&[&spec, &imp]);
            let s = Lts::explore(&spec.main, &defs).unwrap();
            let i = Lts::explore(&imp.main, &defs).unwrap();
            let ours = trace_refines(&s, &i);
            let theirs = merc::check(&s, &i, Model::Traces).unwrap();
            prop_assert_eq!(ours.holds(), theirs.holds);
            if let Some(t) = &ours.counterexample {
                // A real counterexample: a trace of imp and not of spec.
                prop_assert!(i.traces(t.len()).contains(t));
                prop_assert!(!s.traces(t.len()).contains(t));
                fails.set(fails.get() + 1);
            } else {
                // And a third opinion, by brute force up to a length.
                prop_assert!(i.traces(5).is_subset(&s.traces(5)));
                holds.set(holds.get() + 1);
            }
            Ok(())
        })
        .expect("the two checkers agree");
    // ANCHOR_END: agrees
    record(
        "ch14_agree",
        vec![
            Measurement::count(
                "ch14_agree/cases",
                CASES as f64,
                "random pairs of processes",
            ),
            Measurement::count("ch14_agree/holds", holds.get() as f64, "pairs"),
            Measurement::count("ch14_agree/fails", fails.get() as f64, "pairs"),
        ],
    )
    .unwrap();
}
