//! Chapter 11: the SDK's built-in samplers on traces that cross two
//! services. Service A starts a root span and sends its context in a
//! `traceparent` header; service B starts a child from the header. Each
//! service has its own provider and its own sampler, as two processes would.
//!
//! Run it with `cargo run --example ch11_builtin`. Trace ids come from a
//! seeded generator, so every run makes the same decisions.

// ANCHOR: main
use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span, TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use otlp_csp::telemetry::sampling::SeededIdGenerator;

// ANCHOR: provider
const TRACES: u32 = 10_000;

fn provider(sampler: Sampler, seed: u64) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_id_generator(SeededIdGenerator::new(seed))
        .build()
}
// ANCHOR_END: provider

// ANCHOR: run
/// Runs `TRACES` requests through A and B; returns (roots kept by A,
/// children kept by B, children kept whose root was dropped).
fn run(a: Sampler, b: Sampler) -> (u32, u32, u32) {
    let (a, b) = (provider(a, 4), provider(b, 5));
    let (ta, tb) = (a.tracer("service-a"), b.tracer("service-b"));
    let propagator = TraceContextPropagator::new();
    let (mut roots, mut children, mut orphans) = (0, 0, 0);
    for _ in 0..TRACES {
        let root = Context::current_with_span(ta.start("GET /checkout"));
        let mut headers = HashMap::new();
        propagator.inject_context(&root, &mut headers);

        let mut child =
            tb.start_with_context("charge_card", &propagator.extract(&headers));
        let (root_kept, child_kept) = (
            root.span().span_context().is_sampled(),
            child.span_context().is_sampled(),
        );
        roots += u32::from(root_kept);
        children += u32::from(child_kept);
        orphans += u32::from(child_kept && !root_kept);
        child.end();
    }
    (roots, children, orphans)
}
// ANCHOR_END: run

/// The pairs of samplers, A's and B's, with the label the run prints.
fn cases() -> [(&'static str, Sampler, Sampler); 7] {
    let ratio = |p| Sampler::TraceIdRatioBased(p);
    let parent_based = |s| Sampler::ParentBased(Box::new(s));
    [
        ("always_on", Sampler::AlwaysOn, Sampler::AlwaysOn),
        ("always_off", Sampler::AlwaysOff, Sampler::AlwaysOff),
        ("traceidratio 0.25 in both", ratio(0.25), ratio(0.25)),
        (
            "parentbased_traceidratio 0.25 in both",
            parent_based(ratio(0.25)),
            parent_based(ratio(0.25)),
        ),
        (
            "A traceidratio 0.25, B traceidratio 0.5",
            ratio(0.25),
            ratio(0.5),
        ),
        (
            "A traceidratio 0.5, B traceidratio 0.25",
            ratio(0.5),
            ratio(0.25),
        ),
        (
            "A traceidratio 0.25, B parentbased_traceidratio 0.5",
            ratio(0.25),
            parent_based(ratio(0.5)),
        ),
    ]
}

// ANCHOR: report
fn main() {
    println!("{TRACES} requests, A -> B");
    for (label, a, b) in cases() {
        let (roots, children, orphans) = run(a, b);
        println!("{label}:");
        print!("  A kept {roots} roots, B kept {children} children, ");
        println!("{orphans} without their root");
    }
}
// ANCHOR_END: report
// ANCHOR_END: main
