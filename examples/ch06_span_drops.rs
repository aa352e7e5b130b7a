//! Chapter 6: the batch span processor drops spans when its queue is full,
//! and the book's telemetry counters make the loss visible.
//!
//! Run it with `cargo run --example ch06_span_drops`.

// ANCHOR: main
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider,
};
use otlp_csp::telemetry::{
    CountEnded, CountingExporter, GatedExporter, SpanCounters,
};

// ANCHOR: provider
const QUEUE: usize = 16;
const BATCH: usize = 8;
const SPANS: u64 = 1_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counters = SpanCounters::default();
    let gate = GatedExporter::default();
    let processor = BatchSpanProcessor::builder(CountingExporter::new(
        gate.clone(),
        counters.clone(),
    ))
    .with_batch_config(
        BatchConfigBuilder::default()
            .with_max_queue_size(QUEUE)
            .with_max_export_batch_size(BATCH)
            .build(),
    )
    .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(CountEnded(counters.clone()))
        .with_span_processor(processor)
        .build();
    // ANCHOR_END: provider

    // ANCHOR: burst
    // A burst of spans while the exporter is stuck: the queue fills up.
    let tracer = provider.tracer("ch06");
    for _ in 0..SPANS {
        drop(tracer.start("burst"));
    }
    gate.open();
    provider.shutdown()?;

    let stats = counters.snapshot();
    println!("{} spans ended", stats.ended);
    println!("exported + dropped = {}", stats.exported + stats.dropped);
    // Only the batch being exported and a full queue can survive the burst.
    let most = (QUEUE + BATCH) as u64;
    assert!(stats.exported <= most, "exported {}", stats.exported);
    println!(
        "exported at most {most}, so at least {} were dropped",
        SPANS - most
    );
    Ok(())
}
// ANCHOR_END: burst
// ANCHOR_END: main
