//! Chapter 13.1: a `tracing` span that continues a trace from a
//! `traceparent` header, an OpenTelemetry API span inside it, and the header
//! for the next hop taken from the current `tracing` span.
//!
//! Run it with `cargo run --example ch13_tracing_w3c`.

use std::collections::HashMap;

use opentelemetry::global;
use opentelemetry::trace::Tracer;
use otlp_csp::telemetry::{TelemetryConfig, init_with};
use tracing::info_span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TelemetryConfig {
        log_bridge: false,
        ..TelemetryConfig::from_env("ch13-tracing-w3c")?
    };
    let telemetry = init_with(config)?;
    tracing_subscriber::registry()
        .with(telemetry.tracing_layer())
        .try_init()?;

    // ANCHOR: extract
    // What a server got from its caller.
    let incoming = HashMap::from([(
        "traceparent".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    )]);
    let parent = global::get_text_map_propagator(|p| p.extract(&incoming));
    let request = info_span!("GET /orders");
    request.set_parent(parent)?; // before the span is entered for the first time
    // ANCHOR_END: extract

    // ANCHOR: inside
    let outgoing = request.in_scope(|| {
        // The OpenTelemetry API sees the entered `tracing` span as current.
        global::tracer("ch13").in_span("load_from_cache", |_| {});
        // The next hop's header, from the current `tracing` span's context.
        let mut headers = HashMap::new();
        global::get_text_map_propagator(|p| {
            p.inject_context(&tracing::Span::current().context(), &mut headers)
        });
        headers
    });
    drop(request);
    println!("next hop gets traceparent {}", outgoing["traceparent"]);
    // ANCHOR_END: inside

    let stats = telemetry.shutdown_blocking()?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
