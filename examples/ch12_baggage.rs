//! Chapter 12: a span processor copies W3C baggage from the incoming
//! request's Context onto every span started in it, keeping only the keys
//! an allow-list accepts.
//!
//! Run it with `cargo run --example ch12_baggage`.

use std::collections::HashMap;

// ANCHOR: main
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otlp_csp::telemetry::BaggageToAttributes;

// ANCHOR: setup
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        // Runs first at span start: copies `tenant.*` entries, nothing else.
        .with_span_processor(BaggageToAttributes::matching(|key| {
            key.starts_with("tenant.")
        }))
        .with_simple_exporter(exporter.clone())
        .build();
    // ANCHOR_END: setup

    // ANCHOR: request
    // The headers of an incoming request, as another service sent them.
    let headers = HashMap::from([
        (
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        ),
        (
            "baggage".to_owned(),
            "tenant.id=acme,tenant.plan=gold,session.token=s3cr3t".to_owned(),
        ),
    ]);
    let propagator = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]);
    let cx = propagator.extract(&headers);

    let tracer = provider.tracer("ch12");
    drop(tracer.start_with_context("GET /orders", &cx));
    // The in-memory exporter forgets its spans at shutdown: read them first.
    let spans = exporter.get_finished_spans()?;
    provider.shutdown()?;
    // ANCHOR_END: request

    for span in spans {
        println!("span {} trace={}", span.name, span.span_context.trace_id());
        let mut attributes: Vec<String> = span
            .attributes
            .iter()
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect();
        attributes.sort();
        for attribute in attributes {
            println!("  {attribute}");
        }
    }
    Ok(())
}
// ANCHOR_END: main
