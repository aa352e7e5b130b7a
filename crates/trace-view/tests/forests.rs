//! Property: any forest of spans (with missing parents, shared ids across
//! traces, equal start times) lays out as one row per span, each non-orphan
//! row after its parent's row and one level deeper.

mod common;

use common::span;
use proptest::prelude::*;
use trace_view::{Layout, Span};

/// Up to 60 spans over 3 traces. Span i's parent is none, an id that is
/// not in the trace (an orphan), any id (so cycles happen), or an earlier
/// span of its trace.
fn forest() -> impl Strategy<Value = Vec<Span>> {
    prop::collection::vec(
        (0u64..3, 0u64..5, 0usize..64, 0u64..1_000, 0u64..500),
        0..60,
    )
    .prop_map(|specs| {
        let mut spans: Vec<Span> = Vec::new();
        for (i, (trace, how, pick, start, length)) in specs.into_iter().enumerate() {
            let id = i as u64 + 1;
            let own = common::trace_id(trace + 1);
            let earlier: Vec<&Span> =
                spans.iter().filter(|s| s.trace_id == own).collect();
            let parent = match how {
                0 => 0,
                1 => 10_000 + id,
                2 => pick as u64 + 1,
                _ if earlier.is_empty() => 0,
                _ => u64::from_str_radix(&earlier[pick % earlier.len()].span_id, 16)
                    .unwrap(),
            };
            spans.push(span(trace + 1, id, parent, start, start + length));
        }
        spans
    })
}

proptest! {
    #[test]
    fn rows_follow_the_tree(spans in forest()) {
        let layout = Layout::new(spans.clone(), Vec::new());
        prop_assert_eq!(layout.rows.len(), spans.len());
        let mut ids: Vec<(&str, &str)> = (layout.rows.iter())
            .map(|r| (r.span.trace_id.as_str(), r.span.span_id.as_str()))
            .collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), spans.len(), "each span exactly once");
        for (i, row) in layout.rows.iter().enumerate() {
            let trace = &layout.traces[row.trace];
            prop_assert!(trace.rows.contains(&i));
            prop_assert!((0.0..=1.0).contains(&row.offset));
            prop_assert!(row.offset + row.width <= 1.0 + 1e-9);
            match row.parent_row {
                Some(p) => {
                    prop_assert!(!row.orphan);
                    prop_assert!(p < i, "the parent's row comes first");
                    prop_assert_eq!(row.depth, layout.rows[p].depth + 1);
                    prop_assert_eq!(&layout.rows[p].span.span_id, &row.span.parent_span_id);
                }
                None => {
                    prop_assert_eq!(row.depth, 0);
                    prop_assert_eq!(row.orphan, !row.span.parent_span_id.is_empty());
                }
            }
        }
    }
}
