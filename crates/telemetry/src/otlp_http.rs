//! The HTTP client under the OTLP/HTTP exporters: the blocking reqwest
//! client opentelemetry-otlp would build itself, plus one check.
//!
//! opentelemetry-otlp 0.33 takes any `2xx` answer as delivered; it reads
//! the body only for a partial success and ignores one it cannot decode.
//! So a proxy or a misconfigured endpoint answering `200 OK` with an HTML
//! page swallows every batch, and the exporter counts the spans exported
//! (chapter 19 measures it). This client refuses a `2xx` whose non-empty
//! body is neither protobuf nor JSON: the exporter then sees a failed send,
//! retries it like a lost connection, and counts the batch failed if the
//! retries fail too.

use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};

use crate::TelemetryError;
use crate::counting::SpanCounters;

/// The exporters' timeout when `OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT` is unset.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A blocking reqwest client that refuses answers that are not OTLP, and
/// counts the items a partial success says were rejected.
#[derive(Debug)]
pub(crate) struct OtlpOnlyClient {
    client: reqwest::blocking::Client,
    /// The JSON name of the signal's rejected count, and where to count it.
    rejected: Option<(&'static str, SpanCounters)>,
}

impl OtlpOnlyClient {
    /// A client for `signal` (`TRACES`, `METRICS` or `LOGS`) with the timeout
    /// the exporter itself would use; items a partial success rejects are
    /// counted in `counters` (spans and log records; metric points are not
    /// counted one by one). The blocking client is built on a thread of its
    /// own: building it inside a tokio runtime panics.
    pub(crate) fn for_signal(
        signal: &str,
        counters: Option<&SpanCounters>,
    ) -> Result<OtlpOnlyClient, TelemetryError> {
        let field = match signal {
            "TRACES" => Some("rejectedSpans"),
            "LOGS" => Some("rejectedLogRecords"),
            _ => None,
        };
        let rejected = field.zip(counters.cloned());
        let timeout = timeout_from_env(signal, |name| std::env::var(name).ok());
        let built = std::thread::spawn(move || {
            reqwest::blocking::Client::builder()
                .timeout(timeout)
                .build()
        })
        .join()
        .map_err(|_| {
            TelemetryError::Exporter("building the HTTP client panicked".into())
        })?;
        built
            .map(|client| OtlpOnlyClient { client, rejected })
            .map_err(|e| {
                TelemetryError::Exporter(format!(
                    "cannot build the HTTP client: {e}"
                ))
            })
    }
}

/// `OTEL_EXPORTER_OTLP_{signal}_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`,
/// in milliseconds, as opentelemetry-otlp reads them.
pub(crate) fn timeout_from_env(
    signal: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Duration {
    [
        format!("OTEL_EXPORTER_OTLP_{signal}_TIMEOUT"),
        "OTEL_EXPORTER_OTLP_TIMEOUT".to_owned(),
    ]
    .iter()
    .find_map(|name| var(name)?.trim().parse::<u64>().ok())
    .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// Why a successful answer cannot be an OTLP response, if it cannot.
fn not_otlp(response: &Response<Bytes>) -> Option<String> {
    if !response.status().is_success() || response.body().is_empty() {
        return None;
    }
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
    let otlp = content_type.as_deref().is_some_and(|t| {
        t.starts_with("application/x-protobuf") || t.starts_with("application/json")
    });
    (!otlp).then(|| {
        format!(
            "the endpoint answered {} with a body of type {} that is not an OTLP \
             response (a proxy's page?)",
            response.status(),
            content_type.as_deref().unwrap_or("(none)")
        )
    })
}

// ANCHOR: rejected
/// The items a `2xx` answer's partial success says were rejected: field 1
/// of field 1 in protobuf (`rejected_spans`, `rejected_log_records` and
/// `rejected_data_points` all are), `partialSuccess.FIELD` in JSON. The
/// exporter itself only logs it; counting it here keeps the spans of a
/// partial success from being counted as delivered.
fn rejected_count(response: &Response<Bytes>, json_field: &str) -> u64 {
    let body = response.body();
    if !response.status().is_success() || body.is_empty() {
        return 0;
    }
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if json {
        let value: serde_json::Value =
            serde_json::from_slice(body).unwrap_or_default();
        let n = &value["partialSuccess"][json_field];
        // proto3 JSON writes an int64 as a string; accept a number too.
        n.as_u64().or_else(|| n.as_str()?.parse().ok()).unwrap_or(0)
    } else {
        rejected_in_protobuf(body)
    }
}
// ANCHOR_END: rejected

/// The rejected count of a protobuf `Export*ServiceResponse`, 0 if none.
pub(crate) fn rejected_in_protobuf(body: &[u8]) -> u64 {
    protobuf_field(body, 1)
        .and_then(|partial| protobuf_varint_field(partial, 1))
        .unwrap_or(0)
}

/// Reads a varint from the front of `bytes`: (value, bytes used).
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Walks the fields of a protobuf message: (number, wire type, payload).
/// A varint's payload is its encoding; a length-delimited one's, its bytes.
fn fields(mut bytes: &[u8]) -> impl Iterator<Item = (u64, u64, &[u8])> {
    std::iter::from_fn(move || {
        let (key, used) = varint(bytes)?;
        bytes = &bytes[used..];
        let len = match key & 7 {
            0 => varint(bytes)?.1,
            1 => 8,
            2 => {
                let (len, used) = varint(bytes)?;
                bytes = &bytes[used..];
                usize::try_from(len).ok()?
            }
            5 => 4,
            _ => return None,
        };
        let payload = bytes.get(..len)?;
        bytes = &bytes[len..];
        Some((key >> 3, key & 7, payload))
    })
}

/// The bytes of length-delimited field `number`, if present.
fn protobuf_field(bytes: &[u8], number: u64) -> Option<&[u8]> {
    fields(bytes)
        .find(|(n, wire, _)| *n == number && *wire == 2)
        .map(|f| f.2)
}

/// The value of varint field `number`, if present.
fn protobuf_varint_field(bytes: &[u8], number: u64) -> Option<u64> {
    let (_, _, payload) =
        fields(bytes).find(|(n, wire, _)| *n == number && *wire == 0)?;
    Some(varint(payload)?.0)
}

#[async_trait::async_trait]
impl HttpClient for OtlpOnlyClient {
    async fn send_bytes(
        &self,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, HttpError> {
        let response = self.client.send_bytes(request).await?;
        if let Some(why) = not_otlp(&response) {
            return Err(why.into());
        }
        if let Some((field, counters)) = &self.rejected {
            counters.add_rejected(rejected_count(&response, field));
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Response<Bytes> {
        let mut builder = Response::builder().status(status);
        if let Some(t) = content_type {
            builder = builder.header("content-type", t);
        }
        builder.body(Bytes::from(body.to_owned())).unwrap()
    }

    #[test]
    fn only_a_successful_page_that_is_not_otlp_is_refused() {
        assert!(
            not_otlp(&answer(200, Some("application/x-protobuf"), "\x0a")).is_none()
        );
        assert!(not_otlp(&answer(200, Some("application/json"), "{}")).is_none());
        assert!(
            not_otlp(&answer(200, None, "")).is_none(),
            "empty: nothing misread"
        );
        assert!(not_otlp(&answer(503, Some("text/html"), "<p>busy")).is_none());
        let why = not_otlp(&answer(200, Some("text/html"), "<p>hi")).unwrap();
        assert!(why.contains("text/html"), "{why}");
        assert!(not_otlp(&answer(200, None, "x")).is_some());
    }

    #[test]
    fn reads_the_rejected_count_of_a_partial_success() {
        let proto = |bytes: &[u8]| {
            let mut a = answer(200, Some("application/x-protobuf"), "");
            *a.body_mut() = Bytes::from(bytes.to_vec());
            a
        };
        // partial_success { rejected_spans: 300, error_message: "x" }
        let body = [0x0a, 0x06, 0x08, 0xac, 0x02, 0x12, 0x01, b'x'];
        assert_eq!(rejected_count(&proto(&body), "rejectedSpans"), 300);
        assert_eq!(rejected_count(&proto(&[]), "rejectedSpans"), 0);
        // Truncated: nothing read, nothing counted.
        assert_eq!(rejected_count(&proto(&body[..3]), "rejectedSpans"), 0);
        let json = |text: &str| answer(200, Some("application/json"), text);
        let quoted = r#"{"partialSuccess":{"rejectedLogRecords":"7"}}"#;
        assert_eq!(rejected_count(&json(quoted), "rejectedLogRecords"), 7);
        let number = r#"{"partialSuccess":{"rejectedSpans":5}}"#;
        assert_eq!(rejected_count(&json(number), "rejectedSpans"), 5);
        assert_eq!(rejected_count(&json("{}"), "rejectedSpans"), 0);
        assert_eq!(rejected_count(&json("not json"), "rejectedSpans"), 0);
        let refused = answer(503, Some("application/json"), number);
        assert_eq!(rejected_count(&refused, "rejectedSpans"), 0);
    }

    #[test]
    fn the_timeout_is_read_like_the_exporters_read_it() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(timeout_from_env("TRACES", env(&[])), DEFAULT_TIMEOUT);
        let both = env(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "500"),
        ]);
        assert_eq!(timeout_from_env("TRACES", both), Duration::from_millis(500));
        assert_eq!(timeout_from_env("LOGS", both), Duration::from_secs(2));
    }
}
