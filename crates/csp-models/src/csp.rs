//! The CSP process language: events, alphabets, processes, and their
//! operational semantics (which transitions a process can take).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::ModelError;

#[cfg(feature = "mutants")]
pub mod mutants;

/// How many times a process name may be unfolded without an event in
/// between before the recursion is declared unguarded (`X = X □ a → X`).
pub const MAX_UNFOLD: usize = 64;

/// An event: an atomic, instantaneous communication such as `in.0`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Event(Arc<str>);

impl Event {
    /// The event called `name`.
    pub fn new(name: &str) -> Self {
        Self(Arc::from(name))
    }

    /// Successful termination, written ✓: the last event of a trace of a
    /// process that finished (`SKIP`).
    pub fn tick() -> Self {
        Self::new("✓")
    }

    /// Whether this is ✓.
    pub fn is_tick(&self) -> bool {
        &*self.0 == "✓"
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Event {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of events: the events a process may take part in.
pub type Alphabet = BTreeSet<Event>;

/// The alphabet made of `names`.
pub fn alphabet<'a>(names: impl IntoIterator<Item = &'a str>) -> Alphabet {
    names.into_iter().map(Event::new).collect()
}

/// A finite sequence of visible events; ✓, if present, is the last.
pub type Trace = Vec<Event>;

/// Formats a trace the way the book writes it: `⟨a, b, ✓⟩`.
pub fn show(trace: &[Event]) -> String {
    let names: Vec<&str> = trace.iter().map(Event::name).collect();
    format!("⟨{}⟩", names.join(", "))
}

// ANCHOR: process
/// A CSP process term (Roscoe 2010, without data: a channel
/// value is part of the event's name, as in `in.0`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Process {
    /// `STOP`: does nothing, ever (deadlock).
    Stop,
    /// `SKIP`: terminates at once (✓).
    Skip,
    /// `a → P`: takes part in `a`, then behaves as `P`.
    Prefix(Event, Box<Process>),
    /// `P □ Q`: the environment chooses, by offering the first event.
    External(Box<Process>, Box<Process>),
    /// `P ⊓ Q`: the process chooses, and the environment cannot see how.
    Internal(Box<Process>, Box<Process>),
    /// `P ; Q`: `P`, and when it terminates, `Q`.
    Seq(Box<Process>, Box<Process>),
    /// `P [A||B] Q`: `P` restricted to alphabet `A`, `Q` to `B`, running
    /// together; they must agree on every event in `A ∩ B` (and on ✓).
    Parallel(Box<Process>, Alphabet, Alphabet, Box<Process>),
    /// `P ||| Q`: `P` and `Q` side by side, never waiting for each other
    /// (except to finish together, ✓).
    Interleave(Box<Process>, Box<Process>),
    /// `P \ H`: `P` with the events in `H` made internal (invisible).
    Hide(Box<Process>, Alphabet),
    /// A named process, defined (possibly recursively) in [`Definitions`].
    Call(Arc<str>),
}
// ANCHOR_END: process

/// `STOP`.
pub fn stop() -> Process {
    Process::Stop
}

/// `SKIP`.
pub fn skip() -> Process {
    Process::Skip
}

/// `event → then`.
pub fn prefix(event: &str, then: Process) -> Process {
    Process::Prefix(Event::new(event), Box::new(then))
}

/// `a₁ → a₂ → … → then`.
pub fn sequence<'a>(
    events: impl IntoIterator<Item = &'a str>,
    then: Process,
) -> Process {
    let events: Vec<&str> = events.into_iter().collect();
    events
        .into_iter()
        .rev()
        .fold(then, |rest, event| prefix(event, rest))
}

/// The named process `name`.
pub fn call(name: &str) -> Process {
    Process::Call(Arc::from(name))
}

/// `left [a||b] right`.
pub fn parallel(left: Process, a: Alphabet, b: Alphabet, right: Process) -> Process {
    Process::Parallel(Box::new(left), a, b, Box::new(right))
}

impl Process {
    /// `self □ other`.
    pub fn ext(self, other: Process) -> Process {
        Process::External(Box::new(self), Box::new(other))
    }

    /// `self ⊓ other`.
    pub fn int(self, other: Process) -> Process {
        Process::Internal(Box::new(self), Box::new(other))
    }

    /// `self ; other`.
    pub fn then(self, other: Process) -> Process {
        Process::Seq(Box::new(self), Box::new(other))
    }

    /// `self ||| other`.
    pub fn interleave(self, other: Process) -> Process {
        Process::Interleave(Box::new(self), Box::new(other))
    }

    /// `self \ hidden`.
    pub fn hide(self, hidden: Alphabet) -> Process {
        Process::Hide(Box::new(self), hidden)
    }

    /// The events written in the term (not following names).
    pub fn events(&self) -> Alphabet {
        let mut out = Alphabet::new();
        self.collect_events(&mut out);
        out
    }

    fn collect_events(&self, out: &mut Alphabet) {
        match self {
            Process::Stop | Process::Skip | Process::Call(_) => {}
            Process::Prefix(e, p) => {
                out.insert(e.clone());
                p.collect_events(out);
            }
            Process::External(p, q)
            | Process::Internal(p, q)
            | Process::Seq(p, q) => {
                p.collect_events(out);
                q.collect_events(out);
            }
            Process::Parallel(p, _, _, q) | Process::Interleave(p, q) => {
                p.collect_events(out);
                q.collect_events(out);
            }
            Process::Hide(p, _) => p.collect_events(out),
        }
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn set(a: &Alphabet) -> String {
            let names: Vec<&str> = a.iter().map(Event::name).collect();
            format!("{{{}}}", names.join(","))
        }
        match self {
            Process::Stop => f.write_str("STOP"),
            Process::Skip => f.write_str("SKIP"),
            Process::Prefix(e, p) => write!(f, "{e} → {p}"),
            Process::External(p, q) => write!(f, "({p} □ {q})"),
            Process::Internal(p, q) => write!(f, "({p} ⊓ {q})"),
            Process::Seq(p, q) => write!(f, "({p} ; {q})"),
            Process::Parallel(p, a, b, q) => {
                write!(f, "({p} [{}||{}] {q})", set(a), set(b))
            }
            Process::Interleave(p, q) => write!(f, "({p} ||| {q})"),
            Process::Hide(p, h) => write!(f, "({p} \\ {})", set(h)),
            Process::Call(n) => f.write_str(n),
        }
    }
}

/// Named process definitions, e.g. `BUF = in → out → BUF`: how recursion
/// is written. A name is unfolded (replaced by its body) only when a
/// transition is needed, so a guarded recursion unfolds once per step.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    bodies: BTreeMap<Arc<str>, Process>,
    /// A wrong rule to use instead of the kernel's (tests only).
    #[cfg(feature = "mutants")]
    planted: Option<mutants::Mutant>,
}

impl Definitions {
    /// No definitions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name = body`.
    pub fn define(mut self, name: &str, body: Process) -> Self {
        self.bodies.insert(Arc::from(name), body);
        self
    }

    /// These definitions, with `bug` planted in the operational rules: a
    /// deliberately wrong rule, so that the law checks can show they fail
    /// (feature `mutants`; only the crate's tests enable it).
    #[cfg(feature = "mutants")]
    pub fn with_planted_bug(mut self, bug: mutants::Mutant) -> Self {
        self.planted = Some(bug);
        self
    }

    fn body(&self, name: &str) -> Result<&Process, ModelError> {
        self.bodies
            .get(name)
            .ok_or_else(|| ModelError::Undefined(name.to_owned()))
    }
}

/// What a transition shows to the environment.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Label {
    /// A visible event (✓ included).
    Visible(Event),
    /// An internal step τ: a hidden event (named, for diagnostics) or an
    /// internal decision.
    Tau(Option<Event>),
}

/// Every transition `process --label--> next` (the operational semantics of
/// Roscoe 2010, for this subset). Names are unfolded on the way.
pub fn transitions(
    process: &Process,
    defs: &Definitions,
) -> Result<Vec<(Label, Process)>, ModelError> {
    step(process, defs, 0)
}

// ANCHOR: step_basic
fn step(
    p: &Process,
    defs: &Definitions,
    unfolded: usize,
) -> Result<Vec<(Label, Process)>, ModelError> {
    use Label::{Tau, Visible};
    #[cfg(feature = "mutants")]
    if let Some(wrong) = mutants::apply(p, defs, unfolded) {
        return wrong;
    }
    let tick = |l: &Label| matches!(l, Visible(e) if e.is_tick());
    Ok(match p {
        Process::Stop => vec![],
        Process::Skip => vec![(Visible(Event::tick()), Process::Stop)],
        Process::Prefix(e, next) => vec![(Visible(e.clone()), (**next).clone())],
        Process::Internal(l, r) => {
            vec![(Tau(None), (**l).clone()), (Tau(None), (**r).clone())]
        }
        // ANCHOR_END: step_basic
        // ANCHOR: step_external
        Process::External(l, r) => {
            let mut out = Vec::new();
            // A visible event (or ✓) resolves the choice; τ does not.
            for (label, next) in step(l, defs, unfolded)? {
                out.push(match label {
                    Tau(h) => (Tau(h), next.ext((**r).clone())),
                    visible => (visible, next),
                });
            }
            for (label, next) in step(r, defs, unfolded)? {
                out.push(match label {
                    Tau(h) => (Tau(h), (**l).clone().ext(next)),
                    visible => (visible, next),
                });
            }
            out
        }
        // ANCHOR_END: step_external
        // ANCHOR: step_seq
        Process::Seq(first, second) => step(first, defs, unfolded)?
            .into_iter()
            .map(|(label, next)| {
                if tick(&label) {
                    // `first` finished: hand over, invisibly.
                    (Tau(None), (**second).clone())
                } else {
                    (label, next.then((**second).clone()))
                }
            })
            .collect(),
        // ANCHOR_END: step_seq
        // ANCHOR: step_parallel_own
        Process::Parallel(l, a, b, r) => {
            let left = step(l, defs, unfolded)?;
            let right = step(r, defs, unfolded)?;
            let mut out = Vec::new();
            let join = |p: Process, q: Process| parallel(p, a.clone(), b.clone(), q);
            for (label, next) in &left {
                match label {
                    Tau(_) => {
                        out.push((label.clone(), join(next.clone(), (**r).clone())))
                    }
                    Visible(e) if a.contains(e) && !b.contains(e) => {
                        out.push((label.clone(), join(next.clone(), (**r).clone())))
                    }
                    _ => {}
                }
            }
            for (label, next) in &right {
                match label {
                    Tau(_) => {
                        out.push((label.clone(), join((**l).clone(), next.clone())))
                    }
                    Visible(e) if b.contains(e) && !a.contains(e) => {
                        out.push((label.clone(), join((**l).clone(), next.clone())))
                    }
                    _ => {}
                }
            }
            // ANCHOR_END: step_parallel_own
            // ANCHOR: step_parallel_sync
            // Shared events, and ✓ (both must finish), need both sides.
            for (label, p) in &left {
                let Visible(e) = label else { continue };
                let shared = e.is_tick() || (a.contains(e) && b.contains(e));
                if !shared {
                    continue;
                }
                for (other, q) in &right {
                    if other == label {
                        let next = if e.is_tick() {
                            Process::Stop
                        } else {
                            join(p.clone(), q.clone())
                        };
                        out.push((label.clone(), next));
                    }
                }
            }
            out
        }
        // ANCHOR_END: step_parallel_sync
        // ANCHOR: step_interleave
        Process::Interleave(l, r) => {
            let left = step(l, defs, unfolded)?;
            let right = step(r, defs, unfolded)?;
            let mut out = Vec::new();
            for (label, p) in &left {
                if !tick(label) {
                    out.push((label.clone(), p.clone().interleave((**r).clone())));
                }
            }
            for (label, q) in &right {
                if !tick(label) {
                    out.push((label.clone(), (**l).clone().interleave(q.clone())));
                }
            }
            if left.iter().any(|(l, _)| tick(l))
                && right.iter().any(|(l, _)| tick(l))
            {
                out.push((Visible(Event::tick()), Process::Stop));
            }
            out
        }
        // ANCHOR_END: step_interleave
        // ANCHOR: step_hide_call
        Process::Hide(inner, hidden) => step(inner, defs, unfolded)?
            .into_iter()
            .map(|(label, next)| match label {
                Visible(e) if hidden.contains(&e) => {
                    (Tau(Some(e)), next.hide(hidden.clone()))
                }
                Visible(e) if e.is_tick() => (Visible(e), Process::Stop),
                other => (other, next.hide(hidden.clone())),
            })
            .collect(),
        Process::Call(name) => {
            if unfolded >= MAX_UNFOLD {
                return Err(ModelError::Unguarded(name.to_string()));
            }
            step(defs.body(name)?, defs, unfolded + 1)?
        }
    })
}
// ANCHOR_END: step_hide_call
