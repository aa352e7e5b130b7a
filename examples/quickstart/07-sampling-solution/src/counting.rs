//! Counts every span that ends and every span the exporter handles, so a
//! program can say at exit how many it lost. A process has one set of counts.

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

static ENDED: AtomicU64 = AtomicU64::new(0);
static EXPORTED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// A processor that only counts: the SDK calls it for every recorded span.
#[derive(Debug)]
pub struct CountEnded;

impl SpanProcessor for CountEnded {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}
    fn on_end(&self, _span: SpanData) {
        ENDED.fetch_add(1, Relaxed);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Wraps an exporter and counts the spans it exported or failed to export.
#[derive(Debug)]
pub struct Counted<E>(pub E);

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.0.export(batch).await;
        let count = if result.is_ok() { &EXPORTED } else { &FAILED };
        count.fetch_add(spans, Relaxed);
        result
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// Call after shutdown. What ended but was neither exported nor failed was
/// dropped: the batch processor's queue was full. Losing any is an error.
pub fn report() -> Result<(), String> {
    let (ended, exported) = (ENDED.load(Relaxed), EXPORTED.load(Relaxed));
    let failed = FAILED.load(Relaxed);
    let dropped = ended - exported - failed;
    let lost = format!("{exported} exported, {failed} failed, {dropped} dropped");
    println!("spans: {ended} ended, {lost}");
    match ended - exported {
        0 => Ok(()),
        missing => Err(format!("{missing} of {ended} spans were not exported")),
    }
}
