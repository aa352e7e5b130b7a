//! The same accounting as for spans, for log records: every record emitted
//! is counted until it is exported, fails to export, or is dropped by the
//! batch processor's full queue (`emitted - exported - failed` after shutdown).

use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};

use crate::SpanCounters;

/// Counts log records as they are emitted. Registered before the exporting processor.
#[derive(Debug)]
pub struct CountEmitted(pub SpanCounters);

impl LogProcessor for CountEmitted {
    fn emit(&self, _record: &mut SdkLogRecord, _scope: &InstrumentationScope) {
        self.0.add_ended(1);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Wraps a log exporter and counts what it delivers and what fails.
#[derive(Debug)]
pub struct CountingLogExporter<E> {
    inner: E,
    counters: SpanCounters,
}

impl<E> CountingLogExporter<E> {
    pub fn new(inner: E, counters: SpanCounters) -> Self {
        Self { inner, counters }
    }
}

impl<E: LogExporter> LogExporter for CountingLogExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let n = batch.iter().count() as u64;
        let result = self.inner.export(batch).await;
        self.counters.add_outcome(n, &result);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
