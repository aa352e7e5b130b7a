//! Chapter 13.1: one span through `tracing` and `tracing-opentelemetry`
//! against one span through the OpenTelemetry API, with the same provider,
//! sampler and batch processor behind both. Run with `cargo xtask bench`
//! (or `cargo bench --bench ch13_tracing_cost`).

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use otlp_csp::telemetry::tracing_layer_for;
use std::hint::black_box;
use tracing::subscriber::with_default;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// Accepts every batch and throws it away: the SDK is measured, not a network.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn provider(sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(BatchSpanProcessor::builder(Discard).build())
        .build()
}

// ANCHOR: bench
// ANCHOR: both
fn tracing_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch13_tracing_cost");
    for (sampled, sampler) in [
        ("sampled", Sampler::AlwaysOn),
        ("sampled_out", Sampler::AlwaysOff),
    ] {
        let provider = provider(sampler);
        // The API: start a span, make it current, end it.
        let tracer = provider.tracer("bench");
        group.bench_function(format!("api_{sampled}"), |b| {
            b.iter(|| tracer.in_span(black_box("op"), |_| {}))
        });
        // `tracing`: the same, through the book's layer and the same provider.
        let subscriber = tracing_subscriber::registry()
            .with(tracing_layer_for(provider.tracer("bench")));
        with_default(subscriber, || {
            group.bench_function(format!("tracing_{sampled}"), |b| {
                b.iter(|| tracing::info_span!("op").in_scope(|| {}))
            });
        });
        provider.shutdown().expect("flush the batch processor");
    }
    // ANCHOR_END: both

    // ANCHOR: filtered
    // A level filter in front of the layer: a `debug_span!` under an INFO
    // filter is never built, and the provider is never reached.
    let provider = provider(Sampler::AlwaysOn);
    let filtered = tracing_subscriber::registry().with(
        tracing_layer_for(provider.tracer("bench")).with_filter(LevelFilter::INFO),
    );
    with_default(filtered, || {
        group.bench_function("tracing_filtered_out", |b| {
            b.iter(|| tracing::debug_span!("op").in_scope(|| {}))
        });
    });
    // `tracing` with no layer at all: the cost of the `tracing` registry alone.
    with_default(tracing_subscriber::registry(), || {
        group.bench_function("tracing_registry_only", |b| {
            b.iter(|| tracing::info_span!("op").in_scope(|| {}))
        });
    });
    group.finish();
    provider.shutdown().expect("flush the batch processor");
}
// ANCHOR_END: filtered
// ANCHOR_END: bench

mod profile;

criterion_group! {
    name = benches;
    // `-- --profile-time 5` samples each benchmark and records its stacks.
    config = Criterion::default().with_profiler(profile::Folded::default());
    targets = tracing_cost
}
criterion_main!(benches);
