//! Counting metric exports: unlike spans and logs, metric points are not
//! queued one by one (each export carries the whole current state), so what
//! is counted is exports, and the last error is kept to say why one failed.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use crate::SpanCounters;

/// Wraps a metric exporter; `ended` counts export attempts, `exported` and
/// `failed` their outcomes.
#[derive(Debug)]
pub struct CountingMetricExporter<E> {
    inner: E,
    counters: SpanCounters,
}

impl<E> CountingMetricExporter<E> {
    pub fn new(inner: E, counters: SpanCounters) -> Self {
        Self { inner, counters }
    }
}

impl<E: PushMetricExporter> PushMetricExporter for CountingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.counters.add_ended(1);
        let result = self.inner.export(metrics).await;
        self.counters.add_outcome(1, &result);
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
