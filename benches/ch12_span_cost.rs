//! Chapter 12: what one span costs to start and end, from no SDK at all to
//! the book's own set-up, and what 4 attributes or 1 event add.
//! Run with `cargo xtask bench` (or `cargo bench --bench ch12_span_cost`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer, TracerProvider, noop::NoopTracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use otlp_csp::telemetry::{
    CountEnded, CountingExporter, FastBatchProcessor, SpanCounters,
};

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn fast(exporter: impl SpanExporter + 'static) -> FastBatchProcessor {
    FastBatchProcessor::builder(exporter)
        .build()
        .expect("default settings")
}

// ANCHOR: setups
/// The set-ups compared, each a provider with a discarding exporter.
fn setups() -> Vec<(&'static str, SdkTracerProvider)> {
    let counters = SpanCounters::default();
    vec![
        // An SDK whose sampler says no: ids are made, nothing is recorded.
        (
            "sampled_out",
            SdkTracerProvider::builder()
                .with_sampler(Sampler::AlwaysOff)
                .with_span_processor(BatchSpanProcessor::builder(Discard).build())
                .build(),
        ),
        // The bare SDK: its batch processor, nothing else.
        (
            "sdk_batch",
            SdkTracerProvider::builder()
                .with_span_processor(BatchSpanProcessor::builder(Discard).build())
                .build(),
        ),
        // Chapter 12's processor in its place.
        (
            "fast_batch",
            SdkTracerProvider::builder()
                .with_span_processor(fast(Discard))
                .build(),
        ),
        // ANCHOR: two_processors
        // The set-up `telemetry::init` had before this chapter: a counting
        // processor registered first, then the SDK's batch processor
        // around a counting exporter. Two processors, so two copies.
        (
            "two_processors",
            SdkTracerProvider::builder()
                .with_span_processor(CountEnded(counters.clone()))
                .with_span_processor(
                    BatchSpanProcessor::builder(CountingExporter::new(
                        Discard,
                        counters.clone(),
                    ))
                    .build(),
                )
                .build(),
        ),
        // ANCHOR_END: two_processors
        // ANCHOR: book_setup
        // What `telemetry::init` installs for OTLP now: the same accounting
        // with one processor. The fast processor counts what it is offered
        // and what it drops; the wrapper counts what is exported.
        (
            "book_setup",
            SdkTracerProvider::builder()
                .with_span_processor(fast(CountingExporter::new(Discard, counters)))
                .build(),
        ),
        // ANCHOR_END: book_setup
    ]
}
// ANCHOR_END: setups

fn span_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch12_span_cost");
    let noop = NoopTracerProvider::new().tracer("bench");
    group.bench_function("noop", |b| b.iter(|| noop.start(black_box("op"))));

    let setups = setups();
    for (name, provider) in &setups {
        let tracer = provider.tracer("bench");
        group.bench_function(*name, |b| b.iter(|| tracer.start(black_box("op"))));
    }

    // ANCHOR: extras
    // What a span's contents add, on the bare SDK.
    let (_, sdk) = &setups[1];
    let tracer = sdk.tracer("bench");
    group.bench_function("sdk_batch_4_attributes", |b| {
        b.iter(|| {
            let mut span = tracer.start(black_box("op"));
            span.set_attribute(KeyValue::new("http.request.method", "GET"));
            span.set_attribute(KeyValue::new("http.route", "/orders/{id}"));
            span.set_attribute(KeyValue::new("http.response.status_code", 200));
            span.set_attribute(KeyValue::new("user.id", 42));
            span
        })
    });
    group.bench_function("sdk_batch_1_event", |b| {
        b.iter(|| {
            let mut span = tracer.start(black_box("op"));
            span.add_event("cache.miss", vec![]);
            span
        })
    });
    // ANCHOR_END: extras
    group.finish();
    for (_, provider) in setups {
        provider.shutdown().expect("shutdown");
    }
}

/// The bare SDK and the book's set-up, timed in turn (`benches/paired`):
/// the ratio `cargo xtask bench` judges. Each flushes its processor after
/// its chunk, so that its export thread's work is not charged to the other.
fn interleaved() {
    let Some(mut paired) = paired::Paired::from_args("ch12_span_cost", BUDGET)
    else {
        return;
    };
    let setups = setups();
    let arm = |name: &'static str| {
        let (_, provider) = setups.iter().find(|(n, _)| *n == name).expect(name);
        let tracer = provider.tracer("bench");
        paired::Arm::new(name, move || tracer.start(black_box("op")))
            .settle(|| provider.force_flush().expect("flush"))
    };
    paired.compare(vec![arm("sdk_batch"), arm("book_setup")], None);
    paired.record();
    for (_, provider) in setups {
        provider.shutdown().expect("shutdown");
    }
}

/// Criterion's measurement time, and the comparison's.
const BUDGET: Duration = Duration::from_secs(3);

mod paired;
mod profile;

criterion_group! {
    name = benches;
    // `-- --profile-time 5` samples each benchmark and records its stacks.
    config = Criterion::default()
        .with_profiler(profile::Folded::default())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(BUDGET);
    targets = span_cost
}
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    interleaved();
}
