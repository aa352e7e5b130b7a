//! Chapter 13: `tracing` events become OpenTelemetry log records that carry
//! the ids of the span they were written in, so a log line leads to its trace.
//!
//! Run it with `cargo run --example ch13_logs`.

use std::time::Duration;

use opentelemetry::trace::{FutureExt, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};

// ANCHOR: handler
/// One request: a span, a log record inside it, and a latency sample. A
/// request slower than `slow` also gets a warning record: the log carries the
/// trace id that the histogram sample cannot (see "Exemplars" in the chapter).
async fn handle(order: u64, took: Duration, slow: Duration) {
    let tracer = global::tracer("ch13");
    let latency = global::meter("ch13")
        .f64_histogram("request.duration")
        .with_unit("s")
        .with_boundaries(vec![0.01, 0.1, 1.0])
        .build();
    let span = tracer.start("handle_order");
    let cx = Context::current_with_span(span);
    async {
        // An ordinary event: it becomes a log record with this span's ids.
        tracing::info!(order, "order accepted");
        latency.record(took.as_secs_f64(), &[KeyValue::new("route", "/orders")]);
        if took > slow {
            tracing::warn!(order, took_ms = took.as_millis() as u64, "slow request");
        }
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
}
// ANCHOR_END: handler

// ANCHOR: main
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `init` also installs the `tracing` subscriber that feeds the log pipeline.
    let telemetry = otlp_csp::telemetry::init("ch13-logs")?;
    let slow = Duration::from_millis(500);
    // Durations are passed in, not measured, so the run prints the same every time.
    handle(1, Duration::from_millis(40), slow).await;
    handle(2, Duration::from_millis(900), slow).await;
    // An event outside any span has no trace to point to.
    tracing::info!("done");
    telemetry.shutdown().await?;
    Ok(())
}
// ANCHOR_END: main
