//! The checks of the fuzz target `trace_capture` (behind the `fuzzing`
//! feature, so that normal builds do not carry them).
//!
//! Any bytes go through the whole path a reader's file takes (read, lay
//! out, draw as HTML and as Chrome JSON) and must never panic or hang. When
//! the bytes are a capture, every span kept is exactly one row, the page
//! has exactly one `data-span-id` per row, and the fragment no blank line.

use crate::{
    Options, layout, parse, render_chrome, render_page, render_svg_fragment,
};

/// A small limit, so that a fuzzer's large input stays fast to draw.
const MAX_SPANS: usize = 200;

/// Runs the checks on `data`; panics if one fails.
pub fn capture(data: &[u8]) {
    let Ok(capture) = parse(
        data,
        &Options {
            max_spans: MAX_SPANS,
        },
    ) else {
        return;
    };
    assert!(capture.spans.len() <= MAX_SPANS);
    let layout = layout(&capture);
    assert_eq!(layout.rows.len(), capture.spans.len(), "one row per span");
    let mut drawn: Vec<(&str, &str)> = (layout.rows.iter())
        .map(|r| (r.span.trace_id.as_str(), r.span.span_id.as_str()))
        .collect();
    drawn.sort();
    let mut kept: Vec<(&str, &str)> = (capture.spans.iter())
        .map(|s| (s.trace_id.as_str(), s.span_id.as_str()))
        .collect();
    kept.sort();
    assert_eq!(drawn, kept, "every kept span is drawn exactly once");
    let fragment = render_svg_fragment(&layout);
    assert!(
        !fragment.contains("\n\n"),
        "no blank line: the fragment goes into Markdown"
    );
    let page = render_page(&layout);
    assert_eq!(page.matches("data-span-id=\"").count(), layout.rows.len());
    let chrome: serde_json::Value = serde_json::from_str(&render_chrome(&layout))
        .expect("the Chrome JSON parses");
    assert!(chrome["traceEvents"].is_array());
}
