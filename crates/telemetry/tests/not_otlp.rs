//! A collector endpoint that answers `200 OK` with a page that is not OTLP
//! (a proxy in the way): the bare OTLP/HTTP exporter counts the batch
//! delivered (see otlp-receiver's `faults` test), the book's set-up does not.

use std::time::Duration;

use opentelemetry::trace::{Tracer, TracerProvider};
use otlp_csp_telemetry::{Protocol, TelemetryConfig, init_with};
use otlp_receiver::{Config, Fault, Receiver};

const SPANS: u64 = 5;

/// Ends [`SPANS`] spans through the book's set-up exporting OTLP/HTTP to a
/// receiver that answers `hit` of every `every` requests with a page.
async fn through_a_proxy(
    hit: u64,
    every: u64,
) -> (otlp_csp_telemetry::SpanStats, u64) {
    let config = Config::default().fault(Fault::NotOtlp, hit, every);
    let receiver = Receiver::start_with(config).await.expect("receiver");
    let base = receiver.http_endpoint();
    let config = TelemetryConfig {
        traces: TelemetryConfig::otlp("proxy-test", Protocol::HttpProtobuf, &base)
            .traces,
        ..TelemetryConfig::silent("proxy-test")
    };
    let telemetry = init_with(config).expect("init");
    let tracer = telemetry.provider().tracer("test");
    for _ in 0..SPANS {
        drop(tracer.start("work"));
    }
    // A loss makes shutdown an error; the counters stay readable after it.
    let counters = telemetry.span_counters();
    let _ = telemetry.shutdown().await;
    let stats = counters.snapshot();
    tokio::time::sleep(Duration::from_millis(50)).await;
    (stats, receiver.stats().spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_retried_and_the_retry_delivers() {
    let (stats, received) = through_a_proxy(1, 2).await;
    assert_eq!((stats.exported, stats.failed), (SPANS, 0), "{stats:?}");
    assert_eq!(received, SPANS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_every_time_is_counted_failed_not_exported() {
    let (stats, received) = through_a_proxy(1, 1).await;
    assert_eq!(received, 0);
    assert_eq!((stats.exported, stats.failed), (0, SPANS), "{stats:?}");
}
