//! Chapter 12: dropping health-check spans before export, counted as
//! filtered so that the book's loss counters stay at zero.
//!
//! Run it with `cargo run --example ch12_filter`.

// ANCHOR: main
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor, SpanData,
};
use otlp_csp::telemetry::{CountEnded, CountingExporter, Filter, SpanCounters, Tee};

// ANCHOR: setup
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exporter = InMemorySpanExporter::default();
    let counters = SpanCounters::default();
    // The filter sits in front of both the counting and the exporting
    // processor: a filtered span is neither "ended" nor lost.
    let filter = Filter::new(
        |span: &SpanData| span.name == "GET /health",
        Tee::new(
            CountEnded(counters.clone()),
            SimpleSpanProcessor::new(CountingExporter::new(
                exporter.clone(),
                counters.clone(),
            )),
        ),
    );
    let filtered = filter.filtered_counter();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(filter)
        .build();
    // ANCHOR_END: setup

    // ANCHOR: spans
    let tracer = provider.tracer("ch12");
    for route in ["GET /health", "GET /orders", "GET /health", "POST /orders"] {
        drop(tracer.start(route));
    }
    // The in-memory exporter forgets its spans at shutdown: read them first.
    let spans = exporter.get_finished_spans()?;
    provider.shutdown()?;

    for span in spans {
        println!("exported {}", span.name);
    }
    let stats = counters.snapshot();
    println!("filtered {}", filtered.get());
    println!(
        "ended {}, exported {}, failed {}, dropped {}",
        stats.ended, stats.exported, stats.failed, stats.dropped
    );
    Ok(())
}
// ANCHOR_END: spans
// ANCHOR_END: main
