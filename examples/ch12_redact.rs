//! Chapter 12: a processor that wraps the exporting one and replaces the
//! values of sensitive attributes before any exporter sees them.
//!
//! Run it with `cargo run --example ch12_redact`.

// ANCHOR: main
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor,
};
use otlp_csp::telemetry::Redact;

// ANCHOR: setup
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exporter = InMemorySpanExporter::default();
    // Redact wraps the exporting processor: it edits the finished span
    // (owned SpanData) and hands it on.
    let redact = Redact::new(
        ["user.email", "http.request.header.*"],
        SimpleSpanProcessor::new(exporter.clone()),
    );
    let redacted = redact.redacted_counter();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(redact)
        .build();
    // ANCHOR_END: setup

    // ANCHOR: span
    let tracer = provider.tracer("ch12");
    let mut span = tracer.start("POST /login");
    span.set_attribute(KeyValue::new("user.email", "ada@example.com"));
    span.set_attribute(KeyValue::new(
        "http.request.header.authorization",
        "Bearer eyJhbGciOi",
    ));
    span.set_attribute(KeyValue::new("http.response.status_code", 200));
    span.add_event(
        "login.retry",
        vec![KeyValue::new("user.email", "ada@example.com")],
    );
    span.end();
    // The in-memory exporter forgets its spans at shutdown: read them first.
    let spans = exporter.get_finished_spans()?;
    provider.shutdown()?;
    // ANCHOR_END: span

    for span in spans {
        println!("span {}", span.name);
        for kv in &span.attributes {
            println!("  {}={}", kv.key, kv.value);
        }
        for event in span.events.iter() {
            println!("  event {}", event.name);
            for kv in &event.attributes {
                println!("    {}={}", kv.key, kv.value);
            }
        }
    }
    println!("{} values redacted", redacted.get());
    Ok(())
}
// ANCHOR_END: main
