//! Chapter 13.1: code instrumented with the `tracing` crate, exported as
//! OpenTelemetry spans and log records by the book's one set-up. Spans come
//! from `#[instrument]` and `info_span!`; every `info!` inside a span becomes
//! a log record carrying that span's trace and span ids.
//!
//! Run it with `cargo run --example ch13_tracing_setup`.

use otlp_csp::telemetry::{TelemetryConfig, init_with, log_filter};
use tracing::{info, info_span, instrument, warn};
use tracing_subscriber::prelude::*;

// ANCHOR: instrumented
/// `#[instrument]` opens a span named after the function for each call,
/// with the arguments as attributes (here `id`).
#[instrument]
fn load_user(id: u64) -> Option<String> {
    info!("looking the user up");
    (id == 7).then(|| "ada".to_owned())
}

#[instrument(skip(items), fields(count = items.len()))]
fn price(items: &[u64]) -> u64 {
    items.iter().sum()
}
// ANCHOR_END: instrumented

// A runtime, because the OTLP/gRPC exporter needs one when it is chosen.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: setup
    // The book's set-up, but the application builds the subscriber: one
    // layer turns `tracing` spans into OpenTelemetry spans, the other turns
    // `tracing` events into OpenTelemetry log records.
    let config = TelemetryConfig {
        log_bridge: false,
        ..TelemetryConfig::from_env("ch13-tracing-setup")?
    };
    let telemetry = init_with(config)?;
    tracing_subscriber::registry()
        .with(telemetry.tracing_layer())
        .with(telemetry.log_layer().with_filter(log_filter()))
        .try_init()?;
    // ANCHOR_END: setup

    // ANCHOR: request
    let request = info_span!("handle_request", order = 42);
    request.in_scope(|| {
        match load_user(7) {
            Some(user) => info!(user, "user found"),
            None => warn!("no such user"),
        }
        let cents = price(&[1250, 300]);
        info!(cents, "order priced");
    });
    drop(request); // a `tracing` span ends when its last handle is dropped
    // ANCHOR_END: request

    let stats = telemetry.shutdown().await?;
    println!(
        "{} spans ended, {} exported, {} dropped",
        stats.ended, stats.exported, stats.dropped
    );
    Ok(())
}
