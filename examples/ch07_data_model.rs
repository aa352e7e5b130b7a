//! Chapter 7: a small trace, a metric and a log record, exported over
//! OTLP/HTTP with JSON to the book's in-process receiver, which prints the
//! OTLP/JSON it got (timestamps masked, so that every run prints the same).
//!
//! Run it with `cargo run --example ch07_data_model -- traces` (or `logs`,
//! or `metrics`): every run exports all three, and prints one.

use std::time::Duration;

use opentelemetry::logs::{
    AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt,
    TraceFlags, TraceId, TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_otlp::{
    LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_receiver::{Receiver, json};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(10);

fn main() -> Result<()> {
    let signal = std::env::args().nth(1).unwrap_or_else(|| "traces".into());
    if !["traces", "logs", "metrics"].contains(&signal.as_str()) {
        return Err(format!(
            "unknown signal {signal:?}: use traces, logs or metrics"
        )
        .into());
    }
    // The receiver's servers run on this runtime's worker threads; the SDK
    // code below runs on the main thread, outside it.
    let runtime = tokio::runtime::Runtime::new()?;
    let receiver = runtime.block_on(Receiver::start())?;
    let base = receiver.http_endpoint();

    // ANCHOR: resource
    // Who produced the telemetry: one Resource for all three signals.
    let resource = Resource::builder_empty()
        .with_service_name("shop")
        .with_attributes([KeyValue::new("service.version", "1.4.2")])
        .build();
    // Which library produced it: the instrumentation scope.
    let scope = InstrumentationScope::builder("shop.checkout")
        .with_version("0.3.0")
        .build();
    // ANCHOR_END: resource

    // ANCHOR: trace
    // ANCHOR: trace_provider
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{base}/v1/traces"))
        .build()?;
    let tracer_provider = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(exporter)
        .build();
    let tracer = tracer_provider.tracer_with_scope(scope.clone());
    // ANCHOR_END: trace_provider

    // ANCHOR: trace_link
    // A span from another trace that this one links to (say, the batch job
    // that queued the order), with a vendor entry in its trace state.
    let queued = SpanContext::new(
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c")?,
        SpanId::from_hex("b7ad6b7169203331")?,
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("shop", "q1")])?,
    );
    // ANCHOR_END: trace_link
    // ANCHOR: trace_spans
    let root = tracer
        .span_builder("POST /checkout")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("http.route", "/checkout"),
        ])
        .with_links(vec![Link::with_context(queued)])
        .start(&tracer);
    let cx = Context::current_with_span(root);
    let mut charge = tracer
        .span_builder("charge card")
        .with_kind(SpanKind::Client)
        .with_attributes([KeyValue::new("payment.amount_cents", 1299)])
        .start_with_context(&tracer, &cx);
    charge.add_event("retry", vec![KeyValue::new("attempt", 2)]);
    charge.set_status(Status::error("card declined"));
    // ANCHOR_END: trace_spans
    // ANCHOR_END: trace

    // ANCHOR: log
    let log_exporter = LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{base}/v1/logs"))
        .build()?;
    let logger_provider = SdkLoggerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(log_exporter)
        .build();
    let logger = logger_provider.logger_with_scope(scope.clone());
    let mut record = logger.create_log_record();
    record.set_severity_number(Severity::Warn);
    record.set_severity_text("WARN");
    record.set_body(AnyValue::from("card declined, asking for another card"));
    record.add_attribute("payment.provider", "acme");
    // The record carries the ids of the span it was written in.
    let ids = charge.span_context();
    record.set_trace_context(ids.trace_id(), ids.span_id(), Some(ids.trace_flags()));
    logger.emit(record);
    // ANCHOR_END: log
    charge.end();
    cx.span().end();

    // ANCHOR: metric
    let metric_exporter = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{base}/v1/metrics"))
        .build()?;
    let meter_provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_periodic_exporter(metric_exporter)
        .build();
    let meter = meter_provider.meter_with_scope(scope);
    let orders = meter
        .u64_counter("shop.orders")
        .with_unit("{order}")
        .build();
    orders.add(1, &[KeyValue::new("outcome", "declined")]);
    // ANCHOR_END: metric

    // Shutting down flushes whatever each provider still holds.
    tracer_provider.shutdown()?;
    logger_provider.shutdown()?;
    meter_provider.shutdown()?;

    // ANCHOR: print
    runtime.block_on(async {
        receiver.wait_for_spans(2, WAIT).await?;
        receiver.wait_for_log_records(1, WAIT).await?;
        receiver.wait_for_metric_points(1, WAIT).await
    })?;
    match signal.as_str() {
        "traces" => print_traces(&receiver),
        "logs" => print_logs(&receiver),
        _ => print_metrics(&receiver),
    }
    // ANCHOR_END: print
}

// ANCHOR: print_traces
fn print_traces(receiver: &Receiver) -> Result<()> {
    for received in receiver.traces() {
        let spans = otlp_receiver::span_count(&received.request);
        print!("{} request: {spans} spans, ", received.protocol);
        println!(
            "{} bytes of JSON, {} bytes as protobuf",
            received.body_bytes, received.protobuf_bytes
        );
        let mut request = received.request;
        for rs in &mut request.resource_spans {
            sort_attributes(rs.resource.as_mut());
        }
        println!("{}", json::masked(&request)?);
    }
    Ok(())
}
// ANCHOR_END: print_traces

fn print_logs(receiver: &Receiver) -> Result<()> {
    if let Some(span) = receiver.spans().iter().find(|s| s.name == "charge card") {
        println!(
            "span `charge card`: traceId {}, spanId {}",
            hex(&span.trace_id),
            hex(&span.span_id)
        );
    }
    for received in receiver.logs() {
        let mut request = received.request;
        for rl in &mut request.resource_logs {
            sort_attributes(rl.resource.as_mut());
        }
        println!("{}", json::masked(&request)?);
    }
    Ok(())
}

fn print_metrics(receiver: &Receiver) -> Result<()> {
    for received in receiver.metrics() {
        let mut request = received.request;
        for rm in &mut request.resource_metrics {
            sort_attributes(rm.resource.as_mut());
        }
        println!("{}", json::masked(&request)?);
    }
    Ok(())
}

/// The SDK keeps resource attributes in a hash map, so their order varies
/// from run to run; sort them for a stable print.
fn sort_attributes(
    resource: Option<&mut otlp_receiver::proto::resource::v1::Resource>,
) {
    if let Some(resource) = resource {
        resource.attributes.sort_by(|a, b| a.key.cmp(&b.key));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
