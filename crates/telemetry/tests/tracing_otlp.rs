//! `tracing` through the book's two layers, end to end: `tracing` spans
//! arrive at an OTLP receiver as one tree, and every `tracing` event arrives
//! as a log record carrying the trace and span ids of the span it was in.

use std::time::Duration;

use otlp_csp_telemetry::{Protocol, TelemetryConfig, init_with};
use otlp_receiver::Receiver;
use tracing_subscriber::layer::SubscriberExt as _;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_spans_and_events_arrive_with_their_ids() {
    let receiver = Receiver::start().await.expect("receiver starts");
    let config = TelemetryConfig::otlp(
        "tracing-e2e",
        Protocol::HttpProtobuf,
        &receiver.http_endpoint(),
    );
    let telemetry = init_with(config).expect("init");
    // A scoped subscriber, not the global one: the tests of this crate run in parallel.
    let subscriber = tracing_subscriber::registry()
        .with(telemetry.tracing_layer())
        .with(telemetry.log_layer());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("request", order = 42).in_scope(|| {
            tracing::info!("in the request");
            tracing::info_span!("load").in_scope(|| tracing::info!("in load"));
        });
    });
    let stats = telemetry.shutdown().await.expect("nothing lost");
    assert_eq!((stats.ended, stats.exported, stats.dropped), (2, 2, 0));

    let spans = receiver
        .wait_for_spans(2, WAIT)
        .await
        .expect("spans arrive");
    let request = spans.iter().find(|s| s.name == "request").expect("request");
    let load = spans.iter().find(|s| s.name == "load").expect("load");
    assert!(request.parent_span_id.is_empty(), "request is the root");
    assert_eq!(load.parent_span_id, request.span_id);
    assert_eq!(load.trace_id, request.trace_id);
    assert!(request.attributes.iter().any(|kv| kv.key == "order"));
    // The book's layer adds no location, thread or timing attributes.
    for kv in request.attributes.iter().chain(&load.attributes) {
        assert!(
            !["code.file.path", "thread.id", "busy_ns", "idle_ns"]
                .contains(&kv.key.as_str()),
            "{}",
            kv.key
        );
    }

    let logs = receiver.wait_for_log_records(2, WAIT).await.expect("logs");
    assert_eq!(logs.len(), 2, "{logs:?}");
    let body = |l: &otlp_receiver::proto::logs::v1::LogRecord| {
        format!("{:?}", l.body.as_ref().and_then(|b| b.value.clone()))
    };
    for (text, span) in [("in the request", request), ("in load", load)] {
        let log = logs.iter().find(|l| body(l).contains(text)).expect(text);
        assert_eq!(log.trace_id, span.trace_id, "{text}");
        assert_eq!(log.span_id, span.span_id, "{text}");
    }
    receiver.shutdown().await;
}
