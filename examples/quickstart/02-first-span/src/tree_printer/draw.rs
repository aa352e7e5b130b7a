//! Draws one tree per trace: a line per span, its children indented below it.

use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::trace::SpanData;

const SHOWN_TRACES: usize = 4; // printed in full; the rest are only counted

pub fn print_traces(mut spans: Vec<SpanData>) {
    spans.sort_by_key(|span| span.start_time);
    let here = |id| spans.iter().any(|p| p.span_context.span_id() == id);
    let roots: Vec<_> = spans.iter().filter(|s| !here(s.parent_span_id)).collect();
    for root in roots.iter().take(SHOWN_TRACES) {
        println!("trace {}", root.span_context.trace_id());
        let parent = root.parent_span_id;
        if parent != SpanId::INVALID {
            println!("  (parent span {parent} is in another process)");
        }
        print_tree(&spans, root, 1);
    }
    if roots.len() > SHOWN_TRACES {
        println!("... and {} more traces", roots.len() - SHOWN_TRACES);
    }
}

fn print_tree(spans: &[SpanData], span: &SpanData, depth: usize) {
    let took = span.end_time.duration_since(span.start_time);
    let took = took.unwrap_or_default();
    let mut line = format!("{:width$}{} {took:?}", "", span.name, width = depth * 2);
    for kv in &span.attributes {
        line += &format!(" {}={}", kv.key, kv.value);
    }
    if let Status::Error { description } = &span.status {
        line += &format!(" ERROR: {description}");
    }
    println!("{line}");
    let id = span.span_context.span_id();
    for child in spans.iter().filter(|s| s.parent_span_id == id) {
        print_tree(spans, child, depth + 1);
    }
}
