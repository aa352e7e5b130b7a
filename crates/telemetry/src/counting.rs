//! Counting every span from the moment it ends to the moment it is exported,
//! so that a span lost anywhere in between shows up as a number.
//!
//! The SDK's batch processor drops spans when its queue is full and only logs
//! a warning once. Here a processor counts sampled spans as they end, and a
//! wrapper around the exporter counts what it delivered and what failed; after
//! shutdown, `ended - exported - failed` is what the queue dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

/// Shared counters; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct SpanCounters(Arc<Inner>);

#[derive(Default)]
struct Inner {
    ended: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    /// Of the exported, those the collector reported rejected.
    rejected: AtomicU64,
    last_error: std::sync::Mutex<Option<String>>,
    /// Where `ended` comes from when a processor counts it itself (the
    /// book's batch processor counts every span it is offered), so that no
    /// second processor is needed just to count.
    ended_source: std::sync::OnceLock<Box<dyn Fn() -> u64 + Send + Sync>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanCounters")
            .field("ended", &self.ended)
            .field("exported", &self.exported)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

/// A snapshot of the counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanStats {
    /// Sampled spans that ended, i.e. were handed to the export pipeline.
    pub ended: u64,
    /// Spans the exporter delivered.
    pub exported: u64,
    /// Spans in batches the exporter failed to deliver.
    pub failed: u64,
    /// Spans in delivered batches that the collector reported rejected
    /// (an OTLP partial success). Not retried, and not in `exported`.
    pub rejected: u64,
    /// Spans that never reached the exporter (a full queue, or still queued).
    /// Only final after shutdown.
    pub dropped: u64,
    /// The last export error, if any.
    pub last_error: Option<String>,
}

impl SpanCounters {
    /// Takes `ended` from `source` from now on (set once; later calls are ignored).
    pub(crate) fn set_ended_source(
        &self,
        source: impl Fn() -> u64 + Send + Sync + 'static,
    ) {
        let _ = self.0.ended_source.set(Box::new(source));
    }

    /// Counts `n` items handed to the export pipeline.
    pub(crate) fn add_ended(&self, n: u64) {
        self.0.ended.fetch_add(n, Ordering::AcqRel);
    }

    /// Counts the outcome of exporting `n` items.
    pub(crate) fn add_outcome<E: std::fmt::Display>(
        &self,
        n: u64,
        result: &Result<(), E>,
    ) {
        match result {
            Ok(()) => self.0.exported.fetch_add(n, Ordering::AcqRel),
            Err(e) => {
                *self.0.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(e.to_string());
                self.0.failed.fetch_add(n, Ordering::AcqRel)
            }
        };
    }

    /// Counts `n` items of a delivered batch that the collector rejected.
    pub(crate) fn add_rejected(&self, n: u64) {
        self.0.rejected.fetch_add(n, Ordering::AcqRel);
    }

    /// Reads the counters now.
    pub fn snapshot(&self) -> SpanStats {
        let ended = match self.0.ended_source.get() {
            Some(source) => source(),
            None => self.0.ended.load(Ordering::Acquire),
        };
        let delivered = self.0.exported.load(Ordering::Acquire);
        let failed = self.0.failed.load(Ordering::Acquire);
        // Counted by the HTTP client while the batch was in flight, so it
        // may run ahead of `delivered` for a moment.
        let rejected = self.0.rejected.load(Ordering::Acquire).min(delivered);
        SpanStats {
            ended,
            exported: delivered - rejected,
            failed,
            rejected,
            dropped: ended.saturating_sub(delivered + failed),
            last_error: self
                .0
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

/// Counts sampled spans as they end. Registered before the exporting processor.
#[derive(Debug)]
pub struct CountEnded(pub SpanCounters);

impl SpanProcessor for CountEnded {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        // Unsampled (record-only) spans are never exported by design.
        if span.span_context.is_sampled() {
            self.0.0.ended.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Wraps an exporter and counts what it delivers and what fails.
#[derive(Debug)]
pub struct CountingExporter<E> {
    inner: E,
    counters: SpanCounters,
}

impl<E> CountingExporter<E> {
    pub fn new(inner: E, counters: SpanCounters) -> Self {
        Self { inner, counters }
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        let result = self.inner.export(batch).await;
        let c = &self.counters.0;
        match &result {
            Ok(()) => c.exported.fetch_add(n, Ordering::AcqRel),
            Err(e) => {
                *c.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(e.to_string());
                c.failed.fetch_add(n, Ordering::AcqRel)
            }
        };
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
