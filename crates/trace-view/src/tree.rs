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
pub(crate) fn walk(spans: &[Span], members: &[usize], warnings: &mut Vec<Warning>) -> Vec<Placed> {
    let key = |&i: &usize| (spans[i].start, spans[i].span_id.as_str(), i);
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for &i in members {
        by_id.entry(spans[i].span_id.as_str()).or_insert(i);
    }
    let parent = |i: usize| match spans[i].parent_span_id.as_str() {
        "" => None,
        p => Some(by_id.get(p).copied()),
    };
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut tops = Vec::new();
    let mut orphans = HashSet::new();
    for &i in members {
        match parent(i) {
            None => tops.push(i),
            Some(None) => {
                orphans.insert(i);
                tops.push(i);
            }
            Some(Some(p)) => children.entry(p).or_default().push(i),
        }
    }
    children.values_mut().for_each(|c| c.sort_by_key(key));
    tops.sort_by_key(key);
    if !orphans.is_empty() {
        warnings.push(Warning::Orphans {
            trace_id: spans[members[0]].trace_id.clone(),
            count: orphans.len(),
        });
    }
    let mut walk = Walk {
        children,
        cut: HashSet::new(),
        seen: HashSet::new(),
        rows: Vec::new(),
    };
    for top in tops {
        walk.from(top, orphans.contains(&top));
    }
    walk.break_cycles(spans, members, &parent_map(members, &parent), warnings);
    walk.rows
}

fn parent_map(
    members: &[usize],
    parent: &dyn Fn(usize) -> Option<Option<usize>>,
) -> HashMap<usize, usize> {
    let found = members.iter().filter_map(|&i| Some((i, parent(i)??)));
    found.collect()
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
            let mut ids: Vec<String> = cycle.iter().map(|&i| spans[i].span_id.clone()).collect();
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
