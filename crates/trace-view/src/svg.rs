//! The waterfall as inline SVG, with its warnings, legend and details panel.
//!
//! Everything is drawn in Rust, so the page needs no library and no network.
//! Text takes `currentColor` and colours come from CSS variables (see
//! `html::STYLE`), so the drawing reads on the book's light and dark themes.
//! Nothing relies on colour alone: an error bar has a thick outline *and*
//! the word "error", an orphan the word "orphan". Stable `data-` attributes
//! let a browser test count what was drawn.
//!
//! A link is a curve from the start of the linking bar to the start of its
//! target's bar. Each trace has its own time axis, so when the two are in
//! different traces the curve shows *which* span, not a time difference.
//!
//! ```text
//! | name (indented by depth) | bar on the trace's time axis  | flags        |
//! 0 ......................... LABEL_W  BAR_X ....... +BAR_W   FLAG_X ..... WIDTH
//! ```

use crate::details;
use crate::escape::escape;
use crate::layout::{Layout, LinkTarget};
use crate::scale::{duration, ticks};
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const LABEL_W: f64 = 200.0;
const BAR_X: f64 = 208.0;
const BAR_W: f64 = 420.0;
const FLAG_X: f64 = 636.0;
const ROW_H: f64 = 20.0;
const HEADER_H: f64 = 36.0;
const GAP: f64 = 12.0;
const INDENT: f64 = 12.0;

/// Service colours (Okabe–Ito, without its red, which means "error" here):
/// mid tones that read on white and on near-black.
pub const PALETTE: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#56b4e9", "#cc79a7", "#f0e442", "#999999",
    "#8c6d31",
];

/// The colour of service `index`.
pub fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// The drawing without a page around it: warnings, summary, legend, the
/// SVG and the details panel, in one `<div class="trace-view">`.
pub fn render_svg_fragment(layout: &Layout) -> String {
    let mut out = String::from("<div class=\"trace-view\">\n");
    warnings(&mut out, layout);
    let _ = writeln!(
        out,
        "<p class=\"tv-summary\">{} trace(s), {} span(s), {} warning(s)</p>",
        layout.traces.len(),
        layout.rows.len(),
        layout.warnings.len()
    );
    legend(&mut out, layout);
    svg(&mut out, layout);
    out.push_str(
        "<div class=\"tv-details\" aria-live=\"polite\">\
         <pre>Hover over a span, or focus it with Tab, to see its details.</pre></div>\n</div>\n",
    );
    out
}

/// At most this many warnings are listed; the rest are counted.
const MAX_LISTED_WARNINGS: usize = 50;

fn warnings(out: &mut String, layout: &Layout) {
    if layout.warnings.is_empty() {
        return;
    }
    out.push_str("<ul class=\"tv-warnings\">\n");
    for w in layout.warnings.iter().take(MAX_LISTED_WARNINGS) {
        let _ = writeln!(out, "<li>warning: {}</li>", escape(&w.to_string()));
    }
    let more = layout.warnings.len().saturating_sub(MAX_LISTED_WARNINGS);
    if more > 0 {
        let _ = writeln!(out, "<li>… and {more} more warning(s)</li>");
    }
    out.push_str("</ul>\n");
}

fn legend(out: &mut String, layout: &Layout) {
    out.push_str("<ul class=\"tv-legend\">");
    for (i, service) in layout.services.iter().enumerate() {
        let _ = write!(
            out,
            "<li><span class=\"tv-swatch\" style=\"background:{}\"></span>{}</li>",
            colour(i),
            escape(service)
        );
    }
    out.push_str(
        "<li><span class=\"tv-swatch tv-swatch-error\"></span>error</li></ul>\n",
    );
}

/// The y of the top of each trace block, and the total height.
fn trace_tops(layout: &Layout) -> (Vec<f64>, f64) {
    let mut y = 0.0;
    let mut tops = Vec::with_capacity(layout.traces.len());
    for t in &layout.traces {
        tops.push(y);
        y += HEADER_H + t.rows.len() as f64 * ROW_H + GAP;
    }
    (tops, y.max(ROW_H))
}

/// The y of the top of row `r`.
fn row_y(layout: &Layout, tops: &[f64], r: usize) -> f64 {
    let trace = &layout.traces[layout.rows[r].trace];
    tops[layout.rows[r].trace] + HEADER_H + (r - trace.rows.start) as f64 * ROW_H
}

fn svg(out: &mut String, layout: &Layout) {
    let (tops, height) = trace_tops(layout);
    let _ = writeln!(
        out,
        "<div class=\"tv-scroll\"><svg class=\"tv-waterfall\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"group\" \
         aria-label=\"Waterfall of {} span(s)\">",
        layout.rows.len()
    );
    // One id per drawing: a page (mdBook's print page) may hold several.
    let _ = writeln!(
        out,
        "<defs><marker id=\"{marker}\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
         <path d=\"M0,0 L8,4 L0,8 z\" fill=\"currentColor\"/></marker></defs>",
        marker = arrow_id(layout),
    );
    for (t, top) in tops.iter().enumerate() {
        trace_header(out, layout, t, *top);
        for r in layout.traces[t].rows.clone() {
            row(out, layout, r, row_y(layout, &tops, r));
        }
    }
    link_lines(out, layout, &tops);
    out.push_str("</svg></div>\n");
}

fn trace_header(out: &mut String, layout: &Layout, t: usize, top: f64) {
    let trace = &layout.traces[t];
    let length = trace.end - trace.start;
    let _ = writeln!(
        out,
        "<g class=\"tv-trace\" data-trace-id=\"{}\"><text class=\"tv-trace-title\" x=\"0\" \
         y=\"{}\">trace {} · {}</text>",
        escape(&trace.trace_id),
        top + 14.0,
        escape(&trace.trace_id),
        duration(length)
    );
    let bottom = top + HEADER_H + trace.rows.len() as f64 * ROW_H;
    for tick in ticks(length) {
        let x = BAR_X + BAR_W * tick as f64 / length as f64;
        let _ = writeln!(
            out,
            "<line class=\"tv-grid\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{bottom}\"/>\
             <text class=\"tv-tick\" x=\"{x:.1}\" y=\"{}\">{}</text>",
            top + HEADER_H - 2.0,
            top + 32.0,
            duration(tick)
        );
    }
    out.push_str("</g>\n");
}

fn row(out: &mut String, layout: &Layout, r: usize, y: f64) {
    let row = &layout.rows[r];
    let orphan = if row.orphan { " orphan" } else { "" };
    let error = row.status == crate::StatusCode::Error;
    let _ = write!(
        out,
        "<g class=\"tv-span{orphan}\" tabindex=\"0\" data-span-id=\"{}\" data-trace-id=\"{}\" \
         data-row=\"{r}\"{}><title>{}</title>",
        escape(&row.span.span_id),
        escape(&row.span.trace_id),
        if error { " data-error=\"true\"" } else { "" },
        escape(&details::text(layout, r))
    );
    label(out, layout, r, y);
    bar(out, layout, r, y, error);
    flags(out, layout, r, y, error);
    out.push_str("</g>\n");
}

fn label(out: &mut String, layout: &Layout, r: usize, y: f64) {
    let row = &layout.rows[r];
    let indent = (row.depth as f64 * INDENT).min(LABEL_W / 2.0);
    let room = ((LABEL_W - indent) / 7.5) as usize;
    let name = &row.span.name;
    let shown: String = if name.chars().count() > room {
        name.chars()
            .take(room.saturating_sub(1))
            .chain(['…'])
            .collect()
    } else {
        name.clone()
    };
    let _ = write!(
        out,
        "<text class=\"tv-label\" x=\"{indent}\" y=\"{}\">{}</text>",
        y + 14.0,
        escape(&shown)
    );
}

fn bar(out: &mut String, layout: &Layout, r: usize, y: f64, error: bool) {
    let row = &layout.rows[r];
    let x = BAR_X + row.offset * BAR_W;
    let width = (row.width * BAR_W).max(1.5);
    let class = match (error, row.bad_times) {
        (_, true) => "tv-bar tv-bad",
        (true, false) => "tv-bar tv-error",
        (false, false) => "tv-bar",
    };
    let _ = write!(
        out,
        "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{}\" width=\"{width:.1}\" height=\"{}\" \
         fill=\"{}\"/>",
        y + 3.0,
        ROW_H - 6.0,
        colour(row.service)
    );
    for at in &row.events {
        let ex = BAR_X + at * BAR_W;
        let _ = write!(
            out,
            "<line class=\"tv-event\" x1=\"{ex:.1}\" y1=\"{}\" x2=\"{ex:.1}\" y2=\"{}\"/>",
            y + 1.0,
            y + ROW_H - 1.0
        );
    }
}

fn flags(out: &mut String, layout: &Layout, r: usize, y: f64, error: bool) {
    let row = &layout.rows[r];
    let external = row.links.contains(&LinkTarget::External);
    let words: Vec<&str> = [
        (error, "error"),
        (row.orphan, "orphan"),
        (row.starts_before_parent, "before parent"),
        (row.bad_times, "bad times"),
        (external, "external link"),
    ]
    .into_iter()
    .filter_map(|(on, word)| on.then_some(word))
    .collect();
    if !words.is_empty() {
        let _ = write!(
            out,
            "<text class=\"tv-flag\" x=\"{FLAG_X}\" y=\"{}\">{}</text>",
            y + 14.0,
            words.join(" · ")
        );
    }
}

/// One curve per resolved link, from the linking span's bar to its target's.
/// The id of a drawing's arrowhead marker, from its first trace and size.
fn arrow_id(layout: &Layout) -> String {
    let first = layout.traces.first().map_or("", |t| t.trace_id.as_str());
    let safe: String = first
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    format!("tv-arrow-{safe}-{}", layout.rows.len())
}

fn link_lines(out: &mut String, layout: &Layout, tops: &[f64]) {
    for (from, row) in layout.rows.iter().enumerate() {
        for target in &row.links {
            let LinkTarget::Row(to) = *target else {
                continue;
            };
            let x1 = BAR_X + row.offset * BAR_W;
            let x2 = BAR_X + layout.rows[to].offset * BAR_W;
            let y1 = row_y(layout, tops, from) + ROW_H / 2.0;
            let y2 = row_y(layout, tops, to) + ROW_H / 2.0;
            let _ = writeln!(
                out,
                "<path class=\"tv-link\" data-link-from=\"{from}\" data-link-to=\"{to}\" \
                 d=\"M{x1:.1},{y1} C{:.1},{y1} {:.1},{y2} {x2:.1},{y2}\" \
                 marker-end=\"url(#{marker})\"/>",
                x1 - 40.0,
                x2 - 40.0,
                marker = arrow_id(layout),
            );
        }
    }
}
