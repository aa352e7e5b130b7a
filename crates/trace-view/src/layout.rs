//! Where everything goes in the waterfall: pure, no I/O, no drawing.
//!
//! Traces are drawn one below the other, in the order they started; each
//! has its own time axis (its window runs from its first start to its last
//! end), so bar positions are fractions of that window. Inside a trace the
//! rows follow the span tree (see `tree`). Nothing is clamped to make the
//! picture look right: a child that starts before its parent (another
//! service's clock) is drawn where its timestamps put it, and flagged.

use crate::capture::Capture;
use crate::model::{Span, StatusCode};
use crate::tree::{self, Placed};
use crate::warning::Warning;
use std::collections::HashMap;
use std::ops::Range;

/// The whole drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub traces: Vec<TraceBlock>,
    pub rows: Vec<Row>,
    /// Service names, in order of first appearance; a row's `service` indexes this.
    pub services: Vec<String>,
    /// The capture's warnings, then the layout's (orphans, cycles).
    pub warnings: Vec<Warning>,
}

/// One trace: its time window and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceBlock {
    pub trace_id: String,
    /// Unix nanoseconds: the first start and last end of the spans with sane times.
    pub start: u64,
    pub end: u64,
    pub rows: Range<usize>,
}

/// One span's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub span: Span,
    /// Index into [`Layout::traces`].
    pub trace: usize,
    pub depth: usize,
    /// The parent's row, unless this row is a root or an orphan.
    pub parent_row: Option<usize>,
    /// The bar's start and length as fractions of the trace's window.
    pub offset: f64,
    pub width: f64,
    /// Index into [`Layout::services`].
    pub service: usize,
    pub status: StatusCode,
    /// Its parent is not in the capture, or was cut out of a cycle.
    pub orphan: bool,
    /// It starts before its parent (clock skew between services, usually).
    pub starts_before_parent: bool,
    /// Its times are impossible (see [`Span::time_problem`]): drawn as a mark.
    pub bad_times: bool,
    /// Each event's time as a fraction of the window, as in `span.events`.
    pub events: Vec<f64>,
    /// Where each of `span.links` points, in the same order.
    pub links: Vec<LinkTarget>,
}

/// The target of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    /// A row of this drawing (possibly in another trace).
    Row(usize),
    /// A span that is not in the capture.
    External,
}

/// Lays out a capture's spans, keeping its warnings.
pub fn layout(capture: &Capture) -> Layout {
    Layout::new(capture.spans.clone(), capture.warnings.clone())
}

impl Layout {
    /// Lays out `spans`; `warnings` come first in the result's list.
    pub fn new(spans: Vec<Span>, mut warnings: Vec<Warning>) -> Layout {
        let mut layout = Layout {
            traces: Vec::new(),
            rows: Vec::new(),
            services: Vec::new(),
            warnings: Vec::new(),
        };
        let mut services: HashMap<String, usize> = HashMap::new();
        for members in traces_in_order(&spans) {
            let placed = tree::walk(&spans, &members, &mut warnings);
            layout.push_trace(&spans, &members, placed, &mut services);
        }
        layout.resolve_links();
        layout.warnings = warnings;
        layout
    }

    fn push_trace(
        &mut self,
        spans: &[Span],
        members: &[usize],
        placed: Vec<Placed>,
        services: &mut HashMap<String, usize>,
    ) {
        let (start, end) = window(members.iter().map(|&i| &spans[i]));
        let trace = self.traces.len();
        let first = self.rows.len();
        let mut row_of: HashMap<usize, usize> = HashMap::new();
        for p in placed {
            let span = &spans[p.span];
            let parent_row = p.parent.map(|s| row_of[&s]);
            let next = self.services.len();
            let service = *services.entry(span.service.clone()).or_insert(next);
            if service == next {
                self.services.push(span.service.clone());
            }
            row_of.insert(p.span, self.rows.len());
            let parent = parent_row.map(|r| (r, &self.rows[r].span));
            let row = row(span, &p, parent, trace, (start, end));
            self.rows.push(Row { service, ..row });
        }
        let trace_id = spans[members[0]].trace_id.clone();
        let rows = first..self.rows.len();
        self.traces.push(TraceBlock {
            trace_id,
            start,
            end,
            rows,
        });
    }

    fn resolve_links(&mut self) {
        let index: HashMap<(String, String), usize> = (self.rows.iter().enumerate())
            .map(|(i, r)| ((r.span.trace_id.clone(), r.span.span_id.clone()), i))
            .collect();
        for row in &mut self.rows {
            row.links = (row.span.links.iter())
                .map(|l| {
                    let key = (l.trace_id.clone(), l.span_id.clone());
                    index
                        .get(&key)
                        .map_or(LinkTarget::External, |&r| LinkTarget::Row(r))
                })
                .collect();
        }
    }
}

/// The row of `span`, placed at `p` under `parent` (its row and span).
fn row(
    span: &Span,
    p: &Placed,
    parent: Option<(usize, &Span)>,
    trace: usize,
    (start, end): (u64, u64),
) -> Row {
    let at = |t: u64| fraction(t, start, end);
    let bad_times = span.time_problem().is_some();
    let sane = |s: &Span| s.time_problem().is_none();
    let starts_before_parent = parent.is_some_and(|(_, parent)| {
        sane(parent) && !bad_times && span.start < parent.start
    });
    Row {
        span: span.clone(),
        trace,
        depth: p.depth,
        parent_row: parent.map(|(r, _)| r),
        offset: at(span.start),
        width: share(span.duration(), start, end),
        service: 0, // the caller knows the services
        status: span.status,
        orphan: p.orphan,
        starts_before_parent,
        bad_times,
        events: span.events.iter().map(|e| at(e.time)).collect(),
        links: Vec::new(),
    }
}

/// `t` as a fraction of the window `start..end`, clamped to 0..=1.
pub fn fraction(t: u64, start: u64, end: u64) -> f64 {
    if end <= start {
        return 0.0;
    }
    let t = t.clamp(start, end);
    (t - start) as f64 / (end - start) as f64
}

/// `length` ns as a fraction of the window `start..end` (0 if it is empty).
fn share(length: u64, start: u64, end: u64) -> f64 {
    if end <= start {
        return 0.0;
    }
    (length as f64 / (end - start) as f64).min(1.0)
}

/// The first start and last end of the spans with sane times ((0, 0) if none).
fn window<'a>(spans: impl Iterator<Item = &'a Span>) -> (u64, u64) {
    let sane = spans.filter(|s| s.time_problem().is_none());
    let bounds = sane.fold(None, |acc: Option<(u64, u64)>, s| {
        Some(acc.map_or((s.start, s.end), |(a, b)| (a.min(s.start), b.max(s.end))))
    });
    bounds.unwrap_or((0, 0))
}

/// The spans of each trace (indices into `spans`), traces ordered by their
/// first start, then id.
fn traces_in_order(spans: &[Span]) -> Vec<Vec<usize>> {
    let mut by_trace: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, span) in spans.iter().enumerate() {
        by_trace.entry(&span.trace_id).or_default().push(i);
    }
    let mut traces: Vec<(u64, &str, Vec<usize>)> = (by_trace.into_iter())
        .map(|(id, members)| {
            let (start, _) = window(members.iter().map(|&i| &spans[i]));
            let first = if start > 0 {
                start
            } else {
                spans[members[0]].start
            };
            (first, id, members)
        })
        .collect();
    traces.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    traces.into_iter().map(|(_, _, members)| members).collect()
}
