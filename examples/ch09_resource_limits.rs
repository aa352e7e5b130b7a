//! Chapter 9: what every exported span carries besides itself (the
//! resource), and what the SDK drops when a span holds too much (the span
//! limits), read back from the book's in-process OTLP receiver.
//!
//! Run it with `cargo run --example ch09_resource_limits`, and with
//! `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT` set.

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use otlp_csp::telemetry::{Protocol, TelemetryConfig, init_with};
use otlp_receiver::Receiver;
use otlp_receiver::proto::common::v1::any_value::Value;

// ANCHOR: main
// ANCHOR: send
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receiver = Receiver::start().await?;
    let config = TelemetryConfig::otlp(
        "checkout",
        Protocol::HttpProtobuf,
        &receiver.http_endpoint(),
    );
    let telemetry = init_with(config)?;
    let tracer = telemetry.provider().tracer("ch09");

    // One span with 200 attributes and 200 events: more than the limits.
    let mut span = tracer.start("too_much");
    for i in 0..200 {
        span.set_attribute(KeyValue::new(format!("key.{i}"), i64::from(i)));
        span.add_event(format!("event {i}"), vec![]);
    }
    span.end();
    telemetry.shutdown().await?;
    // ANCHOR_END: send

    // ANCHOR: read
    let request = &receiver.traces()[0].request;
    let resource = request.resource_spans[0]
        .resource
        .clone()
        .unwrap_or_default();
    let mut pairs: Vec<String> = (resource.attributes.iter())
        .map(
            |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => format!("{}={s}", kv.key),
                other => format!("{}={other:?}", kv.key),
            },
        )
        .collect();
    pairs.sort();
    println!("resource: {}", pairs.join(" "));
    // ANCHOR_END: read
    // ANCHOR: read_span
    let span = &request.resource_spans[0].scope_spans[0].spans[0];
    println!(
        "span {}: {} attributes kept, {} dropped; {} events kept, {} dropped",
        span.name,
        span.attributes.len(),
        span.dropped_attributes_count,
        span.events.len(),
        span.dropped_events_count
    );
    receiver.shutdown().await;
    Ok(())
}
// ANCHOR_END: read_span
// ANCHOR_END: main
