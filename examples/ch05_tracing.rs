//! Chapter 5, "Patterns": the spans the patterns make. A pipeline's stage
//! spans form a chain under the producer's span, a pool's job span is a child
//! of the submitter's span (marked as an error when the job panics), and a
//! batch is a new trace linked to every item in it.
//!
//! Run it with `cargo run --example ch05_tracing`. Each step below waits for
//! the previous one, so the spans end, and print, in the same order every run.

use std::time::Duration;

// ANCHOR: imports
use opentelemetry::trace::{Span, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use otlp_csp::patterns::{Traced, threads};
// ANCHOR_END: imports

// ANCHOR: pipeline
fn pipeline() -> Result<(), Box<dyn std::error::Error>> {
    let tracer = global::tracer("ch05");
    let (input, output) = threads::Pipeline::new(2)?
        .stage("parse", |s: &str| s.len())
        .stage("double", |n| n * 2)
        .start()?;
    let cx = Context::current_with_span(tracer.start("request"));
    input.send_traced(Traced::new(cx.clone(), "hello"))?;
    // The output carries the last stage's context, to continue the trace.
    let out = output.recv_traced().ok_or("no output")?;
    let mut reply = tracer.start_with_context("reply", &out.cx);
    reply.set_attribute(KeyValue::new("value", out.value as i64));
    reply.end();
    cx.span().end();
    Ok(())
}
// ANCHOR_END: pipeline

// ANCHOR: pool
fn pool() -> Result<(), Box<dyn std::error::Error>> {
    let tracer = global::tracer("ch05");
    // One worker, so the two jobs run, and end, in order.
    let pool = threads::WorkerPool::new(1, 4)?;
    let cx = Context::current_with_span(tracer.start("submit"));
    let _in_submit = cx.clone().attach(); // `submit` takes the current context
    pool.submit(|| {
        // Inside a job, the current span is the job's.
        Context::current()
            .span()
            .set_attribute(KeyValue::new("job", "ok"));
    })?
    .join()?;
    let failed = pool.submit(|| panic!("bad input"))?.join();
    println!("second job: {failed:?}");
    pool.shutdown();
    cx.span().end();
    Ok(())
}
// ANCHOR_END: pool

// ANCHOR: batch
fn batch() -> Result<(), Box<dyn std::error::Error>> {
    let tracer = global::tracer("ch05");
    let (tx, rx) = crossbeam_channel::bounded(8);
    for item in 0..5 {
        // Each item comes from a request of its own.
        let cx = Context::current_with_span(tracer.start("produce"));
        cx.span().set_attribute(KeyValue::new("item", item));
        tx.send(Traced::new(cx.clone(), item))?;
        cx.span().end();
    }
    drop(tx);
    // Batches of at most 3: one span each, linked to its items' spans.
    let batcher = threads::Batcher::new(3, Duration::from_millis(50))?;
    batcher.run(&rx, |items| println!("batch of {items:?}"));
    Ok(())
}
// ANCHOR_END: batch

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The patterns capture the global tracer when they are built: set it up first.
    let telemetry = otlp_csp::telemetry::init("ch05-patterns")?;
    std::panic::set_hook(Box::new(|_| {})); // the pool reports the panic
    pipeline()?;
    pool()?;
    batch()?;
    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
