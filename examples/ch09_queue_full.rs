//! Chapter 9: what the batch processor does when its queue is full. A slow
//! exporter (each batch takes 20 ms, like a distant collector) meets a burst
//! of 200 spans, once with a queue of 8 and once with a queue of 256. The
//! telemetry crate's counters say where every span went.
//!
//! Run it with `cargo run --example ch09_queue_full`.

use std::time::Duration;

// ANCHOR: main
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData,
    SpanExporter,
};
use otlp_csp::telemetry::{CountEnded, CountingExporter, SpanCounters, SpanStats};

// ANCHOR: slow
/// Takes 20 ms per batch, whatever its size.
#[derive(Debug)]
struct Slow;

impl SpanExporter for Slow {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::thread::sleep(Duration::from_millis(20));
        drop(batch);
        Ok(())
    }
}

const BURST: u64 = 200;
const BATCH: usize = 4;
// ANCHOR_END: slow

// ANCHOR: burst
fn burst(queue: usize) -> Result<SpanStats, Box<dyn std::error::Error>> {
    let counters = SpanCounters::default();
    let processor =
        BatchSpanProcessor::builder(CountingExporter::new(Slow, counters.clone()))
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(queue)
                    .with_max_export_batch_size(BATCH)
                    .build(),
            )
            .build();
    let provider = SdkTracerProvider::builder()
        // Counts every span that ends.
        .with_span_processor(CountEnded(counters.clone()))
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("ch09");
    for _ in 0..BURST {
        drop(tracer.start("burst"));
    }
    provider.shutdown()?; // exports what is still queued (50 batches take 1 s)
    Ok(counters.snapshot())
}
// ANCHOR_END: burst

// ANCHOR: check
fn main() -> Result<(), Box<dyn std::error::Error>> {
    for queue in [8, 256] {
        let stats = burst(queue)?;
        assert_eq!(stats.ended, BURST);
        assert_eq!(stats.exported + stats.failed + stats.dropped, stats.ended);
        println!("queue of {queue}: {} spans ended", stats.ended);
        println!("  exported + failed + dropped = {}", stats.ended);
        if queue as u64 >= BURST {
            assert_eq!(stats.dropped, 0);
            println!("  nothing dropped: the whole burst fits in the queue");
        } else {
            // At 20 ms a batch, the exporter takes a few batches while the
            // burst lasts; all the rest must fit in the queue or be dropped.
            assert!(stats.dropped >= BURST / 2, "{stats:?}");
            println!("  more than half dropped, and counted");
        }
    }
    Ok(())
}
// ANCHOR_END: check
// ANCHOR_END: main
