//! What opentelemetry-otlp's exporters do when the collector misbehaves,
//! checked against the receiver's fault plan: which answers they retry, how
//! long they wait, and which ones they take for success.

use std::time::{Duration, Instant, SystemTime};

use opentelemetry::InstrumentationScope;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry_otlp::{Protocol as Otlp, SpanExporter, WithExportConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use otlp_receiver::{Config, Fault, Receiver, Stats};

/// How a test sends: over OTLP/HTTP (protobuf) or OTLP/gRPC.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Transport {
    Http,
    Grpc,
}

/// One finished span, as the SDK hands it to an exporter.
fn span() -> SpanData {
    let now = SystemTime::now();
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "checkout".into(),
        start_time: now,
        end_time: now,
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("faults").build(),
    }
}

/// Exports one span to a receiver that answers with `fault` (`hit` of every
/// `every` requests), with the exporter's default retry policy and
/// `timeout`. Returns the export's result, how long it took, and what the
/// receiver counted.
fn export_once(
    transport: Transport,
    fault: Fault,
    hit: u64,
    every: u64,
    timeout: Duration,
) -> (OTelSdkResult, Duration, Stats) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let config = Config::default().fault(fault, hit, every);
    let receiver = runtime
        .block_on(Receiver::start_with(config))
        .expect("the receiver starts");
    let (result, took) = match transport {
        // The blocking HTTP client must not run inside the runtime: it is
        // called from this plain thread, as the SDK's batch thread calls it.
        Transport::Http => {
            let exporter = SpanExporter::builder()
                .with_http()
                .with_protocol(Otlp::HttpBinary)
                .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
                .with_timeout(timeout)
                .build()
                .expect("the HTTP exporter builds");
            let start = Instant::now();
            let result = futures::executor::block_on(exporter.export(vec![span()]));
            (result, start.elapsed())
        }
        Transport::Grpc => {
            let _entered = runtime.enter();
            let exporter = SpanExporter::builder()
                .with_tonic()
                .with_endpoint(receiver.grpc_endpoint())
                .with_timeout(timeout)
                .build()
                .expect("the gRPC exporter builds");
            let start = Instant::now();
            let result = runtime.block_on(exporter.export(vec![span()]));
            (result, start.elapsed())
        }
    };
    let stats = receiver.stats();
    runtime.block_on(receiver.shutdown());
    (result, took, stats)
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// The export succeeded on its `attempts`-th request.
fn delivered_on_attempt(stats: &Stats, attempts: u64) {
    assert_eq!(stats.injected_failures, attempts - 1, "{stats:?}");
    assert_eq!(stats.faulted_spans, attempts - 1, "{stats:?}");
    assert_eq!((stats.accepted_requests, stats.spans), (1, 1), "{stats:?}");
}

#[test]
fn a_retry_delay_is_waited_for_before_the_retry() {
    // HTTP's Retry-After is whole seconds (1.5 s is sent as 2); gRPC's
    // RetryInfo carries the delay as it is.
    for (transport, at_least) in [
        (Transport::Http, Duration::from_secs(2)),
        (Transport::Grpc, Duration::from_millis(1500)),
    ] {
        let delay = Some(Duration::from_millis(1500));
        for fault in [Fault::Throttle(delay), Fault::Unavailable(delay)] {
            let (result, took, stats) = export_once(transport, fault, 1, 2, TIMEOUT);
            assert!(result.is_ok(), "{transport:?} {fault}: {result:?}");
            delivered_on_attempt(&stats, 2);
            assert!(
                took >= at_least,
                "{transport:?} {fault}: retried after {took:?}, before the {at_least:?} asked"
            );
        }
    }
}

#[test]
fn without_a_delay_a_retryable_answer_is_retried_soon() {
    for transport in [Transport::Http, Transport::Grpc] {
        let (result, took, stats) =
            export_once(transport, Fault::Unavailable(None), 1, 2, TIMEOUT);
        assert!(result.is_ok(), "{transport:?}: {result:?}");
        delivered_on_attempt(&stats, 2);
        // The recommended policy: 100 ms, plus up to 100 ms of jitter.
        assert!(
            took >= Duration::from_millis(100),
            "{transport:?}: {took:?}"
        );
        assert!(took < Duration::from_secs(2), "{transport:?}: {took:?}");
    }
}

#[test]
fn throttling_without_retry_info_is_final_over_grpc_but_retried_over_http() {
    // Every request throttled: HTTP 429 is retryable with or without
    // Retry-After, so the exporter tries 1 + 3 times; gRPC RESOURCE_EXHAUSTED
    // is retryable only with RetryInfo, so it gives up at once.
    let (result, _, stats) =
        export_once(Transport::Http, Fault::Throttle(None), 1, 1, TIMEOUT);
    assert!(result.is_err());
    assert_eq!((stats.injected_failures, stats.accepted_requests), (4, 0));
    let (result, _, stats) =
        export_once(Transport::Grpc, Fault::Throttle(None), 1, 1, TIMEOUT);
    assert!(result.is_err());
    assert_eq!((stats.injected_failures, stats.accepted_requests), (1, 0));
}

#[test]
fn a_cut_connection_is_retried_but_a_reset_grpc_stream_is_not() {
    // HTTP/1: the connection closes mid-response, a network error, which the
    // exporter retries.
    let (result, _, stats) =
        export_once(Transport::Http, Fault::Reset, 1, 2, TIMEOUT);
    assert!(result.is_ok(), "{result:?}");
    delivered_on_attempt(&stats, 2);
    // HTTP/2: hyper resets the stream with INTERNAL_ERROR, tonic reports
    // `INTERNAL`, which OTLP does not retry: the batch is lost, as a failed
    // export the SDK reports.
    let (result, _, stats) =
        export_once(Transport::Grpc, Fault::Reset, 1, 2, TIMEOUT);
    let error =
        format!("{:?}", result.expect_err("a reset stream fails the export"));
    assert!(error.contains("Internal"), "{error}");
    assert_eq!((stats.injected_failures, stats.accepted_requests), (1, 0));
}

#[test]
fn a_stall_longer_than_the_timeout_fails_the_export_at_the_timeout() {
    let timeout = Duration::from_millis(500);
    for transport in [Transport::Http, Transport::Grpc] {
        let stall = Fault::Stall(Duration::from_secs(3));
        let (result, took, stats) = export_once(transport, stall, 1, 1, timeout);
        assert!(result.is_err(), "{transport:?}: {result:?}");
        assert_eq!(stats.accepted_requests, 0);
        assert!(
            took < Duration::from_secs(2),
            "{transport:?}: the export waited {took:?} with a {timeout:?} timeout"
        );
    }
}

#[test]
fn a_page_that_is_not_otlp_is_success_to_the_http_exporter() {
    // The HTTP exporter reads any 2xx as delivered (the body is only parsed
    // for a partial success, and an unreadable one is ignored): the span is
    // lost and only the receiver's count shows it. gRPC checks the content
    // type and fails the export.
    let (result, _, stats) =
        export_once(Transport::Http, Fault::NotOtlp, 1, 1, TIMEOUT);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!((stats.faulted_spans, stats.spans), (1, 0));
    let (result, _, stats) =
        export_once(Transport::Grpc, Fault::NotOtlp, 1, 1, TIMEOUT);
    assert!(result.is_err(), "{result:?}");
    assert_eq!((stats.faulted_spans, stats.spans), (1, 0));
}
