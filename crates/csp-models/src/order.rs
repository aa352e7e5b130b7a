//! Partial orders of events: Mazurkiewicz traces (words up to swapping
//! independent neighbours) and runs as labelled partial orders (pomsets).

use std::collections::{BTreeSet, VecDeque};
use std::fmt;

use crate::ModelError;
use crate::csp::{Alphabet, Event, Trace};

/// An independence relation: a symmetric, irreflexive set of pairs of events
/// that may be swapped when they are next to each other in a trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Independence {
    pairs: BTreeSet<(Event, Event)>,
}

impl Independence {
    /// The relation holding exactly the given pairs, both ways round.
    /// A pair of an event with itself is refused.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (Event, Event)>,
    ) -> Result<Self, ModelError> {
        let mut out = Self::default();
        for (a, b) in pairs {
            if a == b {
                return Err(ModelError::Reflexive(a.to_string()));
            }
            out.pairs.insert((b.clone(), a.clone()));
            out.pairs.insert((a, b));
        }
        Ok(out)
    }

    // ANCHOR: independence
    /// The independence of a network whose components have the alphabets
    /// `alphabets`: two different events are independent when no component
    /// takes part in both (Mazurkiewicz's distributed alphabets).
    pub fn of_alphabets(alphabets: &[Alphabet]) -> Self {
        let all: Alphabet = alphabets.iter().flatten().cloned().collect();
        let mut pairs = BTreeSet::new();
        for a in &all {
            for b in &all {
                if a != b
                    && !alphabets.iter().any(|x| x.contains(a) && x.contains(b))
                {
                    pairs.insert((a.clone(), b.clone()));
                }
            }
        }
        Self { pairs }
    }
    // ANCHOR_END: independence

    /// Whether `a` and `b` are independent.
    pub fn independent(&self, a: &Event, b: &Event) -> bool {
        self.pairs.contains(&(a.clone(), b.clone()))
    }

    /// The independent pairs, each once (`a < b`).
    pub fn pairs(&self) -> impl Iterator<Item = &(Event, Event)> {
        self.pairs.iter().filter(|(a, b)| a < b)
    }
}

/// Every word obtained from `word` by one swap of adjacent independent events.
pub fn one_swap(word: &[Event], ind: &Independence) -> Vec<Trace> {
    (0..word.len().saturating_sub(1))
        .filter(|&i| ind.independent(&word[i], &word[i + 1]))
        .map(|i| {
            let mut w = word.to_vec();
            w.swap(i, i + 1);
            w
        })
        .collect()
}

// ANCHOR: class
/// The Mazurkiewicz trace of `word`: every word reachable from it by
/// swapping adjacent independent events.
pub fn equivalence_class(word: &[Event], ind: &Independence) -> BTreeSet<Trace> {
    let mut class = BTreeSet::from([word.to_vec()]);
    let mut todo = VecDeque::from([word.to_vec()]);
    while let Some(w) = todo.pop_front() {
        for v in one_swap(&w, ind) {
            if class.insert(v.clone()) {
                todo.push_back(v);
            }
        }
    }
    class
}
// ANCHOR_END: class

/// Checks that `set` is closed under swapping adjacent independent events.
/// On failure, returns a word in the set and the swapped word that is not.
pub fn closed_under_swaps(
    set: &BTreeSet<Trace>,
    ind: &Independence,
) -> Result<(), (Trace, Trace)> {
    for w in set {
        for v in one_swap(w, ind) {
            if !set.contains(&v) {
                return Err((w.clone(), v));
            }
        }
    }
    Ok(())
}

/// A partially ordered multiset of events (Pratt 1986): one element per
/// event occurrence, ordered by "must happen before".
#[derive(Clone, PartialEq, Eq)]
pub struct Pomset {
    labels: Vec<Event>,
    /// `less[i][j]`: occurrence `i` happens before occurrence `j`
    /// (transitively closed, irreflexive).
    less: Vec<Vec<bool>>,
}

impl Pomset {
    /// The pomset with the given labels and "before" edges, closed
    /// transitively. A cycle is an error: it is not a partial order.
    pub fn new(
        labels: Vec<Event>,
        edges: &[(usize, usize)],
    ) -> Result<Self, ModelError> {
        let n = labels.len();
        let mut less = vec![vec![false; n]; n];
        for &(i, j) in edges {
            if i >= n || j >= n {
                return Err(ModelError::NoSuchElement(i.max(j), n));
            }
            less[i][j] = true;
        }
        // Warshall: whatever is before k is before everything after k.
        for k in 0..n {
            let after_k = less[k].clone();
            for row in less.iter_mut() {
                if row[k] {
                    for (x, &y) in row.iter_mut().zip(&after_k) {
                        *x |= y;
                    }
                }
            }
        }
        if let Some(i) = (0..n).find(|&i| less[i][i]) {
            return Err(ModelError::Cyclic(labels[i].to_string()));
        }
        Ok(Self { labels, less })
    }

    // ANCHOR: from_word
    /// The run of a word under an independence relation: occurrence `i`
    /// comes before a later occurrence `j` when their events are dependent
    /// (not independent), and by transitivity.
    pub fn from_word(word: &[Event], ind: &Independence) -> Self {
        let mut edges = Vec::new();
        for j in 0..word.len() {
            for i in 0..j {
                if !ind.independent(&word[i], &word[j]) {
                    edges.push((i, j));
                }
            }
        }
        Self::new(word.to_vec(), &edges)
            .expect("edges go forward, so there is no cycle")
    }
    // ANCHOR_END: from_word

    /// The number of event occurrences.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the pomset is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Whether occurrence `i` happens before occurrence `j`.
    pub fn before(&self, i: usize, j: usize) -> bool {
        self.less[i][j]
    }

    /// The label of occurrence `i`.
    pub fn label(&self, i: usize) -> &Event {
        &self.labels[i]
    }

    // ANCHOR: linearisations
    /// Every total order of the occurrences that respects the partial order,
    /// written as the sequence of their labels.
    pub fn linearisations(&self) -> BTreeSet<Trace> {
        let mut out = BTreeSet::new();
        let mut placed = vec![false; self.len()];
        let mut word = Vec::new();
        self.extend(&mut placed, &mut word, &mut out);
        out
    }
    // ANCHOR_END: linearisations

    // ANCHOR: extend
    fn extend(
        &self,
        placed: &mut [bool],
        word: &mut Trace,
        out: &mut BTreeSet<Trace>,
    ) {
        if word.len() == self.len() {
            out.insert(word.clone());
            return;
        }
        for j in 0..self.len() {
            // `j` may go next if everything before it is already placed.
            let ready =
                !placed[j] && (0..self.len()).all(|i| placed[i] || !self.less[i][j]);
            if ready {
                placed[j] = true;
                word.push(self.labels[j].clone());
                self.extend(placed, word, out);
                word.pop();
                placed[j] = false;
            }
        }
    }
    // ANCHOR_END: extend

    /// Labels and the covering pairs (`i < j` with nothing in between): the
    /// edges of the pomset's Hasse diagram.
    pub fn covers(&self) -> Vec<(usize, usize)> {
        let n = self.len();
        let mut out = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if self.less[i][j]
                    && !(0..n).any(|k| self.less[i][k] && self.less[k][j])
                {
                    out.push((i, j));
                }
            }
        }
        out
    }

    /// The same pomset up to renumbering of occurrences (compares the sets
    /// of linearisations, which determine a pomset without autoconcurrency).
    pub fn same_run(&self, other: &Pomset) -> bool {
        self.linearisations() == other.linearisations()
    }
}

impl fmt::Debug for Pomset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Pomset {
    /// `{a₀ < b₁, a₀ < c₂}`: occurrences numbered, covering pairs listed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |i: usize| format!("{}#{i}", self.labels[i]);
        let mut parts: Vec<String> = self
            .covers()
            .into_iter()
            .map(|(i, j)| format!("{} < {}", name(i), name(j)))
            .collect();
        for i in 0..self.len() {
            let related =
                (0..self.len()).any(|j| self.less[i][j] || self.less[j][i]);
            if !related {
                parts.push(name(i));
            }
        }
        write!(f, "{{{}}}", parts.join(", "))
    }
}

// ANCHOR: network_setup
/// The run of a choice-free network: each component is a fixed sequence of
/// events over its alphabet, and components synchronise on shared events.
/// Returns the largest partial order the network can execute (it stops
/// early if the components disagree on what to do next: a deadlock).
pub fn network_run(components: &[(Trace, Alphabet)]) -> Result<Pomset, ModelError> {
    for (seq, alpha) in components {
        if let Some(e) = seq.iter().find(|e| !alpha.contains(*e)) {
            return Err(ModelError::OutsideAlphabet(e.to_string()));
        }
    }
    let mut next = vec![0usize; components.len()];
    let mut last: Vec<Option<usize>> = vec![None; components.len()];
    let mut labels = Vec::new();
    let mut edges = Vec::new();
    // ANCHOR_END: network_setup
    // ANCHOR: network_enabled
    loop {
        // An event is enabled when it is next in every component that has it.
        let enabled = components.iter().enumerate().find_map(|(c, (seq, _))| {
            let e = seq.get(next[c])?;
            let ready = components
                .iter()
                .enumerate()
                .filter(|(_, (_, alpha))| alpha.contains(e))
                .all(|(d, (other, _))| other.get(next[d]) == Some(e));
            ready.then(|| e.clone())
        });
        let Some(e) = enabled else {
            break;
        };
        // ANCHOR_END: network_enabled
        // ANCHOR: network_order
        let id = labels.len();
        labels.push(e.clone());
        for (c, (_, alpha)) in components.iter().enumerate() {
            if alpha.contains(&e) {
                if let Some(prev) = last[c] {
                    edges.push((prev, id));
                }
                last[c] = Some(id);
                next[c] += 1;
            }
        }
    }
    Pomset::new(labels, &edges)
}
// ANCHOR_END: network_order
