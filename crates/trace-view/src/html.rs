//! The standalone page: the SVG fragment with its style and script inline.
//!
//! One file a reader can open from disk or attach to a bug report: no CDN,
//! no fonts, no request of any kind. It follows `prefers-color-scheme`; in
//! the book, the same [`STYLE`] follows mdBook's themes (`light`, `rust`,
//! `coal`, `navy`, `ayu`) through the class on `<html>`.

use crate::escape::escape;
use crate::layout::Layout;
use crate::svg::render_svg_fragment;

/// The drawing's CSS. Text uses the page's colour; only the error colour
/// and the grid change between light and dark.
pub const STYLE: &str = r#"
.trace-view { --tv-error: #c9190b; --tv-grid: rgba(128,128,128,0.35); --tv-warn-bg: rgba(230,159,0,0.15);
  font: 13px/1.4 system-ui, sans-serif; }
@media (prefers-color-scheme: dark) {
  html:not(.light):not(.rust) .trace-view { --tv-error: #ff6b6b; } }
html.coal .trace-view, html.navy .trace-view, html.ayu .trace-view { --tv-error: #ff6b6b; }
.trace-view .tv-scroll { overflow-x: auto; }
.trace-view svg { color: inherit; font-size: 13px; }
/* Narrower than the drawing, the page scales it down; narrower still, it scrolls. */
.trace-view svg.tv-waterfall { width: 100%; min-width: 560px; height: auto; }
.trace-view text { fill: currentColor; }
.trace-view .tv-tick { font-size: 10px; text-anchor: middle; opacity: 0.8; }
.trace-view .tv-trace-title { font-weight: 600; }
.trace-view .tv-grid { stroke: var(--tv-grid); stroke-width: 1; }
.trace-view .tv-bar { stroke: currentColor; stroke-opacity: 0.4; stroke-width: 0.5; }
.trace-view .tv-error { stroke: var(--tv-error); stroke-opacity: 1; stroke-width: 2.5; }
.trace-view .tv-bad { stroke: var(--tv-error); stroke-dasharray: 2 2; stroke-opacity: 1; }
.trace-view .tv-event { stroke: currentColor; stroke-width: 1.5; }
.trace-view .tv-link { fill: none; stroke: currentColor; stroke-opacity: 0.6; stroke-width: 1.2; }
.trace-view .tv-flag { font-size: 11px; }
.trace-view [data-error] .tv-flag { fill: var(--tv-error); font-weight: 600; }
.trace-view .orphan .tv-label { font-style: italic; }
.trace-view .tv-span:hover, .trace-view .tv-span:focus { outline: none; }
.trace-view .tv-span:hover .tv-label, .trace-view .tv-span:focus .tv-label { text-decoration: underline; }
.trace-view .tv-span:focus .tv-bar { stroke: currentColor; stroke-opacity: 1; stroke-width: 2; }
.trace-view .tv-warnings { background: var(--tv-warn-bg); padding: 0.5em 0.5em 0.5em 2em; }
.trace-view .tv-legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1em; }
.trace-view .tv-swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
  vertical-align: middle; border: 1px solid currentColor; }
.trace-view .tv-swatch-error { border: 2.5px solid var(--tv-error); }
.trace-view .tv-details pre { white-space: pre-wrap; border: 1px solid var(--tv-grid);
  padding: 0.5em; min-height: 6em; }
"#;

/// The drawing's script: copies a span's `<title>` into the details panel
/// when the span is hovered or focused. The page works without it.
pub const SCRIPT: &str = r#"
document.querySelectorAll('.trace-view').forEach(function (root) {
  // A page can carry this script more than once (mdBook's print page).
  if (root.dataset.tvBound) { return; }
  root.dataset.tvBound = 'yes';
  var panel = root.querySelector('.tv-details pre');
  function show(event) {
    var span = event.target.closest && event.target.closest('[data-span-id]');
    var title = span && span.querySelector('title');
    if (panel && title) { panel.textContent = title.textContent; }
  }
  root.addEventListener('focusin', show);
  root.addEventListener('mouseover', show);
});
"#;

/// A whole HTML page showing `layout`.
pub fn render_page(layout: &Layout) -> String {
    let title = format!(
        "Trace view: {} trace(s), {} span(s)",
        layout.traces.len(),
        layout.rows.len()
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n<title>{title}</title>\n\
         <style>\nbody {{ margin: 1.5em; color-scheme: light dark; background: Canvas; \
         color: CanvasText; }}{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n{}\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        render_svg_fragment(layout),
        title = escape(&title),
    )
}
