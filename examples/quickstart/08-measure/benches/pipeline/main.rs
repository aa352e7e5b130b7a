//! What tracing costs the pipeline: 100 orders (300 spans when traced)
//! through `pipeline::run`, untraced, sampled out, and fully traced.

mod setups;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::global;
use shop::pipeline::{self, Order};

fn orders() -> Vec<Order> {
    (1..=100).map(|id| Order { id, cents: 1200 }).collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");

    // No provider installed: the API's no-op tracer, what a library costs
    // when the application has not set OpenTelemetry up.
    group.bench_function("untraced", |b| b.iter(|| pipeline::run(orders())));

    let off = setups::sampled_out();
    global::set_tracer_provider(off.clone());
    group.bench_function("sampled_out", |b| b.iter(|| pipeline::run(orders())));

    let on = setups::traced();
    global::set_tracer_provider(on.clone());
    group.bench_function("traced", |b| b.iter(|| pipeline::run(orders())));

    group.finish();
    on.shutdown().unwrap();
    off.shutdown().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
