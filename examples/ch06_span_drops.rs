//! Chapter 6: the batch span processor drops spans when its queue is full,
//! and the book's telemetry counters make the loss visible.
//!
//! Run it with `cargo run --example ch06_span_drops`.

use std::sync::{Arc, Condvar, Mutex};

// ANCHOR: main
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
};
use otlp_csp::telemetry::{CountEnded, CountingExporter, SpanCounters};

const QUEUE: usize = 16;
const BATCH: usize = 8;
const SPANS: u64 = 1_000;

/// An exporter stuck behind a gate, like one waiting on a slow collector.
#[derive(Clone, Debug, Default)]
struct Gated(Arc<(Mutex<bool>, Condvar)>);

impl Gated {
    fn open(&self) {
        *self.0.0.lock().expect("gate") = true;
        self.0.1.notify_all();
    }
}

impl SpanExporter for Gated {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let open = self.0.0.lock().expect("gate");
        drop(self.0.1.wait_while(open, |open| !*open).expect("gate"));
        drop(batch);
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counters = SpanCounters::default();
    let gate = Gated::default();
    let processor =
        BatchSpanProcessor::builder(CountingExporter::new(gate.clone(), counters.clone()))
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
// ANCHOR_END: main
