//! What the receiver writes as a capture is what `trace-view` reads: every
//! span, with its ids, parent, service, attributes and links.

use std::time::Duration;

use opentelemetry::trace::{
    Link, Span as _, TraceContextExt, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_is_drawn_with_every_span_and_link() {
    let receiver = Receiver::start().await.expect("receiver starts");
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
        .build()
        .expect("exporter");
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("capture-test")
                .build(),
        )
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("capture");
    // An item in a trace of its own, and a batch span (another trace) linking to it.
    let item = tracer.start("item");
    let item_context = item.span_context().clone();
    drop(item);
    let batch = tracer
        .span_builder("batch")
        .with_links(vec![Link::with_context(item_context.clone())])
        .start(&tracer);
    let cx = Context::current_with_span(batch);
    let mut child = tracer.start_with_context("write", &cx);
    child.set_attribute(KeyValue::new("rows", 3));
    child.end();
    cx.span().end();
    tokio::task::spawn_blocking(move || provider.shutdown())
        .await
        .expect("join")
        .expect("shutdown flushes");
    receiver
        .wait_for_spans(3, Duration::from_secs(20))
        .await
        .expect("three spans arrive");

    let (text, spans) = receiver.trace_capture().expect("serialises");
    assert_eq!(spans, 3);
    assert_eq!(
        text.lines().count(),
        receiver.traces().len(),
        "one line per request"
    );
    let capture =
        trace_view::parse(text.as_bytes(), &trace_view::Options::default())
            .expect("trace-view reads the capture");
    assert!(capture.warnings.is_empty(), "{:?}", capture.warnings);
    assert_eq!(capture.spans.len(), 3);
    let by_name = |n: &str| capture.spans.iter().find(|s| s.name == n).expect(n);
    let (batch, write) = (by_name("batch"), by_name("write"));
    assert_eq!(write.parent_span_id, batch.span_id);
    assert_eq!(write.service, "capture-test");
    assert!(
        write.attributes.iter().any(|a| a.key == "rows"),
        "{:?}",
        write.attributes
    );
    assert_eq!(batch.links.len(), 1);
    assert_eq!(batch.links[0].span_id, item_context.span_id().to_string());

    let layout = trace_view::layout(&capture);
    let drawn = trace_view::render_svg_fragment(&layout);
    assert_eq!(
        drawn.matches("class=\"tv-link\"").count(),
        1,
        "the link is drawn"
    );

    let file =
        std::env::temp_dir().join(format!("capture-{}.jsonl", std::process::id()));
    assert_eq!(receiver.write_trace_capture(&file).expect("writes"), 3);
    assert_eq!(std::fs::read_to_string(&file).expect("reads"), text);
    let _ = std::fs::remove_file(file);
    receiver.shutdown().await;
}
