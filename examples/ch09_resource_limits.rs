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

/// Detected keys found on some machines only, or with build-dependent
/// values: not printed.
const SOME_MACHINES: [&str; 4] = [
    "host.id",
    "container.id",
    "process.runtime.version",
    "process.runtime.description",
];
/// Keys the set-up detects on every Linux machine.
const DETECTED: [&str; 6] = [
    "host.arch",
    "host.name",
    "os.type",
    "process.pid",
    "process.runtime.name",
    "service.instance.id",
];

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
    // Detected values differ from machine to machine and run to run: the
    // program prints their keys. The rest it prints as `key=value`.
    let (mut pairs, mut detected) = (Vec::new(), Vec::new());
    for kv in &resource.attributes {
        let key = kv.key.as_str();
        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            _ if DETECTED.contains(&key) => detected.push(key),
            _ if SOME_MACHINES.contains(&key) => {}
            Some(Value::StringValue(s)) => pairs.push(format!("{key}={s}")),
            other => pairs.push(format!("{key}={other:?}")),
        }
    }
    pairs.sort();
    detected.sort();
    println!("resource: {}", pairs.join(" "));
    println!("detected: {}", detected.join(" "));
    println!("schema: {}", request.resource_spans[0].schema_url);
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
