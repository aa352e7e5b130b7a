//! Chapter 10: a queue-shaped hop. Each message carries its trace context
//! in a header map, the way a Kafka or NATS client carries it in message
//! headers; the consumer processes messages in batches, and each batch span
//! links to the producer span of every message in it. Span names and
//! attributes follow the OpenTelemetry messaging conventions.
//!
//! Run it with `cargo run --example ch10_message_headers`.

use std::collections::HashMap;

use opentelemetry::trace::{Link, Span, SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_semantic_conventions::attribute::{
    MESSAGING_BATCH_MESSAGE_COUNT, MESSAGING_DESTINATION_NAME,
    MESSAGING_OPERATION_TYPE, MESSAGING_SYSTEM,
};

// ANCHOR: message
/// What goes through the queue: headers, then the payload.
struct Message {
    headers: HashMap<String, String>,
    order: i64,
}
// ANCHOR_END: message

fn messaging(operation: &'static str) -> [KeyValue; 3] {
    [
        KeyValue::new(MESSAGING_SYSTEM, "crossbeam"),
        KeyValue::new(MESSAGING_DESTINATION_NAME, "orders"),
        KeyValue::new(MESSAGING_OPERATION_TYPE, operation),
    ]
}

// ANCHOR: send
fn send(tx: &crossbeam_channel::Sender<Message>, order: i64) {
    let tracer = global::tracer("ch10");
    let _request = Context::current_with_span(tracer.start("POST /orders")).attach();
    let span = tracer
        .span_builder("send orders")
        .with_kind(SpanKind::Producer)
        .with_attributes(messaging("send"))
        .start(&tracer);
    let cx = Context::current_with_span(span);
    let mut headers = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
    tx.send(Message { headers, order })
        .expect("the queue is open");
}
// ANCHOR_END: send

// ANCHOR: process
fn process(batch: &[Message]) {
    let tracer = global::tracer("ch10");
    // Messages of a batch come from different traces: link, do not parent.
    let links = batch.iter().map(|m| {
        let cx = global::get_text_map_propagator(|p| p.extract(&m.headers));
        Link::with_context(cx.span().span_context().clone())
    });
    let mut span = tracer
        .span_builder("process orders")
        .with_kind(SpanKind::Consumer)
        .with_links(links.collect())
        .with_attributes(messaging("process"))
        .start(&tracer);
    span.set_attribute(KeyValue::new(
        MESSAGING_BATCH_MESSAGE_COUNT,
        batch.len() as i64,
    ));
    let total: i64 = batch.iter().map(|m| m.order).sum();
    span.set_attribute(KeyValue::new("orders.total", total));
}
// ANCHOR_END: process

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = otlp_csp::telemetry::init("ch10-message-headers")?;
    let (tx, rx) = crossbeam_channel::bounded::<Message>(8);
    for order in 1..=3 {
        send(&tx, order);
    }
    drop(tx);
    // The consumer takes up to two messages at a time: batches [1, 2] and [3].
    let consumer = std::thread::spawn(move || {
        let messages: Vec<Message> = rx.iter().collect();
        messages.chunks(2).for_each(process);
    });
    consumer.join().expect("the consumer does not panic");

    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
