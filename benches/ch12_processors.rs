//! Chapter 12: the SDK's batch span processor against the book's
//! `FastBatchProcessor`, as time per span with one and two producer threads,
//! and the spans each drops (and counts) under overload.
//! Run with `cargo xtask bench` (or `cargo bench --bench ch12_processors`).

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use book_results::{Measurement, record};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData,
    SpanExporter,
};
use otlp_csp::telemetry::{
    CountEnded, CountingExporter, FastBatchProcessor, SpanCounters,
};

/// Accepts every batch and throws it away: the benchmark measures the
/// processors, not a network.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// Takes a fixed time per batch, like a collector far away.
#[derive(Debug)]
struct Slow(Duration);

impl SpanExporter for Slow {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::thread::sleep(self.0);
        black_box(batch);
        Ok(())
    }
}

fn sdk_batch<E: SpanExporter + 'static>(
    exporter: E,
    queue: usize,
    batch: usize,
) -> BatchSpanProcessor {
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(batch)
                .build(),
        )
        .build()
}

fn fast_batch<E: SpanExporter + 'static>(
    exporter: E,
    queue: usize,
    batch: usize,
) -> FastBatchProcessor {
    FastBatchProcessor::builder(exporter)
        .with_queue_size(queue)
        .with_max_batch_size(batch)
        .build()
        .expect("valid settings")
}

/// Ends `spans` spans split across `threads` threads; returns the wall time.
fn produce(tracer: &SdkTracer, threads: usize, spans: u64) -> Duration {
    if threads == 1 {
        let start = Instant::now();
        for _ in 0..spans {
            drop(tracer.start(black_box("op")));
        }
        return start.elapsed();
    }
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads as u64 {
            let share =
                spans / threads as u64 + u64::from(t < spans % threads as u64);
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for _ in 0..share {
                    drop(tracer.start(black_box("op")));
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // Leaving the scope joins every producer.
        start
    })
    .elapsed()
}

// ANCHOR: throughput
fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch12_processors");
    // Both with the SDK's defaults: a queue of 2048 spans, batches of 512.
    let (queue, batch) = (2048, 512);
    let mut drops = Vec::new();
    let mut ratios = Vec::new();
    for threads in [1usize, 2] {
        // Mean time per delivered span of each processor, for the ratio.
        let mut per_span = Vec::new();
        for name in ["sdk_batch", "fast_batch"] {
            // The wrapper counts what reached the exporter; a span dropped
            // is cheaper than one exported, so drops are recorded too.
            let counters = SpanCounters::default();
            let exporter = CountingExporter::new(Discard, counters.clone());
            let provider = if name == "sdk_batch" {
                SdkTracerProvider::builder()
                    .with_span_processor(sdk_batch(exporter, queue, batch))
            } else {
                SdkTracerProvider::builder()
                    .with_span_processor(fast_batch(exporter, queue, batch))
            }
            .build();
            let tracer = provider.tracer("bench");
            // ANCHOR: per_delivered
            let (mut offered, mut timed) = (0, Duration::ZERO);
            group.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|spans| {
                    // Time per *delivered* span: the wall time until the
                    // exporter has everything (a flush ends each sample),
                    // spread over the spans it received. A dropped span
                    // costs time and delivers nothing.
                    let before = counters.snapshot().exported;
                    let start = Instant::now();
                    produce(&tracer, threads, spans);
                    provider.force_flush().expect("flush");
                    let wall = start.elapsed();
                    let delivered = counters.snapshot().exported - before;
                    offered += spans;
                    let per_delivered =
                        wall.mul_f64(spans as f64 / delivered.max(1) as f64);
                    timed += per_delivered;
                    per_delivered
                })
            });
            // ANCHOR_END: per_delivered
            provider.shutdown().expect("shutdown");
            if offered == 0 {
                continue; // filtered out on the command line: nothing to record
            }
            per_span.push(timed.as_secs_f64() / offered as f64);
            let dropped = offered - counters.snapshot().exported;
            let id = format!("ch12_throughput_drops/{name}_{threads}");
            drops.push(Measurement::count(
                id,
                100.0 * dropped as f64 / offered.max(1) as f64,
                "%",
            ));
        }
        if let [sdk, fast] = per_span[..] {
            ratios.push(Measurement::count(
                format!("ch12_throughput_ratio/threads_{threads}"),
                sdk / fast,
                "x",
            ));
        }
    }
    group.finish();
    // Only a run of all four replaces the recorded figures.
    if drops.len() == 4 {
        record("ch12_throughput_drops", drops).expect("recording drops");
        record("ch12_throughput_ratio", ratios).expect("recording ratios");
    }
}
// ANCHOR_END: throughput

// ANCHOR: queue
/// The queues alone: one push and one pop of a small value on one thread,
/// the book's span queue against the std bounded channel the SDK's
/// processor uses.
fn queue_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("ch12_queue");
    let q = span_queue::BoundedQueue::new(2048).expect("capacity");
    group.bench_function("span_queue", |b| {
        b.iter(|| {
            let _ = q.push(black_box(7u64));
            q.pop()
        })
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(2048);
    group.bench_function("std_sync_channel", |b| {
        b.iter(|| {
            let _ = tx.try_send(black_box(7u64));
            rx.try_recv().ok()
        })
    });
    group.finish();
}
// ANCHOR_END: queue

// ANCHOR: overload
/// A tiny queue and an exporter that takes 2 ms per batch of 64: both
/// processors must drop most of 40 000 spans. Records what each offered,
/// exported and dropped, and how many drops nobody counted.
fn overload(_c: &mut Criterion) {
    const SPANS: u64 = 40_000;
    let (queue, batch, delay) = (256, 64, Duration::from_millis(2));
    let mut results = Vec::new();
    for name in ["sdk_batch", "fast_batch"] {
        let counters = SpanCounters::default();
        let exporter = CountingExporter::new(Slow(delay), counters.clone());
        let builder = SdkTracerProvider::builder()
            .with_span_processor(CountEnded(counters.clone()));
        let (provider, fast) = if name == "sdk_batch" {
            let p = builder.with_span_processor(sdk_batch(exporter, queue, batch));
            (p.build(), None)
        } else {
            let processor = fast_batch(exporter, queue, batch);
            let fast = processor.counters();
            (builder.with_span_processor(processor).build(), Some(fast))
        };
        produce(&provider.tracer("overload"), 2, SPANS);
        provider.shutdown().expect("shutdown");
        let stats = counters.snapshot();
        // The SDK counts its drops but only logs them, so for it the drops
        // are what the counting wrapper could not account for. The fast
        // processor counts its own, which must close the books exactly.
        let counted = fast.map_or(stats.dropped, |f| f.snapshot().dropped());
        let uncounted =
            stats.ended as i64 - (stats.exported + stats.failed + counted) as i64;
        let id = |what: &str| format!("ch12_overload/{name}_{what}");
        results.extend([
            Measurement::count(id("offered"), stats.ended as f64, "spans"),
            Measurement::count(id("exported"), stats.exported as f64, "spans"),
            Measurement::count(id("dropped_counted"), counted as f64, "spans"),
            Measurement::count(id("uncounted"), uncounted as f64, "spans"),
        ]);
    }
    record("ch12_overload", results).expect("recording the overload results");
}
// ANCHOR_END: overload

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = throughput, queue_only, overload
}
criterion_main!(benches);
