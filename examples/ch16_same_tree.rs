//! Chapter 16: `a; b` and `join!(a, b)` leave the same span tree.

use std::time::SystemTime;

use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracer, SdkTracerProvider, SpanData,
};
use otlp_csp::models::spans::SpanTree;

// ANCHOR: work
/// One step of work: a span, and a pause in the middle that lets other
/// futures on the same task run.
async fn step(tracer: &SdkTracer, name: &'static str) {
    let span = tracer.start(name); // child of the current context's span
    tokio::task::yield_now().await;
    drop(span); // ends it
}
// ANCHOR_END: work

fn interval(spans: &[SpanData], name: &str) -> (SystemTime, SystemTime) {
    let s = spans.iter().find(|s| s.name == name).expect("span");
    (s.start_time, s.end_time)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // ANCHOR: capture
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("ch16");
    let mut trees = Vec::new();
    for parallel in [false, true] {
        let root = Context::current_with_span(tracer.start("request"));
        let work = async {
            if parallel {
                tokio::join!(step(&tracer, "a"), step(&tracer, "b"));
            } else {
                step(&tracer, "a").await;
                step(&tracer, "b").await;
            }
        };
        work.with_context(root.clone()).await;
        root.span().end();
        let spans = exporter.get_finished_spans().unwrap();
        exporter.reset();
        let (a, b) = (interval(&spans, "a"), interval(&spans, "b"));
        let label = if parallel { "join!(a, b)" } else { "a; b" };
        print!("{label}:\n{}", SpanTree::new(&spans).render());
        println!("  a and b overlap in time: {}", a.0 < b.1 && b.0 < a.1);
        trees.push(SpanTree::new(&spans).render());
    }
    println!("same tree: {}", trees[0] == trees[1]);
    // ANCHOR_END: capture
    provider.shutdown().unwrap();
}
