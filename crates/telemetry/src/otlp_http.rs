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

/// The exporters' timeout when `OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT` is unset.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A blocking reqwest client that refuses answers that are not OTLP.
#[derive(Debug)]
pub(crate) struct OtlpOnlyClient(reqwest::blocking::Client);

impl OtlpOnlyClient {
    /// A client for `signal` (`TRACES`, `METRICS` or `LOGS`) with the timeout
    /// the exporter itself would use. The blocking client is built on a
    /// thread of its own: building it inside a tokio runtime panics.
    pub(crate) fn for_signal(
        signal: &str,
    ) -> Result<OtlpOnlyClient, TelemetryError> {
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
        built.map(OtlpOnlyClient).map_err(|e| {
            TelemetryError::Exporter(format!("cannot build the HTTP client: {e}"))
        })
    }
}

/// `OTEL_EXPORTER_OTLP_{signal}_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`,
/// in milliseconds, as opentelemetry-otlp reads them.
fn timeout_from_env(signal: &str, var: impl Fn(&str) -> Option<String>) -> Duration {
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

#[async_trait::async_trait]
impl HttpClient for OtlpOnlyClient {
    async fn send_bytes(
        &self,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, HttpError> {
        let response = self.0.send_bytes(request).await?;
        match not_otlp(&response) {
            Some(why) => Err(why.into()),
            None => Ok(response),
        }
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
