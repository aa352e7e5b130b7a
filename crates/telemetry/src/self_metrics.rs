//! The pipeline's own health as metrics, so a dashboard shows lost telemetry
//! next to the application's figures: how many spans and log records ended,
//! were exported, failed to export, were dropped, or are still queued.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, ObservableCounter, ObservableGauge};

use crate::SpanCounters;
use crate::fast_batch::FastBatchCounters;

/// Keeps the instruments (and so their callbacks) alive.
#[derive(Debug)]
pub(crate) struct SelfMetrics {
    _counters: ObservableCounter<u64>,
    _pending: ObservableGauge<u64>,
    _queue: Option<ObservableGauge<u64>>,
}

/// Registers, on `meter`:
///
/// * `otlp_csp.telemetry.items{signal, outcome}` — a counter of items by
///   outcome: `ended` (handed to the pipeline), `exported`, `failed`, and,
///   for spans through the book's batch processor, `dropped` (refused by a
///   full queue or after shutdown);
/// * `otlp_csp.telemetry.pending{signal}` — `ended - exported - failed`:
///   items queued, being exported, or dropped. After shutdown only the
///   dropped remain;
/// * `otlp_csp.telemetry.queue.depth{signal="spans"}` — spans waiting in the
///   batch processor's queue now.
///
/// `signal` is `spans` or `logs`.
pub(crate) fn register(
    meter: &Meter,
    spans: SpanCounters,
    logs: SpanCounters,
    queue: Option<FastBatchCounters>,
) -> SelfMetrics {
    let signals = [("spans", spans), ("logs", logs)];
    let for_counter = signals.clone();
    let queue_for_counter = queue.clone();
    let counters = meter
        .u64_observable_counter("otlp_csp.telemetry.items")
        .with_description(
            "Telemetry items by outcome: ended, exported, failed, dropped",
        )
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
            if let Some(queue) = &queue_for_counter {
                observer.observe(
                    queue.snapshot().dropped(),
                    &[
                        KeyValue::new("signal", "spans"),
                        KeyValue::new("outcome", "dropped"),
                    ],
                );
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
    let queue = queue.map(|queue| {
        meter
            .u64_observable_gauge("otlp_csp.telemetry.queue.depth")
            .with_description("Spans waiting in the batch processor's queue")
            .with_unit("{span}")
            .with_callback(move |observer| {
                observer.observe(
                    queue.snapshot().queue_depth as u64,
                    &[KeyValue::new("signal", "spans")],
                );
            })
            .build()
    });
    SelfMetrics {
        _counters: counters,
        _pending: pending,
        _queue: queue,
    }
}
