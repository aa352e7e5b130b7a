//! Counts the spans that end: the SDK calls every processor for each one.

use super::ENDED;
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

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
