//! The capture as Chrome trace-event JSON, for Perfetto and speedscope.
//!
//! Those viewers zoom and search far better than a page can, but they do
//! not read OTLP. In the trace-event format each service is a process
//! (`pid`, named by an `"M"` metadata event) and each row of the waterfall
//! is a thread (`tid`): a complete event (`"ph": "X"`) per span, an instant
//! event (`"ph": "i"`) per span event. One span per thread keeps the format's
//! rule that slices on a thread nest, which concurrent siblings would break.
//! Times are microseconds since the capture's first start, so that the
//! f64 timestamps keep their nanosecond digits.

use crate::layout::{Layout, Row};
use serde_json::{Map, Value, json};

/// `layout` as a Chrome trace-event JSON document.
pub fn render_chrome(layout: &Layout) -> String {
    let origin = (layout.traces.iter())
        .filter(|t| t.end > 0)
        .map(|t| t.start)
        .min()
        .unwrap_or(0);
    let mut events: Vec<Value> = (layout.services.iter().enumerate())
        .map(|(pid, name)| {
            json!({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": name}})
        })
        .collect();
    for (tid, row) in layout.rows.iter().enumerate() {
        events.extend(thread_names(row, tid));
        events.extend(span_events(row, tid, origin));
    }
    let document = json!({"traceEvents": events, "displayTimeUnit": "ms"});
    document.to_string()
}

fn micros(t: u64, origin: u64) -> f64 {
    t.saturating_sub(origin) as f64 / 1_000.0
}

fn thread_names(row: &Row, tid: usize) -> [Value; 2] {
    let short = row.span.trace_id.get(..8).unwrap_or_default();
    let name = format!("trace {short} · {}", row.span.name);
    [
        json!({"name": "thread_name", "ph": "M", "pid": row.service, "tid": tid,
               "args": {"name": name}}),
        json!({"name": "thread_sort_index", "ph": "M", "pid": row.service, "tid": tid,
               "args": {"sort_index": tid}}),
    ]
}

fn span_events(row: &Row, tid: usize, origin: u64) -> Vec<Value> {
    let span = &row.span;
    let mut args = Map::new();
    args.insert("trace_id".into(), json!(span.trace_id));
    args.insert("span_id".into(), json!(span.span_id));
    args.insert("parent_span_id".into(), json!(span.parent_span_id));
    args.insert("status".into(), json!(span.status.as_str()));
    if !span.status_message.is_empty() {
        args.insert("status_message".into(), json!(span.status_message));
    }
    args.insert("orphan".into(), json!(row.orphan));
    for a in &span.attributes {
        args.insert(format!("attr.{}", a.key), json!(a.value));
    }
    let links: Vec<String> = (span.links.iter())
        .map(|l| format!("{}/{}", l.trace_id, l.span_id))
        .collect();
    if !links.is_empty() {
        args.insert("links".into(), json!(links));
    }
    let (ts, dur) = (micros(span.start, origin), span.duration() as f64 / 1_000.0);
    let mut out = vec![
        json!({"name": span.name, "cat": span.kind.as_str(), "ph": "X",
        "ts": ts, "dur": dur, "pid": row.service, "tid": tid, "args": args}),
    ];
    for e in &span.events {
        let args: Map<String, Value> = (e.attributes.iter())
            .map(|a| (a.key.clone(), json!(a.value)))
            .collect();
        out.push(
            json!({"name": e.name, "ph": "i", "s": "t", "ts": micros(e.time, origin),
            "pid": row.service, "tid": tid, "args": args}),
        );
    }
    out
}
