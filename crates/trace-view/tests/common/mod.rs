//! Spans written by hand for the tests, and OTLP/JSON made from them.

#![allow(dead_code)]

use serde_json::{Value, json};
use trace_view::Span;

/// Nanoseconds of the tests' time zero (2023-11-14): a sane Unix time.
pub const T0: u64 = 1_700_000_000_000_000_000;

pub fn trace_id(n: u64) -> String {
    format!("{n:032x}")
}

pub fn span_id(n: u64) -> String {
    format!("{n:016x}")
}

/// Span `id` of trace `trace`, under `parent` (0: a root), from T0+start to T0+end.
pub fn span(trace: u64, id: u64, parent: u64, start: u64, end: u64) -> Span {
    Span {
        trace_id: trace_id(trace),
        span_id: span_id(id),
        parent_span_id: if parent == 0 {
            String::new()
        } else {
            span_id(parent)
        },
        name: format!("span {id}"),
        start: T0 + start,
        end: T0 + end,
        service: "svc".into(),
        ..Span::default()
    }
}

/// One OTLP/JSON span object.
pub fn json_span(trace: u64, id: u64, parent: u64, start: u64, end: u64) -> Value {
    json!({
        "traceId": trace_id(trace),
        "spanId": span_id(id),
        "parentSpanId": if parent == 0 { String::new() } else { span_id(parent) },
        "name": format!("span {id}"),
        "kind": 1,
        "startTimeUnixNano": (T0 + start).to_string(),
        "endTimeUnixNano": (T0 + end).to_string(),
    })
}

/// An ExportTraceServiceRequest of `spans` from `service`, on one line.
pub fn request(service: &str, spans: Vec<Value>) -> String {
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]
    }]})
    .to_string()
}
