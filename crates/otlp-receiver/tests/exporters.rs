//! The opentelemetry-otlp exporters, over every OTLP transport and encoding,
//! deliver traces, metrics and logs that the receiver decodes exactly.

use std::time::Duration;

use opentelemetry::logs::{
    LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{
    LogExporter, MetricExporter, Protocol as Otlp, SpanExporter, WithExportConfig,
    WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_receiver::proto::common::v1::{
    AnyValue, KeyValue as ProtoKeyValue, any_value,
};
use otlp_receiver::proto::metrics::v1::metric::Data;
use otlp_receiver::{Compression, Protocol, Receiver};

const WAIT: Duration = Duration::from_secs(20);

fn string_attr(attrs: &[ProtoKeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    })
}

fn int_attr(attrs: &[ProtoKeyValue], key: &str) -> Option<i64> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::IntValue(i) => Some(*i),
            _ => None,
        }
    })
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name("receiver-test")
        .build()
}

fn span_exporter(protocol: Protocol, rx: &Receiver, gzip: bool) -> SpanExporter {
    let compression = opentelemetry_otlp::Compression::Gzip;
    match protocol {
        Protocol::Grpc => {
            let b = SpanExporter::builder()
                .with_tonic()
                .with_endpoint(rx.grpc_endpoint());
            if gzip {
                b.with_compression(compression)
            } else {
                b
            }
            .build()
        }
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let b = SpanExporter::builder()
                .with_http()
                .with_protocol(otlp(protocol))
                .with_endpoint(format!("{}/v1/traces", rx.http_endpoint()));
            if gzip {
                b.with_compression(compression)
            } else {
                b
            }
            .build()
        }
    }
    .expect("span exporter")
}

fn otlp(protocol: Protocol) -> Otlp {
    match protocol {
        Protocol::Grpc => Otlp::Grpc,
        Protocol::HttpProtobuf => Otlp::HttpBinary,
        Protocol::HttpJson => Otlp::HttpJson,
    }
}

/// Shuts a provider down off the runtime's threads (shutdown blocks).
async fn blocking<F: FnOnce() + Send + 'static>(f: F) {
    tokio::task::spawn_blocking(f).await.expect("shutdown task");
}

async fn traces_arrive(protocol: Protocol, gzip: bool) {
    let rx = Receiver::start().await.expect("receiver");
    let provider = SdkTracerProvider::builder()
        .with_resource(resource())
        .with_batch_exporter(span_exporter(protocol, &rx, gzip))
        .build();
    let tracer = provider.tracer("receiver-tests");
    let mut parent = tracer
        .span_builder("parent")
        .with_kind(SpanKind::Server)
        .with_attributes([KeyValue::new("http.route", "/users/:id")])
        .start(&tracer);
    let parent_ctx = parent.span_context().clone();
    let cx = Context::current().with_remote_span_context(parent_ctx.clone());
    let mut child = tracer
        .span_builder("child")
        .with_kind(SpanKind::Client)
        .with_attributes([KeyValue::new("retries", 2)])
        .start_with_context(&tracer, &cx);
    child.add_event("cache miss", vec![KeyValue::new("key", "user:7")]);
    child.set_status(Status::error("boom"));
    let child_ctx = child.span_context().clone();
    child.end();
    parent.end();
    blocking(move || provider.shutdown().expect("tracer shutdown")).await;

    let spans = rx.wait_for_spans(2, WAIT).await.expect("two spans");
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let child_span = spans.iter().find(|s| s.name == "child").expect("child");
    let parent_span = spans.iter().find(|s| s.name == "parent").expect("parent");
    assert_eq!(parent_span.trace_id, parent_ctx.trace_id().to_bytes());
    assert_eq!(parent_span.span_id, parent_ctx.span_id().to_bytes());
    assert!(parent_span.parent_span_id.is_empty());
    assert_eq!(child_span.trace_id, parent_span.trace_id);
    assert_eq!(child_span.span_id, child_ctx.span_id().to_bytes());
    assert_eq!(child_span.parent_span_id, parent_span.span_id);
    // SpanKind: 2 server, 3 client (trace.proto).
    assert_eq!(parent_span.kind, 2);
    assert_eq!(child_span.kind, 3);
    assert_eq!(
        string_attr(&parent_span.attributes, "http.route").as_deref(),
        Some("/users/:id")
    );
    assert_eq!(int_attr(&child_span.attributes, "retries"), Some(2));
    assert_eq!(child_span.events.len(), 1);
    assert_eq!(child_span.events[0].name, "cache miss");
    assert_eq!(
        string_attr(&child_span.events[0].attributes, "key").as_deref(),
        Some("user:7")
    );
    let status = child_span.status.as_ref().expect("status");
    assert_eq!((status.code, status.message.as_str()), (2, "boom"));

    let requests = rx.traces();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.protocol, protocol);
        let expected = if gzip {
            Compression::Gzip
        } else {
            Compression::None
        };
        assert_eq!(r.compression, expected);
        let res = r.request.resource_spans[0]
            .resource
            .as_ref()
            .expect("resource");
        assert_eq!(
            string_attr(&res.attributes, "service.name").as_deref(),
            Some("receiver-test")
        );
        assert_eq!(
            r.request.resource_spans[0].scope_spans[0]
                .scope
                .as_ref()
                .map(|s| s.name.as_str()),
            Some("receiver-tests")
        );
    }
    let stats = rx.stats();
    assert_eq!((stats.spans, stats.rejected_requests), (2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_over_grpc() {
    traces_arrive(Protocol::Grpc, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_over_grpc_gzip() {
    traces_arrive(Protocol::Grpc, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_over_http_protobuf() {
    traces_arrive(Protocol::HttpProtobuf, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_over_http_protobuf_gzip() {
    traces_arrive(Protocol::HttpProtobuf, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_over_http_json() {
    traces_arrive(Protocol::HttpJson, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_over_http_json_gzip() {
    traces_arrive(Protocol::HttpJson, true).await;
}

async fn metrics_arrive(protocol: Protocol) {
    let rx = Receiver::start().await.expect("receiver");
    let exporter = match protocol {
        Protocol::Grpc => MetricExporter::builder()
            .with_tonic()
            .with_endpoint(rx.grpc_endpoint())
            .build(),
        _ => MetricExporter::builder()
            .with_http()
            .with_protocol(otlp(protocol))
            .with_endpoint(format!("{}/v1/metrics", rx.http_endpoint()))
            .build(),
    }
    .expect("metric exporter");
    let provider = SdkMeterProvider::builder()
        .with_resource(resource())
        .with_periodic_exporter(exporter)
        .build();
    let meter = provider.meter("receiver-tests");
    let counter = meter.u64_counter("requests").with_unit("{request}").build();
    counter.add(3, &[KeyValue::new("route", "/a")]);
    counter.add(4, &[KeyValue::new("route", "/b")]);
    let histogram = meter.f64_histogram("latency").with_unit("ms").build();
    histogram.record(12.0, &[]);
    histogram.record(30.0, &[]);
    blocking(move || provider.shutdown().expect("meter shutdown")).await;

    let metrics = rx.wait_for_metric_points(3, WAIT).await.expect("3 points");
    assert_eq!(rx.stats().metric_points, 3);
    let requests = metrics
        .iter()
        .find(|m| m.name == "requests")
        .expect("requests");
    assert_eq!(requests.unit, "{request}");
    let Some(Data::Sum(sum)) = &requests.data else {
        panic!("requests is not a sum: {requests:?}")
    };
    assert!(sum.is_monotonic);
    // AggregationTemporality: 2 is cumulative, the SDK's default.
    assert_eq!(sum.aggregation_temporality, 2);
    let mut points: Vec<(String, i64)> = sum
        .data_points
        .iter()
        .map(|p| {
            let value = match p.value {
                Some(otlp_receiver::proto::metrics::v1::number_data_point::Value::AsInt(i)) => i,
                ref other => panic!("not an int point: {other:?}"),
            };
            (string_attr(&p.attributes, "route").expect("route"), value)
        })
        .collect();
    points.sort();
    assert_eq!(points, vec![("/a".into(), 3), ("/b".into(), 4)]);
    let latency = metrics
        .iter()
        .find(|m| m.name == "latency")
        .expect("latency");
    let Some(Data::Histogram(h)) = &latency.data else {
        panic!("latency is not a histogram: {latency:?}")
    };
    assert_eq!(h.data_points.len(), 1);
    let p = &h.data_points[0];
    assert_eq!((p.count, p.sum), (2, Some(42.0)));
    assert_eq!(p.bucket_counts.iter().sum::<u64>(), 2);
    assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_over_grpc() {
    metrics_arrive(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_over_http_protobuf() {
    metrics_arrive(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_over_http_json() {
    metrics_arrive(Protocol::HttpJson).await;
}

async fn logs_arrive(protocol: Protocol) {
    let rx = Receiver::start().await.expect("receiver");
    let exporter = match protocol {
        Protocol::Grpc => LogExporter::builder()
            .with_tonic()
            .with_endpoint(rx.grpc_endpoint())
            .build(),
        _ => LogExporter::builder()
            .with_http()
            .with_protocol(otlp(protocol))
            .with_endpoint(format!("{}/v1/logs", rx.http_endpoint()))
            .build(),
    }
    .expect("log exporter");
    let provider = SdkLoggerProvider::builder()
        .with_resource(resource())
        .with_batch_exporter(exporter)
        .build();
    let logger = provider.logger("receiver-tests");
    let trace_id =
        opentelemetry::trace::TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")
            .expect("trace id");
    let span_id =
        opentelemetry::trace::SpanId::from_hex("00f067aa0ba902b7").expect("span id");
    let mut record = logger.create_log_record();
    record.set_severity_number(Severity::Warn);
    record.set_severity_text("WARN");
    record.set_body(AnyValueBody::text("disk almost full"));
    record.add_attribute("disk", "/dev/sda1");
    record.set_trace_context(
        trace_id,
        span_id,
        Some(opentelemetry::trace::TraceFlags::SAMPLED),
    );
    logger.emit(record);
    let mut plain = logger.create_log_record();
    plain.set_severity_number(Severity::Info);
    plain.set_body(AnyValueBody::text("started"));
    logger.emit(plain);
    blocking(move || provider.shutdown().expect("logger shutdown")).await;

    let records = rx.wait_for_log_records(2, WAIT).await.expect("2 records");
    assert_eq!(records.len(), 2);
    let warn = &records[0];
    // SeverityNumber WARN is 13 (logs.proto).
    assert_eq!(
        (warn.severity_number, warn.severity_text.as_str()),
        (13, "WARN")
    );
    assert_eq!(
        warn.body,
        Some(AnyValue {
            value: Some(any_value::Value::StringValue("disk almost full".into()))
        })
    );
    assert_eq!(
        string_attr(&warn.attributes, "disk").as_deref(),
        Some("/dev/sda1")
    );
    assert_eq!(warn.trace_id, trace_id.to_bytes());
    assert_eq!(warn.span_id, span_id.to_bytes());
    assert_eq!(warn.flags & 0xff, 1);
    let info = &records[1];
    assert_eq!(info.severity_number, 9);
    assert!(info.trace_id.is_empty());
}

/// The API's body type, named for readability above.
struct AnyValueBody;

impl AnyValueBody {
    fn text(s: &'static str) -> opentelemetry::logs::AnyValue {
        opentelemetry::logs::AnyValue::from(s)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_over_grpc() {
    logs_arrive(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_over_http_protobuf() {
    logs_arrive(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_over_http_json() {
    logs_arrive(Protocol::HttpJson).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_more_than_arrives_is_an_error() {
    let rx = Receiver::start().await.expect("receiver");
    let err = rx
        .wait_for_spans(1, Duration::from_millis(50))
        .await
        .expect_err("nothing was sent");
    assert!(
        matches!(
            err,
            otlp_receiver::Error::Timeout {
                wanted: 1,
                got: 0,
                ..
            }
        ),
        "{err}"
    );
}
