//! A span exporter for the terminal. It keeps every span and prints each
//! trace as an indented tree when the provider shuts down, so the screen
//! shows the shape of the work, not the order in which spans happened to end.

use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::Mutex;
use std::time::Duration;

/// Traces printed in full; the rest are only counted.
const SHOWN_TRACES: usize = 4;

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
        let mut spans = std::mem::take(&mut *self.spans.lock().unwrap());
        spans.sort_by_key(|span| span.start_time);
        let has_parent_here = |span: &SpanData| {
            spans
                .iter()
                .any(|p| p.span_context.span_id() == span.parent_span_id)
        };
        let roots: Vec<_> = spans.iter().filter(|s| !has_parent_here(s)).collect();
        for root in roots.iter().take(SHOWN_TRACES) {
            println!("trace {}", root.span_context.trace_id());
            if root.parent_span_id != SpanId::INVALID {
                println!(
                    "  (parent span {} is in another process)",
                    root.parent_span_id
                );
            }
            print_tree(&spans, root, 1);
        }
        if roots.len() > SHOWN_TRACES {
            println!("... and {} more traces", roots.len() - SHOWN_TRACES);
        }
        Ok(())
    }
}

/// One line for `span`, then its children, one level deeper.
fn print_tree(spans: &[SpanData], span: &SpanData, depth: usize) {
    let took = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let mut line = format!("{:width$}{} {took:?}", "", span.name, width = depth * 2);
    for kv in &span.attributes {
        line += &format!(" {}={}", kv.key, kv.value);
    }
    if let Status::Error { description } = &span.status {
        line += &format!(" ERROR: {description}");
    }
    println!("{line}");
    let id = span.span_context.span_id();
    for child in spans.iter().filter(|s| s.parent_span_id == id) {
        print_tree(spans, child, depth + 1);
    }
}
