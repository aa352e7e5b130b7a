//! Chapter 1: what one span costs to start and end, in three set-ups.
//! Run with `cargo xtask bench` (or `cargo bench --bench ch01_span_cost`).

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{Tracer, TracerProvider, noop::NoopTracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use std::hint::black_box;

/// Accepts every batch and throws it away, so the benchmark measures the SDK,
/// not a network or a collector.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

// ANCHOR: bench
// ANCHOR: unrecorded
fn span_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch01_span_cost");

    // The API with no SDK installed: what a library pays when the
    // application has not configured OpenTelemetry.
    let noop = NoopTracerProvider::new().tracer("bench");
    group.bench_function("noop_tracer", |b| b.iter(|| noop.start(black_box("op"))));

    // An SDK whose sampler says no: ids are generated, nothing is recorded.
    let off = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOff)
        .build();
    let off_tracer = off.tracer("bench");
    group.bench_function("sampled_out", |b| {
        b.iter(|| off_tracer.start(black_box("op")))
    });
    // ANCHOR_END: unrecorded

    // ANCHOR: recorded
    // Sampled and recorded, handed to the batch processor's queue on end.
    let on = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOn)
        .with_span_processor(BatchSpanProcessor::builder(Discard).build())
        .build();
    let on_tracer = on.tracer("bench");
    group.bench_function("sampled_batch", |b| {
        b.iter(|| on_tracer.start(black_box("op")))
    });

    group.finish();
    on.shutdown().expect("flush the batch processor");
}
// ANCHOR_END: recorded
// ANCHOR_END: bench

criterion_group!(benches, span_cost);
criterion_main!(benches);
