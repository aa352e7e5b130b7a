//! The repairs made to the spans of a capture before they are laid out.
//!
//! A span id seen twice in a trace (an exporter retry, two files joined)
//! keeps its first copy; beyond `max_spans` only the first spans by start
//! time are kept, so that a huge capture still draws quickly; a span with
//! impossible times is kept (it is evidence) but reported. Each repair is
//! a [`Warning`], so the drawing can say what it changed.

use crate::model::Span;
use crate::warning::Warning;
use std::collections::HashMap;

/// The spans to draw, in the order read, and the warnings about them.
pub(crate) fn apply(
    spans: Vec<Span>,
    max_spans: usize,
    warnings: &mut Vec<Warning>,
) -> Vec<Span> {
    let spans = without_duplicates(spans, warnings);
    let spans = first_by_start(spans, max_spans, warnings);
    for span in &spans {
        if let Some(problem) = span.time_problem() {
            warnings.push(Warning::BadTimes {
                trace_id: span.trace_id.clone(),
                span_id: span.span_id.clone(),
                problem,
            });
        }
    }
    spans
}

fn without_duplicates(spans: Vec<Span>, warnings: &mut Vec<Warning>) -> Vec<Span> {
    let mut extra: HashMap<(String, String), usize> = HashMap::new();
    let mut order = Vec::new();
    let mut kept = Vec::with_capacity(spans.len());
    for span in spans {
        let key = (span.trace_id.clone(), span.span_id.clone());
        match extra.get_mut(&key) {
            Some(count) => {
                if *count == 0 {
                    order.push(key);
                }
                *count += 1;
            }
            None => {
                extra.insert(key, 0);
                kept.push(span);
            }
        }
    }
    for (trace_id, span_id) in order {
        let extra_copies = extra[&(trace_id.clone(), span_id.clone())];
        warnings.push(Warning::Duplicate {
            trace_id,
            span_id,
            extra_copies,
        });
    }
    kept
}

fn first_by_start(
    spans: Vec<Span>,
    max: usize,
    warnings: &mut Vec<Warning>,
) -> Vec<Span> {
    if spans.len() <= max {
        return spans;
    }
    let mut by_start: Vec<usize> = (0..spans.len()).collect();
    let key = |i: usize| (spans[i].start, &spans[i].trace_id, &spans[i].span_id);
    by_start.sort_by(|&a, &b| key(a).cmp(&key(b)));
    let mut keep = vec![false; spans.len()];
    for &i in &by_start[..max] {
        keep[i] = true;
    }
    warnings.push(Warning::LeftOut {
        kept: max,
        left_out: spans.len() - max,
    });
    let kept = spans.into_iter().zip(keep).filter(|(_, k)| *k);
    kept.map(|(s, _)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(trace: &str, id: &str, start: u64) -> Span {
        Span {
            trace_id: trace.repeat(32),
            span_id: id.repeat(16),
            start,
            end: start + 10,
            ..Span::default()
        }
    }

    #[test]
    fn duplicates_keep_the_first_copy_and_are_reported_once() {
        let mut first = span("a", "1", 100);
        first.name = "first".into();
        let spans = vec![
            first,
            span("a", "1", 200),
            span("b", "1", 300),
            span("a", "1", 400),
        ];
        let mut warnings = Vec::new();
        let kept = apply(spans, 10, &mut warnings);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].name, "first");
        assert_eq!(
            warnings,
            [Warning::Duplicate {
                trace_id: "a".repeat(32),
                span_id: "1".repeat(16),
                extra_copies: 2
            }]
        );
    }

    #[test]
    fn beyond_the_limit_the_first_by_start_time_are_kept() {
        let spans = vec![
            span("a", "1", 500),
            span("a", "2", 100),
            span("a", "3", 300),
        ];
        let mut warnings = Vec::new();
        let kept = apply(spans, 2, &mut warnings);
        let ids: Vec<&str> = kept.iter().map(|s| &s.span_id[..1]).collect();
        assert_eq!(ids, ["2", "3"]);
        assert_eq!(
            warnings,
            [Warning::LeftOut {
                kept: 2,
                left_out: 1
            }]
        );
    }

    #[test]
    fn bad_times_are_kept_and_reported() {
        let mut backwards = span("a", "1", 500);
        backwards.end = 400;
        let zero = span("a", "2", 0);
        let mut late = span("a", "3", 100);
        late.end = u64::MAX;
        let mut warnings = Vec::new();
        let kept = apply(
            vec![backwards, zero, late, span("a", "4", 7)],
            10,
            &mut warnings,
        );
        assert_eq!(kept.len(), 4);
        assert_eq!(warnings.len(), 3);
        assert!(warnings[0].to_string().contains("an end before its start"));
        assert!(warnings[1].to_string().contains("0 or after the year 2200"));
    }
}
