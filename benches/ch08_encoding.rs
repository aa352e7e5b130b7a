//! Chapter 8: what each OTLP encoding costs.
//!
//! - Bytes per span of one batch of 512 spans made by the SDK, encoded as
//!   binary protobuf and as OTLP/JSON, each with and without gzip. These are
//!   sizes, not times: they are written with `book_results::record` into the
//!   group `ch08_encoding`.
//! - Time to export that batch to the in-process receiver over gRPC,
//!   HTTP/protobuf and HTTP/JSON, each with and without gzip (criterion
//!   group `ch08_export`).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use book_results::{Measurement, record};
use criterion::{BatchSize, Criterion, criterion_group};
use opentelemetry::KeyValue;
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry_otlp::{
    Compression, Protocol, SpanExporter as OtlpExporter, WithExportConfig,
    WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use otlp_receiver::{Config, Receiver};
use prost::Message;

const BATCH: usize = 512;

/// Keeps the spans the SDK hands it, so the benchmark can replay them.
#[derive(Clone, Debug, Default)]
struct Capture(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Capture {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().expect("capture").extend(batch);
        Ok(())
    }
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name("shop")
        .with_attributes([KeyValue::new("service.version", "1.4.2")])
        .build()
}

/// 512 spans as a web service makes them: 128 requests, each a server span
/// with three children, with a few attributes each.
fn batch() -> Vec<SpanData> {
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource())
        .with_simple_exporter(capture.clone())
        .build();
    let tracer = provider.tracer("shop.cart");
    for request in 0..BATCH / 4 {
        let root = tracer
            .span_builder("GET /cart")
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("http.route", "/cart"),
                KeyValue::new("http.response.status_code", 200),
                KeyValue::new("user.id", format!("user-{request}")),
            ])
            .start(&tracer);
        let cx = opentelemetry::Context::current_with_span(root);
        for step in ["load cart", "price items", "render page"] {
            let mut span = tracer.start_with_context(step, &cx);
            span.set_attribute(KeyValue::new("cart.items", (request % 7) as i64));
            span.end();
        }
        cx.span().end();
    }
    provider.shutdown().expect("capture shutdown");
    let spans = std::mem::take(&mut *capture.0.lock().expect("capture"));
    assert_eq!(spans.len(), BATCH);
    spans
}

fn gzip(bytes: &[u8]) -> usize {
    let mut enc =
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip").len()
}

/// Sends the batch once over HTTP/protobuf and measures the request the
/// receiver decoded: the SDK's own encoding, not a hand-made message.
fn record_sizes(runtime: &tokio::runtime::Runtime, spans: &[SpanData]) {
    let receiver = runtime.block_on(Receiver::start()).expect("receiver");
    let exporter = http_exporter(&receiver, Protocol::HttpBinary, false);
    futures::executor::block_on(exporter.export(spans.to_vec())).expect("export");
    let request = runtime
        .block_on(receiver.wait_for_spans(BATCH, Duration::from_secs(30)))
        .map(|_| receiver.traces().remove(0).request)
        .expect("the batch arrives");
    let protobuf = request.encode_to_vec();
    let json = serde_json::to_vec(&request).expect("json");
    let per_span = |bytes: usize| bytes as f64 / BATCH as f64;
    let sizes = [
        ("protobuf_bytes_per_span", per_span(protobuf.len())),
        ("protobuf_gzip_bytes_per_span", per_span(gzip(&protobuf))),
        ("json_bytes_per_span", per_span(json.len())),
        ("json_gzip_bytes_per_span", per_span(gzip(&json))),
    ];
    record(
        "ch08_encoding",
        sizes
            .iter()
            .map(|(name, value)| {
                Measurement::count(format!("ch08_encoding/{name}"), *value, "bytes")
            })
            .collect(),
    )
    .expect("recording the sizes");
}

fn http_exporter(receiver: &Receiver, protocol: Protocol, gz: bool) -> OtlpExporter {
    let builder = OtlpExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()));
    match gz {
        true => builder.with_compression(Compression::Gzip).build(),
        false => builder.build(),
    }
    .expect("http exporter")
}

fn grpc_exporter(receiver: &Receiver, gz: bool) -> OtlpExporter {
    let builder = OtlpExporter::builder()
        .with_tonic()
        .with_endpoint(receiver.grpc_endpoint());
    match gz {
        true => builder.with_compression(Compression::Gzip).build(),
        false => builder.build(),
    }
    .expect("grpc exporter")
}

fn export(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let spans = batch();
    record_sizes(&runtime, &spans);

    // The receiver counts but keeps nothing, so memory stays flat.
    let receiver = runtime
        .block_on(Receiver::start_with(Config::default().discard_requests()))
        .expect("receiver");
    // The tonic channel must be created inside the runtime.
    let exporters = {
        let _guard = runtime.enter();
        [
            ("grpc", grpc_exporter(&receiver, false)),
            (
                "http_protobuf",
                http_exporter(&receiver, Protocol::HttpBinary, false),
            ),
            (
                "http_json",
                http_exporter(&receiver, Protocol::HttpJson, false),
            ),
            ("grpc_gzip", grpc_exporter(&receiver, true)),
            (
                "http_protobuf_gzip",
                http_exporter(&receiver, Protocol::HttpBinary, true),
            ),
            (
                "http_json_gzip",
                http_exporter(&receiver, Protocol::HttpJson, true),
            ),
        ]
    };
    let mut group = c.benchmark_group("ch08_export");
    for (name, exporter) in &exporters {
        // Exported from this thread, like the SDK's batch processor does
        // from its own: the blocking HTTP client must not run on a runtime.
        group.bench_function(*name, |b| {
            b.iter_batched(
                || spans.clone(),
                |batch| {
                    futures::executor::block_on(exporter.export(batch))
                        .expect("export")
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
    let stats = receiver.stats();
    assert_eq!(stats.rejected_requests, 0);
    assert_eq!(stats.spans % BATCH as u64, 0, "every batch arrived whole");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = export
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
