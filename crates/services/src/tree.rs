//! Reading a trace back from the in-process OTLP receiver and printing it
//! as a tree: what the tests assert on and the examples print.

use opentelemetry_proto_types::common::v1::any_value::Value;
use opentelemetry_proto_types::trace::v1::span::SpanKind;
use opentelemetry_proto_types::trace::v1::status::StatusCode;
use otlp_receiver::Receiver;
use otlp_receiver::proto as opentelemetry_proto_types;

/// One received span, with the service that sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeSpan {
    /// `service.name` of the resource the span came with.
    pub service: String,
    /// The span's name.
    pub name: String,
    /// `server`, `client`, `internal`, ...
    pub kind: &'static str,
    /// 16 bytes.
    pub trace_id: Vec<u8>,
    /// 8 bytes.
    pub span_id: Vec<u8>,
    /// Empty for a root span.
    pub parent_span_id: Vec<u8>,
    /// Start time, nanoseconds since the Unix epoch.
    pub start: u64,
    /// Whether the span's status is Error.
    pub error: bool,
    /// `http.response.status_code`, if set.
    pub status_code: Option<i64>,
    /// `error.type`, if set.
    pub error_type: Option<String>,
    /// Names of the span's events.
    pub events: Vec<String>,
}

/// Every span the receiver holds, in arrival order.
pub fn received_spans(receiver: &Receiver) -> Vec<TreeSpan> {
    let mut out = Vec::new();
    for request in receiver.traces() {
        for resource_spans in &request.request.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
                .and_then(|a| a.value.as_ref()?.value.as_ref())
                .map(|v| match v {
                    Value::StringValue(s) => s.clone(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for scope in &resource_spans.scope_spans {
                for span in &scope.spans {
                    let attribute = |key: &str| {
                        span.attributes
                            .iter()
                            .find(|a| a.key == key)
                            .and_then(|a| a.value.as_ref()?.value.clone())
                    };
                    out.push(TreeSpan {
                        service: service.clone(),
                        name: span.name.clone(),
                        kind: match SpanKind::try_from(span.kind) {
                            Ok(SpanKind::Server) => "server",
                            Ok(SpanKind::Client) => "client",
                            Ok(SpanKind::Producer) => "producer",
                            Ok(SpanKind::Consumer) => "consumer",
                            Ok(SpanKind::Internal) => "internal",
                            _ => "unspecified",
                        },
                        trace_id: span.trace_id.clone(),
                        span_id: span.span_id.clone(),
                        parent_span_id: span.parent_span_id.clone(),
                        start: span.start_time_unix_nano,
                        error: span
                            .status
                            .as_ref()
                            .is_some_and(|s| s.code == StatusCode::Error as i32),
                        status_code: match attribute("http.response.status_code") {
                            Some(Value::IntValue(i)) => Some(i),
                            _ => None,
                        },
                        error_type: match attribute("error.type") {
                            Some(Value::StringValue(s)) => Some(s),
                            _ => None,
                        },
                        events: span.events.iter().map(|e| e.name.clone()).collect(),
                    });
                }
            }
        }
    }
    out
}

/// Lower-case hex of an id.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spans of one trace.
pub fn of_trace(spans: &[TreeSpan], trace_id: &[u8]) -> Vec<TreeSpan> {
    spans
        .iter()
        .filter(|s| s.trace_id == trace_id)
        .cloned()
        .collect()
}

// ANCHOR: render
/// Draws the spans as a tree: a span whose parent is not among them is a
/// root; children are ordered by start time. One line per span:
/// `name  [service, kind]  status`, with `ERROR` when the status says so,
/// then a `·` line per span event.
pub fn render(spans: &[TreeSpan]) -> String {
    let mut out = String::new();
    let mut roots: Vec<&TreeSpan> = spans
        .iter()
        .filter(|s| !spans.iter().any(|p| p.span_id == s.parent_span_id))
        .collect();
    roots.sort_by_key(|s| s.start);
    for root in roots {
        draw(spans, root, "", "", &mut out);
    }
    out
}

fn draw(
    spans: &[TreeSpan],
    span: &TreeSpan,
    lead: &str,
    next: &str,
    out: &mut String,
) {
    let status = span.status_code.map_or(String::new(), |c| format!("  {c}"));
    let error = if span.error { "  ERROR" } else { "" };
    out.push_str(&format!(
        "{lead}{}  [{}, {}]{status}{error}\n",
        span.name, span.service, span.kind
    ));
    let mut children: Vec<&TreeSpan> = spans
        .iter()
        .filter(|c| c.parent_span_id == span.span_id)
        .collect();
    let rail = if children.is_empty() { " " } else { "│" };
    for event in &span.events {
        out.push_str(&format!("{next}{rail} · {event}\n"));
    }
    children.sort_by_key(|c| c.start);
    let last = children.len().saturating_sub(1);
    for (i, child) in children.into_iter().enumerate() {
        let (branch, cont) = if i == last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        draw(
            spans,
            child,
            &format!("{next}{branch}"),
            &format!("{next}{cont}"),
            out,
        );
    }
}
// ANCHOR_END: render
