//! Chapter 13, "Metrics and logs next to traces": the instruments, and why a
//! histogram's buckets must match the unit it records in.
//!
//! Run it with `cargo run --example ch13_instruments`. With no `OTEL_*`
//! variables set, each metric data point is printed as one line when the
//! program shuts down (and every `OTEL_METRIC_EXPORT_INTERVAL` before that).

use opentelemetry::{KeyValue, global};

// The same five request durations, in seconds, for both histograms below.
const DURATIONS_S: [f64; 5] = [0.003, 0.012, 0.045, 0.2, 1.3];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = otlp_csp::telemetry::init("ch13-instruments")?;
    let meter = global::meter("ch13");

    // ANCHOR: counters
    // A counter only goes up: orders placed, bytes sent, errors.
    let orders = meter
        .u64_counter("orders.placed")
        .with_unit("{order}")
        .build();
    orders.add(2, &[KeyValue::new("payment", "card")]);
    orders.add(1, &[KeyValue::new("payment", "invoice")]);

    // An up-down counter goes both ways: items in a queue, open connections.
    let queued = meter
        .i64_up_down_counter("jobs.queued")
        .with_unit("{job}")
        .build();
    queued.add(5, &[]);
    queued.add(-3, &[]);

    // A gauge records the current value of something you sample.
    let temperature = meter.f64_gauge("cpu.temperature").with_unit("Cel").build();
    temperature.record(61.5, &[]);
    // ANCHOR_END: counters

    // ANCHOR: buckets
    // Recorded in seconds, but with the SDK's default boundaries, which were
    // chosen for milliseconds (0, 5, 10, 25, ... 10000): every sample lands
    // in the first bucket that holds anything, and the histogram says nothing.
    let naive = meter
        .f64_histogram("request.duration.default_buckets")
        .with_unit("s")
        .build();
    // The same samples with boundaries in seconds (those the HTTP semantic
    // conventions recommend for `http.server.request.duration`).
    let fitted = meter
        .f64_histogram("request.duration")
        .with_unit("s")
        .with_boundaries(vec![
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
            7.5, 10.0,
        ])
        .build();
    for seconds in DURATIONS_S {
        naive.record(seconds, &[]);
        fitted.record(seconds, &[]);
    }
    // ANCHOR_END: buckets

    telemetry.shutdown_blocking()?;
    Ok(())
}
