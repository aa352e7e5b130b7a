//! Reading captures: both file shapes, every field form OTLP/JSON allows,
//! and a located, readable error for each kind of bad input.

mod common;

use common::{T0, json_span, request};
use serde_json::json;
use trace_view::{
    CaptureError, Options, Problem, SpanKind, StatusCode, Warning, parse,
};

fn read(text: &str) -> Result<trace_view::Capture, CaptureError> {
    parse(text.as_bytes(), &Options::default())
}

#[test]
fn json_lines_and_one_pretty_object_are_both_captures() {
    let lines = [
        request("a", vec![json_span(1, 1, 0, 0, 10)]),
        request("b", vec![]),
    ]
    .join("\n");
    let capture = read(&format!("{lines}\n\n")).unwrap();
    assert_eq!((capture.documents, capture.spans.len()), (2, 1));
    assert_eq!(capture.spans[0].service, "a");
    let value: serde_json::Value =
        serde_json::from_str(&request("c", vec![])).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    assert_eq!(read(&pretty).unwrap().documents, 1);
}

#[test]
fn every_field_is_read() {
    let mut s = json_span(1, 2, 1, 0, 10);
    s["kind"] = json!("SPAN_KIND_SERVER");
    s["startTimeUnixNano"] = json!(T0);
    s["status"] = json!({"code": 2, "message": "boom"});
    s["attributes"] = json!([{"key": "http.route", "value": {"stringValue": "/x"}}]);
    s["events"] = json!([{"timeUnixNano": (T0 + 5).to_string(), "name": "retry",
        "attributes": [{"key": "n", "value": {"intValue": "2"}}]}]);
    s["links"] =
        json!([{"traceId": common::trace_id(3), "spanId": common::span_id(4)}]);
    let span = read(&request("svc", vec![s])).unwrap().spans.remove(0);
    assert_eq!(span.kind, SpanKind::Server);
    assert_eq!(
        (span.status, span.status_message.as_str()),
        (StatusCode::Error, "boom")
    );
    assert_eq!(span.parent_span_id, common::span_id(1));
    assert_eq!((span.start, span.end), (T0, T0 + 10));
    assert_eq!(span.attributes[0].value, "/x");
    assert_eq!(
        (span.events[0].name.as_str(), span.events[0].time),
        ("retry", T0 + 5)
    );
    assert_eq!(span.links[0].span_id, common::span_id(4));
}

#[test]
fn a_resource_without_a_service_name_is_the_unknown_service() {
    let text = json!({"resourceSpans": [{"scopeSpans": [{"spans": [json_span(1, 1, 0, 0, 1)]}]}]});
    let capture = read(&text.to_string()).unwrap();
    assert_eq!(capture.spans[0].service, "unknown_service");
}

#[test]
fn metrics_and_logs_documents_are_skipped_with_a_warning() {
    let text = format!("{}\n{{\"resourceMetrics\": []}}", request("a", vec![]));
    let capture = read(&text).unwrap();
    let want = Warning::NotTraces {
        line: 2,
        signal: "metrics".into(),
    };
    assert_eq!(capture.warnings, [want]);
}

/// The problem and line of reading `text`, which must fail.
fn failure(text: &str) -> (Problem, usize, String) {
    let e = read(text).unwrap_err();
    (e.problem.clone(), e.line, e.to_string())
}

#[test]
fn bad_input_is_a_located_error() {
    let (p, _, _) = failure("");
    assert_eq!(p, Problem::Empty);
    let (p, line, text) = failure("{\"resourceSpans\": []}\n{\"resourceSpans\": [}");
    assert!(matches!(p, Problem::NotJson(_)), "{text}");
    assert_eq!(line, 2);
    assert!(
        text.starts_with("line 2, column 20 (byte 41): not JSON"),
        "{text}"
    );
    let (p, _, _) = failure("{\"resourceSpans\": [{\"scopeSpans\"");
    assert_eq!(p, Problem::Truncated);
    let (p, _, _) = failure("{\"traces\": 1}");
    assert_eq!(p, Problem::NotOtlp("no resourceSpans".into()));
    let (p, _, _) = failure("[1, 2]");
    assert!(matches!(p, Problem::NotOtlp(_)));
    let (_, _, text) = failure("\u{FEFF}{}");
    assert!(text.contains("no resourceSpans"), "{text}");
}

#[test]
fn a_bad_field_is_named_by_its_json_path() {
    let mut bad = json_span(1, 2, 0, 0, 1);
    bad["spanId"] = json!("xyz");
    let text = format!("{}\n{}", request("a", vec![]), request("a", vec![bad]));
    let (p, line, text) = failure(&text);
    assert_eq!(line, 2);
    let Problem::Field { path, what } = p else {
        panic!("{text}")
    };
    assert_eq!(path, "resourceSpans[0].scopeSpans[0].spans[0].spanId");
    assert!(what.contains("16 hex digits"), "{what}");
    for (field, value) in [
        ("traceId", json!("abc")),
        ("parentSpanId", json!("zzzzzzzzzzzzzzzz")),
        ("startTimeUnixNano", json!("soon")),
        ("kind", json!("SPAN_KIND_SIDEWAYS")),
        ("attributes", json!({})),
    ] {
        let mut s = json_span(1, 2, 0, 0, 1);
        s[field] = value;
        let (p, _, text) = failure(&request("a", vec![s]));
        assert!(
            matches!(p, Problem::Field { .. }) && text.contains(field),
            "{text}"
        );
    }
}

#[test]
fn a_large_capture_is_cut_to_the_limit_and_still_drawn() {
    let lines: Vec<String> = (1..=20_000u64)
        .map(|i| request("a", vec![json_span(i % 50 + 1, i, 0, 20_000 - i, 20_000)]))
        .collect();
    let capture = read(&lines.join("\n")).unwrap();
    assert_eq!((capture.documents, capture.spans.len()), (20_000, 10_000));
    let want = Warning::LeftOut {
        kept: 10_000,
        left_out: 10_000,
    };
    assert_eq!(capture.warnings, [want]);
    let layout = trace_view::layout(&capture);
    assert!(layout.rows.iter().all(|r| r.span.start - T0 < 10_000));
    let page = trace_view::render_page(&layout);
    assert_eq!(page.matches("data-span-id=\"").count(), 10_000);
}
