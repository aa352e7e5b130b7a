//! A process's state space as a labelled transition system (LTS), and what
//! the traces model reads from it: trace sets up to a length, trace
//! refinement, and divergence.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::ModelError;
use crate::csp::{Definitions, Event, Label, Process, Trace, transitions};

/// The largest state space [`Lts::explore`] builds before giving up.
pub const DEFAULT_STATE_LIMIT: usize = 100_000;

/// The states reachable from a process and the transitions between them.
#[derive(Clone, Debug)]
pub struct Lts {
    /// The process term of each state; state 0 is the initial one.
    pub states: Vec<Process>,
    /// Transitions `(from, label, to)`.
    pub transitions: Vec<(usize, Label, usize)>,
    out: Vec<Vec<(Label, usize)>>,
}

impl Lts {
    /// Explores every state reachable from `process` (at most
    /// [`DEFAULT_STATE_LIMIT`]).
    pub fn explore(
        process: &Process,
        defs: &Definitions,
    ) -> Result<Self, ModelError> {
        Self::explore_with_limit(process, defs, DEFAULT_STATE_LIMIT)
    }

    /// Explores at most `limit` states; more is an error, not a truncation.
    pub fn explore_with_limit(
        process: &Process,
        defs: &Definitions,
        limit: usize,
    ) -> Result<Self, ModelError> {
        let mut index = HashMap::new();
        let mut states = vec![process.clone()];
        index.insert(process.clone(), 0);
        let mut out: Vec<Vec<(Label, usize)>> = vec![Vec::new()];
        let mut edges = Vec::new();
        let mut todo = VecDeque::from([0usize]);
        while let Some(s) = todo.pop_front() {
            for (label, next) in transitions(&states[s], defs)? {
                let t = match index.get(&next) {
                    Some(&t) => t,
                    None => {
                        if states.len() == limit {
                            return Err(ModelError::TooManyStates(limit));
                        }
                        let t = states.len();
                        index.insert(next.clone(), t);
                        states.push(next);
                        out.push(Vec::new());
                        todo.push_back(t);
                        t
                    }
                };
                out[s].push((label.clone(), t));
                edges.push((s, label, t));
            }
        }
        Ok(Self {
            states,
            transitions: edges,
            out,
        })
    }

    /// The number of states.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether there are no states (never: the initial state is always there).
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// `set` with every state reachable from it by τ steps.
    pub fn tau_closure(&self, set: &BTreeSet<usize>) -> BTreeSet<usize> {
        let mut seen = set.clone();
        let mut todo: Vec<usize> = set.iter().copied().collect();
        while let Some(s) = todo.pop() {
            for (label, t) in &self.out[s] {
                if matches!(label, Label::Tau(_)) && seen.insert(*t) {
                    todo.push(*t);
                }
            }
        }
        seen
    }

    /// The states reached from `set` by one `event` followed by τ steps.
    pub fn after(&self, set: &BTreeSet<usize>, event: &Event) -> BTreeSet<usize> {
        let mut next = BTreeSet::new();
        for &s in set {
            for (label, t) in &self.out[s] {
                if matches!(label, Label::Visible(e) if e == event) {
                    next.insert(*t);
                }
            }
        }
        self.tau_closure(&next)
    }

    /// The visible events some state in `set` can take.
    pub fn initials(&self, set: &BTreeSet<usize>) -> BTreeSet<Event> {
        set.iter()
            .flat_map(|&s| &self.out[s])
            .filter_map(|(label, _)| match label {
                Label::Visible(e) => Some(e.clone()),
                Label::Tau(_) => None,
            })
            .collect()
    }

    fn start(&self) -> BTreeSet<usize> {
        self.tau_closure(&BTreeSet::from([0]))
    }

    // ANCHOR: traces
    /// Every trace of at most `bound` visible events (✓ counts as one).
    pub fn traces(&self, bound: usize) -> BTreeSet<Trace> {
        let mut found = BTreeSet::new();
        let mut todo = vec![(Trace::new(), self.start())];
        while let Some((trace, set)) = todo.pop() {
            if trace.len() < bound {
                for e in self.initials(&set) {
                    let mut longer = trace.clone();
                    longer.push(e.clone());
                    if e.is_tick() {
                        found.insert(longer);
                    } else {
                        todo.push((longer, self.after(&set, &e)));
                    }
                }
            }
            found.insert(trace);
        }
        found
    }
    // ANCHOR_END: traces

    /// A state that can do τ steps forever (a divergence), with the visible
    /// trace that reaches it and the hidden events of one τ cycle from it.
    pub fn divergence(&self) -> Option<Divergence> {
        // Breadth first, so the trace to the divergent state is a shortest one.
        let mut parent: BTreeMap<usize, (usize, Label)> = BTreeMap::new();
        let mut order = vec![0usize];
        let mut seen = BTreeSet::from([0usize]);
        let mut i = 0;
        while i < order.len() {
            let s = order[i];
            i += 1;
            if let Some(cycle) = self.tau_cycle(s) {
                let mut path = Vec::new();
                let mut at = s;
                while let Some((from, label)) = parent.get(&at) {
                    path.push(label.clone());
                    at = *from;
                }
                path.reverse();
                let visible = path
                    .into_iter()
                    .filter_map(|l| match l {
                        Label::Visible(e) => Some(e),
                        Label::Tau(_) => None,
                    })
                    .collect();
                return Some(Divergence {
                    trace: visible,
                    cycle,
                });
            }
            for (label, t) in &self.out[s] {
                if seen.insert(*t) {
                    parent.insert(*t, (s, label.clone()));
                    order.push(*t);
                }
            }
        }
        None
    }

    /// The labels of a τ path from `s` back to `s`, if there is one.
    fn tau_cycle(&self, s: usize) -> Option<Vec<Label>> {
        let mut parent: BTreeMap<usize, (usize, Label)> = BTreeMap::new();
        let mut todo = VecDeque::from([s]);
        let mut seen = BTreeSet::new();
        while let Some(u) = todo.pop_front() {
            for (label, t) in &self.out[u] {
                if !matches!(label, Label::Tau(_)) {
                    continue;
                }
                if *t == s {
                    let mut cycle = vec![label.clone()];
                    let mut at = u;
                    while at != s {
                        let (from, l) = &parent[&at];
                        cycle.push(l.clone());
                        at = *from;
                    }
                    cycle.reverse();
                    return Some(cycle);
                }
                if seen.insert(*t) {
                    parent.insert(*t, (u, label.clone()));
                    todo.push_back(*t);
                }
            }
        }
        None
    }

    /// The LTS in the Aldebaran (`.aut`) text format that mCRL2 and the
    /// `merc` crates read; τ is written `tau`.
    pub fn to_aut(&self) -> String {
        let mut text =
            format!("des (0,{},{})\n", self.transitions.len(), self.states.len());
        for (from, label, to) in &self.transitions {
            let name = match label {
                Label::Visible(e) if e.is_tick() => "tick".to_owned(),
                Label::Visible(e) => e.name().to_owned(),
                Label::Tau(_) => "tau".to_owned(),
            };
            text.push_str(&format!("({from},\"{name}\",{to})\n"));
        }
        text
    }
}

/// A divergence found by [`Lts::divergence`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The visible events before the process can loop internally.
    pub trace: Trace,
    /// One internal loop: τ steps, named by the hidden event where there is one.
    pub cycle: Vec<Label>,
}

impl Divergence {
    /// `after ⟨in.0⟩: τ(mid.0) τ(retry) …` style text.
    pub fn describe(&self) -> String {
        let steps: Vec<String> = self
            .cycle
            .iter()
            .map(|l| match l {
                Label::Tau(Some(e)) => format!("τ({e})"),
                Label::Tau(None) => "τ".to_owned(),
                Label::Visible(e) => e.to_string(),
            })
            .collect();
        format!(
            "after {}: {} and again, forever",
            crate::csp::show(&self.trace),
            steps.join(" ")
        )
    }
}

/// The answer of a trace-refinement check `spec ⊑T imp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefinementCheck {
    /// Pairs (spec state set, implementation state set) explored.
    pub pairs: usize,
    /// A shortest trace of the implementation that the specification
    /// cannot do, if there is one.
    pub counterexample: Option<Trace>,
}

impl RefinementCheck {
    /// Whether the refinement holds.
    pub fn holds(&self) -> bool {
        self.counterexample.is_none()
    }
}

// ANCHOR: refines
/// Trace refinement `spec ⊑T imp`: every trace of `imp` is a trace of
/// `spec`. Exact for finite-state processes: both sides are explored
/// together, each as the set of states it may be in after the trace so far
/// (FDR's normalisation of the specification, done on the fly).
pub fn trace_refines(spec: &Lts, imp: &Lts) -> RefinementCheck {
    let start = (spec.start(), imp.start());
    let mut seen = BTreeSet::from([start.clone()]);
    let mut todo = VecDeque::from([(start, Trace::new())]);
    while let Some(((s, i), trace)) = todo.pop_front() {
        for e in imp.initials(&i) {
            let mut longer = trace.clone();
            longer.push(e.clone());
            let s2 = spec.after(&s, &e);
            if s2.is_empty() {
                // Breadth first: this is a shortest counterexample.
                return RefinementCheck {
                    pairs: seen.len(),
                    counterexample: Some(longer),
                };
            }
            let pair = (s2, imp.after(&i, &e));
            if seen.insert(pair.clone()) {
                todo.push_back((pair, longer));
            }
        }
    }
    RefinementCheck {
        pairs: seen.len(),
        counterexample: None,
    }
}
// ANCHOR_END: refines
