//! A span exporter for the terminal. It keeps every span and prints each
//! trace as an indented tree when the provider shuts down, so the screen
//! shows the shape of the work, not the order in which spans happened to end.

mod draw;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct TreePrinter {
    spans: Mutex<Vec<SpanData>>,
}

impl SpanExporter for TreePrinter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.lock().unwrap().extend(batch);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        draw::print_traces(std::mem::take(&mut *self.spans.lock().unwrap()));
        Ok(())
    }
}
