//! Chapter 6, "Tracing across processes": one batch of 200 items against the
//! SDK's limit on links per span. A batch span given every link keeps the
//! first 128 and drops the rest; the batcher puts the links past the limit on
//! `batch.links` child spans, and drops none.
//!
//! Run it with `cargo run --example ch06_batch_links`.

use std::collections::HashSet;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::trace::{TraceContextExt, TracerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otlp_csp::patterns::messaging::Destination;
use otlp_csp::patterns::threads::Batcher;
use otlp_csp::patterns::{BATCH_LINKS, Traced, Tracing};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

// ANCHOR: main
const ITEMS: usize = 200;

fn main() -> Res {
    // Default span limits: 128 links, or OTEL_SPAN_LINK_COUNT_LIMIT if set.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("ch06");
    let batcher = Batcher::new(ITEMS, Duration::from_secs(1))?
        .tracing(Tracing::with_tracer(provider.tracer("ch06-patterns")));
    // Told that spans have no limit, it gives the batch span every link.
    let unsplit = batcher.clone().links_per_span(usize::MAX)?;
    let runs = [("one span, every link", unsplit), ("default", batcher)];
    let to_batcher = Destination::threads("batch"); // the batcher's default name
    for (title, batcher) in runs {
        println!("== {title}");
        let (tx, rx) = crossbeam_channel::bounded(ITEMS);
        for item in 0..ITEMS {
            let cx = Context::current_with_span(to_batcher.send().start(&tracer));
            cx.span().end();
            tx.send(Traced::new(cx, item))?;
        }
        drop(tx);
        batcher.run(&rx, |items| assert_eq!(items.len(), ITEMS));
        show(&exporter.get_finished_spans()?);
        exporter.reset();
    }
    Ok(())
}
// ANCHOR_END: main

/// Prints each span of the batch: its links, and how many the SDK dropped
/// (OTLP's `dropped_links_count`); then how many items are linked.
fn show(spans: &[SpanData]) {
    let batch = spans.iter().filter(|s| s.name == "process batch");
    let carriers = spans.iter().filter(|s| s.name == BATCH_LINKS);
    let mut linked = HashSet::new();
    for s in batch.chain(carriers) {
        let indent = if s.name == BATCH_LINKS { "  " } else { "" };
        println!(
            "{indent}{} links={} dropped_links_count={}",
            s.name,
            s.links.len(),
            s.links.dropped_count
        );
        linked.extend(s.links.iter().map(|l| l.span_context.span_id()));
    }
    println!("items linked: {} of {ITEMS}", linked.len());
}
