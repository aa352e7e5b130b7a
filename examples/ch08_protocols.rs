//! Chapter 8: the same trace of four spans, sent over each OTLP transport
//! and encoding, with and without gzip, to the book's in-process receiver,
//! which reports how each request arrived and how large it was.
//!
//! Run it with `cargo run --example ch08_protocols`.

use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{
    Compression, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_receiver::Receiver;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ANCHOR: exporters
// ANCHOR: exporter_grpc
/// An OTLP span exporter for one transport and encoding.
fn exporter(
    receiver: &Receiver,
    protocol: Protocol,
    gzip: bool,
) -> Result<SpanExporter> {
    let exporter = match protocol {
        // gRPC: port 4317 by default; the endpoint is the server's base URL.
        Protocol::Grpc => {
            let builder = SpanExporter::builder()
                .with_tonic()
                .with_endpoint(receiver.grpc_endpoint());
            match gzip {
                true => builder.with_compression(Compression::Gzip).build()?,
                false => builder.build()?,
            }
        }
        // ANCHOR_END: exporter_grpc
        // ANCHOR: exporter_http
        // HTTP: port 4318 by default; set in code, the endpoint is the
        // full URL of the signal (`/v1/traces`).
        _ => {
            let builder = SpanExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()));
            match gzip {
                true => builder.with_compression(Compression::Gzip).build()?,
                false => builder.build()?,
            }
        }
    };
    Ok(exporter)
}
// ANCHOR_END: exporter_http
// ANCHOR_END: exporters

/// A request with a root span and three children, in one batch.
fn one_trace(provider: &SdkTracerProvider) {
    let tracer = provider.tracer("shop.cart");
    let root = tracer
        .span_builder("GET /cart")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/cart"),
        ])
        .start(&tracer);
    let cx = Context::current_with_span(root);
    for step in ["load cart", "price items", "render page"] {
        let mut span = tracer.start_with_context(step, &cx);
        span.set_attribute(KeyValue::new("cart.items", 3));
        span.end();
    }
    cx.span().end();
}

// ANCHOR: main
// ANCHOR: runs
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let receiver = Receiver::start().await?;
    let runs = [
        (Protocol::Grpc, false),
        (Protocol::HttpBinary, false),
        (Protocol::HttpJson, false),
        (Protocol::Grpc, true),
        (Protocol::HttpBinary, true),
        (Protocol::HttpJson, true),
    ];
    // ANCHOR_END: runs
    // ANCHOR: send
    let mut sent = 0;
    for (protocol, gzip) in runs {
        let provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder_empty().with_service_name("shop").build(),
            )
            .with_batch_exporter(exporter(&receiver, protocol, gzip)?)
            .build();
        one_trace(&provider);
        // Shutdown flushes the batch; it blocks, so not on a runtime thread.
        tokio::task::spawn_blocking(move || provider.shutdown()).await??;
        sent += 4;
        receiver
            .wait_for_spans(sent, Duration::from_secs(10))
            .await?;
    }
    // ANCHOR_END: send
    // ANCHOR: report
    for received in receiver.traces() {
        let spans = otlp_receiver::span_count(&received.request);
        let body = match received.compression {
            // An uncompressed body's size depends only on the data, so it is
            // the same on every run.
            otlp_receiver::Compression::None => {
                format!("{} bytes", received.body_bytes)
            }
            // A compressed one depends on the random ids: see the benchmark.
            otlp_receiver::Compression::Gzip => "gzip".to_string(),
        };
        println!(
            "{:<13} {spans} spans in one request, {body}",
            received.protocol.to_string()
        );
    }
    let stats = receiver.stats();
    println!(
        "{} requests, {} spans, {} rejected",
        stats.accepted_requests, stats.spans, stats.rejected_requests
    );
    Ok(())
}
// ANCHOR_END: report
// ANCHOR_END: main
