//! Chapter 16: a choice leaves no span for the branch not taken.

use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otlp_csp::models::csp::{Definitions, Process, prefix, show, stop};
use otlp_csp::models::lts::Lts;
use otlp_csp::models::spans::SpanTree;
use tokio::sync::mpsc;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("ch16");
    // ANCHOR: select
    let mut trees = Vec::new();
    for offers_b in [true, false] {
        let (a_tx, mut a_rx) = mpsc::channel::<()>(1);
        let (_b_tx, mut b_rx) = mpsc::channel::<()>(1);
        a_tx.send(()).await.unwrap(); // the environment offers a
        let root = Context::current_with_span(tracer.start("serve"));
        let serve = async {
            if offers_b {
                // P = a → STOP □ b → STOP
                tokio::select! {
                    _ = a_rx.recv() => drop(tracer.start("handle a")),
                    _ = b_rx.recv() => drop(tracer.start("handle b")),
                }
            } else {
                // Q = a → STOP
                a_rx.recv().await;
                drop(tracer.start("handle a"));
            }
        };
        serve.with_context(root.clone()).await;
        root.span().end();
        trees.push(SpanTree::new(&exporter.get_finished_spans().unwrap()).render());
        exporter.reset();
    }
    print!("P's tree:\n{}Q's tree:\n{}", trees[0], trees[1]);
    println!("same tree: {}", trees[0] == trees[1]);
    // ANCHOR_END: select
    // ANCHOR: traces
    let p = prefix("a", stop()).ext(prefix("b", stop()));
    let q = prefix("a", stop());
    let traces = |x: &Process| {
        let set = Lts::explore(x, &Definitions::new()).unwrap().traces(2);
        set.iter().map(|t| show(t)).collect::<Vec<_>>().join(" ")
    };
    println!("traces(P) = {}", traces(&p));
    println!("traces(Q) = {}", traces(&q));
    // ANCHOR_END: traces
    provider.shutdown().unwrap();
}
