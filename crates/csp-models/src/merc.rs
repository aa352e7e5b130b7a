//! The refinement questions of [`lts`](crate::lts) asked of an independent
//! checker: the `merc_refinement` crate (FDR-style refinement of labelled
//! transition systems, from the mCRL2 project). The state space built by
//! [`Lts::explore`](crate::lts::Lts::explore) is handed over in the
//! Aldebaran text format.

use merc_lts::read_mcrl2_aut;
use merc_refinement::{
    CounterExample, ExplorationStrategy, RefinementType, refines,
};
use merc_utilities::Timing;

use crate::ModelError;
use crate::lts::Lts;

/// Which semantic model to compare in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// CSP's traces model `⊑T` (merc's weak trace refinement: τ is invisible).
    Traces,
    /// CSP's failures-divergences model `⊑FD`.
    FailuresDivergences,
}

/// merc's verdict on `spec ⊑ imp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the refinement holds.
    pub holds: bool,
    /// merc's counterexample, if any, as the kind of counterexample and its
    /// visible events, e.g. `weak trace ⟨in.0, in.1, out.1⟩`.
    pub counterexample: Option<String>,
}

// ANCHOR: merc
/// Asks merc whether `spec ⊑ imp` in `model`.
pub fn check(spec: &Lts, imp: &Lts, model: Model) -> Result<Verdict, ModelError> {
    let read = |lts: &Lts| {
        read_mcrl2_aut(lts.to_aut().as_bytes())
            .map_err(|e| ModelError::Merc(e.to_string()))
    };
    let kind = match model {
        Model::Traces => RefinementType::Weaktrace,
        Model::FailuresDivergences => RefinementType::FailuresDivergences,
    };
    let (holds, counterexample) = refines(
        read(imp)?,
        read(spec)?,
        kind,
        ExplorationStrategy::BFS,
        false, // no preprocessing: the models are small
        true,  // ask for a counterexample
        &mut Timing::new(),
    );
    Ok(Verdict {
        holds,
        counterexample: counterexample.map(describe),
    })
}
// ANCHOR_END: merc

fn describe(ce: CounterExample<String>) -> String {
    // merc's traces may list τ steps; the traces model does not see them.
    let show = |events: &[String]| {
        let visible: Vec<&str> = events
            .iter()
            .map(String::as_str)
            .filter(|e| !matches!(*e, "τ" | "tau"))
            .collect();
        format!("⟨{}⟩", visible.join(", "))
    };
    match ce {
        CounterExample::Trace(t) => format!("trace {}", show(&t)),
        CounterExample::WeakTrace(t) => format!("weak trace {}", show(&t)),
        CounterExample::StableFailures(t, refusals) => {
            format!(
                "failure: after {} it can refuse {{{}}}",
                show(&t),
                refusals.join(", ")
            )
        }
        CounterExample::Divergence(t) => format!("divergence after {}", show(&t)),
        CounterExample::ImpossibleFutures(t, _) => {
            format!("impossible future after {}", show(&t))
        }
    }
}
