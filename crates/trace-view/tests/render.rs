//! What the page and the Chrome JSON must contain: one focusable bar per
//! row, link lines, visible error and orphan marks, escaped text, and no
//! reference to anything outside the file.

mod common;

use common::span;
use trace_view::model::{Attribute, Event, LinkRef};
use trace_view::{
    Layout, StatusCode, Warning, render_chrome, render_page, render_svg_fragment,
};

/// Batch span 9 in its own trace, linking to items 1..=3 in theirs; item 2
/// failed and has a child whose parent is missing; one link is external.
fn sample() -> Layout {
    let mut spans: Vec<_> = (1..=3)
        .map(|i| span(i, i, 0, i * 10, i * 10 + 50))
        .collect();
    spans[1].status = StatusCode::Error;
    spans[1].service = "worker".into();
    spans.push(span(2, 7, 8, 25, 30));
    let mut batch = span(9, 9, 0, 100, 200);
    batch.name = "<script>alert('batch')</script>".into();
    batch.links = (1..=3)
        .map(|i| LinkRef {
            trace_id: common::trace_id(i),
            span_id: common::span_id(i),
        })
        .collect();
    batch.links.push(LinkRef {
        trace_id: common::trace_id(5),
        span_id: common::span_id(5),
    });
    batch.attributes.push(Attribute {
        key: "a&b".into(),
        value: "\"quoted\"".into(),
    });
    batch.events.push(Event {
        time: common::T0 + 150,
        name: "flush".into(),
        attributes: vec![],
    });
    spans.push(batch);
    let warning = Warning::LeftOut {
        kept: 5,
        left_out: 1,
    };
    Layout::new(spans, vec![warning])
}

#[test]
fn the_page_has_a_focusable_bar_per_row_and_a_line_per_resolved_link() {
    let layout = sample();
    let page = render_page(&layout);
    assert_eq!(page.matches("data-span-id=\"").count(), layout.rows.len());
    assert_eq!(page.matches("tabindex=\"0\"").count(), layout.rows.len());
    assert_eq!(page.matches("<title>").count(), layout.rows.len() + 1);
    assert_eq!(page.matches("data-link-from=\"").count(), 3);
    assert_eq!(page.matches("data-error=\"true\"").count(), 1);
    assert_eq!(page.matches("class=\"tv-span orphan\"").count(), 1);
    assert!(page.contains(">error</text>") && page.contains("orphan"));
    assert!(page.contains("external link"));
    assert!(page.contains("<line class=\"tv-event\""));
    assert!(page.contains("warning: 1 span(s) left out"));
    assert!(page.contains("worker") && page.contains("svc"), "legend");
}

#[test]
fn every_text_from_the_capture_is_escaped() {
    let page = render_page(&sample());
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("&lt;script&gt;alert(&#39;batch&#39;)"));
    assert!(page.contains("a&amp;b = &quot;quoted&quot;"));
    assert_eq!(
        page.matches("<script>").count(),
        1,
        "only the page's own script"
    );
}

#[test]
fn the_page_needs_no_network() {
    let page = render_page(&sample());
    for needle in [
        "http:", "https:", "src=", "href=", "@import", "url(http", "//cdn",
    ] {
        assert!(!page.contains(needle), "the page contains {needle}");
    }
    assert!(page.contains("prefers-color-scheme"));
}

#[test]
fn the_fragment_is_the_drawing_without_the_page() {
    let fragment = render_svg_fragment(&sample());
    assert!(fragment.starts_with("<div class=\"trace-view\">"));
    assert!(fragment.contains("<svg") && fragment.contains("tv-details"));
    assert!(!fragment.contains("<html") && !fragment.contains("<style"));
}

#[test]
fn an_empty_capture_draws_an_empty_page() {
    let page = render_page(&Layout::new(vec![], vec![]));
    assert!(page.contains("0 trace(s), 0 span(s)"));
}

#[test]
fn chrome_json_has_a_complete_event_per_span_and_named_processes() {
    let layout = sample();
    let doc: serde_json::Value =
        serde_json::from_str(&render_chrome(&layout)).unwrap();
    assert_eq!(doc["displayTimeUnit"], "ms");
    let events = doc["traceEvents"].as_array().unwrap();
    let of = |ph: &str| events.iter().filter(|e| e["ph"] == ph).collect::<Vec<_>>();
    let spans = of("X");
    assert_eq!(spans.len(), layout.rows.len());
    assert_eq!(of("i").len(), 1);
    let processes: Vec<&str> = (of("M").into_iter())
        .filter(|e| e["name"] == "process_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(processes, layout.services);
    let first = spans
        .iter()
        .find(|e| e["args"]["span_id"] == common::span_id(1))
        .unwrap();
    assert_eq!(
        (first["ts"].as_f64(), first["dur"].as_f64()),
        (Some(0.0), Some(0.05))
    );
    assert_eq!(first["tid"], 0);
}

#[test]
fn the_axis_has_round_ticks_and_odd_rows_say_what_is_odd() {
    let mut skewed = span(1, 2, 1, 0, 100_000_000);
    skewed.name = "skewed".into();
    let mut backwards = span(1, 3, 1, 200_000_000, 150_000_000);
    backwards.name = "backwards".into();
    let root = span(1, 1, 0, 50_000_000, 250_000_000);
    let page = render_page(&Layout::new(vec![root, skewed, backwards], vec![]));
    for tick in ["0", "50 ms", "100 ms", "150 ms", "200 ms", "250 ms"] {
        assert!(page.contains(&format!(">{tick}</text>")), "no tick {tick}");
    }
    assert!(page.contains(">before parent</text>"));
    assert!(page.contains(">bad times</text>"));
    assert!(page.contains("starts before its parent (clock skew?)"));
    assert!(page.contains("duration: 200 ms"));
}

#[test]
fn no_text_from_the_capture_puts_a_blank_line_in_the_fragment() {
    let mut odd = span(1, 1, 0, 0, 10);
    odd.name = "two\n\nparagraphs".into();
    odd.status_message = "line one\r\n\r\n    indented".into();
    let fragment = render_svg_fragment(&Layout::new(vec![odd], vec![]));
    assert!(
        !fragment.contains("\n\n"),
        "a blank line would end a Markdown HTML block"
    );
    assert!(fragment.contains("two&#10;&#10;paragraphs"));
}
