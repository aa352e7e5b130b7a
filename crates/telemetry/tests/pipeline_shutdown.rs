//! Shutting the pipeline down from async code, on both tokio runtime
//! flavours, with the collector (an in-process receiver) served by the same
//! runtime: the hardest case, since one blocked runtime thread would stall
//! both the exporter and the collector.

use std::time::Duration;

use opentelemetry::trace::{Tracer, TracerProvider};
use otlp_csp_telemetry::{Protocol, TelemetryConfig, init_with};
use otlp_receiver::Receiver;

const SPANS: u64 = 5;

async fn export_and_shut_down(protocol: Protocol) {
    let receiver = Receiver::start().await.expect("receiver");
    let base = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let config = TelemetryConfig {
        traces: TelemetryConfig::otlp("pipeline-test", protocol, &base).traces,
        ..TelemetryConfig::silent("pipeline-test")
    };
    let telemetry = init_with(config).expect("init");
    let tracer = telemetry.provider().tracer("test");
    for _ in 0..SPANS {
        drop(tracer.start("work"));
    }
    // Nothing has been exported yet: the batch processor waits for its
    // scheduled delay or a full batch. Shutdown must flush all of it.
    let stats = telemetry.shutdown().await.expect("shutdown");
    assert_eq!(
        (stats.ended, stats.exported, stats.dropped),
        (SPANS, SPANS, 0)
    );
    // The receiver has them as soon as the exporter has its response.
    let spans = receiver
        .wait_for_spans(SPANS as usize, Duration::from_secs(10))
        .await
        .expect("spans at the receiver");
    assert_eq!(spans.len() as u64, SPANS);
    assert!(spans.iter().all(|s| s.name == "work"));
}

#[tokio::test(flavor = "current_thread")]
async fn grpc_shutdown_on_a_current_thread_runtime() {
    export_and_shut_down(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_shutdown_on_a_multi_thread_runtime() {
    export_and_shut_down(Protocol::Grpc).await;
}

#[tokio::test(flavor = "current_thread")]
async fn http_shutdown_on_a_current_thread_runtime() {
    export_and_shut_down(Protocol::HttpProtobuf).await;
}

/// `shutdown_blocking` from plain synchronous code, the collector on a
/// runtime of its own.
#[test]
fn blocking_shutdown_outside_any_runtime() {
    let collector_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = collector_rt.block_on(Receiver::start()).unwrap();
    // The gRPC client must be built inside a runtime; only building needs it.
    let app = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let config = TelemetryConfig {
        traces: TelemetryConfig::otlp(
            "pipeline-test",
            Protocol::Grpc,
            &receiver.grpc_endpoint(),
        )
        .traces,
        ..TelemetryConfig::silent("pipeline-test")
    };
    let telemetry = {
        let _guard = app.enter();
        init_with(config).unwrap()
    };
    for _ in 0..SPANS {
        drop(telemetry.provider().tracer("test").start("work"));
    }
    let stats = telemetry.shutdown_blocking().unwrap();
    assert_eq!((stats.ended, stats.exported), (SPANS, SPANS));
    assert_eq!(receiver.spans().len() as u64, SPANS);
}
