//! The layout's promises, one test each: nesting and order, orphans, links
//! across traces, clock skew, duplicates, cycles, limits, bad times.

mod common;

use common::{T0, json_span, request, span, span_id};
use trace_view::{
    Layout, LinkTarget, Options, Warning, layout, model::LinkRef, parse,
};

fn names(layout: &Layout) -> Vec<(String, usize)> {
    (layout.rows.iter())
        .map(|r| (r.span.name.clone(), r.depth))
        .collect()
}

fn rows(spans: Vec<trace_view::Span>) -> Layout {
    Layout::new(spans, Vec::new())
}

#[test]
fn children_nest_depth_first_in_start_order() {
    let l = rows(vec![
        span(1, 4, 2, 60, 70),
        span(1, 2, 1, 50, 90),
        span(1, 1, 0, 0, 100),
        span(1, 3, 1, 10, 40),
        span(1, 5, 2, 60, 80),
    ]);
    let want = [
        ("span 1", 0),
        ("span 3", 1),
        ("span 2", 1),
        ("span 4", 2),
        ("span 5", 2),
    ];
    let want: Vec<(String, usize)> =
        want.iter().map(|(n, d)| (n.to_string(), *d)).collect();
    assert_eq!(names(&l), want);
    assert_eq!(l.rows[3].parent_row, Some(2));
    assert_eq!(l.rows[0].parent_row, None);
    assert!(!l.rows[0].orphan);
    assert_eq!((l.rows[1].offset, l.rows[1].width), (0.1, 0.3));
    assert_eq!((l.traces[0].start, l.traces[0].end), (T0, T0 + 100));
}

#[test]
fn traces_are_ordered_by_their_first_start_each_with_its_own_window() {
    let l = rows(vec![span(1, 1, 0, 500, 600), span(2, 2, 0, 100, 300)]);
    let ids: Vec<&str> = l.traces.iter().map(|t| &t.trace_id[31..]).collect();
    assert_eq!(ids, ["2", "1"]);
    assert_eq!(l.traces[0].rows, 0..1);
    assert_eq!((l.rows[0].offset, l.rows[0].width), (0.0, 1.0));
    assert_eq!((l.rows[1].offset, l.rows[1].width), (0.0, 1.0));
}

#[test]
fn a_span_whose_parent_is_missing_is_an_orphan_not_a_root() {
    let l = rows(vec![
        span(1, 1, 0, 0, 100),
        span(1, 2, 99, 10, 20),
        span(1, 3, 2, 12, 15),
    ]);
    assert_eq!(names(&l).iter().map(|n| n.1).collect::<Vec<_>>(), [0, 0, 1]);
    assert!(!l.rows[0].orphan);
    assert!(l.rows[1].orphan);
    assert!(!l.rows[2].orphan);
    assert_eq!(l.rows[2].parent_row, Some(1));
    let want = Warning::Orphans {
        trace_id: common::trace_id(1),
        count: 1,
    };
    assert_eq!(l.warnings, [want]);
}

#[test]
fn a_batch_span_links_to_its_items_in_other_traces() {
    let mut spans: Vec<_> = (1..=3)
        .map(|i| span(i, 10 + i, 0, i * 10, i * 10 + 5))
        .collect();
    let mut batch = span(9, 99, 0, 50, 80);
    batch.links = (1..=3)
        .map(|i| LinkRef {
            trace_id: common::trace_id(i),
            span_id: span_id(10 + i),
        })
        .collect();
    batch.links.push(LinkRef {
        trace_id: common::trace_id(7),
        span_id: span_id(7),
    });
    spans.push(batch);
    let l = rows(spans);
    let batch = l.rows.iter().find(|r| r.span.name == "span 99").unwrap();
    let targets: Vec<String> = (batch.links.iter())
        .map(|t| match t {
            LinkTarget::Row(r) => l.rows[*r].span.name.clone(),
            LinkTarget::External => "external".into(),
        })
        .collect();
    assert_eq!(targets, ["span 11", "span 12", "span 13", "external"]);
    assert_eq!(l.traces.len(), 4);
}

#[test]
fn a_child_that_starts_before_its_parent_is_drawn_there_and_flagged() {
    let l = rows(vec![
        span(1, 1, 0, 100, 200),
        span(1, 2, 1, 50, 150),
        span(1, 3, 1, 120, 130),
    ]);
    assert!(l.rows[1].starts_before_parent);
    assert_eq!(l.rows[1].offset, 0.0);
    assert_eq!(l.rows[0].offset, 1.0 / 3.0);
    assert!(!l.rows[2].starts_before_parent);
    assert!(!l.rows[0].starts_before_parent);
}

#[test]
fn duplicate_span_ids_keep_the_first_and_warn() {
    let mut second = json_span(1, 2, 1, 30, 40);
    second["name"] = "second copy".into();
    let text = [
        request(
            "a",
            vec![json_span(1, 1, 0, 0, 100), json_span(1, 2, 1, 10, 20)],
        ),
        request("a", vec![second]),
    ]
    .join("\n");
    let capture = parse(text.as_bytes(), &Options::default()).unwrap();
    let l = layout(&capture);
    assert_eq!(l.rows.len(), 2);
    assert_eq!(l.rows[1].span.name, "span 2");
    assert!(matches!(
        l.warnings[..],
        [Warning::Duplicate {
            extra_copies: 1,
            ..
        }]
    ));
}

#[test]
fn a_parent_cycle_is_cut_and_its_spans_become_orphans() {
    // 2 -> 3 -> 2, with 4 under 3; 5 is its own parent.
    let l = rows(vec![
        span(1, 1, 0, 0, 100),
        span(1, 2, 3, 10, 50),
        span(1, 3, 2, 20, 40),
        span(1, 4, 3, 25, 30),
        span(1, 5, 5, 60, 70),
    ]);
    assert_eq!(l.rows.len(), 5);
    let orphans: Vec<&str> = (l.rows.iter().filter(|r| r.orphan))
        .map(|r| r.span.name.as_str())
        .collect();
    assert_eq!(orphans, ["span 2", "span 3", "span 5"]);
    let four = l.rows.iter().position(|r| r.span.name == "span 4").unwrap();
    assert_eq!(l.rows[four].depth, 1);
    let cycles = l
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::Cycle { .. }));
    assert_eq!(cycles.count(), 2);
}

#[test]
fn beyond_the_limit_the_first_spans_by_start_are_drawn_and_the_rest_counted() {
    let spans: Vec<_> = (1..=5)
        .map(|i| json_span(1, i, 0, 100 - i * 10, 100))
        .collect();
    let text = request("a", spans);
    let capture = parse(text.as_bytes(), &Options { max_spans: 3 }).unwrap();
    let l = layout(&capture);
    let names: Vec<&str> = l.rows.iter().map(|r| r.span.name.as_str()).collect();
    assert_eq!(names, ["span 5", "span 4", "span 3"]);
    assert_eq!(
        l.warnings[0],
        Warning::LeftOut {
            kept: 3,
            left_out: 2
        }
    );
    assert!(l.warnings[0].to_string().contains("2 span(s) left out"));
}

#[test]
fn spans_with_impossible_times_are_kept_and_marked() {
    let mut backwards = span(1, 2, 1, 50, 40);
    backwards.name = "backwards".into();
    let mut zero = span(1, 3, 1, 0, 0);
    zero.start = 0;
    let l = rows(vec![span(1, 1, 0, 0, 100), backwards, zero]);
    assert_eq!(l.rows.len(), 3);
    assert!(l.rows.iter().skip(1).all(|r| r.bad_times && r.width == 0.0));
    assert_eq!((l.traces[0].start, l.traces[0].end), (T0, T0 + 100));
}

#[test]
fn a_chain_of_ten_thousand_spans_does_not_overflow_the_stack() {
    let spans: Vec<_> = (1..=10_000)
        .map(|i| span(1, i, i - 1, i, 20_000 - i))
        .collect();
    let l = rows(spans);
    assert_eq!(l.rows.last().unwrap().depth, 9_999);
}
