//! Chapter 1, "Hello, trace": one trace that follows work from a request
//! handler into a tokio task and across a crossbeam channel to a consumer thread.
//!
//! Run it with `cargo run --example ch01_hello_trace`. With no `OTEL_*`
//! variables set, each finished span is printed as one line; set
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318` to send them to a collector.

// ANCHOR: imports
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{Span, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
// ANCHOR_END: imports

// ANCHOR: main
// ANCHOR: root
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One call reads the OTEL_* variables and installs the tracer provider.
    let telemetry = otlp_csp::telemetry::init("ch01-hello-trace")?;
    let tracer = global::tracer("ch01");

    // The root span, and a Context that carries it. Handing `cx` to other
    // code is what makes their spans children of this one.
    let root = tracer.start("handle_request");
    let cx = Context::current_with_span(root);
    // ANCHOR_END: root

    // ANCHOR: tokio_task
    // A tokio task does not inherit the caller's context: attach it to the future.
    let task = tokio::spawn(
        async {
            let tracer = global::tracer("ch01");
            let span = tracer.start_with_context("load_user", &Context::current());
            // ... the work itself ...
            drop(span); // ending a span is dropping it (or calling `end()`)
        }
        .with_context(cx.clone()),
    );
    task.await?;
    // ANCHOR_END: tokio_task

    // ANCHOR: channel
    // A thread at the other end of a channel sees only what is sent to it,
    // so the context travels inside each message.
    let (tx, rx) = crossbeam_channel::bounded::<(Context, u32)>(4);
    let consumer = std::thread::spawn(move || {
        let tracer = global::tracer("ch01");
        for (parent_cx, item) in rx {
            let mut span = tracer.start_with_context("consume_item", &parent_cx);
            span.set_attribute(KeyValue::new("item", i64::from(item)));
        }
    });
    for item in 0..2 {
        tx.send((cx.clone(), item))?;
    }
    drop(tx); // closing the channel ends the consumer's loop
    consumer.join().expect("consumer thread panicked");
    // ANCHOR_END: channel

    // ANCHOR: finish
    cx.span().end();

    // ANCHOR: shutdown
    // Shutting down flushes every queued span; the counts say nothing was lost.
    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
    // ANCHOR_END: shutdown
}
// ANCHOR_END: finish
// ANCHOR_END: main
