//! The pipeline's own health as metrics, so a dashboard shows lost telemetry
//! next to the application's figures: how many spans and log records ended,
//! were exported, failed to export, or are still pending.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, ObservableCounter, ObservableGauge};

use crate::SpanCounters;

/// Keeps the instruments (and so their callbacks) alive.
#[derive(Debug)]
pub(crate) struct SelfMetrics {
    _counters: ObservableCounter<u64>,
    _pending: ObservableGauge<u64>,
}

/// Registers, on `meter`:
///
/// * `otlp_csp.telemetry.items{signal, outcome}` — a counter of items by
///   outcome: `ended` (handed to the pipeline), `exported`, `failed`;
/// * `otlp_csp.telemetry.pending{signal}` — `ended - exported - failed`:
///   items queued, being exported, or dropped by a full queue. After
///   shutdown only the dropped remain.
///
/// `signal` is `spans` or `logs`.
pub(crate) fn register(meter: &Meter, spans: SpanCounters, logs: SpanCounters) -> SelfMetrics {
    let signals = [("spans", spans), ("logs", logs)];
    let for_counter = signals.clone();
    let counters = meter
        .u64_observable_counter("otlp_csp.telemetry.items")
        .with_description("Telemetry items by outcome: ended, exported, failed")
        .with_unit("{item}")
        .with_callback(move |observer| {
            for (signal, counters) in &for_counter {
                let stats = counters.snapshot();
                for (outcome, value) in [
                    ("ended", stats.ended),
                    ("exported", stats.exported),
                    ("failed", stats.failed),
                ] {
                    observer.observe(
                        value,
                        &[
                            KeyValue::new("signal", *signal),
                            KeyValue::new("outcome", outcome),
                        ],
                    );
                }
            }
        })
        .build();
    let pending = meter
        .u64_observable_gauge("otlp_csp.telemetry.pending")
        .with_description(
            "Items ended but neither exported nor failed: queued, in flight or dropped",
        )
        .with_unit("{item}")
        .with_callback(move |observer| {
            for (signal, counters) in &signals {
                observer.observe(
                    counters.snapshot().dropped,
                    &[KeyValue::new("signal", *signal)],
                );
            }
        })
        .build();
    SelfMetrics {
        _counters: counters,
        _pending: pending,
    }
}
