//! Chapter 12: the fast batch processor under overload. The exporter is
//! stuck while two threads end 10 000 spans into a queue of 16; most are
//! dropped, and every drop is counted.
//!
//! Run it with `cargo run --example ch12_overload`.

// ANCHOR: main
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp::telemetry::{
    CountEnded, CountingExporter, FastBatchProcessor, GatedExporter, SpanCounters,
};

// ANCHOR: setup
const QUEUE: usize = 16;
const BATCH: usize = 8;
const PER_THREAD: u64 = 5_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counters = SpanCounters::default();
    let gate = GatedExporter::default();
    let processor = FastBatchProcessor::builder(CountingExporter::new(
        gate.clone(),
        counters.clone(),
    ))
    .with_queue_size(QUEUE)
    .with_max_batch_size(BATCH)
    .build()?;
    let fast = processor.counters();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(CountEnded(counters.clone()))
        .with_span_processor(processor)
        .build();
    // ANCHOR_END: setup

    // ANCHOR: burst
    // Two threads end spans while the exporter is stuck: the queue fills.
    std::thread::scope(|s| {
        for _ in 0..2 {
            let tracer = provider.tracer("ch12");
            s.spawn(move || {
                for _ in 0..PER_THREAD {
                    drop(tracer.start("burst"));
                }
            });
        }
    });
    gate.open();
    provider.shutdown()?;
    // ANCHOR_END: burst

    // ANCHOR: check
    let f = fast.snapshot();
    let book = counters.snapshot();
    println!("offered to the processor: {}", f.offered);
    println!(
        "exported + failed + dropped: {}",
        f.exported + f.failed + f.dropped()
    );
    println!(
        "the processor's drop count equals the book's: {}",
        f.dropped() == book.dropped
    );
    // Only the batch being exported and a full queue can survive the burst.
    let most = (QUEUE + BATCH) as u64;
    assert!(f.exported <= most, "exported {}", f.exported);
    println!(
        "exported at most {most}, so at least {} were dropped",
        f.offered - most
    );
    Ok(())
}
// ANCHOR_END: check
// ANCHOR_END: main
