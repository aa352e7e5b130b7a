//! What was odd about a capture but did not stop the drawing.
//!
//! A capture from a real run is rarely perfect: a span exported twice, a
//! parent that was sampled out or lost, clocks that disagree. The drawing
//! still shows everything it can, and lists these above the waterfall so
//! that a reader never takes a repaired picture for the real one. They are
//! data (not log lines) so that tests and the renderers can use them.

use std::fmt;

/// One thing the drawing had to repair or leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A document held no traces (metrics or logs): it was skipped.
    NotTraces { line: usize, signal: String },
    /// The same span id came more than once in a trace; the first was kept.
    Duplicate {
        trace_id: String,
        span_id: String,
        extra_copies: usize,
    },
    /// The span's times are wrong; it is kept and marked.
    BadTimes {
        trace_id: String,
        span_id: String,
        problem: &'static str,
    },
    /// Spans whose parents point round in a circle; drawn as orphans.
    Cycle {
        trace_id: String,
        span_ids: Vec<String>,
    },
    /// Spans whose parent is not in the capture; drawn as orphans.
    Orphans { trace_id: String, count: usize },
    /// More spans than the limit: the first `kept` by start time are drawn.
    LeftOut { kept: usize, left_out: usize },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NotTraces { line, signal } => {
                write!(f, "line {line}: a {signal} document, not traces: skipped")
            }
            Warning::Duplicate {
                trace_id,
                span_id,
                extra_copies,
            } => write!(
                f,
                "trace {trace_id}: span {span_id} came {} times; the first is drawn",
                extra_copies + 1
            ),
            Warning::BadTimes {
                trace_id,
                span_id,
                problem,
            } => write!(f, "trace {trace_id}: span {span_id} has {problem}"),
            Warning::Cycle { trace_id, span_ids } => write!(
                f,
                "trace {trace_id}: the parents of spans {} form a cycle; drawn as orphans",
                span_ids.join(", ")
            ),
            Warning::Orphans { trace_id, count } => write!(
                f,
                "trace {trace_id}: {count} span(s) have a parent that is not in the capture; \
                 drawn as orphans"
            ),
            Warning::LeftOut { kept, left_out } => write!(
                f,
                "{left_out} span(s) left out: only the first {kept} by start time are drawn"
            ),
        }
    }
}
