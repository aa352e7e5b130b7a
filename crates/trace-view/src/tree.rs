//! The order of one trace's rows: a depth-first walk of its span tree.
//!
//! Children come in start-time order (then span id, so that the drawing is
//! the same on every run). A span whose parent is not in the capture is an
//! *orphan*: a top-level row, marked, never silently a root (a true root has
//! an empty parent id). Parents that point round in a circle (corrupt data)
//! would hide their spans from the walk: the cycle is cut, its spans become
//! orphans, and a warning names them. The walk uses its own stack, so a
//! chain of ten thousand spans cannot overflow the thread's.

use crate::model::Span;
use crate::warning::Warning;
use std::collections::{HashMap, HashSet};

/// One row of the walk: which span, how deep, under which span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placed {
    pub span: usize,
    pub depth: usize,
    pub parent: Option<usize>,
    pub orphan: bool,
}

/// The rows of the trace whose spans are `members` (indices into `spans`).
pub(crate) fn walk(
    spans: &[Span],
    members: &[usize],
    warnings: &mut Vec<Warning>,
) -> Vec<Placed> {
    let key = |&i: &usize| (spans[i].start, spans[i].span_id.as_str(), i);
    let mut split = split(spans, members);
    split.children.values_mut().for_each(|c| c.sort_by_key(key));
    split.tops.sort_by_key(key);
    if !split.orphans.is_empty() {
        warnings.push(Warning::Orphans {
            trace_id: spans[members[0]].trace_id.clone(),
            count: split.orphans.len(),
        });
    }
    let mut walk = Walk {
        children: split.children,
        cut: HashSet::new(),
        seen: HashSet::new(),
        rows: Vec::new(),
    };
    for top in split.tops {
        walk.from(top, split.orphans.contains(&top));
    }
    walk.break_cycles(spans, members, &split.parent, warnings);
    walk.rows
}

/// A trace's spans sorted by where their parent id points.
struct Split {
    /// Roots and orphans.
    tops: Vec<usize>,
    orphans: HashSet<usize>,
    children: HashMap<usize, Vec<usize>>,
    /// Each span's parent, when it is in the trace.
    parent: HashMap<usize, usize>,
}

fn split(spans: &[Span], members: &[usize]) -> Split {
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for &i in members {
        by_id.entry(spans[i].span_id.as_str()).or_insert(i);
    }
    let mut split = Split {
        tops: Vec::new(),
        orphans: HashSet::new(),
        children: HashMap::new(),
        parent: HashMap::new(),
    };
    for &i in members {
        match spans[i].parent_span_id.as_str() {
            "" => split.tops.push(i),
            p => match by_id.get(p) {
                None => {
                    split.orphans.insert(i);
                    split.tops.push(i);
                }
                Some(&p) => {
                    split.children.entry(p).or_default().push(i);
                    split.parent.insert(i, p);
                }
            },
        }
    }
    split
}

struct Walk {
    children: HashMap<usize, Vec<usize>>,
    /// Spans whose parent edge was cut to break a cycle.
    cut: HashSet<usize>,
    seen: HashSet<usize>,
    rows: Vec<Placed>,
}

impl Walk {
    /// Appends `top` and its subtree, depth first.
    fn from(&mut self, top: usize, orphan: bool) {
        let mut stack = vec![(top, 0, None)];
        while let Some((span, depth, parent)) = stack.pop() {
            if !self.seen.insert(span) {
                continue;
            }
            let orphan = orphan && span == top;
            self.rows.push(Placed {
                span,
                depth,
                parent,
                orphan,
            });
            let kids = self.children.get(&span).map(Vec::as_slice).unwrap_or(&[]);
            for &kid in kids.iter().rev() {
                if !self.cut.contains(&kid) {
                    stack.push((kid, depth + 1, Some(span)));
                }
            }
        }
    }

    /// Spans not reached from a root or orphan hang from a cycle: cut each
    /// cycle, warn, and walk from its spans as orphans.
    fn break_cycles(
        &mut self,
        spans: &[Span],
        members: &[usize],
        parent: &HashMap<usize, usize>,
        warnings: &mut Vec<Warning>,
    ) {
        let mut rest: Vec<usize> = members.to_vec();
        rest.sort_by_key(|&i| (spans[i].start, spans[i].span_id.as_str(), i));
        for start in rest {
            if self.seen.contains(&start) {
                continue;
            }
            let mut cycle = cycle_above(start, parent);
            cycle.sort_by_key(|&i| (spans[i].start, spans[i].span_id.as_str(), i));
            self.cut.extend(cycle.iter().copied());
            let mut ids: Vec<String> =
                cycle.iter().map(|&i| spans[i].span_id.clone()).collect();
            ids.sort();
            warnings.push(Warning::Cycle {
                trace_id: spans[start].trace_id.clone(),
                span_ids: ids,
            });
            for top in cycle {
                self.from(top, true);
            }
        }
    }
}

/// The cycle reached by following parents up from `start`. Every span not
/// yet walked has a parent in the trace that was not walked either, so the
/// climb must come round to a span it has already passed.
fn cycle_above(start: usize, parent: &HashMap<usize, usize>) -> Vec<usize> {
    let mut path = vec![start];
    let mut at: HashMap<usize, usize> = HashMap::from([(start, 0)]);
    let mut span = start;
    while let Some(&up) = parent.get(&span) {
        if let Some(&first) = at.get(&up) {
            return path.split_off(first);
        }
        at.insert(up, path.len());
        path.push(up);
        span = up;
    }
    path // not reached: a span without a parent would have been walked
}
