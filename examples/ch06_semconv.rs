//! Chapter 6, "Names and attributes a back end understands": two items sent
//! into a one-stage pipeline whose stage panics on the second, with every
//! attribute and event of their spans printed. The names, kinds and
//! attributes follow the OpenTelemetry messaging and error conventions.
//!
//! Run it with `cargo run --example ch06_semconv`.

use opentelemetry::trace::{SpanKind, Status, TraceContextExt, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otlp_csp::patterns::messaging::Destination;
use otlp_csp::patterns::threads::Pipeline;
use otlp_csp::patterns::{Traced, Tracing};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

// ANCHOR: main
fn main() -> Res {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("ch06");
    std::panic::set_hook(Box::new(|_| {})); // the span records the panic
    let (input, output) = Pipeline::new(2)?
        .tracing(Tracing::with_tracer(provider.tracer("ch06-patterns")))
        .stage("check", |order: i64| {
            assert!(order > 0, "order {order} is not positive");
            order
        })
        .start()?;
    let check = Destination::threads("check"); // the channel in front of it
    for order in [7, -1] {
        let cx = Context::current_with_span(check.send().start(&tracer));
        cx.span().set_attribute(KeyValue::new("order", order));
        cx.span().end();
        input.send_traced(Traced::new(cx, order))?;
    }
    drop(input);
    while output.recv().is_some() {}
    match output.join() {
        Ok(()) => println!("run: ok"),
        Err(panicked) => println!("run: {panicked}"),
    }
    print_spans(exporter.get_finished_spans()?);
    Ok(())
}
// ANCHOR_END: main

/// Each send span (in the order they ended), then the span that processed
/// its item: every attribute, the status if set, and every event.
fn print_spans(spans: Vec<SpanData>) {
    let sends = spans.iter().filter(|s| s.span_kind == SpanKind::Producer);
    for send in sends {
        let id = send.span_context.span_id();
        let children = spans.iter().filter(|s| s.parent_span_id == id);
        for s in std::iter::once(send).chain(children) {
            print_span(s);
        }
    }
}

fn print_span(s: &SpanData) {
    println!("{} ({:?})", s.name, s.span_kind);
    let mut attributes: Vec<_> = s.attributes.iter().collect();
    attributes.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    for kv in attributes {
        println!("  {} = {}", kv.key, kv.value);
    }
    if let Status::Error { description } = &s.status {
        println!("  status: Error, {description:?}");
    }
    for event in s.events.iter() {
        println!("  event {}", event.name);
        for kv in &event.attributes {
            println!("    {} = {}", kv.key, kv.value);
        }
    }
}
