//! Chapter 6: what tracing costs a pipeline, untraced and at two sampling rates.
//! Run with `cargo xtask bench` (or `cargo bench --bench ch06_tracing_cost`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use opentelemetry::trace::TracerProvider;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use otlp_csp::patterns::Tracing;
use otlp_csp::patterns::threads::Pipeline;

/// Accepts every batch and throws it away: the cost measured is the SDK's,
/// not a network's.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

// ANCHOR: bench
// ANCHOR: workload
/// Items per iteration; every function pushes the same items through.
const ITEMS: u64 = 1_000;

/// The work of one stage on one item: hashing a 1 KiB record (FNV-1a).
fn work(seed: u64) -> u64 {
    let record = [seed as u8; 1024];
    record.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A three-stage pipeline over `ITEMS` items, its spans going to `tracing`.
fn run(tracing: Tracing) -> Vec<u64> {
    Pipeline::new(64)
        .expect("capacity is not zero")
        .tracing(tracing)
        .stage("parse", work)
        .stage("enrich", work)
        .stage("store", work)
        .run(0..ITEMS)
        .expect("no stage panics")
}
// ANCHOR_END: workload

// ANCHOR: setups
/// A provider that samples a `ratio` of new traces (children follow their
/// parent) and hands recorded spans to a batch processor.
fn provider(ratio: f64) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            ratio,
        ))))
        .with_span_processor(BatchSpanProcessor::builder(Discard).build())
        .build()
}

fn tracing_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch06_tracing_cost");
    group.bench_function("untraced", |b| b.iter(|| run(Tracing::off())));

    let one_pct = provider(0.01);
    let tracing = Tracing::with_tracer(one_pct.tracer("bench"));
    group.bench_function("sampled_1pct", |b| b.iter(|| run(tracing.clone())));

    let all = provider(1.0);
    let tracing = Tracing::with_tracer(all.tracer("bench"));
    group.bench_function("sampled_100pct", |b| b.iter(|| run(tracing.clone())));

    group.finish();
    for p in [one_pct, all] {
        p.shutdown().expect("flush the batch processor");
    }
}
// ANCHOR_END: setups
// ANCHOR_END: bench

/// Untraced, 1 % and 100 %, timed in turn (`benches/paired`): the ratios
/// `cargo xtask bench` judges. Each traced arm flushes its batch processor
/// after its chunk, so that its export work is not charged to the next arm.
fn interleaved() {
    let Some(mut paired) = paired::Paired::from_args("ch06_tracing_cost", BUDGET)
    else {
        return;
    };
    let (one_pct, all) = (provider(0.01), provider(1.0));
    let (sampled, every) = (one_pct.tracer("bench"), all.tracer("bench"));
    let flush = |p: &SdkTracerProvider| p.force_flush().expect("flush the batch");
    paired.compare(
        vec![
            paired::Arm::new("untraced", || run(Tracing::off())),
            paired::Arm::new("sampled_1pct", || {
                run(Tracing::with_tracer(sampled.clone()))
            })
            .settle(|| flush(&one_pct)),
            paired::Arm::new("sampled_100pct", || {
                run(Tracing::with_tracer(every.clone()))
            })
            .settle(|| flush(&all)),
        ],
        None,
    );
    paired.record();
    for p in [one_pct, all] {
        p.shutdown().expect("flush the batch processor");
    }
}

/// Criterion's measurement time, and the comparison's.
const BUDGET: Duration = Duration::from_secs(6);

mod paired;
mod profile;

criterion_group! {
    name = benches;
    // `-- --profile-time 5` samples each benchmark and records its stacks.
    config = Criterion::default()
        .with_profiler(profile::Folded::default())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(BUDGET)
        .sample_size(20)
        // Twenty samples need far fewer than the default 100,000 bootstrap
        // resamples. With the default, the analysis of one function left the
        // process so that the next function measured slower than when run
        // alone (`--bench sampled_1pct`); with 10,000 it measures the same.
        .nresamples(10_000)
        .without_plots();
    targets = tracing_cost
}
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    interleaved();
}
