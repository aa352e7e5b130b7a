//! Chapter 13.1: an OpenTelemetry `Context` attached with a guard that is
//! held across `.await`. Two futures share one task (`tokio::join!`); while
//! the first is suspended, its context is still the thread's current one,
//! so the second future's span gets the wrong parent. Attaching the context
//! to the future instead (`FutureExt::with_context`) makes it current only
//! while that future runs.
//!
//! Run it with `cargo run --example ch13_context_guard`.

use opentelemetry::context::FutureExt;
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry::{Context, global};

// ANCHOR: broken
async fn a_guard_across_await() {
    let tracer = global::tracer("ch13");
    let cx = Context::current_with_span(tracer.start("a"));
    let _guard = cx.attach(); // current until the end of the function...
    tokio::task::yield_now().await; // ...including while suspended here
}
// ANCHOR_END: broken

// ANCHOR: fixed
async fn a_context_on_the_future() {
    let tracer = global::tracer("ch13");
    let cx = Context::current_with_span(tracer.start("a"));
    // Current only while this future is being polled.
    async { tokio::task::yield_now().await }
        .with_context(cx)
        .await;
}
// ANCHOR_END: fixed

/// Starts `b` as a child of whatever context is current when it runs.
async fn b() {
    let tracer = global::tracer("ch13");
    let _span = tracer.start("b");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = otlp_csp::telemetry::init("ch13-context-guard")?;
    println!("guard held across .await:");
    tokio::join!(a_guard_across_await(), b());
    println!("context attached to the future:");
    tokio::join!(a_context_on_the_future(), b());
    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
