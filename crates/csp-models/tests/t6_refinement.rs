//! T6: a two-stage pipeline refines a buffer of capacity 2 (traces model,
//! internal channel hidden); two parallel workers do not; hiding a channel
//! on which the processes can talk forever makes a divergence.

use book_results::{Measurement, record};
use csp_models::csp::{Label, show};
use csp_models::lts::{Lts, trace_refines};
use csp_models::merc::{self, Model};
use csp_models::systems::{
    buffer, reorders, retrying_link, two_stage_pipeline, two_workers,
};

fn lts((defs, p): (csp_models::csp::Definitions, csp_models::csp::Process)) -> Lts {
    Lts::explore(&p, &defs).expect("finite")
}

// ANCHOR: t6_pipeline
#[test]
fn t6_pipeline_refines_a_two_place_buffer() {
    let spec = lts(buffer(2));
    let pipeline = lts(two_stage_pipeline());
    let down = trace_refines(&spec, &pipeline); // BUF₂ ⊑T PIPELINE
    let up = trace_refines(&pipeline, &spec); // PIPELINE ⊑T BUF₂
    assert!(down.holds(), "counterexample {:?}", down.counterexample);
    assert!(up.holds(), "counterexample {:?}", up.counterexample);
    // A second opinion from an independent checker, in both directions.
    assert!(merc::check(&spec, &pipeline, Model::Traces).unwrap().holds);
    assert!(merc::check(&pipeline, &spec, Model::Traces).unwrap().holds);
    // Hiding `mid` here is safe: the stages cannot talk forever.
    assert_eq!(pipeline.divergence(), None);
    // ANCHOR_END: t6_pipeline
    record(
        "ch16_t6_pipeline",
        vec![
            Measurement::count(
                "ch16_t6_pipeline/spec_states",
                spec.len() as f64,
                "states",
            ),
            Measurement::count(
                "ch16_t6_pipeline/impl_states",
                pipeline.len() as f64,
                "states",
            ),
            Measurement::count(
                "ch16_t6_pipeline/pairs",
                down.pairs as f64,
                "pairs of state sets",
            ),
        ],
    )
    .unwrap();
}

// ANCHOR: t6_workers
#[test]
fn t6_two_workers_do_not_refine_the_buffer() {
    let spec = lts(buffer(2));
    let workers = lts(two_workers());
    let check = trace_refines(&spec, &workers);
    let trace = check.counterexample.clone().expect("the workers reorder");
    assert!(reorders(&trace), "{} is not a reordering", show(&trace));
    let second = merc::check(&spec, &workers, Model::Traces).unwrap();
    assert!(!second.holds);
    // ANCHOR_END: t6_workers
    record(
        "ch16_t6_workers",
        vec![
            Measurement::count(
                "ch16_t6_workers/pairs",
                check.pairs as f64,
                "pairs explored",
            )
            .with_text(show(&trace)),
            Measurement::count("ch16_t6_workers/merc", 1.0, "counterexample")
                .with_text(second.counterexample.unwrap_or_default()),
        ],
    )
    .unwrap();
}

// ANCHOR: t6_livelock
#[test]
fn t6_hiding_the_retry_channel_livelocks() {
    let link = lts(retrying_link());
    let divergence = link
        .divergence()
        .expect("the hidden retries can loop forever");
    // A real loop: reachable by a trace of the link, τ steps only.
    let reached = link.traces(divergence.trace.len());
    assert!(reached.contains(&divergence.trace));
    assert!(!divergence.cycle.is_empty());
    assert!(divergence.cycle.iter().all(|l| matches!(l, Label::Tau(_))));
    // Its traces are still those of a buffer: only ⊑FD sees the problem,
    // and what it sees is the divergence (the buffer has none).
    let spec = lts(buffer(2));
    assert!(trace_refines(&spec, &link).holds());
    assert_eq!(spec.divergence(), None);
    let fd = merc::check(&spec, &link, Model::FailuresDivergences).unwrap();
    let found = fd.counterexample.clone().unwrap_or_default();
    assert!(!fd.holds && found.starts_with("divergence"), "{found}");
    // ANCHOR_END: t6_livelock
    record(
        "ch16_t6_livelock",
        vec![
            Measurement::count(
                "ch16_t6_livelock/states",
                link.len() as f64,
                "states",
            )
            .with_text(divergence.describe()),
            Measurement::count("ch16_t6_livelock/merc", 1.0, "counterexample")
                .with_text(fd.counterexample.unwrap_or_default()),
        ],
    )
    .unwrap();
}
