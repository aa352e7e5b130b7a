//! Chapter 8: a receiver that accepts a request but reports that it
//! rejected part of it. The exporter counts the export as a success.
//!
//! Run it with `cargo run --example ch08_partial_success`.

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp::telemetry::{CountEnded, CountingExporter, SpanCounters};
use otlp_receiver::{Config, Receiver};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ANCHOR: main
// ANCHOR: partial_receiver
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    for protocol in [Protocol::Grpc, Protocol::HttpBinary, Protocol::HttpJson] {
        // Every request is kept, and answered "1 span rejected".
        let config =
            Config::default().partial_success(1, "span `debug` has 300 attributes");
        let receiver = Receiver::start_with(config).await?;
        // The exporter and the counters, built as in `ch08_retry`:
        // ANCHOR_END: partial_receiver
        let exporter = match protocol {
            Protocol::Grpc => SpanExporter::builder()
                .with_tonic()
                .with_endpoint(receiver.grpc_endpoint())
                .build()?,
            _ => SpanExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
                .build()?,
        };
        let counters = SpanCounters::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(CountEnded(counters.clone()))
            .with_batch_exporter(CountingExporter::new(exporter, counters.clone()))
            .build();
        let tracer = provider.tracer("ch08");
        tracer.in_span("checkout", |_| tracer.in_span("debug", |_| {}));
        tokio::task::spawn_blocking(move || provider.shutdown()).await??;

        // ANCHOR: partial_report
        let sent = counters.snapshot();
        let seen = receiver.stats();
        print!("{:<10} exporter: ", format!("{protocol:?}"));
        println!(
            "exported {}, failed {}; receiver: partial successes {}",
            sent.exported, sent.failed, seen.partial_successes
        );
    }
    Ok(())
}
// ANCHOR_END: partial_report
// ANCHOR_END: main
