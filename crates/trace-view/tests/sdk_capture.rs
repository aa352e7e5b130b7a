//! A real capture: spans made by the OpenTelemetry SDK, encoded as OTLP/JSON
//! by opentelemetry-proto exactly as the OTLP exporter does (the same
//! grouping by resource and scope, the same serde encoding the book's
//! receiver prints with `otlp_receiver::json::pretty`), written as JSON
//! Lines, then read, laid out and drawn.
//!
//! Two services: `ingest` receives three items, each in its own trace (the
//! second fails validation); `worker` processes them in one batch span, a
//! new trace that links to the three items, as chapter 5's batches do.

use opentelemetry::trace::{
    Link, SpanContext, SpanKind, Status, TraceContextExt, Tracer,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer, SdkTracerProvider};
use trace_view::{
    LinkTarget, Options, StatusCode, layout, parse, render_chrome, render_page,
};

/// One service's SDK set-up, exporting to memory.
struct Service {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    resource: Resource,
}

impl Service {
    fn new(name: &'static str) -> Service {
        let exporter = InMemorySpanExporter::default();
        let resource = Resource::builder().with_service_name(name).build();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .with_resource(resource.clone())
            .build();
        Service {
            exporter,
            provider,
            resource,
        }
    }

    fn tracer(&self) -> SdkTracer {
        self.provider.tracer("trace-view-test")
    }

    /// The finished spans as one ExportTraceServiceRequest on one line.
    fn otlp_json(self) -> String {
        self.provider.force_flush().expect("flush");
        let spans = self.exporter.get_finished_spans().expect("spans");
        let resource = ResourceAttributesWithSchema::from(&self.resource);
        let resource_spans = group_spans_by_resource_and_scope(spans, &resource);
        serde_json::to_string(&ExportTraceServiceRequest { resource_spans })
            .expect("OTLP/JSON")
    }
}

/// The ingest side: three item traces, each a root with a `validate` child.
fn ingest() -> (String, Vec<SpanContext>) {
    let service = Service::new("ingest");
    let tracer = service.tracer();
    let mut items = Vec::new();
    for i in 1..=3 {
        let item =
            Context::new().with_span(tracer.start(format!("receive item {i}")));
        let validate = tracer.start_with_context("validate", &item);
        let validate = Context::new().with_span(validate);
        if i == 2 {
            validate
                .span()
                .set_status(Status::error("item 2 is malformed"));
        }
        validate.span().end();
        items.push(item.span().span_context().clone());
        item.span().end();
    }
    (service.otlp_json(), items)
}

/// The worker side: one batch span linking to the items, with a child.
fn worker(items: &[SpanContext]) -> String {
    let service = Service::new("worker");
    let tracer = service.tracer();
    let links = items
        .iter()
        .map(|sc| Link::with_context(sc.clone()))
        .collect();
    let batch = tracer
        .span_builder("process batch")
        .with_kind(SpanKind::Consumer)
        .with_links(links)
        .start_with_context(&tracer, &Context::new());
    let batch = Context::new().with_span(batch);
    let write = Context::new().with_span(tracer.start_with_context("write", &batch));
    write
        .span()
        .add_event("flushed", vec![KeyValue::new("items", 3)]);
    write.span().end();
    batch.span().end();
    service.otlp_json()
}

#[test]
fn a_capture_from_the_sdk_draws_with_its_links_resolved() {
    let (ingest, items) = ingest();
    let capture = [ingest, worker(&items)].join("\n");
    // Kept for trying the binary: trace-view target/tmp/sdk-capture.jsonl
    let kept =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-capture.jsonl");
    std::fs::write(&kept, &capture).expect("writable target/tmp");
    let capture =
        parse(capture.as_bytes(), &Options::default()).expect("a valid capture");
    assert_eq!((capture.documents, capture.spans.len()), (2, 8));
    let layout = layout(&capture);
    assert!(layout.warnings.is_empty(), "{:?}", layout.warnings);
    assert_eq!(layout.traces.len(), 4);
    assert_eq!(layout.services, ["ingest", "worker"]);
    let batch = (layout.rows.iter())
        .find(|r| r.span.name == "process batch")
        .expect("the batch row");
    let targets: Vec<&str> = (batch.links.iter())
        .map(|t| match t {
            LinkTarget::Row(r) => layout.rows[*r].span.name.as_str(),
            LinkTarget::External => "external",
        })
        .collect();
    assert_eq!(
        targets,
        ["receive item 1", "receive item 2", "receive item 3"]
    );
    let failed: Vec<&str> = (layout.rows.iter())
        .filter(|r| r.status == StatusCode::Error)
        .map(|r| r.span.status_message.as_str())
        .collect();
    assert_eq!(failed, ["item 2 is malformed"]);
    assert!(layout.rows.iter().all(|r| !r.orphan));
    let page = render_page(&layout);
    assert_eq!(page.matches("data-link-from=\"").count(), 3);
    assert_eq!(page.matches("data-error=\"true\"").count(), 1);
    assert!(render_chrome(&layout).contains("\"process batch\""));
}
