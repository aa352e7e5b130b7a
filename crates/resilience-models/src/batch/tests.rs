//! The T5 model's own checks: the processor holds every property, each
//! planted bug is rejected, and each property rejects a bad state.

use std::collections::BTreeSet;

use stateright::{Checker, Model};

use super::*;

#[test]
fn the_processor_model_holds_every_property() {
    let checker = BatchModel::CHAPTER.checker().spawn_bfs().join();
    checker.assert_properties();
    assert!(checker.unique_state_count() > 1000);
}

// ANCHOR: bugs_rejected
#[test]
fn each_planted_bug_is_rejected() {
    for bug in [Bug::StopOnEmptyPop, Bug::CheckThenClaim, Bug::RequeueFailed] {
        let model = BatchModel::with_bug(bug);
        let checker = model.checker().spawn_bfs().join();
        let broken = BatchModel::broken_by(bug);
        let path = checker
            .discovery(broken)
            .unwrap_or_else(|| panic!("{bug:?}: \"{broken}\" still holds"));
        let last = path.last_state();
        assert!(!(model.property(broken).condition)(&model, last));
    }
}
// ANCHOR_END: bugs_rejected

#[test]
fn stopping_on_an_empty_pop_strands_a_claimed_slot() {
    let model = BatchModel::with_bug(Bug::StopOnEmptyPop);
    let checker = model.checker().spawn_bfs().join();
    let path = checker.discovery("drained").expect("a counterexample");
    // stateright's path is one that breaks "drained", not always the
    // shortest; whichever it is, the exporter stopped while the slot at the
    // head was claimed and not yet written.
    let steps = path.into_vec();
    let stop = steps
        .iter()
        .position(|(_, a)| *a == Some(BatchAction::Stop))
        .expect("the exporter stops");
    let before = &steps[stop].0;
    assert!(
        !before.queue.is_empty() && before.ready_len() == 0,
        "{before:?}"
    );
}

#[test]
fn every_step_makes_progress() {
    let model = BatchModel::CHAPTER;
    let mut pending = model.init_states();
    let mut seen = std::collections::HashSet::new();
    while let Some(s) = pending.pop() {
        if !seen.insert(s.clone()) {
            continue;
        }
        for (_, next) in model.next_steps(&s) {
            assert!(progress(&next) > progress(&s), "{s:?} -> {next:?}");
            pending.push(next);
        }
    }
    assert_eq!(
        seen.len(),
        BatchModel::CHAPTER
            .checker()
            .spawn_bfs()
            .join()
            .unique_state_count()
    );
}

#[test]
fn the_properties_reject_bad_states() {
    let model = BatchModel::CHAPTER;
    let good = model.init_states().remove(0);
    let set = |ids: &[SpanId]| ids.iter().copied().collect::<BTreeSet<_>>();
    let bad = [
        // A span exported twice.
        (
            "accounting",
            BatchState {
                ended: vec![1, 0],
                exported: vec![(1, 1), (1, 1)],
                ..good.clone()
            },
        ),
        // A span both exported and counted as dropped.
        (
            "accounting",
            BatchState {
                ended: vec![1, 0],
                exported: vec![(1, 1)],
                dropped_full: set(&[(1, 1)]),
                ..good.clone()
            },
        ),
        // A span lost.
        (
            "accounting",
            BatchState {
                ended: vec![1, 1],
                exported: vec![(2, 1)],
                ..good.clone()
            },
        ),
        // Producer 1's spans out of order, producer 2's in between.
        (
            "per-producer FIFO",
            BatchState {
                ended: vec![2, 1],
                exported: vec![(1, 2), (2, 1), (1, 1)],
                ..good.clone()
            },
        ),
        // Stopped with a span still in the queue.
        (
            "drained",
            BatchState {
                ended: vec![1, 0],
                queue: vec![(1, 1)],
                closed: true,
                stopped: true,
                ..good.clone()
            },
        ),
    ];
    for (name, state) in bad {
        let property = model.property(name);
        assert!(
            !(property.condition)(&model, &state),
            "{name} accepted {state:?}"
        );
    }
    // Several producers' spans may interleave: that is not a FIFO violation.
    let interleaved = BatchState {
        ended: vec![2, 1],
        exported: vec![(1, 1), (2, 1), (1, 2)],
        ..good
    };
    assert!((model.property("per-producer FIFO").condition)(
        &model,
        &interleaved
    ));
}
