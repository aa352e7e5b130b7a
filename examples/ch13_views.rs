//! Chapter 13: views change how an instrument you do not own is aggregated.
//!
//! Run it with `cargo run --example ch13_views`.

// ANCHOR: views
use std::sync::Arc;

use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::metrics::{Aggregation, Instrument, Stream};
use otlp_csp::telemetry::{TelemetryConfig, View, init_with_views};

// ANCHOR: library
/// Stands for a library that records its latency in seconds but leaves the
/// buckets to the SDK's millisecond defaults.
fn library_call(seconds: f64) {
    global::meter("some-library")
        .f64_histogram("library.call.duration")
        .with_unit("s")
        .build()
        .record(seconds, &[KeyValue::new("op", "get")]);
}
// ANCHOR_END: library

// ANCHOR: seconds_view
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Buckets in seconds for the library's histogram, under a new name.
    let seconds_buckets: View = Arc::new(|instrument: &Instrument| {
        (instrument.name() == "library.call.duration")
            .then(|| {
                Stream::builder()
                    .with_name("library.call.duration.fixed")
                    .with_aggregation(Aggregation::ExplicitBucketHistogram {
                        boundaries: vec![0.005, 0.05, 0.5, 5.0],
                        record_min_max: true,
                    })
                    .build()
                    .ok()
            })
            .flatten()
    });
    // ANCHOR_END: seconds_view
    // ANCHOR: exponential_view
    // An exponential histogram picks its own buckets from the data, so it
    // needs no unit-aware boundaries at all.
    let exponential: View = Arc::new(|instrument: &Instrument| {
        (instrument.name() == "queue.wait")
            .then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Base2ExponentialHistogram {
                        max_size: 160,
                        max_scale: 20,
                        record_min_max: true,
                    })
                    .build()
                    .ok()
            })
            .flatten()
    });
    // ANCHOR_END: exponential_view
    // ANCHOR: install
    let config = TelemetryConfig::from_env("ch13-views")?;
    let telemetry = init_with_views(config, vec![seconds_buckets, exponential])?;

    for seconds in [0.003, 0.012, 0.045, 0.2, 1.3] {
        library_call(seconds);
    }
    let wait = global::meter("ch13")
        .f64_histogram("queue.wait")
        .with_unit("s")
        .build();
    for seconds in [0.001, 0.002, 0.004, 0.008] {
        wait.record(seconds, &[]);
    }

    telemetry.shutdown_blocking()?;
    Ok(())
}
// ANCHOR_END: install
// ANCHOR_END: views
