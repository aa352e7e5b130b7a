//! Chapter 9: what the book's `init` makes of the `OTEL_*` variables, and
//! what it says about a value it cannot use.
//!
//! Run it with `cargo run --example ch09_config`, then with variables, e.g.
//! `OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1`.

// ANCHOR: main
use opentelemetry::global;
use opentelemetry::trace::Tracer;
use otlp_csp::telemetry::{TelemetryConfig, TelemetryError, init_with};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), TelemetryError> {
    // `init` is exactly these two steps: read and check, then build.
    let config = TelemetryConfig::from_env("ch09-config")?;
    println!("service name: {}", config.service_name);
    println!("traces:       {:?}", config.traces);
    println!("sampler:      {:?}", config.sampler);
    let telemetry = init_with(TelemetryConfig {
        log_bridge: false,
        ..config
    })?;
    drop(global::tracer("ch09").start("configured"));
    let stats = telemetry.shutdown().await?;
    println!("spans ended: {}", stats.ended);
    Ok(())
}
// ANCHOR_END: main
