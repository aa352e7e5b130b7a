//! Chapter 21: what it costs to turn one export batch into the bytes of an
//! OTLP request, the SDK's way and the book's.
//!
//! The batch is 2048 spans the SDK made as chapter 21's one-hop target
//! makes them (a server span, three attributes, a remote parent). Both ways
//! cost roughly in proportion to the spans, so the ratio carries over to
//! other sizes. `sdk_conversion` is what
//! opentelemetry-otlp's gRPC exporter does with it: clone the batch,
//! convert it to opentelemetry-proto's types, and have prost encode those.
//! `book_encoder` is `span_wire::SpanEncoder`, which writes the same bytes
//! (its conformance test checks that) straight from the spans. Run with
//! `cargo xtask bench` (or `cargo bench --bench ch21_span_encoding`).

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId,
    TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use otlp_csp_telemetry::span_wire::SpanEncoder;
use prost::Message as _;

const BATCH: usize = 2048;

/// Keeps the spans the SDK hands it.
#[derive(Clone, Debug, Default)]
struct Capture(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Capture {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().expect("capture").extend(batch);
        Ok(())
    }
}

/// One batch of chapter 21's server spans, and their resource.
fn batch() -> (Vec<SpanData>, Resource) {
    let capture = Capture::default();
    let resource = Resource::builder().with_service_name("ch21-target").build();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(capture.clone())
        .with_resource(resource.clone())
        .build();
    let tracer = provider.tracer("ch21-target");
    let caller = SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let parent = Context::new().with_remote_span_context(caller);
    for _ in 0..BATCH {
        drop(
            tracer
                .span_builder("GET /hello")
                .with_kind(SpanKind::Server)
                .with_attributes([
                    KeyValue::new("http.request.method", "GET"),
                    KeyValue::new("http.route", "/hello"),
                    KeyValue::new("http.response.status_code", 200),
                ])
                .start_with_context(&tracer, &parent),
        );
    }
    let spans = std::mem::take(&mut *capture.0.lock().expect("capture"));
    (spans, resource)
}

// ANCHOR: arms
fn sdk_conversion(
    spans: &[SpanData],
    resource: &ResourceAttributesWithSchema,
) -> Vec<u8> {
    let resource_spans = group_spans_by_resource_and_scope(spans.to_vec(), resource);
    ExportTraceServiceRequest { resource_spans }.encode_to_vec()
}

fn book_encoder(spans: &[SpanData], encoder: &SpanEncoder) -> Vec<u8> {
    let mut body = Vec::new();
    encoder.encode(spans, &mut body);
    body
}
// ANCHOR_END: arms

fn encoding(c: &mut Criterion) {
    let (spans, resource) = batch();
    let (sdk_resource, encoder) = (
        ResourceAttributesWithSchema::from(&resource),
        SpanEncoder::new(&resource),
    );
    assert_eq!(
        sdk_conversion(&spans, &sdk_resource),
        book_encoder(&spans, &encoder)
    );
    let mut g = c.benchmark_group("ch21_span_encoding");
    g.bench_function("sdk_conversion", |b| {
        b.iter(|| sdk_conversion(black_box(&spans), &sdk_resource))
    });
    g.bench_function("book_encoder", |b| {
        b.iter(|| book_encoder(black_box(&spans), &encoder))
    });
    g.finish();
}

/// Both, timed in turn (`benches/paired`).
fn interleaved() {
    let Some(mut paired) = paired::Paired::from_args("ch21_span_encoding", BUDGET)
    else {
        return;
    };
    let (spans, resource) = batch();
    let (sdk_resource, encoder) = (
        ResourceAttributesWithSchema::from(&resource),
        SpanEncoder::new(&resource),
    );
    paired.compare(
        vec![
            paired::Arm::new("sdk_conversion", || {
                sdk_conversion(&spans, &sdk_resource)
            }),
            paired::Arm::new("book_encoder", || book_encoder(&spans, &encoder)),
        ],
        None,
    );
    paired.record();
}

/// Criterion's measurement time, and the comparison's.
const BUDGET: Duration = Duration::from_secs(3);

mod paired;

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(BUDGET)
        .sample_size(20)
        .without_plots();
    targets = encoding
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    interleaved();
}
