//! A program with a provider of its own (here a processor that counts its
//! spans) still sends them over OTLP when its configuration asks for OTLP,
//! and is left alone when it does not.

use std::time::Duration;

use opentelemetry::trace::{Tracer, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_csp_telemetry::{
    CountEnded, Protocol, SpanCounters, TelemetryConfig, with_otlp_export,
};
use otlp_receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_go_to_memory_and_to_the_collector() {
    let receiver = Receiver::start().await.expect("receiver starts");
    let own = SpanCounters::default();
    let config = TelemetryConfig::otlp(
        "own-provider",
        Protocol::HttpProtobuf,
        &receiver.http_endpoint(),
    );
    let builder =
        SdkTracerProvider::builder().with_span_processor(CountEnded(own.clone()));
    let (builder, counters) =
        with_otlp_export(builder, &config).expect("export set up");
    let provider = builder.build();
    let tracer = provider.tracer("t");
    tracer.in_span("outer", |_| tracer.in_span("inner", |_| {}));
    tokio::task::spawn_blocking(move || provider.shutdown())
        .await
        .expect("join")
        .expect("shutdown flushes");

    assert_eq!(own.snapshot().ended, 2);
    let spans = receiver
        .wait_for_spans(2, Duration::from_secs(10))
        .await
        .expect("both spans arrive");
    assert_eq!(spans.len(), 2);
    let stats = counters.snapshot();
    assert_eq!(
        (stats.exported, stats.dropped, stats.failed),
        (2, 0, 0),
        "{stats:?}"
    );
    let service = receiver.traces()[0].request.resource_spans[0]
        .resource
        .as_ref()
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value);
    assert_eq!(
        service,
        Some(
            otlp_receiver::proto::common::v1::any_value::Value::StringValue(
                "own-provider".into()
            )
        )
    );
    receiver.shutdown().await;
}

#[test]
fn without_otlp_the_builder_is_left_as_it_was() {
    let own = SpanCounters::default();
    let builder =
        SdkTracerProvider::builder().with_span_processor(CountEnded(own.clone()));
    let (builder, counters) =
        with_otlp_export(builder, &TelemetryConfig::silent("quiet"))
            .expect("nothing to set up");
    let provider = builder.build();
    provider.tracer("t").in_span("only", |_| {});
    assert_eq!(own.snapshot().ended, 1);
    assert_eq!(counters.snapshot().exported, 0);
    let _ = provider.shutdown();
}
