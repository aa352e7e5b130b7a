//! Chapter 11: what a collector receives when two services sample on their
//! own. Eight requests go from A to B twice: once with both services
//! parent-based at 0.5, once with A at `traceidratio` 0.25 and B at 0.5.
//! Each service exports over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set,
//! so the book draws what arrived.
//!
//! Run it with `cargo run --example ch11_fragments`. Trace ids come from a
//! seeded generator, so every run keeps the same spans.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use otlp_csp::telemetry::sampling::SeededIdGenerator;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

// ANCHOR: provider
/// One service's provider: its sampler, and OTLP export when asked for.
fn service(name: &str, sampler: Sampler, seed: u64) -> Res<SdkTracerProvider> {
    let builder = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_id_generator(SeededIdGenerator::new(seed));
    let (builder, _) = otlp_csp::telemetry::with_otlp_from_env(builder, name)?;
    Ok(builder.build())
}
// ANCHOR_END: provider

// ANCHOR: request
/// One request from A to B, through `traceparent` headers; returns R when
/// root and child were kept, r for the root only, c for the child only, and
/// . for neither.
fn request(ta: &SdkTracer, tb: &SdkTracer, case: &'static str, n: i64) -> char {
    let propagator = TraceContextPropagator::new();
    let root = ta
        .span_builder("GET /checkout")
        .with_attributes([KeyValue::new("case", case), KeyValue::new("request", n)])
        .start(ta);
    let root = Context::current_with_span(root);
    let mut headers = HashMap::new();
    propagator.inject_context(&root, &mut headers);
    let mut child =
        tb.start_with_context("charge_card", &propagator.extract(&headers));
    let kept = (
        root.span().span_context().is_sampled(),
        child.span_context().is_sampled(),
    );
    child.end();
    root.span().end();
    match kept {
        (true, true) => 'R',
        (true, false) => 'r',
        (false, true) => 'c',
        (false, false) => '.',
    }
}
// ANCHOR_END: request

// ANCHOR: main
fn main() -> Res {
    let ratio = Sampler::TraceIdRatioBased;
    let parent_based = |s| Sampler::ParentBased(Box::new(s));
    let cases = [
        (
            "parent-based 0.5 in both",
            parent_based(ratio(0.5)),
            parent_based(ratio(0.5)),
        ),
        (
            "A traceidratio 0.25, B traceidratio 0.5",
            ratio(0.25),
            ratio(0.5),
        ),
    ];
    // A seed per case, so that no trace id or span id is used twice.
    for ((case, a, b), seed) in cases.into_iter().zip([1, 6]) {
        let (a, b) = (service("A", a, seed)?, service("B", b, seed + 100)?);
        let (ta, tb) = (a.tracer("a"), b.tracer("b"));
        let line: String = (0..8).map(|n| request(&ta, &tb, case, n)).collect();
        println!("{case}: {line}");
        a.shutdown()?;
        b.shutdown()?;
    }
    Ok(())
}
// ANCHOR_END: main
