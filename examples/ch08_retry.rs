//! Chapter 8: the OTLP exporter retries a receiver that answers "503
//! Service Unavailable" (gRPC `UNAVAILABLE`), with exponential backoff, and
//! gives up after its last retry; the book's counters show what was lost.
//!
//! Run it with `cargo run --example ch08_retry`.

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{
    Protocol, RetryPolicy, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp::telemetry::{CountEnded, CountingExporter, SpanCounters};
use otlp_receiver::{Config, Receiver};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ANCHOR: run
// ANCHOR: run_exporter
/// Sends two spans in one batch to a receiver that fails the first
/// `failures` requests, and reports what each side saw.
async fn run(protocol: Protocol, failures: u64, policy: RetryPolicy) -> Result<()> {
    let receiver =
        Receiver::start_with(Config::default().fail_first(failures)).await?;
    let exporter = match protocol {
        Protocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .with_retry_policy(policy)
            .build()?,
        _ => SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
            .with_retry_policy(policy)
            .build()?,
    };
    // ANCHOR_END: run_exporter
    // ANCHOR: run_count
    let counters = SpanCounters::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(CountEnded(counters.clone()))
        .with_batch_exporter(CountingExporter::new(exporter, counters.clone()))
        .build();
    let tracer = provider.tracer("ch08");
    tracer.in_span("order", |_| tracer.in_span("charge", |_| {}));
    tokio::task::spawn_blocking(move || provider.shutdown()).await??;

    let sent = counters.snapshot();
    let seen = receiver.stats();
    let attempts = seen.injected_failures + seen.accepted_requests;
    print!(
        "{:<10} receiver fails {failures}: ",
        format!("{protocol:?}")
    );
    println!(
        "attempts {attempts}, spans exported {}, failed {}",
        sent.exported, sent.failed,
    );
    Ok(())
}
// ANCHOR_END: run_count
// ANCHOR_END: run

// ANCHOR: main
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    // The default: 3 retries, waiting 100, 200 and 400 ms, plus jitter.
    let recommended = RetryPolicy::default();
    run(Protocol::HttpBinary, 2, recommended.clone()).await?;
    run(Protocol::Grpc, 2, recommended.clone()).await?;
    // One failure more than the retries: the batch is lost, and counted.
    run(Protocol::HttpBinary, 4, recommended).await?;
    // Without retries, the first failure loses the batch.
    run(Protocol::HttpJson, 1, RetryPolicy::disabled()).await?;
    Ok(())
}
// ANCHOR_END: main
