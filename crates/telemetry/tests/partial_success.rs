//! A collector that answers with a partial success rejecting spans:
//! opentelemetry-otlp's exporters only log it, so without more the spans
//! count as exported. The book's set-up counts those spans rejected, over
//! every protocol: its span exporter reads the answer over gRPC and
//! HTTP/protobuf, and its HTTP client reads it under OTLP/JSON.

use opentelemetry::trace::{Tracer, TracerProvider};
use otlp_csp_telemetry::{Protocol, SpanStats, TelemetryConfig, init_with};
use otlp_receiver::{Config, Fault, Receiver};

const SPANS: u64 = 5;

/// Ends [`SPANS`] spans through the book's set-up exporting over `protocol`
/// to a receiver that rejects every span of `hit` of every `every`
/// requests; the set-up's counts, and (kept, rejected) at the receiver.
async fn rejected(
    protocol: Protocol,
    hit: u64,
    every: u64,
) -> (SpanStats, u64, u64) {
    let receiver =
        Receiver::start_with(Config::default().fault(Fault::Reject, hit, every))
            .await
            .expect("receiver");
    let base = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let config = TelemetryConfig {
        traces: TelemetryConfig::otlp("reject-test", protocol, &base).traces,
        ..TelemetryConfig::silent("reject-test")
    };
    let telemetry = init_with(config).expect("init");
    let tracer = telemetry.provider().tracer("test");
    for _ in 0..SPANS {
        drop(tracer.start("work"));
    }
    let counters = telemetry.span_counters();
    // A counted loss makes shutdown an error; the counters stay readable.
    let shutdown = telemetry.shutdown().await;
    let stats = counters.snapshot();
    assert_eq!(shutdown.is_err(), stats.rejected > 0, "{shutdown:?}");
    let s = receiver.stats();
    (stats, s.spans, s.faulted_spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_the_rejected_spans_are_counted_rejected() {
    let (stats, kept, turned_away) = rejected(Protocol::HttpProtobuf, 1, 1).await;
    assert_eq!((kept, turned_away), (0, SPANS));
    assert_eq!(
        (stats.exported, stats.rejected, stats.failed),
        (0, SPANS, 0)
    );
    // The same over OTLP/JSON.
    let (stats, _, _) = rejected(Protocol::HttpJson, 1, 1).await;
    assert_eq!((stats.exported, stats.rejected), (0, SPANS), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_answer_rejects_nothing() {
    let (stats, kept, _) = rejected(Protocol::HttpProtobuf, 0, 1).await;
    assert_eq!((kept, stats.exported, stats.rejected), (SPANS, SPANS, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_grpc_the_rejected_spans_are_counted_rejected() {
    let (stats, kept, turned_away) = rejected(Protocol::Grpc, 1, 1).await;
    assert_eq!((kept, turned_away), (0, SPANS));
    assert_eq!(
        (stats.exported, stats.rejected, stats.failed),
        (0, SPANS, 0),
        "{stats:?}"
    );
}
