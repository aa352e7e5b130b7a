//! Deliberately wrong operational rules, planted with
//! [`Definitions::with_planted_bug`] to show that the law checks of
//! `tests/laws.rs` can fail: each mutant changes one rule of
//! [`transitions`](super::transitions) in a way the traces model sees.
//! Compiled only with the feature `mutants`, which only the crate's own
//! tests enable.

use super::{Definitions, Label, Process, step};
use crate::ModelError;

/// One wrong rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// `P ; Q` passes `P`'s ✓ on as a visible ✓ instead of a τ step to `Q`.
    SeqShowsTick,
    /// `P ; Q` offers `Q`'s first events before `P` has terminated.
    SeqStartsEarly,
    /// `P \ H` drops a hidden event's transitions instead of making them τ.
    HideDropsEvent,
    /// `P □ Q` keeps only the left branch's visible events.
    ExternalLeftOnly,
}

/// The transitions of `p` under the planted rule, or `None` where the
/// kernel's rule applies. Subterms go back through the kernel's `step`,
/// so the wrong rule applies at every depth.
pub(super) fn apply(
    p: &Process,
    defs: &Definitions,
    unfolded: usize,
) -> Option<Result<Vec<(Label, Process)>, ModelError>> {
    wrong(defs.planted?, p, defs, unfolded).transpose()
}

fn wrong(
    bug: Mutant,
    p: &Process,
    defs: &Definitions,
    unfolded: usize,
) -> Result<Option<Vec<(Label, Process)>>, ModelError> {
    use Label::{Tau, Visible};
    let tick = |l: &Label| matches!(l, Visible(e) if e.is_tick());
    let mut out = Vec::new();
    match (bug, p) {
        (Mutant::SeqShowsTick, Process::Seq(first, second)) => {
            for (label, next) in step(first, defs, unfolded)? {
                if tick(&label) {
                    // Wrong: the kernel hands over with τ.
                    out.push((label, (**second).clone()));
                } else {
                    out.push((label, next.then((**second).clone())));
                }
            }
        }
        (Mutant::SeqStartsEarly, Process::Seq(first, second)) => {
            for (label, next) in step(first, defs, unfolded)? {
                if tick(&label) {
                    out.push((Tau(None), (**second).clone()));
                } else {
                    out.push((label, next.then((**second).clone())));
                }
            }
            // Wrong: `second` may not move before `first` has finished.
            for (label, next) in step(second, defs, unfolded)? {
                if let Visible(_) = label {
                    out.push((label, next));
                }
            }
        }
        (Mutant::HideDropsEvent, Process::Hide(inner, hidden)) => {
            for (label, next) in step(inner, defs, unfolded)? {
                match label {
                    // Wrong: the kernel makes it a τ step.
                    Visible(e) if hidden.contains(&e) => {}
                    Visible(e) if e.is_tick() => {
                        out.push((Visible(e), Process::Stop))
                    }
                    other => out.push((other, next.hide(hidden.clone()))),
                }
            }
        }
        (Mutant::ExternalLeftOnly, Process::External(l, r)) => {
            for (label, next) in step(l, defs, unfolded)? {
                out.push(match label {
                    Tau(h) => (Tau(h), next.ext((**r).clone())),
                    visible => (visible, next),
                });
            }
            // Wrong: the right branch's visible events are lost.
            for (label, next) in step(r, defs, unfolded)? {
                if let Tau(h) = label {
                    out.push((Tau(h), (**l).clone().ext(next)));
                }
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(out))
}
