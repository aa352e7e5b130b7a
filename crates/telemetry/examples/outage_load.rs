//! A steady stream of spans for the collector-outage test (`cargo xtask
//! test` stops and restarts a real collector while this runs).
//!
//! `cargo run -p otlp-csp-telemetry --example outage_load -- SECONDS SPANS_PER_SECOND`
//! exports over OTLP as the `OTEL_*` variables say. Every 500 ms it prints
//! `sample ended=.. exported=.. failed=.. pending=.. rss_kb=..`; at the end
//! `final ended=.. exported=.. failed=.. dropped=.. peak_rss_kb=..`.

use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer};

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmHWM`), 0 where there is none.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(Ok(10), |a| a.parse())?;
    let rate: u64 = args.next().map_or(Ok(1000), |a| a.parse())?;
    // gRPC needs a runtime to exist when the exporter is built; the span
    // loop itself is plain synchronous code.
    let runtime = tokio::runtime::Runtime::new()?;
    let telemetry =
        runtime.block_on(async { otlp_csp_telemetry::init("outage-load") })?;
    let tracer = opentelemetry::global::tracer("outage-load");

    let start = Instant::now();
    let total = seconds * rate;
    let mut next_sample = Duration::ZERO;
    for i in 0..total {
        // Open loop: span i is due at i / rate seconds, whatever happened before.
        let due = Duration::from_micros(i * 1_000_000 / rate);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let mut span = tracer.start("load");
        span.set_attribute(KeyValue::new("i", i as i64));
        span.end();
        if start.elapsed() >= next_sample {
            let s = telemetry.stats();
            println!(
                "sample ended={} exported={} failed={} pending={} rss_kb={}",
                s.ended,
                s.exported,
                s.failed,
                s.dropped,
                status_kb("VmRSS:")
            );
            next_sample += Duration::from_millis(500);
        }
    }
    let counters = telemetry.span_counters();
    // Losses make shutdown an error that describes them; the test wants the
    // final counts either way.
    if let Err(e) = runtime.block_on(telemetry.shutdown()) {
        eprintln!("{e}");
    }
    let stats = counters.snapshot();
    println!(
        "final ended={} exported={} failed={} dropped={} peak_rss_kb={}",
        stats.ended,
        stats.exported,
        stats.failed,
        stats.dropped,
        status_kb("VmHWM:")
    );
    Ok(())
}
