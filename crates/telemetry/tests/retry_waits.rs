//! Chapter 8's statement about the OTLP exporter's default retry policy:
//! three retries wait 100, 200 and 400 ms, each plus up to 100 ms of jitter,
//! so the policy's 1.6 s cap on one wait is never reached with the default
//! number of retries.
//!
//! The receiver refuses the first three requests, so one export makes four
//! attempts and waits three times. The export's duration is the sum of the
//! waits plus four local round trips: at least 700 ms, at most 1000 ms of
//! waiting. The check's upper bound is the cap itself, which leaves 600 ms
//! for the round trips on a loaded machine.

use std::time::{Duration, Instant};

use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_otlp::{
    Protocol, RetryPolicy, SpanExporter, WithExportConfig, WithHttpConfig,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_receiver::{Config, Receiver};

const CAP: Duration = Duration::from_millis(1600);

/// Exports one span to a receiver that refuses three requests; returns
/// how long the export took and how many attempts the receiver saw.
async fn export_through_three_refusals(policy: RetryPolicy) -> (Duration, u64) {
    let receiver = Receiver::start_with(Config::default().fail_first(3))
        .await
        .expect("receiver");
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
        .with_retry_policy(policy)
        .build()
        .expect("exporter");
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    let tracer = provider.tracer("ch08");
    let took = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        drop(tracer.start("order")); // the simple processor exports here
        let took = start.elapsed();
        provider.shutdown().expect("shutdown");
        took
    })
    .await
    .expect("join");
    let seen = receiver.stats();
    (took, seen.injected_failures + seen.accepted_requests)
}

/// The statement, as a check: three waits that doubled from 100 ms (so at
/// least 700 ms in all) and that, together, stayed under the 1.6 s cap.
fn waits_match_the_chapter(took: Duration, attempts: u64) -> Result<(), String> {
    if attempts != 4 {
        return Err(format!("{attempts} attempts, not 4"));
    }
    if took < Duration::from_millis(700) {
        return Err(format!("{took:?}: the waits did not double from 100 ms"));
    }
    if took >= CAP {
        return Err(format!("{took:?}: the waits reached the 1.6 s cap"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_policy_waits_100_200_400_ms() {
    let (took, attempts) =
        export_through_three_refusals(RetryPolicy::default()).await;
    waits_match_the_chapter(took, attempts).unwrap();
}

/// Planted: a policy whose waits start at 800 ms (800, 1600, 1600) is
/// what the chapter would describe if the cap were reached; the check
/// rejects it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_rejects_a_policy_that_reaches_the_cap() {
    let policy =
        RetryPolicy::default().with_initial_delay(Duration::from_millis(800));
    let (took, attempts) = export_through_three_refusals(policy).await;
    let err = waits_match_the_chapter(took, attempts).unwrap_err();
    assert!(err.contains("reached the 1.6 s cap"), "{err}");
}

/// The book's own span exporter (`span_export`, protobuf over gRPC and
/// HTTP) keeps the same policy: one span through three refusals, exported
/// by the set-up's batch processor when the set-up shuts down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_books_span_exporter_waits_the_same() {
    use otlp_csp_telemetry::{Protocol as Wire, TelemetryConfig, init_with};
    for protocol in [Wire::Grpc, Wire::HttpProtobuf] {
        let receiver = Receiver::start_with(Config::default().fail_first(3))
            .await
            .expect("receiver");
        let base = match protocol {
            Wire::Grpc => receiver.grpc_endpoint(),
            _ => receiver.http_endpoint(),
        };
        let config = TelemetryConfig {
            traces: TelemetryConfig::otlp("retry-test", protocol, &base).traces,
            ..TelemetryConfig::silent("retry-test")
        };
        let telemetry = init_with(config).expect("init");
        drop(telemetry.provider().tracer("ch08").start("order"));
        let counters = telemetry.span_counters();
        let start = Instant::now();
        telemetry.shutdown().await.expect("shutdown");
        let took = start.elapsed();
        let seen = receiver.stats();
        let attempts = seen.injected_failures + seen.accepted_requests;
        waits_match_the_chapter(took, attempts)
            .unwrap_or_else(|e| panic!("{protocol:?}: {e}"));
        assert_eq!(
            (counters.snapshot().exported, seen.spans),
            (1, 1),
            "{protocol:?}"
        );
    }
}
