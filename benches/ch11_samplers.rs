//! Chapter 11: what one sampling decision costs, for each sampler.
//! Run with `cargo xtask bench` (or `cargo bench --bench ch11_samplers`).
//!
//! Each benchmark calls `should_sample` directly for a root span (no parent)
//! with a fresh trace id from a counter, so it measures the decision alone,
//! not the span around it.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingResult, ShouldSample};
use otlp_csp::telemetry::sampling::{Adaptive, Match, RateLimited, RuleBased};

// ANCHOR: bench
// ANCHOR: decide
/// One root-span decision with trace id `n` (mixed so its low bits vary).
fn decide(
    sampler: &dyn ShouldSample,
    n: u64,
    attributes: &[KeyValue],
) -> SamplingResult {
    let id =
        TraceId::from(u128::from(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1 << 64);
    sampler.should_sample(
        None,
        id,
        "GET /orders",
        &SpanKind::Server,
        attributes,
        &[],
    )
}
// ANCHOR_END: decide

// ANCHOR: builtin
fn samplers(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch11_samplers");
    let attributes = [KeyValue::new("http.route", "/orders")];
    let mut bench = |label: &str, sampler: &dyn ShouldSample| {
        let mut n = 0u64;
        group.bench_function(label, |b| {
            b.iter(|| {
                n += 1;
                decide(sampler, black_box(n), black_box(&attributes))
            })
        });
    };
    bench("always_on", &Sampler::AlwaysOn);
    bench("always_off", &Sampler::AlwaysOff);
    bench("traceidratio", &Sampler::TraceIdRatioBased(0.1));
    bench(
        "parentbased_traceidratio",
        &Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1))),
    );
    // ANCHOR_END: builtin
    // ANCHOR: book_samplers
    // Over its limit almost at once, so this is mostly the "no token" path.
    bench("rate_limited", &RateLimited::per_second(100).unwrap());
    bench("adaptive", &Adaptive::new(100.0).unwrap());
    // Four rules, none of which matches: the most work a rule list does.
    let rules = RuleBased::new(Sampler::ParentBased(Box::new(
        Sampler::TraceIdRatioBased(0.1),
    )))
    .rule(Match::name("GET /health"), Sampler::AlwaysOff)
    .rule(Match::name("GET /ready"), Sampler::AlwaysOff)
    .rule(Match::name_prefix("internal."), Sampler::AlwaysOff)
    .rule(Match::attribute("http.route", "/debug"), Sampler::AlwaysOff);
    bench("rule_based_4_rules", &rules);
    // ANCHOR_END: book_samplers

    // ANCHOR: child
    // A child of a sampled remote parent: what every non-root span pays.
    let parent = Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(7u128 << 64),
        SpanId::from(9u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ));
    let child = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1)));
    group.bench_function("parentbased_child", |b| {
        b.iter(|| {
            child.should_sample(
                Some(black_box(&parent)),
                TraceId::from(7u128 << 64),
                "db.query",
                &SpanKind::Client,
                &[],
                &[],
            )
        })
    });
    group.finish();
}
// ANCHOR_END: child
// ANCHOR_END: bench

criterion_group! {
    name = benches;
    // Set here, not on the group, so the command line can override it.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = samplers
}
criterion_main!(benches);
