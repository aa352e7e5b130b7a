//! What tracing costs the pipeline: 100 orders (300 spans when traced)
//! through `pipeline::run`, untraced, sampled out, and fully traced.

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::global;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use shop::pipeline::{self, Order};

/// An exporter that throws spans away: we measure tracing, not a network.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

fn orders() -> Vec<Order> {
    (1..=100).map(|id| Order { id, cents: 1200 }).collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");

    // No provider installed: the API's no-op tracer, what a library costs
    // when the application has not set OpenTelemetry up.
    group.bench_function("untraced", |b| b.iter(|| pipeline::run(orders())));

    // The sampler says no to every trace: spans are made, then not recorded.
    let off = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOff)
        .build();
    global::set_tracer_provider(off.clone());
    group.bench_function("sampled_out", |b| b.iter(|| pipeline::run(orders())));

    // Every span recorded and handed to the batch processor, as in production.
    let on = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    global::set_tracer_provider(on.clone());
    group.bench_function("traced", |b| b.iter(|| pipeline::run(orders())));

    group.finish();
    on.shutdown().unwrap();
    off.shutdown().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
