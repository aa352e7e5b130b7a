//! Chapter 12's small processors: baggage onto spans, redaction, filtering;
//! and what a processor registered beside another can change for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{Span as _, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    SdkTracerProvider, SimpleSpanProcessor, Span as SdkSpan, SpanData, SpanExporter,
    SpanProcessor,
};
use otlp_csp_telemetry::{
    BaggageToAttributes, CountEnded, CountingExporter, Filter, REDACTED, Redact,
    SpanCounters, Tee,
};

/// Keeps exported spans in memory.
#[derive(Clone, Debug, Default)]
struct Keep(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Keep {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

impl Keep {
    fn spans(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().clone()
    }
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn baggage_cx() -> Context {
    Context::current_with_baggage(vec![
        KeyValue::new("tenant.id", "acme"),
        KeyValue::new("tenant.plan", "gold"),
        KeyValue::new("session.secret", "s3cr3t"),
    ])
}

#[test]
fn baggage_entries_become_attributes() {
    let keep = Keep::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BaggageToAttributes::all())
        .with_simple_exporter(keep.clone())
        .build();
    drop(provider.tracer("t").start_with_context("op", &baggage_cx()));
    drop(
        provider
            .tracer("t")
            .start_with_context("no_baggage", &Context::new()),
    );
    provider.shutdown().unwrap();
    let spans = keep.spans();
    assert_eq!(
        attribute(&spans[0], "tenant.id"),
        Some(&Value::from("acme"))
    );
    assert_eq!(
        attribute(&spans[0], "tenant.plan"),
        Some(&Value::from("gold"))
    );
    assert_eq!(
        attribute(&spans[0], "session.secret"),
        Some(&Value::from("s3cr3t"))
    );
    assert!(spans[1].attributes.is_empty());
}

#[test]
fn a_key_filter_keeps_only_matching_entries() {
    let keep = Keep::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BaggageToAttributes::matching(|k| {
            k.starts_with("tenant.")
        }))
        .with_simple_exporter(keep.clone())
        .build();
    drop(provider.tracer("t").start_with_context("op", &baggage_cx()));
    provider.shutdown().unwrap();
    let span = &keep.spans()[0];
    let mut keys: Vec<&str> =
        span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["tenant.id", "tenant.plan"]);
}

#[test]
fn redaction_replaces_values_on_spans_and_events() {
    let keep = Keep::default();
    let redact = Redact::new(
        ["user.email", "http.request.header.*"],
        SimpleSpanProcessor::new(keep.clone()),
    );
    let redacted = redact.redacted_counter();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(redact)
        .build();
    let mut span = provider.tracer("t").start("login");
    span.set_attribute(KeyValue::new("user.email", "ada@example.com"));
    span.set_attribute(KeyValue::new(
        "http.request.header.authorization",
        "Bearer abc",
    ));
    span.set_attribute(KeyValue::new("user.id", 42));
    span.add_event(
        "retry",
        vec![KeyValue::new("user.email", "ada@example.com")],
    );
    span.end();
    provider.shutdown().unwrap();

    let span = &keep.spans()[0];
    let hidden = Value::from(REDACTED);
    assert_eq!(attribute(span, "user.email"), Some(&hidden));
    assert_eq!(
        attribute(span, "http.request.header.authorization"),
        Some(&hidden)
    );
    assert_eq!(attribute(span, "user.id"), Some(&Value::I64(42)));
    assert_eq!(span.events.events[0].attributes[0].value, hidden);
    assert_eq!(redacted.get(), 3);
}

#[test]
fn a_key_that_only_starts_like_a_pattern_is_kept() {
    let keep = Keep::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(Redact::new(
            ["user.email"],
            SimpleSpanProcessor::new(keep.clone()),
        ))
        .build();
    let mut span = provider.tracer("t").start("s");
    span.set_attribute(KeyValue::new("user.email_verified", true));
    span.end();
    provider.shutdown().unwrap();
    assert_eq!(
        attribute(&keep.spans()[0], "user.email_verified"),
        Some(&Value::Bool(true))
    );
}

#[test]
fn filtered_spans_are_counted_as_filtered_not_as_lost() {
    let keep = Keep::default();
    let counters = SpanCounters::default();
    let filter = Filter::new(
        |span: &SpanData| span.name == "GET /health",
        Tee::new(
            CountEnded(counters.clone()),
            SimpleSpanProcessor::new(CountingExporter::new(
                keep.clone(),
                counters.clone(),
            )),
        ),
    );
    let filtered = filter.filtered_counter();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(filter)
        .build();
    let tracer = provider.tracer("t");
    for name in ["GET /health", "GET /orders", "GET /health", "POST /orders"] {
        drop(tracer.start(name));
    }
    provider.shutdown().unwrap();

    let names: Vec<String> =
        keep.spans().iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["GET /orders", "POST /orders"]);
    assert_eq!(filtered.get(), 2);
    let stats = counters.snapshot();
    assert_eq!((stats.ended, stats.exported, stats.dropped), (2, 2, 0));
}

/// Registered after the processor under test: notes, at span start, whether
/// the span already carries `tenant.id`.
#[derive(Clone, Debug, Default)]
struct SeenAtStart(Arc<Mutex<Vec<bool>>>);

impl SpanProcessor for SeenAtStart {
    fn on_start(&self, span: &mut SdkSpan, _cx: &Context) {
        let seen = span
            .exported_data()
            .is_some_and(|data| attribute(&data, "tenant.id").is_some());
        self.0.lock().unwrap().push(seen);
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Registers `first`, then [`SeenAtStart`], then an exporting processor,
/// side by side (no wrapping), and starts one span in a Context whose
/// baggage holds `tenant.id`. Returns what `SeenAtStart` saw and what was
/// exported.
fn side_by_side(first: impl SpanProcessor + 'static) -> (Vec<bool>, Vec<SpanData>) {
    let (seen, keep) = (SeenAtStart::default(), Keep::default());
    let provider = SdkTracerProvider::builder()
        .with_span_processor(first)
        .with_span_processor(seen.clone())
        .with_simple_exporter(keep.clone())
        .build();
    drop(provider.tracer("t").start_with_context("op", &baggage_cx()));
    provider.shutdown().unwrap();
    let seen = seen.0.lock().unwrap().clone();
    (seen, keep.spans())
}

/// The check of chapter 12's claim: an attribute the first processor sets in
/// `on_start` is seen by the `on_start` of a processor registered after it,
/// and the exported span carries it.
fn set_at_start_reaches_the_others(
    seen: &[bool],
    exported: &[SpanData],
) -> Result<(), String> {
    if seen != [true] {
        return Err(format!(
            "the later processor saw tenant.id at start: {seen:?}"
        ));
    }
    match exported {
        [span] if attribute(span, "tenant.id") == Some(&Value::from("acme")) => {
            Ok(())
        }
        [span] => Err(format!("exported without tenant.id: {:?}", span.attributes)),
        _ => Err(format!("{} spans exported, not 1", exported.len())),
    }
}

#[test]
fn an_attribute_set_in_on_start_reaches_later_processors() {
    let (seen, exported) = side_by_side(BaggageToAttributes::all());
    assert_eq!(set_at_start_reaches_the_others(&seen, &exported), Ok(()));
}

/// A planted bug: the processor under test sets nothing at start.
#[derive(Debug)]
struct SetsNothing;

impl SpanProcessor for SetsNothing {
    fn on_start(&self, _span: &mut SdkSpan, _cx: &Context) {}

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[test]
fn the_on_start_check_rejects_a_processor_that_sets_nothing() {
    let (seen, exported) = side_by_side(SetsNothing);
    assert!(set_at_start_reaches_the_others(&seen, &exported).is_err());
}

/// Sets `tenant.id` too late: on its own copy of the finished span.
#[derive(Debug)]
struct SetsItsCopyAtEnd;

impl SpanProcessor for SetsItsCopyAtEnd {
    fn on_start(&self, _span: &mut SdkSpan, _cx: &Context) {}

    fn on_end(&self, mut span: SpanData) {
        span.attributes.push(KeyValue::new("tenant.id", "acme"));
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[test]
fn a_change_to_the_finished_copy_does_not_reach_a_processor_beside() {
    let (seen, exported) = side_by_side(SetsItsCopyAtEnd);
    assert_eq!(seen, [false]);
    assert_eq!(attribute(&exported[0], "tenant.id"), None);
    assert!(set_at_start_reaches_the_others(&seen, &exported).is_err());
}
