//! One `ExportTraceServiceRequest` in OTLP/JSON, turned into [`Span`]s.
//!
//! The structure is `resourceSpans[].{resource.attributes, scopeSpans[].spans[]}`;
//! each span takes its service from the resource attribute `service.name`.
//! Every error names the JSON path of the field, so a reader can find it.

use crate::capture::Problem;
use crate::fields::{array, enumeration, expected, hex_id, nanos, string, wrong};
use crate::model::{Event, LinkRef, Span, SpanKind, StatusCode};
use crate::values::attributes;
use crate::warning::Warning;
use serde_json::Value;

/// The service of spans whose resource names none (the SDKs' default).
pub const UNKNOWN_SERVICE: &str = "unknown_service";

const KINDS: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const CODES: [&str; 3] =
    ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// Appends the spans of the document `v` (which starts on `line`) to `out`.
/// A metrics or logs document is skipped with a warning.
pub(crate) fn read(
    v: &Value,
    line: usize,
    out: &mut Vec<Span>,
    warnings: &mut Vec<Warning>,
) -> Result<(), Problem> {
    let Some(object) = v.as_object() else {
        return Err(Problem::NotOtlp(expected("an object", v)));
    };
    if !object.contains_key("resourceSpans") {
        let other = ["resourceMetrics", "resourceLogs", "resourceProfiles"]
            .into_iter()
            .find(|key| object.contains_key(*key));
        let Some(signal) = other else {
            return Err(Problem::NotOtlp("no resourceSpans".into()));
        };
        let signal = signal.trim_start_matches("resource").to_lowercase();
        warnings.push(Warning::NotTraces { line, signal });
        return Ok(());
    }
    for (i, rs) in array(v, "resourceSpans", "")?.iter().enumerate() {
        let path = format!("resourceSpans[{i}]");
        let service = service_name(rs, &path)?;
        for (j, ss) in array(rs, "scopeSpans", &path)?.iter().enumerate() {
            let path = format!("{path}.scopeSpans[{j}]");
            for (k, s) in array(ss, "spans", &path)?.iter().enumerate() {
                out.push(span(s, &format!("{path}.spans[{k}]"), &service)?);
            }
        }
    }
    Ok(())
}

fn service_name(rs: &Value, path: &str) -> Result<String, Problem> {
    let Some(resource) = rs.get("resource") else {
        return Ok(UNKNOWN_SERVICE.into());
    };
    let attrs = attributes(resource, &format!("{path}.resource"))?;
    let name = attrs.into_iter().find(|a| a.key == "service.name");
    Ok(name.map_or_else(|| UNKNOWN_SERVICE.into(), |a| a.value))
}

fn span(s: &Value, path: &str, service: &str) -> Result<Span, Problem> {
    if !s.is_object() {
        return Err(wrong(path, expected("a span object", s)));
    }
    let (status, status_message) = status(s, path)?;
    Ok(Span {
        trace_id: hex_id(s, "traceId", path, 16, true)?,
        span_id: hex_id(s, "spanId", path, 8, true)?,
        parent_span_id: hex_id(s, "parentSpanId", path, 8, false)?,
        name: string(s, "name", path)?,
        kind: SpanKind::ALL[enumeration(s, "kind", path, &KINDS)?],
        start: nanos(s, "startTimeUnixNano", path)?,
        end: nanos(s, "endTimeUnixNano", path)?,
        service: service.to_owned(),
        attributes: attributes(s, path)?,
        events: events(s, path)?,
        links: links(s, path)?,
        status,
        status_message,
    })
}

fn status(s: &Value, path: &str) -> Result<(StatusCode, String), Problem> {
    let Some(status) = s.get("status").filter(|v| !v.is_null()) else {
        return Ok((StatusCode::Unset, String::new()));
    };
    let path = format!("{path}.status");
    let code = match enumeration(status, "code", &path, &CODES)? {
        1 => StatusCode::Ok,
        2 => StatusCode::Error,
        _ => StatusCode::Unset,
    };
    Ok((code, string(status, "message", &path)?))
}

fn events(s: &Value, path: &str) -> Result<Vec<Event>, Problem> {
    let mut out = Vec::new();
    for (i, e) in array(s, "events", path)?.iter().enumerate() {
        let path = format!("{path}.events[{i}]");
        out.push(Event {
            time: nanos(e, "timeUnixNano", &path)?,
            name: string(e, "name", &path)?,
            attributes: attributes(e, &path)?,
        });
    }
    Ok(out)
}

fn links(s: &Value, path: &str) -> Result<Vec<LinkRef>, Problem> {
    let mut out = Vec::new();
    for (i, l) in array(s, "links", path)?.iter().enumerate() {
        let path = format!("{path}.links[{i}]");
        out.push(LinkRef {
            trace_id: hex_id(l, "traceId", &path, 16, true)?,
            span_id: hex_id(l, "spanId", &path, 8, true)?,
        });
    }
    Ok(out)
}
