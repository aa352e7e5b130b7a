//! The book's one set-up, end to end: traces, metrics and logs from
//! `init_with` reach an OTLP receiver over each of the three protocols, with
//! exact contents — names, parent ids, values, and the trace id on each log
//! record — and the pipeline's own counts arrive as metrics.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use otlp_csp_telemetry::{Protocol, TelemetryConfig, init_with};
use otlp_receiver::Receiver;
use tracing_subscriber::layer::SubscriberExt as _;

const WAIT: Duration = Duration::from_secs(10);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn one_protocol(protocol: Protocol) {
    let receiver = Receiver::start().await.expect("receiver starts");
    let base = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let telemetry =
        init_with(TelemetryConfig::otlp("e2e", protocol, &base)).expect("init");

    // The tests of this file run in parallel and each `init_with` replaces the
    // global providers, so take the tracer and meter from this set-up itself.
    let tracer = telemetry.provider().tracer("e2e");
    let meter = telemetry.meter_provider().meter("e2e");
    let jobs = meter.u64_counter("jobs").build();
    let subscriber = tracing_subscriber::registry().with(telemetry.log_layer());
    let trace_id = tracing::subscriber::with_default(subscriber, || {
        tracer.in_span("request", |cx| {
            tracer
                .in_span("load", |_| jobs.add(2, &[KeyValue::new("kind", "load")]));
            tracer.in_span("store", |_| {
                jobs.add(3, &[KeyValue::new("kind", "store")])
            });
            tracing::info!(order = 42, "order accepted");
            cx.span().span_context().trace_id()
        })
    });
    let stats = telemetry.shutdown().await.expect("nothing lost");
    assert_eq!((stats.ended, stats.exported, stats.dropped), (3, 3, 0));

    // Spans: one tree of three.
    let spans = receiver
        .wait_for_spans(3, WAIT)
        .await
        .expect("spans arrive");
    assert_eq!(spans.len(), 3, "{protocol:?}");
    let root = spans.iter().find(|s| s.name == "request").expect("root");
    assert!(root.parent_span_id.is_empty());
    for child in ["load", "store"] {
        let span = spans.iter().find(|s| s.name == child).expect("child");
        assert_eq!(
            span.parent_span_id, root.span_id,
            "{child} over {protocol:?}"
        );
        assert_eq!(span.trace_id, root.trace_id);
    }
    assert_eq!(hex(&root.trace_id), trace_id.to_string());

    // The log record: its body, attribute and the ids of the span it was in.
    let logs = receiver.wait_for_log_records(1, WAIT).await.expect("log");
    assert_eq!(logs.len(), 1, "{protocol:?}: {logs:?}");
    let log = &logs[0];
    assert!(
        matches!(&log.body.as_ref().and_then(|b| b.value.clone()), Some(Value::StringValue(s)) if s == "order accepted")
    );
    assert_eq!(log.trace_id, root.trace_id);
    assert_eq!(log.span_id, root.span_id);
    assert!(log.attributes.iter().any(|kv| kv.key == "order"));

    // Metrics: the application's counter, and the pipeline's own counts.
    let metrics = receiver
        .wait_for_metric_points(1, WAIT)
        .await
        .expect("metrics");
    let sum_points = |name: &str| -> Vec<(Vec<(String, String)>, i64)> {
        metrics
            .iter()
            .filter(|m| m.name == name)
            .flat_map(|m| match &m.data {
                Some(Data::Sum(sum)) => sum.data_points.clone(),
                _ => Vec::new(),
            })
            .map(|p| {
                let attrs = p
                    .attributes
                    .iter()
                    .map(|kv| {
                        let v = match kv.value.as_ref().and_then(|v| v.value.clone())
                        {
                            Some(Value::StringValue(s)) => s,
                            other => format!("{other:?}"),
                        };
                        (kv.key.clone(), v)
                    })
                    .collect();
                let value = match p.value {
                    Some(Number::AsInt(i)) => i,
                    Some(Number::AsDouble(d)) => d as i64,
                    None => -1,
                };
                (attrs, value)
            })
            .collect()
    };
    let mut jobs = sum_points("jobs");
    jobs.sort();
    assert_eq!(
        jobs,
        [
            (vec![("kind".to_owned(), "load".to_owned())], 2),
            (vec![("kind".to_owned(), "store".to_owned())], 3)
        ],
        "{protocol:?}"
    );
    let items = sum_points("otlp_csp.telemetry.items");
    let count = |signal: &str, outcome: &str| {
        items
            .iter()
            .find(|(attrs, _)| {
                attrs.contains(&("signal".to_owned(), signal.to_owned()))
                    && attrs.contains(&("outcome".to_owned(), outcome.to_owned()))
            })
            .map(|(_, v)| *v)
    };
    // Traces and logs are shut down before metrics, so the counts are final.
    assert_eq!(count("spans", "ended"), Some(3), "{items:?}");
    assert_eq!(count("spans", "exported"), Some(3));
    assert_eq!(count("spans", "failed"), Some(0));
    // Over OTLP the book's batch processor counts its own drops exactly.
    assert_eq!(count("spans", "dropped"), Some(0));
    assert!(
        metrics
            .iter()
            .any(|m| m.name == "otlp_csp.telemetry.queue.depth"),
        "the queue depth gauge is exported"
    );
    assert_eq!(count("logs", "ended"), Some(1));
    assert_eq!(count("logs", "exported"), Some(1));
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_signals_arrive_over_http_protobuf() {
    one_protocol(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_signals_arrive_over_http_json() {
    one_protocol(Protocol::HttpJson).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_signals_arrive_over_grpc() {
    one_protocol(Protocol::Grpc).await;
}

/// The same over gRPC on a current-thread runtime, where the one thread that
/// drives the gRPC client's I/O is also the one that asks for the shutdown:
/// `Telemetry::shutdown` must not block it.
#[tokio::test(flavor = "current_thread")]
async fn all_signals_arrive_over_grpc_on_a_current_thread_runtime() {
    one_protocol(Protocol::Grpc).await;
}

// ANCHOR: exemplars
/// Exemplars link a metric sample to the trace it was recorded in. The OTLP
/// data model has room for them, but opentelemetry_sdk 0.33 never fills it:
/// a histogram recorded inside a sampled span arrives with no exemplar. If
/// this test fails, the SDK has started recording them and chapter 13's
/// section on exemplars must be rewritten.
// ANCHOR: exemplars_record
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_0_33_records_no_exemplars() {
    let receiver = Receiver::start().await.expect("receiver starts");
    let telemetry = init_with(TelemetryConfig::otlp(
        "exemplars",
        Protocol::HttpProtobuf,
        &receiver.http_endpoint(),
    ))
    .expect("init");
    let tracer = telemetry.provider().tracer("exemplars");
    let meter = telemetry.meter_provider().meter("exemplars");
    let latency = meter.f64_histogram("latency").build();
    let counter = meter.u64_counter("hits").build();
    let sampled = tracer.in_span("request", |cx| {
        latency.record(0.25, &[]);
        counter.add(1, &[]);
        cx.span().span_context().is_sampled()
    });
    assert!(sampled, "the sample was taken inside a sampled span");
    telemetry.shutdown().await.expect("nothing lost");
    // ANCHOR_END: exemplars_record
    // ANCHOR: exemplars_check
    let metrics = receiver
        .wait_for_metric_points(2, WAIT)
        .await
        .expect("metrics");
    let histogram = metrics
        .iter()
        .find(|m| m.name == "latency")
        .and_then(|m| match &m.data {
            Some(Data::Histogram(h)) => h.data_points.first().cloned(),
            _ => None,
        })
        .expect("the histogram arrived");
    assert_eq!(histogram.count, 1);
    assert!(histogram.exemplars.is_empty(), "{:?}", histogram.exemplars);
    // ANCHOR_END: exemplars_check
    let hits = metrics
        .iter()
        .find(|m| m.name == "hits")
        .and_then(|m| match &m.data {
            Some(Data::Sum(s)) => s.data_points.first().cloned(),
            _ => None,
        })
        .expect("the counter arrived");
    assert!(hits.exemplars.is_empty(), "{:?}", hits.exemplars);
    receiver.shutdown().await;
}
// ANCHOR_END: exemplars

/// `none` exports nothing on purpose: nothing is counted as handed to the
/// pipeline, so nothing is reported lost and shutdown succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_none_loses_nothing() {
    let telemetry = init_with(TelemetryConfig::silent("none")).expect("init");
    let tracer = telemetry.provider().tracer("none");
    tracer.in_span("work", |_| {});
    let stats = telemetry.shutdown().await.expect("nothing to lose");
    assert_eq!((stats.ended, stats.exported, stats.dropped), (0, 0, 0));
}
