//! The plain-text details of one row, shown on hover and focus.
//!
//! The same text is the SVG `<title>` of the bar (read by screen readers and
//! shown as a tooltip) and what the page's script copies into the details
//! panel, so the two can never disagree. It is unescaped here; the renderer
//! escapes it.

use crate::layout::{Layout, LinkTarget, Row};
use crate::scale::duration;
use std::fmt::Write;

/// The details of row `index` of `layout`, one fact per line.
pub(crate) fn text(layout: &Layout, index: usize) -> String {
    let row = &layout.rows[index];
    let span = &row.span;
    let origin = layout.traces[row.trace].start;
    let mut out = String::new();
    let _ = writeln!(out, "{}", span.name);
    let _ = writeln!(out, "service: {}", span.service);
    let _ = writeln!(out, "kind: {}", span.kind.as_str());
    let status = span.status.as_str();
    match span.status_message.as_str() {
        "" => _ = writeln!(out, "status: {status}"),
        m => _ = writeln!(out, "status: {status} ({m})"),
    }
    let _ = writeln!(out, "trace id: {}", span.trace_id);
    let _ = writeln!(out, "span id: {}", span.span_id);
    let _ = writeln!(out, "parent id: {}", parent(row));
    let _ = writeln!(out, "starts at: +{}", since(span.start, origin));
    let _ = writeln!(out, "duration: {}", duration(span.duration()));
    flags(&mut out, row);
    if !span.attributes.is_empty() {
        out.push_str("attributes:\n");
    }
    for a in &span.attributes {
        let _ = writeln!(out, "  {} = {}", a.key, a.value);
    }
    for e in &span.events {
        let _ = writeln!(out, "event +{}: {}", since(e.time, origin), e.name);
        for a in &e.attributes {
            let _ = writeln!(out, "    {} = {}", a.key, a.value);
        }
    }
    links(&mut out, layout, row);
    out.trim_end().to_owned()
}

fn parent(row: &Row) -> String {
    match (row.span.parent_span_id.as_str(), row.orphan) {
        ("", false) => "none (root)".into(),
        ("", true) => "none (cut out of a parent cycle)".into(),
        (p, true) => format!("{p} (not in the capture: orphan)"),
        (p, false) => p.into(),
    }
}

fn since(t: u64, origin: u64) -> String {
    if t >= origin {
        duration(t - origin)
    } else {
        format!("-{}", duration(origin - t))
    }
}

fn flags(out: &mut String, row: &Row) {
    if row.starts_before_parent {
        let _ = writeln!(out, "starts before its parent (clock skew?)");
    }
    if let Some(problem) = row.span.time_problem() {
        let _ = writeln!(out, "bad times: {problem}");
    }
}

fn links(out: &mut String, layout: &Layout, row: &Row) {
    for (link, target) in row.span.links.iter().zip(&row.links) {
        let to = format!("{}/{}", link.trace_id, link.span_id);
        match target {
            LinkTarget::Row(r) => {
                let name = &layout.rows[*r].span.name;
                let _ = writeln!(out, "link to {to} ({name})");
            }
            LinkTarget::External => {
                _ = writeln!(out, "link to {to} (external: not in the capture)")
            }
        }
    }
}
